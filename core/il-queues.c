/* il-queues.c — replay queue events up to a time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Queues are short (a handful of items in a lesson), so a replay that
 * removes an item by searching from the front is linear in the events
 * and cheap per frame.  Loop queues live on loop lanes, whose own event
 * index is walked; pool queues are spread over the lanes of the pool's
 * process and its workers, so the global columns are walked up to t.
 */
#include "il-queues.h"

static gboolean
is_loop_queue (guint16 queue)
{
  return queue == IL_QUEUE_READY || queue == IL_QUEUE_TIMERS;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return (int) *(const guint16 *) a - (int) *(const guint16 *) b;
}

GArray *
il_queues_list (const IlTrace *trace)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  g_return_val_if_fail (trace != NULL, ids);

  for (gsize i = 0; i < trace->n_events; i++)
    if (trace->kind[i] == IL_EVENT_QUEUE
        && g_hash_table_add (seen, GUINT_TO_POINTER ((guint) trace->aux[i] + 1)))
      {
        guint16 id = trace->aux[i];
        g_array_append_val (ids, id);
      }
  g_array_sort (ids, compare_ids);
  return ids;
}

char *
il_queue_name (guint16 queue)
{
  if (queue == IL_QUEUE_READY)
    return g_strdup ("ready queue");
  if (queue == IL_QUEUE_TIMERS)
    return g_strdup ("timers");
  if (il_queue_is_user (queue))
    return g_strdup_printf ("queue %u", (guint) (queue & ~IL_QUEUE_USER));
  return g_strdup_printf ("%s pool %u work queue", (queue & IL_QUEUE_PROCESS_POOL) ? "process" : "thread",
                          (guint) ((queue & ~IL_QUEUE_PROCESS_POOL) - IL_QUEUE_POOL));
}

char *
il_queue_label (const IlTrace *trace,
                guint16        queue)
{
  const IlScenario *sc = trace != NULL ? trace->scenario : NULL;
  guint index = queue & ~IL_QUEUE_USER;

  if (il_queue_is_user (queue) && sc != NULL && index < sc->n_queues)
    return g_strdup (sc->queues[index].name);
  return il_queue_name (queue);
}

gint
il_queue_maxsize (const IlTrace *trace,
                  guint16        queue)
{
  const IlScenario *sc = trace != NULL ? trace->scenario : NULL;
  guint index = queue & ~IL_QUEUE_USER;

  if (il_queue_is_user (queue) && sc != NULL && index < sc->n_queues)
    return (gint) sc->queues[index].maxsize;
  return -1;
}

/* Apply one QUEUE event to the items from *head on.  Queues are FIFO but
 * for cancellations, so a pop almost always takes the front: that only
 * moves *head, and the items before it are cut off once at the end. */
static void
apply (const IlTrace *trace,
       gsize          e,
       GArray        *items,
       guint         *head,
       guint32       *pushed)
{
  IlQueueOp op = (IlQueueOp) (trace->value[e] & 3);
  IlCallbackKind what = (IlCallbackKind) (trace->value[e] >> 2);

  if (op == IL_QUEUE_WAIT)
    return;   /* a task waiting on a user queue: nothing moves */
  if (op == IL_QUEUE_PUSH)
    {
      IlQueueItem item = { trace->arg[e], what, trace->time[e], ++*pushed };
      g_array_append_val (items, item);
      return;
    }
  for (guint i = *head; i < items->len; i++)
    {
      const IlQueueItem *it = &g_array_index (items, IlQueueItem, i);
      if (it->lane == trace->arg[e] && it->what == what)
        {
          if (i == *head)
            (*head)++;
          else
            g_array_remove_index (items, i);
          return;
        }
    }
}

GArray *
il_queue_items_at (const IlTrace *trace,
                   guint16        queue,
                   gint64         t)
{
  GArray *items = g_array_new (FALSE, FALSE, sizeof (IlQueueItem));
  guint head = 0;
  guint32 pushed = 0;

  g_return_val_if_fail (trace != NULL, items);

  if (is_loop_queue (queue))
    {
      for (guint l = 0; l < il_trace_get_n_lanes (trace); l++)
        {
          const IlLaneIndex *idx;

          if (il_trace_get_lane (trace, l)->kind != IL_LANE_LOOP)
            continue;
          idx = il_trace_get_lane_events (trace, l);
          for (guint i = 0; i < idx->len; i++)
            {
              guint32 e = idx->data[i];
              if (trace->time[e] > t)
                break;
              if (trace->kind[e] == IL_EVENT_QUEUE && trace->aux[e] == queue)
                apply (trace, e, items, &head, &pushed);
            }
        }
    }
  else
    for (gsize e = 0; e < trace->n_events && trace->time[e] <= t; e++)
      if (trace->kind[e] == IL_EVENT_QUEUE && trace->aux[e] == queue)
        apply (trace, e, items, &head, &pushed);
  g_array_remove_range (items, 0, head);
  return items;
}

guint32
il_queue_taken_by (const IlTrace *trace,
                   guint32        item_lane,
                   gint64         t)
{
  gsize end;

  g_return_val_if_fail (trace != NULL, IL_NO_LANE);

  end = il_trace_lower_bound (trace, t == G_MAXINT64 ? t : t + 1);
  while (end-- > 0)
    if (trace->kind[end] == IL_EVENT_QUEUE && trace->arg[end] == item_lane
        && (trace->value[end] & 3) == IL_QUEUE_POP && !is_loop_queue (trace->aux[end])
        && !il_queue_is_user (trace->aux[end]))
      return il_trace_event_lane (trace, end);
  return IL_NO_LANE;
}
