/* il-render-queues.h — the event loop's and the pools' queues, item by item
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <cairo.h>

#include "il-render.h"

G_BEGIN_DECLS

/* One item drawn: a small box in its task's colour beside the playhead. */
typedef struct {
  guint16  queue;     /* IL_QUEUE_READY, IL_QUEUE_TIMERS, IL_QUEUE_POOL + n (| IL_QUEUE_PROCESS_POOL) */
  guint32  lane;      /* the item's task lane, or IL_NO_LANE */
  double   x, y, width, height;
  gboolean labelled;  /* its task's name fits in the box */
} IlQueueBox;

/* Lays out (and with draw, draws on cr) what waits in each queue at the
 * playhead, from il_queue_items_at: the ready queue (filled boxes, front
 * first from the playhead rightwards) then the timers (outlined boxes) in
 * each event loop's lane, a pool's work queue in its process's heading
 * row.  Items that do not fit before the right edge are counted in a
 * "+N" and not returned.  Nothing without a playhead (exports).  Returns
 * an array of IlQueueBox; cr is needed to measure labels either way. */
GArray *il_render_queues (cairo_t              *cr,
                          const IlRenderParams *params,
                          gboolean              draw);

G_END_DECLS
