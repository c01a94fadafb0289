/* il-slice-lod.h — level of detail for the nested slices of imported traces
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A lane of an imported trace (VizTracer, Chrome) holds nested named
 * slices, drawn one sub-row per depth.  Zoomed out on millions of them, a
 * pixel column holds hundreds, so the renderer asks for columns instead of
 * slices: for each depth and pixel column, the name of the slice shown
 * there (the one that covers most of the column) or nothing.  A column is
 * covered exactly when a slice of that depth overlaps it, however little,
 * as Perfetto and sysprof merge sub-pixel slices into one fill.
 *
 * The answer comes either from a walk over the slices in view, or, zoomed
 * out, from a per-lane and per-depth level of detail: buckets of 2^level
 * ns, each keeping the first and last covered instant in it and the name
 * that covers most of it.  Those two instants make the answer exact at the
 * columns' edges, where a bucket straddles two columns.  The finest level
 * is built by one walk over the lane; coarser ones by merging pairs of
 * buckets, so zooming out never walks the lane again.  The same walk keeps
 * the open slices every few hundred events (checkpoints), so that drawing a
 * tile in the middle of a long call starts close by instead of at the
 * lane's first event.  Plain GLib, no drawing.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

/* Sub-rows drawn per lane; deeper slices are counted but not drawn. */
#define IL_SLICE_MAX_DEPTH 8

typedef struct _IlSliceLod IlSliceLod;

IlSliceLod *il_slice_lod_new   (void);
void        il_slice_lod_free  (IlSliceLod *lod);
/* Forgets everything (the trace was replaced). */
void        il_slice_lod_clear (IlSliceLod *lod);
/* Forgets what was worked out for any other trace than `trace` (NULL:
 * everything): the render cache calls it when the trace in view changes,
 * which must not drop the ranking the legend just asked for. */
void        il_slice_lod_keep_only (IlSliceLod    *lod,
                                    const IlTrace *trace);

/* Fills out[d * n_cols + c], for each depth d < n_depths (at most
 * IL_SLICE_MAX_DEPTH) and column c < n_cols, with the string id of the
 * slice drawn at that depth in that column, or IL_NO_LANE.  Column c covers
 * the times [bounds[c], max (bounds[c + 1], bounds[c] + 1)); bounds holds
 * n_cols + 1 non-decreasing times.  A slice covers [begin, end), one ns if
 * it has no length; nothing after `upto` exists (G_MAXINT64: everything).
 * With `lod` (which may be NULL: a walk from the lane's start) the answer
 * comes from the level of detail when the columns are at least two of its
 * finest buckets wide.  Returns TRUE if it did. */
gboolean    il_slice_columns   (IlSliceLod    *lod,
                                const IlTrace *trace,
                                guint32        lane,
                                const gint64  *bounds,
                                guint          n_cols,
                                guint          n_depths,
                                gint64         upto,
                                guint32       *out);

/* The slice of `depth` drawn in the pixel column [t0, t1) — the one
 * covering most of it, as il_slice_columns() shows it — as an interval
 * (event: its begin), or FALSE if nothing of that depth is there: what
 * hover and click pick under the pointer. */
gboolean    il_slice_pick      (IlSliceLod      *lod,
                                const IlTrace   *trace,
                                guint32          lane,
                                guint            depth,
                                gint64           t0,
                                gint64           t1,
                                gint64           upto,
                                IlTraceInterval *hit);

/* The identity colour of a slice's name (il_slice_name_colours), worked
 * out once per trace: drawing looks it up per bar. */
guint       il_slice_lod_name_colour (IlSliceLod    *lod,
                                      const IlTrace *trace,
                                      guint32        name);

/* il_slice_legend_names' answer for max (at most IL_THEME_N_COLOURS)
 * names, from the ranking the colours above are made of: the legend and
 * the colours share one walk over the trace (65 ms for 10 M slices), which
 * is done again only when the trace grows. */
guint       il_slice_lod_top_names   (IlSliceLod    *lod,
                                      const IlTrace *trace,
                                      guint32       *names,
                                      guint          max);

/* The largest absolute value of a counter lane, kept so that every tile
 * and every pan draws it to one scale. */
double      il_slice_lod_counter_max (IlSliceLod    *lod,
                                      const IlTrace *trace,
                                      guint32        lane);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlSliceLod, il_slice_lod_free)

G_END_DECLS
