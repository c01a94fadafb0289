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

#define IL_BOUNDARY_EVENT_MASK \
  ((1u << IL_EVENT_STATE) | (1u << IL_EVENT_CORE) | (1u << IL_EVENT_GIL_TAKE) | (1u << IL_EVENT_GIL_DROP) \
   | (1u << IL_EVENT_LOOP_CALLBACK) | (1u << IL_EVENT_LOOP_CALLBACK_END) | (1u << IL_EVENT_LOOP_SELECT) \
   | (1u << IL_EVENT_LOOP_SELECT_END))

static inline gboolean
il_event_kind_is_boundary (IlEventKind kind)
{
  return (guint) kind < 32 && (IL_BOUNDARY_EVENT_MASK & (1u << kind)) != 0;
}

typedef struct {
  guint32  event;   /* the event that opened it */
  gint64   start;
  gint64   end;     /* the next boundary's time, or where the iteration stops */
  gboolean open;    /* no boundary closed it up to `upto`: it is still going */
  /* The opening event's columns, copied: what the interval was (a state, the
   * thread on a core, the GIL's holder…) without a trip back to the event. */
  guint8   kind;    /* IlEventKind */
  guint8   value;
  guint16  aux;
  guint32  arg;
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

/* All lanes at once, in one pass over the events in time order: each
 * interval as the event that closes it is reached (so a lane's intervals
 * come in order, lanes interleaved), then every interval still open at
 * `upto`, in lane order.  For whole-trace sums (the statistics): it reads
 * the columns front to back instead of hopping through lane indices, about
 * four times faster than one IlIntervalIter per lane. */
/* What the sweep keeps of a lane's open interval: 24 bytes, so a thousand
 * lanes stay in the first-level cache. */
typedef struct {
  gint64   start;
  guint32  event;   /* G_MAXUINT32: none yet */
  guint8   kind;
  guint8   value;
  guint16  aux;
  guint32  arg;
} IlOpenInterval;

typedef struct {
  /*< private >*/
  const IlTrace  *trace;
  IlOpenInterval *open;      /* per lane */
  gsize           pos;       /* next event */
  gsize           end;       /* the first event after upto (found once, by binary search) */
  guint           lane_pos;  /* after the events: next lane whose open interval to give */
  gint64          upto;
  gint64          stop;
  /* Events passed, by kind; a slot for every byte, so counting needs no
   * range check. */
  guint64         counts[G_MAXUINT8 + 1];
} IlIntervalSweep;

/* The sweep reads the events in the trace when it starts. */
void     il_interval_sweep_init      (IlIntervalSweep *sweep,
                                      const IlTrace   *trace,
                                      gint64           upto);
void     il_interval_sweep_clear     (IlIntervalSweep *sweep);
/* How many events of a kind the sweep passed (at or before upto): after
 * the last interval, every one; the statistics count GIL requests and loop
 * iterations this way instead of reading the events a second time. */
static inline guint64
il_interval_sweep_count (const IlIntervalSweep *sweep,
                         IlEventKind            kind)
{
  return (guint) kind < IL_N_EVENT_KINDS ? sweep->counts[kind] : 0;
}
gboolean il_interval_sweep_next_open (IlIntervalSweep *sweep,
                                      guint32         *lane,
                                      IlInterval      *interval);

/* The columns the sweep reads, copied out of the trace: in a local that
 * nothing else points to they stay in registers even across the stores to
 * open[] (the project builds with -fno-strict-aliasing, so anything read
 * through the trace would be read again after each). */
typedef struct {
  const gint64  *time;
  const guint8  *kind;
  const guint8  *value;
  const guint16 *aux;
  const guint32 *arg;
  const guint16 *lane16;
  const guint32 *lane32;   /* NULL while the trace's lanes fit 16 bits */
} IlSweepColumns_;

static inline IlSweepColumns_
il_sweep_columns_ (const IlTrace *t)
{
  return (IlSweepColumns_) { t->time, t->kind, t->value, t->aux, t->arg, t->lane16, t->lane32 };
}

/* The sweep's one loop (private: use il_interval_sweep_next or _foreach).
 * Advances *pos up to end and returns TRUE at the first boundary event
 * that closes an interval, with the interval and its lane.  Inline, so a
 * caller's loop keeps the position and the columns in registers.  The open
 * interval of each lane keeps a copy of its opening event, so nothing
 * reads back into the columns (a lane's interval may have opened millions
 * of events ago: a cache miss each). */
static inline gboolean
il_interval_sweep_advance_ (const IlSweepColumns_ *c,
                            IlOpenInterval        *open,
                            guint64               *counts,
                            gsize                 *pos,
                            gsize                  end,
                            guint32               *lane,
                            IlInterval            *interval)
{
  gsize p = *pos;

  while (p < end)
    {
      gsize e = p++;
      guint k = c->kind[e];
      guint32 l;
      IlOpenInterval *o;
      IlOpenInterval was;

      counts[k]++;
      if (!il_event_kind_is_boundary ((IlEventKind) k))
        continue;
      /* Field by field, as they were stored: a lane's next event often
       * follows soon, and one wide read of narrow stores would stall. */
      l = c->lane32 != NULL ? c->lane32[e] : c->lane16[e];
      o = &open[l];
      was.event = o->event;
      was.start = o->start;
      was.kind = o->kind;
      was.value = o->value;
      was.aux = o->aux;
      was.arg = o->arg;
      o->event = (guint32) e;
      o->start = c->time[e];
      o->kind = (guint8) k;
      o->value = c->value[e];
      o->aux = c->aux[e];
      o->arg = c->arg[e];
      if (was.event != G_MAXUINT32)
        {
          *pos = p;
          *lane = l;
          interval->event = was.event;
          interval->start = was.start;
          interval->end = o->start;
          interval->open = FALSE;
          interval->kind = was.kind;
          interval->value = was.value;
          interval->aux = was.aux;
          interval->arg = was.arg;
          return TRUE;
        }
    }
  *pos = p;
  return FALSE;
}

/* The next interval and its lane; FALSE when there are no more.  Inline:
 * it runs once per event of the trace, and a call each cost the statistics
 * half their time on a million events. */
static inline gboolean
il_interval_sweep_next (IlIntervalSweep *sweep,
                        guint32         *lane,
                        IlInterval      *interval)
{
  IlSweepColumns_ c = il_sweep_columns_ (sweep->trace);

  if (il_interval_sweep_advance_ (&c, sweep->open, sweep->counts, &sweep->pos, sweep->end, lane, interval))
    return TRUE;
  return il_interval_sweep_next_open (sweep, lane, interval);
}

/* Every interval at once, handed to func: the same order as
 * il_interval_sweep_next, for whole-trace sums.  With a static func the
 * compiler inlines it into the loop, which then keeps the position, the
 * columns and the interval in registers — the statistics run as fast as
 * their own loop over the events did before they shared this one. */
typedef void (*IlIntervalFunc) (guint32           lane,
                                const IlInterval *interval,
                                gpointer          user_data);

static inline void
il_interval_sweep_foreach (IlIntervalSweep *sweep,
                           IlIntervalFunc   func,
                           gpointer         user_data)
{
  IlSweepColumns_ c = il_sweep_columns_ (sweep->trace);
  IlOpenInterval *open = sweep->open;
  guint64 *counts = sweep->counts;
  gsize pos = sweep->pos, end = sweep->end;
  guint32 lane;
  IlInterval iv, last;

  while (il_interval_sweep_advance_ (&c, open, counts, &pos, end, &lane, &iv))
    func (lane, &iv, user_data);
  sweep->pos = pos;
  /* A second interval for the out-of-line part, so iv never escapes. */
  while (il_interval_sweep_next_open (sweep, &lane, &last))
    func (lane, &last, user_data);
}

G_END_DECLS
