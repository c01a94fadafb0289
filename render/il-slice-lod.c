/* il-slice-lod.c — level of detail for the nested slices of imported traces
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "il-slice-lod.h"
#include "il-slice-legend.h"   /* the names' colours: their self times */

/* Open slices are kept every this many events of a lane. */
#define CHECKPOINT_EVERY 256
/* The finest level has about one bucket per 16 events of the lane, at
 * most 2^16 (32 bytes each, per depth: 2 MB a depth for a lane of a
 * million events, a tenth of what the trace holds for them): below it, the
 * slices in a column are few enough to walk.  With 2^14, panning 10 M
 * slices at a tenth of the trace walked 22 000 events a new tile and lane,
 * and frames took up to 100 ms. */
#define BASE_MIN_CELLS 64
#define BASE_MAX_CELLS (1u << 16)
#define N_LEVELS 63
#define NO_BEGIN G_MAXINT64

typedef struct {
  gint64  first;       /* first covered ns in the bucket, G_MAXINT64 if none */
  gint64  last;        /* one past the last covered ns */
  guint32 first_name;  /* a slice covering first */
  guint32 last_name;   /* a slice covering last - 1 */
  guint32 name;        /* the slice covering most of the bucket */
  float   weight;      /* how many ns of it */
} Cell;

/* What is open after the events before a position of the lane. */
typedef struct {
  guint   open;
  gint64  begin[IL_SLICE_MAX_DEPTH];
  guint32 name[IL_SLICE_MAX_DEPTH];
  guint32 event[IL_SLICE_MAX_DEPTH];   /* the begin event, for picking */
} Stack;

typedef struct {
  int      base;                                  /* finest level */
  Cell    *cells[IL_SLICE_MAX_DEPTH][N_LEVELS];   /* NULL until needed; no depth-d slice: stays NULL */
  gboolean has_depth[IL_SLICE_MAX_DEPTH];
  GArray  *checkpoints;                           /* of Stack, one per CHECKPOINT_EVERY events */
  gboolean has_counter_max;
  double   counter_max;
} LaneLod;

struct _IlSliceLod {
  IlTrace    *trace;      /* held: another trace never gets these cells */
  gsize       n_events;   /* its size when they were built */
  gint64      end_time;
  GHashTable *lanes;      /* lane → LaneLod */
  /* Slice names' colours, string id → identity colour, the names with the
   * most self time they were made of, and the trace (held) and size they
   * are for. */
  guint16    *colours;
  guint32     top[IL_THEME_N_COLOURS];
  guint       n_top;
  guint       n_colours;
  IlTrace    *colours_trace;
  gsize       colours_events;
};

static void
lane_lod_free (gpointer data)
{
  LaneLod *l = data;

  for (guint d = 0; d < IL_SLICE_MAX_DEPTH; d++)
    for (guint k = 0; k < N_LEVELS; k++)
      g_free (l->cells[d][k]);
  if (l->checkpoints != NULL)
    g_array_unref (l->checkpoints);
  g_free (l);
}

IlSliceLod *
il_slice_lod_new (void)
{
  IlSliceLod *lod = g_new0 (IlSliceLod, 1);

  lod->lanes = g_hash_table_new_full (NULL, NULL, NULL, lane_lod_free);
  return lod;
}

/* Forgets every lane's cells (not the names' colours, which
 * colours_validate keeps in step with the trace on its own). */
static void
lanes_drop (IlSliceLod *lod)
{
  g_hash_table_remove_all (lod->lanes);
  g_clear_pointer (&lod->trace, il_trace_unref);
}

void
il_slice_lod_keep_only (IlSliceLod    *lod,
                        const IlTrace *trace)
{
  g_return_if_fail (lod != NULL);
  if (trace == NULL || lod->trace != trace)
    lanes_drop (lod);
  if (trace == NULL || lod->colours_trace != trace)
    {
      g_clear_pointer (&lod->colours, g_free);
      g_clear_pointer (&lod->colours_trace, il_trace_unref);
      lod->n_colours = 0;
      lod->n_top = 0;
    }
}

void
il_slice_lod_clear (IlSliceLod *lod)
{
  il_slice_lod_keep_only (lod, NULL);
}

/* Ranks the names of trace and colours them, unless that was done for the
 * trace at its present size. */
