/* test-slice-lod.c — the slice level of detail covers exactly the slices' pixels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A lane of random nested slices (some of no length, some never closed,
 * instants between them) is turned into pixel columns at many zooms and
 * offsets three ways: by brute force over the list of slices, by a walk
 * from the lane's start, and with the level of detail (its buckets when
 * zoomed out, its checkpoints when zoomed in).  Coverage must agree
 * exactly, column by column and depth by depth; the walks must also agree
 * on the name shown, and the buckets must show the name of a slice that is
 * really in the column.  Picking a column finds the slice drawn in it.
 */
#include <glib.h>

#include "il-slice-legend.h"
#include "il-slice-lod.h"
#include "il-theme.h"
#include "il-view.h"

#define N_DEPTHS 4

typedef struct {
  guint   depth;
  gint64  begin, end;   /* end = the trace's end for slices never closed */
  guint32 name;
} Slice;

typedef struct {
  IlTrace *trace;
  guint32  lane;
  guint32  other;       /* a lane whose events come between */
  GArray  *slices;      /* of Slice, in the order they close */
} Fixture;

static void
gen (Fixture *f,
     GRand   *rand,
     guint    depth,
     gint64  *now,
     gint64   until,
     guint32 *names)
{
  while (*now < until)
    {
      Slice s;

      /* Back to back, short gaps, and now and then a long idle time, so
       * that buckets and columns are both empty and full. */
      switch (g_rand_int_range (rand, 0, 16))
        {
        case 0: case 1: case 2: case 3:
          break;
        case 4:
          *now += g_rand_int_range (rand, 100000, 30000000);
          break;
        default:
          *now += g_rand_int_range (rand, 1, 20000);
          break;
        }
      if (*now >= until)
        break;
      if (g_rand_int_range (rand, 0, 12) == 0)
        il_trace_append (f->trace, *now, f->lane, IL_EVENT_INSTANT, 0, 0, names[0]);
      /* Another thread's calls between this lane's events: the level of
       * detail is built for all lanes in one pass over the trace. */
      if (g_rand_int_range (rand, 0, 3) == 0)
        {
          il_trace_append (f->trace, *now, f->other, IL_EVENT_SLICE_BEGIN, 0, 0, names[3]);
          il_trace_append (f->trace, *now, f->other, IL_EVENT_SLICE_END, 0, 0, names[3]);
        }
      s.depth = depth;
      s.begin = *now;
      s.name = names[g_rand_int_range (rand, 0, 6)];
      il_trace_append (f->trace, s.begin, f->lane, IL_EVENT_SLICE_BEGIN, 0, depth, s.name);
      if (g_rand_int_range (rand, 0, 8) == 0)
        ;   /* no length */
      else if (depth + 1 < N_DEPTHS + 1 && g_rand_int_range (rand, 0, 3) == 0)
        gen (f, rand, depth + 1, now, *now + g_rand_int_range (rand, 1, 200000), names);
      else
        *now += g_rand_int_range (rand, 1, 30000);
      s.end = *now;
      il_trace_append (f->trace, s.end, f->lane, IL_EVENT_SLICE_END, 0, depth, s.name);
      g_array_append_val (f->slices, s);
    }
}

static void
fixture_init (Fixture *f,
              guint32  seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint32 names[6];
  gint64 now = 1000;
  Slice open[2];

  f->trace = il_trace_new ();
  f->other = il_trace_add_lane (f->trace, IL_LANE_THREAD, "other", IL_NO_LANE, 1);
  f->lane = il_trace_add_lane (f->trace, IL_LANE_THREAD, "main", IL_NO_LANE, 0);
  f->slices = g_array_new (FALSE, FALSE, sizeof (Slice));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *n = g_strdup_printf ("f%u", i);
      names[i] = il_trace_intern (f->trace, n);
    }
  gen (f, rand, 0, &now, 2000000000, names);
  /* Two slices never closed: they last to the end of the trace. */
  open[0] = (Slice) { 0, now + 500, 0, names[1] };
  open[1] = (Slice) { 1, now + 900, 0, names[2] };
  il_trace_append (f->trace, open[0].begin, f->lane, IL_EVENT_SLICE_BEGIN, 0, 0, open[0].name);
  il_trace_append (f->trace, open[1].begin, f->lane, IL_EVENT_SLICE_BEGIN, 0, 1, open[1].name);
  il_trace_set_end_time (f->trace, now + 40000);
  for (guint i = 0; i < 2; i++)
    {
      open[i].end = f->trace->end_time;
      g_array_append_val (f->slices, open[i]);
    }
}

