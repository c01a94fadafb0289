/* il-engine-pyqueue.c — the scenario's queues: queue.Queue, asyncio.Queue,
 * multiprocessing.Queue (the engine's own event queue is il-engine-queue.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One model for all three, because Python's three share it (Lib/queue.py,
 * Lib/asyncio/queues.py, Lib/multiprocessing/queues.py):
 *
 *  - put waits while the queue is full (maxsize > 0 and qsize >= maxsize),
 *    get while it is empty; each side waits in a FIFO of waiters (a
 *    Condition's _waiters deque, asyncio's _getters/_putters futures, the
 *    bounded semaphore and the pipe).
 *  - A successful put wakes the first getter, a successful get the first
 *    putter (not_empty.notify() / _wakeup_next).  The woken side is not
 *    handed the item or the slot: it checks again when it runs, and
 *    whoever came first in between may have taken it (Python's `while
 *    self.full()` / `while not self._qsize()` loops), in which case it
 *    waits again at the back.
 *  - asyncio: the wake-up sets a future, whose callback the loop runs with
 *    call_soon, so the waiter is ready now and runs an iteration later.
 *  - threads: the waiter sleeps on a lock without the GIL; the notify
 *    wakes it after the OS's wake latency and it must take the GIL again
 *    before Python code can check the queue.  The queue's own mutex is held
 *    for microseconds and is not modelled; a put or get that does not wait
 *    costs no time, like taking a free lock.
 */
#include "il-engine-private.h"

void
pyqueues_init (IlEngine *e)
{
  e->queues = g_new0 (PyQueue, MAX (1, e->scenario->n_queues));
  for (guint32 i = 0; i < e->scenario->n_queues; i++)
    {
      PyQueue *q = &e->queues[i];
      q->maxsize = e->scenario->queues[i].maxsize;
      q->items = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_queue_init (&q->getters);
      g_queue_init (&q->putters);
    }
}

void
pyqueues_free (IlEngine *e)
{
  /* The waiter queues link nodes inside threads and tasks. */
  for (guint32 i = 0; i < e->scenario->n_queues; i++)
    g_array_unref (e->queues[i].items);
  g_free (e->queues);
}

static guint
qsize (const PyQueue *q)
{
  return q->items->len - q->head;
}

static gboolean
is_full (const PyQueue *q)
{
  return q->maxsize > 0 && qsize (q) >= q->maxsize;
}

/* not_empty.notify() / not_full.notify() / _wakeup_next: the first waiter
 * goes on and checks again. */
static void
wakeup_next (IlEngine *e,
             GQueue   *waiters,
             guint32   by_lane)
{
  Waiter *w;

  if (waiters->length == 0)
    return;
  w = waiter_dequeue (waiters);
  if (w->is_task)
    {
      Task *t = w->who;
      t->queue_retry = TRUE;
      loop_call_soon (e, t, H_STEP, IL_CAUSE_QUEUE, by_lane);
    }
  else
    {
      Thread *th = w->who;
      thread_wake (e, th, R_RETRY_QUEUE, IL_CAUSE_QUEUE, by_lane);
    }
}

gboolean
pyqueue_try (IlEngine *e,
             guint32   ref,
             gboolean  put,
             guint32   lane)
{
  PyQueue *q = &e->queues[ref];
  guint16 id = (guint16) (IL_QUEUE_USER | ref);

  if (put)
    {
      if (is_full (q))
        return FALSE;
      g_array_append_val (q->items, lane);
      emit_queue (e, lane, IL_QUEUE_PUSH, id, 0, lane);
      wakeup_next (e, &q->getters, lane);
    }
  else
    {
      guint32 from;

      if (qsize (q) == 0)
        return FALSE;
      from = g_array_index (q->items, guint32, q->head++);
      if (q->head == q->items->len)
        {
          g_array_set_size (q->items, 0);
          q->head = 0;
        }
      else if (q->head > 64 && q->head * 2 > q->items->len)
        {
          g_array_remove_range (q->items, 0, q->head);
          q->head = 0;
        }
      emit_queue (e, lane, IL_QUEUE_POP, id, 0, from);
      wakeup_next (e, &q->putters, lane);
    }
  return TRUE;
}