static void
colours_validate (IlSliceLod    *lod,
                  const IlTrace *trace)
{
  if (G_LIKELY (lod->colours_trace == trace && lod->colours_events == trace->n_events
                && lod->n_colours == trace->strings->len))
    return;
  /* One walk over the trace for the names' self times. */
  g_free (lod->colours);
  g_clear_pointer (&lod->colours_trace, il_trace_unref);
  lod->n_colours = trace->strings->len;
  lod->colours = g_new (guint16, MAX (lod->n_colours, 1));
  lod->n_top = il_slice_legend_names (trace, lod->top, G_N_ELEMENTS (lod->top));
  il_slice_name_colours (trace, lod->top, lod->n_top, lod->colours);
  lod->colours_trace = il_trace_ref ((IlTrace *) trace);
  lod->colours_events = trace->n_events;
}

guint
il_slice_lod_name_colour (IlSliceLod    *lod,
                          const IlTrace *trace,
                          guint32        name)
{
  colours_validate (lod, trace);
  return name < lod->n_colours ? lod->colours[name] : name % IL_THEME_N_COLOURS;
}

guint
il_slice_lod_top_names (IlSliceLod    *lod,
                        const IlTrace *trace,
                        guint32       *names,
                        guint          max)
{
  guint n;

  g_return_val_if_fail (lod != NULL && trace != NULL && (names != NULL || max == 0), 0);
  g_return_val_if_fail (max <= IL_THEME_N_COLOURS, 0);
  colours_validate (lod, trace);
  /* The ranking is a total order (self time, then id), so the first max
   * of the longer list are the max a shorter ranking would give. */
  n = MIN (max, lod->n_top);
  memcpy (names, lod->top, n * sizeof *names);
  return n;
}

void
il_slice_lod_free (IlSliceLod *lod)
{
  if (lod == NULL)
    return;
  il_slice_lod_clear (lod);
  g_hash_table_destroy (lod->lanes);
  g_free (lod);
}

static inline gsize
n_cells_at (gint64 end,
            int    level)
{
  /* Buckets up to and including the end time: a slice of no length at
   * the very end covers its first ns. */
  return (gsize) (end >> level) + 1;
}

/* One step of the walk over a lane's events, the same for building, for
 * replaying from a checkpoint and for drawing: TRUE when event e closes a
 * slice of a depth kept in the stack, with *depth, *begin and *name. */
static inline gboolean
stack_step (Stack         *s,
            const IlTrace *t,
            guint32        e,
            guint         *depth,
            gint64        *begin,
            guint32       *name)
{
  guint d = t->aux[e];

  if (t->kind[e] == IL_EVENT_SLICE_BEGIN)
    {
      /* Depths skipped by a malformed file have no known begin. */
      for (guint k = s->open; k < d && k < IL_SLICE_MAX_DEPTH; k++)
        s->begin[k] = NO_BEGIN;
      if (d < IL_SLICE_MAX_DEPTH)
        {
          s->begin[d] = t->time[e];
          s->name[d] = t->arg[e];
          s->event[d] = e;
        }
      s->open = d + 1;
      return FALSE;
    }
  if (t->kind[e] != IL_EVENT_SLICE_END || d >= s->open)
    return FALSE;   /* an end without its begin changes nothing */
  s->open = d;
  if (d >= IL_SLICE_MAX_DEPTH || s->begin[d] == NO_BEGIN)
    return FALSE;
  *depth = d;
  *begin = s->begin[d];
  *name = s->name[d];
  return TRUE;
}

static void
cells_cover (Cell    *cells,
             gsize    n_cells,
             int      level,
             gint64   b,
             gint64   e,
             guint32  name)
{
  gint64 k0, k1;

  b = MAX (b, 0);
  e = MAX (e, b + 1);
  k0 = b >> level;
  k1 = MIN ((e - 1) >> level, (gint64) n_cells - 1);
  for (gint64 k = k0; k <= k1; k++)
    {
      gint64 lo = MAX (b, k << level), hi = MIN (e, (k + 1) << level);
      Cell *cell = &cells[k];

      if (lo < cell->first)
        {
          cell->first = lo;
          cell->first_name = name;
        }
      if (hi > cell->last)
        {
          cell->last = hi;
          cell->last_name = name;
        }
      if ((float) (hi - lo) > cell->weight)
        {
          cell->weight = (float) (hi - lo);
          cell->name = name;
        }
    }
}

