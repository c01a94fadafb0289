/* test-view.c — view maths, layout, hit-testing and drawing, without a display
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "test-util.h"
#include "il-engine.h"
#include "il-export.h"
#include "il-queues.h"
#include "il-render.h"
#include "il-render-queues.h"
#include "il-view.h"

static void
test_time_to_x (void)
{
  IlViewport vp = { .start = IL_MSEC (10), .span = IL_MSEC (100), .width = 1000 };

  g_assert_cmpfloat (il_viewport_time_to_x (&vp, IL_MSEC (10)), ==, 0);
  g_assert_cmpfloat (il_viewport_time_to_x (&vp, IL_MSEC (110)), ==, 1000);
  g_assert_cmpfloat (il_viewport_time_to_x (&vp, IL_MSEC (60)), ==, 500);
  g_assert_cmpint (il_viewport_x_to_time (&vp, 500), ==, IL_MSEC (60));
  g_assert_cmpint (il_viewport_x_to_time (&vp, 0.5), ==, IL_MSEC (10) + IL_USEC (50));
  /* Round trip at every pixel. */
  for (int x = 0; x <= 1000; x++)
    g_assert_cmpfloat (fabs (il_viewport_time_to_x (&vp, il_viewport_x_to_time (&vp, x)) - x), <, 1e-6);
}

static void
test_zoom_keeps_anchor (void)
{
  IlViewport vp = { .start = 0, .span = IL_MSEC (100), .width = 1000 };
  gint64 under = il_viewport_x_to_time (&vp, 250);

  il_viewport_zoom (&vp, 0.5, 250);
  g_assert_cmpint (vp.span, ==, IL_MSEC (50));
  g_assert_cmpint (il_viewport_x_to_time (&vp, 250), ==, under);

  il_viewport_zoom (&vp, 4, 900);
  g_assert_cmpint (vp.span, ==, IL_MSEC (200));

  /* Clamped at both ends. */
  for (int i = 0; i < 100; i++)
    il_viewport_zoom (&vp, 0.1, 0);
  g_assert_cmpint (vp.span, ==, IL_VIEWPORT_MIN_SPAN);
  for (int i = 0; i < 100; i++)
    il_viewport_zoom (&vp, 10, 0);
  g_assert_cmpint (vp.span, ==, IL_VIEWPORT_MAX_SPAN);
}

static void
test_pan_fit_follow (void)
{
  IlViewport vp = { .start = 0, .span = IL_MSEC (100), .width = 1000 };

  il_viewport_pan (&vp, 100);
  g_assert_cmpint (vp.start, ==, IL_MSEC (10));
  il_viewport_pan (&vp, -200);
  g_assert_cmpint (vp.start, ==, -IL_MSEC (10));

  il_viewport_fit (&vp, 0, IL_MSEC (400));
  g_assert_cmpint (vp.start, ==, -IL_MSEC (10));
  g_assert_cmpint (vp.span, ==, IL_MSEC (420));

  vp.start = 0;
  vp.span = IL_MSEC (100);
  g_assert_false (il_viewport_follow (&vp, IL_MSEC (50)));
  g_assert_false (il_viewport_follow (&vp, IL_MSEC (90)));
  g_assert_true (il_viewport_follow (&vp, IL_MSEC (95)));
  g_assert_cmpint (vp.start, ==, IL_MSEC (85));
  g_assert_true (il_viewport_follow (&vp, IL_MSEC (10)));
  g_assert_cmpint (vp.start, ==, 0);
}

