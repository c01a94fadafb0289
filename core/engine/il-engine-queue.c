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
 */
#include "il-engine-private.h"

#include <string.h>

#define ARITY 4

static inline gboolean
entry_before (const HeapEntry *a,
              const HeapEntry *b)
{
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline void
heap_place (IlEngine  *e,
            guint      i,
            HeapEntry  entry)
{
  e->heap[i] = entry;
  entry.slot->pos = i + 1;
}

static void
sift_up (IlEngine  *e,
         guint      i,
         HeapEntry  entry)
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
sift_down (IlEngine  *e,
           guint      i,
           HeapEntry  entry)
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
  HeapEntry last;

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

static void
fifo_unlink (IlEngine *e,
             EvSlot   *slot)
{
  EvFifo *fifo = &e->fifos[slot->fifo - 1];

  if (slot->prev != NULL)
    slot->prev->next = slot->next;
  else if ((fifo->head = slot->next) == NULL)
    e->fifos_live &= ~(1u << (slot->fifo - 1));
  if (slot->next != NULL)
    slot->next->prev = slot->prev;
  else
    fifo->tail = slot->prev;
  slot->prev = slot->next = NULL;
  slot->fifo = 0;
}

void
queue_init (IlEngine *e)
{
  const IlParams *p = &e->config.params;
  gint64 delays[N_FIFOS] = { 0, p->wake_latency, p->breaker_latency,
                             e->config.switch_interval + p->timer_slack };

  for (guint k = 0; k < N_FIFOS; k++)
    e->fifos[k].delay = k < N_FIXED_FIFOS ? delays[k] : -1;
}

void
event_take_out (IlEngine *e,
                EvSlot   *slot)
{
  if (slot->ev.kind < N_THREAD_EVENTS)
    ((Thread *) g_ptr_array_index (e->threads, slot->ev.id))->pending_ev &= ~(1u << slot->ev.kind);
  if (slot->pos != 0)
    heap_remove_at (e, slot->pos - 1);
  else
    fifo_unlink (e, slot);
}

static inline gboolean
ev_before (const Ev *a,
           const Ev *b)
{
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
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

void
schedule_slot (IlEngine *e,
               EvSlot   *slot,
               gint64    t,
               EvKind    kind,
               guint32   id,
               guint32   gen)
{
  Ev ev = { t, e->seq++, kind, id, gen };
  gint lane = -1;

  e->last_time = MAX (e->last_time, t);
  if (slot->pos != 0 || slot->fifo != 0)
    {
      /* Only the eval breaker is asked for twice in one generation (every
       * waiter that times out asks again): the earlier request is the one
       * that counts, the later would find the holder gone. */
      g_assert (kind == EV_BREAKER && slot->ev.gen == gen);
      if (!ev_before (&ev, &slot->ev))
        return;
      event_cancel (e, slot);
    }
  slot->ev = ev;

  /* Events of one kind tend to have one delay: try their last lane first. */
  if (t - e->now == e->fifos[e->fifo_hint[kind]].delay)
    lane = e->fifo_hint[kind];
  else
    for (guint k = 0; k < N_FIFOS; k++)
      if (t - e->now == e->fifos[k].delay)
        {
          lane = (gint) k;
          break;
        }
  if (lane < 0 && t > e->now && e->fifos_live >> N_FIXED_FIFOS != (1u << (N_FIFOS - N_FIXED_FIFOS)) - 1)
    {
      /* A new delay: an empty lane takes it. */
      lane = N_FIXED_FIFOS + __builtin_ctz (~(e->fifos_live >> N_FIXED_FIFOS));
      e->fifos[lane].delay = t - e->now;
    }
  /* A lane stays sorted as long as nothing is due before its tail (the
   * sequence number only grows). */
  if (lane >= 0 && (e->fifos[lane].tail == NULL || e->fifos[lane].tail->ev.t <= t))
    {
      EvFifo *fifo = &e->fifos[lane];

      e->fifo_hint[kind] = (guint8) lane;
      slot->fifo = (guint32) lane + 1;
      slot->prev = fifo->tail;
      slot->next = NULL;
      if (fifo->tail != NULL)
        fifo->tail->next = slot;
      else
        {
          fifo->head = slot;
          e->fifos_live |= 1u << lane;
        }
      fifo->tail = slot;
      return;
    }

  if (G_UNLIKELY (e->heap_len == e->heap_cap))
    {
      e->heap_cap = MAX (64, e->heap_cap * 2);
      e->heap = g_renew (HeapEntry, e->heap, e->heap_cap);
    }
  sift_up (e, e->heap_len++, (HeapEntry) { t, ev.seq, slot });
}

/* The next event: the earliest of the heap's top and the lanes' heads.
 * *lane_out is the lane it heads, or -1 for the heap's top. */
static inline EvSlot *
queue_top (IlEngine *e,
           gint     *lane_out)
{
  EvSlot *best = e->heap_len > 0 ? e->heap[0].slot : NULL;
  gint best_lane = -1;

  for (guint live = e->fifos_live; live != 0; live &= live - 1)
    {
      guint k = (guint) __builtin_ctz (live);
      EvSlot *head = e->fifos[k].head;

      if (best == NULL || ev_before (&head->ev, &best->ev))
        {
          best = head;
          best_lane = (gint) k;
        }
    }
  *lane_out = best_lane;
  return best;
}

gint64
queue_next_time (IlEngine *e)
{
  gint lane;
  EvSlot *top = queue_top (e, &lane);

  return top != NULL ? top->ev.t : IL_TIME_FOREVER;
}

/* Takes out the next event if it is due at or before `until`.  Nearly
 * every event leaves from the head of a lane: that is unlinked here
 * directly, without event_take_out's general case. */
gboolean
queue_pop (IlEngine *e,
           gint64    until,
           Ev       *out)
{
  gint lane;
  EvSlot *top = queue_top (e, &lane);

  if (top == NULL || top->ev.t > until)
    return FALSE;
  *out = top->ev;
  if (out->kind < N_THREAD_EVENTS)
    ((Thread *) g_ptr_array_index (e->threads, out->id))->pending_ev &= ~(1u << out->kind);
  if (lane < 0)
    {
      heap_remove_at (e, 0);
      return TRUE;
    }
  if ((e->fifos[lane].head = top->next) != NULL)
    top->next->prev = NULL;
  else
    {
      e->fifos[lane].tail = NULL;
      e->fifos_live &= ~(1u << lane);
    }
  top->next = NULL;
  top->fifo = 0;
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
