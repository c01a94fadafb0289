/* il-engine-locks.c — locks and semaphores
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

/* Waiters queue through the node each thread and task carries. */
void
waiter_enqueue (GQueue       *queue,
                Waiter       *w,
                gboolean      is_task,
                gpointer      who,
                const IlStep *body,
                guint32       n_body)
{
  g_assert (!w->queued);
  w->queued = TRUE;
  w->is_task = is_task;
  w->who = who;
  w->body = body;
  w->n_body = n_body;
  w->link.data = w;
  g_queue_push_tail_link (queue, &w->link);
}

Waiter *
waiter_dequeue (GQueue *queue)
{
  GList *link = g_queue_pop_head_link (queue);
  Waiter *w = link->data;

  w->queued = FALSE;
  return w;
}

void
waiter_remove (GQueue *queue,
               Waiter *w)
{
  if (!w->queued)
    return;
  g_queue_unlink (queue, &w->link);
  w->queued = FALSE;
}

void
sem_release (IlEngine *e,
             guint32   ref,
             guint32   by_lane)
{
  Sem *sem = &e->sems[ref];

  if (sem->waiters.length == 0)
    {
      g_assert (sem->held > 0);
      sem->held--;
      return;
    }

  if (mode_is_asyncio (e) && ((Waiter *) sem->waiters.head->data)->is_task)
    {
      /* asyncio.Lock / Semaphore: FIFO, the first waiter gets it and no one
       * can barge in before it runs. */
      Waiter *w = waiter_dequeue (&sem->waiters);
      Task *t = w->who;

      prog_push (&t->co->prog, w->body, w->n_body, 1, (gint32) ref);
      loop_call_soon (e, t, H_STEP, IL_CAUSE_LOCK, by_lane);
      return;
    }

  /* threading.Lock: the lock is free again; the OS wakes one waiter, which
   * retries — a running thread may take it first. */
  sem->held--;
  {
    Waiter *w = waiter_dequeue (&sem->waiters);

    thread_wake (e, w->who, R_RETRY_SEM, IL_CAUSE_LOCK, by_lane);
  }
}

/* Release every semaphore a program still holds (with-blocks unwinding). */
void
prog_unwind (IlEngine *e,
             Prog     *prog,
             guint32   by_lane)
{
  while (prog->depth > 0)
    {
      gint32 release = prog_frame (prog, prog->depth - 1u)->release;

      prog->depth--;
      if (release >= 0)
        sem_release (e, (guint32) release, by_lane);
    }
}