static void
test_ticks (void)
{
  struct { gint64 span; double width; double min_px; gint64 step; } cases[] = {
    { IL_MSEC (100), 1000, 80, IL_MSEC (10) },
    { IL_MSEC (100), 1000, 100, IL_MSEC (10) },
    { IL_MSEC (100), 1000, 101, IL_MSEC (20) },
    { IL_MSEC (100), 1000, 300, IL_MSEC (50) },
    { IL_MSEC (100), 1000, 600, IL_MSEC (100) },
    { IL_USEC (30), 1200, 100, IL_USEC (5) },
    { 3 * IL_NSEC_PER_SEC, 600, 100, IL_MSEC (500) },
    { 1000, 1000, 80, 100 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      IlViewport vp = { .start = 0, .span = cases[i].span, .width = cases[i].width };
      g_assert_cmpint (il_ticks_choose_step (&vp, cases[i].min_px), ==, cases[i].step);
    }
}

/* The ruler's labels, in the ruler's type, on plots from the presenter's
 * 1024 px screen beside its side panel (about 330 px) to a wide monitor:
 * a fitted run always shows at least two times, and never two labels
 * over each other. */
static void
test_ticks_label_spacing (void)
{
  static const double fonts[] = { 12, 22 };
  static const gint64 ends[] = { IL_MSEC (100), IL_MSEC (215), IL_MSEC (402), IL_MSEC (491),
                                 IL_USEC (730), 3 * IL_NSEC_PER_SEC, IL_MSEC (1250) };
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 8, 8);
  cairo_t *cr = cairo_create (surface);
  PangoLayout *layout = pango_cairo_create_layout (cr);

  for (guint f = 0; f < G_N_ELEMENTS (fonts); f++)
    {
      PangoFontDescription *font = pango_font_description_from_string ("Cantarell, Inter, sans-serif");

      pango_font_description_set_absolute_size (font, fonts[f] * 0.9 * PANGO_SCALE);
      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
      for (double width = 300; width <= 2400; width += 30)
        for (guint e = 0; e < G_N_ELEMENTS (ends); e++)
          {
            IlViewport vp = { .start = 0, .span = 1, .width = width };
            gint64 step;
            guint n_labels = 0;
            double last_end = -G_MAXDOUBLE;

            il_viewport_fit (&vp, 0, ends[e]);
            step = il_ticks_choose_step (&vp, il_ticks_label_spacing (fonts[f], width));
            for (gint64 t = MAX (0, vp.start / step * step); t <= il_viewport_x_to_time (&vp, width); t += step)
              {
                g_autofree char *label = il_format_tick (t, step);
                double x = il_viewport_time_to_x (&vp, t);
                int tw, th;

                double lx;

                if (x < 0)
                  continue;
                pango_layout_set_text (layout, label, -1);
                pango_layout_get_pixel_size (layout, &tw, &th);
                lx = il_ticks_label_x (x, tw, width, last_end);
                if (lx < 0)
                  continue;   /* the renderer leaves it out */
                /* Whole, clear of the one before, beside its tick. */
                g_assert_cmpfloat (lx, >=, last_end + 6);
                g_assert_cmpfloat (lx + tw, <=, width);
                g_assert_true (lx == x + 3 || lx + tw == x - 3);
                last_end = lx + tw;
                n_labels++;
              }
            if (n_labels < 2)
              g_test_message ("%g px type, %g px, a run of %" G_GINT64_FORMAT " ns: %u labels",
                              fonts[f], width, ends[e], n_labels);
            g_assert_cmpuint (n_labels, >=, 2);
            /* Lesson 3 (100.6 ms) beside the presenter's side panel at
             * 1024 px: "0", "50 ms" and, at the edge, "100 ms". */
            if (fonts[f] == 22 && width == 330 && ends[e] == IL_MSEC (100))
              g_assert_cmpuint (n_labels, ==, 3);
          }
    }
  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
check_tick (gint64 t, gint64 step, const char *expected)
{
  g_autofree char *label = il_format_tick (t, step);
  g_assert_cmpstr (label, ==, expected);
}

static void
test_tick_labels (void)
{
  check_tick (0, IL_MSEC (10), "0");
  check_tick (IL_MSEC (50), IL_MSEC (10), "50 ms");
  check_tick (IL_MSEC (1500), IL_MSEC (500), "1.5 s");
  check_tick (IL_NSEC_PER_SEC * 2, IL_NSEC_PER_SEC, "2 s");
  check_tick (IL_USEC (250), IL_USEC (50), "250 µs");
  check_tick (IL_USEC (1500), IL_USEC (500), "1.5 ms");
  check_tick (IL_USEC (1250), IL_USEC (250), "1.25 ms");
  check_tick (IL_MSEC (2) + IL_USEC (500), IL_USEC (500), "2.5 ms");
  /* Large times with tiny steps switch to the larger unit with decimals. */
  check_tick (IL_NSEC_PER_SEC * 3 + IL_USEC (2), IL_USEC (2), "3000.002 ms");
  check_tick (500, 100, "500 ns");
}

static void
test_durations (void)
{
  struct { gint64 ns; const char *text; } cases[] = {
    { 730, "730 ns" },
    { IL_USEC (12.4), "12.4 µs" },
    { IL_MSEC (5), "5.000 ms" },
    { IL_MSEC (1204), "1.204 s" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = il_format_duration (cases[i].ns);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

/* A small trace by hand: two cores, one process with a GIL, two threads. */
static IlTrace *
hand_trace (guint32 *core0, guint32 *gil, guint32 *a, guint32 *b)
{
  IlTrace *t = il_trace_new ();
  guint32 p;

  *core0 = il_trace_add_lane (t, IL_LANE_CORE, "Core 0", IL_NO_LANE, 0);
  il_trace_add_lane (t, IL_LANE_CORE, "Core 1", IL_NO_LANE, 1);
  p = il_trace_add_lane (t, IL_LANE_PROCESS, "MainProcess", IL_NO_LANE, 0);
  *a = il_trace_add_lane (t, IL_LANE_TASK, "a", p, 0);
  *gil = il_trace_add_lane (t, IL_LANE_GIL, "GIL", p, 0);
  *b = il_trace_add_lane (t, IL_LANE_TASK, "b", p, 1);

  il_trace_append (t, 0, *a, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_START, IL_NO_LANE);
  il_trace_append (t, 0, *b, IL_EVENT_STATE, IL_STATE_WAIT_GIL, IL_CAUSE_START, IL_NO_LANE);
  il_trace_append (t, 0, *gil, IL_EVENT_GIL_TAKE, 0, 0, *a);
  il_trace_append (t, 0, *core0, IL_EVENT_CORE, 0, 0, *a);
  il_trace_append (t, IL_MSEC (5), *gil, IL_EVENT_GIL_REQUEST, 0, 0, *b);
  il_trace_append (t, IL_MSEC (6), *gil, IL_EVENT_GIL_DROP, IL_GIL_DROP_FORCED, 0, *a);
  il_trace_append (t, IL_MSEC (6), *a, IL_EVENT_STATE, IL_STATE_WAIT_GIL, IL_CAUSE_NONE, IL_NO_LANE);
  il_trace_append (t, IL_MSEC (6), *gil, IL_EVENT_GIL_TAKE, 1, 0, *b);
  il_trace_append (t, IL_MSEC (6), *b, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_GIL_HANDOFF, *a);
  il_trace_append (t, IL_MSEC (6), *core0, IL_EVENT_CORE, 0, 0, *b);
  il_trace_append (t, IL_MSEC (10), *b, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_RETURNED, IL_NO_LANE);
  il_trace_append (t, IL_MSEC (10), *gil, IL_EVENT_GIL_DROP, IL_GIL_DROP_VOLUNTARY, 0, *b);
  il_trace_append (t, IL_MSEC (10), *core0, IL_EVENT_CORE, 0, 0, IL_NO_LANE);
  il_trace_set_end_time (t, IL_MSEC (12));
  return t;
}

static const IlLayoutMetrics metrics = { .lane_height = 20, .small_height = 10, .heading_height = 8, .gap = 2 };

/* The compare view's compact layout (presenter mode): the task lanes
 * alone, unindented, in the same colours; cores and GIL not laid out. */
static void
test_layout_compact (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);
  g_autoptr(IlLayout) full = il_layout_new (t, &metrics);
  g_autoptr(IlLayout) layout = il_layout_new_compact (t, &metrics);
  const IlRow *rows = (const IlRow *) (gpointer) layout->rows->data;

  g_assert_cmpuint (layout->rows->len, ==, 2);
  g_assert_cmpuint (rows[0].lane, ==, a);
  g_assert_cmpuint (rows[1].lane, ==, b);
  g_assert_cmpuint (rows[0].depth, ==, 0);
  g_assert_cmpuint (layout->lane_row[core0], ==, IL_NO_LANE);
  g_assert_cmpuint (layout->lane_row[gil], ==, IL_NO_LANE);
  g_assert_cmpfloat (layout->height, ==, 2 * (20 + 2));
  g_assert_cmpuint (layout->lane_colour[a], ==, full->lane_colour[a]);
  g_assert_cmpuint (layout->lane_colour[b], ==, full->lane_colour[b]);
}

/* A projector's stacked modes: twenty-one lanes in 150 px (1024×600) keep
 * names of 18 px, the lanes that do not fit go out of view; a few lanes
 * on a tall screen grow; lanes that fit stay as they are. */
static void
test_presenter_fit (void)
{
  const IlTheme *base = il_theme_get (IL_THEME_PRESENTER);
  double natural = 21 * (base->metrics.lane_height + base->metrics.gap);
  IlTheme fitted = *base;

  g_assert_true (il_theme_fit_presenter (&fitted, natural, 150));
  g_assert_cmpfloat (fitted.font_size, >=, IL_THEME_PRESENTER_MIN_FONT);
  g_assert_cmpfloat (fitted.font_size, <=, base->font_size);
  /* A line of the type fits in a lane, and in the loop's smaller one. */
  g_assert_cmpfloat (fitted.metrics.lane_height, >=, 1.2 * fitted.font_size);
  g_assert_cmpfloat (fitted.metrics.small_height, >=, 1.2 * IL_THEME_PRESENTER_MIN_FONT);
  g_assert_cmpfloat (21 * (fitted.metrics.lane_height + fitted.metrics.gap), >, 150);

  /* Halfway between: the type shrinks with the lanes, no lower. */
  fitted = *base;
  g_assert_true (il_theme_fit_presenter (&fitted, natural, natural * 0.8));
  g_assert_cmpfloat (fitted.metrics.lane_height, <, base->metrics.lane_height);
  g_assert_cmpfloat (fitted.font_size, >=, IL_THEME_PRESENTER_MIN_FONT);

  fitted = *base;
  g_assert_true (il_theme_fit_presenter (&fitted, 4 * 48, 1000));
  g_assert_cmpfloat (fitted.metrics.lane_height, ==, floor (base->metrics.lane_height * 1.6));
  g_assert_cmpfloat (fitted.font_size, ==, base->font_size);

  fitted = *base;
  g_assert_false (il_theme_fit_presenter (&fitted, 500, 520));
  g_assert_false (il_theme_fit_presenter (&fitted, 500, 0));
  g_assert_cmpmem (&fitted, sizeof fitted, base, sizeof *base);
}

static double
rel_luminance (const IlColour *c)
{
  double v[3] = { c->r, c->g, c->b };

  for (guint i = 0; i < 3; i++)
    v[i] = v[i] <= 0.03928 ? v[i] / 12.92 : pow ((v[i] + 0.055) / 1.055, 2.4);
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}

/* Task colours stand out from the dark themes' backgrounds, the second
 * round of colours too (darkened by 35 % it fell to 1.9:1 on #1E1E1E;
 * the first round's weakest is 3.5:1).  The light theme keeps Paul Tol's
 * sand, 1.6:1 on white, for its hue.  test_palette_apart keeps them
 * clear of the states. */
static void
test_identity_contrast (void)
{
  for (IlThemeKind kind = 0; kind < IL_N_THEMES; kind++)
    {
      const IlTheme *theme = il_theme_get (kind);
      double bg = rel_luminance (&theme->background);

      if (kind == IL_THEME_LIGHT)
        continue;
      for (guint i = 0; i < IL_THEME_N_COLOURS; i++)
        {
          double l = rel_luminance (il_theme_identity (theme, i));
          double ratio = (MAX (l, bg) + 0.05) / (MIN (l, bg) + 0.05);

          if (ratio < 2.5)
            g_test_message ("theme %d, colour %u: %.2f:1", kind, i, ratio);
          g_assert_cmpfloat (ratio, >=, 2.5);
        }
    }
}

/* The gutter grows to show every name whole where the window has room:
 * lesson 13's "ThreadPoolExecutor-0_0" in the 15 px type of a few grown
 * lanes needs more than the theme's 170 px; lesson 10's alpha, beta and
 * gamma do not; a narrow window keeps 170. */
static void
test_gutter_width (void)
{
  g_autoptr(IlTrace) pool = tu_run_lesson ("13-offload-to-thread.json", IL_MODE_ASYNCIO);
  g_autoptr(IlTrace) loop = tu_run_lesson ("10-event-loop.json", IL_MODE_ASYNCIO);
  IlTheme theme = *il_theme_get (IL_THEME_LIGHT);
  g_autoptr(IlLayout) pool_layout = il_layout_new (pool, &theme.metrics);
  g_autoptr(IlLayout) loop_layout = il_layout_new (loop, &theme.metrics);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 8, 8);
  cairo_t *cr = cairo_create (surface);
  PangoLayout *text = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Cantarell, Inter, sans-serif");
  double wide;
  int tw, th;

  theme.font_size = 15;   /* as the timeline grows a few lanes */
  wide = il_render_gutter_width (pool, pool_layout, &theme, 1000);
  /* A thread's name, in the 0.9 type, after its indent and swatch. */
  pango_font_description_set_absolute_size (font, theme.font_size * 0.9 * PANGO_SCALE);
  pango_layout_set_font_description (text, font);
  pango_layout_set_text (text, "ThreadPoolExecutor-0_0", -1);
  pango_layout_get_pixel_size (text, &tw, &th);
  g_assert_cmpfloat (tw + 18 + 12 + 4, >, theme.gutter_width);
  g_assert_cmpfloat (wide, >=, tw + 18 + 12 + 4);
  g_assert_cmpfloat (wide, <, 2 * theme.gutter_width);
  g_assert_cmpfloat (il_render_gutter_width (pool, pool_layout, &theme, 100), ==, theme.gutter_width);
  g_assert_cmpfloat (il_render_gutter_width (pool, pool_layout, &theme, 190), ==, MIN (wide, 190));
  g_assert_cmpfloat (il_render_gutter_width (loop, loop_layout, &theme, 1000), ==, theme.gutter_width);
  pango_font_description_free (font);
  g_object_unref (text);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Every lane is named: type too tall for the lanes shrinks, never drops. */
static void
test_label_scale (void)
{
  g_assert_cmpfloat (il_render_label_scale (0.9, 24, 22), ==, 0.9);
  g_assert_cmpfloat (il_render_label_scale (1.0, 20, 30), ==, 1.0);  /* a third overlaps */
  g_assert_cmpfloat (fabs (il_render_label_scale (1.0, 10, 30) - 0.5), <, 1e-9);
  g_assert_cmpfloat (il_render_label_scale (1.0, 3, 30), >, 0);
  g_assert_cmpfloat (il_render_label_scale (1.0, 0, 30), ==, 1.0);
}

/* The tags at the head and foot of the names count what is out of view,
 * and what they cover. */
static void
test_layout_out_of_view (void)
{
  g_autoptr(IlLayout) layout = g_new0 (IlLayout, 1);
  IlLanesOutOfView out;

  layout->rows = g_array_new (FALSE, TRUE, sizeof (IlRow));
  for (guint i = 0; i < 10; i++)
    {
      IlRow row = { IL_ROW_LANE, i, i * 25.0, 24, 0, "lane", 1 };
      g_array_append_val (layout->rows, row);
    }
  layout->height = 250;
  /* All in view: nothing to count. */
  il_layout_out_of_view (layout, 0, 250, 20, 20, &out);
  g_assert_cmpuint (out.above, ==, 0);
  g_assert_cmpuint (out.below, ==, 0);
  /* 100 px from the top: rows 0–3 in view, row 4 half (its middle at 112
   * is out), rows 5–9 out; the 20 px tag covers row 3 (75–99) too. */
  il_layout_out_of_view (layout, 0, 100, 20, 20, &out);
  g_assert_cmpuint (out.above, ==, 0);
  g_assert_cmpuint (out.below, ==, 7);
  g_assert_cmpfloat (out.below_start, ==, 75);
  /* A taller tag covers row 2 (50–74) as well. */
  il_layout_out_of_view (layout, 0, 100, 30, 30, &out);
  g_assert_cmpuint (out.below, ==, 8);
  g_assert_cmpfloat (out.below_start, ==, 50);
  /* Scrolled by 100: rows 0–3 above (and row 4 under the head's tag),
   * rows 8 and 9 below (and row 7 under the foot's). */
  il_layout_out_of_view (layout, 100, 100, 20, 20, &out);
  g_assert_cmpuint (out.above, ==, 5);
  g_assert_cmpuint (out.below, ==, 3);
  g_assert_cmpfloat (out.above_end, ==, 124);
  g_assert_cmpfloat (out.below_start, ==, 175);
  /* Every lane is either counted or in the clear band between. */
  g_assert_cmpuint (out.above + out.below + 2, ==, 10);

  /* A tall lane (a deep stack of slices, 0–119) whose foot alone is under
   * the tag keeps its name, drawn at its middle; the lane after it is out. */
  g_array_set_size (layout->rows, 0);
  for (guint i = 0; i < 2; i++)
    {
      IlRow row = { IL_ROW_LANE, i, i * 120.0, 119, 0, "lane", 1 };
      g_array_append_val (layout->rows, row);
    }
  layout->height = 240;
  il_layout_out_of_view (layout, 0, 110, 20, 20, &out);
  g_assert_cmpuint (out.above, ==, 0);
  g_assert_cmpuint (out.below, ==, 1);
  g_assert_cmpfloat (out.below_start, ==, 110);
}

/* Lesson 16 at 1024×600 (twenty requests in 22 px lanes, 390 px of
 * them in view, 15 px names, a 27 px band for the foot's tag): get_09's
 * name sits wholly above the band and stays; get_10's is under the tag
 * and is counted, its bars cleared with it.  The tag counted get_09 too,
 * its name cleared but its bars drawn, when a name was taken to be as
 * tall as its lane. */
static void
test_layout_out_of_view_names (void)
{
  static const struct { IlRowKind kind; double h; } rows[] = {
    { IL_ROW_HEADING, 20 }, { IL_ROW_LANE, 18 }, { IL_ROW_LANE, 18 },     /* CPU cores */
    { IL_ROW_HEADING, 20 }, { IL_ROW_LANE, 18 }, { IL_ROW_LANE, 18 },     /* GIL, loop */
    { IL_ROW_LANE, 22 },                                                  /* MainThread */
  };
  g_autoptr(IlLayout) layout = g_new0 (IlLayout, 1);
  IlLanesOutOfView out;
  const double tag_h = 27, name_h = 15;
  guint n_lanes = 0;

  layout->rows = g_array_new (FALSE, TRUE, sizeof (IlRow));
  for (guint i = 0; i < G_N_ELEMENTS (rows) + 20; i++)
    {
      IlRow row = { IL_ROW_LANE, i, layout->height, 22, 0, "lane", 1 };

      if (i < G_N_ELEMENTS (rows))
        {
          row.kind = rows[i].kind;
          row.height = rows[i].h;
        }
      else if (i == G_N_ELEMENTS (rows) + 12)
        row.height = 119;   /* a deep stack of slices */
      n_lanes += row.kind == IL_ROW_LANE;
      g_array_append_val (layout->rows, row);
      layout->height += row.height + 2;
    }

  il_layout_out_of_view (layout, 0, 390, tag_h, name_h, &out);
  g_assert_cmpuint (out.above, ==, 0);
  g_assert_cmpuint (out.below, ==, 11);              /* get_10 to get_20 */
  g_assert_cmpfloat (out.below_start, ==, 364);      /* get_10's top */

  /* At every scroll and height: a lane is counted exactly when its name
   * cannot be read (cut by an edge or under a tag's band), and the lanes
   * not counted lie clear of what is cleared for the counted ones. */
  for (double visible = 40; visible <= layout->height; visible += 7)
    for (double scroll = 0; scroll + visible <= layout->height + 1; scroll += 3)
      {
        double bottom = scroll + visible;
        gboolean cut_above = FALSE, cut_below = FALSE;
        guint unread = 0;

        il_layout_out_of_view (layout, scroll, visible, tag_h, name_h, &out);
        for (guint i = 0; i < layout->rows->len; i++)
          {
            const IlRow *row = &g_array_index (layout->rows, IlRow, i);
            double mid = row->y + row->height / 2, half = MIN (row->height, name_h) / 2;

            if (row->kind != IL_ROW_LANE)
              continue;
            cut_above |= mid - half < scroll;
            cut_below |= mid + half > bottom;
          }
        for (guint i = 0; i < layout->rows->len; i++)
          {
            const IlRow *row = &g_array_index (layout->rows, IlRow, i);
            double mid = row->y + row->height / 2, half = MIN (row->height, name_h) / 2;
            double lo, hi;
            gboolean read, hidden, clear;

            if (row->kind != IL_ROW_LANE)
              continue;
            read = mid - half >= scroll + (cut_above ? tag_h : 0)
                   && mid + half <= bottom - (cut_below ? tag_h : 0);
            /* What of it is in view, against what is cleared: a lane
             * read shows all of it, one not read none. */
            lo = MAX (row->y, scroll);
            hi = MIN (row->y + row->height, bottom);
            hidden = lo >= hi || (out.above > 0 && hi <= out.above_end)
                     || (out.below > 0 && lo >= out.below_start);
            clear = lo < hi && ((out.above == 0 || lo >= out.above_end)
                                 && (out.below == 0 || hi <= out.below_start));
            if (read ? !clear : !hidden)
              g_test_message ("scroll %g visible %g: row %u (%g + %g) read %d; %u above to %g, %u below from %g",
                              scroll, visible, i, row->y, row->height, read, out.above, out.above_end,
                              out.below, out.below_start);
            g_assert_true (read ? clear : hidden);
            unread += !read;
          }
        g_assert_cmpuint (out.above + out.below, ==, unread);
        /* No heading is left showing over nothing but the foot's band. */
        for (guint i = 0; out.below > 0 && i + 1 < layout->rows->len; i++)
          {
            const IlRow *row = &g_array_index (layout->rows, IlRow, i);
            const IlRow *next = row + 1;

            if (row->kind == IL_ROW_HEADING && MAX (row->y, scroll) < out.below_start
                && row->y + row->height > scroll)
              g_assert_cmpfloat (next->y, <, out.below_start);
          }
        g_assert_cmpuint (out.above + out.below, <=, n_lanes);
        if (!cut_above)
          g_assert_cmpuint (out.above, ==, 0);
      }
}

static void
test_layout (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);
  g_autoptr(IlLayout) layout = il_layout_new (t, &metrics);
  const IlRow *rows = (const IlRow *) (gpointer) layout->rows->data;

  /* Heading, 2 cores, process heading, GIL (before tasks), a, b. */
  g_assert_cmpuint (layout->rows->len, ==, 7);
  g_assert_cmpint (rows[0].kind, ==, IL_ROW_HEADING);
  g_assert_cmpuint (rows[1].lane, ==, core0);
  g_assert_cmpint (rows[3].kind, ==, IL_ROW_HEADING);
  g_assert_cmpuint (rows[4].lane, ==, gil);
  g_assert_cmpuint (rows[5].lane, ==, a);
  g_assert_cmpuint (rows[6].lane, ==, b);
  g_assert_cmpuint (layout->lane_row[gil], ==, 4);
  g_assert_cmpfloat (rows[1].y, ==, 10);
  g_assert_cmpfloat (rows[5].height, ==, 20);
  g_assert_cmpfloat (layout->height, ==, 8 + 10 + 10 + 8 + 10 + 20 + 20 + 7 * 2);
  /* a and b get different identity colours. */
  g_assert_cmpuint (layout->lane_colour[a], !=, layout->lane_colour[b]);

  g_assert_cmpint (il_layout_row_at (layout, -1), ==, -1);
  g_assert_cmpint (il_layout_row_at (layout, 0), ==, 0);
  g_assert_cmpint (il_layout_row_at (layout, 9), ==, -1);   /* the gap */
  g_assert_cmpint (il_layout_row_at (layout, 10), ==, 1);
  g_assert_cmpint (il_layout_row_at (layout, rows[6].y + 19.9), ==, 6);
  g_assert_cmpint (il_layout_row_at (layout, layout->height + 5), ==, -1);
}

static void
test_hit (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);
  IlTraceInterval hit;

  g_assert_true (il_trace_interval_at (t, gil, IL_MSEC (3), G_MAXINT64, &hit));
  g_assert_cmpuint (hit.other, ==, a);
  g_assert_cmpint (hit.start, ==, 0);
  g_assert_cmpint (hit.end, ==, IL_MSEC (6));
  g_assert_false (hit.open);

  g_assert_true (il_trace_interval_at (t, gil, IL_MSEC (7), G_MAXINT64, &hit));
  g_assert_cmpuint (hit.other, ==, b);
  g_assert_false (il_trace_interval_at (t, gil, IL_MSEC (11), G_MAXINT64, &hit));  /* nobody holds it */

  g_assert_true (il_trace_interval_at (t, b, IL_MSEC (3), G_MAXINT64, &hit));
  g_assert_cmpint (hit.state, ==, IL_STATE_WAIT_GIL);
  g_assert_cmpint (hit.end, ==, IL_MSEC (6));
  g_assert_true (il_trace_interval_at (t, b, IL_MSEC (8), G_MAXINT64, &hit));
  g_assert_cmpint (hit.state, ==, IL_STATE_RUNNING);
  g_assert_cmpint (hit.cause, ==, IL_CAUSE_GIL_HANDOFF);
  g_assert_cmpuint (hit.other, ==, a);

  /* The playhead hides the future: at upto = 7 ms b's run is still open. */
  g_assert_true (il_trace_interval_at (t, b, IL_MSEC (6.5), IL_MSEC (7), &hit));
  g_assert_true (hit.open);
  g_assert_cmpint (hit.end, ==, IL_MSEC (7));
  g_assert_false (il_trace_interval_at (t, b, IL_MSEC (8), IL_MSEC (7), &hit));

  g_assert_true (il_trace_interval_at (t, core0, IL_MSEC (1), G_MAXINT64, &hit));
  g_assert_cmpuint (hit.other, ==, a);
  g_assert_false (il_trace_interval_at (t, core0, IL_MSEC (11), G_MAXINT64, &hit));

  {
    g_autofree char *text = NULL;
    g_assert_true (il_trace_interval_at (t, b, IL_MSEC (8), G_MAXINT64, &hit));
    text = il_format_interval (t, &hit);
    g_assert_nonnull (strstr (text, "running"));
    g_assert_nonnull (strstr (text, "got the GIL from a"));
    g_assert_nonnull (strstr (text, "for 4.000 ms"));
  }
}

static void
test_next_event (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);

  g_assert_cmpint (il_trace_next_event_time (t, 0, FALSE, FALSE), ==, IL_MSEC (6));
  g_assert_cmpint (il_trace_next_event_time (t, IL_MSEC (6), FALSE, FALSE), ==, IL_MSEC (10));
  g_assert_cmpint (il_trace_next_event_time (t, IL_MSEC (10), FALSE, FALSE), ==, -1);
  g_assert_cmpint (il_trace_next_event_time (t, IL_MSEC (10), TRUE, FALSE), ==, IL_MSEC (6));
  g_assert_cmpint (il_trace_next_event_time (t, IL_MSEC (6), TRUE, FALSE), ==, 0);
  g_assert_cmpint (il_trace_next_event_time (t, 0, TRUE, FALSE), ==, -1);
  /* GIL only: the drop request at 5 ms is not a switch. */
  g_assert_cmpint (il_trace_next_event_time (t, IL_MSEC (1), FALSE, TRUE), ==, IL_MSEC (6));
}

