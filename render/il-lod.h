/* il-lod.h — level of detail for drawing lanes denser than pixels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * When a lane has far more events than the view has pixel columns, the
 * renderer draws per column the state the lane holds longest in it.
 * Finding that by walking the lane every frame costs every event in view;
 * instead, for each lane and power-of-two bucket size (2^level ns) the
 * cache keeps the dominant state of every bucket, computed once by one
 * walk over the lane's intervals and then only extended as a live run grows.  A
 * frame then costs one array read per column, and panning at a zoom level
 * costs nothing new.  Plain GLib, no drawing: it only classifies events.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"
#include "il-trace-intervals.h"

G_BEGIN_DECLS

typedef struct _IlLodCache IlLodCache;

/* What a lane shows during an interval of il-trace-intervals' iterator:
 * key is an IlState (or -1 for nothing), label the lane it is about (core:
 * the thread on it; GIL: the holder; loop: the task being stepped) or
 * IL_NO_LANE.  The renderer draws exactly this; the level of detail sums it. */
void           il_lod_interval_key   (IlLaneKind        kind,
                                      const IlInterval *interval,
                                      int              *key,
                                      guint32          *label);

/* Time per key (and per key and label) within one pixel column or bucket:
 * the column then shows the state held longest, so a thread that runs 90 %
 * of the time reads as running, not as stripes of running and waiting. */
typedef struct {
  gint64 key_ns[IL_N_STATES + 1];   /* index key + 1: slot 0 is nothing */
  gint64 total_ns;
  guint  n_labels;
  struct {
    int     key;
    guint32 label;
    gint64  ns;
  } labels[8];
} IlLodTally;

void           il_lod_tally_reset    (IlLodTally       *tally);
void           il_lod_tally_add      (IlLodTally       *tally,
                                      int               key,
                                      guint32           label,
                                      gint64            ns);
/* The key held longest over span_ns (time nothing covered counts as
 * nothing; ties go to nothing, then to the lower state), with the label
 * that wore it longest, packed as a cell. */
guint64        il_lod_tally_dominant (const IlLodTally *tally,
                                      gint64            span_ns);

/* Bucket level for columns ns_per_px wide: the largest with
 * 2^level <= ns_per_px, or -1 when columns are too narrow to bother. */
int            il_lod_level_for      (double         ns_per_px);

IlLodCache    *il_lod_cache_new      (void);
void           il_lod_cache_free     (IlLodCache    *cache);
/* Forgets everything (the trace was replaced). */
void           il_lod_cache_clear    (IlLodCache    *cache);

/* Cells of `lane` at `level`: cell k is what the lane shows most of the
 * time in [k << level, (k + 1) << level) (up to the trace's end), packed (il_lod_cell_key, il_lod_cell_label).  *n_cells
 * covers the buckets that start before the trace's end time.  NULL when
 * the level would need too many cells (zoomed far in on a long run). */
const guint64 *il_lod_cache_lookup   (IlLodCache    *cache,
                                      const IlTrace *trace,
                                      guint32        lane,
                                      int            level,
                                      gsize         *n_cells);

static inline int
il_lod_cell_key (guint64 cell)
{
  return (int) (cell >> 32) - 1;
}

static inline guint32
il_lod_cell_label (guint64 cell)
{
  return (guint32) cell;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlLodCache, il_lod_cache_free)

G_END_DECLS
