/* bench-draw.c — how long the timeline takes to draw a frame
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Draws with the same il_render_timeline() the window uses, into a
 * 1600×1000 image, for a simulated run with hundreds of threads and
 * hundreds of thousands of events, and for imported-style traces of
 * nested slices (1 M and 10 M): the whole run, zoomed in, and a pan across it.
 * Prints CPU milliseconds per frame (median, range, 95th percentile, and the
 * first frame, which fills the level-of-detail cache), the ratio of each
 * median to a baseline drawn in the same run (a 20 ms range) so that runs
 * on machines of different speed compare, and the primitives drawn;
 * 16.7 ms is the 60 fps budget.  Never fails on numbers.
 * The imported traces have 1 M and 10 M slices; whole-trace frames are
 * also drawn without a cache, as an exporter draws them, and as just
 * opened in the window: the legend's ranking of names and the first frames.
 *   bench-draw [THREADS] [STEPS] [SLICES]
 *   (default 300 threads × 400 steps, 10,000,000 slices)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "il-engine.h"
#include "il-render.h"

/* CPU time of this thread in ms: on a machine shared with other work the
 * wall clock measures the neighbours as much as the drawing. */
static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* One 1600×1000 frame of [start, start + span) with the playhead at now,
 * as the timeline widget draws it; returns the primitives drawn. */
static guint
draw_frame (cairo_surface_t *surface,
            const IlTrace   *trace,
            IlLayout        *layout,
            gint64           start,
            gint64           span,
            gint64           now,
            IlRenderCache   *cache)
{
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);
  cairo_t *cr = cairo_create (surface);
  IlRenderParams p;
  guint prims;

  il_render_params_init (&p, trace, layout, theme);
  p.viewport.start = start;
  p.viewport.span = span;
  p.viewport.width = 1600 - theme->gutter_width;
  p.height = 1000;
  p.now = now;
  p.show_playhead = TRUE;
  p.cache = cache;
  prims = il_render_timeline (cr, &p);
  cairo_surface_flush (surface);
  cairo_destroy (cr);
  return prims;
}

/* Draws n frames the way the timeline widget does, with one render cache
 * (level of detail and tiles) kept across them — the first frame fills it
 * and is reported on its own — or, not cached, the way the exporters do;
 * prints the median and spread, and the median's ratio to the baseline
 * measured earlier in this run.  Returns the median in ms. */
static double
frames (const char    *what,
        const IlTrace *trace,
        gint64         start,
        gint64         span,
        gint64         step,
        gint64         now_step,
        guint          n,
        gboolean       cached,
        double         baseline)
{
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);
  g_autoptr(IlLayout) layout = il_layout_new (trace, &theme->metrics);
  g_autoptr(IlRenderCache) cache = il_render_cache_new ();
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1600, 1000);
  double *ms = g_new (double, n + 1), median;
  guint prims = 0;

  for (guint i = 0; i <= n; i++)
    {
      double t0 = cpu_ms ();

      /* Playing: the playhead moves on by now_step a frame from half way. */
      prims = draw_frame (surface, trace, layout, start + step * (i > 0 ? i - 1 : 0), span,
                          now_step > 0 ? trace->end_time / 2 + now_step * i : trace->end_time,
                          cached ? cache : NULL);
      ms[i] = cpu_ms () - t0;
    }
  /* ms[0] is the cold frame; the rest are sorted. */
  qsort (ms + 1, n, sizeof *ms, compare_doubles);
  median = ms[1 + n / 2];
  printf ("  %-30s %7.2f ms median  (%.2f–%.2f, p95 %.2f)  %5.2f× baseline  first %6.2f ms  %6u drawn\n",
          what, median, ms[1], ms[n], ms[1 + (guint) ((n - 1) * 0.95)],
          baseline > 0 ? median / baseline : 1.0, ms[0], prims);
  g_free (ms);
  cairo_surface_destroy (surface);
  return median;
}

