/* il-engine-drivers.c — what a thread does next, and running it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

void
task_set_state (IlEngine *e,
                Task     *task,
                IlState   state,
                IlCause   cause,
                guint32   cause_lane)
{
  lane_state (e, task->lane, state, cause, cause_lane);
}

void
task_finish (IlEngine *e,
             Task     *task,
             IlCause   outcome,
             guint32   cause_lane)
{
  g_assert (!task->done);
  task->done = TRUE;
  task->outcome = outcome;
  task->wait = TW_NONE;
  task_set_state (e, task, IL_STATE_DONE, outcome, cause_lane);
  if (outcome == IL_CAUSE_FAILED)
    emit (e, task->lane, IL_EVENT_MARK, IL_MARK_EXCEPTION, 0, IL_NO_LANE);

  e->n_done++;
  if (e->n_done == e->scenario->n_tasks)
    {
      e->finished = TRUE;
      e->finish_time = e->now;
    }

  /* The task's future resolves: whoever awaited or joined it goes on. */
  while (task->awaiters.length > 0)
    {
      Waiter *w = waiter_dequeue (&task->awaiters);
      if (w->is_task)
        {
          Task *t = w->who;
          t->wait = TW_READY;
          loop_call_soon (e, t, H_STEP, IL_CAUSE_FUTURE, task->lane);
        }
      else
        {
          Thread *th = w->who;
          thread_wake (e, th, resume_after_block (th), IL_CAUSE_FUTURE, task->lane);
        }
    }

  /* TaskGroup: the first failure cancels every sibling still running. */
  if (outcome == IL_CAUSE_FAILED && mode_is_asyncio (e) && task->def->group >= 0
      && (guint32) task->def->group < e->scenario->n_groups)
    for (guint32 i = e->group_start[task->def->group]; i < e->group_start[task->def->group + 1]; i++)
      {
        Task *sib = &e->tasks[e->group_tasks[i]];
        if (sib != task && !sib->done)
          task_cancel (e, sib, task);
      }
}

static void
task_start_job (IlEngine *e,
                Task     *t)
{
  t->started = TRUE;
  t->job = job_new (e, t->def->steps, t->def->n_steps, JD_TASK, -1);
  t->job->task = t;
  t->job->mirror = t->lane;
  t->job->prog.lane = t->lane;
  emit (e, t->lane, IL_EVENT_MARK, IL_MARK_TASK_CREATED, 0, IL_NO_LANE);
}

