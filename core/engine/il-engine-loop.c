/* il-engine-loop.c — the asyncio event loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

Handle *
handle_new (IlEngine *e,
            HKind     kind,
            Task     *task,
            IlCause   cause,
            guint32   cause_lane)
{
  Handle *h = g_new0 (Handle, 1);

  h->kind = kind;
  h->task = task;
  h->cause = cause;
  h->cause_lane = cause_lane;
  h->seq = e->seq++;
  g_ptr_array_add (e->handles, h);
  return h;
}

static gboolean
handle_before (const Handle *a,
               const Handle *b)
{
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void
timer_push (Loop   *loop,
            Handle *h)
{
  GPtrArray *v = loop->timers;
  guint i;

  g_ptr_array_add (v, h);
  i = v->len - 1;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (!handle_before (v->pdata[i], v->pdata[parent]))
        break;
      gpointer tmp = v->pdata[i]; v->pdata[i] = v->pdata[parent]; v->pdata[parent] = tmp;
      i = parent;
    }
}

static Handle *
timer_pop (Loop *loop)
{
  GPtrArray *v = loop->timers;
  Handle *top = v->pdata[0];
  guint n = v->len - 1, i = 0;

  v->pdata[0] = v->pdata[n];
  g_ptr_array_set_size (v, n);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && handle_before (v->pdata[l], v->pdata[m]))
        m = l;
      if (r < n && handle_before (v->pdata[r], v->pdata[m]))
        m = r;
      if (m == i)
        break;
      gpointer tmp = v->pdata[i]; v->pdata[i] = v->pdata[m]; v->pdata[m] = tmp;
      i = m;
    }
  return top;
}

/* What a handle runs, as the trace says it (IlCallbackKind). */
static guint
handle_what (const Handle *h)
{
  static const IlCallbackKind kinds[] = {
    [H_MAIN] = IL_CALLBACK_MAIN, [H_STEP] = IL_CALLBACK_TASK_STEP, [H_IO] = IL_CALLBACK_IO,
    [H_TIMER] = IL_CALLBACK_TIMER, [H_THREADSAFE] = IL_CALLBACK_THREADSAFE, [H_START] = IL_CALLBACK_TIMER,
  };
  return kinds[h->kind];
}

void
loop_queue_event (IlEngine     *e,
                  IlQueueOp     op,
                  guint16       queue,
                  const Handle *h)
{
  emit_queue (e, e->loop->lane, op, queue, handle_what (h), h->task != NULL ? h->task->lane : IL_NO_LANE);
}

/* call_soon_threadsafe / a ready fd ends a blocking select(). */
void
loop_wake (IlEngine *e,
           IlCause   cause,
           guint32   cause_lane)
{
  Loop *loop = e->loop;
  Thread *th = loop->thread;

  if (loop->in_select && th->wait == W_SELECT)
    {
      loop->in_select = FALSE;
      thread_wake (e, th, th->resume, cause, cause_lane);
    }
}

void
loop_call_soon (IlEngine *e,
                Task     *task,
                HKind     kind,
                IlCause   cause,
                guint32   cause_lane)
{
  Handle *h = handle_new (e, kind, task, cause, cause_lane);

  g_queue_push_tail (&e->loop->ready, h);
  loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, h);
  if (kind == H_STEP && task != NULL)
    {
      task->wait = TW_READY;
      task_set_state (e, task, IL_STATE_READY, cause, cause_lane);
    }
  if (kind == H_THREADSAFE)
    loop_wake (e, cause, cause_lane);
}

void
task_cancel (IlEngine *e,
             Task     *victim,
             Task     *by)
{
  if (victim->done || victim->cancel_requested)
    return;

  emit (e, victim->lane, IL_EVENT_MARK, IL_MARK_CANCEL_REQUEST, 0, by->lane);
  victim->cancel_requested = TRUE;
  victim->cancel_by = by->lane;

  /* Edge-triggered: CancelledError is thrown in at the task's current
   * await, so a waiting task is woken; a ready one sees it when it runs. */
  switch (victim->wait)
    {
    case TW_IO:
      task_new_gen (e, victim);
      break;
    case TW_TIMER:
      ((Handle *) victim->wait_on)->cancelled = TRUE;
      event_cancel (e, &victim->co->timer_ev);   /* it will not be ready when the timer is due */
      break;
    case TW_SEM:
      {
        waiter_remove (&e->sems[victim->wait_ref].waiters, &victim->co->waiter);
      }
      break;
    case TW_AWAIT:
      {
        Task *x = victim->wait_on;
        waiter_remove (&x->awaiters, &victim->co->waiter);
      }
      break;
    case TW_JOB:
      ((Job *) victim->wait_on)->awaiter = NULL;   /* the thread runs on; its result is dropped */
      break;
    case TW_QUEUE:
      pyqueue_cancel (e, victim);
      break;
    case TW_NONE:
    case TW_READY:
    case TW_RUNNING:
    default:
      return;
    }
  loop_call_soon (e, victim, H_STEP, IL_CAUSE_CANCELLED, by->lane);
}

