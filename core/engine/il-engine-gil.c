/* il-engine-gil.c — the GIL of a process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

static G_GNUC_NO_INLINE void
gil_want_change (IlEngine *e,
                 Thread   *th,
                 gboolean  want)
{
  Gil *gil = &th->proc->gil;

  th->wants_gil = want;
  if (want)
    gil->n_wanting++;
  else
    gil->n_wanting--;
  emit (e, th->proc->gil_lane, IL_EVENT_GIL_WAITERS, 0, 0, gil->n_wanting);
}

/* Inline: a waiter that times out and waits again wants the GIL already
 * (three calls in four change nothing). */
static inline void
gil_want (IlEngine *e,
          Thread   *th,
          gboolean  want)
{
  if (th->wants_gil != want)
    gil_want_change (e, th, want);
}

static void
gil_acquire (IlEngine *e,
             Thread   *th)
{
  Gil *gil = &th->proc->gil;
  gboolean switched = gil->last_holder != th;

  gil->locked = TRUE;
  gil->holder = th;
  th->holds_gil = TRUE;
  if (switched)
    {
      gil->last_holder = th;
      gil->switch_number++;
    }
  emit (e, th->proc->gil_lane, IL_EVENT_GIL_TAKE, switched ? 1 : 0, 0, th->lane);
  gil_want (e, th, FALSE);
  if (switched && gil->last_dropper_lane != IL_NO_LANE && gil->last_dropper_lane != th->lane)
    {
      th->cause = IL_CAUSE_GIL_HANDOFF;
      th->cause_lane = gil->last_dropper_lane;
    }

  /* COND_SIGNAL (switch_cond): a forced releaser may go on once somebody
   * else holds the GIL. */
  for (guint i = 0; i < gil->switch_waiters->len; )
    {
      Thread *w = g_ptr_array_index (gil->switch_waiters, i);
      if (w != th)
        {
          g_ptr_array_remove_index (gil->switch_waiters, i);
          thread_wake (e, w, w->after_switch, IL_CAUSE_GIL_HANDOFF, th->lane);
        }
      else
        i++;
    }

  gil->drop_request = FALSE;
}

void
gil_init (Gil *gil)
{
  gil->switch_waiters = g_ptr_array_new ();
  gil->last_dropper_lane = IL_NO_LANE;
}

void
gil_clear (Gil *gil)
{
  g_ptr_array_unref (gil->switch_waiters);
  g_free (gil->waiters);
  g_free (gil->ticket_tree);
}

/* The waiters of `cond`, in the order they began to wait (a timed-out
 * waiter that waits again goes to the back).  The futex wakes the oldest
 * sleeper first, which is why real GIL hand-offs among CPU-bound threads
 * often go round in a cycle (measured on CPython 3.11: "0231 0231 …");
 * cond_signal_pick adds the race with a waiter that is still awake.
 *
 * They sit in a ring by arrival ticket (Gil.waiters): a waiter that leaves
 * from the middle (its timed wait expired) only clears its entry, and the
 * oldest and newest live entries are found by skipping the cleared ones at
 * either end, each of them once.  When the span from the oldest to the
 * newest fills the ring, the ring doubles; a thread keeps its ticket, so
 * growing touches no thread — unless cleared entries dominate the span,
 * and then the live waiters are renumbered instead, which the many
 * departures since the ring last filled pay for.
 *
 * With a seed the OS wakes the waiter of a random rank in that order, and
 * a Fenwick tree counting the live entries by ring slot finds it in
 * O(log n). */
static void
ticket_tree_add (Gil     *gil,
                 guint32  slot,
                 gint     delta)
{
  for (guint32 i = slot + 1; i <= gil->waiter_cap; i += i & -i)
    gil->ticket_tree[i] += (guint32) delta;
}

static inline GilWaiter *
waiter_entry (Gil     *gil,
              guint32  ticket)
{
  return &gil->waiters[ticket & (gil->waiter_cap - 1)];
}

