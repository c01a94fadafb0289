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
  IlRow row = { kind, lane, layout->height, height, depth, label };

  g_array_append_val (layout->rows, row);
  if (lane != IL_NO_LANE)
    layout->lane_row[lane] = layout->rows->len - 1;
  layout->height += height + gap;
}

static guint
lane_slice_depth (const IlTrace *trace,
                  guint32        lane)
{
  const GArray *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = (const guint32 *) (gpointer) idx->data;
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
      }
      break;
    }
  push_row (layout, IL_ROW_LANE, lane, h, depth, l->name, m->gap);
}

IlLayout *
il_layout_new (const IlTrace         *trace,
               const IlLayoutMetrics *m)
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

  for (guint32 i = 0; i < n; i++)
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
      push_row (layout, IL_ROW_HEADING, p, m->heading_height, 0, pl->name, m->gap);
      for (guint k = 0; k < G_N_ELEMENTS (order); k++)
        for (guint32 i = 0; i < n; i++)
          {
            const IlLane *l = il_trace_get_lane (trace, i);
            if (l->parent == p && l->kind == order[k])
              push_lane (layout, trace, m, i, 1);
          }
    }

  /* Whatever has no process (or an unknown one). */
  for (guint32 i = 0; i < n; i++)
    {
      const IlLane *l = il_trace_get_lane (trace, i);
      if (layout->lane_row[i] == IL_NO_LANE && l->kind != IL_LANE_PROCESS)
        push_lane (layout, trace, m, i, 0);
    }

  return layout;
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

/* ----------------------------------------------------------- hit testing */

typedef gboolean (*EventFilter) (const IlTrace *trace, guint32 e);

static gboolean
is_state (const IlTrace *trace, guint32 e)
{
  return trace->kind[e] == IL_EVENT_STATE;
}

static gboolean
is_core (const IlTrace *trace, guint32 e)
{
  return trace->kind[e] == IL_EVENT_CORE;
}

static gboolean
is_gil_owner (const IlTrace *trace, guint32 e)
{
  return trace->kind[e] == IL_EVENT_GIL_TAKE || trace->kind[e] == IL_EVENT_GIL_DROP;
}