/* A thread running a job's program.  Returns FALSE when the job ended. */
static gboolean
job_next_op (IlEngine *e,
             Thread   *th,
             Job      *job,
             TOp      *top)
{
  Op op;

  memset (top, 0, sizeof *top);
  if (job->pre_cost > 0)
    {
      top->kind = T_CPU;
      top->dur = job->pre_cost;
      job->pre_cost = 0;
      return TRUE;
    }

  for (;;)
    {
      prog_next (&job->prog, &op);
      emit_step (e, &job->prog);
      if (op_leaf (&op, top))
        return TRUE;
      switch (op.kind)
        {
        case OP_PUT:
        case OP_GET:
          {
            guint32 lane = job->task != NULL ? job->task->lane : th->lane;

            if (pyqueue_try (e, op.ref, op.kind == OP_PUT, lane))
              continue;
            pyqueue_wait_thread (e, th, job->task, op.ref, op.kind == OP_PUT);
            top->kind = T_WAIT;
            top->state = IL_STATE_BLOCKED;
            top->on_wake = R_RETRY_QUEUE;
            return TRUE;
          }
        case OP_ACQUIRE:
          {
            Sem *sem = &e->sems[op.ref];
            if (sem->held < sem->capacity)
              {
                sem->held++;
                prog_push (&job->prog, op.body, op.n_body, 1, (gint32) op.ref);
                continue;
              }
            waiter_enqueue (&sem->waiters, &th->waiter, FALSE, th, op.body, op.n_body);
            th->pend_sem = op.ref;
            th->pend_body = op.body;
            th->pend_n = op.n_body;
            top->kind = T_WAIT;
            top->state = IL_STATE_BLOCKED;
            top->on_wake = R_RETRY_SEM;
            return TRUE;
          }
        case OP_RELEASE:
          sem_release (e, op.ref, th->lane);
          continue;
        case OP_AWAIT:
          {
            Task *x = &e->tasks[op.ref];
            if (x->done)
              continue;
            if (e->config.mode == IL_MODE_SEQUENTIAL && !x->started)
              {
                /* Sequential code calls what it awaits: run it right here. */
                task_start_job (e, x);
                x->job->outer = job;
                th->job = x->job;
                th->mirror = x->lane;
                if (job->mirror != IL_NO_LANE)
                  lane_state (e, job->mirror, IL_STATE_BLOCKED, IL_CAUSE_NONE, x->lane);
                lane_state (e, x->lane, IL_STATE_READY, IL_CAUSE_START, job->mirror);
                return job_next_op (e, th, th->job, top);
              }
            waiter_enqueue (&x->awaiters, &th->waiter, FALSE, th, NULL, 0);
            top->kind = T_WAIT;
            top->state = IL_STATE_BLOCKED;
            top->on_wake = R_NEXT;
            return TRUE;
          }
        case OP_TO_THREAD:
          /* Already on a thread of its own: run the body inline. */
          prog_push (&job->prog, op.body, op.n_body, 1, -1);
          continue;
        case OP_TO_PROCESS:
          if (e->config.mode == IL_MODE_PROCESSES)
            {
              prog_push (&job->prog, op.body, op.n_body, 1, -1);
              continue;
            }
          else
            {
              Pool *pool = process_pool (e);
              Job *sub = job_new (e, op.body, op.n_body, JD_THREAD, -1);
              gint64 cost;

              sub->submitter = th;
              cost = pool_submit (e, pool, sub);
              th->dispatch_after = pool;
              th->wait_after = TRUE;
              top->kind = T_C_HOLD;
              top->dur = cost;
              return TRUE;
            }
        case OP_FAIL:
          job->failed = TRUE;
          job_finish (e, th, job);
          return FALSE;
        case OP_END:
          if (job->post_cost > 0)
            {
              top->kind = T_CPU;
              top->dur = job->post_cost;
              job->post_cost = 0;
              return TRUE;
            }
          job_finish (e, th, job);
          return FALSE;
        case OP_CPU:      /* op_leaf took these */
        case OP_C_HOLD:
        case OP_C_FREE:
        case OP_IO:
        case OP_SLEEP:
        case OP_YIELD:
        default:
          g_assert_not_reached ();
        }
    }
}

/* Dedicated task threads and pool workers. */
static void
worker_next_op (IlEngine *e,
                Thread   *th,
                TOp      *top)
{
  memset (top, 0, sizeof *top);
  for (;;)
    {
      if (th->boot_after > e->now)
        {
          /* A forkserver child asked for while the server starts. */
          top->kind = T_SLEEP_EXACT;
          top->dur = th->boot_after - e->now;
          th->boot_after = 0;
          return;
        }
      if (th->boot > 0)
        {
          /* A new interpreter starting (spawn / forkserver). */
          top->kind = T_C_HOLD;
          top->state = IL_STATE_STARTING;
          top->dur = th->boot;
          th->boot = 0;
          return;
        }
      if (th->job != NULL)
        {
          if (job_next_op (e, th, th->job, top))
            return;
          /* A task's body has ended with its task: nothing refers to it
           * any more (only a job run for somebody else has a result to
           * deliver). */
          if (th->job->done == JD_TASK)
            job_recycle (e, th->job);
          th->job = NULL;
          continue;
        }
      if (th->role == ROLE_PROG)
        {
          top->kind = T_EXIT;
          return;
        }
      /* A pool worker: next item, or wait on the work queue. */
      if (th->pool->queue.length > 0)
        {
          th->job = g_queue_pop_head (&th->pool->queue);
          emit_queue (e, th->lane, IL_QUEUE_POP, pool_queue_id (th->pool), 0, job_item_lane (th->job));
          th->mirror = th->job->mirror;
          continue;
        }
      g_queue_push_tail (&th->pool->idle, th);
      top->kind = T_WAIT;
      top->state = IL_STATE_IDLE;
      top->on_wake = R_NEXT;
      return;
    }
}

