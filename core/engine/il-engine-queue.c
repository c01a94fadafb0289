/* il-engine-queue.c — the event queue
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An indexed 4-ary min-heap on (time, sequence).  Events are processed in
 * exactly that order, so the arity and the removal of stale events change
 * nothing in a trace: an event whose generation was bumped would have been
 * skipped when its time came, and taking it out early keeps the heap at
 * the size of what really waits (one pending event per thread at most, in
 * practice) instead of growing with every cancelled timer, preemption and
 * re-armed time slice.  Four children per node halve the depth of a binary
 * heap and keep a node's children on one or two cache lines.
 *
 * Beside the heap, events of a fixed delay (see EvFifo) wait in FIFO
 * lanes; the next event is the earliest of the heap's top and the lanes'
 * heads, compared on the same (time, sequence).
 *
 * With thousands of threads the threads are beyond the caches, and each
 * line of one that an event touches is a miss.  The lanes know the future:
 * when an entry comes LANE_PREFETCH places from its lane's head, the lines
 * its event will touch (its slot, and the first lines of its thread, which
 * the dispatcher reads) are prefetched, so the miss overlaps the events
 * before it instead of stalling the one that needs it.
 */
#include "il-engine-private.h"

#include <string.h>

#define ARITY 4

#ifndef LANE_PREFETCH
#define LANE_PREFETCH 4
#endif

static inline gboolean
entry_before (const EvEntry *a,
              const EvEntry *b)
{
  return a->t < b->t || (a->t == b->t && a->key < b->key);
}

static inline void
heap_place (IlEngine *e,
            guint     i,
            EvEntry   entry)
{
  e->heap[i] = entry;
  entry.slot->pos = i + 1;
}

static void
sift_up (IlEngine *e,
         guint     i,
         EvEntry   entry)
{
  while (i > 0)
    {
      guint parent = (i - 1) / ARITY;

      if (!entry_before (&entry, &e->heap[parent]))
        break;
      heap_place (e, i, e->heap[parent]);
      i = parent;
    }
  heap_place (e, i, entry);
}

static void
sift_down (IlEngine *e,
           guint     i,
           EvEntry   entry)
{
  guint n = e->heap_len;

  for (;;)
    {
      guint first = i * ARITY + 1, last = MIN (first + ARITY, n), best;

      if (first >= n)
        break;
      best = first;
      for (guint c = first + 1; c < last; c++)
        if (entry_before (&e->heap[c], &e->heap[best]))
          best = c;
      if (!entry_before (&e->heap[best], &entry))
        break;
      heap_place (e, i, e->heap[best]);
      i = best;
    }
  heap_place (e, i, entry);
}

/* Takes the entry at i out and fills the hole with the last one. */
static void
heap_remove_at (IlEngine *e,
                guint     i)
{
  EvEntry last;

  e->heap[i].slot->pos = 0;
  last = e->heap[--e->heap_len];
  if (i == e->heap_len)
    return;
  if (i > 0 && entry_before (&last, &e->heap[(i - 1) / ARITY]))
    sift_up (e, i, last);
  else
    sift_down (e, i, last);
}

static EvSlot *
slot_for (IlEngine *e,
          EvKind    kind,
          guint32   id)
{
  switch (kind)
    {
    case EV_SLICE:
      return &e->cores[id].slice_ev;
    case EV_FD_READY:
      return &e->tasks[id].co->fd_ev;
    case EV_TIMER_DUE:
      return &e->tasks[id].co->timer_ev;
    case EV_JOB_RESULT:
      return &((Job *) g_ptr_array_index (e->jobs, id))->result_ev;
    default:
      g_assert_not_reached ();
    }
}

/* The thread a thread event's slot belongs to, from the slot's address:
 * no load (its entry in e->threads would be one more miss). */
static inline Thread *
slot_thread (EvSlot *slot,
             guint   kind)
{
  return (Thread *) (gpointer) ((guint8 *) (slot - kind) - G_STRUCT_OFFSET (Thread, ev));
}

/* The entry of a slot's pending event. */
static inline EvEntry *
slot_entry (IlEngine     *e,
            const EvSlot *slot)
{
  return slot->fifo != 0 ? lane_entry (&e->fifos[slot->fifo - 1], slot->pos) : &e->heap[slot->pos - 1];
}

/* Asks for the lines the event `ahead` places behind the lane's head will
 * touch: its slot, and for a thread the first two lines, which the
 * dispatcher reads.  Called whenever the head moves on by one, so that
 * each entry is asked for once. */
static inline void
lane_prefetch (const EvFifo *fifo,
               guint32       ahead)
{
  const EvEntry *en;
  guint kind;

  /* A short lane: its last entry (each is that once after a pop). */
  if (fifo->head == fifo->tail)
    return;
  en = lane_entry (fifo, fifo->head + MIN (ahead, fifo->tail - fifo->head - 1));
  if (en->slot == NULL)
    return;
  __builtin_prefetch (en->slot, 1);
  kind = EV_KEY_KIND (en->key);
  if (kind < N_THREAD_EVENTS)
    {
      const guint8 *th = (const guint8 *) slot_thread (en->slot, kind);

      __builtin_prefetch (th, 1);
      __builtin_prefetch (th + 64, 1);
    }
}

