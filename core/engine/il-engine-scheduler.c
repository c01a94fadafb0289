/* il-engine-scheduler.c — cores, the OS run queue and blocking calls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

static inline void
bit_set (guint64  *words,
         guint     c,
         gboolean  on)
{
  if (on)
    words[c / 64] |= G_GUINT64_CONSTANT (1) << (c % 64);
  else
    words[c / 64] &= ~(G_GUINT64_CONSTANT (1) << (c % 64));
}

/* Keeps the two core bitmaps in step with a core's thread and slice. */
static inline void
core_note (IlEngine *e,
           guint     c)
{
  Core *core = &e->cores[c];

  bit_set (e->free_cores, c, core->thread == NULL);
  bit_set (e->unarmed_cores, c, core->thread != NULL && !core->slice_armed);
}

static void
core_arm_slice (IlEngine *e,
                guint     c)
{
  Core *core = &e->cores[c];

  if (core->slice_armed || core->thread == NULL)
    return;
  core->slice_armed = TRUE;
  core_note (e, c);
  core_new_slice_gen (e, core);
  schedule (e, MAX (e->now, core->since + e->config.params.os_slice), EV_SLICE, c, core->slice_gen);
}

static void
runq_push (IlEngine *e,
           Thread   *th)
{
  if (e->runq_len == e->runq_cap)
    {
      /* Full: double the ring, unwrapping it. */
      guint cap = MAX (16, 2 * e->runq_cap);
      Thread **ring = g_new (Thread *, cap);

      for (guint i = 0; i < e->runq_len; i++)
        ring[i] = e->runq[(e->runq_head + i) & (e->runq_cap - 1)];
      g_free (e->runq);
      e->runq = ring;
      e->runq_cap = cap;
      e->runq_head = 0;
    }
  e->runq[(e->runq_head + e->runq_len++) & (e->runq_cap - 1)] = th;
}

static Thread *
runq_pop (IlEngine *e)
{
  Thread *th = e->runq[e->runq_head];

  e->runq_head = (e->runq_head + 1) & (e->runq_cap - 1);
  e->runq_len--;
  return th;
}

static void
core_assign (IlEngine *e,
             guint     c,
             Thread   *th)
{
  Core *core = &e->cores[c];

  core->thread = th;
  core->since = e->now;
  core->slice_armed = FALSE;
  /* core_note, knowing the answers (no loads of the core): busy, its
   * slice not armed. */
  bit_set (e->free_cores, c, FALSE);
  bit_set (e->unarmed_cores, c, TRUE);
  core_new_slice_gen (e, core);
  th->core = (gint32) c;
  th->queued = FALSE;
  emit (e, core->lane, IL_EVENT_CORE, 0, 0, th->lane);
  schedule_thread (e, th, e->now, EV_DISPATCH);
  if (e->runq_len > 0)
    core_arm_slice (e, c);
}

void
thread_make_runnable (IlEngine *e,
                      Thread   *th)
{
  /* Already on a core or queued: a wake-up the model should not send. */
  g_return_if_fail (th->core < 0 && !th->queued);
  th->wait = W_NONE;
  /* The lowest free core, as a scan of the cores in order would find. */
  for (guint w = 0; w < e->n_core_words; w++)
    if (e->free_cores[w] != 0)
      {
        core_assign (e, w * 64 + (guint) __builtin_ctzll (e->free_cores[w]), th);
        return;
      }

  th->queued = TRUE;
  runq_push (e, th);
  if (th->resume != R_TAKE_GIL && th->resume != R_GIL_TIMEOUT)
    thread_vis (e, th, IL_STATE_READY);
  /* Somebody waits for a core: every busy core's slice runs, armed in
   * core order. */
  for (guint w = 0; w < e->n_core_words; w++)
    for (guint64 bits = e->unarmed_cores[w]; bits != 0; bits &= bits - 1)
      core_arm_slice (e, w * 64 + (guint) __builtin_ctzll (bits));
}

