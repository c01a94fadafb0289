/* il-lod.c — level of detail for drawing lanes denser than pixels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "il-lod.h"

/* A level costs 8 bytes per bucket: past this many, the view is zoomed in
 * far enough that searching the few visible columns is cheaper. */
#define LOD_MAX_CELLS (1u << 18)
#define LOD_N_LEVELS 63

typedef struct {
  guint64 *cells;
  gsize    n_cells;
  gsize    capacity;
  gsize    n_final;    /* cells before this one cover time before the trace's end: final */
  gint64   end_time;   /* the trace's end when the cells were computed */
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

void
il_lod_interval_key (IlLaneKind        kind,
                     const IlInterval *iv,
                     int              *key,
                     guint32          *label)
{
  *key = -1;
  *label = IL_NO_LANE;
  switch (kind)
    {
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
      if (iv->kind == IL_EVENT_STATE)
        *key = iv->value;
      return;
    case IL_LANE_CORE:
      if (iv->kind == IL_EVENT_CORE && iv->arg != IL_NO_LANE)
        {
          *key = IL_STATE_RUNNING;
          *label = iv->arg;
        }
      return;
    case IL_LANE_GIL:
      if (iv->kind == IL_EVENT_GIL_TAKE)
        {
          *key = IL_STATE_RUNNING;
          *label = iv->arg;
        }
      return;
    case IL_LANE_LOOP:
      switch (iv->kind)
        {
        case IL_EVENT_LOOP_CALLBACK:
          *key = iv->arg == IL_NO_LANE ? IL_STATE_READY : IL_STATE_RUNNING;
          *label = iv->arg;
          return;
        case IL_EVENT_LOOP_SELECT:
          *key = IL_STATE_IDLE;
          return;
        case IL_EVENT_LOOP_SELECT_END:
        case IL_EVENT_LOOP_CALLBACK_END:
          *key = IL_STATE_READY;  /* the loop's own bookkeeping */
          return;
        default:
          return;
        }
    case IL_LANE_PROCESS:
    case IL_LANE_COUNTER:
    case IL_N_LANE_KINDS:
    default:
      return;
    }
}

void
il_lod_tally_reset (IlLodTally *tally)
{
  memset (tally, 0, sizeof *tally);
}

void
il_lod_tally_add (IlLodTally *tally,
                  int         key,
                  guint32     label,
                  gint64      ns)
{
  guint i;

  if (ns <= 0 || key < -1 || key >= IL_N_STATES)
    return;
  tally->key_ns[key + 1] += ns;
  tally->total_ns += ns;
  for (i = 0; i < tally->n_labels; i++)
    if (tally->labels[i].key == key && tally->labels[i].label == label)
      {
        tally->labels[i].ns += ns;
        return;
      }
  /* Past the few distinct labels a column holds in practice, the key is
   * still counted; only who wore it is not. */
  if (i < G_N_ELEMENTS (tally->labels))
    {
      tally->labels[i].key = key;
      tally->labels[i].label = label;
      tally->labels[i].ns = ns;
      tally->n_labels++;
    }
}

guint64
il_lod_tally_dominant (const IlLodTally *tally,
                       gint64            span_ns)
{
  /* Time in the span that no interval covered shows nothing. */
  gint64 nothing = tally->key_ns[0] + MAX (0, span_ns - tally->total_ns);
  gint64 best_ns = nothing, label_ns = 0;
  int best = -1;
  guint32 label = IL_NO_LANE;

  for (int k = 0; k < IL_N_STATES; k++)
    if (tally->key_ns[k + 1] > best_ns)
      {
        best = k;
        best_ns = tally->key_ns[k + 1];
      }
  for (guint i = 0; best >= 0 && i < tally->n_labels; i++)
    if (tally->labels[i].key == best && tally->labels[i].ns > label_ns)
      {
        label = tally->labels[i].label;
        label_ns = tally->labels[i].ns;
      }
  return pack (best, label);
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

/* Tallies the lane's intervals into the buckets from the first that is
 * not final on.  A bucket that ends at or before the trace's end time is
 * final: events are appended in time order and never before the end time.
 * The last bucket, cut by the end, is tallied over the part that exists and
 * again when the run grows. */
static void
extend (LodLevel      *l,
        const IlTrace *t,
        guint32        lane,
        int            level,
        gsize          n_target)
{
  IlLaneKind kind = il_trace_get_lane (t, lane)->kind;
  gint64 end = t->end_time;
  IlIntervalIter it;
  IlInterval iv;
  IlLodTally tally;
  gboolean have;

  if (n_target > l->capacity)
    {
      l->capacity = MAX (n_target, l->capacity + l->capacity / 2);
      l->cells = g_renew (guint64, l->cells, l->capacity);
    }
  il_interval_iter_init_range (&it, t, lane, (gint64) l->n_final << level, end);
  have = il_interval_iter_next (&it, &iv);
  for (gsize k = l->n_final; k < n_target; k++)
    {
      gint64 a = (gint64) k << level;
      gint64 b = MIN (a + ((gint64) 1 << level), end);

      il_lod_tally_reset (&tally);
      while (have && iv.start < b)
        {
          int key;
          guint32 label;

          il_lod_interval_key (kind, &iv, &key, &label);
          il_lod_tally_add (&tally, key, label, MIN (iv.end, b) - MAX (iv.start, a));
          if (iv.end > b)
            break;  /* it goes on into the next bucket */
          have = il_interval_iter_next (&it, &iv);
        }
      l->cells[k] = il_lod_tally_dominant (&tally, b - a);
      if (a + ((gint64) 1 << level) <= end)
        l->n_final = k + 1;
    }
  l->n_cells = n_target;
  l->end_time = end;
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
      g_hash_table_insert (cache->levels, key, l);
    }
  if (n_target > l->n_cells || trace->end_time != l->end_time)
    extend (l, trace, lane, level, n_target);
  *n_cells = l->n_cells;
  return l->cells;
}
