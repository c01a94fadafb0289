/* il-slice-legend.h — the legend of an imported trace: what its colours are
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A Chrome or VizTracer trace has none of the simulation's states: its
 * slices wear the colour of their name.  Its legend lists the names that
 * take the most time on their own (self time: a call's time less its
 * callees'), each with its colour, as a profiler's summary would.
 */
#pragma once

#include <cairo.h>

#include "il-theme.h"
#include "il-trace.h"

G_BEGIN_DECLS

/* The string ids of at most max slice names with the most self time, most
 * first (ties: the lower id first); one walk over the trace.  Returns how
 * many there are: 0 for a trace without slices. */
guint   il_slice_legend_names (const IlTrace  *trace,
                               guint32        *names,
                               guint           max);

/* The colour (index into the theme's identity colours) of every string id
 * of trace as a slice name, in colours[0 … trace's strings).  Names were
 * coloured by their id alone, so VizTracer's `fib` and
 * `_thread.lock.release` could share a hue: now the names with the most
 * self time take the palette's colours in turn — the first
 * IL_THEME_N_IDENTITY a hue no other name has — and the rest the darker
 * shades, by a hash of the name (stable for a trace, and for the same names
 * in another).  top holds those names, il_slice_legend_names' answer for at
 * most IL_THEME_N_COLOURS: ranking walks the whole trace, so it is done once
 * and shared with the legend (il_slice_lod_top_names). */
void    il_slice_name_colours (const IlTrace  *trace,
                               const guint32  *top,
                               guint           n_top,
                               guint16        *colours);

/* Draws "Most time in:" and the names with their colours in at most two
 * rows within width (those that do not fit are left out); returns its
 * height.  With cr NULL only measures.  names are il_slice_legend_names'
 * (the i-th has il_slice_name_colours' colour i). */
double  il_slice_legend_draw  (cairo_t        *cr,
                               const IlTheme  *theme,
                               const IlTrace  *trace,
                               const guint32  *names,
                               guint           n_names,
                               double          x,
                               double          y,
                               double          width);

G_END_DECLS
