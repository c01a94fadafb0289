/* il-trace-intervals.c — a lane's events as intervals
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-trace-intervals.h"

gboolean
il_event_kind_is_boundary (IlEventKind kind)
{
  switch (kind)
    {
    case IL_EVENT_STATE:
    case IL_EVENT_CORE:
    case IL_EVENT_GIL_TAKE:
    case IL_EVENT_GIL_DROP:
    case IL_EVENT_LOOP_CALLBACK:
    case IL_EVENT_LOOP_CALLBACK_END:
    case IL_EVENT_LOOP_SELECT:
    case IL_EVENT_LOOP_SELECT_END:
      return TRUE;
    case IL_EVENT_GIL_REQUEST:
    case IL_EVENT_GIL_WAITERS:
    case IL_EVENT_LOOP_ITER:
    case IL_EVENT_MARK:
    case IL_EVENT_SLICE_BEGIN:
    case IL_EVENT_SLICE_END:
    case IL_EVENT_INSTANT:
    case IL_EVENT_COUNTER:
    case IL_EVENT_FLOW:
    case IL_N_EVENT_KINDS:
    default:
      return FALSE;
    }
}

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
  const GArray *idx;

  g_return_if_fail (iter != NULL);
  g_return_if_fail (trace != NULL);
  g_return_if_fail (lane < il_trace_get_n_lanes (trace));

  idx = il_trace_get_lane_events (trace, lane);
  iter->trace = trace;
  iter->events = (const guint32 *) (gconstpointer) idx->data;
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
