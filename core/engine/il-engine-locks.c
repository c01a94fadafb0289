/* il-engine-locks.c — locks and semaphores
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

void
sem_release (IlEngine *e,
             guint32   ref,
             guint32   by_lane)
{
  Sem *sem = &e->sems[ref];

  if (sem->waiters->len == 0)
    {
      g_assert (sem->held > 0);
      sem->held--;
      return;
    }

  if (mode_is_asyncio (e))
    {
      /* asyncio.Lock / Semaphore: FIFO, the first waiter gets it and no one
       * can barge in before it runs. */
      Waiter w = g_array_index (sem->waiters, Waiter, 0);
      Task *t = w.who;

      g_array_remove_index (sem->waiters, 0);
      prog_push (&t->prog, w.body, w.n_body, 1, (gint32) ref);
      loop_call_soon (e, t, H_STEP, IL_CAUSE_LOCK, by_lane);
      return;
    }

  /* threading.Lock: the lock is free again; the OS wakes one waiter, which
   * retries — a running thread may take it first. */
  sem->held--;
  {
    Waiter w = g_array_index (sem->waiters, Waiter, 0);
    Thread *th = w.who;

    g_array_remove_index (sem->waiters, 0);
    thread_wake (e, th, R_RETRY_SEM, IL_CAUSE_LOCK, by_lane);
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
      Frame *f = &prog->frames[--prog->depth];
      if (f->release >= 0)
        sem_release (e, (guint32) f->release, by_lane);
    }
}