/* Reads one pixel of an image surface as 0xRRGGBB. */
static guint32
pixel_at (cairo_surface_t *surface, int x, int y)
{
  guint32 *row;
  cairo_surface_flush (surface);
  row = (guint32 *) (gpointer) (cairo_image_surface_get_data (surface) + y * cairo_image_surface_get_stride (surface));
  return row[x] & 0xffffff;
}

static guint32
colour_rgb (const IlColour *c)
{
  return ((guint32) lround (c->r * 255) << 16) | ((guint32) lround (c->g * 255) << 8) | (guint32) lround (c->b * 255);
}

static void
test_render_gil_owner (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);
  g_autoptr(IlLayout) layout = il_layout_new (t, &theme->metrics);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1200, 400);
  cairo_t *cr = cairo_create (surface);
  const IlRow *row = &g_array_index (layout->rows, IlRow, layout->lane_row[gil]);
  IlRenderParams p;
  guint prims;
  double y;

  il_render_params_init (&p, t, layout, theme);
  p.viewport.start = 0;
  p.viewport.span = IL_MSEC (12);
  p.viewport.width = 1200 - theme->gutter_width;
  p.height = 400;
  prims = il_render_timeline (cr, &p);
  cairo_destroy (cr);
  g_assert_cmpuint (prims, >, 5);

  /* The GIL lane shows a's colour before 6 ms and b's after, nothing after 10 ms. */
  y = theme->ruler_height + row->y + row->height * 0.4;
  g_assert_cmphex (pixel_at (surface, theme->gutter_width + p.viewport.width * 3 / 12, y), ==,
                   colour_rgb (il_theme_identity (theme, layout->lane_colour[a])));
  g_assert_cmphex (pixel_at (surface, theme->gutter_width + p.viewport.width * 8 / 12, y), ==,
                   colour_rgb (il_theme_identity (theme, layout->lane_colour[b])));
  g_assert_cmphex (pixel_at (surface, theme->gutter_width + p.viewport.width * 11 / 12, y), !=,
                   colour_rgb (il_theme_identity (theme, layout->lane_colour[b])));
  cairo_surface_destroy (surface);
}