static Cell *
cells_new (gsize n)
{
  Cell *cells = g_new (Cell, n);

  for (gsize k = 0; k < n; k++)
    cells[k] = (Cell) { G_MAXINT64, G_MININT64, IL_NO_LANE, IL_NO_LANE, IL_NO_LANE, 0 };
  return cells;
}

/* Building a lane's finest level and checkpoints, one event at a time. */
typedef struct {
  LaneLod *l;
  Stack    s;
  guint    pos;    /* position in the lane's index */
  gsize    n;      /* cells per depth */
} Build;

static void
build_begin (Build         *b,
             IlSliceLod    *lod,
             const IlTrace *t,
             guint32        lane)
{
  guint len = il_trace_get_lane_events (t, lane)->len;
  gsize target = 1;

  memset (b, 0, sizeof *b);
  b->l = g_new0 (LaneLod, 1);
  while (target < len / 16 && target < BASE_MAX_CELLS)
    target *= 2;
  target = MAX (target, BASE_MIN_CELLS);
  while (b->l->base < N_LEVELS - 1 && n_cells_at (lod->end_time, b->l->base) > target)
    b->l->base++;
  b->n = n_cells_at (lod->end_time, b->l->base);
  b->l->checkpoints = g_array_sized_new (FALSE, FALSE, sizeof (Stack), len / CHECKPOINT_EVERY + 1);
}

static void
build_cover (Build   *b,
             guint    depth,
             gint64   begin,
             gint64   end,
             guint32  name)
{
  LaneLod *l = b->l;

  if (l->cells[depth][l->base] == NULL)
    l->cells[depth][l->base] = cells_new (b->n);
  l->has_depth[depth] = TRUE;
  cells_cover (l->cells[depth][l->base], b->n, l->base, begin, end, name);
}

static inline void
build_step (Build         *b,
            const IlTrace *t,
            guint32        e)
{
  guint depth;
  gint64 begin;
  guint32 name;

  if (b->pos++ % CHECKPOINT_EVERY == 0)
    g_array_append_val (b->l->checkpoints, b->s);
  if (stack_step (&b->s, t, e, &depth, &begin, &name))
    build_cover (b, depth, begin, t->time[e], name);
}

/* Slices never closed last to the end of the trace. */
static LaneLod *
build_end (Build      *b,
           IlSliceLod *lod)
{
  for (guint d = 0; d < MIN (b->s.open, IL_SLICE_MAX_DEPTH); d++)
    if (b->s.begin[d] != NO_BEGIN)
      build_cover (b, d, b->s.begin[d], lod->end_time, b->s.name[d]);
  return b->l;
}

/* Every slice lane in one pass over the trace's columns, in the order
 * they were written: a lane's events are scattered through them, and
 * reading them lane by lane costs a cache miss an event (a 10 M-slice
 * trace took half a second, this a fraction of it). */
static void
build_all (IlSliceLod    *lod,
           const IlTrace *t)
{
  guint n_lanes = il_trace_get_n_lanes (t);
  g_autofree Build *b = g_new0 (Build, n_lanes);
  g_autofree guint8 *want = g_new0 (guint8, n_lanes);

  for (guint32 lane = 0; lane < n_lanes; lane++)
    {
      IlLaneKind kind = il_trace_get_lane (t, lane)->kind;
      if ((kind == IL_LANE_THREAD || kind == IL_LANE_TASK) && il_trace_lane_has_slices (t, lane))
        {
          build_begin (&b[lane], lod, t, lane);
          want[lane] = 1;
        }
    }
  for (gsize e = 0; e < t->n_events; e++)
    if (il_trace_event_lane (t, e) < n_lanes && want[il_trace_event_lane (t, e)])
      build_step (&b[il_trace_event_lane (t, e)], t, (guint32) e);
  for (guint32 lane = 0; lane < n_lanes; lane++)
    if (want[lane])
      g_hash_table_insert (lod->lanes, GUINT_TO_POINTER (lane), build_end (&b[lane], lod));
}

/* One walk over one lane (a counter's, or one added since). */
static LaneLod *
lane_build (IlSliceLod    *lod,
            const IlTrace *t,
            guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  Build b;

  build_begin (&b, lod, t, lane);
  for (guint p = 0; p < idx->len; p++)
    build_step (&b, t, idx->data[p]);
  return build_end (&b, lod);
}