static void
waiters_make_room (IlEngine *e,
                   Gil      *gil)
{
  guint32 span = gil->waiter_next - gil->waiter_first, cap = 16, n = 0;
  GilWaiter *ring;

  if (span > 2 * gil->n_waiters + 16)
    {
      /* Mostly departed waiters: renumber the live ones from 0. */
      while (cap < 2 * (gil->n_waiters + 1))
        cap *= 2;
      ring = g_new (GilWaiter, cap);
      for (guint32 t = gil->waiter_first; t != gil->waiter_next; t++)
        if (waiter_entry (gil, t)->th != NULL)
          {
            ring[n] = *waiter_entry (gil, t);
            ring[n].th->ticket = n;
            n++;
          }
      g_assert (n == gil->n_waiters);
      gil->waiter_first = 0;
      gil->waiter_next = n;
    }
  else
    {
      while (cap < 2 * (span + 1))
        cap *= 2;
      ring = g_new (GilWaiter, cap);
      for (guint32 t = gil->waiter_first; t != gil->waiter_next; t++)
        ring[t & (cap - 1)] = *waiter_entry (gil, t);
    }
  g_free (gil->waiters);
  gil->waiters = ring;
  gil->waiter_cap = cap;

  if (e->config.params.seed != 0)
    {
      /* The tree in O(cap): each node passes its count to its parent. */
      g_free (gil->ticket_tree);
      gil->ticket_tree = g_new0 (guint32, cap + 1);
      for (guint32 t = gil->waiter_first; t != gil->waiter_next; t++)
        gil->ticket_tree[(t & (cap - 1)) + 1] = waiter_entry (gil, t)->th != NULL;
      for (guint32 i = 1; i <= cap; i++)
        {
          guint32 j = i + (i & -i);

          if (j <= cap)
            gil->ticket_tree[j] += gil->ticket_tree[i];
        }
    }
}

/* The live entry of rank k (from 0) in ring slot order. */
static guint32
ticket_tree_select (Gil     *gil,
                    guint32  k)
{
  guint32 pos = 0;

  for (guint32 step = gil->waiter_cap; step > 0; step >>= 1)
    if (pos + step <= gil->waiter_cap && gil->ticket_tree[pos + step] <= k)
      {
        pos += step;
        k -= gil->ticket_tree[pos];
      }
  return pos;
}

/* The live waiter of rank k (from 0) in arrival order, with a seed.  Ring
 * slots from the oldest's onwards hold the earlier tickets, the slots
 * before it the later ones (the ring wrapped). */
Thread *
cond_waiter_at_rank (Gil     *gil,
                     guint32  k)
{
  guint32 head = gil->waiter_first & (gil->waiter_cap - 1), before = 0, slot;

  for (guint32 i = head; i > 0; i -= i & -i)
    before += gil->ticket_tree[i];
  if (k < gil->n_waiters - before)
    slot = ticket_tree_select (gil, before + k);
  else
    slot = ticket_tree_select (gil, k - (gil->n_waiters - before));
  g_assert (slot < gil->waiter_cap && gil->waiters[slot].th != NULL);
  return gil->waiters[slot].th;
}

/* Always inline: it runs on every GIL wait, and a call kept it from
 * being folded into gil_take_or_wait (18 more instructions a wait). */
G_ALWAYS_INLINE static inline void
cond_push (IlEngine *e,
           Gil      *gil,
           Thread   *th)
{
  GilWaiter *w;

  if (gil->waiter_next - gil->waiter_first == gil->waiter_cap)
    waiters_make_room (e, gil);
  th->ticket = gil->waiter_next++;
  w = waiter_entry (gil, th->ticket);
  /* With thousands of waiters the ring is beyond the caches, and its
   * entries are written in order: ask for the line of the entries four
   * waits from now (a store that misses stalled this one). */
  __builtin_prefetch (waiter_entry (gil, th->ticket + 4), 1);
  w->th = th;
  w->since = e->now;
  gil->n_waiters++;
  if (e->config.params.seed != 0)
    ticket_tree_add (gil, th->ticket & (gil->waiter_cap - 1), 1);
}

void
cond_add (IlEngine *e,
          Gil      *gil,
          Thread   *th)
{
  cond_push (e, gil, th);
}

void
cond_remove (IlEngine *e,
             Gil      *gil,
             Thread   *th)
{
  waiter_entry (gil, th->ticket)->th = NULL;
  gil->n_waiters--;
  if (e->config.params.seed != 0)
    ticket_tree_add (gil, th->ticket & (gil->waiter_cap - 1), -1);
  /* Keep both ends on live waiters (or first == next when none is left);
   * tickets given up at the back are handed out again.  Only the end the
   * waiter was at moves: the other is still live. */
  if (th->ticket == gil->waiter_first)
    {
      while (gil->waiter_first != gil->waiter_next && waiter_entry (gil, gil->waiter_first)->th == NULL)
        gil->waiter_first++;
      /* The oldest end moves through the ring in order too (timed waits
       * expire in the order they began, and the oldest waiter is the one
       * usually woken): the entries it reaches next. */
      __builtin_prefetch (waiter_entry (gil, gil->waiter_first + 8), 1);
    }
  else if (th->ticket == gil->waiter_next - 1)
    while (waiter_entry (gil, gil->waiter_next - 1)->th == NULL)
      gil->waiter_next--;
}