/* The playhead's mark on the ruler stays under the time labels: drawn
 * with the playhead inside the first label after 0, the ruler differs
 * from the one without it only below that label's lowest text row (a
 * lecturer reads "5 ms" through it otherwise).  In every theme. */
static void
test_render_ruler_playhead (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);

  for (IlThemeKind kind = IL_THEME_LIGHT; kind <= IL_THEME_PRESENTER; kind++)
    {
      const IlTheme *theme = il_theme_get (kind);
      g_autoptr(IlLayout) layout = il_layout_new (t, &theme->metrics);
      cairo_surface_t *shot[2];
      int h = (int) theme->ruler_height, text_bottom = -1, mark_top = h;
      int label_x, bg_x;
      IlRenderParams p;
      gint64 step;
      double tick_x;

      il_render_params_init (&p, t, layout, theme);
      p.viewport.start = 0;
      p.viewport.span = IL_MSEC (12);
      p.viewport.width = 1200 - theme->gutter_width;
      p.height = 300;
      p.show_ruler = TRUE;
      step = il_ticks_choose_step (&p.viewport, il_ticks_label_spacing (theme->font_size, p.viewport.width));
      tick_x = theme->gutter_width + il_viewport_time_to_x (&p.viewport, step);
      label_x = (int) tick_x + 3;
      bg_x = (int) tick_x - 6;
      p.now = il_viewport_x_to_time (&p.viewport, label_x + 10 - theme->gutter_width);
      for (int k = 0; k < 2; k++)
        {
          cairo_t *cr;

          shot[k] = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1200, 300);
          cr = cairo_create (shot[k]);
          p.show_playhead = k == 1;
          il_render_timeline (cr, &p);
          cairo_destroy (cr);
        }
      /* Above the ticks (the bottom 9 px), the label's columns hold only
       * its text on the ruler's background. */
      for (int y = 0; y < h - 9; y++)
        for (int x = label_x; x < label_x + 24; x++)
          if (pixel_at (shot[0], x, y) != pixel_at (shot[0], bg_x, y))
            text_bottom = MAX (text_bottom, y);
      for (int y = 0; y < h; y++)
        for (int x = label_x - 20; x < label_x + 40; x++)
          if (pixel_at (shot[0], x, y) != pixel_at (shot[1], x, y))
            mark_top = MIN (mark_top, y);
      g_assert_cmpint (text_bottom, >, 0);
      g_assert_cmpint (mark_top, <, h);
      g_assert_cmpint (mark_top, >, text_bottom);
      cairo_surface_destroy (shot[0]);
      cairo_surface_destroy (shot[1]);
    }
}

/* Hundreds of thousands of events cost pixels, not events. */
static void
test_render_bounded (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  const IlTheme *theme = il_theme_get (IL_THEME_DARK);
  guint32 lane = il_trace_add_lane (t, IL_LANE_TASK, "busy", IL_NO_LANE, 0);
  g_autoptr(IlLayout) layout = NULL;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1000, 100);
  cairo_t *cr = cairo_create (surface);
  IlRenderParams p;
  guint prims;

  for (int i = 0; i < 300000; i++)
    il_trace_append (t, i * IL_USEC (1), lane, IL_EVENT_STATE, i % 2 ? IL_STATE_RUNNING : IL_STATE_WAIT_GIL, 0, IL_NO_LANE);
  il_trace_set_end_time (t, IL_MSEC (300));
  layout = il_layout_new (t, &theme->metrics);
  il_render_params_init (&p, t, layout, theme);
  p.viewport.span = IL_MSEC (300);
  p.viewport.width = 1000 - theme->gutter_width;
  p.height = 100;
  prims = il_render_timeline (cr, &p);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  g_assert_cmpuint (prims, <=, (guint) p.viewport.width + 10);
}

/* Time [a, b) overlaps [lo, hi). */
static gint64
overlap (gint64 a, gint64 b, gint64 lo, gint64 hi)
{
  return MAX (0, MIN (b, hi) - MAX (a, lo));
}

/* The level of detail says what a lane shows most of the time in each
 * bucket; it grows with a live trace (retallying the bucket the end cut)
 * and never hands one trace's cells to another. */