static void
fixture_clear (Fixture *f)
{
  il_trace_unref (f->trace);
  g_array_unref (f->slices);
}

static inline gint64
col_end (const gint64 *bounds,
         guint         c)
{
  return MAX (bounds[c + 1], bounds[c] + 1);
}

/* Each column shows the slice overlapping it most, the first to close on
 * ties. */
static void
brute_force (const Fixture *f,
             const gint64  *bounds,
             guint          n_cols,
             guint32       *out)
{
  gint64 *weight = g_new0 (gint64, (gsize) N_DEPTHS * n_cols);

  for (gsize i = 0; i < (gsize) N_DEPTHS * n_cols; i++)
    out[i] = IL_NO_LANE;
  for (guint i = 0; i < f->slices->len; i++)
    {
      const Slice *s = &g_array_index (f->slices, Slice, i);
      gint64 e = MAX (s->end, s->begin + 1);

      if (s->depth >= N_DEPTHS)
        continue;
      for (guint c = 0; c < n_cols; c++)
        {
          gint64 ov = MIN (e, col_end (bounds, c)) - MAX (s->begin, bounds[c]);
          gsize k = (gsize) s->depth * n_cols + c;
          if (ov > weight[k])
            {
              weight[k] = ov;
              out[k] = s->name;
            }
        }
    }
  g_free (weight);
}

static gboolean
slice_in_column (const Fixture *f,
                 guint          depth,
                 guint32        name,
                 gint64         t0,
                 gint64         t1)
{
  for (guint i = 0; i < f->slices->len; i++)
    {
      const Slice *s = &g_array_index (f->slices, Slice, i);
      if (s->depth == depth && s->name == name && s->begin < t1 && MAX (s->end, s->begin + 1) > t0)
        return TRUE;
    }
  return FALSE;
}

/* Checks one view; returns whether the level of detail's buckets served it. */
static gboolean
check_view (const Fixture *f,
            IlSliceLod    *lod,
            gint64         start,
            gint64         span,
            guint          n_cols)
{
  IlViewport vp = { start, span, n_cols };
  g_autofree gint64 *bounds = g_new (gint64, n_cols + 1);
  g_autofree guint32 *expect = g_new (guint32, (gsize) N_DEPTHS * n_cols);
  g_autofree guint32 *walk = g_new (guint32, (gsize) N_DEPTHS * n_cols);
  g_autofree guint32 *got = g_new (guint32, (gsize) N_DEPTHS * n_cols);
  gboolean from_lod;

  for (guint c = 0; c <= n_cols; c++)
    bounds[c] = il_viewport_x_to_time (&vp, c);
  brute_force (f, bounds, n_cols, expect);
  g_assert_false (il_slice_columns (NULL, f->trace, f->lane, bounds, n_cols, N_DEPTHS, G_MAXINT64, walk));
  from_lod = il_slice_columns (lod, f->trace, f->lane, bounds, n_cols, N_DEPTHS, G_MAXINT64, got);

  for (guint d = 0; d < N_DEPTHS; d++)
    for (guint c = 0; c < n_cols; c++)
      {
        gsize k = (gsize) d * n_cols + c;

        if (walk[k] != expect[k] || (got[k] == IL_NO_LANE) != (expect[k] == IL_NO_LANE))
          g_error ("view %" G_GINT64_FORMAT "+%" G_GINT64_FORMAT " × %u px, depth %u, column %u "
                   "[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): expected %u, walk %u, %s %u",
                   start, span, n_cols, d, c, bounds[c], col_end (bounds, c), expect[k], walk[k],
                   from_lod ? "buckets" : "checkpoints", got[k]);
        /* Picking under the pointer finds the slice drawn there. */
        if (c % 5 == 0)
          {
            IlTraceInterval hit;
            gboolean found = il_slice_pick (c % 2 ? lod : NULL, f->trace, f->lane, d, bounds[c],
                                            bounds[c + 1], G_MAXINT64, &hit);

            g_assert_cmpint (found, ==, expect[k] != IL_NO_LANE);
            if (found)
              {
                g_assert_cmpuint (f->trace->kind[hit.event], ==, IL_EVENT_SLICE_BEGIN);
                g_assert_cmpuint (f->trace->aux[hit.event], ==, d);
                g_assert_cmpuint (f->trace->arg[hit.event], ==, expect[k]);
                g_assert_cmpint (hit.start, <, col_end (bounds, c));
                g_assert_cmpint (MAX (hit.end, hit.start + 1), >, bounds[c]);
              }
          }
        if (from_lod)
          {
            if (got[k] != IL_NO_LANE)
              g_assert_true (slice_in_column (f, d, got[k], bounds[c], col_end (bounds, c)));
          }
        else
          g_assert_cmpuint (got[k], ==, expect[k]);
      }
  return from_lod;
}

