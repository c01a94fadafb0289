/* il-view.c — time↔pixel maths, tick choice, lane layout and hit-testing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "il-view.h"

gint64
il_viewport_x_to_time (const IlViewport *vp,
                       double            x)
{
  return vp->start + (gint64) llround (x * (double) vp->span / vp->width);
}

void
il_viewport_zoom (IlViewport *vp,
                  double      factor,
                  double      anchor_x)
{
  gint64 anchor = il_viewport_x_to_time (vp, anchor_x);
  double span = (double) vp->span * factor;

  span = CLAMP (span, (double) IL_VIEWPORT_MIN_SPAN, (double) IL_VIEWPORT_MAX_SPAN);
  vp->span = (gint64) llround (span);
  /* Keep `anchor` under anchor_x. */
  vp->start = anchor - (gint64) llround (anchor_x * span / vp->width);
}

void
il_viewport_pan (IlViewport *vp,
                 double      dx_px)
{
  vp->start += (gint64) llround (dx_px * (double) vp->span / vp->width);
}

void
il_viewport_fit (IlViewport *vp,
                 gint64      t0,
                 gint64      t1)
{
  gint64 span = MAX (t1 - t0, IL_VIEWPORT_MIN_SPAN);
  gint64 margin = span / 40;

  vp->start = t0 - margin;
  vp->span = CLAMP (span + 2 * margin, IL_VIEWPORT_MIN_SPAN, IL_VIEWPORT_MAX_SPAN);
}

gboolean
il_viewport_follow (IlViewport *vp,
                    gint64      now)
{
  gint64 right = vp->start + vp->span - vp->span / 10;

  if (now >= vp->start && now <= right)
    return FALSE;
  vp->start = now - vp->span / 10;
  return TRUE;
}

gint64
il_ticks_choose_step (const IlViewport *vp,
                      double            min_px)
{
  double ns_per_px = (double) vp->span / vp->width;
  double want = ns_per_px * min_px;
  gint64 decade = 1;

  while ((double) decade * 10 <= want && decade < G_GINT64_CONSTANT (1000000000000000))
    decade *= 10;
  /* The smallest of 1, 2, 5 × decade (or the next decade) that is ≥ want. */
  if ((double) decade >= want)
    return decade;
  if ((double) (2 * decade) >= want)
    return 2 * decade;
  if ((double) (5 * decade) >= want)
    return 5 * decade;
  return 10 * decade;
}

/* A label ("150 ms", "1.25 ms") is at most about 3.5 em of the ruler's
 * 0.9 type; 8 em apart reads easily, 4.5 em still leaves a gap.  Four
 * steps across the plot decide between them: 330 px of presenter type
 * showed only "0" at 8 em (the next label fell past the edge). */
double
il_ticks_label_spacing (double font_px,
                        double width)
{
  return MIN (8 * font_px, MAX (4.5 * font_px, width / 4));
}

/* A label the right edge would cut ("200 m") says nothing, and leaving
 * it out left the end of a narrow plot without a time (lesson 3 in
 * presenter mode at 1024 px: "0", "50 ms" and no "100 ms"): the last
 * label ends at its tick instead, when that keeps clear of the one
 * before. */
double
il_ticks_label_x (double tick_x,
                  double label_w,
                  double width,
                  double prev_end)
{
  double x = tick_x + 3;

  if (x + label_w > width)
    x = tick_x - 3 - label_w;
  if (x < prev_end + 6 || x < 0)
    return -1;
  return x;
}

typedef struct {
  gint64      ns;
  const char *unit;
} Unit;

static const Unit units[] = {
  { 1000000000, "s" },
  { 1000000, "ms" },
  { 1000, "µs" },
  { 1, "ns" },
};

static const Unit *
unit_for (gint64 magnitude)
{
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (magnitude >= units[i].ns)
      return &units[i];
  return &units[G_N_ELEMENTS (units) - 1];
}

char *
il_format_tick (gint64 t,
                gint64 step)
{
  /* The unit follows the step so that every label on one ruler reads in the
   * same unit, unless the times themselves are large (a 2 µs step at
   * t = 3 s still reads best in ms with decimals). */
  const Unit *u = unit_for (MAX (step, 1));
  int decimals = 0;
  gint64 s = step;

  if (llabs (t) >= 1000 * u->ns && u != &units[0])
    {
      u--;
    }
  /* Enough decimals to tell neighbouring ticks apart. */
  while (s % u->ns != 0 && decimals < 9)
    {
      decimals++;
      s *= 10;
    }
  if (t == 0)
    return g_strdup ("0");
  return g_strdup_printf ("%.*f %s", decimals, (double) t / (double) u->ns, u->unit);
}