/* COND_SIGNAL: which waiter gets the GIL.
 *
 * The futex wakes the oldest sleeping waiter, but glibc's condition
 * variable lets any waiter of the signalled group consume the signal, and
 * a waiter that entered the wait less than a wake-up ago is still on its
 * core: typically the waiter whose timed wait just expired, which posted
 * the drop request and went straight back into COND_TIMED_WAIT.  It races
 * the woken sleeper and wins about half the time (seeded generator).
 * Measured with CPython 3.11 and 3.12 (SCHED_RR, so the machine's load
 * does not blur it): a 5 ms ticker coroutine beside N to_thread workers
 * waits through about N worker slices for the GIL (tick gaps 10-15 ms with
 * two workers, 20 ms with three), and the workers hand the GIL to each
 * other directly ("010M1010M0101M1M…"); pure first-come would give the
 * loop thread the GIL at the first request after it queued (every 10 ms
 * whatever N).
 *
 * With a non-zero seed any waiter may win (what a scheduler without FIFO
 * wake-ups would do). */
static Thread *
cond_signal_pick (IlEngine *e,
                  Gil      *gil)
{
  Thread *th = waiter_entry (gil, gil->waiter_first)->th;
  const GilWaiter *newest = waiter_entry (gil, gil->waiter_next - 1);

  if (e->config.params.seed != 0 && gil->n_waiters > 1)
    th = cond_waiter_at_rank (gil, rng_next (e) % gil->n_waiters);
  else if (newest->th != th
           && e->now - newest->since < e->config.params.wake_latency
           && (rng_next (e) & 1) != 0)
    th = newest->th;
  cond_remove (e, gil, th);
  return th;
}

/* Returns TRUE if the GIL was taken; otherwise the thread now waits. */
gboolean
gil_take_or_wait (IlEngine *e,
                  Thread   *th)
{
  Gil *gil = &th->proc->gil;

  if (!gil->locked)
    {
      gil_acquire (e, th);
      return TRUE;
    }

  gil_want (e, th, TRUE);
  th->saved_switch = gil->switch_number;
  th->wait = W_GIL_COND;
  cond_push (e, gil, th);
  thread_vis (e, th, IL_STATE_WAIT_GIL);
  thread_leave_core (e, th);
  thread_new_gen (e, th);
  schedule_thread (e, th, e->now + e->config.switch_interval + e->config.params.timer_slack, EV_BLOCK_DONE);
  return FALSE;
}

/* drop_gil(): returns TRUE if FORCE_SWITCHING makes the thread wait until
 * another thread has taken the GIL. */
gboolean
gil_drop (IlEngine *e,
          Thread   *th,
          gboolean  forced)
{
  Gil *gil = &th->proc->gil;

  g_assert (gil->holder == th);
  gil->last_holder = th;
  gil->last_dropper_lane = th->lane;
  gil->locked = FALSE;
  gil->holder = NULL;
  th->holds_gil = FALSE;
  emit (e, th->proc->gil_lane, IL_EVENT_GIL_DROP,
        forced ? IL_GIL_DROP_FORCED : IL_GIL_DROP_VOLUNTARY, 0, th->lane);

  /* COND_SIGNAL (cond): the OS wakes one waiter. */
  if (gil->n_waiters > 0)
    {
      Thread *w = cond_signal_pick (e, gil);
      thread_wake (e, w, R_TAKE_GIL, IL_CAUSE_GIL_HANDOFF, th->lane);
    }

  if (gil->drop_request && gil->last_holder == th)
    {
      gil->drop_request = FALSE;
      g_ptr_array_add (gil->switch_waiters, th);
      return TRUE;
    }
  return FALSE;
}

/* Honour a drop request: drop, then wait for the switch. */
void
gil_forced_drop (IlEngine *e,
                 Thread   *th,
                 Resume    then)
{
  gboolean wait_switch = gil_drop (e, th, TRUE);

  gil_want (e, th, TRUE);
  th->after_gil = then;
  if (wait_switch)
    {
      th->wait = W_GIL_SWITCH;
      th->after_switch = R_TAKE_GIL;
      thread_vis (e, th, IL_STATE_WAIT_GIL);
      thread_leave_core (e, th);
    }
  else
    {
      th->resume = R_TAKE_GIL;
      thread_new_gen (e, th);
      schedule_thread (e, th, e->now, EV_DISPATCH);
    }
}

void
gil_request_drop (IlEngine *e,
                  Thread   *waiter)
{
  Gil *gil = &waiter->proc->gil;
  Thread *holder = gil->holder;

  gil->drop_request = TRUE;
  emit (e, waiter->proc->gil_lane, IL_EVENT_GIL_REQUEST, 0, 0, waiter->lane);
  if (holder != NULL && holder->computing && holder->ck == C_PY)
    schedule_thread (e, holder, e->now + e->config.params.breaker_latency, EV_BREAKER);
  /* A C call that keeps the GIL honours it when it returns; a preempted
   * holder when it runs again (compute_start). */
}