static void
test_exact (void)
{
  guint n_lod = 0, n_walk = 0;

  for (guint32 seed = 1; seed <= 3; seed++)
    {
      Fixture f;
      g_autoptr(IlSliceLod) lod = il_slice_lod_new ();
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed * 77);
      gint64 end;

      fixture_init (&f, seed);
      end = f.trace->end_time;
      g_assert_cmpuint (f.slices->len, >, 1000);

      /* The whole trace at widths from a thumbnail to a wide screen. */
      for (guint w = 10; w <= 3200; w *= 2)
        if (check_view (&f, lod, 0, end, w))
          n_lod++;
        else
          n_walk++;
      /* Zoomed views at odd offsets, spans and widths, past both ends too,
       * and tiles of 256 columns on a grid, as the timeline draws them. */
      for (guint i = 0; i < 60; i++)
        {
          gint64 span = MAX (200, end >> g_rand_int_range (rand, 0, i % 3 == 1 ? 3 : 14));
          gint64 start = g_rand_int_range (rand, -1000, 1000) + (gint64) (g_rand_double (rand) * (double) end);
          /* Narrow views have columns as wide as the coarse buckets. */
          guint w = i % 3 == 0 ? 256 : (guint) g_rand_int_range (rand, 7, i % 3 == 1 ? 40 : 2000);

          if (check_view (&f, lod, start, span, w))
            n_lod++;
          else
            n_walk++;
        }
      fixture_clear (&f);
    }
  g_test_message ("%u views from the buckets, %u from walks", n_lod, n_walk);
  /* Both ways were checked. */
  g_assert_cmpuint (n_lod, >, 10);
  g_assert_cmpuint (n_walk, >, 10);
}

/* A grown trace (a live recording) is not drawn from the old buckets. */
static void
test_grown (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  g_autoptr(IlSliceLod) lod = il_slice_lod_new ();
  guint32 lane = il_trace_add_lane (t, IL_LANE_THREAD, "main", IL_NO_LANE, 0);
  guint32 name = il_trace_intern (t, "work");
  gint64 bounds[3] = { 0, 500000, 1000000 };
  guint32 out[2];

  for (gint64 i = 0; i < 2000; i++)
    {
      il_trace_append (t, i * 200, lane, IL_EVENT_SLICE_BEGIN, 0, 0, name);
      il_trace_append (t, i * 200 + 100, lane, IL_EVENT_SLICE_END, 0, 0, name);
    }
  il_trace_set_end_time (t, 400000);
  il_slice_columns (lod, t, lane, bounds, 2, 1, G_MAXINT64, out);
  g_assert_cmpuint (out[0], ==, name);
  g_assert_cmpuint (out[1], ==, IL_NO_LANE);
  il_trace_append (t, 700000, lane, IL_EVENT_SLICE_BEGIN, 0, 0, name);
  il_trace_append (t, 700100, lane, IL_EVENT_SLICE_END, 0, 0, name);
  il_trace_set_end_time (t, 1000000);
  il_slice_columns (lod, t, lane, bounds, 2, 1, G_MAXINT64, out);
  g_assert_cmpuint (out[1], ==, name);
}

