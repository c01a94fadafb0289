/* il-engine-processes.c — processes and the threads that start tasks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

Process *
process_new (IlEngine   *e,
             const char *name,
             gboolean    has_gil)
{
  Process *p = g_new0 (Process, 1);

  p->lane = add_lane (e, IL_LANE_PROCESS, name, IL_NO_LANE, e->processes->len);
  p->has_gil = has_gil;
  gil_init (&p->gil);
  if (has_gil)
    {
      g_autofree char *gil_name = g_strdup_printf ("GIL (%s)", name);
      p->gil_lane = add_lane (e, IL_LANE_GIL, gil_name, p->lane, e->processes->len);
    }
  else
    p->gil_lane = IL_NO_LANE;
  g_ptr_array_add (e->processes, p);
  return p;
}

/* What a new process's first thread does before its first step
 * (multiprocessing/context.py, popen_*.py):
 *  - fork: nothing; the parent paid for the copy (process_parent_cost).
 *  - spawn: a fresh interpreter starts, unpickles the preparation data and
 *    re-imports the main module: spawn_ms of CPU in the child.
 *  - forkserver: the first use of the start method spawns the server (an
 *    interpreter that imports the main module), so the first child is
 *    ready about one spawn after the request; every later child is forked
 *    by the server and sets itself up in forkserver_ms.  Children asked
 *    for while the server starts wait for it.  Measured with 3.11 under
 *    SCHED_RR: first worker ever 115 ms, later ones 31-34 ms (child CPU
 *    28-32 ms), spawn 86-94 ms. */
void
process_boot (IlEngine *e,
              Thread   *th)
{
  const IlParams *p = &e->config.params;

  th->boot = 0;
  th->boot_after = 0;
  switch (p->start_method)
    {
    case IL_START_SPAWN:
      th->boot = p->process_start_cost[IL_START_SPAWN];
      break;
    case IL_START_FORKSERVER:
      if (e->forkserver_up < 0)
        e->forkserver_up = e->now + MAX (0, p->process_start_cost[IL_START_SPAWN]
                                            - p->process_start_cost[IL_START_FORKSERVER]);
      th->boot = p->process_start_cost[IL_START_FORKSERVER];
      th->boot_after = e->forkserver_up;
      break;
    case IL_START_FORK:
    default:
      break;
    }
}

/* CPU the submitting thread pays for a process start. */
gint64
process_parent_cost (IlEngine *e)
{
  const IlParams *p = &e->config.params;

  /* fork copies the parent's page tables in the parent; spawn and
   * forkserver only send a request and the child pays for its start. */
  if (p->start_method == IL_START_FORK)
    return p->process_start_cost[IL_START_FORK];
  return IL_MSEC (1);
}

void
spawn_task_thread (IlEngine *e,
                   Thread   *starter,
                   Task     *t)
{
  Process *proc = t->proc != NULL ? t->proc : starter->proc;
  Thread *th = thread_new (e, proc, ROLE_PROG, t->lane);

  th->job = t->job;
  th->cause = IL_CAUSE_START;
  th->cause_lane = starter->lane;
  if (t->proc != NULL)
    {
      process_boot (e, th);
      emit (e, proc->lane, IL_EVENT_MARK, IL_MARK_PROCESS_START, 0, starter->lane);
    }
  thread_make_runnable (e, th);
}
