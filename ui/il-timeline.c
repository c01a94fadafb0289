/* il-timeline.c — the timeline widget: lanes of a session's trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Drawing is il_render_timeline() on a cairo node; this file is input:
 * zoom (Ctrl+scroll, pinch, keys), pan (drag, scroll, keys), hover and
 * tooltips, click to select, and following the playhead while playing.
 */
#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "il-timeline.h"

struct _IlTimeline
{
  GtkWidget   parent_instance;

  IlSession  *session;
  gulong      trace_changed_id, progressed_id, extent_id;

  IlLayout   *layout;
  IlRenderCache *cache;      /* level of detail and tiles, kept across frames */
  IlViewport  viewport;
  double      scroll_y;
  gboolean    follow;        /* keep the playhead in view */
  gboolean    user_moved;    /* the person zoomed or panned: do not refit */
  gboolean    presenter;
  gboolean    show_ruler;
  gboolean    full_height;   /* ask for every lane's height (stacked in a scroller) */
  gboolean    compact;       /* no cores, no headings, a small minimum height (il_layout_new_compact) */
  char       *ruler_label;   /* in the ruler's gutter instead of "time", or NULL */
  IlTheme     fitted;        /* presenter theme with lanes shrunk to fit the height */
  gboolean    use_fitted;
  int         fitted_for;    /* the widget height the layout was fitted to, or -1 */
  int         fitted_for_width;

  guint32     hover_lane;
  double      pointer_x;     /* last pointer x in widget coordinates, or -1 */
  gboolean    has_selection;
  IlTraceInterval selection;

  /* Drag state. */
  gint64      drag_start_time;
  double      drag_start_scroll;
  double      zoom_start_span;
};

G_DEFINE_FINAL_TYPE (IlTimeline, il_timeline, GTK_TYPE_WIDGET)

