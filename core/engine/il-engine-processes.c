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
  g_queue_init (&p->gil.cond_waiters);
  p->gil.switch_waiters = g_ptr_array_new ();
  p->gil.last_dropper_lane = IL_NO_LANE;
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
      const IlParams *p = &e->config.params;
      if (p->start_method != IL_START_FORK)
        th->boot = p->process_start_cost[p->start_method];
      emit (e, proc->lane, IL_EVENT_MARK, IL_MARK_PROCESS_START, 0, starter->lane);
    }
  thread_make_runnable (e, th);
}
