/* il-trace-intervals.c — a lane's events as intervals
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-trace-intervals.h"

#include <string.h>

/* The first boundary at or after position pos of the lane's index. */
static guint
next_boundary (const IlIntervalIter *iter,
               guint                 pos)
{
  const IlTrace *t = iter->trace;

  while (pos < iter->n_events && !il_event_kind_is_boundary (t->kind[iter->events[pos]]))
    pos++;
  return pos;
}

void
il_interval_iter_init (IlIntervalIter *iter,
                       const IlTrace  *trace,
                       guint32         lane,
                       gint64          upto)
{
  const IlLaneIndex *idx;

  g_return_if_fail (iter != NULL);
  g_return_if_fail (trace != NULL);
  g_return_if_fail (lane < il_trace_get_n_lanes (trace));

  idx = il_trace_get_lane_events (trace, lane);
  iter->trace = trace;
  iter->events = idx->data;
  iter->n_events = idx->len;
  iter->upto = upto;
  iter->stop = MIN (upto, trace->end_time);
  iter->pos = next_boundary (iter, 0);
}

void
il_interval_iter_init_range (IlIntervalIter *iter,
                             const IlTrace  *trace,
                             guint32         lane,
                             gint64          from,
                             gint64          upto)
{
  guint pos;

  il_interval_iter_init (iter, trace, lane, upto);
  g_return_if_fail (iter->trace == trace);

  /* The interval going on at `from` opened at the last boundary at or
   * before it; step back from the first event after it. */
  pos = il_trace_lane_lower_bound (trace, lane, from + 1);
  while (pos > 0)
    {
      pos--;
      if (il_event_kind_is_boundary (trace->kind[iter->events[pos]]))
        {
          iter->pos = pos;
          return;
        }
    }
}

gboolean
il_interval_iter_next (IlIntervalIter *iter,
                       IlInterval     *interval)
{
  const IlTrace *t;
  guint32 e;
  guint next;

  g_return_val_if_fail (iter != NULL && interval != NULL, FALSE);

  t = iter->trace;
  if (iter->pos >= iter->n_events)
    return FALSE;
  e = iter->events[iter->pos];
  if (t->time[e] > iter->upto)
    {
      iter->pos = iter->n_events;
      return FALSE;
    }
  next = next_boundary (iter, iter->pos + 1);
  interval->event = e;
  interval->start = t->time[e];
  interval->kind = t->kind[e];
  interval->value = t->value[e];
  interval->aux = t->aux[e];
  interval->arg = t->arg[e];
  if (next < iter->n_events && t->time[iter->events[next]] <= iter->upto)
    {
      interval->end = t->time[iter->events[next]];
      interval->open = FALSE;
    }
  else
    {
      interval->end = MAX (interval->start, iter->stop);
      interval->open = TRUE;
    }
  iter->pos = next;
  return TRUE;
}

void
il_interval_sweep_init (IlIntervalSweep *sweep,
                        const IlTrace   *trace,
                        gint64           upto)
{
  guint n_lanes;

  g_return_if_fail (sweep != NULL);
  g_return_if_fail (trace != NULL);

  n_lanes = il_trace_get_n_lanes (trace);
  sweep->trace = trace;
  sweep->open = g_new0 (IlOpenInterval, MAX (1, n_lanes));
  for (guint l = 0; l < n_lanes; l++)
    sweep->open[l].event = G_MAXUINT32;
  sweep->pos = 0;
  sweep->end = upto == G_MAXINT64 ? trace->n_events : il_trace_lower_bound (trace, upto + 1);
  sweep->lane_pos = 0;
  memset (sweep->counts, 0, sizeof sweep->counts);
  sweep->upto = upto;
  sweep->stop = MIN (upto, trace->end_time);
}

/* The rest of il_interval_sweep_next (), out of line: the intervals still
 * open after the last event. */
gboolean
il_interval_sweep_next_open (IlIntervalSweep *sweep,
                             guint32         *lane,
                             IlInterval      *interval)
{
  const IlTrace *t = sweep->trace;

  sweep->pos = sweep->end;
  while (sweep->lane_pos < il_trace_get_n_lanes (t))
    {
      guint32 l = sweep->lane_pos++;
      const IlOpenInterval *o = &sweep->open[l];

      if (o->event == G_MAXUINT32)
        continue;
      *lane = l;
      interval->event = o->event;
      interval->start = o->start;
      interval->end = MAX (o->start, sweep->stop);
      interval->open = TRUE;
      interval->kind = o->kind;
      interval->value = o->value;
      interval->aux = o->aux;
      interval->arg = o->arg;
      return TRUE;
    }
  return FALSE;
}

void
il_interval_sweep_clear (IlIntervalSweep *sweep)
{
  g_return_if_fail (sweep != NULL);
  g_clear_pointer (&sweep->open, g_free);
}
