/* il-legend.h — which states, marks, arrows and queues a trace shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The legend explains only what the timeline can show for the trace in
 * view: an asyncio lesson has no "starting a process", a run without
 * failures no failure mark.  The scan is incremental, so a live simulation
 * costs only its new events, and items are only ever added while the trace
 * grows: the legend never shrinks under the viewer's eyes.  Plain GLib: the
 * drawing is il_render_legend().
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

/* In the order the legend lists them. */
typedef enum {
  IL_LEGEND_RUNNING,
  IL_LEGEND_STARTING,
  IL_LEGEND_READY,
  IL_LEGEND_WAIT_GIL,
  IL_LEGEND_WAIT_IO,
  IL_LEGEND_SLEEPING,
  IL_LEGEND_BLOCKED,
  IL_LEGEND_IDLE,          /* a pool worker or a thread with nothing to do */
  IL_LEGEND_LOOP_SELECT,   /* the event loop waiting in select() */
  IL_LEGEND_GIL_REQUEST,   /* a drop request mark on the GIL lane */
  IL_LEGEND_GIL_SWITCH,    /* a forced switch line on the GIL lane */
  IL_LEGEND_LOOP_ITER,     /* a loop iteration tick */
  IL_LEGEND_FAILED,
  IL_LEGEND_CANCELLED,
  IL_LEGEND_WAKE_ARROW,    /* from the lane that woke, handed over, or cancelled */
  IL_LEGEND_OUTSIDE_ARROW, /* an I/O completion or a timer woke it */
  IL_LEGEND_QUEUE_READY,   /* an item in the loop's ready queue */
  IL_LEGEND_QUEUE_TIMER,   /* a timer not yet due */
  IL_LEGEND_QUEUE_POOL,    /* an item waiting in a pool's work queue */
  IL_LEGEND_QUEUE_USER,    /* an item in one of the scenario's queues, and its free slots */
  IL_N_LEGEND_ITEMS
} IlLegendItem;

#define IL_LEGEND_QUEUES \
  ((1u << IL_LEGEND_QUEUE_READY) | (1u << IL_LEGEND_QUEUE_TIMER) | (1u << IL_LEGEND_QUEUE_POOL) | \
   (1u << IL_LEGEND_QUEUE_USER))

typedef struct {
  guint32  items;    /* bit per IlLegendItem */
  /*< private >*/
  IlTrace *trace;    /* held: a new trace at the same address starts afresh */
  gsize    scanned;  /* events of trace already looked at */
} IlLegend;

/* Looks at the events trace gained since the last call (all of them for a
 * new trace).  TRUE when the items changed: redraw the legend then only. */
gboolean il_legend_update (IlLegend      *legend,
                           const IlTrace *trace);
void     il_legend_clear  (IlLegend      *legend);

static inline gboolean
il_legend_has (const IlLegend *legend,
               IlLegendItem    item)
{
  return (legend->items & (1u << item)) != 0;
}

G_END_DECLS
