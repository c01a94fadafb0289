/* il-stats.c — numbers derived from a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-stats.h"

#include "il-trace-intervals.h"

typedef struct {
  IlStats      *st;
  const gint32 *task_of_lane;   /* lane → index in st->tasks, or -1 */
  const gint32 *core_of_lane;
  guint8       *last;           /* per lane: the state of its latest interval */
  guint8       *seen;           /* per lane: had an interval */
} Sums;

/* One interval into the sums, inlined into the sweep's loop. */
G_ALWAYS_INLINE static inline void
add_interval (guint32           l,
              const IlInterval *iv,
              gpointer          data)
{
  Sums *sums = data;
  IlStats *st = sums->st;

  /* Task lanes first: in a simulated trace most intervals are theirs.
   * Only their STATE events are states (the loader checks those values);
   * any other boundary a file puts there is not one. */
  if (sums->task_of_lane[l] >= 0 && iv->kind == IL_EVENT_STATE)
    {
      IlTaskStats *ts = &st->tasks[sums->task_of_lane[l]];
      IlState s = (IlState) iv->value;

      if (!sums->seen[l])
        ts->in_state[IL_STATE_NOT_STARTED] += iv->start;   /* not started until its first change */
      sums->seen[l] = TRUE;
      /* Done is where a task ends, not a state it spends time in. */
      if (!(iv->open && s == IL_STATE_DONE))
        ts->in_state[s] += iv->end - iv->start;
      if (ts->start < 0 && s != IL_STATE_NOT_STARTED && s != IL_STATE_READY
          && s != IL_STATE_STARTING)
        ts->start = iv->start;
      if (s == IL_STATE_DONE)
        {
          ts->finish = iv->start;
          ts->outcome = (IlCause) iv->aux;
        }
      sums->last[l] = (guint8) s;
    }
  else if (sums->core_of_lane[l] >= 0)
    {
      if (iv->arg != IL_NO_LANE)
        st->core_busy[sums->core_of_lane[l]] += iv->end - iv->start;
    }
  /* Each GIL take and drop opens one interval: count them here. */
  else if (iv->kind == IL_EVENT_GIL_TAKE)
    st->gil_switches += iv->value != 0;
  else if (iv->kind == IL_EVENT_GIL_DROP)
    st->forced_switches += iv->value == IL_GIL_DROP_FORCED;
}

IlStats *
il_stats_compute (const IlTrace *trace,
                  gint64         upto)
{
  IlStats *st;
  guint n_lanes;
  g_autofree gint32 *task_of_lane = NULL;   /* lane → index in st->tasks, or -1 */
  g_autofree gint32 *core_of_lane = NULL;
  g_autofree guint8 *last = NULL;           /* per lane: the state of its latest interval */
  g_autofree guint8 *seen = NULL;           /* per lane: had an interval */
  IlIntervalSweep sweep;
  Sums sums;
  guint32 l;
  gint64 end;
  gboolean all_done = TRUE;

  g_return_val_if_fail (trace != NULL, NULL);

  n_lanes = il_trace_get_n_lanes (trace);
  st = g_new0 (IlStats, 1);
  st->upto = upto;
  task_of_lane = g_new (gint32, MAX (1, n_lanes));
  core_of_lane = g_new (gint32, MAX (1, n_lanes));
  last = g_new0 (guint8, MAX (1, n_lanes));
  seen = g_new0 (guint8, MAX (1, n_lanes));
  for (l = 0; l < n_lanes; l++)
    {
      IlLaneKind kind = il_trace_get_lane (trace, l)->kind;
      task_of_lane[l] = kind == IL_LANE_TASK ? (gint32) st->n_tasks++ : -1;
      core_of_lane[l] = kind == IL_LANE_CORE ? (gint32) st->n_cores++ : -1;
    }
  st->tasks = g_new0 (IlTaskStats, MAX (1, st->n_tasks));
  st->core_busy = g_new0 (gint64, MAX (1, st->n_cores));
  for (l = 0; l < n_lanes; l++)
    if (task_of_lane[l] >= 0)
      {
        IlTaskStats *ts = &st->tasks[task_of_lane[l]];
        ts->name = il_trace_get_lane (trace, l)->name;
        ts->lane = l;
        ts->start = -1;
        ts->finish = -1;
        ts->outcome = IL_CAUSE_NONE;
      }

  /* Task states and busy cores, as intervals. */
  sums = (Sums) { st, task_of_lane, core_of_lane, last, seen };
  il_interval_sweep_init (&sweep, trace, upto);
  il_interval_sweep_foreach (&sweep, add_interval, &sums);
  st->gil_takes = il_interval_sweep_count (&sweep, IL_EVENT_GIL_TAKE);
  st->drop_requests = il_interval_sweep_count (&sweep, IL_EVENT_GIL_REQUEST);
  st->loop_iterations = il_interval_sweep_count (&sweep, IL_EVENT_LOOP_ITER);
  il_interval_sweep_clear (&sweep);

  end = MIN (upto, trace->end_time);
  for (l = 0; l < n_lanes; l++)
    if (task_of_lane[l] >= 0)
      {
        IlTaskStats *ts = &st->tasks[task_of_lane[l]];
        if (!seen[l])
          ts->in_state[IL_STATE_NOT_STARTED] += MAX (0, end);
        if (last[l] == IL_STATE_DONE)
          st->makespan = MAX (st->makespan, ts->finish);
        else
          all_done = FALSE;
        st->total_gil_wait += ts->in_state[IL_STATE_WAIT_GIL];
      }
  if (!all_done || st->n_tasks == 0)
    st->makespan = MAX (st->makespan, end);

  /* How many threads want each GIL, integrated over time. */
  for (l = 0; l < n_lanes; l++)
    if (il_trace_get_lane (trace, l)->kind == IL_LANE_GIL)
      {
        const IlLaneIndex *idx = il_trace_get_lane_events (trace, l);
        const guint32 *v = (const guint32 *) (gconstpointer) idx->data;
        guint32 waiting = 0;
        gint64 since = 0;

        for (guint p = 0; p < idx->len && trace->time[v[p]] <= end; p++)
          if (trace->kind[v[p]] == IL_EVENT_GIL_WAITERS)
            {
              st->threads_gil_wait += (gint64) waiting * (trace->time[v[p]] - since);
              waiting = trace->arg[v[p]];
              since = trace->time[v[p]];
            }
        st->threads_gil_wait += (gint64) waiting * MAX (0, end - since);
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
