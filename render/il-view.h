/* il-view.h — time↔pixel maths, tick choice, lane layout and hit-testing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions over plain structs: no GTK, no drawing, so the unit tests
 * call them without a display and the timeline widget, the compare view and
 * the exporters share one definition of where things are.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

/* What part of virtual time is visible, and over how many pixels. */
typedef struct {
  gint64 start;   /* ns at the left edge of the plot area */
  gint64 span;    /* ns across the plot area (> 0) */
  double width;   /* px of the plot area (> 0) */
} IlViewport;

#define IL_VIEWPORT_MIN_SPAN (G_GINT64_CONSTANT (200))                 /* 200 ns across the view */
#define IL_VIEWPORT_MAX_SPAN (G_GINT64_CONSTANT (48) * 3600 * 1000000000) /* two days */

static inline double
il_viewport_time_to_x (const IlViewport *vp,
                       gint64            t)
{
  return (double) (t - vp->start) * vp->width / (double) vp->span;
}

gint64   il_viewport_x_to_time  (const IlViewport *vp,
                                 double            x);
/* factor < 1 zooms in; the time under anchor_x stays under it. */
void     il_viewport_zoom       (IlViewport       *vp,
                                 double            factor,
                                 double            anchor_x);
void     il_viewport_pan        (IlViewport       *vp,
                                 double            dx_px);
/* Shows [t0, t1] with a small margin on both sides. */
void     il_viewport_fit        (IlViewport       *vp,
                                 gint64            t0,
                                 gint64            t1);
/* Keeps the playhead visible while playing: when `now` leaves the view (or
 * passes 90 % of it) the view pages so `now` sits at 10 %.  TRUE if moved. */
gboolean il_viewport_follow     (IlViewport       *vp,
                                 gint64            now);

/* The tick step (1, 2 or 5 × 10^k ns) that puts at least min_px between
 * labelled ticks. */
gint64   il_ticks_choose_step   (const IlViewport *vp,
                                 double            min_px);
/* The least distance (px) between labelled ticks for labels in font_px
 * type across `width` px: room for a label and a gap, more where the plot
 * is wide, less where it is narrow (presenter type beside the side panel
 * on a 1024 px screen) so that a time scale shows at all. */
double   il_ticks_label_spacing (double            font_px,
                                 double            width);
/* Where (px from the plot's left) a tick's label of label_w px goes: just
 * right of the tick at tick_x, or, where the plot's right edge would cut
 * it there, ending at the tick; -1 where neither leaves 6 px after the
 * previous label, which ends at prev_end. */
double   il_ticks_label_x       (double            tick_x,
                                 double            label_w,
                                 double            width,
                                 double            prev_end);
/* Formats t as a tick label with just the precision `step` needs, in the
 * unit that suits it: "250 µs", "1.5 ms", "2 s". */
char    *il_format_tick         (gint64            t,
                                 gint64            step);
/* Formats a duration for people: "730 ns", "12.4 µs", "5.00 ms", "1.204 s". */
char    *il_format_duration     (gint64            ns);

/* One row of the timeline: a lane of the trace, or a heading. */
typedef enum {
  IL_ROW_HEADING,   /* "Cores", "Process 1 (pid …)": a label, no events */
  IL_ROW_LANE,
} IlRowKind;

typedef struct {
  IlRowKind kind;
  guint32   lane;     /* IL_NO_LANE for headings */
  double    y;        /* top, px from the top of the lanes area */
  double    height;
  guint     depth;    /* indentation level of the label */
  const char *label;  /* borrowed from the trace (lanes) or static (headings) */
  guint     sub_rows; /* a lane of nested slices: one sub-row per depth, at most 8; else 1 */
} IlRow;

typedef struct {
  double lane_height;     /* a task/thread lane */
  double small_height;    /* cores, GIL, loop */
  double heading_height;
  double gap;
} IlLayoutMetrics;

typedef struct {
  GArray *rows;           /* of IlRow, top to bottom */
  guint   n_lanes;        /* lanes of the trace the layout was built for */
  double  height;         /* total */
  guint32 *lane_row;      /* lane → row index, n_lanes long */
  guint16 *lane_colour;   /* lane → index into the theme's identity colours */
} IlLayout;

/* Orders lanes as people read them: cores, then per process its GIL, loop,
 * threads and tasks, each group under a heading. */
IlLayout *il_layout_new          (const IlTrace         *trace,
                                  const IlLayoutMetrics *metrics);
/* The same without core and GIL lanes and headings (their lane_row: IL_NO_LANE). */
IlLayout *il_layout_new_compact  (const IlTrace         *trace,
                                  const IlLayoutMetrics *metrics);
void      il_layout_free         (IlLayout              *layout);
/* Index of the row at y, or -1. */
int       il_layout_row_at       (const IlLayout        *layout,
                                  double                 y);

/* The lanes out of view in a window of `visible` px of the lanes scrolled
 * by scroll_y, as two tags in bands of tag_h px at its head and foot count
 * them; a lane's name is a line of name_h px at its middle. */
typedef struct {
  guint  above, below;    /* lanes the tags at the head and foot count */
  double above_end;       /* the lanes above this (px, layout) are counted */
  double below_start;     /* …and below this: clear both, bars and names */
} IlLanesOutOfView;

void      il_layout_out_of_view  (const IlLayout        *layout,
                                  double                 scroll_y,
                                  double                 visible,
                                  double                 tag_h,
                                  double                 name_h,
                                  IlLanesOutOfView      *out);

/* A few lines for people: what the lane does in the interval, since
 * when, for how long, and what caused it. */
char     *il_format_interval       (const IlTrace         *trace,
                                    const IlTraceInterval *interval);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlLayout, il_layout_free)

G_END_DECLS