static void
task_block (IlEngine *e,
            Task     *task,
            TaskWait  wait,
            IlState   state,
            guint32   cause_lane)
{
  task->wait = wait;
  e->loop->thread->mirror = IL_NO_LANE;
  task_set_state (e, task, state, IL_CAUSE_NONE, cause_lane);
}

/* In a coroutine, an io or sleep that is not "blocking" and a yield are
 * awaited: the loop handles them, not op_leaf. */
static gboolean
op_awaited (const Op *op)
{
  return op->kind == OP_YIELD || ((op->kind == OP_IO || op->kind == OP_SLEEP) && !op->blocking);
}

/* One step of a coroutine on the loop thread.  Returns FALSE when the step
 * is over (the task awaits, yielded or finished). */
static gboolean
task_step_op (IlEngine *e,
              Thread   *th,
              Task     *task,
              TOp      *top)
{
  Loop *loop = e->loop;
  Op op;

  memset (top, 0, sizeof *top);
  if (loop->end_step_after)
    {
      loop->end_step_after = FALSE;
      return FALSE;
    }
  if (task->done)
    return FALSE;
  if (task->cancel_requested)
    {
      pyqueue_cancel (e, task);
      prog_unwind (e, &task->co->prog, task->lane);
      th->mirror = IL_NO_LANE;
      task_finish (e, task, IL_CAUSE_CANCELLED, task->cancel_by);
      return FALSE;
    }

  for (;;)
    {
      if (task->queue_retry)
        {
          /* Woken from a queue await: asyncio.Queue's `while self.full()`
           * / `while self.empty()` checks again. */
          memset (&op, 0, sizeof op);
          op.kind = task->queue_put ? OP_PUT : OP_GET;
          op.ref = (guint32) task->queue_wait;
          task->queue_retry = FALSE;
        }
      else
        {
          prog_next (&task->co->prog, &op);
          emit_step (e, &task->co->prog);
        }
      if (!op_awaited (&op) && op_leaf (&op, top))
        return TRUE;
      switch (op.kind)
        {
        case OP_PUT:
        case OP_GET:
          if (pyqueue_try (e, op.ref, op.kind == OP_PUT, task->lane))
            {
              task->queue_wait = -1;
              continue;
            }
          pyqueue_wait_task (e, task, op.ref, op.kind == OP_PUT);
          return FALSE;
        case OP_IO:
          task_new_gen (e, task);
          schedule (e, e->now + op.dur, EV_FD_READY, task->index, task->gen);
          task_block (e, task, TW_IO, IL_STATE_WAIT_IO, IL_NO_LANE);
          return FALSE;
        case OP_SLEEP:
          {
            Handle *h = handle_new (e, H_TIMER, task, IL_CAUSE_TIMER, IL_NO_LANE);
            h->when = e->now + op.dur;
            timer_push (loop, h);
            loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_TIMERS, h);
            /* The task is drawn ready from the moment its timer is due,
             * as after I/O, not from when the loop gets to it. */
            task_new_gen (e, task);
            schedule (e, h->when, EV_TIMER_DUE, task->index, task->gen);
            task->wait_on = h;
            task_block (e, task, TW_TIMER, IL_STATE_SLEEPING, IL_NO_LANE);
            return FALSE;
          }
        case OP_YIELD:
          th->mirror = IL_NO_LANE;
          loop_call_soon (e, task, H_STEP, IL_CAUSE_CALL_SOON, IL_NO_LANE);
          return FALSE;
        case OP_ACQUIRE:
          {
            Sem *sem = &e->sems[op.ref];
            if (sem->held < sem->capacity && sem->waiters.length == 0)
              {
                sem->held++;
                prog_push (&task->co->prog, op.body, op.n_body, 1, (gint32) op.ref);
                continue;
              }
            waiter_enqueue (&sem->waiters, &task->co->waiter, TRUE, task, op.body, op.n_body);
            task->wait_ref = op.ref;
            task_block (e, task, TW_SEM, IL_STATE_BLOCKED, IL_NO_LANE);
            return FALSE;
          }
        case OP_RELEASE:
          sem_release (e, op.ref, task->lane);
          continue;
        case OP_AWAIT:
          {
            Task *x = &e->tasks[op.ref];
            if (x->done)
              continue;
            waiter_enqueue (&x->awaiters, &task->co->waiter, TRUE, task, NULL, 0);
            task->wait_on = x;
            task_block (e, task, TW_AWAIT, IL_STATE_BLOCKED, x->lane);
            return FALSE;
          }
        case OP_TO_THREAD:
        case OP_TO_PROCESS:
          {
            gboolean procs = op.kind == OP_TO_PROCESS;
            Pool *pool = procs ? process_pool (e) : default_executor (e);
            Job *job = job_new (e, op.body, op.n_body, JD_LOOP, -1);
            gint64 cost;

            job->awaiter = task;
            cost = pool_submit (e, pool, job);
            task->wait_on = job;
            task->wait = TW_JOB;
            th->dispatch_after = pool;
            if (cost > 0)
              {
                /* Starting the worker happens inside this step (run_in_executor
                 * starts a thread / forks the pool's processes). */
                loop->end_step_after = TRUE;
                top->kind = procs ? T_C_HOLD : T_CPU;
                top->dur = cost;
                return TRUE;
              }
            pool_dispatch (e, pool, th->lane);
            th->dispatch_after = NULL;
            task_block (e, task, TW_JOB, IL_STATE_BLOCKED, IL_NO_LANE);
            return FALSE;
          }
        case OP_FAIL:
          prog_unwind (e, &task->co->prog, task->lane);
          th->mirror = IL_NO_LANE;
          task_finish (e, task, IL_CAUSE_FAILED, IL_NO_LANE);
          return FALSE;
        case OP_END:
          th->mirror = IL_NO_LANE;
          task_finish (e, task, IL_CAUSE_RETURNED, IL_NO_LANE);
          return FALSE;
        case OP_CPU:      /* op_leaf took these */
        case OP_C_HOLD:
        case OP_C_FREE:
        default:
          g_assert_not_reached ();
        }
    }
}

