/* il-trace-intervals.h — a lane's events as intervals
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A trace stores changes ("from t on, this thread waits for the GIL"); the
 * statistics, the timeline, the story of a lane and the exporters want
 * intervals ("from t1 to t2 it waited").  This iterator is the one place
 * that turns one into the other: every boundary event of a lane closes the
 * interval before it and opens the next, and the last one is closed at
 * `upto` (or the end of the trace, whichever is first).
 *
 * Boundary events, by the lane kind they occur on:
 *   thread, task   STATE                          (value: the IlState)
 *   core           CORE                           (arg: the thread on it, or IL_NO_LANE: idle)
 *   gil            GIL_TAKE, GIL_DROP             (held from a take to the next drop)
 *   loop           LOOP_CALLBACK(_END), LOOP_SELECT(_END)
 * Slices, instants, counters, flows, marks and the other GIL and loop
 * events are not boundaries: they happen inside intervals.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

gboolean il_event_kind_is_boundary (IlEventKind kind);

typedef struct {
  guint32  event;   /* the event that opened it: its kind, value, aux and arg say what it was */
  gint64   start;
  gint64   end;     /* the next boundary's time, or where the iteration stops */
  gboolean open;    /* no boundary closed it up to `upto`: it is still going */
} IlInterval;

typedef struct {
  /*< private >*/
  const IlTrace *trace;
  const guint32 *events;
  guint          n_events;
  guint          pos;       /* position of the next opening boundary in the lane's index */
  gint64         upto;
  gint64         stop;      /* MIN (upto, trace->end_time) */
} IlIntervalIter;

/* Every interval of the lane that starts at or before upto, in time order. */
void     il_interval_iter_init       (IlIntervalIter *iter,
                                      const IlTrace  *trace,
                                      guint32         lane,
                                      gint64          upto);
/* Only the intervals that end after `from` (the first one may start
 * before it): found by binary search, for drawing a part of a long run. */
void     il_interval_iter_init_range (IlIntervalIter *iter,
                                      const IlTrace  *trace,
                                      guint32         lane,
                                      gint64          from,
                                      gint64          upto);
gboolean il_interval_iter_next       (IlIntervalIter *iter,
                                      IlInterval     *interval);

G_END_DECLS