/* Moves the head past cancelled entries; an empty lane leaves fifos_live. */
static inline void
lane_skip_dead (IlEngine *e,
                guint     k)
{
  EvFifo *fifo = &e->fifos[k];

  for (;;)
    {
      if (fifo->head == fifo->tail)
        {
          e->fifos_live &= ~(1u << k);
          return;
        }
      e->fifo_first[k] = lane_entry (fifo, fifo->head);
      if (e->fifo_first[k]->slot != NULL)
        return;
      fifo->head++;
      /* The entry the head has come near (skipping it missed the lanes'
       * lines of every entry it jumped over: above all in the lane of
       * timed GIL waits, whose head is cancelled whenever the oldest
       * waiter gets the GIL). */
      if (LANE_PREFETCH > 0)
        lane_prefetch (fifo, LANE_PREFETCH - 1);
    }
}

static G_GNUC_NO_INLINE void
lane_grow (IlEngine *e,
           guint     k)
{
  EvFifo *fifo = &e->fifos[k];
  guint32 mask = fifo->mask * 2 + 1;
  EvEntry *ring = g_new (EvEntry, mask + 1);

  /* Entries keep their numbers (the slots hold them): each moves to where
   * its number falls in the bigger ring. */
  for (guint32 n = fifo->head; n != fifo->tail; n++)
    ring[n & mask] = *lane_entry (fifo, n);
  g_free (fifo->ring);
  fifo->ring = ring;
  fifo->mask = mask;
  e->fifo_first[k] = lane_entry (fifo, fifo->head);
}

/* Leaves the entry dead where it is, unless it is at an end. */
static void
lane_cancel (IlEngine *e,
             EvSlot   *slot,
             EvEntry  *entry)
{
  guint k = slot->fifo - 1;
  EvFifo *fifo = &e->fifos[k];

  entry->slot = NULL;
  slot->fifo = 0;
  slot->pos = 0;
  while (fifo->head != fifo->tail && lane_entry (fifo, fifo->tail - 1)->slot == NULL)
    fifo->tail--;
  lane_skip_dead (e, k);
}

void
queue_init (IlEngine *e)
{
  const IlParams *p = &e->config.params;
  gint64 delays[N_FIFOS] = { 0, p->wake_latency, p->breaker_latency,
                             e->config.switch_interval + p->timer_slack };

  for (guint k = 0; k < N_FIFOS; k++)
    {
      e->fifos[k].delay = k < N_FIXED_FIFOS ? delays[k] : -1;
      e->fifos[k].last_t = G_MININT64;
      e->fifos[k].mask = 15;
      e->fifos[k].ring = g_new (EvEntry, e->fifos[k].mask + 1);
    }
}

void
queue_free (IlEngine *e)
{
  g_free (e->heap);
  for (guint k = 0; k < N_FIFOS; k++)
    g_free (e->fifos[k].ring);
}

void
event_take_out (IlEngine *e,
                EvSlot   *slot)
{
  EvEntry *entry = slot_entry (e, slot);
  guint kind = EV_KEY_KIND (entry->key);

  if (kind < N_THREAD_EVENTS)
    slot_thread (slot, kind)->pending_ev &= ~(1u << kind);
  if (slot->fifo != 0)
    lane_cancel (e, slot, entry);
  else
    heap_remove_at (e, slot->pos - 1);
}

void
schedule (IlEngine *e,
          gint64    t,
          EvKind    kind,
          guint32   id,
          guint32   gen)
{
  /* Thread events go through schedule_thread, which has the thread. */
  g_assert (kind >= N_THREAD_EVENTS);
  schedule_slot (e, slot_for (e, kind, id), t, kind, id, gen);
}

/* Only the eval breaker is asked for twice in one generation (every
 * waiter that times out asks again): the earlier request is the one that
 * counts, the later would find the holder gone.  TRUE if the new one is
 * earlier and the slot is now free for it. */
static G_GNUC_NO_INLINE gboolean
replace_pending (IlEngine *e,
                 EvSlot   *slot,
                 gint64    t,
                 guint64   key,
                 guint32   gen)
{
  const EvEntry *old = slot_entry (e, slot);

  g_assert (EV_KEY_KIND (key) == EV_BREAKER && old->gen == gen);
  if (old->t < t || (old->t == t && old->key < key))
    return FALSE;
  event_take_out (e, slot);
  return TRUE;
}

/* Kept out of schedule_slot: nearly every event goes to a lane. */
static G_GNUC_NO_INLINE void
heap_push (IlEngine *e,
           EvEntry   entry)
{
  if (G_UNLIKELY (e->heap_len == e->heap_cap))
    {
      e->heap_cap = MAX (64, e->heap_cap * 2);
      e->heap = g_renew (EvEntry, e->heap, e->heap_cap);
    }
  sift_up (e, e->heap_len++, entry);
}