/* The legend of an imported trace: names by self time, most first. */
static void
test_legend_names (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 lane = il_trace_add_lane (t, IL_LANE_THREAD, "main", IL_NO_LANE, 0);
  guint32 other = il_trace_add_lane (t, IL_LANE_THREAD, "worker", IL_NO_LANE, 1);
  guint32 main_ = il_trace_intern (t, "main"), a = il_trace_intern (t, "a"), b = il_trace_intern (t, "b");
  guint32 names[4];

  /* main [0, 100) calls a [10, 40) and b [50, 60); the worker runs b for
   * 25 more: self times main 60, a 30, b 35. */
  il_trace_append (t, 0, lane, IL_EVENT_SLICE_BEGIN, 0, 0, main_);
  il_trace_append (t, 0, other, IL_EVENT_SLICE_BEGIN, 0, 0, b);
  il_trace_append (t, 10, lane, IL_EVENT_SLICE_BEGIN, 0, 1, a);
  il_trace_append (t, 25, other, IL_EVENT_SLICE_END, 0, 0, b);
  il_trace_append (t, 40, lane, IL_EVENT_SLICE_END, 0, 1, a);
  il_trace_append (t, 50, lane, IL_EVENT_SLICE_BEGIN, 0, 1, b);
  il_trace_append (t, 60, lane, IL_EVENT_SLICE_END, 0, 1, b);
  il_trace_append (t, 100, lane, IL_EVENT_SLICE_END, 0, 0, main_);
  il_trace_set_end_time (t, 100);

  g_assert_cmpuint (il_slice_legend_names (t, names, 4), ==, 3);
  g_assert_cmpuint (names[0], ==, main_);
  g_assert_cmpuint (names[1], ==, b);
  g_assert_cmpuint (names[2], ==, a);
  g_assert_cmpuint (il_slice_legend_names (t, names, 2), ==, 2);
  g_assert_cmpuint (names[0], ==, main_);
  g_assert_cmpuint (names[1], ==, b);
}

/* The LOD's colours for every string of t are those of a ranking made
 * afresh. */
static void
assert_lod_colours (IlSliceLod    *lod,
                    const IlTrace *t)
{
  guint32 top[IL_THEME_N_COLOURS];
  guint n = il_slice_legend_names (t, top, G_N_ELEMENTS (top));
  g_autofree guint16 *want = g_new (guint16, t->strings->len);

  il_slice_name_colours (t, top, n, want);
  for (guint32 s = 0; s < t->strings->len; s++)
    g_assert_cmpuint (il_slice_lod_name_colour (lod, t, s), ==, want[s]);
}

/* Slice colours: names coloured by string id alone shared a hue every 16
 * ids (VizTracer's `fib` and `_thread.lock.release`).  The names with the
 * most self time take the palette in turn, the first eight a hue of their
 * own; the rest a darker shade by their name's hash, the same for the same
 * names however they are numbered; and the renderer's lookup agrees. */