/* The scenario is written as the JSON a user would write: the engine
 * keeps a reference to it, which a scenario on the stack cannot give. */
static IlTrace *
simulated (guint n_threads,
           guint n_steps)
{
  GString *json = g_string_new ("{ \"title\": \"bench\", \"mode\": \"threads\", \"cores\": 8, "
                                "\"switch_interval_ms\": 5, \"tasks\": [");
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(GError) error = NULL;
  IlRunConfig cfg;

  for (guint i = 0; i < n_threads; i++)
    g_string_append_printf (json, "%s{ \"name\": \"t%u\", \"steps\": [ { \"repeat\": %u, \"steps\": "
                            "[ {\"io\": 0.3}, {\"cpu\": 0.1} ] } ] }",
                            i > 0 ? ", " : "", i, MAX (1, n_steps / 2));
  g_string_append (json, "] }");
  sc = il_scenario_load_data (json->str, json->len, "bench", &error);
  g_string_free (json, TRUE);
  if (sc == NULL)
    g_error ("bench scenario: %s", error->message);
  il_run_config_from_scenario (&cfg, sc);
  return il_simulate (sc, &cfg, NULL);
}

/* Nested slices on 16 threads, like a VizTracer capture, built with the
 * calls the Chrome importer makes. */
static IlTrace *
imported (guint n_slices)
{
  IlTrace *t = il_trace_new ();
  guint32 proc = il_trace_add_lane (t, IL_LANE_PROCESS, "python (pid 1)", IL_NO_LANE, 1);
  guint32 lanes[16], names[8];
  gint64 now = 0;

  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *n = g_strdup_printf ("Thread %u", i);
      lanes[i] = il_trace_add_lane (t, IL_LANE_THREAD, n, proc, i);
    }
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *n = g_strdup_printf ("function_%u", i);
      names[i] = il_trace_intern (t, n);
    }
  /* Each group: a parent with three children, the threads taking turns. */
  for (guint s = 0; s < n_slices / 4; s++)
    {
      guint32 lane = lanes[s % 16];
      il_trace_append (t, now, lane, IL_EVENT_SLICE_BEGIN, 0, 0, names[s % 8]);
      for (guint c = 0; c < 3; c++)
        {
          il_trace_append (t, now + 1000 * c + 100, lane, IL_EVENT_SLICE_BEGIN, 0, 1, names[(s + c + 1) % 8]);
          il_trace_append (t, now + 1000 * c + 900, lane, IL_EVENT_SLICE_END, 0, 1, names[(s + c + 1) % 8]);
        }
      il_trace_append (t, now + 3000, lane, IL_EVENT_SLICE_END, 0, 0, names[s % 8]);
      now += 3500;
    }
  il_trace_set_end_time (t, now + 3500);
  return t;
}

/* A trace just opened in the window, n times afresh: the legend ranks its
 * names by self time (il-window.c, update_legend), then the timeline draws
 * the whole trace with an empty cache twice — the first frame directly,
 * the second, once the zoom has settled, in tiles.  Prints the medians and
 * ranges of the legend's part and of all three. */
static void
opened_frames (const IlTrace *trace,
               guint          n)
{
  const IlTheme *theme = il_theme_get (IL_THEME_LIGHT);
  g_autoptr(IlLayout) layout = il_layout_new (trace, &theme->metrics);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1600, 1000);
  g_autofree double *legend = g_new (double, n), *total = g_new (double, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(IlRenderCache) cache = il_render_cache_new ();
      guint32 names[12];
      double t0 = cpu_ms ();

      il_slice_lod_top_names (il_render_cache_get_slice_lod (cache), trace, names, G_N_ELEMENTS (names));
      legend[i] = cpu_ms () - t0;
      for (guint f = 0; f < 2; f++)
        draw_frame (surface, trace, layout, 0, trace->end_time, trace->end_time, cache);
      total[i] = cpu_ms () - t0;
    }
  qsort (legend, n, sizeof *legend, compare_doubles);
  qsort (total, n, sizeof *total, compare_doubles);
  printf ("  %-30s %7.2f ms median  (%.2f–%.2f), of which legend %.2f ms (%.2f–%.2f)\n",
          "opened: legend + 2 frames", total[n / 2], total[0], total[n - 1], legend[n / 2], legend[0],
          legend[n - 1]);
  cairo_surface_destroy (surface);
}