static gboolean
is_loop_phase (const IlTrace *trace, guint32 e)
{
  switch (trace->kind[e])
    {
    case IL_EVENT_LOOP_ITER:
    case IL_EVENT_LOOP_SELECT:
    case IL_EVENT_LOOP_SELECT_END:
    case IL_EVENT_LOOP_CALLBACK:
    case IL_EVENT_LOOP_CALLBACK_END:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Position in the lane index of the last matching event at or before t, or
 * -1; and the time of the next matching event after it (bounded by upto). */
static gssize
find_interval (const IlTrace *trace,
               guint32        lane,
               gint64         t,
               gint64         upto,
               EventFilter    filter,
               gint64        *end,
               gboolean      *open)
{
  const GArray *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = (const guint32 *) (gpointer) idx->data;
  guint pos = il_trace_lane_lower_bound (trace, lane, t == G_MAXINT64 ? t : t + 1);
  gssize found = -1;

  for (guint p = pos; p > 0; p--)
    if (filter (trace, v[p - 1]))
      {
        found = (gssize) p - 1;
        break;
      }
  if (found < 0)
    return -1;

  *end = MIN (upto, trace->end_time);
  *open = TRUE;
  for (guint p = (guint) found + 1; p < idx->len; p++)
    if (filter (trace, v[p]) && trace->time[v[p]] > trace->time[v[found]])
      {
        if (trace->time[v[p]] <= upto)
          {
            *end = trace->time[v[p]];
            *open = FALSE;
          }
        break;
      }
  return found;
}

static gboolean
hit_slice (const IlTrace *trace,
           guint32        lane,
           gint64         t,
           gint64         upto,
           IlHit         *hit)
{
  const GArray *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = (const guint32 *) (gpointer) idx->data;
  guint pos = il_trace_lane_lower_bound (trace, lane, t == G_MAXINT64 ? t : t + 1);
  guint closed[64] = { 0 };

  /* Walk back to the innermost slice begun before t and not ended by t. */
  for (guint p = pos; p > 0; p--)
    {
      guint32 e = v[p - 1];
      guint depth = MIN (trace->aux[e], 63);

      if (trace->kind[e] == IL_EVENT_SLICE_END)
        closed[depth]++;
      else if (trace->kind[e] == IL_EVENT_SLICE_BEGIN)
        {
          if (closed[depth] > 0)
            {
              closed[depth]--;
              continue;
            }
          hit->lane = lane;
          hit->start = trace->time[e];
          hit->event = e;
          hit->state = IL_STATE_RUNNING;
          hit->end = MIN (upto, trace->end_time);
          hit->open = TRUE;
          for (guint q = pos; q < idx->len; q++)
            {
              guint32 f = v[q];
              if (trace->kind[f] == IL_EVENT_SLICE_END && trace->aux[f] == trace->aux[e])
                {
                  if (trace->time[f] <= upto)
                    {
                      hit->end = trace->time[f];
                      hit->open = FALSE;
                    }
                  break;
                }
            }
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
il_lane_has_slices (const IlTrace *trace,
                    guint32        lane)
{
  const GArray *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = (const guint32 *) (gpointer) idx->data;

  for (guint i = 0; i < idx->len; i++)
    {
      if (trace->kind[v[i]] == IL_EVENT_STATE)
        return FALSE;
      if (trace->kind[v[i]] == IL_EVENT_SLICE_BEGIN)
        return TRUE;
    }
  return FALSE;
}

gboolean
il_hit_test (const IlTrace *trace,
             guint32        lane,
             gint64         t,
             gint64         upto,
             IlHit         *hit)
{
  const IlLane *l;
  const guint32 *v;
  EventFilter filter;
  gssize pos;
  guint32 e;

  g_return_val_if_fail (hit != NULL, FALSE);

  memset (hit, 0, sizeof *hit);
  hit->lane = lane;
  hit->other = IL_NO_LANE;
  hit->event = G_MAXSIZE;
  if (lane >= il_trace_get_n_lanes (trace) || t > upto || t < 0)
    return FALSE;

  l = il_trace_get_lane (trace, lane);
  v = (const guint32 *) (gpointer) il_trace_get_lane_events (trace, lane)->data;

  switch (l->kind)
    {
    case IL_LANE_CORE: filter = is_core; break;
    case IL_LANE_GIL: filter = is_gil_owner; break;
    case IL_LANE_LOOP: filter = is_loop_phase; break;
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
      if (il_lane_has_slices (trace, lane))
        return hit_slice (trace, lane, t, upto, hit);
      filter = is_state;
      break;
    case IL_LANE_PROCESS:
    case IL_LANE_COUNTER:
    case IL_N_LANE_KINDS:
    default:
      return FALSE;
    }

  pos = find_interval (trace, lane, t, upto, filter, &hit->end, &hit->open);
  if (pos < 0)
    return FALSE;
  e = v[pos];
  hit->event = e;
  hit->start = trace->time[e];

  switch (l->kind)
    {
    case IL_LANE_CORE:
      hit->other = trace->arg[e];
      return hit->other != IL_NO_LANE;
    case IL_LANE_GIL:
      if (trace->kind[e] != IL_EVENT_GIL_TAKE)
        return FALSE;
      hit->other = trace->arg[e];
      {
        /* Waiters: the last GIL_WAITERS count at or before t. */
        const GArray *idx = il_trace_get_lane_events (trace, lane);
        guint p = il_trace_lane_lower_bound (trace, lane, t + 1);
        for (; p > 0; p--)
          if (trace->kind[v[p - 1]] == IL_EVENT_GIL_WAITERS)
            {
              hit->waiters = trace->arg[v[p - 1]];
              break;
            }
        (void) idx;
      }
      return TRUE;
    case IL_LANE_LOOP:
      hit->state = trace->kind[e] == IL_EVENT_LOOP_CALLBACK ? IL_STATE_RUNNING
                 : trace->kind[e] == IL_EVENT_LOOP_SELECT ? IL_STATE_IDLE
                 : IL_STATE_READY;
      hit->other = trace->kind[e] == IL_EVENT_LOOP_CALLBACK ? trace->arg[e] : IL_NO_LANE;
      return TRUE;
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
      hit->state = (IlState) trace->value[e];
      hit->cause = (IlCause) trace->aux[e];
      hit->other = trace->arg[e];
      return hit->state != IL_STATE_NOT_STARTED;
    case IL_LANE_PROCESS:
    case IL_LANE_COUNTER:
    case IL_N_LANE_KINDS:
    default:
      return FALSE;
    }
}

static gboolean
is_scheduling_event (IlEventKind kind,
                     gboolean    gil_only)
{
  if (gil_only)
    return kind == IL_EVENT_GIL_TAKE || kind == IL_EVENT_GIL_DROP;
  switch (kind)
    {
    case IL_EVENT_STATE:
    case IL_EVENT_CORE:
    case IL_EVENT_GIL_TAKE:
    case IL_EVENT_GIL_DROP:
    case IL_EVENT_LOOP_CALLBACK:
    case IL_EVENT_LOOP_SELECT:
    case IL_EVENT_SLICE_BEGIN:
    case IL_EVENT_SLICE_END:
      return TRUE;
    default:
      return FALSE;
    }
}

gint64
il_trace_next_event_time (const IlTrace *trace,
                          gint64         t,
                          gboolean       backwards,
                          gboolean       gil_only)
{
  if (backwards)
    {
      gsize i = il_trace_lower_bound (trace, t);   /* first with time >= t */
      while (i > 0)
        {
          i--;
          if (trace->time[i] < t && is_scheduling_event (trace->kind[i], gil_only))
            return trace->time[i];
        }
      return -1;
    }
  for (gsize i = il_trace_lower_bound (trace, t == G_MAXINT64 ? t : t + 1); i < trace->n_events; i++)
    if (is_scheduling_event (trace->kind[i], gil_only))
      return trace->time[i];
  return -1;
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
    case IL_CAUSE_NONE:
    case IL_N_CAUSES:
    default:
      return NULL;
    }
}

char *
il_hit_describe (const IlTrace *trace,
                 const IlHit   *hit)
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