static void
note_wait (IlEngine *e,
           Task     *task,
           guint32   lane,
           guint32   ref,
           gboolean  put)
{
  if (task != NULL)
    {
      task->queue_wait = (gint32) ref;
      task->queue_put = put;
    }
  emit_queue (e, lane, IL_QUEUE_WAIT, (guint16) (IL_QUEUE_USER | ref), put ? 0 : 1, lane);
}

/* An asyncio task awaits the queue's future: its step is over. */
void
pyqueue_wait_task (IlEngine *e,
                   Task     *task,
                   guint32   ref,
                   gboolean  put)
{
  PyQueue *q = &e->queues[ref];

  note_wait (e, task, task->lane, ref, put);
  waiter_enqueue (put ? &q->putters : &q->getters, &task->co->waiter, TRUE, task, NULL, 0);
  task->wait = TW_QUEUE;
  task->wait_ref = ref;
  task->queue_retry = FALSE;
  e->loop->thread->mirror = IL_NO_LANE;
  task_set_state (e, task, IL_STATE_BLOCKED, IL_CAUSE_QUEUE, IL_NO_LANE);
}

/* A thread waits on the condition; the caller's T_WAIT or begin_wait
 * takes it off its core (and drops the GIL). */
void
pyqueue_wait_thread (IlEngine *e,
                     Thread   *th,
                     Task     *task,
                     guint32   ref,
                     gboolean  put)
{
  PyQueue *q = &e->queues[ref];

  note_wait (e, task, task != NULL ? task->lane : th->lane, ref, put);
  waiter_enqueue (put ? &q->putters : &q->getters, &th->waiter, FALSE, th, NULL, 0);
  th->pend_queue = ref;
  th->pend_put = put;
  th->cause = IL_CAUSE_QUEUE;
  th->cause_lane = IL_NO_LANE;
}

/* CancelledError at a task's queue await.  Waiting: it leaves the
 * waiters.  Already woken (its retry pending): asyncio passes the wake-up
 * on to the next waiter if what it was woken for is still there, so a
 * cancellation never strands the others. */
void
pyqueue_cancel (IlEngine *e,
                Task     *task)
{
  PyQueue *q;

  if (task->queue_wait < 0)
    return;
  q = &e->queues[task->queue_wait];
  if (task->wait == TW_QUEUE)
    waiter_remove (task->queue_put ? &q->putters : &q->getters, &task->co->waiter);
  else if (task->queue_retry)
    {
      if (task->queue_put && !is_full (q))
        wakeup_next (e, &q->putters, task->lane);
      else if (!task->queue_put && qsize (q) > 0)
        wakeup_next (e, &q->getters, task->lane);
    }
  task->queue_wait = -1;
  task->queue_retry = FALSE;
}

/* For the deadlock report: what a stuck task waits for on a queue. */
void
pyqueue_describe_wait (IlEngine   *e,
                       const Task *task,
                       GString    *out)
{
  const PyQueue *q;
  const char *name;

  if (task->queue_wait < 0 || (guint32) task->queue_wait >= e->scenario->n_queues)
    return;
  q = &e->queues[task->queue_wait];
  name = e->scenario->queues[task->queue_wait].name;
  if (task->queue_put && is_full (q))
    g_string_append_printf (out, " (waits to put on %s, full at %u/%u)", name, qsize (q), q->maxsize);
  else if (!task->queue_put && qsize (q) == 0)
    g_string_append_printf (out, " (waits to get from %s, which is empty)", name);
  else
    g_string_append_printf (out, " (waits to %s %s, which has %u item%s, but nobody woke it)",
                            task->queue_put ? "put on" : "get from", name, qsize (q), qsize (q) == 1 ? "" : "s");
}