enum {
  VIEWPORT_CHANGED,
  SELECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const IlTheme *
il_timeline_get_theme (IlTimeline *self)
{
  const IlTheme *base;

  if (self->presenter)
    return self->use_fitted ? &self->fitted : il_theme_get (IL_THEME_PRESENTER);
  base = il_theme_get (adw_style_manager_get_dark (adw_style_manager_get_default ())
                       ? IL_THEME_DARK : IL_THEME_LIGHT);
  /* Grown lanes (fit_lanes), unless the style changed since. */
  return self->use_fitted && self->fitted.kind == base->kind ? &self->fitted : base;
}

static double
plot_width (IlTimeline *self)
{
  return MAX (10.0, gtk_widget_get_width (GTK_WIDGET (self)) - il_timeline_get_theme (self)->gutter_width);
}

static double
lanes_top (IlTimeline *self)
{
  return self->show_ruler ? il_timeline_get_theme (self)->ruler_height : 0;
}

static void
clamp_scroll (IlTimeline *self)
{
  double visible = gtk_widget_get_height (GTK_WIDGET (self)) - lanes_top (self);
  double max = self->layout != NULL ? MAX (0, self->layout->height - visible) : 0;

  self->scroll_y = CLAMP (self->scroll_y, 0, max);
}

static IlLayout *
new_layout (IlTimeline            *self,
            const IlTrace         *trace,
            const IlLayoutMetrics *metrics)
{
  return self->compact ? il_layout_new_compact (trace, metrics) : il_layout_new (trace, metrics);
}

/* On a projector the lanes fill the screen's height, with names large
 * enough for the back of a hall (il_theme_fit_presenter): lanes that do
 * not fit scroll, and a tag says how many are out of view.  On a narrow
 * screen the names' gutter gives up width to the lanes (at most 30 %, at
 * least 180 px). */
static void
fit_presenter_lanes (IlTimeline    *self,
                     const IlTrace *trace)
{
  const IlTheme *base = il_theme_get (IL_THEME_PRESENTER);
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  double avail;

  self->fitted = *base;
  if (width > 0)
    self->fitted.gutter_width = CLAMP (floor (width * 0.3), 180, base->gutter_width);
  self->use_fitted = self->fitted.gutter_width != base->gutter_width;
  if (self->compact)
    {
      /* A stacked mode's ruler: its name and the ticks, in 16 px type. */
      self->fitted.ruler_height = 26;
      self->use_fitted = TRUE;
    }
  avail = height - (self->show_ruler ? self->fitted.ruler_height : 0);
  if (height <= 0 || avail <= 0 || !il_theme_fit_presenter (&self->fitted, self->layout->height, avail))
    return;
  self->use_fitted = TRUE;
  il_layout_free (self->layout);
  self->layout = new_layout (self, trace, &self->fitted.metrics);
}

/* Outside presenter mode, a run of a few lanes left most of the timeline
 * empty with 22 px lanes and 12 px names, hard to read from the back of a
 * hall: lanes, headings and type grow to fill the height, up to half as
 * 0.8 times bigger (type to 15 px).  A run with many lanes scrolls as before. */
static void
grow_lanes (IlTimeline    *self,
            const IlTrace *trace)
{
  const IlTheme *base = il_timeline_get_theme (self);
  double avail = gtk_widget_get_height (GTK_WIDGET (self)) - (self->show_ruler ? base->ruler_height : 0);
  double s;

  if (avail <= 0 || self->layout->height <= 0 || self->layout->height * 1.1 >= avail)
    return;
  s = MIN (1.8, avail / self->layout->height);
  self->fitted = *base;
  self->fitted.metrics.lane_height = floor (base->metrics.lane_height * s);
  self->fitted.metrics.small_height = floor (base->metrics.small_height * s);
  self->fitted.metrics.heading_height = floor (base->metrics.heading_height * s);
  self->fitted.metrics.gap = floor (base->metrics.gap * s);
  self->fitted.font_size = MIN (15, floor (base->font_size * s));
  self->use_fitted = TRUE;
  il_layout_free (self->layout);
  self->layout = new_layout (self, trace, &self->fitted.metrics);
}

/* Lane names are cut in the middle where the gutter is too narrow for
 * them ("ThreadPo… cutor-0_0" in 170 px): on a wide window the gutter
 * grows to show them whole, up to a fifth of the width, the lanes being
 * what the window is for.  A trace of hundreds of lanes is scrolled, not
 * read name by name: it keeps the theme's gutter, unmeasured. */
static void
widen_gutter (IlTimeline    *self,
              const IlTrace *trace)
{
  const IlTheme *theme = il_timeline_get_theme (self);
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  double gutter;

  if (width <= 0 || self->layout->rows->len > 512)
    return;
  gutter = il_render_gutter_width (trace, self->layout, theme, floor (width * 0.2));
  if (gutter <= theme->gutter_width)
    return;
  if (!self->use_fitted)
    self->fitted = *theme;
  self->fitted.gutter_width = gutter;
  self->use_fitted = TRUE;
}

static void
ensure_layout (IlTimeline *self)
{
  IlTrace *trace = il_session_get_trace (self->session);

  if (trace == NULL)
    {
      g_clear_pointer (&self->layout, il_layout_free);
      return;
    }
  /* Lanes appear while a run plays (processes start, pools grow). */
  if (self->layout == NULL || self->layout->n_lanes != il_trace_get_n_lanes (trace)
      || (!self->full_height && (self->fitted_for != gtk_widget_get_height (GTK_WIDGET (self))
                                 || self->fitted_for_width != gtk_widget_get_width (GTK_WIDGET (self)))))
    {
      g_clear_pointer (&self->layout, il_layout_free);
      self->use_fitted = FALSE;
      self->layout = new_layout (self, trace, &il_timeline_get_theme (self)->metrics);
      if (self->presenter && !self->full_height)
        fit_presenter_lanes (self, trace);
      else if (!self->full_height)
        {
          grow_lanes (self, trace);
          widen_gutter (self, trace);
        }
      self->fitted_for = gtk_widget_get_height (GTK_WIDGET (self));
      self->fitted_for_width = gtk_widget_get_width (GTK_WIDGET (self));
      il_render_cache_clear (self->cache);
      gtk_widget_queue_resize (GTK_WIDGET (self));
    }
}

static void
viewport_changed (IlTimeline *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEWPORT_CHANGED], 0);
}

/* Panning and zooming out stop at the ends of the run: a little margin
 * either side, never a screenful of nothing. */
static void
clamp_time (IlTimeline *self)
{
  gint64 extent = il_session_get_extent (self->session, NULL);
  gint64 margin = self->viewport.span / 20;
  gint64 lo = -margin, hi = MAX (lo, extent + margin - self->viewport.span);

  self->viewport.start = CLAMP (self->viewport.start, lo, hi);
}

void
il_timeline_fit (IlTimeline *self)
{
  gint64 extent;

  g_return_if_fail (IL_IS_TIMELINE (self));
  extent = il_session_get_extent (self->session, NULL);
  self->viewport.width = plot_width (self);
  /* A 37 µs trace fills the view too (it took 4 % with a 1 ms floor). */
  il_viewport_fit (&self->viewport, 0, MAX (extent, IL_VIEWPORT_MIN_SPAN));
  self->user_moved = FALSE;
  self->follow = TRUE;
  viewport_changed (self);
}

void
il_timeline_zoom (IlTimeline *self,
                  double      factor)
{
  double anchor;
  double now_x;

  g_return_if_fail (IL_IS_TIMELINE (self));
  self->viewport.width = plot_width (self);
  /* Zoom around the playhead when it is in view, else the centre. */
  now_x = il_viewport_time_to_x (&self->viewport, il_session_get_now (self->session));
  anchor = now_x >= 0 && now_x <= self->viewport.width ? now_x : self->viewport.width / 2;
  il_viewport_zoom (&self->viewport, factor, anchor);
  clamp_time (self);
  self->user_moved = TRUE;
  viewport_changed (self);
}