/* The main thread: runs the tasks in order (sequential) or starts them. */
static void
main_next_op (IlEngine *e,
              Thread   *th,
              TOp      *top)
{
  const IlParams *p = &e->config.params;

  memset (top, 0, sizeof *top);
  for (;;)
    {
      Task *t;

      if (th->pending_spawn != NULL)
        {
          spawn_task_thread (e, th, th->pending_spawn);
          th->pending_spawn = NULL;
        }
      if (th->job != NULL)
        {
          Job *outer;

          if (job_next_op (e, th, th->job, top))
            return;
          /* The job ended (and its task with it). */
          outer = th->job->outer;
          th->job = outer;
          th->mirror = outer != NULL ? outer->mirror : IL_NO_LANE;
          continue;
        }
      if (th->main_next >= e->scenario->n_tasks)
        {
          if (e->config.mode == IL_MODE_SEQUENTIAL)
            top->kind = T_EXIT;
          else
            {
              /* join() every thread / process / future */
              top->kind = T_WAIT;
              top->state = IL_STATE_BLOCKED;
              top->on_wake = R_NEXT;
            }
          return;
        }

      t = &e->tasks[e->order[th->main_next]];
      if (t->started)
        {
          th->main_next++;
          continue;
        }
      if (t->def->start > e->now)
        {
          top->kind = T_SLEEP_EXACT;
          top->dur = t->def->start - e->now;
          return;
        }
      th->main_next++;
      task_start_job (e, t);

      switch (e->config.mode)
        {
        case IL_MODE_SEQUENTIAL:
          th->job = t->job;
          th->mirror = t->lane;
          lane_state (e, t->lane, IL_STATE_READY, IL_CAUSE_START, th->lane);
          continue;

        case IL_MODE_THREADS:
        case IL_MODE_FREE_THREADING:
        case IL_MODE_PROCESSES:
          if (e->config.workers == 0)
            {
              th->pending_spawn = t;
              top->kind = e->config.mode == IL_MODE_PROCESSES ? T_C_HOLD : T_CPU;
              top->dur = e->config.mode == IL_MODE_PROCESSES ? process_parent_cost (e) : p->thread_start_cost;
              return;
            }
          else
            {
              Pool *pool = e->config.mode == IL_MODE_PROCESSES ? process_pool (e) : e->item_pool;
              gint64 cost = pool_submit (e, pool, t->job);
              th->dispatch_after = pool;
              top->kind = e->config.mode == IL_MODE_PROCESSES ? T_C_HOLD : T_CPU;
              top->dur = cost;
              return;
            }

        case IL_MODE_ASYNCIO:
        case IL_N_MODES:
        default:
          g_assert_not_reached ();
        }
    }
}

static void
driver_next_op (IlEngine *e,
                Thread   *th,
                TOp      *top)
{
  switch (th->role)
    {
    case ROLE_LOOP:
      loop_next_op (e, th, top);
      break;
    case ROLE_MAIN:
      main_next_op (e, th, top);
      break;
    case ROLE_PROG:
    case ROLE_WORKER:
    default:
      worker_next_op (e, th, top);
      break;
    }
}

static void
set_compute (IlEngine *e,
             Thread   *th,
             Compute   ck,
             gint64    dur)
{
  th->ck = ck;
  th->remaining = dur;
  th->compute_state = IL_STATE_RUNNING;
  if (ck == C_PY && e->config.mode == IL_MODE_FREE_THREADING)
    th->remaining = (gint64) ((double) dur * (1.0 + e->config.params.free_threading_overhead) + 0.5);
  if (ck != C_FREE && th->proc->has_gil && !th->holds_gil)
    {
      th->resume = R_TAKE_GIL;
      th->after_gil = R_COMPUTE;
    }
  else
    th->resume = R_COMPUTE;
}

