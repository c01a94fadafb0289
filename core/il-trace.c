/* il-trace.c — columnar event store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifdef IL_HAVE_MREMAP
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
/* Linux 5.14's value, for C libraries older than it: kernels older than
 * that refuse it, and appends then fault pages in one by one. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#endif

#include "il-trace.h"

#include <string.h>

/* Columns of big traces live in mappings of their own, grown by mremap:
 * the kernel moves page table entries instead of copying.  Through
 * realloc a 3 M event simulation spent a fifth of its time copying, as
 * glibc raises its mmap threshold (to 32 MiB) after the first big block
 * it frees and then keeps columns of up to that size on the heap, where
 * growing means malloc, copy, free.  Whether a column is mapped depends
 * on the trace's capacity alone, so all of them switch at once, before
 * the heap has copied much.  Mappings start on 2 MiB boundaries and are
 * whole multiples of that, so that a move can take whole page tables
 * along rather than every page's entry.  Small traces (lessons, tests)
 * stay on the heap, and so does everything under AddressSanitizer, which
 * checks heap blocks only.
 *
 * Tried and dropped: transparent huge pages for the mappings
 * (MADV_HUGEPAGE), as a fault per 4 KiB of fresh column costs ~2 µs here
 * (a quarter of the time at 100 threads).  The scaling rows gained a
 * little (in-process runs alternating, median 62 vs 66 ns/event at 100
 * and 10 000 threads, within the noise), but 10 000 threads x 100 steps
 * lost: median 100 vs 83 ns/event (73-131 vs 75-107) — zeroing 2 MiB at
 * a time evicts the engine's own data from the caches — and every
 * column's last huge page is resident whole. */
/* AddressSanitizer: GCC says __SANITIZE_ADDRESS__, clang __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define IL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IL_ASAN 1
#endif
#endif
#if defined(IL_HAVE_MREMAP) && !defined(IL_ASAN)
#define COLUMN_MAP_EVENTS 65536
/* What one page table covers on x86-64 and arm64 with 4 KiB pages
 * (elsewhere merely a multiple of the page size). */
#define COLUMN_MAP_ALIGN (2 * 1024 * 1024)

static gsize
column_map_size (gsize bytes)
{
  return (bytes + COLUMN_MAP_ALIGN - 1) / COLUMN_MAP_ALIGN * COLUMN_MAP_ALIGN;
}

static void
column_map_failed (gsize size)
{
  g_error ("%s: failed to map %" G_GSIZE_FORMAT " bytes for a trace column", G_STRLOC, size);
}

/* A fresh mapping of `size` bytes (a multiple of COLUMN_MAP_ALIGN) that
 * starts on such a boundary. */
