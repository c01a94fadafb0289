/* il-stats.c — numbers derived from a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-stats.h"

#include "il-trace-intervals.h"

/* Time in each state, start, finish and outcome of one task lane. */
static gboolean
task_stats (const IlTrace *trace,
            guint32        lane,
            gint64         upto,
            IlTaskStats   *ts)
{
  IlIntervalIter iter;
  IlInterval iv;
  gboolean first = TRUE;
  IlState last = IL_STATE_NOT_STARTED;

  ts->name = il_trace_get_lane (trace, lane)->name;
  ts->lane = lane;
  ts->start = -1;
  ts->finish = -1;
  ts->outcome = IL_CAUSE_NONE;

  il_interval_iter_init (&iter, trace, lane, upto);
  while (il_interval_iter_next (&iter, &iv))
    {
      IlState s = (IlState) trace->value[iv.event];

      if (first)
        ts->in_state[IL_STATE_NOT_STARTED] += iv.start;   /* not started until its first change */
      first = FALSE;
      /* Done is where a task ends, not a state it spends time in. */
      if (!(iv.open && s == IL_STATE_DONE))
        ts->in_state[s] += iv.end - iv.start;
      if (ts->start < 0 && s != IL_STATE_NOT_STARTED && s != IL_STATE_READY)
        ts->start = iv.start;
      if (s == IL_STATE_DONE)
        {
          ts->finish = iv.start;
          ts->outcome = (IlCause) trace->aux[iv.event];
        }
      last = s;
    }
  if (first)
    ts->in_state[IL_STATE_NOT_STARTED] += MAX (0, MIN (upto, trace->end_time));
  return last == IL_STATE_DONE;
}

/* Time with a thread on the core. */
static gint64
core_busy (const IlTrace *trace,
           guint32        lane,
           gint64         upto)
{
  IlIntervalIter iter;
  IlInterval iv;
  gint64 busy = 0;

  il_interval_iter_init (&iter, trace, lane, upto);
  while (il_interval_iter_next (&iter, &iv))
    if (trace->arg[iv.event] != IL_NO_LANE)
      busy += iv.end - iv.start;
  return busy;
}

IlStats *
il_stats_compute (const IlTrace *trace,
                  gint64         upto)
{
  IlStats *st;
  guint n_lanes;
  gboolean all_done = TRUE;

  g_return_val_if_fail (trace != NULL, NULL);

  n_lanes = il_trace_get_n_lanes (trace);
  st = g_new0 (IlStats, 1);
  st->upto = upto;
  for (guint l = 0; l < n_lanes; l++)
    {
      IlLaneKind kind = il_trace_get_lane (trace, l)->kind;
      st->n_tasks += kind == IL_LANE_TASK;
      st->n_cores += kind == IL_LANE_CORE;
    }
  st->tasks = g_new0 (IlTaskStats, MAX (1, st->n_tasks));
  st->core_busy = g_new0 (gint64, MAX (1, st->n_cores));

  /* States and cores lane by lane, as intervals. */
  for (guint l = 0, task = 0, core = 0; l < n_lanes; l++)
    switch (il_trace_get_lane (trace, l)->kind)
      {
      case IL_LANE_TASK:
        {
          IlTaskStats *ts = &st->tasks[task++];
          if (task_stats (trace, l, upto, ts))
            st->makespan = MAX (st->makespan, ts->finish);
          else
            all_done = FALSE;
          st->total_gil_wait += ts->in_state[IL_STATE_WAIT_GIL];
        }
        break;
      case IL_LANE_CORE:
        st->core_busy[core++] = core_busy (trace, l, upto);
        break;
      case IL_LANE_PROCESS:
      case IL_LANE_GIL:
      case IL_LANE_LOOP:
      case IL_LANE_THREAD:
      case IL_LANE_COUNTER:
      case IL_N_LANE_KINDS:
      default:
        break;
      }
  if (!all_done || st->n_tasks == 0)
    st->makespan = MAX (st->makespan, MIN (upto, trace->end_time));

  /* The counts in one pass over the events up to `upto`. */
  for (gsize i = 0; i < trace->n_events && trace->time[i] <= upto; i++)
    switch ((IlEventKind) trace->kind[i])
      {
      case IL_EVENT_GIL_TAKE:
        st->gil_takes++;
        st->gil_switches += trace->value[i] != 0;
        break;
      case IL_EVENT_GIL_DROP:
        st->forced_switches += trace->value[i] == IL_GIL_DROP_FORCED;
        break;
      case IL_EVENT_GIL_REQUEST:
        st->drop_requests++;
        break;
      case IL_EVENT_LOOP_ITER:
        st->loop_iterations++;
        break;
      default:
        break;
      }

  if (st->n_cores > 0 && st->makespan > 0)
    {
      gint64 busy = 0;
      for (guint c = 0; c < st->n_cores; c++)
        busy += st->core_busy[c];
      st->utilisation = (double) busy / ((double) st->n_cores * (double) st->makespan);
    }

  return st;
}

void
il_stats_free (IlStats *stats)
{
  if (stats == NULL)
    return;
  g_free (stats->tasks);
  g_free (stats->core_busy);
  g_free (stats);
}