char *
il_format_duration (gint64 ns)
{
  gint64 a = llabs (ns);

  if (a < 1000)
    return g_strdup_printf ("%" G_GINT64_FORMAT " ns", ns);
  if (a < 1000000)
    return g_strdup_printf ("%.3g µs", (double) ns / 1e3);
  if (a < 1000000000)
    return g_strdup_printf ("%.3f ms", (double) ns / 1e6);
  return g_strdup_printf ("%.3f s", (double) ns / 1e9);
}

/* ---------------------------------------------------------------- layout */

static void
push_row (IlLayout   *layout,
          IlRowKind   kind,
          guint32     lane,
          double      height,
          guint       depth,
          const char *label,
          double      gap)
{
  IlRow row = { kind, lane, layout->height, height, depth, label, 1 };

  g_array_append_val (layout->rows, row);
  if (lane != IL_NO_LANE)
    layout->lane_row[lane] = layout->rows->len - 1;
  layout->height += height + gap;
}

static guint
lane_slice_depth (const IlTrace *trace,
                  guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = idx->data;
  guint depth = 0;

  for (guint i = 0; i < idx->len; i++)
    if (trace->kind[v[i]] == IL_EVENT_SLICE_BEGIN)
      depth = MAX (depth, (guint) trace->aux[v[i]] + 1);
  return depth;
}

static void
push_lane (IlLayout              *layout,
           const IlTrace         *trace,
           const IlLayoutMetrics *m,
           guint32                lane,
           guint                  depth)
{
  const IlLane *l = il_trace_get_lane (trace, lane);
  guint sub_rows = 1;
  double h;

  switch (l->kind)
    {
    case IL_LANE_CORE:
    case IL_LANE_GIL:
    case IL_LANE_LOOP:
    case IL_LANE_COUNTER:
      h = m->small_height;
      break;
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
    case IL_LANE_PROCESS:
    case IL_N_LANE_KINDS:
    default:
      {
        /* Imported traces nest slices: one sub-row per level, up to 8. */
        guint levels = lane_slice_depth (trace, lane);
        h = levels <= 1 ? m->lane_height
                        : m->lane_height * (0.4 + 0.6 * MIN (levels, 8));
        sub_rows = CLAMP (levels, 1, 8);
      }
      break;
    }
  push_row (layout, IL_ROW_LANE, lane, h, depth, l->name, m->gap);
  g_array_index (layout->rows, IlRow, layout->rows->len - 1).sub_rows = sub_rows;
}

static IlLayout *
layout_new (const IlTrace         *trace,
            const IlLayoutMetrics *m,
            gboolean               compact)
{
  IlLayout *layout = g_new0 (IlLayout, 1);
  guint n = il_trace_get_n_lanes (trace);
  gboolean any_core = FALSE;

  layout->rows = g_array_new (FALSE, TRUE, sizeof (IlRow));
  layout->n_lanes = n;
  layout->lane_row = g_new (guint32, MAX (n, 1));
  layout->lane_colour = g_new0 (guint16, MAX (n, 1));
  for (guint i = 0, k = 0; i < n; i++)
    {
      IlLaneKind kind = il_trace_get_lane (trace, i)->kind;
      layout->lane_row[i] = IL_NO_LANE;
      /* Tasks and threads take turns through the identity colours, so
       * neighbours differ and a task keeps its colour on cores and GIL. */
      if (kind == IL_LANE_TASK || kind == IL_LANE_THREAD || kind == IL_LANE_COUNTER)
        layout->lane_colour[i] = (guint16) (k++ % G_MAXUINT16);
    }

  for (guint32 i = 0; i < n && !compact; i++)
    if (il_trace_get_lane (trace, i)->kind == IL_LANE_CORE)
      {
        if (!any_core)
          push_row (layout, IL_ROW_HEADING, IL_NO_LANE, m->heading_height, 0, "CPU cores", m->gap);
        any_core = TRUE;
        push_lane (layout, trace, m, i, 1);
      }

  /* Each process, then what belongs to it in the order people think of it:
   * the GIL, the event loop, plain threads, then the tasks. */
  for (guint32 p = 0; p < n; p++)
    {
      const IlLane *pl = il_trace_get_lane (trace, p);
      static const IlLaneKind order[] = { IL_LANE_GIL, IL_LANE_LOOP, IL_LANE_THREAD,
                                          IL_LANE_TASK, IL_LANE_COUNTER };

      if (pl->kind != IL_LANE_PROCESS)
        continue;
      if (!compact)
        push_row (layout, IL_ROW_HEADING, p, m->heading_height, 0, pl->name, m->gap);
      for (guint k = 0; k < G_N_ELEMENTS (order); k++)
        for (guint32 i = 0; i < n; i++)
          {
            const IlLane *l = il_trace_get_lane (trace, i);
            if (l->parent == p && l->kind == order[k] && !(compact && l->kind == IL_LANE_GIL))
              push_lane (layout, trace, m, i, compact ? 0 : 1);
          }
    }

  /* Whatever has no process (or an unknown one). */
  for (guint32 i = 0; i < n; i++)
    {
      const IlLane *l = il_trace_get_lane (trace, i);
      if (layout->lane_row[i] == IL_NO_LANE && l->kind != IL_LANE_PROCESS
          && !(compact && (l->kind == IL_LANE_CORE || l->kind == IL_LANE_GIL)))
        push_lane (layout, trace, m, i, 0);
    }

  return layout;
}