static guint8 *
column_map (gsize size)
{
  guint8 *mem = mmap (NULL, size + COLUMN_MAP_ALIGN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  gsize head;

  if (mem == MAP_FAILED)
    column_map_failed (size);
  head = (COLUMN_MAP_ALIGN - (guintptr) mem % COLUMN_MAP_ALIGN) % COLUMN_MAP_ALIGN;
  if (head > 0)
    munmap (mem, head);
  munmap (mem + head + size, COLUMN_MAP_ALIGN - head);
  return mem + head;
}

/* Resizes a mapping of old_map bytes, of which the first `keep` are in
 * use, to map bytes. */
static guint8 *
column_remap (guint8 *mem,
              gsize   old_map,
              gsize   map,
              gsize   keep)
{
  guint8 *to;

  /* Shrinking, or growing into free address space after it: in place. */
  to = mremap (mem, old_map, map, 0);
  if (to != MAP_FAILED)
    return to;
  /* Else the pages (not their contents) move to the start of a new
   * aligned mapping, or as a last resort the contents are copied. */
  to = column_map (map);
  if (mremap (mem, old_map, old_map, MREMAP_MAYMOVE | MREMAP_FIXED, to) != MAP_FAILED)
    return to;
  memcpy (to, mem, keep);
  munmap (mem, old_map);
  return to;
}

/* Resizes a column of `size`-byte elements from room for `old` events to
 * room for `n` (0: frees it). */
static gpointer
column_resize (gpointer mem,
               gsize    size,
               gsize    old,
               gsize    n)
{
  gboolean was_mapped = old >= COLUMN_MAP_EVENTS, mapped = n >= COLUMN_MAP_EVENTS;
  gsize old_bytes = old * size, bytes = n * size;
  gsize old_map = column_map_size (old_bytes), map = column_map_size (bytes);
  guint8 *to;

  if (!was_mapped && !mapped)
    return g_realloc (mem, bytes);
  if (n == 0)
    {
      munmap (mem, old_map);
      return NULL;
    }
  if (was_mapped && mapped)
    to = map == old_map ? mem : column_remap (mem, old_map, map, MIN (old_bytes, bytes));
  else
    {
      /* Between the heap and a mapping: copied once. */
      to = mapped ? column_map (map) : g_malloc (bytes);
      if (old_bytes > 0)
        memcpy (to, mem, MIN (old_bytes, bytes));
      if (was_mapped)
        munmap (mem, old_map);
      else
        g_free (mem);
    }
  return to;
}

/* Has the kernel fault in the pages of [from, to) `size`-byte elements
 * of a mapped column in one call.  FALSE if it does not know how (before
 * Linux 5.14); other failures (short of memory, a signal) are let be:
 * the pages then fault in one by one, as they would anyway. */
static gboolean
column_populate (gpointer mem,
                 gsize    size,
                 gsize    from,
                 gsize    to)
{
  /* Once per 8192 events: no need to keep it (and share it between
   * threads building traces). */
  gsize page_size = (gsize) sysconf (_SC_PAGESIZE);
  guintptr start, end;

  start = ((guintptr) mem + from * size) / page_size * page_size;
  end = (guintptr) mem + to * size;
  return madvise ((gpointer) start, end - start, MADV_POPULATE_WRITE) == 0 || errno != EINVAL;
}

/* Faults in all of a fresh column of n elements at once if it is mapped,
 * for one that is about to be written all over. */
static void
column_populate_all (gpointer mem,
                     gsize    size,
                     gsize    n)
{
  if (n >= COLUMN_MAP_EVENTS)
    column_populate (mem, size, 0, n);
}

/* Appends into mapped columns fault in their pages a stretch at a time,
 * ahead of the writes: a page fault per 4 KiB of fresh column costs a
 * third as much again in entering and leaving the kernel as the work of
 * getting the page (perf, 17.6 M events).  Longer stretches looked
 * slower: zeroing more at once pushes the engine's own data out of the
 * caches (as huge pages did).  What is filled ahead of the last event,
 * 144 KiB at most, stays resident in a trimmed trace. */
#define COLUMN_FILL_EVENTS 8192

static void
columns_fill_ahead (IlTrace *trace)
{
  static gint unsupported;
  gsize from = trace->append_limit, to = MIN (from + COLUMN_FILL_EVENTS, trace->capacity);

  if (trace->capacity < COLUMN_MAP_EVENTS || g_atomic_int_get (&unsupported))
    {
      trace->append_limit = trace->capacity;
      return;
    }
#define POPULATE(column) \
  column_populate (trace->column, sizeof *trace->column, from, to)
  if (!(POPULATE (time) && (trace->lane32 != NULL ? POPULATE (lane32) : POPULATE (lane16)) && POPULATE (kind)
        && POPULATE (value) && POPULATE (aux) && POPULATE (arg)))
    g_atomic_int_set (&unsupported, 1);
#undef POPULATE
  trace->append_limit = to;
}
#else
static gpointer
column_resize (gpointer mem,
               gsize    size,
               gsize    old,
               gsize    n)
{
  (void) old;
  return g_realloc_n (mem, n, size);
}

static void
column_populate_all (gpointer mem,
                     gsize    size,
                     gsize    n)
{
  (void) mem, (void) size, (void) n;
}

static void
columns_fill_ahead (IlTrace *trace)
{
  trace->append_limit = trace->capacity;
}
#endif

/* Gives every column room for `capacity` events; 0 frees them. */
static void
columns_set_capacity (IlTrace *trace,
                      gsize    capacity)
{
  gsize old = trace->capacity;

#define RESIZE(column) \
  trace->column = column_resize (trace->column, sizeof *trace->column, old, capacity)
  RESIZE (time);
  if (trace->lane32 != NULL)
    RESIZE (lane32);
  else
    RESIZE (lane16);
  RESIZE (kind);
  RESIZE (value);
  RESIZE (aux);
  RESIZE (arg);
#undef RESIZE
  trace->capacity = capacity;
  /* Pages faulted in ahead stay where they are as the mapping grows or
   * moves; heap columns have nothing ahead. */
  trace->append_limit = MIN (trace->append_limit, capacity);
}

/* Lanes cost no allocation of their own: with 100 000 threads, a name
 * and an index struct malloc'ed per lane (and freed with the trace) were
 * a third of setting the engine up, and their frees made malloc
 * consolidate in the middle of the next run.  Names go into a string
 * chunk, index structs into blocks that never move, and the indices that
 * il_trace_end_bulk fills for lanes that had none yet share one block. */
#define LANE_BLOCK 256

typedef struct {
  guint32 *data;
  gsize    n;
} IndexBlock;

IlTrace *
il_trace_new (void)
{
  IlTrace *trace = g_new0 (IlTrace, 1);

  trace->ref_count = 1;
  trace->lanes = g_array_new (FALSE, TRUE, sizeof (IlLane));
  trace->lane_events = g_ptr_array_new ();
  trace->lane_blocks = g_ptr_array_new_with_free_func (g_free);
  trace->index_blocks = g_array_new (FALSE, FALSE, sizeof (IndexBlock));
  trace->lane_names = g_string_chunk_new (16384);
  trace->mode = IL_MODE_THREADS;
  trace->strings = g_ptr_array_new_with_free_func (g_free);
  trace->string_ids = g_hash_table_new (g_str_hash, g_str_equal);

  return trace;
}

IlTrace *
il_trace_ref (IlTrace *trace)
{
  g_return_val_if_fail (trace != NULL, NULL);
  g_atomic_int_inc (&trace->ref_count);
  return trace;
}

void
il_trace_unref (IlTrace *trace)
{
  if (trace == NULL || !g_atomic_int_dec_and_test (&trace->ref_count))
    return;

  g_array_unref (trace->lanes);
  g_string_chunk_free (trace->lane_names);
  for (guint i = 0; i < trace->lane_events->len; i++)
    {
      IlLaneIndex *index = g_ptr_array_index (trace->lane_events, i);
      if (!index->shared)
        g_free (index->data);
    }
  g_ptr_array_unref (trace->lane_events);
  g_ptr_array_unref (trace->lane_blocks);
  for (guint i = 0; i < trace->index_blocks->len; i++)
    {
      IndexBlock *block = &g_array_index (trace->index_blocks, IndexBlock, i);
      column_resize (block->data, sizeof (guint32), block->n, 0);
    }
  g_array_unref (trace->index_blocks);
  g_free (trace->bulk_count);
  columns_set_capacity (trace, 0);
  g_hash_table_unref (trace->string_ids);
  g_ptr_array_unref (trace->strings);
  g_clear_pointer (&trace->scenario, il_scenario_unref);
  g_free (trace->source);
  g_free (trace->recording);
  if (trace->slice_args != NULL)
    trace->slice_args_free (trace->slice_args);
  g_free (trace);
}

/* Room in bulk_count for every lane. */
static void
bulk_count_fit (IlTrace *trace)
{
  guint n = trace->lanes->len;

  if (n <= trace->bulk_count_alloc)
    return;
  trace->bulk_count_alloc = MAX (n, 2 * trace->bulk_count_alloc);
  trace->bulk_count = g_renew (guint, trace->bulk_count, trace->bulk_count_alloc);
}

guint32
il_trace_add_lane (IlTrace    *trace,
                   IlLaneKind  kind,
                   const char *name,
                   guint32     parent,
                   guint32     index)
{
  IlLane lane = { kind, NULL, parent, index };
  guint n;

  g_return_val_if_fail (trace != NULL, IL_NO_LANE);

  /* Lane 65536 no longer fits the 16-bit lane column: widen it, once. */
  if (trace->lanes->len == G_MAXUINT16 + 1 && trace->lane32 == NULL)
    {
      /* One element at least: a non-NULL lane32 is what says it is in use. */
      trace->lane32 = column_resize (NULL, sizeof (guint32), 0, MAX (trace->capacity, 1));
      for (gsize i = 0; i < trace->n_events; i++)
        trace->lane32[i] = trace->lane16[i];
      trace->lane16 = column_resize (trace->lane16, sizeof (guint16), trace->capacity, 0);
    }
  if (name != NULL)
    lane.name = g_string_chunk_insert (trace->lane_names, name);
  n = trace->lanes->len;
  g_array_append_val (trace->lanes, lane);
  if (trace->bulk)
    {
      bulk_count_fit (trace);
      trace->bulk_count[n] = 0;
    }
  if (n % LANE_BLOCK == 0)
    g_ptr_array_add (trace->lane_blocks, g_new0 (IlLaneIndex, LANE_BLOCK));
  g_ptr_array_add (trace->lane_events, (IlLaneIndex *) g_ptr_array_index (trace->lane_blocks, n / LANE_BLOCK)
                                       + n % LANE_BLOCK);

  return n;
}

/* Names the lane anew (a recorded thread learns its name late). */
void
il_trace_set_lane_name (IlTrace    *trace,
                        guint32     lane,
                        const char *name)
{
  g_return_if_fail (trace != NULL && lane < trace->lanes->len);
  /* The old name stays in the chunk until the trace goes: lanes are
   * renamed rarely. */
  g_array_index (trace->lanes, IlLane, lane).name = name != NULL ? g_string_chunk_insert (trace->lane_names, name)
                                                                 : NULL;
}

void
il_trace_grow_columns (IlTrace *trace)
{
  /* Grow by half again: amortised O(1) appends without doubling peak memory
   * on traces of tens of millions of events. */
  /* Events are numbered in 32 bits (the lane indices): appends stop short
   * of that here rather than each testing it. */
  g_assert (trace->n_events < G_MAXUINT32);
  if (trace->append_limit == trace->capacity)
    il_trace_reserve (trace, MAX (1024, trace->capacity + trace->capacity / 2));
  columns_fill_ahead (trace);
  trace->append_limit = MIN (trace->append_limit, G_MAXUINT32);
}

/* Small lanes double (most engine lanes hold tens of events), big ones
 * grow by half: realloc moves big blocks by remapping, not copying. */
static inline guint
lane_index_grown (guint alloc)
{
  return alloc < 4096 ? MAX (16, alloc * 2) : alloc + alloc / 2;
}

static void
lane_index_set_alloc (IlLaneIndex *index,
                      guint        alloc)
{
  if (alloc == index->alloc)
    return;
  if (index->shared)
    {
      /* Its own memory from now on; the shared block keeps its place. */
      guint32 *data = alloc > 0 ? g_new (guint32, alloc) : NULL;
      if (index->len > 0)
        memcpy (data, index->data, MIN (index->len, alloc) * sizeof (guint32));
      index->data = data;
      index->shared = FALSE;
    }
  else if (alloc == 0)
    g_clear_pointer (&index->data, g_free);
  else
    index->data = g_renew (guint32, index->data, alloc);
  index->alloc = alloc;
}

void
il_trace_grow_lane_index (IlLaneIndex *index)
{
  guint alloc = lane_index_grown (index->alloc);

  g_assert (alloc > index->len);
  lane_index_set_alloc (index, alloc);
}

void
il_trace_reserve (IlTrace *trace,
                  gsize    n_events)
{
  gsize cap;

  g_return_if_fail (trace != NULL);
  if (n_events == 0 && !trace->bulk)
    for (guint l = 0; l < trace->lane_events->len; l++)
      {
        IlLaneIndex *index = g_ptr_array_index (trace->lane_events, l);
        lane_index_set_alloc (index, index->len);
      }
  cap = MAX (n_events, trace->n_events);
  if (cap == trace->capacity || cap == 0)
    return;
  columns_set_capacity (trace, cap);
}

void
il_trace_begin_bulk (IlTrace *trace)
{
  g_return_if_fail (trace != NULL && !trace->bulk);
  trace->bulk = TRUE;
  trace->bulk_from = trace->n_events;
  /* Appends count each lane's events as they come: a counting pass over
   * them afterwards was a third of il_trace_end_bulk, most of it waiting
   * on the count of the lane of the event before (runs of events on one
   * core lane). */
  bulk_count_fit (trace);
  memset (trace->bulk_count, 0, trace->lanes->len * sizeof (guint));
}

void
il_trace_end_bulk (IlTrace *trace)
{
  guint n_lanes;
  gsize from, n, fresh = 0;
  guint32 *next = NULL;
  const guint *count = trace->bulk_count;
  g_autofree guint32 **out = NULL;

  g_return_if_fail (trace != NULL && trace->bulk);
  trace->bulk = FALSE;
  n_lanes = trace->lane_events->len;
  from = trace->bulk_from;
  n = trace->n_events;
  if (from == n)
    return;
  /* The appends left the end time to here. */
  trace->end_time = MAX (trace->end_time, trace->time[n - 1]);

  /* A counting sort by lane (the appends counted): size each index
   * exactly, then place the events (already in time order) lane by lane. */
  out = g_new (guint32 *, MAX (n_lanes, 1));
  /* Lanes without room yet share one block, each exactly its size. */
  for (guint l = 0; l < n_lanes; l++)
    if (count[l] > 0 && ((IlLaneIndex *) g_ptr_array_index (trace->lane_events, l))->alloc == 0)
      fresh += count[l];
  if (fresh > 0)
    {
      IndexBlock block = { column_resize (NULL, sizeof (guint32), 0, fresh), fresh };

      /* The events land all over it: one call instead of a fault per page. */
      column_populate_all (block.data, sizeof (guint32), fresh);
      g_array_append_val (trace->index_blocks, block);
      next = block.data;
    }
  for (guint l = 0; l < n_lanes; l++)
    {
      IlLaneIndex *index = g_ptr_array_index (trace->lane_events, l);
      if (count[l] == 0)
        {
          out[l] = NULL;
          continue;
        }
      if (index->alloc == 0)
        {
          g_assert (index->len == 0 && !index->shared && index->data == NULL);
          index->data = next;
          index->alloc = count[l];
          index->shared = TRUE;
          next += count[l];
        }
      else if (index->len + count[l] > index->alloc)
        lane_index_set_alloc (index, MAX (index->len + count[l], lane_index_grown (index->alloc)));
      out[l] = index->data + index->len;
      index->len += count[l];
    }
  /* One loop per lane width, the column read through a local: testing the
   * width and reloading the column pointer for every event (the stores
   * might alias it) cost 7 more instructions an event. */
  if (trace->lane32 == NULL)
    {
      const guint16 *lane = trace->lane16;

      for (gsize i = from; i < n; i++)
        *out[lane[i]]++ = (guint32) i;
    }
  else
    {
      const guint32 *lane = trace->lane32;

      for (gsize i = from; i < n; i++)
        *out[lane[i]]++ = (guint32) i;
    }
}

guint32
il_trace_intern (IlTrace    *trace,
                 const char *str)
{
  gpointer found;
  char *copy;

  g_return_val_if_fail (trace != NULL, 0);

  if (str == NULL)
    str = "";
  found = g_hash_table_lookup (trace->string_ids, str);
  if (found != NULL)
    return GPOINTER_TO_UINT (found) - 1;

  /* The table's keys point into the strings array, which owns them. */
  copy = g_strdup (str);
  g_ptr_array_add (trace->strings, copy);
  g_hash_table_insert (trace->string_ids, copy, GUINT_TO_POINTER (trace->strings->len));
  return trace->strings->len - 1;
}

void
il_trace_set_end_time (IlTrace *trace,
                       gint64   end_time)
{
  g_return_if_fail (trace != NULL);
  trace->end_time = MAX (end_time, trace->n_events ? trace->time[trace->n_events - 1] : 0);
}

gsize
il_trace_lower_bound (const IlTrace *trace,
                      gint64         t)
{
  gsize lo = 0, hi = trace->n_events;

  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (trace->time[mid] < t)
        lo = mid + 1;
      else
        hi = mid;
    }

  return lo;
}