static LaneLod *
lane_get (IlSliceLod    *lod,
          const IlTrace *trace,
          guint32        lane)
{
  LaneLod *l;

  /* A trace that grew (a live recording) gets new cells. */
  if (lod->trace != trace || lod->n_events != trace->n_events || lod->end_time != trace->end_time)
    {
      /* The colours stay: ranking the names walks the whole trace, and
       * the legend may have just done it for this one. */
      lanes_drop (lod);
      lod->trace = il_trace_ref ((IlTrace *) trace);
      lod->n_events = trace->n_events;
      lod->end_time = trace->end_time;
      build_all (lod, trace);
    }
  l = g_hash_table_lookup (lod->lanes, GUINT_TO_POINTER (lane));
  if (l == NULL)
    {
      l = lane_build (lod, trace, lane);
      g_hash_table_insert (lod->lanes, GUINT_TO_POINTER (lane), l);
    }
  return l;
}

/* Cells of depth d at level (≥ base), merging pairs of the level below. */
static const Cell *
lane_cells (LaneLod *l,
            gint64   end,
            guint    d,
            int      level)
{
  if (!l->has_depth[d])
    return NULL;
  for (int k = l->base + 1; k <= level; k++)
    if (l->cells[d][k] == NULL)
      {
        const Cell *fine = l->cells[d][k - 1];
        gsize n = n_cells_at (end, k), n_fine = n_cells_at (end, k - 1);
        Cell *cells = cells_new (n);

        for (gsize i = 0; i < n; i++)
          for (gsize j = 2 * i; j < MIN (2 * i + 2, n_fine); j++)
            {
              const Cell *f = &fine[j];
              if (f->first == G_MAXINT64)
                continue;
              if (f->first < cells[i].first)
                {
                  cells[i].first = f->first;
                  cells[i].first_name = f->first_name;
                }
              if (f->last > cells[i].last)
                {
                  cells[i].last = f->last;
                  cells[i].last_name = f->last_name;
                }
              if (f->weight > cells[i].weight)
                {
                  cells[i].weight = f->weight;
                  cells[i].name = f->name;
                }
            }
        l->cells[d][k] = cells;
      }
  return l->cells[d][level];
}

/* What is open before position `pos` of the lane: replayed from the
 * checkpoint before it, or from the lane's start without a level of
 * detail. */
static void
stack_at (LaneLod       *l,
          const IlTrace *t,
          const guint32 *v,
          guint          pos,
          Stack         *s)
{
  guint p0 = 0, depth;
  gint64 begin;
  guint32 name;

  memset (s, 0, sizeof *s);
  if (l != NULL && l->checkpoints->len > 0)
    {
      guint k = MIN (pos / CHECKPOINT_EVERY, l->checkpoints->len - 1);
      *s = g_array_index (l->checkpoints, Stack, k);
      p0 = k * CHECKPOINT_EVERY;
    }
  for (guint p = p0; p < pos; p++)
    stack_step (s, t, v[p], &depth, &begin, &name);
}

static inline gint64
col_end (const gint64 *bounds,
         guint         c)
{
  return MAX (bounds[c + 1], bounds[c] + 1);
}

/* From the level of detail: exact because every column is at least two
 * buckets wide, so a bucket straddles at most one of its edges, and the
 * bucket's first and last covered instants say whether its coverage
 * reaches over that edge.  A bucket inside the column offers the name
 * covering most of it; one across the left edge the slice at its last
 * covered instant, one across the right edge the slice at its first: those
 * are surely in the column. */
