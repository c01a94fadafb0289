/* il-lod.c — level of detail for drawing lanes denser than pixels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "il-lod.h"

/* A level costs 8 bytes per bucket: past this many, the view is zoomed in
 * far enough that searching the few visible columns is cheaper. */
#define LOD_MAX_CELLS (1u << 18)
#define LOD_N_LEVELS 63

typedef struct {
  guint64 *cells;
  gsize    n_cells;
  gsize    capacity;
  guint    cursor;     /* next position in the lane's index to classify */
  guint64  current;    /* what the lane shows after the events before cursor */
} LodLevel;

struct _IlLodCache {
  IlTrace    *trace;   /* held, so that another trace never gets its cells */
  GHashTable *levels;  /* (lane << 6 | level) → LodLevel */
};

static inline guint64
pack (int     key,
      guint32 label)
{
  return ((guint64) (guint32) (key + 1) << 32) | label;
}

gboolean
il_lod_classify (const IlTrace *t,
                 IlLaneKind     kind,
                 guint32        e,
                 int           *key,
                 guint32       *label)
{
  *label = IL_NO_LANE;
  switch (kind)
    {
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
      if (t->kind[e] != IL_EVENT_STATE)
        return FALSE;
      *key = t->value[e];
      return TRUE;
    case IL_LANE_CORE:
      if (t->kind[e] != IL_EVENT_CORE)
        return FALSE;
      *key = t->arg[e] == IL_NO_LANE ? -1 : IL_STATE_RUNNING;
      *label = t->arg[e];
      return TRUE;
    case IL_LANE_GIL:
      if (t->kind[e] == IL_EVENT_GIL_TAKE)
        {
          *key = IL_STATE_RUNNING;
          *label = t->arg[e];
          return TRUE;
        }
      if (t->kind[e] == IL_EVENT_GIL_DROP)
        {
          *key = -1;
          return TRUE;
        }
      return FALSE;
    case IL_LANE_LOOP:
      switch (t->kind[e])
        {
        case IL_EVENT_LOOP_CALLBACK:
          *key = t->arg[e] == IL_NO_LANE ? IL_STATE_READY : IL_STATE_RUNNING;
          *label = t->arg[e];
          return TRUE;
        case IL_EVENT_LOOP_SELECT:
          *key = IL_STATE_IDLE;
          return TRUE;
        case IL_EVENT_LOOP_ITER:
        case IL_EVENT_LOOP_SELECT_END:
        case IL_EVENT_LOOP_CALLBACK_END:
          *key = IL_STATE_READY;  /* the loop's own bookkeeping */
          return TRUE;
        default:
          return FALSE;
        }
    case IL_LANE_PROCESS:
    case IL_LANE_COUNTER:
    case IL_N_LANE_KINDS:
    default:
      return FALSE;
    }
}

int
il_lod_level_for (double ns_per_px)
{
  if (!(ns_per_px >= 2))
    return -1;
  return MIN ((int) floor (log2 (ns_per_px)), LOD_N_LEVELS - 1);
}

static void
lod_level_free (gpointer data)
{
  LodLevel *l = data;

  g_free (l->cells);
  g_free (l);
}

IlLodCache *
il_lod_cache_new (void)
{
  IlLodCache *cache = g_new0 (IlLodCache, 1);

  cache->levels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, lod_level_free);
  return cache;
}

void
il_lod_cache_clear (IlLodCache *cache)
{
  g_return_if_fail (cache != NULL);
  g_hash_table_remove_all (cache->levels);
  g_clear_pointer (&cache->trace, il_trace_unref);
}

void
il_lod_cache_free (IlLodCache *cache)
{
  if (cache == NULL)
    return;
  il_lod_cache_clear (cache);
  g_hash_table_destroy (cache->levels);
  g_free (cache);
}

/* Classifies the lane's events up to each new bucket's start.  Only
 * buckets that start before the trace's end time are final: events are
 * appended in time order and never before the end time. */
static void
extend (LodLevel      *l,
        const IlTrace *t,
        guint32        lane,
        int            level,
        gsize          n_target)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *v = idx->data;
  IlLaneKind kind = il_trace_get_lane (t, lane)->kind;

  if (n_target > l->capacity)
    {
      l->capacity = MAX (n_target, l->capacity + l->capacity / 2);
      l->cells = g_renew (guint64, l->cells, l->capacity);
    }
  for (gsize k = l->n_cells; k < n_target; k++)
    {
      gint64 at = (gint64) k << level;

      for (; l->cursor < idx->len && t->time[v[l->cursor]] <= at; l->cursor++)
        {
          int key;
          guint32 label;
          if (il_lod_classify (t, kind, v[l->cursor], &key, &label))
            l->current = pack (key, label);
        }
      l->cells[k] = l->current;
    }
  l->n_cells = n_target;
}

const guint64 *
il_lod_cache_lookup (IlLodCache    *cache,
                     const IlTrace *trace,
                     guint32        lane,
                     int            level,
                     gsize         *n_cells)
{
  gint64 id = ((gint64) lane << 6) | level;
  LodLevel *l;
  gsize n_target;

  g_return_val_if_fail (cache != NULL && trace != NULL && n_cells != NULL, NULL);
  *n_cells = 0;
  if (level < 0 || level >= LOD_N_LEVELS || lane >= il_trace_get_n_lanes (trace))
    return NULL;

  if (cache->trace != trace)
    {
      il_lod_cache_clear (cache);
      cache->trace = il_trace_ref ((IlTrace *) trace);
    }

  n_target = trace->end_time > 0 ? (gsize) (((trace->end_time - 1) >> level) + 1) : 0;
  if (n_target > LOD_MAX_CELLS)
    return NULL;

  l = g_hash_table_lookup (cache->levels, &id);
  if (l == NULL)
    {
      gint64 *key = g_new (gint64, 1);
      *key = id;
      l = g_new0 (LodLevel, 1);
      l->current = pack (-1, IL_NO_LANE);
      g_hash_table_insert (cache->levels, key, l);
    }
  if (n_target > l->n_cells)
    extend (l, trace, lane, level, n_target);
  *n_cells = l->n_cells;
  return l->cells;
}