guint
il_trace_lane_lower_bound (const IlTrace *trace,
                           guint32        lane,
                           gint64         t)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = idx->data;
  guint lo = 0, hi = idx->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (trace->time[v[mid]] < t)
        lo = mid + 1;
      else
        hi = mid;
    }

  return lo;
}

IlState
il_trace_state_at (const IlTrace *trace,
                   guint32        lane,
                   gint64         t,
                   gsize         *event_index)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = idx->data;
  /* Last event at or before t: lower bound of t+1, minus one. */
  guint pos = il_trace_lane_lower_bound (trace, lane, t == G_MAXINT64 ? t : t + 1);

  while (pos > 0)
    {
      guint32 e = v[--pos];
      if (trace->kind[e] == IL_EVENT_STATE)
        {
          if (event_index)
            *event_index = e;
          return (IlState) trace->value[e];
        }
    }

  if (event_index)
    *event_index = G_MAXSIZE;
  return IL_STATE_NOT_STARTED;
}

guint32
il_trace_gil_holder_at (const IlTrace *trace,
                        guint32        gil_lane,
                        gint64         t)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, gil_lane);
  const guint32 *v = idx->data;
  guint pos = il_trace_lane_lower_bound (trace, gil_lane, t == G_MAXINT64 ? t : t + 1);

  while (pos > 0)
    {
      guint32 e = v[--pos];
      if (trace->kind[e] == IL_EVENT_GIL_TAKE)
        return trace->arg[e];
      if (trace->kind[e] == IL_EVENT_GIL_DROP)
        return IL_NO_LANE;
    }

  return IL_NO_LANE;
}