static void
test_lod (void)
{
  guint32 core0, gil, a, b;
  g_autoptr(IlTrace) t = hand_trace (&core0, &gil, &a, &b);
  g_autoptr(IlTrace) other = il_trace_new ();
  g_autoptr(IlTrace) live = il_trace_new ();
  g_autoptr(IlLodCache) lod = il_lod_cache_new ();
  const guint64 *cells;
  gsize n = 0;
  int level = 17;   /* 131 µs buckets */
  guint32 x;

  g_assert_cmpint (il_lod_level_for (1), ==, -1);
  g_assert_cmpint (il_lod_level_for (2), ==, 1);
  g_assert_cmpint (il_lod_level_for (1000), ==, 9);
  g_assert_cmpint (il_lod_level_for (1024), ==, 10);

  cells = il_lod_cache_lookup (lod, t, b, level, &n);
  g_assert_nonnull (cells);
  /* Buckets that start before the end of the run (12 ms). */
  g_assert_cmpuint (n, ==, (IL_MSEC (12) - 1) / (1 << level) + 1);
  for (gsize k = 0; k < n; k++)
    {
      /* b waits for the GIL until 6 ms, runs until 10 ms, then is done. */
      gint64 lo = (gint64) k << level, hi = MIN (lo + (1 << level), IL_MSEC (12));
      gint64 wait = overlap (0, IL_MSEC (6), lo, hi);
      gint64 run = overlap (IL_MSEC (6), IL_MSEC (10), lo, hi);
      gint64 done = overlap (IL_MSEC (10), IL_MSEC (12), lo, hi);
      int want = wait >= run && wait >= done ? IL_STATE_WAIT_GIL : run >= done ? IL_STATE_RUNNING : IL_STATE_DONE;
      g_assert_cmpint (il_lod_cell_key (cells[k]), ==, want);
    }
  /* The bucket across 10 ms is mostly "done", although b ran at its start. */
  g_assert_cmpint (il_lod_cell_key (cells[IL_MSEC (10) >> level]), ==, IL_STATE_DONE);
  g_assert_cmpint (il_trace_state_at (t, b, (IL_MSEC (10) >> level) << level, NULL), ==, IL_STATE_RUNNING);

  /* The GIL lane: the holder as the label, nothing after the last drop. */
  cells = il_lod_cache_lookup (lod, t, gil, level, &n);
  for (gsize k = 0; k < n; k++)
    {
      gint64 lo = (gint64) k << level, hi = MIN (lo + (1 << level), IL_MSEC (12));
      gint64 ha = overlap (0, IL_MSEC (6), lo, hi), hb = overlap (IL_MSEC (6), IL_MSEC (10), lo, hi);
      gint64 none = overlap (IL_MSEC (10), IL_MSEC (12), lo, hi);
      guint32 holder = none >= ha && none >= hb ? IL_NO_LANE : ha >= hb ? a : b;
      g_assert_cmpuint (il_lod_cell_label (cells[k]), ==, holder);
      g_assert_cmpint (il_lod_cell_key (cells[k]), ==, holder == IL_NO_LANE ? -1 : IL_STATE_RUNNING);
    }

  /* The run goes on: the cells extend. */
  il_trace_append (t, IL_MSEC (13), gil, IL_EVENT_GIL_TAKE, 0, 0, a);
  il_trace_set_end_time (t, IL_MSEC (20));
  cells = il_lod_cache_lookup (lod, t, gil, level, &n);
  g_assert_cmpuint (n, ==, (IL_MSEC (20) - 1) / (1 << level) + 1);
  g_assert_cmpuint (il_lod_cell_label (cells[IL_MSEC (12) >> level]), ==, IL_NO_LANE);
  g_assert_cmpuint (il_lod_cell_label (cells[n - 1]), ==, a);

  /* Too fine a level for a long run: none. */
  g_assert_null (il_lod_cache_lookup (lod, t, gil, 2, &n));
  g_assert_cmpuint (n, ==, 0);

  /* A thread that runs 900 µs of every millisecond and waits 100 µs for
   * the GIL reads as running in every 1 ms bucket, wherever the waits fall;
   * with 65 µs buckets the waits show where they are. */
  x = il_trace_add_lane (live, IL_LANE_THREAD, "x", IL_NO_LANE, 0);
  for (int i = 0; i < 50; i++)
    {
      il_trace_append (live, IL_USEC (1000 * i + 333), x, IL_EVENT_STATE, IL_STATE_RUNNING, 0, IL_NO_LANE);
      il_trace_append (live, IL_USEC (1000 * i + 1233), x, IL_EVENT_STATE, IL_STATE_WAIT_GIL, 0, IL_NO_LANE);
    }
  il_trace_set_end_time (live, IL_USEC (50233));
  cells = il_lod_cache_lookup (lod, live, x, 20, &n);
  g_assert_cmpuint (n, ==, 48);
  for (gsize k = 1; k < n; k++)
    g_assert_cmpint (il_lod_cell_key (cells[k]), ==, IL_STATE_RUNNING);
  cells = il_lod_cache_lookup (lod, live, x, 16, &n);
  for (gsize k = 0; k < n; k++)
    {
      gint64 lo = (gint64) k << 16, hi = MIN (lo + (1 << 16), IL_USEC (50233));
      gint64 nothing = overlap (0, IL_USEC (333), lo, hi), waiting = 0, running;
      int want;

      for (int i = 0; i < 50; i++)
        waiting += overlap (IL_USEC (1000 * i + 1233), IL_USEC (1000 * i + 1333), lo, hi);
      running = hi - lo - nothing - waiting;
      /* Ties go to nothing, then to the lower state. */
      want = nothing >= running && nothing >= waiting ? -1 : running >= waiting ? IL_STATE_RUNNING : IL_STATE_WAIT_GIL;
      g_assert_cmpint (il_lod_cell_key (cells[k]), ==, want);
    }

  /* Live: the last bucket, cut by the end, is tallied again as it fills:
   * bucket 48 starts at 50.33 ms; x runs until 50.5 ms, then is done. */
  il_trace_append (live, IL_USEC (50233), x, IL_EVENT_STATE, IL_STATE_RUNNING, 0, IL_NO_LANE);
  il_trace_set_end_time (live, IL_USEC (50500));
  cells = il_lod_cache_lookup (lod, live, x, 20, &n);
  g_assert_cmpuint (n, ==, 49);
  g_assert_cmpint (il_lod_cell_key (cells[48]), ==, IL_STATE_RUNNING);
  il_trace_append (live, IL_USEC (50500), x, IL_EVENT_STATE, IL_STATE_DONE, 0, IL_NO_LANE);
  il_trace_set_end_time (live, IL_MSEC (60));
  cells = il_lod_cache_lookup (lod, live, x, 20, &n);
  g_assert_cmpuint (n, ==, (IL_MSEC (60) - 1) / (1 << 20) + 1);
  g_assert_cmpint (il_lod_cell_key (cells[48]), ==, IL_STATE_DONE);
  g_assert_cmpint (il_lod_cell_key (cells[47]), ==, IL_STATE_RUNNING);

  /* Another trace starts afresh: its lane 0 has no events. */
  il_trace_add_lane (other, IL_LANE_CORE, "Core 0", IL_NO_LANE, 0);
  il_trace_set_end_time (other, IL_MSEC (1));
  cells = il_lod_cache_lookup (lod, other, 0, 10, &n);
  g_assert_nonnull (cells);
  for (gsize k = 0; k < n; k++)
    g_assert_cmpint (il_lod_cell_key (cells[k]), ==, -1);
  g_assert_null (il_lod_cache_lookup (lod, other, 5, 10, &n));
}

/* A thread that holds the GIL 90 % of the time, drawn at whole-run zoom,
 * is one solid running bar, not stripes: every column in the running
 * colour, with and without the level of detail; and a thread with few
 * events whose waits are each a fraction of a pixel (the convoy lesson's
 * CPU-bound thread waits 50 µs in 5 ms) too, not a 1 px sliver per wait. */
static void
test_render_dominant (void)
{
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);

  for (int dense = 0; dense < 2; dense++)
    {
      g_autoptr(IlTrace) t = il_trace_new ();
      guint32 lane = il_trace_add_lane (t, IL_LANE_THREAD, "busy", IL_NO_LANE, 0);
      g_autoptr(IlLayout) layout = NULL;
      gint64 period = dense ? IL_USEC (10) : IL_MSEC (2);
      const IlRow *row;
      IlRenderParams p;

      for (gint64 at = 0; at < IL_MSEC (200); at += period)
        {
          il_trace_append (t, at, lane, IL_EVENT_STATE, IL_STATE_RUNNING, 0, IL_NO_LANE);
          il_trace_append (t, at + period * (dense ? 9 : 49) / (dense ? 10 : 50), lane, IL_EVENT_STATE,
                           IL_STATE_WAIT_GIL, 0, IL_NO_LANE);
        }
      il_trace_set_end_time (t, IL_MSEC (200));
      layout = il_layout_new (t, &theme->metrics);
      row = &g_array_index (layout->rows, IlRow, layout->lane_row[lane]);
      for (int with_cache = 0; with_cache < 2; with_cache++)
        {
          cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 900, 200);
          cairo_t *cr = cairo_create (surface);
          g_autoptr(IlRenderCache) cache = il_render_cache_new ();
          double y;

          il_render_params_init (&p, t, layout, theme);
          p.viewport.span = IL_MSEC (200);
          p.viewport.width = 900 - theme->gutter_width;
          p.height = 200;
          if (with_cache)
            p.cache = cache;
          il_render_timeline (cr, &p);
          cairo_destroy (cr);
          cairo_surface_flush (surface);
          y = theme->ruler_height + row->y + row->height / 2;
          for (int x = 0; x < (int) p.viewport.width - 1; x++)
            g_assert_cmphex (pixel_at (surface, theme->gutter_width + x, y), ==,
                             colour_rgb (il_theme_identity (theme, layout->lane_colour[lane])));
          cairo_surface_destroy (surface);
        }
    }
}

/* Draws the convoy lesson's run at several views and playheads, without a
 * cache and through one render cache kept across the frames (tiles drawn,
 * then reused), and returns the largest share of 8×8 blocks that differ.
 * Tiles sit on a time grid and are painted at whole pixels, so a bar edge
 * may move by a pixel and hatching moves with the bars; nothing more. */
