/* il-stats.c — numbers derived from a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-stats.h"

IlStats *
il_stats_compute (const IlTrace *trace,
                  gint64         upto)
{
  IlStats *st;
  guint n_lanes;
  g_autofree gint32 *task_of_lane = NULL;   /* lane → index in st->tasks, or -1 */
  g_autofree gint32 *core_of_lane = NULL;
  g_autofree guint8 *state = NULL;
  g_autofree gint64 *since = NULL;
  g_autofree gint64 *busy_since = NULL;
  gboolean all_done = TRUE;

  g_return_val_if_fail (trace != NULL, NULL);

  n_lanes = il_trace_get_n_lanes (trace);
  st = g_new0 (IlStats, 1);
  st->upto = upto;
  task_of_lane = g_new (gint32, MAX (1, n_lanes));
  core_of_lane = g_new (gint32, MAX (1, n_lanes));
  state = g_new0 (guint8, MAX (1, n_lanes));
  since = g_new0 (gint64, MAX (1, n_lanes));
  busy_since = g_new (gint64, MAX (1, n_lanes));

  for (guint l = 0; l < n_lanes; l++)
    {
      const IlLane *lane = il_trace_get_lane (trace, l);
      task_of_lane[l] = lane->kind == IL_LANE_TASK ? (gint32) st->n_tasks++ : -1;
      core_of_lane[l] = lane->kind == IL_LANE_CORE ? (gint32) st->n_cores++ : -1;
      busy_since[l] = -1;
    }
  st->tasks = g_new0 (IlTaskStats, MAX (1, st->n_tasks));
  st->core_busy = g_new0 (gint64, MAX (1, st->n_cores));
  for (guint l = 0; l < n_lanes; l++)
    if (task_of_lane[l] >= 0)
      {
        IlTaskStats *ts = &st->tasks[task_of_lane[l]];
        ts->name = il_trace_get_lane (trace, l)->name;
        ts->lane = l;
        ts->start = -1;
        ts->finish = -1;
        ts->outcome = IL_CAUSE_NONE;
      }

  /* One pass over the events up to `upto`. */
  for (gsize i = 0; i < trace->n_events && trace->time[i] <= upto; i++)
    {
      guint32 l = trace->lane[i];
      gint64 t = trace->time[i];

      switch ((IlEventKind) trace->kind[i])
        {
        case IL_EVENT_STATE:
          if (task_of_lane[l] >= 0)
            {
              IlTaskStats *ts = &st->tasks[task_of_lane[l]];
              IlState s = (IlState) trace->value[i];

              ts->in_state[state[l]] += t - since[l];
              state[l] = (guint8) s;
              since[l] = t;
              if (ts->start < 0 && s != IL_STATE_NOT_STARTED && s != IL_STATE_READY && s != IL_STATE_STARTING)
                ts->start = t;
              if (s == IL_STATE_DONE)
                {
                  ts->finish = t;
                  ts->outcome = (IlCause) trace->aux[i];
                }
            }
          break;
        case IL_EVENT_CORE:
          if (core_of_lane[l] >= 0)
            {
              if (busy_since[l] >= 0)
                st->core_busy[core_of_lane[l]] += t - busy_since[l];
              busy_since[l] = trace->arg[i] != IL_NO_LANE ? t : -1;
            }
          break;
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
    }

  /* Close the open intervals at `upto` (but never past the end of the trace). */
  {
    gint64 end = MIN (upto, trace->end_time);

    st->makespan = 0;
    for (guint l = 0; l < n_lanes; l++)
      {
        if (task_of_lane[l] >= 0)
          {
            IlTaskStats *ts = &st->tasks[task_of_lane[l]];
            if (state[l] != IL_STATE_DONE)
              {
                all_done = FALSE;
                if (end > since[l])
                  ts->in_state[state[l]] += end - since[l];
              }
            else
              st->makespan = MAX (st->makespan, ts->finish);
            st->total_gil_wait += ts->in_state[IL_STATE_WAIT_GIL];
          }
        if (core_of_lane[l] >= 0 && busy_since[l] >= 0 && end > busy_since[l])
          st->core_busy[core_of_lane[l]] += end - busy_since[l];
      }
    if (!all_done || st->n_tasks == 0)
      st->makespan = MAX (st->makespan, end);
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