/* ------------------------------------------------------- interval queries */

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
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = idx->data;
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
interval_in_slice (const IlTrace   *trace,
                   guint32          lane,
                   gint64           t,
                   gint64           upto,
                   IlTraceInterval *interval)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = idx->data;
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
          interval->lane = lane;
          interval->start = trace->time[e];
          interval->event = e;
          interval->state = IL_STATE_RUNNING;
          interval->end = MIN (upto, trace->end_time);
          interval->open = TRUE;
          for (guint q = pos; q < idx->len; q++)
            {
              guint32 f = v[q];
              if (trace->kind[f] == IL_EVENT_SLICE_END && trace->aux[f] == trace->aux[e])
                {
                  if (trace->time[f] <= upto)
                    {
                      interval->end = trace->time[f];
                      interval->open = FALSE;
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
il_trace_lane_has_slices (const IlTrace *trace,
                          guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  const guint32 *v = idx->data;

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
il_trace_interval_at (const IlTrace   *trace,
                      guint32          lane,
                      gint64           t,
                      gint64           upto,
                      IlTraceInterval *interval)
{
  const IlLane *l;
  const guint32 *v;
  EventFilter filter;
  gssize pos;
  guint32 e;

  g_return_val_if_fail (interval != NULL, FALSE);

  memset (interval, 0, sizeof *interval);
  interval->lane = lane;
  interval->other = IL_NO_LANE;
  interval->event = G_MAXSIZE;
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
      if (il_trace_lane_has_slices (trace, lane))
        return interval_in_slice (trace, lane, t, upto, interval);
      filter = is_state;
      break;
    case IL_LANE_PROCESS:
    case IL_LANE_COUNTER:
    case IL_N_LANE_KINDS:
    default:
      return FALSE;
    }

  pos = find_interval (trace, lane, t, upto, filter, &interval->end, &interval->open);
  if (pos < 0)
    return FALSE;
  e = v[pos];
  interval->event = e;
  interval->start = trace->time[e];

  switch (l->kind)
    {
    case IL_LANE_CORE:
      interval->other = trace->arg[e];
      return interval->other != IL_NO_LANE;
    case IL_LANE_GIL:
      if (trace->kind[e] != IL_EVENT_GIL_TAKE)
        return FALSE;
      interval->other = trace->arg[e];
      {
        /* Waiters: the last GIL_WAITERS count at or before t. */
        const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
        guint p = il_trace_lane_lower_bound (trace, lane, t + 1);
        for (; p > 0; p--)
          if (trace->kind[v[p - 1]] == IL_EVENT_GIL_WAITERS)
            {
              interval->waiters = trace->arg[v[p - 1]];
              break;
            }
        (void) idx;
      }
      return TRUE;
    case IL_LANE_LOOP:
      interval->state = trace->kind[e] == IL_EVENT_LOOP_CALLBACK ? IL_STATE_RUNNING
                 : trace->kind[e] == IL_EVENT_LOOP_SELECT ? IL_STATE_IDLE
                 : IL_STATE_READY;
      interval->other = trace->kind[e] == IL_EVENT_LOOP_CALLBACK ? trace->arg[e] : IL_NO_LANE;
      return TRUE;
    case IL_LANE_THREAD:
    case IL_LANE_TASK:
      interval->state = (IlState) trace->value[e];
      interval->cause = (IlCause) trace->aux[e];
      interval->other = trace->arg[e];
      return interval->state != IL_STATE_NOT_STARTED;
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

gsize
il_trace_get_memory_size (const IlTrace *trace)
{
  gsize per_event = sizeof (gint64) + (trace->lane32 != NULL ? sizeof (guint32) : sizeof (guint16)) + 2 * sizeof (guint8)
                    + sizeof (guint16) + sizeof (guint32);
  gsize size = trace->capacity * per_event;

  for (guint i = 0; i < trace->lane_events->len; i++)
    size += ((IlLaneIndex *) g_ptr_array_index (trace->lane_events, i))->alloc * sizeof (guint32);

  return size;
}

const char *
il_state_to_string (IlState state)
{
  static const char *names[IL_N_STATES] = {
    [IL_STATE_NOT_STARTED] = "not started",
    [IL_STATE_RUNNING] = "running",
    [IL_STATE_READY] = "ready",
    [IL_STATE_WAIT_GIL] = "waiting for the GIL",
    [IL_STATE_WAIT_IO] = "waiting for I/O",
    [IL_STATE_SLEEPING] = "sleeping",
    [IL_STATE_BLOCKED] = "blocked",
    [IL_STATE_IDLE] = "idle",
    [IL_STATE_DONE] = "done",
    [IL_STATE_STARTING] = "starting the process",
  };
  return (guint) state < IL_N_STATES ? names[state] : "unknown";
}

const char *
il_state_to_nick (IlState state)
{
  static const char *names[IL_N_STATES] = {
    [IL_STATE_NOT_STARTED] = "not-started",
    [IL_STATE_RUNNING] = "running",
    [IL_STATE_READY] = "ready",
    [IL_STATE_WAIT_GIL] = "wait-gil",
    [IL_STATE_WAIT_IO] = "wait-io",
    [IL_STATE_SLEEPING] = "sleeping",
    [IL_STATE_BLOCKED] = "blocked",
    [IL_STATE_IDLE] = "idle",
    [IL_STATE_DONE] = "done",
    [IL_STATE_STARTING] = "starting",
  };
  return (guint) state < IL_N_STATES ? names[state] : "unknown";
}

const char *
il_cause_to_string (IlCause cause)
{
  static const char *names[IL_N_CAUSES] = {
    [IL_CAUSE_NONE] = "",
    [IL_CAUSE_START] = "started",
    [IL_CAUSE_IO] = "I/O completed",
    [IL_CAUSE_TIMER] = "timer fired",
    [IL_CAUSE_GIL_HANDOFF] = "GIL handed over",
    [IL_CAUSE_GIL_TIMEOUT] = "GIL wait timed out",
    [IL_CAUSE_PREEMPT] = "OS scheduler",
    [IL_CAUSE_LOCK] = "lock released",
    [IL_CAUSE_FUTURE] = "awaited future resolved",
    [IL_CAUSE_CALL_SOON] = "scheduled by call_soon",
    [IL_CAUSE_LOOP] = "event loop ran it",
    [IL_CAUSE_POOL] = "pool worker",
    [IL_CAUSE_RETURNED] = "returned",
    [IL_CAUSE_FAILED] = "raised an exception",
    [IL_CAUSE_CANCELLED] = "cancelled",
    [IL_CAUSE_QUEUE] = "queue put or get",
  };
  return (guint) cause < IL_N_CAUSES ? names[cause] : "unknown";
}

const char *
il_lane_kind_to_string (IlLaneKind kind)
{
  static const char *names[IL_N_LANE_KINDS] = {
    [IL_LANE_CORE] = "core",
    [IL_LANE_PROCESS] = "process",
    [IL_LANE_GIL] = "gil",
    [IL_LANE_LOOP] = "loop",
    [IL_LANE_THREAD] = "thread",
    [IL_LANE_TASK] = "task",
    [IL_LANE_COUNTER] = "counter",
  };
  return (guint) kind < IL_N_LANE_KINDS ? names[kind] : "unknown";
}
