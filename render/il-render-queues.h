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

/* How an item is drawn, by the queue it waits in.  Ready-queue items and
 * pool work items were both plain boxes in the task's colour, told apart
 * only by the legend's words: a work item is framed in the text colour
 * (dark in the light theme, white in the dark ones), which reads without
 * hue; a timer not yet due is an outline only. */
typedef enum {
  IL_QUEUE_BOX_READY,   /* the loop's ready queue, a scenario queue's items: filled */
  IL_QUEUE_BOX_TIMER,   /* outlined in the task's colour */
  IL_QUEUE_BOX_POOL,    /* filled, framed */
} IlQueueBoxStyle;

IlQueueBoxStyle il_queue_box_style (guint16 queue);

/* Draws one item's box; the legend draws its swatches with it too, so they
 * cannot drift apart.  Returns the inset (px) its text should keep from
 * the box's left edge. */
double  il_render_queue_box (cairo_t         *cr,
                             const IlTheme   *theme,
                             IlQueueBoxStyle  style,
                             const IlColour  *colour,
                             double           x,
                             double           y,
                             double           width,
                             double           height);

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