void
il_timeline_pan (IlTimeline *self,
                 double      fraction)
{
  g_return_if_fail (IL_IS_TIMELINE (self));
  self->viewport.width = plot_width (self);
  il_viewport_pan (&self->viewport, fraction * self->viewport.width);
  clamp_time (self);
  self->user_moved = TRUE;
  self->follow = FALSE;
  viewport_changed (self);
}

const IlViewport *
il_timeline_get_viewport (IlTimeline *self)
{
  g_return_val_if_fail (IL_IS_TIMELINE (self), NULL);
  return &self->viewport;
}

void
il_timeline_set_time_range (IlTimeline *self,
                            gint64      start,
                            gint64      span)
{
  g_return_if_fail (IL_IS_TIMELINE (self));
  span = CLAMP (span, IL_VIEWPORT_MIN_SPAN, IL_VIEWPORT_MAX_SPAN);
  if (self->viewport.start == start && self->viewport.span == span)
    return;
  self->viewport.start = start;
  self->viewport.span = span;
  self->user_moved = TRUE;
  viewport_changed (self);
}

void
il_timeline_set_follow (IlTimeline *self,
                        gboolean    follow)
{
  self->follow = follow;
}

void
il_timeline_set_presenter (IlTimeline *self,
                           gboolean    presenter)
{
  g_return_if_fail (IL_IS_TIMELINE (self));
  if (self->presenter == presenter)
    return;
  self->presenter = presenter;
  g_clear_pointer (&self->layout, il_layout_free);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
il_timeline_set_full_height (IlTimeline *self,
                             gboolean    full_height)
{
  /* The compare view sets it on every label update: only a change resizes. */
  if (self->full_height == !!full_height)
    return;
  self->full_height = !!full_height;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

IlSession *
il_timeline_get_session (IlTimeline *self)
{
  g_return_val_if_fail (IL_IS_TIMELINE (self), NULL);
  return self->session;
}

/* The compare view on a projector: every mode's lanes in an equal share of
 * one screen, however little (the lanes shrink to fit, as in presenter
 * mode), without the cores and headings. */
void
il_timeline_set_compact (IlTimeline *self,
                         gboolean    compact)
{
  g_return_if_fail (IL_IS_TIMELINE (self));
  if (self->compact == compact)
    return;
  self->compact = compact;
  if (compact)
    gtk_widget_add_css_class (GTK_WIDGET (self), "compact");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "compact");
  g_clear_pointer (&self->layout, il_layout_free);
  il_render_cache_clear (self->cache);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
il_timeline_set_ruler_label (IlTimeline *self,
                             const char *label)
{
  g_return_if_fail (IL_IS_TIMELINE (self));
  if (g_strcmp0 (self->ruler_label, label) == 0)
    return;
  g_free (self->ruler_label);
  self->ruler_label = g_strdup (label);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
il_timeline_set_show_ruler (IlTimeline *self,
                            gboolean    show)
{
  self->show_ruler = show;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
il_timeline_get_selection (IlTimeline *self,
                           IlTraceInterval *hit)
{
  g_return_val_if_fail (IL_IS_TIMELINE (self), FALSE);
  if (self->has_selection && hit != NULL)
    *hit = self->selection;
  return self->has_selection;
}

void
il_timeline_select (IlTimeline            *self,
                    const IlTraceInterval *interval)
{
  g_return_if_fail (IL_IS_TIMELINE (self));
  g_return_if_fail (interval != NULL);
  self->selection = *interval;
  self->has_selection = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

static void lanes_out_of_view (IlTimeline       *self,
                               const IlTheme    *theme,
                               IlLanesOutOfView *out);

/* The lane and time under a point, or FALSE. */
static gboolean
lookup (IlTimeline *self,
        double      x,
        double      y,
        guint32    *lane,
        gint64     *t)
{
  const IlTheme *theme = il_timeline_get_theme (self);
  IlLanesOutOfView out;
  double ly;
  int row;

  ensure_layout (self);
  if (self->layout == NULL || y < lanes_top (self))
    return FALSE;
  ly = y - lanes_top (self) + self->scroll_y;
  /* The lanes the tags count are cleared: nothing there to point at. */
  lanes_out_of_view (self, theme, &out);
  if ((out.above > 0 && ly < out.above_end) || (out.below > 0 && ly >= out.below_start))
    return FALSE;
  row = il_layout_row_at (self->layout, ly);
  if (row < 0)
    return FALSE;
  *lane = g_array_index (self->layout->rows, IlRow, row).lane;
  *t = il_viewport_x_to_time (&self->viewport, x - theme->gutter_width);
  return *lane != IL_NO_LANE;
}

/* What is under (x, y): the lane's interval at that time, and for the
 * nested slices of an imported trace the slice drawn in the sub-row and
 * pixel column under the pointer (nothing on an empty sub-row, even below
 * a call), the same slice the renderer chose for the column. */
static gboolean
interval_under (IlTimeline      *self,
                IlTrace         *trace,
                double           x,
                double           y,
                IlTraceInterval *hit)
{
  gint64 upto = il_session_get_now (self->session);
  const IlTheme *theme = il_timeline_get_theme (self);
  guint32 lane;
  gint64 t;
  int r;
  const IlRow *row;
  guint levels, want;
  double col;

  if (!lookup (self, x, y, &lane, &t))
    return FALSE;
  if (!il_trace_lane_has_slices (trace, lane))
    return il_trace_interval_at (trace, lane, t, upto, hit);
  r = il_layout_row_at (self->layout, y - lanes_top (self) + self->scroll_y);
  row = &g_array_index (self->layout->rows, IlRow, r);
  /* The renderer's sub-rows: one per depth, at most 8. */
  levels = MAX (row->sub_rows, 1);
  want = (guint) CLAMP ((y - lanes_top (self) + self->scroll_y - row->y) / (row->height / levels), 0, levels - 1);
  col = floor (x - theme->gutter_width);
  return il_slice_pick (il_render_cache_get_slice_lod (self->cache), trace, lane, want,
                        il_viewport_x_to_time (&self->viewport, col),
                        il_viewport_x_to_time (&self->viewport, col + 1), upto, hit);
}

char *
il_timeline_describe_at (IlTimeline *self,
                         double      x,
                         double      y)
{
  IlTrace *trace = il_session_get_trace (self->session);
  guint32 lane;
  gint64 t;
  IlTraceInterval hit;

  if (trace == NULL || !lookup (self, x, y, &lane, &t))
    return NULL;
  if (x < il_timeline_get_theme (self)->gutter_width)
    {
      const IlLane *l = il_trace_get_lane (trace, lane);
      return g_strdup_printf ("%s (%s)", l->name, il_lane_kind_to_string (l->kind));
    }
  if (!interval_under (self, trace, x, y, &hit))
    return NULL;
  return il_format_interval (trace, &hit);
}

gboolean
il_timeline_lane_point (IlTimeline *self,
                        guint32     lane,
                        gint64      t,
                        double     *x,
                        double     *y)
{
  const IlRow *row;

  ensure_layout (self);
  if (self->layout == NULL || lane >= self->layout->n_lanes || self->layout->lane_row[lane] == IL_NO_LANE)
    return FALSE;
  row = &g_array_index (self->layout->rows, IlRow, self->layout->lane_row[lane]);
  *x = il_timeline_get_theme (self)->gutter_width + il_viewport_time_to_x (&self->viewport, t);
  *y = lanes_top (self) + row->y - self->scroll_y + row->height / 2;
  return TRUE;
}

/* --------------------------------------------------------------- session */

static void
on_trace_changed (IlTimeline *self)
{
  g_clear_pointer (&self->layout, il_layout_free);
  il_render_cache_clear (self->cache);
  self->has_selection = FALSE;
  ensure_layout (self);
  if (!self->user_moved)
    il_timeline_fit (self);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_extent_known (IlTimeline *self)
{
  if (!self->user_moved)
    il_timeline_fit (self);
}

static void
on_progressed (IlTimeline *self)
{
  if (self->follow && il_session_get_playing (self->session))
    {
      gboolean known;
      gint64 extent = il_session_get_extent (self->session, &known);

      self->viewport.width = plot_width (self);
      if (il_viewport_follow (&self->viewport, il_session_get_now (self->session)))
        {
          /* Never page past the end of a run whose length is known. */
          gint64 margin = self->viewport.span / 40;
          if (known && self->viewport.start + self->viewport.span > extent + margin)
            self->viewport.start = MAX (extent + margin - self->viewport.span, -margin);
          g_signal_emit (self, signals[VIEWPORT_CHANGED], 0);
        }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ------------------------------------------------------------------ input */

static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           IlTimeline               *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  /* The event's position is the surface's, not the widget's: zoom around
   * where the motion controller last saw the pointer. */
  double x = self->pointer_x >= 0 ? self->pointer_x : gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;

  self->viewport.width = plot_width (self);

  if (mods & GDK_CONTROL_MASK)
    {
      double anchor = CLAMP (x - il_timeline_get_theme (self)->gutter_width, 0, self->viewport.width);
      il_viewport_zoom (&self->viewport, pow (1.15, dy), anchor);
      clamp_time (self);
      self->user_moved = TRUE;
      viewport_changed (self);
      return TRUE;
    }
  if (mods & GDK_SHIFT_MASK)
    {
      dx += dy;
      dy = 0;
    }
  if (dx != 0)
    {
      il_viewport_pan (&self->viewport, dx * 30);
      clamp_time (self);
      self->user_moved = TRUE;
      self->follow = FALSE;
      viewport_changed (self);
    }
  if (dy != 0)
    {
      double before = self->scroll_y;
      self->scroll_y += dy * 40;
      clamp_scroll (self);
      if (self->scroll_y == before)
        {
          /* Nothing to scroll vertically: scrolling moves through time. */
          il_viewport_pan (&self->viewport, dy * 30);
          clamp_time (self);
          self->user_moved = TRUE;
          self->follow = FALSE;
          viewport_changed (self);
        }
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *gesture,
               double          x,
               double          y,
               IlTimeline     *self)
{
  self->drag_start_time = self->viewport.start;
  self->drag_start_scroll = self->scroll_y;
}

static void
on_drag_update (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                IlTimeline     *self)
{
  if (fabs (dx) < 3 && fabs (dy) < 3)
    return;
  self->viewport.width = plot_width (self);
  self->viewport.start = self->drag_start_time;
  il_viewport_pan (&self->viewport, -dx);
  clamp_time (self);
  self->scroll_y = self->drag_start_scroll - dy;
  clamp_scroll (self);
  self->user_moved = TRUE;
  self->follow = FALSE;
  viewport_changed (self);
}

static void
on_zoom_begin (GtkGesture       *gesture,
               GdkEventSequence *sequence,
               IlTimeline       *self)
{
  self->zoom_start_span = (double) self->viewport.span;
}

static void
on_zoom_changed (GtkGestureZoom *gesture,
                 double          scale,
                 IlTimeline     *self)
{
  double cx, cy;

  if (scale <= 0)
    return;
  self->viewport.width = plot_width (self);
  gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy);
  cx = CLAMP (cx - il_timeline_get_theme (self)->gutter_width, 0, self->viewport.width);
  il_viewport_zoom (&self->viewport, self->zoom_start_span / scale / (double) self->viewport.span, cx);
  self->user_moved = TRUE;
  viewport_changed (self);
}

static void
on_click (GtkGestureClick *gesture,
          int              n_press,
          double           x,
          double           y,
          IlTimeline      *self)
{
  IlTrace *trace = il_session_get_trace (self->session);
  IlTraceInterval hit;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (trace == NULL)
    return;
  if (y < lanes_top (self) && x > il_timeline_get_theme (self)->gutter_width)
    {
      /* A click on the ruler moves the playhead there. */
      il_session_seek (self->session, il_viewport_x_to_time (&self->viewport, x - il_timeline_get_theme (self)->gutter_width));
      return;
    }
  if (interval_under (self, trace, x, y, &hit))
    {
      self->selection = hit;
      self->has_selection = TRUE;
    }
  else
    self->has_selection = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

static void
on_motion (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           IlTimeline               *self)
{
  guint32 lane = IL_NO_LANE;
  gint64 t;

  self->pointer_x = x;
  if (!lookup (self, x, y, &lane, &t))
    lane = IL_NO_LANE;
  if (lane != self->hover_lane)
    {
      self->hover_lane = lane;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
on_leave (GtkEventControllerMotion *controller,
          IlTimeline               *self)
{
  self->hover_lane = IL_NO_LANE;
  self->pointer_x = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_query_tooltip (GtkWidget  *widget,
                  int         x,
                  int         y,
                  gboolean    keyboard,
                  GtkTooltip *tooltip,
                  gpointer    data)
{
  g_autofree char *text = il_timeline_describe_at (IL_TIMELINE (widget), x, y);

  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
action_zoom (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  IlTimeline *self = IL_TIMELINE (widget);

  if (g_str_equal (name, "timeline.zoom-in"))
    il_timeline_zoom (self, 1 / 1.5);
  else if (g_str_equal (name, "timeline.zoom-out"))
    il_timeline_zoom (self, 1.5);
  else
    il_timeline_fit (self);
}

static void
action_pan (GtkWidget  *widget,
            const char *name,
            GVariant   *param)
{
  IlTimeline *self = IL_TIMELINE (widget);

  if (g_str_equal (name, "timeline.pan-left"))
    il_timeline_pan (self, -0.1);
  else if (g_str_equal (name, "timeline.pan-right"))
    il_timeline_pan (self, 0.1);
  else
    {
      self->scroll_y += g_str_equal (name, "timeline.scroll-up") ? -40 : 40;
      clamp_scroll (self);
      gtk_widget_queue_draw (widget);
    }
}

/* ---------------------------------------------------------------- drawing */

/* Each tile of a lane becomes a texture node, made once per drawing
 * of the tile and kept on it: the renderer uploads a tile when it changes
 * and composites the rest.  Under them a cairo node with the backgrounds,
 * over them one with names, arrows, the playhead and the ruler. */
static void
paint_tile (gpointer      data,
            IlRenderTile *tile,
            double        x,
            double        y,
            double        width,
            double        height)
{
  GPtrArray *nodes = data;
  GdkTexture *texture = il_render_tile_get_data (tile);

  if (texture == NULL)
    {
      cairo_surface_t *surface = il_render_tile_get_surface (tile);
      int h = cairo_image_surface_get_height (surface);
      gsize stride = cairo_image_surface_get_stride (surface);
      g_autoptr(GBytes) bytes = NULL;

      cairo_surface_flush (surface);
      bytes = g_bytes_new (cairo_image_surface_get_data (surface), stride * h);
      /* GDK_MEMORY_DEFAULT is cairo's ARGB32 layout. */
      texture = gdk_memory_texture_new (cairo_image_surface_get_width (surface), h,
                                        GDK_MEMORY_DEFAULT, bytes, stride);
      il_render_tile_set_data (tile, texture, g_object_unref);
    }
  g_ptr_array_add (nodes, gsk_texture_node_new (texture, &GRAPHENE_RECT_INIT (x, y, width, height)));
}

/* A stacked mode on a projector has room for two or three lanes at
 * 1024×600: a tag over them would hide every name.  Its tag goes in the
 * ruler's row instead, after the mode's name, and covers no lane. */
static gboolean
tag_in_ruler (IlTimeline *self)
{
  return self->compact && self->show_ruler && self->ruler_label != NULL;
}

static PangoLayout *
tag_layout (GtkWidget     *widget,
            const IlTheme *theme,
            const char    *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  PangoFontDescription *font = pango_font_description_from_string ("Cantarell, Inter, sans-serif bold");

  pango_font_description_set_absolute_size (font, theme->font_size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  return layout;
}

/* A line of the tags' type, which is the names' type too (the same
 * family and size; bold does not make it taller). */
static double
tag_line_height (IlTimeline    *self,
                 const IlTheme *theme)
{
  g_autoptr(PangoLayout) layout = tag_layout (GTK_WIDGET (self), theme, "↓ 0 more lanes");
  int tw, th;

  pango_layout_get_pixel_size (layout, &tw, &th);
  return th;
}

/* The band a tag takes at the head or foot of the lanes: its box (a line
 * and 2 px above and below) 4 px in from either edge of the band. */
#define TAG_MARGIN 4

static double
more_lanes_tag_height (IlTimeline    *self,
                       const IlTheme *theme,
                       double         line_h)
{
  return tag_in_ruler (self) ? 0 : line_h + 4 + 2 * TAG_MARGIN;
}

static void
lanes_out_of_view (IlTimeline       *self,
                   const IlTheme    *theme,
                   IlLanesOutOfView *out)
{
  int h = gtk_widget_get_height (GTK_WIDGET (self));

  memset (out, 0, sizeof *out);
  if (self->layout != NULL && !self->full_height && self->layout->height > h - lanes_top (self) + 1)
    {
      double line_h = tag_line_height (self, theme);
      il_layout_out_of_view (self->layout, self->scroll_y, h - lanes_top (self),
                             more_lanes_tag_height (self, theme, line_h), line_h, out);
    }
}

IlSliceLod *
il_timeline_get_slice_lod (IlTimeline *self)
{
  g_return_val_if_fail (IL_IS_TIMELINE (self), NULL);
  return il_render_cache_get_slice_lod (self->cache);
}

void
il_timeline_get_lanes_out_of_view (IlTimeline *self,
                                   guint      *above,
                                   guint      *below)
{
  IlLanesOutOfView out;

  g_return_if_fail (IL_IS_TIMELINE (self));
  ensure_layout (self);
  lanes_out_of_view (self, il_timeline_get_theme (self), &out);
  *above = out.above;
  *below = out.below;
}

/* The ruler's tag: "↓ 3 more" after the mode's name, or "↓ 3" where the
 * name leaves no room for more; returns the width the name may take. */
static PangoLayout *
ruler_tag (IlTimeline    *self,
           const IlTheme *theme,
           guint          below,
           double        *label_width)
{
  g_autofree char *text = g_strdup_printf ("↓ %u more", below);
  PangoLayout *name = tag_layout (GTK_WIDGET (self), theme, self->ruler_label);
  PangoLayout *tag = tag_layout (GTK_WIDGET (self), theme, text);
  int nw, tw, h;

  pango_layout_get_pixel_size (name, &nw, &h);
  pango_layout_get_pixel_size (tag, &tw, &h);
  if (8 + nw + 8 + tw + 12 > theme->gutter_width - 4)
    {
      g_free (text);
      text = g_strdup_printf ("↓ %u", below);
      pango_layout_set_text (tag, text, -1);
      pango_layout_get_pixel_size (tag, &tw, &h);
    }
  g_object_unref (name);
  *label_width = MAX (20, theme->gutter_width - 4 - tw - 12 - 8 - 8);
  return tag;
}

/* A run of twenty requests shows ten lanes on a 1024×600 screen (five in
 * a stacked mode on a projector, where names stay large), and overlay
 * scrollbars show only while the pointer moves: a tag at the foot (and
 * head) of the names says how many lanes are out of view and which way to
 * scroll. */
static void
draw_more_lanes (IlTimeline             *self,
                 cairo_t                *cr,
                 const IlTheme          *theme,
                 double                  width,
                 double                  height,
                 const IlLanesOutOfView *out,
                 PangoLayout            *ruler)
{
  double top = lanes_top (self);

  /* The lanes the tags count are cleared, names and bars: no half name
   * peeks out beside a tag, and no bars show without a name to say whose
   * they are (they used to, above the foot's tag on a 1024×600 screen). */
  il_theme_set_source (cr, &theme->background);
  if (out->above > 0)
    cairo_rectangle (cr, 0, top, width, out->above_end - self->scroll_y);
  if (out->below > 0)
    cairo_rectangle (cr, 0, top + out->below_start - self->scroll_y, width,
                     height - (top + out->below_start - self->scroll_y));
  cairo_save (cr);
  cairo_fill_preserve (cr);
  cairo_clip (cr);
  /* The playhead runs on through them, as through every lane. */
  {
    IlTrace *trace = il_session_get_trace (self->session);
    gint64 now = MIN (il_session_get_now (self->session), trace->end_time);
    double x = theme->gutter_width + il_viewport_time_to_x (&self->viewport, now);

    if (x >= theme->gutter_width && x <= width)
      {
        il_theme_set_source (cr, &theme->playhead);
        cairo_set_line_width (cr, 2 * theme->line_width);
        cairo_move_to (cr, x, top);
        cairo_line_to (cr, x, height);
        cairo_stroke (cr);
      }
  }
  cairo_restore (cr);
  for (int k = 0; k < 2; k++)
    {
      guint n = k == 0 ? out->above : out->below;
      g_autofree char *text = NULL;
      g_autoptr(PangoLayout) layout = NULL;
      int tw, th;
      double x, y;

      if (n == 0)
        continue;
      if (k == 1 && ruler != NULL)
        {
          layout = g_object_ref (ruler);
          pango_layout_get_pixel_size (layout, &tw, &th);
          x = theme->gutter_width - 4 - tw - 12;
          y = (theme->ruler_height - th) / 2;
        }
      else
        {
          text = g_strdup_printf (k == 0 ? "↑ %u more lane%s" : "↓ %u more lane%s", n, n == 1 ? "" : "s");
          layout = tag_layout (GTK_WIDGET (self), theme, text);
          pango_layout_get_pixel_size (layout, &tw, &th);
          x = 6;
          y = k == 0 ? top + TAG_MARGIN + 2 : height - TAG_MARGIN - 2 - th;
        }
      il_theme_set_source (cr, &theme->foreground);
      cairo_rectangle (cr, x, y - 2, tw + 12, th + 4);
      cairo_fill (cr);
      il_theme_set_source (cr, &theme->background);
      cairo_move_to (cr, x + 6, y);
      pango_cairo_show_layout (cr, layout);
    }
}

static void
il_timeline_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  IlTimeline *self = IL_TIMELINE (widget);
  IlTrace *trace = il_session_get_trace (self->session);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  const IlTheme *theme = il_timeline_get_theme (self);
  g_autoptr(GPtrArray) tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) gsk_render_node_unref);
  cairo_surface_t *overlay;
  IlRenderParams p;
  IlLanesOutOfView out;
  g_autoptr(PangoLayout) ruler = NULL;
  cairo_t *cr;
  double top;

  if (trace == NULL || w <= theme->gutter_width || h <= 0)
    return;
  ensure_layout (self);
  clamp_scroll (self);
  lanes_out_of_view (self, theme, &out);

  il_render_params_init (&p, trace, self->layout, theme);
  if (out.below > 0 && tag_in_ruler (self))
    ruler = ruler_tag (self, theme, out.below, &p.ruler_label_width);
  self->viewport.width = plot_width (self);
  p.viewport = self->viewport;
  p.height = h;
  p.scroll_y = self->scroll_y;
  p.now = il_session_get_now (self->session);
  p.show_playhead = TRUE;
  p.show_ruler = self->show_ruler;
  p.ruler_label = self->ruler_label;
  p.hover_lane = self->hover_lane;
  p.cache = self->cache;
  p.scale = gtk_widget_get_scale_factor (widget);
  if (self->has_selection)
    {
      p.selected_lane = self->selection.lane;
      p.selected_start = self->selection.start;
      p.selected_end = self->selection.end;
      p.selected_event = self->selection.event;
    }
  overlay = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, &(cairo_rectangle_t) { 0, 0, w, h });
  p.overlay = cairo_create (overlay);
  p.paint_tile = paint_tile;
  p.paint_tile_data = tiles;

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  il_render_timeline (cr, &p);
  cairo_destroy (cr);
  cairo_destroy (p.overlay);

  if (tiles->len > 0)
    {
      top = self->show_ruler ? theme->ruler_height : 0;
      gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (theme->gutter_width, top, p.viewport.width, h - top));
      for (guint i = 0; i < tiles->len; i++)
        gtk_snapshot_append_node (snapshot, g_ptr_array_index (tiles, i));
      gtk_snapshot_pop (snapshot);

      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      cairo_set_source_surface (cr, overlay, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
    }
  cairo_surface_destroy (overlay);
  if (out.above > 0 || out.below > 0)
    {
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      draw_more_lanes (self, cr, theme, w, h, &out, ruler);
      cairo_destroy (cr);
    }
}

static void
il_timeline_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  IlTimeline *self = IL_TIMELINE (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) il_timeline_get_theme (self)->gutter_width + 200;
      *natural = 1000;
    }
  else
    {
      ensure_layout (self);
      *natural = (int) (lanes_top (self) + (self->layout != NULL ? self->layout->height : 200));
      *minimum = self->full_height ? *natural : MIN (120, *natural);
      /* Stacked modes share the height equally (vexpand), from little. */
      if (self->compact)
        *minimum = *natural = MIN (*natural, (int) lanes_top (self) + 24);
    }
}

static void
on_style_changed (IlTimeline *self)
{
  g_clear_pointer (&self->layout, il_layout_free);
  il_render_cache_clear (self->cache);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
il_timeline_dispose (GObject *object)
{
  IlTimeline *self = IL_TIMELINE (object);

  if (self->session != NULL)
    {
      g_clear_signal_handler (&self->trace_changed_id, self->session);
      g_clear_signal_handler (&self->progressed_id, self->session);
      g_clear_signal_handler (&self->extent_id, self->session);
    }
  g_clear_object (&self->session);
  g_clear_pointer (&self->layout, il_layout_free);
  g_clear_pointer (&self->cache, il_render_cache_free);
  g_clear_pointer (&self->ruler_label, g_free);
  G_OBJECT_CLASS (il_timeline_parent_class)->dispose (object);
}

static void
il_timeline_class_init (IlTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = il_timeline_dispose;
  widget_class->snapshot = il_timeline_snapshot;
  widget_class->measure = il_timeline_measure;

  signals[VIEWPORT_CHANGED] = g_signal_new ("viewport-changed", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "timeline.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "timeline.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "timeline.zoom-fit", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "timeline.pan-left", NULL, action_pan);
  gtk_widget_class_install_action (widget_class, "timeline.pan-right", NULL, action_pan);
  gtk_widget_class_install_action (widget_class, "timeline.scroll-up", NULL, action_pan);
  gtk_widget_class_install_action (widget_class, "timeline.scroll-down", NULL, action_pan);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "timeline.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "timeline.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "timeline.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "timeline.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "timeline.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, 0, "timeline.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "timeline.pan-left", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "timeline.pan-right", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, 0, "timeline.scroll-up", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, 0, "timeline.scroll-down", NULL);

  gtk_widget_class_set_css_name (widget_class, "timeline");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
il_timeline_init (IlTimeline *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->hover_lane = IL_NO_LANE;
  self->cache = il_render_cache_new ();
  self->follow = TRUE;
  self->pointer_x = -1;
  self->show_ruler = TRUE;
  self->viewport.span = IL_MSEC (100);
  self->viewport.width = 800;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect (gesture, "begin", G_CALLBACK (on_zoom_begin), self);
  g_signal_connect (gesture, "scale-changed", G_CALLBACK (on_zoom_changed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "released", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (on_style_changed), self, G_CONNECT_SWAPPED);
}

GtkWidget *
il_timeline_new (IlSession *session)
{
  IlTimeline *self;

  g_return_val_if_fail (IL_IS_SESSION (session), NULL);

  self = g_object_new (IL_TYPE_TIMELINE, NULL);
  self->session = g_object_ref (session);
  self->trace_changed_id = g_signal_connect_swapped (session, "trace-changed", G_CALLBACK (on_trace_changed), self);
  self->progressed_id = g_signal_connect_swapped (session, "progressed", G_CALLBACK (on_progressed), self);
  self->extent_id = g_signal_connect_swapped (session, "extent-known", G_CALLBACK (on_extent_known), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Timeline of cores, the GIL, the event loop and every task", -1);
  if (il_session_get_trace (session) != NULL)
    on_trace_changed (self);
  return GTK_WIDGET (self);
}
