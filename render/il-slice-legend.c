/* il-slice-legend.c — the legend of an imported trace: what its colours are
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <pango/pangocairo.h>

#include "il-slice-legend.h"

#include "il-render.h"

#define MAX_STACK 256

/* A lane's open slices while walking: their begin times and the time
 * their callees took, by depth, grown as deeper slices come. */
typedef struct {
  gint64 *begin, *callees;
  guint   open, cap;
} LaneStack;

guint
il_slice_legend_names (const IlTrace *t,
                       guint32       *names,
                       guint          max)
{
  g_autofree gint64 *self_ns = NULL;
  g_autofree LaneStack *stacks = NULL;
  guint n_strings = t->strings->len, n_lanes, n = 0;

  g_return_val_if_fail (t != NULL && (names != NULL || max == 0), 0);
  self_ns = g_new0 (gint64, MAX (n_strings, 1));
  n_lanes = il_trace_get_n_lanes (t);
  stacks = g_new0 (LaneStack, MAX (n_lanes, 1));

  /* In event order, not lane by lane: the columns are read front to back,
   * which for 20 M events is several times faster than following each
   * lane's index across the whole trace.  A lane's events keep their
   * order either way. */
  for (gsize e = 0; e < t->n_events; e++)
    {
      IlEventKind kind = t->kind[e];
      LaneStack *st;
      guint32 lane;
      guint d;

      if (kind != IL_EVENT_SLICE_BEGIN && kind != IL_EVENT_SLICE_END)
        continue;
      lane = il_trace_event_lane (t, e);
      if (lane >= n_lanes)
        continue;
      st = &stacks[lane];
      d = t->aux[e];
      if (kind == IL_EVENT_SLICE_BEGIN && d < MAX_STACK)
        {
          if (d >= st->cap)
            {
              st->cap = MIN (MAX_STACK, MAX (d + 1, MAX (8, st->cap * 2)));
              st->begin = g_renew (gint64, st->begin, st->cap);
              st->callees = g_renew (gint64, st->callees, st->cap);
            }
          /* A depth skipped on the way down (only in a damaged file)
           * has no begin: its end is not counted. */
          for (guint k = st->open; k < d; k++)
            st->begin[k] = G_MAXINT64, st->callees[k] = 0;
          st->begin[d] = t->time[e];
          st->callees[d] = 0;
          st->open = d + 1;
        }
      else if (kind == IL_EVENT_SLICE_END && d < st->open && st->begin[d] != G_MAXINT64)
        {
          gint64 dur = t->time[e] - st->begin[d];

          if (t->arg[e] < n_strings)
            self_ns[t->arg[e]] += MAX (0, dur - st->callees[d]);
          if (d > 0)
            st->callees[d - 1] += dur;
          st->open = d;
        }
    }
  for (guint32 lane = 0; lane < n_lanes; lane++)
    {
      g_free (stacks[lane].begin);
      g_free (stacks[lane].callees);
    }

  /* The max largest by insertion: max is a dozen. */
  for (guint32 s = 0; s < n_strings; s++)
    {
      guint at;

      if (self_ns[s] <= 0)
        continue;
      for (at = n; at > 0 && self_ns[names[at - 1]] < self_ns[s]; at--)
        ;
      if (at >= max)
        continue;
      if (n < max)
        n++;
      memmove (names + at + 1, names + at, (n - 1 - at) * sizeof *names);
      names[at] = s;
    }
  return n;
}

void
il_slice_name_colours (const IlTrace *trace,
                       const guint32 *top,
                       guint          n_top,
                       guint16       *colours)
{
  g_return_if_fail (trace != NULL && colours != NULL && (top != NULL || n_top == 0));
  g_return_if_fail (n_top <= IL_THEME_N_COLOURS);
  for (guint32 s = 0; s < trace->strings->len; s++)
    colours[s] = (guint16) (IL_THEME_N_IDENTITY
                            + g_str_hash (il_trace_get_string (trace, s)) % (IL_THEME_N_COLOURS - IL_THEME_N_IDENTITY));
  for (guint r = 0; r < n_top; r++)
    if (top[r] < trace->strings->len)
      colours[top[r]] = (guint16) r;
}

double
il_slice_legend_draw (cairo_t        *cr,
                      const IlTheme  *theme,
                      const IlTrace  *trace,
                      const guint32  *names,
                      guint           n_names,
                      double          x,
                      double          y,
                      double          width)
{
  double fs = theme->font_size;
  double cx = x, cy = y, row_h = fs * 1.8;
  PangoLayout *text = il_render_legend_text (cr, fs);

  /* Long qualified names ("fib (/home/…/multithread.py:8)") are cut. */
  pango_layout_set_width (text, (int) (MIN (width, fs * 22) * PANGO_SCALE));
  pango_layout_set_ellipsize (text, PANGO_ELLIPSIZE_MIDDLE);

  for (guint i = 0; i <= n_names; i++)
    {
      gboolean heading = i == 0;
      int tw, th;
      double item_w, sw = heading ? 0 : fs * 1.6;

      pango_layout_set_text (text, heading ? "Most time in:" : il_trace_get_string (trace, names[i - 1]), -1);
      pango_layout_get_pixel_size (text, &tw, &th);
      item_w = sw + (heading ? 0 : fs * 0.5) + tw + fs * 1.5;
      if (cx + item_w > x + width && cx > x)
        {
          /* Two rows at most: the timeline needs the height more. */
          if (cy > y)
            break;
          cx = x;
          cy += row_h;
        }
      if (cr != NULL)
        {
          if (!heading)
            {
              il_theme_set_source (cr, il_theme_identity (theme, i - 1));
              cairo_rectangle (cr, cx, cy + row_h / 2 - fs * 0.45, sw, fs * 0.9);
              cairo_fill (cr);
            }
          il_theme_set_source (cr, heading ? &theme->dim : &theme->foreground);
          cairo_move_to (cr, cx + sw + (heading ? 0 : fs * 0.5), cy + (row_h - th) / 2);
          pango_cairo_show_layout (cr, text);
        }
      cx += item_w;
    }

  g_object_unref (text);
  return cy + row_h - y;
}