static void
loop_end_callback (IlEngine *e)
{
  Loop *loop = e->loop;
  Task *task = loop->current != NULL ? loop->current->task : NULL;

  emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK_END, 0, 0, task != NULL ? task->lane : IL_NO_LANE);
  if (loop->step_task != NULL && loop->step_task->wait == TW_JOB && !loop->step_task->done)
    task_set_state (e, loop->step_task, IL_STATE_BLOCKED, IL_CAUSE_NONE, IL_NO_LANE);
  loop->current = NULL;
  loop->step_task = NULL;
  loop->thread->mirror = IL_NO_LANE;
}

static gint64
round_up_ms (gint64 t)
{
  return (t + IL_NSEC_PER_MSEC - 1) / IL_NSEC_PER_MSEC * IL_NSEC_PER_MSEC;
}

void
loop_next_op (IlEngine *e,
              Thread   *th,
              TOp      *top)
{
  Loop *loop = e->loop;
  const IlParams *p = &e->config.params;

  memset (top, 0, sizeof *top);
  for (;;)
    {
      if (loop->step_task != NULL)
        {
          if (task_step_op (e, th, loop->step_task, top))
            return;
          loop_end_callback (e);
          continue;
        }
      if (loop->current != NULL)
        {
          loop_end_callback (e);   /* a callback whose cost has been paid */
          continue;
        }

      switch (loop->phase)
        {
        case LP_START:
          {
            gint64 block;
            guint32 timeout_us;

            if (e->finished)
              {
                top->kind = T_EXIT;
                return;
              }
            loop->iteration++;
            if (loop->ready.length > 0 || loop->fd_ready.length > 0)
              block = 0;
            else if (loop->timers->len > 0)
              {
                gint64 dt = ((Handle *) loop->timers->pdata[0])->when - e->now;
                /* epoll_wait takes whole milliseconds: asyncio rounds up. */
                block = dt <= 0 ? 0 : round_up_ms (dt) + p->timer_slack;
              }
            else
              block = -1;
            timeout_us = block < 0 ? G_MAXUINT32 : (guint32) MIN (block / IL_NSEC_PER_USEC, G_MAXUINT32 - 1);
            emit (e, loop->lane, IL_EVENT_LOOP_SELECT, 0, 0, timeout_us);
            loop->phase = LP_SELECTED;
            top->kind = T_SELECT;
            top->dur = block;
            return;
          }

        case LP_SELECTED:
          {
            guint n = 0;

            while (loop->fd_ready.length > 0)
              {
                g_queue_push_tail (&loop->ready, g_queue_pop_head (&loop->fd_ready));
                loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, g_queue_peek_tail (&loop->ready));
                n++;
              }
            while (loop->timers->len > 0 && ((Handle *) loop->timers->pdata[0])->when <= e->now)
              {
                Handle *h = timer_pop (loop);
                loop_queue_event (e, h->cancelled ? IL_QUEUE_DROP : IL_QUEUE_POP, IL_QUEUE_TIMERS, h);
                if (h->cancelled)
                  continue;
                g_queue_push_tail (&loop->ready, h);
                loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, h);
                n++;
              }
            emit (e, loop->lane, IL_EVENT_LOOP_SELECT_END, 0, 0, n);
            loop->ntodo = loop->ready.length;
            emit (e, loop->lane, IL_EVENT_LOOP_ITER, 0, (guint16) MIN (loop->ntodo, G_MAXUINT16),
                  (guint32) MIN (loop->iteration, G_MAXUINT32));
            loop->phase = LP_RUN;
            top->kind = T_CPU;
            top->dur = p->loop_iteration_cost;
            return;
          }

        case LP_RUN:
          {
            Handle *h;
            Task *task;

            if (loop->ntodo == 0)
              {
                loop->phase = LP_START;
                continue;
              }
            h = g_queue_pop_head (&loop->ready);
            loop_queue_event (e, h->cancelled ? IL_QUEUE_DROP : IL_QUEUE_POP, IL_QUEUE_READY, h);
            loop->ntodo--;
            task = h->task;
            if (h->cancelled)
              continue;

            switch (h->kind)
              {
              case H_MAIN:
                emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_MAIN, 0, IL_NO_LANE);
                loop->current = h;
                for (guint i = 0; i < e->scenario->n_tasks; i++)
                  {
                    Task *t = &e->tasks[e->order[i]];
                    t->started = TRUE;
                    prog_init (&t->co->prog, t->def->steps, t->def->n_steps, e->limit_base, e->workers_sem, t->lane);
                    emit (e, t->lane, IL_EVENT_MARK, IL_MARK_TASK_CREATED, 0, th->lane);
                    if (t->def->start > 0)
                      {
                        Handle *start = handle_new (e, H_START, t, IL_CAUSE_START, th->lane);
                        start->when = t->def->start;
                        timer_push (loop, start);
                        loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_TIMERS, start);
                      }
                    else
                      loop_call_soon (e, t, H_STEP, IL_CAUSE_START, th->lane);
                  }
                top->kind = T_CPU;
                top->dur = p->task_create_cost * e->scenario->n_tasks;
                return;

              case H_START:
                emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_TIMER, 0, task->lane);
                loop->current = h;
                loop_call_soon (e, task, H_STEP, IL_CAUSE_START, th->lane);
                loop_end_callback (e);
                continue;

              case H_IO:
              case H_TIMER:
              case H_THREADSAFE:
                {
                  static const TaskWait expect[] = { [H_IO] = TW_IO, [H_TIMER] = TW_TIMER, [H_THREADSAFE] = TW_JOB };
                  static const IlCallbackKind kinds[] = { [H_IO] = IL_CALLBACK_IO, [H_TIMER] = IL_CALLBACK_TIMER,
                                                          [H_THREADSAFE] = IL_CALLBACK_THREADSAFE };

                  emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, kinds[h->kind], 0, task->lane);
                  loop->current = h;
                  /* The callback resolves the future the task awaits; the
                   * task's wake-up runs in the next iteration. */
                  if (!task->done && task->wait == expect[h->kind])
                    loop_call_soon (e, task, H_STEP, h->cause, h->cause_lane);
                  loop_end_callback (e);
                  continue;
                }

              case H_STEP:
                if (task->done)
                  continue;
                emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_TASK_STEP, 0, task->lane);
                loop->current = h;
                loop->step_task = task;
                task->wait = TW_RUNNING;
                task_set_state (e, task, IL_STATE_RUNNING, IL_CAUSE_LOOP, loop->lane);
                th->mirror = task->lane;
                top->kind = T_CPU;
                top->dur = p->task_step_cost;
                return;

              default:
                g_assert_not_reached ();
              }
          }

        default:
          g_assert_not_reached ();
        }
    }
}