/* Called when the thread is on a core. */
static void
thread_run (IlEngine *e,
            Thread   *th)
{
  Gil *gil = &th->proc->gil;

  for (;;)
    {
      switch (th->resume)
        {
        case R_COMPUTE:
          compute_start (e, th, th->compute_state);
          return;

        case R_TAKE_GIL:
          if (!th->proc->has_gil || th->holds_gil)
            {
              th->resume = th->after_gil;
              continue;
            }
          if (!gil_take_or_wait (e, th))
            return;
          th->resume = th->after_gil;
          continue;

        case R_GIL_TIMEOUT:
          if (gil->locked && gil->switch_number == th->saved_switch)
            gil_request_drop (e, th);
          th->resume = R_TAKE_GIL;
          continue;

        case R_BLOCK:
          /* A blocking call whose GIL release had to wait for a switch. */
          if (th->block_is_wait)
            {
              th->block_is_wait = FALSE;
              thread_vis (e, th, th->block_state);
              thread_leave_core (e, th);
              thread_new_gen (e, th);
              th->wait = W_WAIT;
              th->resume = th->wait_resume;
              return;
            }
          th->resume = resume_after_block (th);
          block_start (e, th);
          return;

        case R_RETRY_SEM:
          {
            Sem *sem = &e->sems[th->pend_sem];
            if (sem->held < sem->capacity)
              {
                sem->held++;
                prog_push (&th->job->prog, th->pend_body, th->pend_n, 1, (gint32) th->pend_sem);
                th->resume = resume_after_block (th);
                continue;
              }
            waiter_enqueue (&sem->waiters, &th->waiter, FALSE, th, th->pend_body, th->pend_n);
            thread_vis (e, th, IL_STATE_BLOCKED);
            thread_leave_core (e, th);
            thread_new_gen (e, th);
            th->wait = W_WAIT;
            th->resume = R_RETRY_SEM;
            return;
          }

        case R_RETRY_QUEUE:
          {
            /* Woken by the other side's notify(): take the GIL back, then
             * check the queue again (another thread may have got there
             * first, and then this one waits again at the back). */
            Task *task = th->job != NULL ? th->job->task : NULL;
            guint32 lane = task != NULL ? task->lane : th->lane;

            /* Out of the condition's lock, on a core: the wake-up is
             * recorded now, with who served the queue, before taking the
             * GIL or ending the task records a cause of its own. */
            if (th->cause != IL_CAUSE_NONE)
              thread_vis (e, th, IL_STATE_RUNNING);
            if (th->proc->has_gil && !th->holds_gil)
              {
                th->resume = R_TAKE_GIL;
                th->after_gil = R_RETRY_QUEUE;
                continue;
              }
            if (pyqueue_try (e, th->pend_queue, th->pend_put, lane))
              {
                if (task != NULL)
                  task->queue_wait = -1;
                th->resume = R_NEXT;
                continue;
              }
            pyqueue_wait_thread (e, th, task, th->pend_queue, th->pend_put);
            begin_wait (e, th, IL_STATE_BLOCKED, R_RETRY_QUEUE);
            return;
          }

        case R_NEXT:
          {
            TOp top;

            if (th->dispatch_after != NULL)
              {
                pool_dispatch (e, th->dispatch_after, th->lane);
                th->dispatch_after = NULL;
              }
            if (th->wait_after)
              {
                th->wait_after = FALSE;
                begin_wait (e, th, IL_STATE_BLOCKED, R_NEXT);
                return;
              }
            /* The eval breaker runs between operations too: a drop request
             * that arrived during a C call is honoured here. */
            if (th->holds_gil && gil->drop_request)
              {
                gil_forced_drop (e, th, R_NEXT);
                return;
              }

            driver_next_op (e, th, &top);
            switch (top.kind)
              {
              case T_CPU:
                set_compute (e, th, C_PY, top.dur);
                continue;
              case T_C_HOLD:
                set_compute (e, th, C_HOLD, top.dur);
                if (top.state == IL_STATE_STARTING)
                  th->compute_state = IL_STATE_STARTING;
                continue;
              case T_C_FREE:
                th->ck = C_FREE;
                th->remaining = top.dur;
                th->compute_state = IL_STATE_RUNNING;
                if (th->holds_gil && gil_drop (e, th, FALSE))
                  {
                    /* FORCE_SWITCHING even on a voluntary release: wait for
                     * the switch, then run the C code. */
                    th->wait = W_GIL_SWITCH;
                    th->after_switch = R_COMPUTE;
                    thread_vis (e, th, IL_STATE_WAIT_GIL);
                    thread_leave_core (e, th);
                    return;
                  }
                th->resume = R_COMPUTE;
                continue;
              case T_IO:
                begin_block (e, th, IL_STATE_WAIT_IO, top.dur, FALSE);
                return;
              case T_SLEEP:
                begin_block (e, th, IL_STATE_SLEEPING, top.dur, FALSE);
                return;
              case T_SLEEP_EXACT:
                begin_block (e, th, IL_STATE_SLEEPING, top.dur - e->config.params.timer_slack, FALSE);
                return;
              case T_SELECT:
                begin_block (e, th, IL_STATE_IDLE, top.dur, TRUE);
                return;
              case T_WAIT:
                begin_wait (e, th, top.state, top.on_wake);
                return;
              case T_EXIT:
                release_for_block (e, th, TRUE);
                th->mirror = IL_NO_LANE;
                thread_vis (e, th, IL_STATE_DONE);
                thread_leave_core (e, th);
                th->wait = W_DONE;
                thread_new_gen (e, th);
                if (th->role == ROLE_PROG)
                  thread_recycle (e, th);
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

/* One call of thread_run, at the end: called once, it is inlined, and a
 * third of all events do not pay for a call and its saved registers. */
void
process_event (IlEngine *e,
               const Ev *ev)
{
  Thread *th = NULL;
  gboolean run = FALSE;

  switch ((EvKind) ev->kind)
    {
    case EV_DISPATCH:
      th = ev->th;
      run = th->gen == ev->gen && th->core >= 0;
      break;

    case EV_COMPUTE_DONE:
      th = ev->th;
      if (th->gen != ev->gen || !th->computing)
        break;
      th->computing = FALSE;
      th->remaining = 0;
      th->resume = th->ck == C_FREE ? resume_after_block (th) : R_NEXT;
      run = TRUE;
      break;

    case EV_BREAKER:
      th = ev->th;
      if (th->gen != ev->gen || !th->computing || th->ck != C_PY || !th->holds_gil
          || !th->proc->gil.drop_request)
        break;
      compute_pause (e, th);
      th->resume = R_COMPUTE;
      gil_forced_drop (e, th, R_COMPUTE);
      break;

    case EV_WAKE:
      th = ev->th;
      if (th->gen != ev->gen || th->wait != W_WAKING)
        break;
      thread_make_runnable (e, th);
      break;

    case EV_BLOCK_DONE:
      th = ev->th;
      if (th->gen != ev->gen)
        break;
      switch (th->wait)
        {
        case W_GIL_COND:
          cond_remove (e, &th->proc->gil, th);
          th->resume = R_GIL_TIMEOUT;
          th->cause = IL_CAUSE_GIL_TIMEOUT;
          thread_make_runnable (e, th);
          break;
        case W_BLOCK:
          th->cause = th->block_state == IL_STATE_SLEEPING ? IL_CAUSE_TIMER : IL_CAUSE_IO;
          thread_make_runnable (e, th);
          break;
        case W_SELECT:
          e->loop->in_select = FALSE;
          th->cause = IL_CAUSE_TIMER;
          thread_make_runnable (e, th);
          break;
        case W_NONE:
        case W_GIL_SWITCH:
        case W_WAIT:
        case W_WAKING:
        case W_DONE:
        default:
          break;
        }
      break;

    case EV_SLICE:
      if (e->cores[ev->id].slice_gen == ev->gen)
        core_slice_end (e, ev->id);
      break;

    case EV_FD_READY:
      {
        Task *task = &e->tasks[ev->id];
        if (task->gen != ev->gen || task->wait != TW_IO || task->done)
          break;
        g_queue_push_tail (&e->loop->fd_ready, handle_new (e, H_IO, task, IL_CAUSE_IO, IL_NO_LANE));
        /* One rule for I/O and timers: once what the task awaits is done,
         * it is ready until its step runs, however busy the loop is. */
        task_set_state (e, task, IL_STATE_READY, IL_CAUSE_IO, IL_NO_LANE);
        loop_wake (e, IL_CAUSE_IO, IL_NO_LANE);
      }
      break;

    case EV_TIMER_DUE:
      {
        /* A cancelled timer took its event out of the queue (task_cancel). */
        Task *task = &e->tasks[ev->id];
        if (task->gen == ev->gen && task->wait == TW_TIMER && !task->done)
          task_set_state (e, task, IL_STATE_READY, IL_CAUSE_TIMER, IL_NO_LANE);
      }
      break;

    case EV_JOB_RESULT:
      {
        Job *job = g_ptr_array_index (e->jobs, ev->id);
        if (job->done == JD_THREAD && job->submitter->wait_after)
          {
            /* Another submitter's hand-out ran this job while its own
             * submitter was still paying for the submit: the result is
             * there before it begins to wait, so it will not wait.  (Waking
             * it would have put a running thread on a second core.) */
            job->submitter->wait_after = FALSE;
          }
        else if (job->done == JD_THREAD)
          thread_wake (e, job->submitter, resume_after_block (job->submitter), IL_CAUSE_FUTURE,
                       job->worker_lane);
        else if (job->awaiter != NULL && job->awaiter->wait == TW_JOB && job->awaiter->wait_on == job)
          loop_call_soon (e, job->awaiter, H_THREADSAFE, IL_CAUSE_FUTURE, job->worker_lane);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (run)
    thread_run (e, th);
}