void
thread_leave_core (IlEngine *e,
                   Thread   *th)
{
  Core *core;
  guint c;

  if (th->core < 0)
    return;
  c = (guint) th->core;
  core = &e->cores[c];
  core->thread = NULL;
  core->slice_armed = FALSE;
  /* core_note, knowing the answers: free, so no slice to arm. */
  bit_set (e->free_cores, c, TRUE);
  bit_set (e->unarmed_cores, c, FALSE);
  core_new_slice_gen (e, core);
  th->core = -1;

  if (e->runq_len > 0)
    core_assign (e, c, runq_pop (e));
  else
    emit (e, core->lane, IL_EVENT_CORE, 0, 0, IL_NO_LANE);
}

/* How long this wake-up takes.  A real futex wake-up takes anywhere from
 * about half to one and a half times its typical latency (idle-state exit,
 * caches, which core), and that spread settles the races between threads
 * woken microseconds apart — above all which of two GIL waiters gets back
 * into the condition variable's queue first.  A fixed latency settles every
 * such race the same way for a whole run: with two to_thread workers beside
 * a 5 ms ticker the model let one worker wait 200 ms for the GIL, while
 * CPython 3.11 alternates them ("0M1M0M1…", measured).  The spread comes
 * from the engine's seeded generator, so a run stays reproducible. */
static gint64
wake_delay (IlEngine *e)
{
  gint64 mean = e->config.params.wake_latency;

  if (mean <= 1)
    return mean;
  return mean / 2 + (gint64) (rng_next (e) % (guint64) (mean + 1));
}

/* Woken by another thread or the kernel: runnable after the wake latency. */
void
thread_wake (IlEngine *e,
             Thread   *th,
             Resume    resume,
             IlCause   cause,
             guint32   cause_lane)
{
  thread_new_gen (e, th);
  th->wait = W_WAKING;
  th->resume = resume;
  th->cause = cause;
  th->cause_lane = cause_lane;
  schedule_thread (e, th, e->now + wake_delay (e), EV_WAKE);
}

void
compute_start (IlEngine *e,
               Thread   *th,
               IlState   vis)
{
  Gil *gil = &th->proc->gil;

  th->computing = TRUE;
  th->started = e->now;
  th->compute_state = vis;
  thread_new_gen (e, th);
  thread_vis (e, th, vis);
  schedule_thread (e, th, e->now + th->remaining, EV_COMPUTE_DONE);
  if (th->ck == C_PY && th->holds_gil && gil->drop_request)
    schedule_thread (e, th, e->now + e->config.params.breaker_latency, EV_BREAKER);
}

void
compute_pause (IlEngine *e,
               Thread   *th)
{
  th->remaining -= e->now - th->started;
  if (th->remaining < 0)
    th->remaining = 0;
  th->computing = FALSE;
  thread_new_gen (e, th);
}

void
core_slice_end (IlEngine *e,
                guint     c)
{
  Core *core = &e->cores[c];
  Thread *th = core->thread;

  core->slice_armed = FALSE;
  core_note (e, c);
  if (th == NULL || e->runq_len == 0)
    return;
  if (e->now - core->since < e->config.params.os_slice)
    {
      core_arm_slice (e, c);
      return;
    }

  /* Round robin: the running thread goes to the back of the queue, keeping
   * whatever it holds (a preempted GIL holder still holds the GIL). */
  if (th->computing)
    {
      compute_pause (e, th);
      th->resume = R_COMPUTE;
    }
  th->cause = IL_CAUSE_PREEMPT;
  thread_leave_core (e, th);
  thread_make_runnable (e, th);
}

/* The layout il-engine-private.h describes: the hot fields fill the first
 * two cache lines exactly, and the event slots start on the third. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (Thread, job) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (Thread, ev) == 128);

Thread *
thread_new (IlEngine   *e,
            Process    *proc,
            Role        role,
            guint32     lane)
{
  Thread *th = slab_reuse0 (e, e->spare_threads, sizeof (Thread));

  th->id = e->threads->len;
  th->lane = lane;
  th->mirror = IL_NO_LANE;
  th->proc = proc;
  th->role = role;
  th->resume = R_NEXT;
  th->core = -1;
  th->cause = IL_CAUSE_NONE;
  th->cause_lane = IL_NO_LANE;
  g_ptr_array_add (e->threads, th);
  return th;
}

/* A thread that has exited (off its core, nothing pending, in no queue)
 * gives its memory back for the next thread_new.  It keeps no id: its
 * old one maps to NULL, and the GIL forgets it as its last holder — a
 * new thread at the same address is another thread, and taking the GIL
 * is a switch for it. */