static void
test_name_colours (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  g_autoptr(IlTrace) again = il_trace_new ();
  g_autoptr(IlSliceLod) lod = il_slice_lod_new ();
  guint32 lane = il_trace_add_lane (t, IL_LANE_THREAD, "main", IL_NO_LANE, 0);
  guint32 ids[40], names[IL_THEME_N_COLOURS];
  g_autofree guint16 *colours = NULL, *colours2 = NULL;
  gint64 now = 0;
  guint n;

  /* Forty names, name k running for 1000 - k ns but f16 for longest: f16
   * and f00, whose ids are 16 apart (they shared a colour), lead. */
  for (guint k = 0; k < 40; k++)
    {
      g_autofree char *name = g_strdup_printf ("f%02u", k);
      ids[k] = il_trace_intern (t, name);
    }
  g_assert_cmpuint (ids[16] - ids[0], ==, 16);
  for (guint k = 0; k < 40; k++)
    {
      il_trace_append (t, now, lane, IL_EVENT_SLICE_BEGIN, 0, 0, ids[k]);
      now += k == 16 ? 2000 : 1000 - k;
      il_trace_append (t, now, lane, IL_EVENT_SLICE_END, 0, 0, ids[k]);
    }
  il_trace_set_end_time (t, now);
  colours = g_new (guint16, t->strings->len);
  n = il_slice_legend_names (t, names, G_N_ELEMENTS (names));
  il_slice_name_colours (t, names, n, colours);
  g_assert_cmpuint (n, ==, IL_THEME_N_COLOURS);
  g_assert_cmpuint (names[0], ==, ids[16]);
  g_assert_cmpuint (names[1], ==, ids[0]);
  g_assert_cmpuint (colours[ids[16]], !=, colours[ids[0]]);
  /* The legend's i-th swatch is colour i… */
  for (guint r = 0; r < n; r++)
    g_assert_cmpuint (colours[names[r]], ==, r);
  /* …the first eight hues are theirs alone, the rest are shades. */
  for (guint k = 0; k < 40; k++)
    {
      gboolean top = FALSE;
      for (guint r = 0; r < IL_THEME_N_IDENTITY; r++)
        top = top || names[r] == ids[k];
      if (!top)
        g_assert_cmpuint (colours[ids[k]], >=, IL_THEME_N_IDENTITY);
      g_assert_cmpuint (colours[ids[k]], <, IL_THEME_N_COLOURS);
    }
  for (guint k = 0; k < 40; k++)
    g_assert_cmpuint (il_slice_lod_name_colour (lod, t, ids[k]), ==, colours[ids[k]]);
  /* The legend's names come from the same ranking, however many it asks. */
  for (guint max = 0; max <= IL_THEME_N_COLOURS; max += 4)
    {
      guint32 top[IL_THEME_N_COLOURS];

      g_assert_cmpuint (il_slice_lod_top_names (lod, t, top, max), ==, max);
      g_assert_cmpmem (top, max * sizeof *top, names, max * sizeof *names);
    }

  /* A trace that grows (a live recording) is ranked anew: f39 runs on
   * until it leads, then a new name outruns it. */
  il_trace_append (t, now, lane, IL_EVENT_SLICE_BEGIN, 0, 0, ids[39]);
  now += 5000;
  il_trace_append (t, now, lane, IL_EVENT_SLICE_END, 0, 0, ids[39]);
  il_trace_set_end_time (t, now);
  assert_lod_colours (lod, t);
  g_assert_cmpuint (il_slice_lod_name_colour (lod, t, ids[39]), ==, 0);
  g_assert_cmpuint (il_slice_lod_name_colour (lod, t, ids[16]), ==, 1);
  {
    guint32 late = il_trace_intern (t, "late");

    il_trace_append (t, now, lane, IL_EVENT_SLICE_BEGIN, 0, 0, late);
    now += 10000;
    il_trace_append (t, now, lane, IL_EVENT_SLICE_END, 0, 0, late);
    il_trace_set_end_time (t, now);
    assert_lod_colours (lod, t);
    g_assert_cmpuint (il_slice_lod_name_colour (lod, t, late), ==, 0);
    g_assert_cmpuint (il_slice_lod_name_colour (lod, t, ids[39]), ==, 1);
    g_assert_cmpuint (il_slice_lod_top_names (lod, t, names, 1), ==, 1);
    g_assert_cmpuint (names[0], ==, late);
  }

  /* The same names interned in another order get the same colours: the
   * ranking and a name's hash, not its id, pick them. */
  il_trace_add_lane (again, IL_LANE_THREAD, "main", IL_NO_LANE, 0);
  for (guint k = 40; k-- > 0;)
    {
      g_autofree char *name = g_strdup_printf ("f%02u", k);
      il_trace_intern (again, name);
    }
  now = 0;
  for (guint k = 0; k < 40; k++)
    {
      g_autofree char *name = g_strdup_printf ("f%02u", k);
      guint32 id = il_trace_intern (again, name);
      il_trace_append (again, now, 0, IL_EVENT_SLICE_BEGIN, 0, 0, id);
      now += k == 16 ? 2000 : 1000 - k;
      il_trace_append (again, now, 0, IL_EVENT_SLICE_END, 0, 0, id);
    }
  il_trace_set_end_time (again, now);
  colours2 = g_new (guint16, again->strings->len);
  n = il_slice_legend_names (again, names, G_N_ELEMENTS (names));
  il_slice_name_colours (again, names, n, colours2);
  for (guint k = 0; k < 40; k++)
    {
      g_autofree char *name = g_strdup_printf ("f%02u", k);
      g_assert_cmpuint (colours2[il_trace_intern (again, name)], ==, colours[ids[k]]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/slice-lod/exact", test_exact);
  g_test_add_func ("/render/slice-lod/grown", test_grown);
  g_test_add_func ("/render/slice-lod/legend-names", test_legend_names);
  g_test_add_func ("/render/slice-lod/name-colours", test_name_colours);
  return g_test_run ();
}