/* The whole trace, zoomed in, and panned, as the window draws them. */
static void
imported_frames (guint  n_slices,
                 double base)
{
  g_autoptr(IlTrace) imp = NULL;
  gint64 t0 = g_get_monotonic_time ();

  imp = imported (n_slices);
  printf ("Imported-style: %" G_GSIZE_FORMAT " events (%u nested slices on 16 threads, depth 2), %.1f ms "
          "(built in %.2f s)\n",
          imp->n_events, n_slices, imp->end_time / 1e6, (g_get_monotonic_time () - t0) / 1e6);
  opened_frames (imp, 5);
  frames ("whole trace, no cache", imp, 0, imp->end_time, 0, 0, 5, FALSE, base);
  frames ("whole trace", imp, 0, imp->end_time, 0, 0, 20, TRUE, base);
  frames ("zoomed to 1 ms", imp, imp->end_time / 2, IL_MSEC (1), 0, 0, 30, TRUE, base);
  frames ("panning at 1/10 of the trace", imp, 0, imp->end_time / 10, imp->end_time / 200, 0, 60, TRUE, base);
  frames ("panning at 1/1000 of the trace", imp, imp->end_time / 2, imp->end_time / 1000,
          imp->end_time / 20000, 0, 60, TRUE, base);
}

int
main (int argc, char **argv)
{
  guint n_threads = argc > 1 ? (guint) atoi (argv[1]) : 300;
  guint n_steps = argc > 2 ? (guint) atoi (argv[2]) : 400;
  guint n_slices = argc > 3 ? (guint) atoi (argv[3]) : 10000000;
  g_autoptr(IlTrace) sim = NULL;
  double base;
  gint64 t0 = g_get_monotonic_time ();

  sim = simulated (n_threads, n_steps);
  printf ("Simulated: %u threads × %u steps in threads mode on 8 cores: %" G_GSIZE_FORMAT " events, %u lanes, "
          "%.1f ms of virtual time (simulated in %.2f s)\n",
          n_threads, n_steps, sim->n_events, il_trace_get_n_lanes (sim), sim->end_time / 1e6,
          (g_get_monotonic_time () - t0) / 1e6);
  /* The baseline: a 20 ms range in the middle of the run drawn without a
   * cache, as the exporters draw: the same work on every machine. */
  base = frames ("20 ms, no cache (baseline)", sim, sim->end_time / 2, IL_MSEC (20), 0, 0, 30, FALSE, 0);
  frames ("whole run, no cache", sim, 0, sim->end_time, 0, 0, 30, FALSE, base);
  frames ("whole run", sim, 0, sim->end_time, 0, 0, 30, TRUE, base);
  frames ("zoomed to 20 ms", sim, sim->end_time / 2, IL_MSEC (20), 0, 0, 30, TRUE, base);
  frames ("zoomed to 200 µs", sim, sim->end_time / 2, IL_USEC (200), 0, 0, 30, TRUE, base);
  frames ("panning at 1/3 of the run", sim, 0, sim->end_time / 3, sim->end_time / 180, 0, 60, TRUE, base);
  /* Playing at 1× and 60 fps: the playhead moves 16.7 ms a frame. */
  frames ("playing, whole run in view", sim, 0, sim->end_time, 0, IL_USEC (16667), 60, TRUE, base);

  imported_frames (1000000, base);
  if (n_slices != 1000000)
    imported_frames (n_slices, base);
  return 0;
}
