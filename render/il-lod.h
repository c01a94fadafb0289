/* il-lod.h — level of detail for drawing lanes denser than pixels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * When a lane has far more events than the view has pixel columns, the
 * renderer draws what is going on at one instant per column.  Finding that
 * by searching the lane every frame costs a search per column and lane;
 * instead, for each lane and power-of-two bucket size (2^level ns) the
 * cache keeps what is going on at the start of every bucket, computed once
 * by one walk over the lane and then only extended as a live run grows.  A
 * frame then costs one array read per column, and panning at a zoom level
 * costs nothing new.  Plain GLib, no drawing: it only classifies events.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

typedef struct _IlLodCache IlLodCache;

/* What a lane shows from event e on: key is an IlState (or -1 for
 * nothing), label the lane it is about (core: the thread on it; GIL: the
 * holder; loop: the task being stepped) or IL_NO_LANE.  FALSE if the event
 * does not change what the lane shows. */
gboolean       il_lod_classify       (const IlTrace *trace,
                                      IlLaneKind     kind,
                                      guint32        e,
                                      int           *key,
                                      guint32       *label);

/* Bucket level for columns ns_per_px wide: the largest with
 * 2^level <= ns_per_px, or -1 when columns are too narrow to bother. */
int            il_lod_level_for      (double         ns_per_px);

IlLodCache    *il_lod_cache_new      (void);
void           il_lod_cache_free     (IlLodCache    *cache);
/* Forgets everything (the trace was replaced). */
void           il_lod_cache_clear    (IlLodCache    *cache);

/* Cells of `lane` at `level`: cell k is what the lane shows at time
 * k << level, packed (il_lod_cell_key, il_lod_cell_label).  *n_cells
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