IlLayout *
il_layout_new (const IlTrace         *trace,
               const IlLayoutMetrics *m)
{
  return layout_new (trace, m, FALSE);
}

/* The compare view on a projector stacks every mode in one screen: the
 * cores, the GIL lanes and the headings go (which core ran what and who
 * held the GIL is the detail; who ran, who waited for the GIL — hatched in
 * its own lane — and when each finished is the comparison), the loop,
 * thread and task lanes stay, unindented. */
IlLayout *
il_layout_new_compact (const IlTrace         *trace,
                       const IlLayoutMetrics *m)
{
  return layout_new (trace, m, TRUE);
}

void
il_layout_free (IlLayout *layout)
{
  if (layout == NULL)
    return;
  g_array_unref (layout->rows);
  g_free (layout->lane_row);
  g_free (layout->lane_colour);
  g_free (layout);
}

int
il_layout_row_at (const IlLayout *layout,
                  double          y)
{
  guint lo = 0, hi = layout->rows->len;

  /* Rows are sorted by y: find the last row starting at or above y. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (layout->rows, IlRow, mid).y <= y)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return -1;
  {
    const IlRow *row = &g_array_index (layout->rows, IlRow, lo - 1);
    if (y >= row->y + row->height)
      return -1;
  }
  return (int) lo - 1;
}

/**
 * il_layout_out_of_view:
 *
 * Counts the lanes a tag at the head ("↑ 3 more lanes") and at the foot of
 * the view should name: exactly those whose name cannot be read.  A name
 * is a line of name_h px (at most the lane's height) at its lane's middle;
 * it is read when that line lies wholly in the view and clear of the
 * bands of tag_h px the tags take at the head and foot (a band only where
 * its tag shows).  A tall lane (a deep stack of slices) whose edge alone
 * is under a band keeps its name.  The counted lanes lie in
 * [0, above_end) and [below_start, …), which the caller clears, bars and
 * names alike: a lane whose bars show has its name beside them (and the
 * headings just above the foot's counted lanes go with them).
 */
void
il_layout_out_of_view (const IlLayout   *layout,
                       double            scroll_y,
                       double            visible,
                       double            tag_h,
                       double            name_h,
                       IlLanesOutOfView *out)
{
  const IlRow *rows = (const IlRow *) (gpointer) layout->rows->data;
  guint n = layout->rows->len;
  double bottom = scroll_y + visible;
  gboolean tag_above = FALSE, tag_below = FALSE;

  out->above = out->below = 0;
  out->above_end = scroll_y;
  out->below_start = bottom;
  /* A tag shows when some name is cut by the edge of the view: then its
   * band is what the names must also stay clear of. */
  for (guint i = 0; i < n; i++)
    if (rows[i].kind == IL_ROW_LANE)
      {
        double mid = rows[i].y + rows[i].height / 2;
        double half = MIN (rows[i].height, name_h) / 2;

        tag_above |= mid - half < scroll_y;
        tag_below |= mid + half > bottom;
      }
  for (guint i = 0; (tag_above || tag_below) && i < n; i++)
    {
      const IlRow *row = &rows[i];
      double mid = row->y + row->height / 2;
      double half = MIN (row->height, name_h) / 2;

      if (row->kind != IL_ROW_LANE)
        continue;
      if (tag_above && mid - half < scroll_y + tag_h)
        {
          out->above++;
          out->above_end = MAX (out->above_end, row->y + row->height);
        }
      else if (tag_below && mid + half > bottom - tag_h)
        {
          out->below++;
          out->below_start = MIN (out->below_start, row->y);
        }
    }
  /* A heading whose lanes the foot's tag counts goes with them: it would
   * head nothing ("Process-4 (tiny_4)" above the tag at 1024×600). */
  for (guint i = n; out->below > 0 && i-- > 0;)
    if (rows[i].y < out->below_start)
      {
        if (rows[i].kind != IL_ROW_HEADING)
          break;
        out->below_start = rows[i].y;
      }
  out->above_end = MIN (out->above_end, bottom);
  out->below_start = MAX (out->below_start, scroll_y);
}

static const char *
lane_name (const IlTrace *trace,
           guint32        lane)
{
  if (lane == IL_NO_LANE || lane >= il_trace_get_n_lanes (trace))
    return NULL;
  return il_trace_get_lane (trace, lane)->name;
}

static const char *
cause_phrase (IlCause cause)
{
  switch (cause)
    {
    case IL_CAUSE_START: return "started by";
    case IL_CAUSE_IO: return "woken by an I/O completion";
    case IL_CAUSE_TIMER: return "woken by a timer";
    case IL_CAUSE_GIL_HANDOFF: return "got the GIL from";
    case IL_CAUSE_GIL_TIMEOUT: return "its GIL wait timed out";
    case IL_CAUSE_PREEMPT: return "the OS scheduler switched cores";
    case IL_CAUSE_LOCK: return "the lock was released by";
    case IL_CAUSE_FUTURE: return "the awaited result came from";
    case IL_CAUSE_CALL_SOON: return "scheduled by the event loop";
    case IL_CAUSE_LOOP: return "stepped by the event loop";
    case IL_CAUSE_POOL: return "handed over by the pool";
    case IL_CAUSE_RETURNED: return "returned";
    case IL_CAUSE_FAILED: return "raised an exception";
    case IL_CAUSE_CANCELLED: return "cancelled because of";
    case IL_CAUSE_QUEUE: return "the queue it waited on was served by";
    case IL_CAUSE_NONE:
    case IL_N_CAUSES:
    default:
      return NULL;
    }
}

char *
il_format_interval (const IlTrace         *trace,
                    const IlTraceInterval *hit)
{
  GString *s = g_string_new (NULL);
  const IlLane *lane = il_trace_get_lane (trace, hit->lane);
  g_autofree char *since = il_format_duration (hit->start);
  g_autofree char *length = il_format_duration (hit->end - hit->start);
  const char *other = lane_name (trace, hit->other);

  g_string_append_printf (s, "%s — ", lane->name);
  switch (lane->kind)
    {
    case IL_LANE_CORE:
      g_string_append_printf (s, "running %s", other ? other : "nothing");
      break;
    case IL_LANE_GIL:
      g_string_append_printf (s, "held by %s", other ? other : "nobody");
      if (hit->waiters > 0)
        g_string_append_printf (s, ", %u waiting", hit->waiters);
      break;
    case IL_LANE_LOOP:
      if (hit->state == IL_STATE_RUNNING)
        g_string_append_printf (s, "running a step of %s", other ? other : "a callback");
      else if (hit->state == IL_STATE_IDLE)
        g_string_append (s, "waiting in select() for I/O or a timer");
      else
        g_string_append (s, "its own bookkeeping (timers, ready queue)");
      break;
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
      if (hit->event != G_MAXSIZE
          && trace->kind[hit->event] == IL_EVENT_SLICE_BEGIN)
        g_string_append (s, il_trace_get_string (trace, trace->arg[hit->event]));
      else
        {
          const char *phrase = cause_phrase (hit->cause);
          g_string_append (s, il_state_to_string (hit->state));
          if (phrase != NULL)
            {
              g_string_append_printf (s, "\n%s", phrase);
              if (other != NULL && hit->other != hit->lane)
                g_string_append_printf (s, " %s", other);
            }
        }
      break;
    case IL_LANE_PROCESS:
    case IL_LANE_COUNTER:
    case IL_N_LANE_KINDS:
    default:
      break;
    }
  g_string_append_printf (s, "\nsince %s, for %s%s", since, length, hit->open ? " so far" : "");
  return g_string_free (s, FALSE);
}
