/* il-render.h — draws a trace's timeline with cairo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One drawing routine for the live widget, the compare view and the
 * PNG/SVG/PDF exporters (cairo and pango only, no GTK), so what a lecturer
 * puts on a slide is exactly what the window showed.
 *
 * Cost is bounded by pixels, not events: each lane is culled to the visible
 * range by binary search, intervals narrower than a pixel merge into one
 * column, and when a lane has many more events than pixels it is sampled
 * once per pixel column instead of walked (from a level of detail kept in
 * the render cache when there is one; for the nested slices of imported
 * traces, per depth and pixel column, see il-slice-lod.h).  A widget that
 * keeps an IlRenderCache between frames also gets its lanes (states,
 * slices, counters) from tiles drawn once (see il-render.c): a static view,
 * a pan and a playing run then cost little more than painting them.
 */
#pragma once

#include <cairo.h>
#include <pango/pangocairo.h>

#include "il-legend.h"
#include "il-lod.h"
#include "il-slice-lod.h"
#include "il-theme.h"
#include "il-trace.h"
#include "il-view.h"

G_BEGIN_DECLS

/* What a widget keeps between frames: the level of detail of dense lanes
 * and lanes drawn in tiles (see il-render.c).  Drawn for one trace,
 * theme, layout and zoom at a time; it notices when they change, and
 * il_render_cache_clear() lets go of the trace early. */
typedef struct _IlRenderCache IlRenderCache;

IlRenderCache *il_render_cache_new   (void);
void           il_render_cache_free  (IlRenderCache *cache);
void           il_render_cache_clear (IlRenderCache *cache);

/* The level of detail of imported slice lanes, to pick the slice drawn
 * under the pointer quickly (il_slice_pick). */
IlSliceLod    *il_render_cache_get_slice_lod (IlRenderCache *cache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlRenderCache, il_render_cache_free)

/* A tile of one lane, drawn once and kept while it stays right.  A widget
 * may hang its own data on it (a texture of the pixels): the data is
 * dropped, with `destroy`, when the tile is redrawn or forgotten. */
typedef struct _IlRenderTile IlRenderTile;

cairo_surface_t *il_render_tile_get_surface (IlRenderTile  *tile);
gpointer         il_render_tile_get_data    (IlRenderTile  *tile);
void             il_render_tile_set_data    (IlRenderTile  *tile,
                                             gpointer       data,
                                             GDestroyNotify destroy);

/* Puts a tile at (x, y), width × height px, under what the overlay gets. */
typedef void (*IlRenderTileFunc) (gpointer      data,
                                  IlRenderTile *tile,
                                  double        x,
                                  double        y,
                                  double        width,
                                  double        height);

typedef struct {
  const IlTrace  *trace;
  const IlLayout *layout;
  const IlTheme  *theme;
  IlViewport      viewport;     /* the plot area's time range and width */
  double          x, y;         /* top-left of the whole area (gutter + ruler + lanes) */
  double          height;       /* of the whole area; rows below it are culled */
  double          scroll_y;     /* px of lanes scrolled up out of view */
  gint64          now;          /* playhead: nothing after it exists yet (G_MAXINT64: all) */
  gboolean        show_playhead;
  gboolean        show_arrows;
  gboolean        show_ruler;
  const char     *ruler_label;  /* in the ruler's gutter, bold (the compare view's mode); NULL: "time" */
  double          ruler_label_width; /* px it may take, cut with an ellipsis; 0: the gutter's */
  guint32         hover_lane;   /* IL_NO_LANE for none */
  guint32         selected_lane;
  gint64          selected_start, selected_end; /* selected interval, or -1 */
  gsize           selected_event; /* the event that began it (a slice: its sub-row), or G_MAXSIZE */
  IlRenderCache  *cache;        /* kept between frames by a widget, or NULL */
  double          scale;        /* device pixels per pixel (HiDPI), for the cache's tiles */
  /* Optional, with a cache: tiles are handed to paint_tile instead of being
   * painted, and what goes on top of them (names in bars, arrows, the
   * selection, the playhead, lane labels, the ruler) is drawn on overlay.
   * The widget makes render nodes of them. */
  IlRenderTileFunc paint_tile;
  gpointer        paint_tile_data;
  cairo_t        *overlay;
} IlRenderParams;

void    il_render_params_init (IlRenderParams *params,
                               const IlTrace  *trace,
                               const IlLayout *layout,
                               const IlTheme  *theme);

/* Returns the number of primitives (rectangles, lines, marks) drawn, which
 * the draw benchmark reports. */
guint   il_render_timeline    (cairo_t              *cr,
                               const IlRenderParams *params);

/* The type (a fraction of the theme's) for a lane's name in a row `pitch`
 * px from the next, whose line is line_height px tall at `scale`: `scale`
 * while a third of the line at most overlaps the next (line spacing),
 * else as much smaller as it takes.  Never 0: every lane is named. */
double  il_render_label_scale (double                scale,
                               double                pitch,
                               double                line_height);

/* The gutter that shows every lane's name whole ("ThreadPoolExecutor-0_0"
 * was cut to "ThreadPo… cutor-0_0" in the theme's 170 px), between the
 * theme's width and max_width. */
double  il_render_gutter_width (const IlTrace        *trace,
                                const IlLayout       *layout,
                                const IlTheme        *theme,
                                double                max_width);

/* A layout for a legend's text in font_px type: for cr, or to measure only
 * (cr NULL) for a scratch surface (a layout does not keep its cairo_t).
 * Free with g_object_unref. */
PangoLayout *il_render_legend_text (cairo_t *cr,
                                    double   font_px);

/* Draws the legend's items (il_legend_update: only what the trace shows)
 * in one or more rows within width; returns its height, 0 with no items.
 * With cr NULL only measures. */
double  il_render_legend      (cairo_t              *cr,
                               const IlTheme        *theme,
                               double                x,
                               double                y,
                               double                width,
                               const IlLegend       *legend);

G_END_DECLS
