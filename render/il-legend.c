/* il-legend.c — which states, marks, arrows and queues a trace shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-legend.h"

#include "il-queues.h"

static guint32
state_item (IlState state)
{
  switch (state)
    {
    case IL_STATE_RUNNING:
      return 1u << IL_LEGEND_RUNNING;
    case IL_STATE_STARTING:
      return 1u << IL_LEGEND_STARTING;
    case IL_STATE_READY:
      return 1u << IL_LEGEND_READY;
    case IL_STATE_WAIT_GIL:
      return 1u << IL_LEGEND_WAIT_GIL;
    case IL_STATE_WAIT_IO:
      return 1u << IL_LEGEND_WAIT_IO;
    case IL_STATE_SLEEPING:
      return 1u << IL_LEGEND_SLEEPING;
    case IL_STATE_BLOCKED:
      return 1u << IL_LEGEND_BLOCKED;
    case IL_STATE_IDLE:
      return 1u << IL_LEGEND_IDLE;
    case IL_STATE_NOT_STARTED:
    case IL_STATE_DONE:
    case IL_N_STATES:
    default:
      return 0;  /* not drawn */
    }
}

/* What one event adds; mirrors what il-render.c draws for it. */
static guint32
event_items (const IlTrace *t,
             gsize          e)
{
  switch ((IlEventKind) t->kind[e])
    {
    case IL_EVENT_STATE:
      {
        guint32 items = state_item ((IlState) t->value[e]);
        IlCause cause = (IlCause) t->aux[e];

        if (t->arg[e] == IL_NO_LANE && (cause == IL_CAUSE_IO || cause == IL_CAUSE_TIMER)
            && (t->value[e] == IL_STATE_READY || t->value[e] == IL_STATE_RUNNING || t->value[e] == IL_STATE_WAIT_GIL))
          items |= 1u << IL_LEGEND_OUTSIDE_ARROW;
        else if (t->arg[e] != IL_NO_LANE && t->arg[e] != il_trace_event_lane (t, e)
                 && (cause == IL_CAUSE_GIL_HANDOFF || cause == IL_CAUSE_LOCK || cause == IL_CAUSE_QUEUE || cause == IL_CAUSE_FUTURE
                     || cause == IL_CAUSE_POOL || cause == IL_CAUSE_START || cause == IL_CAUSE_CANCELLED))
          items |= 1u << IL_LEGEND_WAKE_ARROW;
        return items;
      }
    case IL_EVENT_CORE:
    case IL_EVENT_GIL_TAKE:
      return 1u << IL_LEGEND_RUNNING;
    case IL_EVENT_GIL_WAITERS:
      return t->arg[e] > 0 ? 1u << IL_LEGEND_WAIT_GIL : 0;
    case IL_EVENT_GIL_REQUEST:
      return 1u << IL_LEGEND_GIL_REQUEST;
    case IL_EVENT_GIL_DROP:
      return t->value[e] == IL_GIL_DROP_FORCED ? 1u << IL_LEGEND_GIL_SWITCH : 0;
    case IL_EVENT_LOOP_ITER:
      return 1u << IL_LEGEND_LOOP_ITER;
    case IL_EVENT_LOOP_SELECT:
      return 1u << IL_LEGEND_LOOP_SELECT;
    case IL_EVENT_LOOP_CALLBACK:
      return t->arg[e] == IL_NO_LANE ? 1u << IL_LEGEND_READY : 1u << IL_LEGEND_RUNNING;
    case IL_EVENT_LOOP_SELECT_END:
    case IL_EVENT_LOOP_CALLBACK_END:
      return 1u << IL_LEGEND_READY;
    case IL_EVENT_MARK:
      if (t->value[e] == IL_MARK_EXCEPTION)
        return 1u << IL_LEGEND_FAILED;
      if (t->value[e] == IL_MARK_CANCEL_REQUEST)
        return 1u << IL_LEGEND_CANCELLED;
      return 0;
    case IL_EVENT_QUEUE:
      /* Only what waits is drawn: an item pushed. */
      if ((t->value[e] & 3) != IL_QUEUE_PUSH)
        return 0;
      if (t->aux[e] == IL_QUEUE_READY)
        return 1u << IL_LEGEND_QUEUE_READY;
      if (t->aux[e] == IL_QUEUE_TIMERS)
        return 1u << IL_LEGEND_QUEUE_TIMER;
      if (il_queue_is_user (t->aux[e]))
        return 1u << IL_LEGEND_QUEUE_USER;
      return 1u << IL_LEGEND_QUEUE_POOL;
    case IL_EVENT_SLICE_BEGIN:
    case IL_EVENT_SLICE_END:
    case IL_EVENT_INSTANT:
    case IL_EVENT_COUNTER:
    case IL_EVENT_FLOW:
    case IL_EVENT_STEP:
    default:
      return 0;
    }
}

gboolean
il_legend_update (IlLegend      *legend,
                  const IlTrace *trace)
{
  guint32 before;

  g_return_val_if_fail (legend != NULL, FALSE);

  before = legend->items;
  if (trace != legend->trace || (trace != NULL && trace->n_events < legend->scanned))
    {
      il_legend_clear (legend);
      if (trace != NULL)
        legend->trace = il_trace_ref ((IlTrace *) trace);
    }
  if (trace == NULL)
    return legend->items != before;
  for (gsize e = legend->scanned; e < trace->n_events; e++)
    legend->items |= event_items (trace, e);
  legend->scanned = trace->n_events;
  return legend->items != before;
}

void
il_legend_clear (IlLegend *legend)
{
  g_return_if_fail (legend != NULL);
  g_clear_pointer (&legend->trace, il_trace_unref);
  legend->items = 0;
  legend->scanned = 0;
}