static double
cached_difference (const IlTrace *trace,
                   IlThemeKind    theme_kind,
                   int            width,
                   int            height,
                   int            scale)
{
  const IlTheme *theme = il_theme_get (theme_kind);
  g_autoptr(IlLayout) layout = il_layout_new (trace, &theme->metrics);
  g_autoptr(IlRenderCache) cache = il_render_cache_new ();
  cairo_surface_t *direct = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width * scale, height * scale);
  cairo_surface_t *cached = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width * scale, height * scale);
  struct { gint64 start, span, now; } views[] = {
    { 0, trace->end_time, trace->end_time },
    { 0, trace->end_time, trace->end_time / 3 },        /* playing: part drawn */
    { 0, trace->end_time, trace->end_time / 3 + 1000 }, /* and a frame later */
    { trace->end_time / 4, trace->end_time / 3, G_MAXINT64 },
    { trace->end_time / 4 + trace->end_time / 50, trace->end_time / 3, G_MAXINT64 }, /* panned */
    { 0, trace->end_time, trace->end_time },            /* back to the whole run */
  };
  double worst = 0;

  /* HiDPI: drawn at scale × the pixels, tiles too. */
  cairo_surface_set_device_scale (direct, scale, scale);
  cairo_surface_set_device_scale (cached, scale, scale);
  width *= scale;
  height *= scale;
  for (guint v = 0; v < G_N_ELEMENTS (views); v++)
    {
      guint differ = 0, prims[2];

      for (guint pass = 0; pass < 2; pass++)
        {
          cairo_surface_t *target = pass == 0 ? direct : cached;
          cairo_t *cr = cairo_create (target);
          IlRenderParams p;

          il_render_params_init (&p, trace, layout, theme);
          p.viewport.start = views[v].start;
          p.viewport.span = views[v].span;
          p.viewport.width = width / scale - theme->gutter_width;
          p.height = height / scale;
          p.now = views[v].now;
          p.show_playhead = TRUE;
          p.cache = pass == 0 ? NULL : cache;
          p.scale = scale;
          prims[pass] = il_render_timeline (cr, &p);
          /* A new zoom is drawn directly; tiles from its second frame on,
           * and a third frame only paints them. */
          if (pass == 1)
            {
              il_render_timeline (cr, &p);
              if (v == 0)
                g_assert_cmpuint (il_render_timeline (cr, &p), <, prims[0]);
            }
          cairo_destroy (cr);
          cairo_surface_flush (target);
        }
      /* Compared in 8×8 blocks (the hatching's period), so that a shift
       * of an edge by a pixel or of the hatching's phase does not count
       * but a missing or wrong bar does. */
      for (int by = 0; by + 8 <= height; by += 8)
        for (int bx = 0; bx + 8 <= width; bx += 8)
          {
            int sum[2][3] = { { 0 } };
            for (int y = by; y < by + 8; y++)
              for (int x = bx; x < bx + 8; x++)
                for (int s = 0; s < 2; s++)
                  {
                    guint32 px = pixel_at (s == 0 ? direct : cached, x, y);
                    sum[s][0] += px >> 16;
                    sum[s][1] += (px >> 8) & 0xff;
                    sum[s][2] += px & 0xff;
                  }
            for (int ch = 0; ch < 3; ch++)
              if (ABS (sum[0][ch] - sum[1][ch]) > 64 * 40)
                {
                  differ++;
                  break;
                }
          }
      worst = MAX (worst, (double) differ / ((width / 8) * (height / 8)));
      g_test_message ("view %u: %.3f %% of 8x8 blocks differ", v, 100.0 * differ / ((width / 8) * (height / 8)));
      if (g_getenv ("IL_TEST_DUMP") != NULL)
        {
          g_autofree char *a = g_strdup_printf ("/tmp/il-direct-%u.png", v);
          g_autofree char *b = g_strdup_printf ("/tmp/il-cached-%u.png", v);
          cairo_surface_write_to_png (direct, a);
          cairo_surface_write_to_png (cached, b);
        }
    }
  cairo_surface_destroy (direct);
  cairo_surface_destroy (cached);
  return worst;
}

static void
test_render_cached (void)
{
  g_autofree char *lesson = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "data", "lessons",
                                              "07-convoy-effect.json", NULL);
  g_autoptr(IlScenario) s = il_scenario_load_file (lesson, NULL);
  IlRunConfig config;
  g_autoptr(IlTrace) trace = NULL;
  double differ;

  g_assert_nonnull (s);
  il_run_config_from_scenario (&config, s);
  trace = il_simulate (s, &config, NULL);
  differ = cached_difference (trace, IL_THEME_LIGHT, 1200, 700, 1);
  g_test_message ("light: %.3f %% of blocks differ", differ * 100);
  g_assert_cmpfloat (differ, <, 0.005);
  differ = cached_difference (trace, IL_THEME_PRESENTER, 1000, 600, 1);
  g_test_message ("presenter: %.3f %% of blocks differ", differ * 100);
  g_assert_cmpfloat (differ, <, 0.005);
  differ = cached_difference (trace, IL_THEME_DARK, 800, 500, 2);
  g_test_message ("dark at scale 2: %.3f %% of blocks differ", differ * 100);
  /* Tiles start their hatching at the tile's edge, direct drawing at the
   * plot's: at scale 2 the stripes of long hatched runs (GIL waits) land
   * out of phase, which moves whole 8x8 blocks without changing what the
   * lane says.  A bar drawn in the wrong place would differ far more. */
  g_assert_cmpfloat (differ, <, 0.01);
}

/* An imported trace's slice and counter lanes go through the tiles too:
 * three threads of nested calls from a few µs to tens of ms (some far
 * narrower than a pixel, some as wide as the view) and a counter. */
static void
test_render_cached_slices (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint32 proc = il_trace_add_lane (t, IL_LANE_PROCESS, "python (pid 1)", IL_NO_LANE, 1);
  guint32 lanes[3], counter, names[6];
  gint64 now = 0;
  double differ;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *n = g_strdup_printf ("Thread %u", i);
      lanes[i] = il_trace_add_lane (t, IL_LANE_THREAD, n, proc, i);
    }
  counter = il_trace_add_lane (t, IL_LANE_COUNTER, "memory", proc, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *n = g_strdup_printf ("function_%u", i);
      names[i] = il_trace_intern (t, n);
    }
  /* Each round: a call on one thread with children of random lengths. */
  for (guint r = 0; r < 3000; r++)
    {
      guint32 lane = lanes[r % 3];
      gint64 at = now;
      guint n_children = g_rand_int_range (rand, 0, 4);

      il_trace_append (t, at, counter, IL_EVENT_COUNTER, 0, 0, il_trace_float_bits ((float) (r % 50)));
      il_trace_append (t, at, lane, IL_EVENT_SLICE_BEGIN, 0, 0, names[r % 6]);
      for (guint c = 0; c < n_children; c++)
        {
          gint64 len = g_rand_int_range (rand, 0, 4) == 0 ? g_rand_int_range (rand, 1000000, 5000000)
                                                          : g_rand_int_range (rand, 1000, 50000);
          il_trace_append (t, at + 100, lane, IL_EVENT_SLICE_BEGIN, 0, 1, names[(r + c + 1) % 6]);
          il_trace_append (t, at + 100 + len, lane, IL_EVENT_SLICE_END, 0, 1, names[(r + c + 1) % 6]);
          at += 200 + len;
        }
      il_trace_append (t, at + 100, lane, IL_EVENT_SLICE_END, 0, 0, names[r % 6]);
      /* The threads take turns, now and then with a pause. */
      now = at + 100 + (g_rand_int_range (rand, 0, 3) == 0 ? 2000000 : 1000);
    }
  il_trace_set_end_time (t, now);

  differ = cached_difference (t, IL_THEME_LIGHT, 1200, 500, 1);
  g_test_message ("slices, light: %.3f %% of blocks differ", differ * 100);
  g_assert_cmpfloat (differ, <, 0.01);
  differ = cached_difference (t, IL_THEME_DARK, 900, 400, 1);
  g_test_message ("slices, dark: %.3f %% of blocks differ", differ * 100);
  g_assert_cmpfloat (differ, <, 0.01);
  differ = cached_difference (t, IL_THEME_PRESENTER, 1000, 600, 1);
  g_test_message ("slices, presenter: %.3f %% of blocks differ", differ * 100);
  g_assert_cmpfloat (differ, <, 0.01);
  /* Not at scale 2: tiles sit on a time grid a pixel may straddle, and
   * short slices' many edges, moved by a pixel (two device pixels), change
   * a few % of 8×8 device blocks without a slice being wrong.  The tiles'
   * HiDPI surfaces are checked with the simulated run above. */
}

/* Panning a tall view of many lanes goes past the cache's tile budget:
 * tiles out of view are dropped and what is in view still draws right. */
static void
test_render_cache_evicts (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);
  g_autoptr(IlLayout) layout = NULL;
  g_autoptr(IlRenderCache) cache = il_render_cache_new ();
  int width = 900, height = 0;
  cairo_surface_t *surface[2];
  guint differ = 0;

  for (guint i = 0; i < 120; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u", i);
      il_trace_add_lane (t, IL_LANE_TASK, name, IL_NO_LANE, i);
    }
  for (gint64 ms = 0; ms < 2000; ms++)
    for (guint32 i = 0; i < 120; i++)
      if ((ms + i) % 7 == 0 || (ms + i) % 7 == 3)
        il_trace_append (t, IL_MSEC (ms) + i, i, IL_EVENT_STATE,
                         (ms + i) % 7 == 0 ? IL_STATE_RUNNING : IL_STATE_WAIT_IO, IL_CAUSE_NONE, IL_NO_LANE);
  il_trace_set_end_time (t, IL_MSEC (2000));
  layout = il_layout_new (t, &theme->metrics);
  height = (int) (layout->height + theme->ruler_height);
  surface[0] = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  surface[1] = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);

  /* Ten views side by side, each drawn twice (the second from tiles), then
   * the first again: about 120 lanes × 4 tiles a view. */
  for (guint v = 0; v <= 10; v++)
    for (guint pass = 0; pass < 3; pass++)
      {
        cairo_t *cr = cairo_create (surface[pass == 0 ? 0 : 1]);
        IlRenderParams p;

        il_render_params_init (&p, t, layout, theme);
        p.viewport.start = (v % 10) * IL_MSEC (150);
        p.viewport.span = IL_MSEC (150);
        p.viewport.width = width - theme->gutter_width;
        p.height = height;
        p.cache = pass == 0 ? NULL : cache;
        il_render_timeline (cr, &p);
        cairo_destroy (cr);
      }
  cairo_surface_flush (surface[0]);
  cairo_surface_flush (surface[1]);
  /* Bars sit on the same columns or one off: count rows of 8 pixels whose
   * colours differ by more than that. */
  for (int y = 0; y + 8 <= height; y += 8)
    for (int x = 0; x + 8 <= width; x += 8)
      {
        int sum[2] = { 0, 0 };
        for (int dy = 0; dy < 8; dy++)
          for (int dx = 0; dx < 8; dx++)
            for (int s = 0; s < 2; s++)
              sum[s] += (pixel_at (surface[s], x + dx, y + dy) >> 8) & 0xff;
        if (ABS (sum[0] - sum[1]) > 64 * 40)
          differ++;
      }
  g_assert_cmpuint (differ, <, (guint) ((width / 8) * (height / 8) / 200));
  cairo_surface_destroy (surface[0]);
  cairo_surface_destroy (surface[1]);
}

