/* il-queues.h — what waits in the event loop's queues and the pools' work
 * queues at a given time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Built from the IL_EVENT_QUEUE events the engine records (il-trace.h), so
 * a view can draw the ready queue, the timers and a pool's work queue as
 * items moving through rather than as a depth.  Traces without queue
 * events (imported, or recorded before they existed) have no queues.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

typedef struct {
  guint32        lane;    /* task lane of the item, or IL_NO_LANE (the main coroutine, a callback of no task) */
  IlCallbackKind what;    /* loop queues: what it runs; pool queues: IL_CALLBACK_TASK_STEP */
  gint64         since;   /* when it joined the queue */
  guint32        number;  /* the how-manieth item put on this queue (from 1): with FIFO user
                           * queues, the item the narration calls "item 3" */
} IlQueueItem;

/* Queue ids present in the trace (IL_QUEUE_READY, IL_QUEUE_TIMERS,
 * IL_QUEUE_POOL + n [| IL_QUEUE_PROCESS_POOL]), ascending; guint16. */
GArray     *il_queues_list       (const IlTrace *trace);
/* "ready queue", "timers", "thread pool 0 work queue", "process pool 1 work queue",
 * "queue 0" (a user queue). */
char       *il_queue_name        (guint16        queue);
/* A user queue's name from the trace's scenario ("q"), else il_queue_name. */
char       *il_queue_label       (const IlTrace *trace,
                                  guint16        queue);
/* A user queue's maxsize (0: unbounded), or -1 for the other queues. */
gint        il_queue_maxsize     (const IlTrace *trace,
                                  guint16        queue);

/* The scenario's own queues (queue.Queue, asyncio.Queue): IL_QUEUE_USER + index. */
static inline gboolean
il_queue_is_user (guint16 queue)
{
  return (queue & (IL_QUEUE_USER | IL_QUEUE_PROCESS_POOL)) == IL_QUEUE_USER;
}

/* The items in `queue` after every event at or before t, front first
 * (timers in the order they were set).  Array of IlQueueItem. */
GArray     *il_queue_items_at    (const IlTrace *trace,
                                  guint16        queue,
                                  gint64         t);

/* The lane of the worker thread that took `item_lane`'s job from a pool
 * queue most recently at or before t, or IL_NO_LANE. */
guint32     il_queue_taken_by    (const IlTrace *trace,
                                  guint32        item_lane,
                                  gint64         t);

G_END_DECLS