void
thread_recycle (IlEngine *e,
                Thread   *th)
{
  Gil *gil = &th->proc->gil;

  g_assert (th->wait == W_DONE && th->core < 0 && !th->queued && !th->holds_gil);
  if (gil->last_holder == th)
    gil->last_holder = NULL;
  e->threads->pdata[th->id] = NULL;
  g_ptr_array_add (e->spare_threads, th);
}

/* Drop the GIL around a blocking call (Py_BEGIN_ALLOW_THREADS).  Returns
 * FALSE if the thread must first wait for a forced switch; it then resumes
 * with R_BLOCK. */
gboolean
release_for_block (IlEngine *e,
                   Thread   *th,
                   gboolean  final)
{
  if (!th->holds_gil)
    return TRUE;
  if (gil_drop (e, th, FALSE))
    {
      if (final)
        {
          g_ptr_array_remove (th->proc->gil.switch_waiters, th);
          return TRUE;
        }
      th->wait = W_GIL_SWITCH;
      th->after_switch = R_BLOCK;
      thread_vis (e, th, IL_STATE_WAIT_GIL);
      thread_leave_core (e, th);
      return FALSE;
    }
  return TRUE;
}

/* After a blocking call the thread takes the GIL back (Py_END_ALLOW_THREADS). */
Resume
resume_after_block (Thread *th)
{
  if (th->proc->has_gil)
    {
      th->after_gil = R_NEXT;
      return R_TAKE_GIL;
    }
  return R_NEXT;
}

void
block_start (IlEngine *e,
             Thread   *th)
{
  const IlParams *p = &e->config.params;
  gint64 dur = th->block_dur;

  if (th->block_select && dur == 0)
    {
      /* select(0) returns at once: the loop thread never leaves its core. */
      th->ck = C_FREE;
      th->remaining = 0;
      compute_start (e, th, IL_STATE_IDLE);
      return;
    }
  if (th->block_select)
    {
      e->loop->in_select = TRUE;
      thread_vis (e, th, IL_STATE_IDLE);
      thread_leave_core (e, th);
      thread_new_gen (e, th);
      th->wait = W_SELECT;
      if (dur >= 0)
        schedule_thread (e, th, e->now + dur, EV_BLOCK_DONE);
      return;
    }

  if (th->block_state == IL_STATE_WAIT_IO && dur <= p->wake_latency)
    {
      /* Shorter than a wake-up: the syscall completes without the thread
       * ever leaving the core — and it takes the GIL straight back. */
      th->ck = C_FREE;
      th->remaining = dur;
      compute_start (e, th, IL_STATE_WAIT_IO);
      return;
    }

  thread_vis (e, th, th->block_state);
  thread_leave_core (e, th);
  thread_new_gen (e, th);
  th->wait = W_BLOCK;
  if (th->block_state == IL_STATE_SLEEPING)
    dur += p->timer_slack;          /* the timer fires late; the wake-up is included */
  else
    dur += p->wake_latency;         /* the kernel wakes the thread after the I/O */
  schedule_thread (e, th, e->now + dur, EV_BLOCK_DONE);
}

void
begin_block (IlEngine *e,
             Thread   *th,
             IlState   state,
             gint64    dur,
             gboolean  select)
{
  th->block_state = state;
  th->block_dur = dur;
  th->block_select = select;
  th->block_is_wait = FALSE;
  th->resume = resume_after_block (th);
  if (release_for_block (e, th, FALSE))
    block_start (e, th);
}

/* Off the core until somebody calls thread_wake. */
void
begin_wait (IlEngine *e,
            Thread   *th,
            IlState   state,
            Resume    on_wake)
{
  th->block_state = state;
  th->block_dur = -1;
  th->block_select = FALSE;
  th->block_is_wait = TRUE;
  th->wait_resume = on_wake;
  if (!release_for_block (e, th, FALSE))
    return;   /* a drop request was pending: the wait starts after the switch (R_BLOCK) */
  th->block_is_wait = FALSE;
  thread_vis (e, th, state);
  thread_leave_core (e, th);
  thread_new_gen (e, th);
  th->wait = W_WAIT;
  th->resume = on_wake;
}