static void
test_export_formats (void)
{
  g_autofree char *dir = g_dir_make_tmp ("interleave-export-XXXXXX", NULL);
  g_autofree char *lesson = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "data", "lessons",
                                              "07-convoy-effect.json", NULL);
  g_autoptr(IlScenario) s = il_scenario_load_file (lesson, NULL);
  IlRunConfig config;
  g_autoptr(IlTrace) trace = NULL;
  IlExportOptions options;
  static const char *names[] = { "out.png", "out.svg", "out.pdf" };
  static const char *magic[] = { "\x89PNG", "<?xml", "%PDF" };

  g_assert_nonnull (s);
  il_run_config_from_scenario (&config, s);
  trace = il_simulate (s, &config, NULL);
  il_export_options_init (&options);
  options.title = "Convoy";
  options.width = 800;
  options.height = 500;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_autofree char *data = NULL;
      gsize len;
      IlExportFormat format;

      g_assert_true (il_export_format_from_path (path, &format));
      g_assert_true (il_export_timelines (path, format, &trace, NULL, 1, &options, NULL));
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_true (g_str_has_prefix (data, magic[i]));
      if (i == 0)
        {
          cairo_surface_t *png = cairo_image_surface_create_from_png (path);
          g_assert_cmpint (cairo_image_surface_get_width (png), ==, 800);
          g_assert_cmpint (cairo_image_surface_get_height (png), ==, 500);
          cairo_surface_destroy (png);
        }
      else if (i == 1)
        g_assert_nonnull (strstr (data, "width=\"800"));
      g_unlink (path);
    }
  {
    IlExportFormat format;
    g_assert_false (il_export_format_from_path ("x.jpeg", &format));
  }
  g_rmdir (dir);
}

/* CIELAB of an sRGB colour, for ΔE (CIE76) between two colours. */
static void
to_lab (const IlColour *c,
        double          lab[3])
{
  double rgb[3] = { c->r, c->g, c->b }, x, y, z;

  for (int i = 0; i < 3; i++)
    rgb[i] = rgb[i] <= 0.04045 ? rgb[i] / 12.92 : pow ((rgb[i] + 0.055) / 1.055, 2.4);
  x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047;
  y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883;
#define F(t) ((t) > 0.008856 ? cbrt (t) : 7.787 * (t) + 16.0 / 116)
  lab[0] = 116 * F (y) - 16;
  lab[1] = 500 * (F (x) - F (y));
  lab[2] = 200 * (F (y) - F (z));
#undef F
}

static double
delta_e (const IlColour *a,
         const IlColour *b)
{
  double la[3], lb[3];

  to_lab (a, la);
  to_lab (b, lb);
  return sqrt ((la[0] - lb[0]) * (la[0] - lb[0]) + (la[1] - lb[1]) * (la[1] - lb[1])
               + (la[2] - lb[2]) * (la[2] - lb[2]));
}

/* Task colours are never mistaken for state colours (#88CCEE beside
 * waiting-for-I/O #56B4E9 was ΔE 14) and do not repeat within 16 lanes. */
static void
test_palette_apart (void)
{
  static const IlState states[] = { IL_STATE_READY, IL_STATE_WAIT_GIL, IL_STATE_WAIT_IO,
                                    IL_STATE_SLEEPING, IL_STATE_BLOCKED, IL_STATE_IDLE,
                                    IL_STATE_STARTING };

  for (IlThemeKind k = 0; k < IL_N_THEMES; k++)
    {
      const IlTheme *theme = il_theme_get (k);

      for (guint i = 0; i < IL_THEME_N_COLOURS; i++)
        {
          const IlColour *c = il_theme_identity (theme, i);

          for (guint s = 0; s < G_N_ELEMENTS (states); s++)
            g_assert_cmpfloat (delta_e (c, &theme->state[states[s]]), >=, 20);
          for (guint j = 0; j < i; j++)
            g_assert_cmpfloat (delta_e (c, il_theme_identity (theme, j)), >=, 8);
        }
      g_assert_true (il_theme_identity (theme, IL_THEME_N_COLOURS) == il_theme_identity (theme, 0));
    }
}

/* The legend lists what the run shows: an asyncio lesson has the loop's
 * select() and ready queue but no process start-up or GIL; a process
 * pool has start-up and a work queue.  It grows with a live trace, says
 * so only when something was added, and starts afresh for a new trace. */
static void
test_legend (void)
{
  g_autoptr(IlTrace) loop = tu_run_lesson ("10-event-loop.json", IL_MODE_ASYNCIO);
  g_autoptr(IlTrace) procs = tu_run_lesson ("05-process-startup-cost.json", IL_MODE_PROCESSES);
  g_autoptr(IlTrace) live = il_trace_new ();
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);
  IlLegend legend = { 0 };
  guint32 a, b;

  g_assert_true (il_legend_update (&legend, loop));
  g_assert_true (il_legend_has (&legend, IL_LEGEND_RUNNING));
  g_assert_true (il_legend_has (&legend, IL_LEGEND_LOOP_SELECT));
  g_assert_true (il_legend_has (&legend, IL_LEGEND_QUEUE_READY));
  g_assert_true (il_legend_has (&legend, IL_LEGEND_LOOP_ITER));
  g_assert_false (il_legend_has (&legend, IL_LEGEND_STARTING));
  g_assert_false (il_legend_has (&legend, IL_LEGEND_WAIT_GIL));
  g_assert_false (il_legend_has (&legend, IL_LEGEND_GIL_REQUEST));
  g_assert_false (il_legend_has (&legend, IL_LEGEND_QUEUE_POOL));
  g_assert_false (il_legend_update (&legend, loop));
  g_assert_cmpfloat (il_render_legend (NULL, theme, 0, 0, 800, &legend), >, 0);
  /* On a narrow projector screen the presenter's legend steps its type
   * down to keep to three rows (it took four here, eight for lesson 19). */
  {
    const IlTheme *pt = il_theme_get (IL_THEME_PRESENTER);
    double row = pt->font_size * 0.8 * 1.7;

    g_assert_cmpfloat (il_render_legend (NULL, pt, 0, 0, 2000, &legend), ==, row);
    g_assert_cmpfloat (il_render_legend (NULL, pt, 0, 0, 480, &legend), <=, 3 * row);
  }

  g_assert_true (il_legend_update (&legend, procs));
  g_assert_true (il_legend_has (&legend, IL_LEGEND_STARTING));
  g_assert_false (il_legend_has (&legend, IL_LEGEND_LOOP_SELECT));
  g_assert_false (il_legend_has (&legend, IL_LEGEND_QUEUE_USER));

  /* A producer/consumer run: its queue's items, and no pool's. */
  {
    g_autoptr(IlTrace) pc = tu_run_lesson ("19-producer-consumer.json", IL_MODE_THREADS);
    IlLegend pc_legend = { 0 };

    g_assert_true (il_legend_update (&pc_legend, pc));
    g_assert_true (il_legend_has (&pc_legend, IL_LEGEND_QUEUE_USER));
    g_assert_true (il_legend_has (&pc_legend, IL_LEGEND_BLOCKED));
    g_assert_false (il_legend_has (&pc_legend, IL_LEGEND_QUEUE_POOL));
    il_legend_clear (&pc_legend);
  }

  /* Live: nothing yet, then items as the events come. */
  a = il_trace_add_lane (live, IL_LANE_THREAD, "a", IL_NO_LANE, 0);
  b = il_trace_add_lane (live, IL_LANE_THREAD, "b", IL_NO_LANE, 1);
  g_assert_true (il_legend_update (&legend, live));
  g_assert_cmpuint (legend.items, ==, 0);
  g_assert_cmpfloat (il_render_legend (NULL, theme, 0, 0, 800, &legend), ==, 0);
  il_trace_append (live, 0, a, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_START, IL_NO_LANE);
  g_assert_true (il_legend_update (&legend, live));
  g_assert_cmpuint (legend.items, ==, 1u << IL_LEGEND_RUNNING);
  il_trace_append (live, 5, a, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_NONE, IL_NO_LANE);
  g_assert_false (il_legend_update (&legend, live));
  il_trace_append (live, 10, b, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_GIL_HANDOFF, a);
  il_trace_append (live, 10, a, IL_EVENT_STATE, IL_STATE_WAIT_GIL, IL_CAUSE_NONE, IL_NO_LANE);
  g_assert_true (il_legend_update (&legend, live));
  g_assert_cmpuint (legend.items, ==,
                    (1u << IL_LEGEND_RUNNING) | (1u << IL_LEGEND_WAKE_ARROW) | (1u << IL_LEGEND_WAIT_GIL));
  il_legend_clear (&legend);
}