/* What schedule_slot's inline fast path leaves: a slot that holds an
 * event already, a delay other than that of the kind's last lane, a full
 * ring. */
void
schedule_general (IlEngine *e,
                  EvSlot   *slot,
                  gint64    t,
                  EvKind    kind,
                  guint32   id,
                  guint32   gen)
{
  guint64 key = e->seq++ << 8 | kind;
  EvFifo *fifo = NULL;
  guint lane;

  if (G_UNLIKELY ((slot->pos | slot->fifo) != 0) && !replace_pending (e, slot, t, key, gen))
    {
      e->last_time = MAX (e->last_time, t);
      return;
    }

  for (lane = 0; lane < N_FIFOS; lane++)
    if (t - e->now == e->fifos[lane].delay)
      {
        fifo = &e->fifos[lane];
        break;
      }
  if (fifo == NULL && t > e->now && e->fifos_live >> N_FIXED_FIFOS != (1u << (N_FIFOS - N_FIXED_FIFOS)) - 1)
    {
      /* A new delay: an empty lane takes it.  Its last time goes into
       * e->last_time, as that of an entry of the heap would. */
      lane = N_FIXED_FIFOS + (guint) __builtin_ctz (~(e->fifos_live >> N_FIXED_FIFOS));
      fifo = &e->fifos[lane];
      fifo->delay = t - e->now;
      e->last_time = MAX (e->last_time, fifo->last_t);
    }
  if (fifo != NULL)
    {
      if (lane != e->fifo_hint[kind])
        {
          e->fifo_alt[kind] = e->fifo_hint[kind];
          e->fifo_hint[kind] = (guint8) lane;
        }
      if (G_UNLIKELY (fifo->tail - fifo->head > fifo->mask))
        lane_grow (e, lane);
      lane_push (e, lane, slot, t, key, id, gen);
      return;
    }

  e->last_time = MAX (e->last_time, t);
  heap_push (e, (EvEntry) { t, key, slot, id, gen });
}

/* The latest time anything was scheduled for. */
gint64
queue_last_time (IlEngine *e)
{
  gint64 last = e->last_time;

  for (guint k = 0; k < N_FIFOS; k++)
    last = MAX (last, e->fifos[k].last_t);
  return last;
}

/* The next event: the earliest of the heap's top and the lanes' heads.
 * Returns the lane it heads, -1 for the heap's top, -2 when nothing
 * waits. */
static inline gint
queue_top (IlEngine       *e,
           const EvEntry **top_out)
{
  /* Later than anything: every entry's key is below G_MAXUINT64. */
  static const EvEntry none = { G_MAXINT64, G_MAXUINT64, NULL, 0, 0 };
  const EvEntry *top = e->heap_len > 0 ? &e->heap[0] : &none;
  gint best = e->heap_len > 0 ? -1 : -2;

  for (guint live = e->fifos_live; live != 0; live &= live - 1)
    {
      guint k = (guint) __builtin_ctz (live);
      const EvEntry *head = e->fifo_first[k];

      if (entry_before (head, top))
        {
          top = head;
          best = (gint) k;
        }
    }
  *top_out = top;
  return best;
}

gint64
queue_next_time (IlEngine *e)
{
  const EvEntry *top;

  return queue_top (e, &top) != -2 ? top->t : IL_TIME_FOREVER;
}

/* Takes out the next event if it is due at or before `until`.  Nearly
 * every event leaves from the head of a lane: that is taken here
 * directly, without event_take_out's general case. */
gboolean
queue_pop (IlEngine *e,
           gint64    until,
           Ev       *out)
{
  const EvEntry *top;
  gint lane = queue_top (e, &top);
  EvEntry entry;

  if (lane == -2 || top->t > until)
    return FALSE;
  entry = *top;
  out->t = entry.t;
  out->seq = entry.key >> 8;
  out->kind = EV_KEY_KIND (entry.key);
  out->id = entry.id;
  out->gen = entry.gen;
  out->th = NULL;
  if (out->kind < N_THREAD_EVENTS)
    {
      out->th = slot_thread (entry.slot, out->kind);
      out->th->pending_ev &= ~(1u << out->kind);
    }
  if (lane < 0)
    {
      heap_remove_at (e, 0);
      return TRUE;
    }
  entry.slot->pos = 0;
  entry.slot->fifo = 0;
  e->fifos[lane].head++;
  lane_skip_dead (e, (guint) lane);
  if (LANE_PREFETCH > 0)
    lane_prefetch (&e->fifos[lane], LANE_PREFETCH - 1);
  return TRUE;
}

void
task_new_gen (IlEngine *e,
              Task     *task)
{
  task->gen++;
  event_cancel (e, &task->co->fd_ev);
  event_cancel (e, &task->co->timer_ev);
}