static void
columns_from_cells (const Cell   *cells,
                    gsize         n_cells,
                    int           level,
                    const gint64 *bounds,
                    guint         n_cols,
                    gint64        upto,
                    guint32      *out)
{
  for (guint c = 0; c < n_cols; c++)
    {
      gint64 t0 = MAX (bounds[c], 0), t1 = col_end (bounds, c);
      gint64 k1 = (t1 - 1) >> level;
      float best = -1;

      out[c] = IL_NO_LANE;
      if (t1 <= 0 || bounds[c] > upto)
        continue;
      k1 = MIN (k1, (gint64) n_cells - 1);
      for (gint64 k = t0 >> level; k <= k1; k++)
        {
          const Cell *cell = &cells[k];
          guint32 name = cell->name;
          float weight = cell->weight;

          if (cell->first >= t1 || cell->last <= t0)
            continue;
          if ((k << level) < t0)
            {
              name = cell->last_name;
              weight = MIN (weight, (float) (cell->last - t0));
            }
          else if (((k + 1) << level) > t1)
            {
              name = cell->first_name;
              weight = MIN (weight, (float) (t1 - cell->first));
            }
          if (weight > best)
            {
              best = weight;
              out[c] = name;
            }
        }
    }
}

/* Paints [b, e) into the columns at one depth: each column keeps the name
 * that covers most of it. */
static void
walk_cover (const gint64 *bounds,
            guint         n_cols,
            gint64        b,
            gint64        e,
            guint32       name,
            gint64       *weight,
            guint32      *out)
{
  guint lo = 0, hi = n_cols;

  e = MAX (e, b + 1);
  /* The first column whose end is past b. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (col_end (bounds, mid) <= b)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (guint c = lo; c < n_cols && bounds[c] < e; c++)
    {
      gint64 ov = MIN (e, col_end (bounds, c)) - MAX (b, bounds[c]);
      if (ov > weight[c])
        {
          weight[c] = ov;
          out[c] = name;
        }
    }
}

gboolean
il_slice_columns (IlSliceLod    *lod,
                  const IlTrace *trace,
                  guint32        lane,
                  const gint64  *bounds,
                  guint          n_cols,
                  guint          n_depths,
                  gint64         upto,
                  guint32       *out)
{
  const IlLaneIndex *idx;
  const guint32 *v;
  LaneLod *l = NULL;
  Stack s;
  guint lo, hi, depth;
  gint64 tmax, begin, min_w = G_MAXINT64, *weight;
  guint32 name;
  int level;

  g_return_val_if_fail (trace != NULL && bounds != NULL && out != NULL, FALSE);
  n_depths = MIN (n_depths, IL_SLICE_MAX_DEPTH);
  for (gsize i = 0; i < (gsize) n_depths * n_cols; i++)
    out[i] = IL_NO_LANE;
  if (n_cols == 0 || n_depths == 0 || lane >= il_trace_get_n_lanes (trace))
    return FALSE;

  if (lod != NULL && trace->end_time > 0)
    {
      l = lane_get (lod, trace, lane);
      for (guint c = 0; c < n_cols; c++)
        min_w = MIN (min_w, col_end (bounds, c) - bounds[c]);
      /* The coarsest level with two buckets or more per column. */
      level = min_w >= 2 ? (int) floor (log2 ((double) min_w / 2)) : -1;
      while (level >= 0 && ((gint64) 2 << level) > min_w)
        level--;
      level = MIN (level, N_LEVELS - 1);
      if (level >= l->base)
        {
          for (guint d = 0; d < n_depths; d++)
            {
              const Cell *cells = lane_cells (l, lod->end_time, d, level);
              if (cells != NULL)
                columns_from_cells (cells, n_cells_at (lod->end_time, level), level, bounds, n_cols, upto,
                                    out + (gsize) d * n_cols);
            }
          return TRUE;
        }
    }

  /* Walk: the open slices at the first column from the checkpoint before
   * it (or the lane's start), then every slice closing in view. */
  idx = il_trace_get_lane_events (trace, lane);
  v = (const guint32 *) (gpointer) idx->data;
  tmax = col_end (bounds, n_cols - 1);
  if (upto != G_MAXINT64)
    tmax = MIN (tmax, upto + 1);
  lo = il_trace_lane_lower_bound (trace, lane, bounds[0]);
  hi = il_trace_lane_lower_bound (trace, lane, tmax);
  hi = MAX (hi, lo);
  stack_at (l, trace, v, lo, &s);

  weight = g_new0 (gint64, (gsize) n_depths * n_cols);
  for (guint p = lo; p < hi; p++)
    if (stack_step (&s, trace, v[p], &depth, &begin, &name) && depth < n_depths)
      walk_cover (bounds, n_cols, begin, trace->time[v[p]], name, weight + (gsize) depth * n_cols,
                  out + (gsize) depth * n_cols);
  /* Open at the right edge: they last to their end, or to the trace's. */
  for (guint d = 0; d < MIN (s.open, n_depths); d++)
    if (s.begin[d] != NO_BEGIN)
      walk_cover (bounds, n_cols, s.begin[d], MIN (tmax, MAX (trace->end_time, s.begin[d] + 1)), s.name[d],
                  weight + (gsize) d * n_cols, out + (gsize) d * n_cols);
  g_free (weight);
  return FALSE;
}