/* The timeline draws a wake-up arrow from the task that put on or took
 * off a queue to the one that waited on it: the legend names that arrow
 * too, as it does for the other causes with an arrow. */
static void
test_legend_queue_arrow (void)
{
  g_autoptr(IlTrace) live = il_trace_new ();
  IlLegend legend = { 0 };
  guint32 a = il_trace_add_lane (live, IL_LANE_TASK, "producer", IL_NO_LANE, 0);
  guint32 b = il_trace_add_lane (live, IL_LANE_TASK, "consumer", IL_NO_LANE, 1);

  il_trace_append (live, 0, b, IL_EVENT_STATE, IL_STATE_BLOCKED, IL_CAUSE_QUEUE, IL_NO_LANE);
  il_trace_append (live, 10, b, IL_EVENT_STATE, IL_STATE_READY, IL_CAUSE_QUEUE, a);
  g_assert_true (il_legend_update (&legend, live));
  g_assert_true (il_legend_has (&legend, IL_LEGEND_WAKE_ARROW));
  il_legend_clear (&legend);
}

/* A pool's work item and a ready-queue item looked the same (a box in the
 * task's colour): a work item has a frame in the text colour, which shows
 * against the background and the fill without telling hues apart, in
 * every theme; the legend's swatches are drawn by the same function. */
static void
test_queue_box_styles (void)
{
  g_assert_cmpint (il_queue_box_style (IL_QUEUE_READY), ==, IL_QUEUE_BOX_READY);
  g_assert_cmpint (il_queue_box_style (IL_QUEUE_TIMERS), ==, IL_QUEUE_BOX_TIMER);
  g_assert_cmpint (il_queue_box_style (IL_QUEUE_POOL), ==, IL_QUEUE_BOX_POOL);
  g_assert_cmpint (il_queue_box_style (IL_QUEUE_USER), ==, IL_QUEUE_BOX_READY);
  for (IlThemeKind k = 0; k < IL_N_THEMES; k++)
    {
      const IlTheme *theme = il_theme_get (k);
      for (guint id = 0; id < IL_THEME_N_COLOURS; id++)
        {
          const IlColour *fill = il_theme_identity (theme, id);
          guint32 px[2][2];

          for (int style = 0; style < 2; style++)
            {
              cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 20, 20);
              cairo_t *cr = cairo_create (surface);
              guint8 *data;
              int stride;

              il_theme_set_source (cr, &theme->background);
              cairo_paint (cr);
              il_render_queue_box (cr, theme, style == 0 ? IL_QUEUE_BOX_READY : IL_QUEUE_BOX_POOL,
                                   fill, 0, 0, 20, 20);
              cairo_destroy (cr);
              cairo_surface_flush (surface);
              data = cairo_image_surface_get_data (surface);
              stride = cairo_image_surface_get_stride (surface);
              px[style][0] = *(guint32 *) (gpointer) (data + 1 * stride + 4 * 10) & 0xFFFFFF;  /* the edge */
              px[style][1] = *(guint32 *) (gpointer) (data + 10 * stride + 4 * 10) & 0xFFFFFF; /* the middle */
              cairo_surface_destroy (surface);
            }
          /* Same fill, a different edge: the foreground's. */
          g_assert_cmpuint (px[0][1], ==, px[1][1]);
          g_assert_cmpuint (px[0][0], !=, px[1][0]);
          {
            guint32 e = px[1][0];
            double lum = (0.2126 * (e >> 16 & 0xFF) + 0.7152 * (e >> 8 & 0xFF) + 0.0722 * (e & 0xFF)) / 255;
            double fg = 0.2126 * theme->foreground.r + 0.7152 * theme->foreground.g + 0.0722 * theme->foreground.b;
            double bg = 0.2126 * theme->background.r + 0.7152 * theme->background.g + 0.0722 * theme->background.b;
            g_assert_cmpfloat (fabs (lum - fg), <, 0.05);
            g_assert_cmpfloat (fabs (lum - bg), >, 0.5);
          }
        }
    }
}

/* The queues drawn at the playhead are the items il_queue_items_at gives,
 * front first, each in its queue's row: lesson 10's ready queue and
 * timers on the loop lane, lesson 6's pool work queue on its process. */
static void
check_queue_boxes (const char *file,
                   IlMode      mode,
                   guint      *n_ready,
                   guint      *n_pool)
{
  g_autofree char *lesson = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "data", "lessons", file, NULL);
  g_autoptr(IlScenario) s = il_scenario_load_file (lesson, NULL);
  const IlTheme *theme = il_theme_get (IL_THEME_PRESENTER);
  g_autoptr(IlLayout) layout = NULL;
  g_autoptr(IlTrace) trace = NULL;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1600, 1200);
  cairo_t *cr = cairo_create (surface);
  IlRunConfig config;

  g_assert_nonnull (s);
  il_run_config_from_scenario (&config, s);
  config.mode = mode;
  trace = il_simulate (s, &config, NULL);
  g_assert_nonnull (trace);
  layout = il_layout_new (trace, &theme->metrics);
  for (guint k = 1; k < 40; k++)
    {
      gint64 t = trace->end_time * k / 40;
      g_autoptr(GArray) boxes = NULL;
      g_autoptr(GArray) queues = il_queues_list (trace);
      IlRenderParams p;
      guint next = 0;

      il_render_params_init (&p, trace, layout, theme);
      p.viewport.span = trace->end_time;
      p.viewport.start = t - trace->end_time / 20;
      p.viewport.width = 1600 - theme->gutter_width;
      p.height = 1200;
      p.now = t;
      p.show_playhead = TRUE;
      boxes = il_render_queues (cr, &p, TRUE);
      /* Queues in the order rows and then queue ids come, items front first. */
      for (guint q = 0; q < queues->len; q++)
        {
          guint16 id = g_array_index (queues, guint16, q);
          g_autoptr(GArray) items = il_queue_items_at (trace, id, t);

          for (guint i = 0; i < items->len; i++, next++)
            {
              const IlQueueBox *box;

              g_assert_cmpuint (next, <, boxes->len);
              box = &g_array_index (boxes, IlQueueBox, next);
              g_assert_cmpuint (box->queue, ==, id);
              g_assert_cmpuint (box->lane, ==, g_array_index (items, IlQueueItem, i).lane);
              g_assert_cmpfloat (box->x, >=, theme->gutter_width + p.viewport.width / 20);
              g_assert_cmpfloat (box->x + box->width, <=, 1600);
              if (i > 0)
                g_assert_cmpfloat (box->x, >, g_array_index (boxes, IlQueueBox, next - 1).x);
              if (id == IL_QUEUE_READY)
                (*n_ready)++;
              else if (id >= IL_QUEUE_POOL)
                (*n_pool)++;
            }
        }
      g_assert_cmpuint (next, ==, boxes->len);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_render_queues (void)
{
  guint ready = 0, pool = 0;

  check_queue_boxes ("10-event-loop.json", IL_MODE_ASYNCIO, &ready, &pool);
  g_assert_cmpuint (ready, >, 0);
  ready = 0;
  check_queue_boxes ("06-thread-pool.json", IL_MODE_THREADS, &ready, &pool);
  g_test_message ("pool items drawn: %u", pool);
  g_assert_cmpuint (pool, >, 0);
  /* lesson 19's jobs queue, in the main process's row (counted with the
   * pools: ids past IL_QUEUE_POOL) */
  pool = 0;
  check_queue_boxes ("19-producer-consumer.json", IL_MODE_THREADS, &ready, &pool);
  g_test_message ("queue items drawn: %u", pool);
  g_assert_cmpuint (pool, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/view/time-to-x", test_time_to_x);
  g_test_add_func ("/view/palette-apart", test_palette_apart);
  g_test_add_func ("/view/zoom-keeps-anchor", test_zoom_keeps_anchor);
  g_test_add_func ("/view/pan-fit-follow", test_pan_fit_follow);
  g_test_add_func ("/view/ticks", test_ticks);
  g_test_add_func ("/view/tick-labels", test_tick_labels);
  g_test_add_func ("/view/durations", test_durations);
  g_test_add_func ("/view/layout", test_layout);
  g_test_add_func ("/view/layout-compact", test_layout_compact);
  g_test_add_func ("/view/ticks-label-spacing", test_ticks_label_spacing);
  g_test_add_func ("/view/identity-contrast", test_identity_contrast);
  g_test_add_func ("/view/gutter-width", test_gutter_width);
  g_test_add_func ("/view/layout-out-of-view", test_layout_out_of_view);
  g_test_add_func ("/view/layout-out-of-view-names", test_layout_out_of_view_names);
  g_test_add_func ("/view/presenter-fit", test_presenter_fit);
  g_test_add_func ("/render/label-scale", test_label_scale);
  g_test_add_func ("/view/hit", test_hit);
  g_test_add_func ("/view/render-queues", test_render_queues);
  g_test_add_func ("/view/next-event", test_next_event);
  g_test_add_func ("/render/gil-owner", test_render_gil_owner);
  g_test_add_func ("/render/ruler-playhead", test_render_ruler_playhead);
  g_test_add_func ("/render/bounded", test_render_bounded);
  g_test_add_func ("/render/lod", test_lod);
  g_test_add_func ("/render/dominant", test_render_dominant);
  g_test_add_func ("/render/legend", test_legend);
  g_test_add_func ("/render/queue-box-styles", test_queue_box_styles);
  g_test_add_func ("/render/legend-queue-arrow", test_legend_queue_arrow);
  g_test_add_func ("/render/cached", test_render_cached);
  g_test_add_func ("/render/cached-slices", test_render_cached_slices);
  g_test_add_func ("/render/cache-evicts", test_render_cache_evicts);
  g_test_add_func ("/export/formats", test_export_formats);
  return g_test_run ();
}