double
il_slice_lod_counter_max (IlSliceLod    *lod,
                          const IlTrace *trace,
                          guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = (const guint32 *) (gpointer) idx->data;
  LaneLod *l = lod != NULL ? lane_get (lod, trace, lane) : NULL;
  double max = 0;

  if (l != NULL && l->has_counter_max)
    return l->counter_max;
  for (guint p = 0; p < idx->len; p++)
    if (trace->kind[v[p]] == IL_EVENT_COUNTER)
      max = MAX (max, fabs (il_trace_bits_float (trace->arg[v[p]])));
  if (l != NULL)
    {
      l->counter_max = max;
      l->has_counter_max = TRUE;
    }
  return max;
}

gboolean
il_slice_pick (IlSliceLod      *lod,
               const IlTrace   *trace,
               guint32          lane,
               guint            depth,
               gint64           t0,
               gint64           t1,
               gint64           upto,
               IlTraceInterval *hit)
{
  const IlLaneIndex *idx;
  const guint32 *v;
  LaneLod *l;
  Stack s;
  guint lo, hi, d;
  gint64 begin, best = 0, best_end = -1;
  guint32 name, best_event = IL_NO_LANE;

  g_return_val_if_fail (trace != NULL && hit != NULL, FALSE);
  if (depth >= IL_SLICE_MAX_DEPTH || lane >= il_trace_get_n_lanes (trace))
    return FALSE;
  idx = il_trace_get_lane_events (trace, lane);
  v = (const guint32 *) (gpointer) idx->data;
  l = lod != NULL && trace->end_time > 0 ? lane_get (lod, trace, lane) : NULL;
  t1 = MAX (t1, t0 + 1);
  if (upto != G_MAXINT64)
    t1 = MIN (t1, upto + 1);
  lo = il_trace_lane_lower_bound (trace, lane, t0);
  hi = MAX (il_trace_lane_lower_bound (trace, lane, t1), lo);
  stack_at (l, trace, v, lo, &s);

  /* The slice of that depth covering most of [t0, t1), as drawn. */
  for (guint p = lo; p < hi; p++)
    {
      guint32 opened = depth < s.open && depth < IL_SLICE_MAX_DEPTH ? s.event[depth] : IL_NO_LANE;

      if (stack_step (&s, trace, v[p], &d, &begin, &name) && d == depth)
        {
          gint64 ov = MIN (MAX (trace->time[v[p]], begin + 1), t1) - MAX (begin, t0);
          if (ov > best)
            {
              best = ov;
              best_event = opened;
              best_end = trace->time[v[p]];
            }
        }
    }
  if (depth < s.open && s.begin[depth] != NO_BEGIN)
    {
      gint64 ov = MIN (MAX (trace->end_time, s.begin[depth] + 1), t1) - MAX (s.begin[depth], t0);
      if (ov > best)
        {
          best = ov;
          best_event = s.event[depth];
          best_end = -1;
        }
    }
  if (best_event == IL_NO_LANE)
    return FALSE;

  memset (hit, 0, sizeof *hit);
  hit->lane = lane;
  hit->event = best_event;
  hit->start = trace->time[best_event];
  hit->state = IL_STATE_RUNNING;
  hit->other = IL_NO_LANE;
  hit->end = MIN (upto, trace->end_time);
  hit->open = TRUE;
  if (best_end >= 0)
    {
      hit->end = best_end;
      hit->open = FALSE;
      return TRUE;
    }
  /* Open past the column: its end is the next end at its depth. */
  for (guint p = hi; p < idx->len; p++)
    {
      guint32 e = v[p];
      if (trace->kind[e] == IL_EVENT_SLICE_END && trace->aux[e] == depth)
        {
          if (trace->time[e] <= upto)
            {
              hit->end = trace->time[e];
              hit->open = FALSE;
            }
          break;
        }
    }
  return TRUE;
}
