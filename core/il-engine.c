/* il-engine.c — the deterministic discrete-event simulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model (see shared/reference/cpython-mechanics.md):
 *
 *  - OS threads run on `cores` cores.  A thread that needs a core and finds
 *    none free waits in a FIFO run queue; threads share cores round-robin in
 *    slices of params.os_slice.  A woken thread becomes runnable only after
 *    params.wake_latency, and a timed wait fires params.timer_slack late.
 *
 *  - Each process has its own GIL, modelled on Python/ceval_gil.c: take_gil
 *    takes a free GIL at once (no queue, no priority); otherwise it waits on
 *    `cond` for one interval, and if that wait timed out while the GIL was
 *    still held and switch_number did not move, it sets the drop request.
 *    The holder honours it at its next eval-breaker check (breaker_latency;
 *    never inside a C call that keeps the GIL), drops the GIL, signals one
 *    waiter and then waits until another thread has taken it
 *    (FORCE_SWITCHING).  Blocking calls drop the GIL voluntarily and take it
 *    back afterwards; a call shorter than the wake latency never sleeps, so
 *    its thread takes the GIL back before the signalled waiter is awake
 *    (barging).  The convoy effect and the lack of speed-up for CPU-bound
 *    threads emerge from these rules; nothing special-cases them.
 *
 *  - asyncio: one loop thread runs _run_once: select() with a timeout of 0
 *    when handles are ready, else until the next timer (rounded up to whole
 *    milliseconds as epoll does) or forever; then due timers and I/O
 *    callbacks join the ready queue and exactly the handles that were ready
 *    at that moment run.  A resolved future schedules its task's wake-up
 *    with call_soon, so it runs one iteration later.
 *
 *  - Pools: ThreadPoolExecutor starts a worker per submit while fewer than
 *    max_workers exist and none is idle; ProcessPoolExecutor launches all
 *    its workers when first used (fork) and pays IPC per item.
 *
 * Everything happens through one event queue ordered by (time, sequence),
 * so the same input gives the same trace bit for bit.  The only choice the
 * real system could make at random — which GIL waiter the OS wakes — is
 * first-come (glibc) unless params.seed asks for a seeded random pick.
 */
#include "il-engine.h"

#include <string.h>

#include "il-steps.h"

/* ------------------------------------------------------------------ */
/* Events                                                              */

typedef enum {
  EV_DISPATCH,      /* a thread got a core: run its `resume` action */
  EV_COMPUTE_DONE,  /* a thread finished its current piece of computation */
  EV_BREAKER,       /* the GIL holder reaches the eval breaker after a drop request */
  EV_WAKE,          /* wake latency over: the thread becomes runnable */
  EV_BLOCK_DONE,    /* a blocking call (I/O, sleep, select timeout, GIL timed wait) ended */
  EV_SLICE,         /* a core's time slice ended */
  EV_FD_READY,      /* asyncio: the I/O a task awaits completed */
  EV_JOB_RESULT,    /* a process-pool result reached the parent */
  EV_TIMER_DUE,     /* asyncio: the timer a task sleeps on expired (the loop may not have seen it yet) */
} EvKind;

typedef struct {
  gint64  t;
  guint64 seq;
  guint32 kind;
  guint32 id;
  guint32 gen;
} Ev;

/* ------------------------------------------------------------------ */
/* Programs: walking a task's step tree                                */

typedef enum {
  OP_END,
  OP_CPU,
  OP_C_HOLD,
  OP_C_FREE,
  OP_IO,
  OP_SLEEP,
  OP_YIELD,
  OP_ACQUIRE,   /* ref: semaphore index */
  OP_RELEASE,
  OP_TO_THREAD,
  OP_TO_PROCESS,
  OP_AWAIT,     /* ref: task index */
  OP_FAIL,
} OpKind;

typedef struct {
  OpKind        kind;
  gboolean      blocking;
  gint64        dur;
  guint32       ref;
  const IlStep *body;
  guint32       n_body;
} Op;

typedef struct {
  const IlStep *steps;
  guint32       n;
  guint32       pos;
  guint32       left;     /* repeat: iterations left including the current one */
  gint32        release;  /* semaphore held while this body runs, or -1 */
} Frame;

#define MAX_FRAMES (IL_SCENARIO_MAX_DEPTH + 4)

/* A body guarded by a lock or semaphore is pushed only once the acquire has
 * succeeded, so every frame with release >= 0 is a semaphore really held:
 * finishing, failing or being cancelled releases exactly those. */
typedef struct {
  Frame   frames[MAX_FRAMES];
  guint   depth;
  guint32 limit_base;   /* semaphore index of the scenario's first limit */
  gint32  wrap;         /* semaphore around the whole body (asyncio workers), or -1 */
  const IlStep *steps;
  guint32 n_steps;
  const IlStep *step;   /* the step the last prog_next started, or NULL (recorded as IL_EVENT_STEP) */
} Prog;

static void
prog_push (Prog         *prog,
           const IlStep *steps,
           guint32       n,
           guint32       left,
           gint32        release)
{
  g_assert (prog->depth < MAX_FRAMES);
  prog->frames[prog->depth++] = (Frame) { steps, n, 0, left, release };
}

static void
prog_init (Prog         *prog,
           const IlStep *steps,
           guint32       n,
           guint32       limit_base,
           gint32        wrap)
{
  prog->depth = 0;
  prog->limit_base = limit_base;
  prog->wrap = wrap;
  prog->steps = steps;
  prog->n_steps = n;
  if (wrap < 0)
    prog_push (prog, steps, n, 1, -1);
}

static void
prog_next (Prog *prog,
           Op   *op)
{
  memset (op, 0, sizeof *op);
  prog->step = NULL;

  if (prog->wrap >= 0)
    {
      op->kind = OP_ACQUIRE;
      op->ref = (guint32) prog->wrap;
      op->body = prog->steps;
      op->n_body = prog->n_steps;
      prog->wrap = -1;
      return;
    }

  while (prog->depth > 0)
    {
      Frame *f = &prog->frames[prog->depth - 1];
      const IlStep *s;

      prog->step = NULL;
      if (f->pos >= f->n)
        {
          gint32 release = f->release;

          if (f->left > 1)
            {
              f->left--;
              f->pos = 0;
              continue;
            }
          prog->depth--;
          if (release >= 0)
            {
              op->kind = OP_RELEASE;
              op->ref = (guint32) release;
              return;
            }
          continue;
        }

      s = &f->steps[f->pos++];
      prog->step = s;
      switch (s->kind)
        {
        case IL_STEP_CPU:
          op->kind = OP_CPU;
          op->dur = s->duration;
          return;
        case IL_STEP_IO:
        case IL_STEP_SLEEP:
          op->kind = s->kind == IL_STEP_IO ? OP_IO : OP_SLEEP;
          op->dur = s->duration;
          op->blocking = (s->flags & IL_STEP_FLAG_BLOCKING) != 0;
          return;
        case IL_STEP_C:
          op->kind = (s->flags & IL_STEP_FLAG_RELEASE_GIL) ? OP_C_FREE : OP_C_HOLD;
          op->dur = s->duration;
          return;
        case IL_STEP_YIELD:
          op->kind = OP_YIELD;
          return;
        case IL_STEP_REPEAT:
          if (s->n_children > 0 && s->count > 0)
            prog_push (prog, s->children, s->n_children, s->count, -1);
          continue;
        case IL_STEP_LOCK:
        case IL_STEP_LIMIT:
          op->kind = OP_ACQUIRE;
          op->ref = s->kind == IL_STEP_LIMIT ? prog->limit_base + s->ref : s->ref;
          op->body = s->children;
          op->n_body = s->n_children;
          return;
        case IL_STEP_TO_THREAD:
        case IL_STEP_TO_PROCESS:
          op->kind = s->kind == IL_STEP_TO_THREAD ? OP_TO_THREAD : OP_TO_PROCESS;
          op->body = s->children;
          op->n_body = s->n_children;
          return;
        case IL_STEP_AWAIT:
          op->kind = OP_AWAIT;
          op->ref = s->ref;
          return;
        case IL_STEP_FAIL:
          op->kind = OP_FAIL;
          return;
        case IL_N_STEP_KINDS:
        default:
          g_assert_not_reached ();
        }
    }

  op->kind = OP_END;
}

/* ------------------------------------------------------------------ */
/* Entities                                                            */

typedef struct _Thread  Thread;
typedef struct _Task    Task;
typedef struct _Process Process;
typedef struct _Job     Job;
typedef struct _Pool    Pool;

typedef struct {
  gboolean   locked;
  Thread    *holder;
  Thread    *last_holder;
  guint32    last_dropper_lane;
  guint64    switch_number;
  gboolean   drop_request;
  GQueue     cond_waiters;    /* Thread*: in COND_TIMED_WAIT, in arrival order */
  GPtrArray *switch_waiters;  /* Thread*: forced releasers waiting for a switch */
  guint      n_wanting;       /* threads that want the GIL (drawn as waiters) */
} Gil;

struct _Process {
  guint32  lane;
  guint32  gil_lane;
  gboolean has_gil;
  Gil      gil;
  Pool    *thread_pool;       /* default executor (asyncio) */
};

/* What a thread does next time it is on a core. */
typedef enum {
  R_NEXT,         /* fetch the next operation from its driver */
  R_COMPUTE,      /* (re)start its computation of `remaining` */
  R_TAKE_GIL,     /* take the GIL, then continue with after_gil */
  R_GIL_TIMEOUT,  /* a timed GIL wait expired */
  R_BLOCK,        /* start the pending blocking call (after a forced-switch wait) */
  R_RETRY_SEM,    /* woken by a release: try the semaphore again */
} Resume;

typedef enum {
  W_NONE,
  W_GIL_COND,
  W_GIL_SWITCH,
  W_BLOCK,        /* I/O, sleep or select with a timeout event */
  W_SELECT,       /* select() that any ready fd or call_soon_threadsafe ends */
  W_WAIT,         /* lock, join, job, work queue: ended by thread_wake */
  W_WAKING,       /* woken, wake latency running */
  W_DONE,
} Wait;

typedef enum {
  C_PY,           /* Python bytecode: needs the GIL, honours drop requests */
  C_HOLD,         /* C code keeping the GIL: never interrupted */
  C_FREE,         /* on a core without the GIL (released C code, short syscalls) */
} Compute;

typedef enum {
  ROLE_PROG,      /* a dedicated thread running one task's steps */
  ROLE_MAIN,      /* the main thread starting threads/processes or running tasks in order */
  ROLE_LOOP,      /* the asyncio event loop */
  ROLE_WORKER,    /* a pool worker */
} Role;

struct _Thread {
  guint32  id;
  guint32  lane;
  guint32  mirror;          /* task lane that shows this thread's states too, or IL_NO_LANE */
  Process *proc;
  Role     role;
  Resume   resume;
  Resume   after_gil;
  Resume   after_switch;
  Wait     wait;
  gint32   core;            /* -1 when off core */
  gboolean queued;
  gboolean holds_gil;
  gboolean wants_gil;
  guint64  saved_switch;
  GList    cond_link;       /* this thread's node in gil.cond_waiters while waiting there */
  guint32  gen;             /* bumps cancel this thread's pending events */

  Compute  ck;
  gint64   remaining;
  gint64   started;
  gboolean computing;
  IlState  compute_state;

  /* Pending blocking call. */
  IlState  block_state;
  gint64   block_dur;
  gboolean block_select;

  /* Cause of the next state change (wake-ups). */
  IlCause  cause;
  guint32  cause_lane;

  Job     *job;
  Pool    *pool;
  gint64   boot;            /* CPU a new process spends before its first step */

  /* ROLE_MAIN */
  guint32  main_next;
  Task    *pending_spawn;

  /* Done after the cost the driver asked for has been paid. */
  Pool    *dispatch_after;
  gboolean wait_after;
  Resume   wait_resume;     /* what a begin_wait delayed by a forced switch resumes with */
  gboolean block_is_wait;

  /* Semaphore acquire in progress. */
  guint32       pend_sem;
  const IlStep *pend_body;
  guint32       pend_n;
};

typedef enum {
  JD_TASK,         /* the job is a task's body: the task ends with it */
  JD_THREAD,       /* an offloaded body a thread waits for */
  JD_LOOP,         /* an offloaded body a coroutine awaits */
} JobDone;

struct _Job {
  Prog     prog;
  Task    *task;           /* JD_TASK: the task */
  guint32  mirror;
  JobDone  done;
  Thread  *submitter;      /* JD_THREAD */
  Task    *awaiter;        /* JD_LOOP (NULL once the awaiter was cancelled) */
  gint64   pre_cost;
  gint64   post_cost;
  gboolean failed;
  gboolean ended;
  Pool    *pool;
  Job     *outer;          /* sequential mode: the job to return to after an inline await */
  guint32  worker_lane;
  guint32  id;
};

struct _Pool {
  gboolean   processes;
  guint32    max;
  GPtrArray *workers;      /* Thread* */
  GQueue     queue;        /* Job* */
  GQueue     idle;         /* Thread* */
  Process   *owner;
  gboolean   launched;
  guint32    number;       /* for names */
};

typedef enum {
  TW_NONE,
  TW_READY,
  TW_IO,
  TW_TIMER,
  TW_SEM,
  TW_AWAIT,
  TW_JOB,
  TW_RUNNING,
} TaskWait;

struct _Task {
  guint32       index;
  guint32       lane;
  const IlTask *def;
  gboolean      started;
  gboolean      done;
  IlCause       outcome;
  GArray       *awaiters;   /* Waiter */
  Process      *proc;       /* processes mode: its own process */

  /* asyncio */
  Prog          prog;
  Job          *job;        /* threads/processes: its body */
  guint32       gen;
  TaskWait      wait;
  gpointer      wait_on;    /* Task* awaited, Job* offloaded, timer handle */
  guint32       wait_ref;
  gboolean      cancel_requested;
  guint32       cancel_by;
};

typedef struct {
  gboolean      is_task;
  gpointer      who;
  const IlStep *body;
  guint32       n_body;
} Waiter;

typedef struct {
  guint32 capacity;
  guint32 held;
  GArray *waiters;          /* Waiter, FIFO */
} Sem;

/* asyncio handles */
typedef enum {
  H_MAIN,
  H_STEP,
  H_IO,
  H_TIMER,
  H_THREADSAFE,
  H_START,
} HKind;

typedef struct {
  HKind    kind;
  Task    *task;
  IlCause  cause;
  guint32  cause_lane;
  gint64   when;
  guint64  seq;
  gboolean cancelled;
} Handle;

typedef enum {
  LP_START,
  LP_SELECTED,
  LP_RUN,
} LoopPhase;

typedef struct {
  Thread    *thread;
  guint32    lane;
  GQueue     ready;         /* Handle* */
  GPtrArray *timers;        /* Handle*, binary heap on (when, seq) */
  GQueue     fd_ready;      /* Handle*: I/O completions select will report */
  LoopPhase  phase;
  guint      ntodo;
  guint64    iteration;
  Handle    *current;       /* handle whose callback is running */
  Task      *step_task;
  gboolean   end_step_after; /* the current step ends once the pending cost is paid */
  gboolean   in_select;
  gboolean   main_done;
} Loop;

typedef struct {
  Thread  *thread;
  gint64   since;
  guint32  lane;
  guint32  slice_gen;
  gboolean slice_armed;
} Core;

struct _IlEngine {
  IlScenario  *scenario;
  IlRunConfig  config;
  IlTrace     *trace;

  gint64       now;
  guint64      seq;
  GArray      *heap;        /* Ev */
  gint64       n_processed;

  Core        *cores;
  GQueue       runq;        /* Thread* */
  GPtrArray   *threads;     /* Thread* (owned) */
  GPtrArray   *processes;   /* Process* (owned) */
  GPtrArray   *jobs;        /* Job* (owned) */
  GPtrArray   *pools;       /* Pool* (owned) */
  GPtrArray   *handles;     /* Handle* (owned) */
  Task        *tasks;
  guint32     *order;       /* task indices by start time (stable) */
  Sem         *sems;
  guint32      n_sems;
  guint32      limit_base;
  gint32       workers_sem;
  Loop        *loop;
  Pool        *proc_pool;   /* ProcessPoolExecutor for to_process / processes + workers */
  Pool        *item_pool;   /* ThreadPoolExecutor for threads + workers */

  GByteArray  *lane_state;  /* last recorded IlState per lane */
  guint32      n_done;
  gboolean     finished;
  gint64       finish_time;
  guint32      rng;
  GError      *error;
  GHashTable  *step_index;  /* IlStep* → pre-order number + 1 (il-steps.h) */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

G_DEFINE_QUARK (il-engine-error-quark, il_engine_error)

static guint32
rng_next (IlEngine *e)
{
  /* xorshift32: enough to pick a waiter, and reproducible everywhere. */
  guint32 x = e->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return e->rng = x;
}

static gboolean
mode_is_asyncio (IlEngine *e)
{
  return e->config.mode == IL_MODE_ASYNCIO;
}

static void
emit (IlEngine    *e,
      guint32      lane,
      IlEventKind  kind,
      guint8       value,
      guint16      aux,
      guint32      arg)
{
  il_trace_append (e->trace, e->now, lane, kind, value, aux, arg);
}

/* Queue events (il-trace.h): what enters and leaves the loop's ready queue
 * and timers and the pools' work queues, for the views that draw them. */
static void
emit_queue (IlEngine  *e,
            guint32    lane,
            IlQueueOp  op,
            guint16    queue,
            guint      what,
            guint32    item_lane)
{
  emit (e, lane, IL_EVENT_QUEUE, (guint8) (op | (what << 2)), queue, item_lane);
}

/* Records which step of its scenario task a program just started, so the
 * code view and the narration can tell the line a task is on. */
static void
emit_step (IlEngine   *e,
           guint32     lane,
           const Prog *prog)
{
  gpointer number;

  if (prog->step == NULL || lane == IL_NO_LANE)
    return;
  number = g_hash_table_lookup (e->step_index, prog->step);
  if (number != NULL)
    emit (e, lane, IL_EVENT_STEP, 0, 0, GPOINTER_TO_UINT (number) - 1);
}

static guint32
add_lane (IlEngine   *e,
          IlLaneKind  kind,
          const char *name,
          guint32     parent,
          guint32     index)
{
  guint32 lane = il_trace_add_lane (e->trace, kind, name, parent, index);
  guint8 none = IL_STATE_NOT_STARTED;

  g_byte_array_append (e->lane_state, &none, 1);
  return lane;
}

static void
lane_state (IlEngine *e,
            guint32   lane,
            IlState   state,
            IlCause   cause,
            guint32   cause_lane)
{
  if (lane == IL_NO_LANE || e->lane_state->data[lane] == state)
    return;
  if (e->lane_state->data[lane] == IL_STATE_DONE)
    return;
  e->lane_state->data[lane] = (guint8) state;
  emit (e, lane, IL_EVENT_STATE, (guint8) state, (guint16) cause, cause_lane);
}

/* A thread's visible state, mirrored on the task it is running. */
static void
thread_vis (IlEngine *e,
            Thread   *th,
            IlState   state)
{
  IlCause cause = th->cause;
  guint32 cause_lane = th->cause_lane;

  th->cause = IL_CAUSE_NONE;
  th->cause_lane = IL_NO_LANE;
  lane_state (e, th->lane, state, cause, cause_lane);
  if (th->mirror != IL_NO_LANE && th->mirror != th->lane)
    lane_state (e, th->mirror, state, cause, cause_lane);
}

static void
schedule (IlEngine *e,
          gint64    t,
          EvKind    kind,
          guint32   id,
          guint32   gen)
{
  Ev ev = { t, e->seq++, kind, id, gen };
  Ev *v;
  guint i;

  g_array_append_val (e->heap, ev);
  v = (Ev *) (gpointer) e->heap->data;
  i = e->heap->len - 1;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (v[parent].t < v[i].t || (v[parent].t == v[i].t && v[parent].seq < v[i].seq))
        break;
      Ev tmp = v[parent]; v[parent] = v[i]; v[i] = tmp;
      i = parent;
    }
}

static void
heap_pop (IlEngine *e,
          Ev       *out)
{
  Ev *v = (Ev *) (gpointer) e->heap->data;
  guint n = e->heap->len - 1, i = 0;

  *out = v[0];
  v[0] = v[n];
  g_array_set_size (e->heap, n);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && (v[l].t < v[m].t || (v[l].t == v[m].t && v[l].seq < v[m].seq)))
        m = l;
      if (r < n && (v[r].t < v[m].t || (v[r].t == v[m].t && v[r].seq < v[m].seq)))
        m = r;
      if (m == i)
        break;
      Ev tmp = v[m]; v[m] = v[i]; v[i] = tmp;
      i = m;
    }
}

/* ------------------------------------------------------------------ */
/* Cores and the OS scheduler                                          */

static void thread_run (IlEngine *e, Thread *th);

static void
core_arm_slice (IlEngine *e,
                guint     c)
{
  Core *core = &e->cores[c];

  if (core->slice_armed || core->thread == NULL)
    return;
  core->slice_armed = TRUE;
  core->slice_gen++;
  schedule (e, MAX (e->now, core->since + e->config.params.os_slice), EV_SLICE, c, core->slice_gen);
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
  core->slice_gen++;
  th->core = (gint32) c;
  th->queued = FALSE;
  emit (e, core->lane, IL_EVENT_CORE, 0, 0, th->lane);
  schedule (e, e->now, EV_DISPATCH, th->id, th->gen);
  if (e->runq.length > 0)
    core_arm_slice (e, c);
}

static void
thread_make_runnable (IlEngine *e,
                      Thread   *th)
{
  th->wait = W_NONE;
  for (guint c = 0; c < e->config.cores; c++)
    if (e->cores[c].thread == NULL)
      {
        core_assign (e, c, th);
        return;
      }

  th->queued = TRUE;
  g_queue_push_tail (&e->runq, th);
  if (th->resume != R_TAKE_GIL && th->resume != R_GIL_TIMEOUT)
    thread_vis (e, th, IL_STATE_READY);
  for (guint c = 0; c < e->config.cores; c++)
    core_arm_slice (e, c);
}

static void
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
  core->slice_gen++;
  th->core = -1;

  if (e->runq.length > 0)
    core_assign (e, c, g_queue_pop_head (&e->runq));
  else
    emit (e, core->lane, IL_EVENT_CORE, 0, 0, IL_NO_LANE);
}

/* Woken by another thread or the kernel: runnable after the wake latency. */
static void
thread_wake (IlEngine *e,
             Thread   *th,
             Resume    resume,
             IlCause   cause,
             guint32   cause_lane)
{
  th->gen++;
  th->wait = W_WAKING;
  th->resume = resume;
  th->cause = cause;
  th->cause_lane = cause_lane;
  schedule (e, e->now + e->config.params.wake_latency, EV_WAKE, th->id, th->gen);
}

static void
compute_start (IlEngine *e,
               Thread   *th,
               IlState   vis)
{
  Gil *gil = &th->proc->gil;

  th->computing = TRUE;
  th->started = e->now;
  th->compute_state = vis;
  th->gen++;
  thread_vis (e, th, vis);
  schedule (e, e->now + th->remaining, EV_COMPUTE_DONE, th->id, th->gen);
  if (th->ck == C_PY && th->holds_gil && gil->drop_request)
    schedule (e, e->now + e->config.params.breaker_latency, EV_BREAKER, th->id, th->gen);
}

static void
compute_pause (IlEngine *e,
               Thread   *th)
{
  th->remaining -= e->now - th->started;
  if (th->remaining < 0)
    th->remaining = 0;
  th->computing = FALSE;
  th->gen++;
}

static void
core_slice_end (IlEngine *e,
                guint     c)
{
  Core *core = &e->cores[c];
  Thread *th = core->thread;

  core->slice_armed = FALSE;
  if (th == NULL || e->runq.length == 0)
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

/* ------------------------------------------------------------------ */
/* The GIL                                                             */

static void
gil_want (IlEngine *e,
          Thread   *th,
          gboolean  want)
{
  Gil *gil = &th->proc->gil;

  if (th->wants_gil == want)
    return;
  th->wants_gil = want;
  if (want)
    gil->n_wanting++;
  else
    gil->n_wanting--;
  emit (e, th->proc->gil_lane, IL_EVENT_GIL_WAITERS, 0, 0, gil->n_wanting);
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

/* The waiters of `cond`, in the order they began to wait.  glibc's
 * condition variables wake the oldest waiter first, which is why real GIL
 * hand-offs among CPU-bound threads go round in a fixed cycle (measured on
 * CPython 3.11: "0231 0231 …" for 60 hand-offs among four threads).  Each
 * thread carries its own list node, so a timed-out waiter leaves in O(1). */
static void
cond_add (Gil    *gil,
          Thread *th)
{
  th->cond_link.data = th;
  g_queue_push_tail_link (&gil->cond_waiters, &th->cond_link);
}

static void
cond_remove (Gil    *gil,
             Thread *th)
{
  g_queue_unlink (&gil->cond_waiters, &th->cond_link);
}

/* COND_SIGNAL: the oldest waiter, or with a non-zero seed a random one
 * (what a scheduler without FIFO wake-ups would do). */
static Thread *
cond_signal_pick (IlEngine *e,
                  Gil      *gil)
{
  GList *link = gil->cond_waiters.head;

  if (e->config.params.seed != 0 && gil->cond_waiters.length > 1)
    link = g_queue_peek_nth_link (&gil->cond_waiters, rng_next (e) % gil->cond_waiters.length);
  g_queue_unlink (&gil->cond_waiters, link);
  return link->data;
}

/* Returns TRUE if the GIL was taken; otherwise the thread now waits. */
static gboolean
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
  cond_add (gil, th);
  thread_vis (e, th, IL_STATE_WAIT_GIL);
  thread_leave_core (e, th);
  th->gen++;
  schedule (e, e->now + e->config.switch_interval + e->config.params.timer_slack,
            EV_BLOCK_DONE, th->id, th->gen);
  return FALSE;
}

/* drop_gil(): returns TRUE if FORCE_SWITCHING makes the thread wait until
 * another thread has taken the GIL. */
static gboolean
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
  if (gil->cond_waiters.length > 0)
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
static void
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
      schedule (e, e->now, EV_DISPATCH, th->id, ++th->gen);
    }
}

static void
gil_request_drop (IlEngine *e,
                  Thread   *waiter)
{
  Gil *gil = &waiter->proc->gil;
  Thread *holder = gil->holder;

  gil->drop_request = TRUE;
  emit (e, waiter->proc->gil_lane, IL_EVENT_GIL_REQUEST, 0, 0, waiter->lane);
  if (holder != NULL && holder->computing && holder->ck == C_PY)
    schedule (e, e->now + e->config.params.breaker_latency, EV_BREAKER, holder->id, holder->gen);
  /* A C call that keeps the GIL honours it when it returns; a preempted
   * holder when it runs again (compute_start). */
}

/* ------------------------------------------------------------------ */
/* Blocking calls                                                      */

/* Drop the GIL around a blocking call (Py_BEGIN_ALLOW_THREADS).  Returns
 * FALSE if the thread must first wait for a forced switch; it then resumes
 * with R_BLOCK. */
static gboolean
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
static Resume
resume_after_block (Thread *th)
{
  if (th->proc->has_gil)
    {
      th->after_gil = R_NEXT;
      return R_TAKE_GIL;
    }
  return R_NEXT;
}

static void
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
      th->gen++;
      th->wait = W_SELECT;
      if (dur >= 0)
        schedule (e, e->now + dur, EV_BLOCK_DONE, th->id, th->gen);
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
  th->gen++;
  th->wait = W_BLOCK;
  if (th->block_state == IL_STATE_SLEEPING)
    dur += p->timer_slack;          /* the timer fires late; the wake-up is included */
  else
    dur += p->wake_latency;         /* the kernel wakes the thread after the I/O */
  schedule (e, e->now + dur, EV_BLOCK_DONE, th->id, th->gen);
}

static void
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
static void
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
  th->gen++;
  th->wait = W_WAIT;
  th->resume = on_wake;
}

/* ------------------------------------------------------------------ */
/* Tasks, semaphores, jobs, pools                                      */

static void loop_call_soon (IlEngine *e, Task *task, HKind kind, IlCause cause, guint32 cause_lane);
static void task_cancel (IlEngine *e, Task *victim, Task *by);

static void
task_set_state (IlEngine *e,
                Task     *task,
                IlState   state,
                IlCause   cause,
                guint32   cause_lane)
{
  lane_state (e, task->lane, state, cause, cause_lane);
}

static Job *
job_new (IlEngine     *e,
         const IlStep *steps,
         guint32       n,
         JobDone       done,
         gint32        wrap)
{
  Job *job = g_new0 (Job, 1);

  prog_init (&job->prog, steps, n, e->limit_base, wrap);
  job->done = done;
  job->mirror = IL_NO_LANE;
  job->worker_lane = IL_NO_LANE;
  job->id = e->jobs->len;
  g_ptr_array_add (e->jobs, job);
  return job;
}

static void
sem_release (IlEngine *e,
             guint32   ref,
             guint32   by_lane)
{
  Sem *sem = &e->sems[ref];

  if (sem->waiters->len == 0)
    {
      g_assert (sem->held > 0);
      sem->held--;
      return;
    }

  if (mode_is_asyncio (e))
    {
      /* asyncio.Lock / Semaphore: FIFO, the first waiter gets it and no one
       * can barge in before it runs. */
      Waiter w = g_array_index (sem->waiters, Waiter, 0);
      Task *t = w.who;

      g_array_remove_index (sem->waiters, 0);
      prog_push (&t->prog, w.body, w.n_body, 1, (gint32) ref);
      loop_call_soon (e, t, H_STEP, IL_CAUSE_LOCK, by_lane);
      return;
    }

  /* threading.Lock: the lock is free again; the OS wakes one waiter, which
   * retries — a running thread may take it first. */
  sem->held--;
  {
    Waiter w = g_array_index (sem->waiters, Waiter, 0);
    Thread *th = w.who;

    g_array_remove_index (sem->waiters, 0);
    thread_wake (e, th, R_RETRY_SEM, IL_CAUSE_LOCK, by_lane);
  }
}

/* Release every semaphore a program still holds (with-blocks unwinding). */
static void
prog_unwind (IlEngine *e,
             Prog     *prog,
             guint32   by_lane)
{
  while (prog->depth > 0)
    {
      Frame *f = &prog->frames[--prog->depth];
      if (f->release >= 0)
        sem_release (e, (guint32) f->release, by_lane);
    }
}

static void
task_finish (IlEngine *e,
             Task     *task,
             IlCause   outcome,
             guint32   cause_lane)
{
  g_assert (!task->done);
  task->done = TRUE;
  task->outcome = outcome;
  task->wait = TW_NONE;
  task_set_state (e, task, IL_STATE_DONE, outcome, cause_lane);
  if (outcome == IL_CAUSE_FAILED)
    emit (e, task->lane, IL_EVENT_MARK, IL_MARK_EXCEPTION, 0, IL_NO_LANE);

  e->n_done++;
  if (e->n_done == e->scenario->n_tasks)
    {
      e->finished = TRUE;
      e->finish_time = e->now;
    }

  /* The task's future resolves: whoever awaited or joined it goes on. */
  for (guint i = 0; i < task->awaiters->len; i++)
    {
      Waiter w = g_array_index (task->awaiters, Waiter, i);
      if (w.is_task)
        {
          Task *t = w.who;
          t->wait = TW_READY;
          loop_call_soon (e, t, H_STEP, IL_CAUSE_FUTURE, task->lane);
        }
      else
        {
          Thread *th = w.who;
          thread_wake (e, th, resume_after_block (th), IL_CAUSE_FUTURE, task->lane);
        }
    }
  g_array_set_size (task->awaiters, 0);

  /* TaskGroup: the first failure cancels every sibling still running. */
  if (outcome == IL_CAUSE_FAILED && mode_is_asyncio (e) && task->def->group >= 0)
    for (guint i = 0; i < e->scenario->n_tasks; i++)
      {
        Task *sib = &e->tasks[i];
        if (sib != task && sib->def->group == task->def->group && !sib->done)
          task_cancel (e, sib, task);
      }
}


/* A job's program ended (returned or raised) on the thread running it. */
static void
job_finish (IlEngine *e,
            Thread   *th,
            Job      *job)
{
  IlCause outcome = job->failed ? IL_CAUSE_FAILED : IL_CAUSE_RETURNED;

  job->ended = TRUE;
  prog_unwind (e, &job->prog, th->lane);
  th->mirror = IL_NO_LANE;

  switch (job->done)
    {
    case JD_TASK:
      task_finish (e, job->task, outcome, IL_NO_LANE);
      break;
    case JD_THREAD:
    case JD_LOOP:
      /* A process pool's result travels back through a pipe and is
       * unpickled by the executor's manager thread first. */
      job->worker_lane = th->lane;
      schedule (e, e->now + (job->pool != NULL && job->pool->processes ? e->config.params.ipc_item_cost : 0),
                EV_JOB_RESULT, job->id, 0);
      break;
    default:
      g_assert_not_reached ();
    }
}

static Process *
process_new (IlEngine   *e,
             const char *name,
             gboolean    has_gil)
{
  Process *p = g_new0 (Process, 1);

  p->lane = add_lane (e, IL_LANE_PROCESS, name, IL_NO_LANE, e->processes->len);
  p->has_gil = has_gil;
  g_queue_init (&p->gil.cond_waiters);
  p->gil.switch_waiters = g_ptr_array_new ();
  p->gil.last_dropper_lane = IL_NO_LANE;
  if (has_gil)
    {
      g_autofree char *gil_name = g_strdup_printf ("GIL (%s)", name);
      p->gil_lane = add_lane (e, IL_LANE_GIL, gil_name, p->lane, e->processes->len);
    }
  else
    p->gil_lane = IL_NO_LANE;
  g_ptr_array_add (e->processes, p);
  return p;
}

static Thread *
thread_new (IlEngine   *e,
            Process    *proc,
            Role        role,
            guint32     lane)
{
  Thread *th = g_new0 (Thread, 1);

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

static Pool *
pool_new (IlEngine *e,
          Process  *owner,
          gboolean  processes,
          guint32   max)
{
  Pool *pool = g_new0 (Pool, 1);

  pool->processes = processes;
  pool->max = MAX (1, max);
  pool->workers = g_ptr_array_new ();
  pool->owner = owner;
  pool->number = e->pools->len;
  g_queue_init (&pool->queue);
  g_queue_init (&pool->idle);
  g_ptr_array_add (e->pools, pool);
  return pool;
}

static Thread *
pool_add_worker (IlEngine *e,
                 Pool     *pool)
{
  guint n = pool->workers->len;
  Thread *th;

  if (pool->processes)
    {
      const IlParams *p = &e->config.params;
      g_autofree char *pname = g_strdup_printf ("ForkProcess-%u", n + 1);
      Process *proc;
      guint32 lane;

      if (p->start_method == IL_START_SPAWN)
        {
          g_free (pname);
          pname = g_strdup_printf ("SpawnProcess-%u", n + 1);
        }
      else if (p->start_method == IL_START_FORKSERVER)
        {
          g_free (pname);
          pname = g_strdup_printf ("ForkServerProcess-%u", n + 1);
        }
      proc = process_new (e, pname, e->config.mode != IL_MODE_FREE_THREADING);
      lane = add_lane (e, IL_LANE_THREAD, pname, proc->lane, n);
      th = thread_new (e, proc, ROLE_WORKER, lane);
      if (p->start_method != IL_START_FORK)
        th->boot = p->process_start_cost[p->start_method];
    }
  else
    {
      g_autofree char *name = g_strdup_printf ("ThreadPoolExecutor-%u_%u", pool->number, n);
      guint32 lane = add_lane (e, IL_LANE_THREAD, name, pool->owner->lane, n);
      th = thread_new (e, pool->owner, ROLE_WORKER, lane);
    }
  th->pool = pool;
  g_ptr_array_add (pool->workers, th);
  return th;
}

/* CPU the submitting thread pays for a process start. */
static gint64
process_parent_cost (IlEngine *e)
{
  const IlParams *p = &e->config.params;

  /* fork copies the parent's page tables in the parent; spawn and
   * forkserver only send a request and the child pays for its start. */
  if (p->start_method == IL_START_FORK)
    return p->process_start_cost[IL_START_FORK];
  return IL_MSEC (1);
}

static guint16
pool_queue_id (const Pool *pool)
{
  return (guint16) ((IL_QUEUE_POOL + MIN (pool->number, 0x7000)) | (pool->processes ? IL_QUEUE_PROCESS_POOL : 0));
}

/* The task a queued job stands for: its own, the coroutine awaiting it, or
 * the task on the thread that submitted it. */
static guint32
job_item_lane (const Job *job)
{
  if (job->mirror != IL_NO_LANE)
    return job->mirror;
  if (job->awaiter != NULL)
    return job->awaiter->lane;
  if (job->submitter != NULL)
    return job->submitter->mirror != IL_NO_LANE ? job->submitter->mirror : job->submitter->lane;
  return IL_NO_LANE;
}

/* Submit a job; returns the CPU the submitter pays for it (thread or
 * process start-up).  A worker that is idle gets it at once. */
static gint64
pool_submit (IlEngine *e,
             Pool     *pool,
             Job      *job)
{
  gint64 cost = 0;

  job->pool = pool;
  if (pool->processes)
    {
      job->pre_cost = e->config.params.ipc_item_cost / 2;
      job->post_cost = e->config.params.ipc_item_cost - job->pre_cost;
      if (!pool->launched)
        {
          /* fork: ProcessPoolExecutor launches every worker on first use. */
          pool->launched = TRUE;
          for (guint i = 0; i < pool->max; i++)
            {
              Thread *w = pool_add_worker (e, pool);
              cost += process_parent_cost (e);
              w->resume = R_NEXT;
              w->wait = W_NONE;
              g_queue_push_tail (&pool->idle, w);
              emit (e, w->proc->lane, IL_EVENT_MARK, IL_MARK_PROCESS_START, 0, IL_NO_LANE);
            }
        }
    }
  else
    {
      job->pre_cost = e->config.params.pool_item_cost;
      if (pool->idle.length == 0 && pool->workers->len < pool->max)
        {
          Thread *w = pool_add_worker (e, pool);
          cost += e->config.params.thread_start_cost;
          w->resume = R_NEXT;
          g_queue_push_tail (&pool->idle, w);
        }
    }

  g_queue_push_tail (&pool->queue, job);
  emit_queue (e, pool->owner->lane, IL_QUEUE_PUSH, pool_queue_id (pool), 0, job_item_lane (job));
  if (job->mirror != IL_NO_LANE)
    lane_state (e, job->mirror, IL_STATE_READY, IL_CAUSE_POOL, IL_NO_LANE);
  return cost;
}

/* Hand queued jobs to idle workers (after the submitter paid its cost). */
static void
pool_dispatch (IlEngine *e,
               Pool     *pool,
               guint32   by_lane)
{
  while (pool->queue.length > 0 && pool->idle.length > 0)
    {
      Thread *w = g_queue_pop_head (&pool->idle);
      Job *job = g_queue_pop_head (&pool->queue);

      emit_queue (e, w->lane, IL_QUEUE_POP, pool_queue_id (pool), 0, job_item_lane (job));

      w->job = job;
      w->mirror = job->mirror;
      if (w->wait == W_WAIT)
        thread_wake (e, w, resume_after_block (w), IL_CAUSE_POOL, by_lane);
      else if (w->core < 0 && !w->queued && w->wait != W_WAKING)
        {
          /* A brand-new worker: it starts running now. */
          w->cause = IL_CAUSE_START;
          w->cause_lane = by_lane;
          w->resume = R_NEXT;
          thread_make_runnable (e, w);
        }
    }
}


/* ------------------------------------------------------------------ */
/* Drivers: what a thread does next                                    */

typedef enum {
  T_CPU,
  T_C_HOLD,
  T_C_FREE,
  T_IO,
  T_SLEEP,
  T_SLEEP_EXACT,  /* wait until a known time (a task's start), no timer slack */
  T_SELECT,       /* dur < 0: block until woken */
  T_WAIT,
  T_EXIT,
} TKind;

typedef struct {
  TKind   kind;
  gint64  dur;
  IlState state;     /* T_WAIT */
  Resume  on_wake;   /* T_WAIT */
} TOp;

static Pool *
process_pool (IlEngine *e)
{
  if (e->proc_pool == NULL)
    e->proc_pool = pool_new (e, g_ptr_array_index (e->processes, 0), TRUE,
                             e->config.mode == IL_MODE_PROCESSES && e->config.workers > 0
                               ? e->config.workers : e->config.cores);
  return e->proc_pool;
}

static void
task_start_job (IlEngine *e,
                Task     *t)
{
  t->started = TRUE;
  t->job = job_new (e, t->def->steps, t->def->n_steps, JD_TASK, -1);
  t->job->task = t;
  t->job->mirror = t->lane;
  emit (e, t->lane, IL_EVENT_MARK, IL_MARK_TASK_CREATED, 0, IL_NO_LANE);
}

/* A thread running a job's program.  Returns FALSE when the job ended. */
static gboolean
job_next_op (IlEngine *e,
             Thread   *th,
             Job      *job,
             TOp      *top)
{
  Op op;

  memset (top, 0, sizeof *top);
  if (job->pre_cost > 0)
    {
      top->kind = T_CPU;
      top->dur = job->pre_cost;
      job->pre_cost = 0;
      return TRUE;
    }

  for (;;)
    {
      prog_next (&job->prog, &op);
      if (job->task != NULL)
        emit_step (e, job->task->lane, &job->prog);
      switch (op.kind)
        {
        case OP_CPU:
          top->kind = T_CPU;
          top->dur = op.dur;
          return TRUE;
        case OP_C_HOLD:
          top->kind = T_C_HOLD;
          top->dur = op.dur;
          return TRUE;
        case OP_C_FREE:
          top->kind = T_C_FREE;
          top->dur = op.dur;
          return TRUE;
        case OP_IO:
          top->kind = T_IO;
          top->dur = op.dur;
          return TRUE;
        case OP_SLEEP:
          top->kind = T_SLEEP;
          top->dur = op.dur;
          return TRUE;
        case OP_YIELD:
          top->kind = T_SLEEP;   /* time.sleep(0): measured ~70 µs, a real timer sleep */
          top->dur = 0;
          return TRUE;
        case OP_ACQUIRE:
          {
            Sem *sem = &e->sems[op.ref];
            if (sem->held < sem->capacity)
              {
                sem->held++;
                prog_push (&job->prog, op.body, op.n_body, 1, (gint32) op.ref);
                continue;
              }
            Waiter w = { FALSE, th, op.body, op.n_body };
            g_array_append_val (sem->waiters, w);
            th->pend_sem = op.ref;
            th->pend_body = op.body;
            th->pend_n = op.n_body;
            top->kind = T_WAIT;
            top->state = IL_STATE_BLOCKED;
            top->on_wake = R_RETRY_SEM;
            return TRUE;
          }
        case OP_RELEASE:
          sem_release (e, op.ref, th->lane);
          continue;
        case OP_AWAIT:
          {
            Task *x = &e->tasks[op.ref];
            if (x->done)
              continue;
            if (e->config.mode == IL_MODE_SEQUENTIAL && !x->started)
              {
                /* Sequential code calls what it awaits: run it right here. */
                task_start_job (e, x);
                x->job->outer = job;
                th->job = x->job;
                th->mirror = x->lane;
                if (job->mirror != IL_NO_LANE)
                  lane_state (e, job->mirror, IL_STATE_BLOCKED, IL_CAUSE_NONE, x->lane);
                lane_state (e, x->lane, IL_STATE_READY, IL_CAUSE_START, job->mirror);
                return job_next_op (e, th, th->job, top);
              }
            Waiter w = { FALSE, th, NULL, 0 };
            g_array_append_val (x->awaiters, w);
            top->kind = T_WAIT;
            top->state = IL_STATE_BLOCKED;
            top->on_wake = R_NEXT;
            return TRUE;
          }
        case OP_TO_THREAD:
          /* Already on a thread of its own: run the body inline. */
          prog_push (&job->prog, op.body, op.n_body, 1, -1);
          continue;
        case OP_TO_PROCESS:
          if (e->config.mode == IL_MODE_PROCESSES)
            {
              prog_push (&job->prog, op.body, op.n_body, 1, -1);
              continue;
            }
          else
            {
              Pool *pool = process_pool (e);
              Job *sub = job_new (e, op.body, op.n_body, JD_THREAD, -1);
              gint64 cost;

              sub->submitter = th;
              cost = pool_submit (e, pool, sub);
              th->dispatch_after = pool;
              th->wait_after = TRUE;
              top->kind = T_C_HOLD;
              top->dur = cost;
              return TRUE;
            }
        case OP_FAIL:
          job->failed = TRUE;
          job_finish (e, th, job);
          return FALSE;
        case OP_END:
          if (job->post_cost > 0)
            {
              top->kind = T_CPU;
              top->dur = job->post_cost;
              job->post_cost = 0;
              return TRUE;
            }
          job_finish (e, th, job);
          return FALSE;
        default:
          g_assert_not_reached ();
        }
    }
}

static void
spawn_task_thread (IlEngine *e,
                   Thread   *starter,
                   Task     *t)
{
  Process *proc = t->proc != NULL ? t->proc : starter->proc;
  Thread *th = thread_new (e, proc, ROLE_PROG, t->lane);

  th->job = t->job;
  th->cause = IL_CAUSE_START;
  th->cause_lane = starter->lane;
  if (t->proc != NULL)
    {
      const IlParams *p = &e->config.params;
      if (p->start_method != IL_START_FORK)
        th->boot = p->process_start_cost[p->start_method];
      emit (e, proc->lane, IL_EVENT_MARK, IL_MARK_PROCESS_START, 0, starter->lane);
    }
  thread_make_runnable (e, th);
}

/* Dedicated task threads and pool workers. */
static void
worker_next_op (IlEngine *e,
                Thread   *th,
                TOp      *top)
{
  memset (top, 0, sizeof *top);
  for (;;)
    {
      if (th->boot > 0)
        {
          /* A new interpreter starting (spawn / forkserver). */
          top->kind = T_C_HOLD;
          top->state = IL_STATE_STARTING;
          top->dur = th->boot;
          th->boot = 0;
          return;
        }
      if (th->job != NULL)
        {
          if (job_next_op (e, th, th->job, top))
            return;
          th->job = NULL;
          continue;
        }
      if (th->role == ROLE_PROG)
        {
          top->kind = T_EXIT;
          return;
        }
      /* A pool worker: next item, or wait on the work queue. */
      if (th->pool->queue.length > 0)
        {
          th->job = g_queue_pop_head (&th->pool->queue);
          emit_queue (e, th->lane, IL_QUEUE_POP, pool_queue_id (th->pool), 0, job_item_lane (th->job));
          th->mirror = th->job->mirror;
          continue;
        }
      g_queue_push_tail (&th->pool->idle, th);
      top->kind = T_WAIT;
      top->state = IL_STATE_IDLE;
      top->on_wake = R_NEXT;
      return;
    }
}

/* The main thread: runs the tasks in order (sequential) or starts them. */
static void
main_next_op (IlEngine *e,
              Thread   *th,
              TOp      *top)
{
  const IlParams *p = &e->config.params;

  memset (top, 0, sizeof *top);
  for (;;)
    {
      Task *t;

      if (th->pending_spawn != NULL)
        {
          spawn_task_thread (e, th, th->pending_spawn);
          th->pending_spawn = NULL;
        }
      if (th->job != NULL)
        {
          Job *outer;

          if (job_next_op (e, th, th->job, top))
            return;
          /* The job ended (and its task with it). */
          outer = th->job->outer;
          th->job = outer;
          th->mirror = outer != NULL ? outer->mirror : IL_NO_LANE;
          continue;
        }
      if (th->main_next >= e->scenario->n_tasks)
        {
          if (e->config.mode == IL_MODE_SEQUENTIAL)
            top->kind = T_EXIT;
          else
            {
              /* join() every thread / process / future */
              top->kind = T_WAIT;
              top->state = IL_STATE_BLOCKED;
              top->on_wake = R_NEXT;
            }
          return;
        }

      t = &e->tasks[e->order[th->main_next]];
      if (t->started)
        {
          th->main_next++;
          continue;
        }
      if (t->def->start > e->now)
        {
          top->kind = T_SLEEP_EXACT;
          top->dur = t->def->start - e->now;
          return;
        }
      th->main_next++;
      task_start_job (e, t);

      switch (e->config.mode)
        {
        case IL_MODE_SEQUENTIAL:
          th->job = t->job;
          th->mirror = t->lane;
          lane_state (e, t->lane, IL_STATE_READY, IL_CAUSE_START, th->lane);
          continue;

        case IL_MODE_THREADS:
        case IL_MODE_FREE_THREADING:
        case IL_MODE_PROCESSES:
          if (e->config.workers == 0)
            {
              th->pending_spawn = t;
              top->kind = e->config.mode == IL_MODE_PROCESSES ? T_C_HOLD : T_CPU;
              top->dur = e->config.mode == IL_MODE_PROCESSES ? process_parent_cost (e) : p->thread_start_cost;
              return;
            }
          else
            {
              Pool *pool = e->config.mode == IL_MODE_PROCESSES ? process_pool (e) : e->item_pool;
              gint64 cost = pool_submit (e, pool, t->job);
              th->dispatch_after = pool;
              top->kind = e->config.mode == IL_MODE_PROCESSES ? T_C_HOLD : T_CPU;
              top->dur = cost;
              return;
            }

        case IL_MODE_ASYNCIO:
        case IL_N_MODES:
        default:
          g_assert_not_reached ();
        }
    }
}

/* ------------------------------------------------------------------ */
/* asyncio                                                             */

static Handle *
handle_new (IlEngine *e,
            HKind     kind,
            Task     *task,
            IlCause   cause,
            guint32   cause_lane)
{
  Handle *h = g_new0 (Handle, 1);

  h->kind = kind;
  h->task = task;
  h->cause = cause;
  h->cause_lane = cause_lane;
  h->seq = e->seq++;
  g_ptr_array_add (e->handles, h);
  return h;
}

static gboolean
handle_before (const Handle *a,
               const Handle *b)
{
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void
timer_push (Loop   *loop,
            Handle *h)
{
  GPtrArray *v = loop->timers;
  guint i;

  g_ptr_array_add (v, h);
  i = v->len - 1;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (!handle_before (v->pdata[i], v->pdata[parent]))
        break;
      gpointer tmp = v->pdata[i]; v->pdata[i] = v->pdata[parent]; v->pdata[parent] = tmp;
      i = parent;
    }
}

static Handle *
timer_pop (Loop *loop)
{
  GPtrArray *v = loop->timers;
  Handle *top = v->pdata[0];
  guint n = v->len - 1, i = 0;

  v->pdata[0] = v->pdata[n];
  g_ptr_array_set_size (v, n);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && handle_before (v->pdata[l], v->pdata[m]))
        m = l;
      if (r < n && handle_before (v->pdata[r], v->pdata[m]))
        m = r;
      if (m == i)
        break;
      gpointer tmp = v->pdata[i]; v->pdata[i] = v->pdata[m]; v->pdata[m] = tmp;
      i = m;
    }
  return top;
}

/* What a handle runs, as the trace says it (IlCallbackKind). */
static guint
handle_what (const Handle *h)
{
  static const IlCallbackKind kinds[] = {
    [H_MAIN] = IL_CALLBACK_MAIN, [H_STEP] = IL_CALLBACK_TASK_STEP, [H_IO] = IL_CALLBACK_IO,
    [H_TIMER] = IL_CALLBACK_TIMER, [H_THREADSAFE] = IL_CALLBACK_THREADSAFE, [H_START] = IL_CALLBACK_TIMER,
  };
  return kinds[h->kind];
}

static void
loop_queue_event (IlEngine     *e,
                  IlQueueOp     op,
                  guint16       queue,
                  const Handle *h)
{
  emit_queue (e, e->loop->lane, op, queue, handle_what (h), h->task != NULL ? h->task->lane : IL_NO_LANE);
}

/* call_soon_threadsafe / a ready fd ends a blocking select(). */
static void
loop_wake (IlEngine *e,
           IlCause   cause,
           guint32   cause_lane)
{
  Loop *loop = e->loop;
  Thread *th = loop->thread;

  if (loop->in_select && th->wait == W_SELECT)
    {
      loop->in_select = FALSE;
      thread_wake (e, th, th->resume, cause, cause_lane);
    }
}

static void
loop_call_soon (IlEngine *e,
                Task     *task,
                HKind     kind,
                IlCause   cause,
                guint32   cause_lane)
{
  Handle *h = handle_new (e, kind, task, cause, cause_lane);

  g_queue_push_tail (&e->loop->ready, h);
  loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, h);
  if (kind == H_STEP && task != NULL)
    {
      task->wait = TW_READY;
      task_set_state (e, task, IL_STATE_READY, cause, cause_lane);
    }
  if (kind == H_THREADSAFE)
    loop_wake (e, cause, cause_lane);
}

static void
task_cancel (IlEngine *e,
             Task     *victim,
             Task     *by)
{
  if (victim->done || victim->cancel_requested)
    return;

  emit (e, victim->lane, IL_EVENT_MARK, IL_MARK_CANCEL_REQUEST, 0, by->lane);
  victim->cancel_requested = TRUE;
  victim->cancel_by = by->lane;

  /* Edge-triggered: CancelledError is thrown in at the task's current
   * await, so a waiting task is woken; a ready one sees it when it runs. */
  switch (victim->wait)
    {
    case TW_IO:
      victim->gen++;
      break;
    case TW_TIMER:
      ((Handle *) victim->wait_on)->cancelled = TRUE;
      break;
    case TW_SEM:
      {
        Sem *sem = &e->sems[victim->wait_ref];
        for (guint i = 0; i < sem->waiters->len; i++)
          if (g_array_index (sem->waiters, Waiter, i).who == victim)
            {
              g_array_remove_index (sem->waiters, i);
              break;
            }
      }
      break;
    case TW_AWAIT:
      {
        Task *x = victim->wait_on;
        for (guint i = 0; i < x->awaiters->len; i++)
          if (g_array_index (x->awaiters, Waiter, i).who == victim)
            {
              g_array_remove_index (x->awaiters, i);
              break;
            }
      }
      break;
    case TW_JOB:
      ((Job *) victim->wait_on)->awaiter = NULL;   /* the thread runs on; its result is dropped */
      break;
    case TW_NONE:
    case TW_READY:
    case TW_RUNNING:
    default:
      return;
    }
  loop_call_soon (e, victim, H_STEP, IL_CAUSE_CANCELLED, by->lane);
}

static void
task_block (IlEngine *e,
            Task     *task,
            TaskWait  wait,
            IlState   state,
            guint32   cause_lane)
{
  task->wait = wait;
  e->loop->thread->mirror = IL_NO_LANE;
  task_set_state (e, task, state, IL_CAUSE_NONE, cause_lane);
}

static Pool *
default_executor (IlEngine *e)
{
  Process *main_proc = g_ptr_array_index (e->processes, 0);

  if (main_proc->thread_pool == NULL)
    main_proc->thread_pool = pool_new (e, main_proc, FALSE, MIN (32, e->config.cores + 4));
  return main_proc->thread_pool;
}

/* One step of a coroutine on the loop thread.  Returns FALSE when the step
 * is over (the task awaits, yielded or finished). */
static gboolean
task_step_op (IlEngine *e,
              Thread   *th,
              Task     *task,
              TOp      *top)
{
  Loop *loop = e->loop;
  Op op;

  memset (top, 0, sizeof *top);
  if (loop->end_step_after)
    {
      loop->end_step_after = FALSE;
      return FALSE;
    }
  if (task->done)
    return FALSE;
  if (task->cancel_requested)
    {
      prog_unwind (e, &task->prog, task->lane);
      th->mirror = IL_NO_LANE;
      task_finish (e, task, IL_CAUSE_CANCELLED, task->cancel_by);
      return FALSE;
    }

  for (;;)
    {
      prog_next (&task->prog, &op);
      emit_step (e, task->lane, &task->prog);
      switch (op.kind)
        {
        case OP_CPU:
          top->kind = T_CPU;
          top->dur = op.dur;
          return TRUE;
        case OP_C_HOLD:
          top->kind = T_C_HOLD;
          top->dur = op.dur;
          return TRUE;
        case OP_C_FREE:
          top->kind = T_C_FREE;
          top->dur = op.dur;
          return TRUE;
        case OP_IO:
          if (op.blocking)
            {
              top->kind = T_IO;
              top->dur = op.dur;
              return TRUE;
            }
          task->gen++;
          schedule (e, e->now + op.dur, EV_FD_READY, task->index, task->gen);
          task_block (e, task, TW_IO, IL_STATE_WAIT_IO, IL_NO_LANE);
          return FALSE;
        case OP_SLEEP:
          if (op.blocking)
            {
              top->kind = T_SLEEP;
              top->dur = op.dur;
              return TRUE;
            }
          else
            {
              Handle *h = handle_new (e, H_TIMER, task, IL_CAUSE_TIMER, IL_NO_LANE);
              h->when = e->now + op.dur;
              timer_push (loop, h);
              loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_TIMERS, h);
              schedule (e, h->when, EV_TIMER_DUE, task->index, ++task->gen);
              task->wait_on = h;
              task_block (e, task, TW_TIMER, IL_STATE_SLEEPING, IL_NO_LANE);
              return FALSE;
            }
        case OP_YIELD:
          th->mirror = IL_NO_LANE;
          loop_call_soon (e, task, H_STEP, IL_CAUSE_CALL_SOON, IL_NO_LANE);
          return FALSE;
        case OP_ACQUIRE:
          {
            Sem *sem = &e->sems[op.ref];
            if (sem->held < sem->capacity && sem->waiters->len == 0)
              {
                sem->held++;
                prog_push (&task->prog, op.body, op.n_body, 1, (gint32) op.ref);
                continue;
              }
            Waiter w = { TRUE, task, op.body, op.n_body };
            g_array_append_val (sem->waiters, w);
            task->wait_ref = op.ref;
            task_block (e, task, TW_SEM, IL_STATE_BLOCKED, IL_NO_LANE);
            return FALSE;
          }
        case OP_RELEASE:
          sem_release (e, op.ref, task->lane);
          continue;
        case OP_AWAIT:
          {
            Task *x = &e->tasks[op.ref];
            if (x->done)
              continue;
            Waiter w = { TRUE, task, NULL, 0 };
            g_array_append_val (x->awaiters, w);
            task->wait_on = x;
            task_block (e, task, TW_AWAIT, IL_STATE_BLOCKED, x->lane);
            return FALSE;
          }
        case OP_TO_THREAD:
        case OP_TO_PROCESS:
          {
            gboolean procs = op.kind == OP_TO_PROCESS;
            Pool *pool = procs ? process_pool (e) : default_executor (e);
            Job *job = job_new (e, op.body, op.n_body, JD_LOOP, -1);
            gint64 cost;

            job->awaiter = task;
            cost = pool_submit (e, pool, job);
            task->wait_on = job;
            task->wait = TW_JOB;
            th->dispatch_after = pool;
            if (cost > 0)
              {
                /* Starting the worker happens inside this step (run_in_executor
                 * starts a thread / forks the pool's processes). */
                loop->end_step_after = TRUE;
                top->kind = procs ? T_C_HOLD : T_CPU;
                top->dur = cost;
                return TRUE;
              }
            pool_dispatch (e, pool, th->lane);
            th->dispatch_after = NULL;
            task_block (e, task, TW_JOB, IL_STATE_BLOCKED, IL_NO_LANE);
            return FALSE;
          }
        case OP_FAIL:
          prog_unwind (e, &task->prog, task->lane);
          th->mirror = IL_NO_LANE;
          task_finish (e, task, IL_CAUSE_FAILED, IL_NO_LANE);
          return FALSE;
        case OP_END:
          th->mirror = IL_NO_LANE;
          task_finish (e, task, IL_CAUSE_RETURNED, IL_NO_LANE);
          return FALSE;
        default:
          g_assert_not_reached ();
        }
    }
}

static void
loop_end_callback (IlEngine *e)
{
  Loop *loop = e->loop;
  Task *task = loop->current != NULL ? loop->current->task : NULL;

  emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK_END, 0, 0, task != NULL ? task->lane : IL_NO_LANE);
  if (loop->step_task != NULL && loop->step_task->wait == TW_JOB && !loop->step_task->done)
    task_set_state (e, loop->step_task, IL_STATE_BLOCKED, IL_CAUSE_NONE, IL_NO_LANE);
  loop->current = NULL;
  loop->step_task = NULL;
  loop->thread->mirror = IL_NO_LANE;
}

static gint64
round_up_ms (gint64 t)
{
  return (t + IL_NSEC_PER_MSEC - 1) / IL_NSEC_PER_MSEC * IL_NSEC_PER_MSEC;
}

static void
loop_next_op (IlEngine *e,
              Thread   *th,
              TOp      *top)
{
  Loop *loop = e->loop;
  const IlParams *p = &e->config.params;

  memset (top, 0, sizeof *top);
  for (;;)
    {
      if (loop->step_task != NULL)
        {
          if (task_step_op (e, th, loop->step_task, top))
            return;
          loop_end_callback (e);
          continue;
        }
      if (loop->current != NULL)
        {
          loop_end_callback (e);   /* a callback whose cost has been paid */
          continue;
        }

      switch (loop->phase)
        {
        case LP_START:
          {
            gint64 block;
            guint32 timeout_us;

            if (e->finished)
              {
                top->kind = T_EXIT;
                return;
              }
            loop->iteration++;
            if (loop->ready.length > 0 || loop->fd_ready.length > 0)
              block = 0;
            else if (loop->timers->len > 0)
              {
                gint64 dt = ((Handle *) loop->timers->pdata[0])->when - e->now;
                /* epoll_wait takes whole milliseconds: asyncio rounds up. */
                block = dt <= 0 ? 0 : round_up_ms (dt) + p->timer_slack;
              }
            else
              block = -1;
            timeout_us = block < 0 ? G_MAXUINT32 : (guint32) MIN (block / IL_NSEC_PER_USEC, G_MAXUINT32 - 1);
            emit (e, loop->lane, IL_EVENT_LOOP_SELECT, 0, 0, timeout_us);
            loop->phase = LP_SELECTED;
            top->kind = T_SELECT;
            top->dur = block;
            return;
          }

        case LP_SELECTED:
          {
            guint n = 0;

            while (loop->fd_ready.length > 0)
              {
                g_queue_push_tail (&loop->ready, g_queue_pop_head (&loop->fd_ready));
                loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, g_queue_peek_tail (&loop->ready));
                n++;
              }
            while (loop->timers->len > 0 && ((Handle *) loop->timers->pdata[0])->when <= e->now)
              {
                Handle *h = timer_pop (loop);
                loop_queue_event (e, h->cancelled ? IL_QUEUE_DROP : IL_QUEUE_POP, IL_QUEUE_TIMERS, h);
                if (h->cancelled)
                  continue;
                g_queue_push_tail (&loop->ready, h);
                loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, h);
                n++;
              }
            emit (e, loop->lane, IL_EVENT_LOOP_SELECT_END, 0, 0, n);
            loop->ntodo = loop->ready.length;
            emit (e, loop->lane, IL_EVENT_LOOP_ITER, 0, (guint16) MIN (loop->ntodo, G_MAXUINT16),
                  (guint32) MIN (loop->iteration, G_MAXUINT32));
            loop->phase = LP_RUN;
            top->kind = T_CPU;
            top->dur = p->loop_iteration_cost;
            return;
          }

        case LP_RUN:
          {
            Handle *h;
            Task *task;

            if (loop->ntodo == 0)
              {
                loop->phase = LP_START;
                continue;
              }
            h = g_queue_pop_head (&loop->ready);
            loop_queue_event (e, h->cancelled ? IL_QUEUE_DROP : IL_QUEUE_POP, IL_QUEUE_READY, h);
            loop->ntodo--;
            task = h->task;
            if (h->cancelled)
              continue;

            switch (h->kind)
              {
              case H_MAIN:
                emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_MAIN, 0, IL_NO_LANE);
                loop->current = h;
                for (guint i = 0; i < e->scenario->n_tasks; i++)
                  {
                    Task *t = &e->tasks[e->order[i]];
                    t->started = TRUE;
                    prog_init (&t->prog, t->def->steps, t->def->n_steps, e->limit_base, e->workers_sem);
                    emit (e, t->lane, IL_EVENT_MARK, IL_MARK_TASK_CREATED, 0, th->lane);
                    if (t->def->start > 0)
                      {
                        Handle *start = handle_new (e, H_START, t, IL_CAUSE_START, th->lane);
                        start->when = t->def->start;
                        timer_push (loop, start);
                        loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_TIMERS, start);
                      }
                    else
                      loop_call_soon (e, t, H_STEP, IL_CAUSE_START, th->lane);
                  }
                top->kind = T_CPU;
                top->dur = p->task_create_cost * e->scenario->n_tasks;
                return;

              case H_START:
                emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_TIMER, 0, task->lane);
                loop->current = h;
                loop_call_soon (e, task, H_STEP, IL_CAUSE_START, th->lane);
                loop_end_callback (e);
                continue;

              case H_IO:
              case H_TIMER:
              case H_THREADSAFE:
                {
                  static const TaskWait expect[] = { [H_IO] = TW_IO, [H_TIMER] = TW_TIMER, [H_THREADSAFE] = TW_JOB };
                  static const IlCallbackKind kinds[] = { [H_IO] = IL_CALLBACK_IO, [H_TIMER] = IL_CALLBACK_TIMER,
                                                          [H_THREADSAFE] = IL_CALLBACK_THREADSAFE };

                  emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, kinds[h->kind], 0, task->lane);
                  loop->current = h;
                  /* The callback resolves the future the task awaits; the
                   * task's wake-up runs in the next iteration. */
                  if (!task->done && task->wait == expect[h->kind])
                    loop_call_soon (e, task, H_STEP, h->cause, h->cause_lane);
                  loop_end_callback (e);
                  continue;
                }

              case H_STEP:
                if (task->done)
                  continue;
                emit (e, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_TASK_STEP, 0, task->lane);
                loop->current = h;
                loop->step_task = task;
                task->wait = TW_RUNNING;
                task_set_state (e, task, IL_STATE_RUNNING, IL_CAUSE_LOOP, loop->lane);
                th->mirror = task->lane;
                top->kind = T_CPU;
                top->dur = p->task_step_cost;
                return;

              default:
                g_assert_not_reached ();
              }
          }

        default:
          g_assert_not_reached ();
        }
    }
}

/* ------------------------------------------------------------------ */
/* Running a thread                                                    */

static void
driver_next_op (IlEngine *e,
                Thread   *th,
                TOp      *top)
{
  switch (th->role)
    {
    case ROLE_LOOP:
      loop_next_op (e, th, top);
      break;
    case ROLE_MAIN:
      main_next_op (e, th, top);
      break;
    case ROLE_PROG:
    case ROLE_WORKER:
    default:
      worker_next_op (e, th, top);
      break;
    }
}

static void
set_compute (IlEngine *e,
             Thread   *th,
             Compute   ck,
             gint64    dur)
{
  th->ck = ck;
  th->remaining = dur;
  th->compute_state = IL_STATE_RUNNING;
  if (ck == C_PY && e->config.mode == IL_MODE_FREE_THREADING)
    th->remaining = (gint64) ((double) dur * (1.0 + e->config.params.free_threading_overhead) + 0.5);
  if (ck != C_FREE && th->proc->has_gil && !th->holds_gil)
    {
      th->resume = R_TAKE_GIL;
      th->after_gil = R_COMPUTE;
    }
  else
    th->resume = R_COMPUTE;
}

/* Called when the thread is on a core. */
static void
thread_run (IlEngine *e,
            Thread   *th)
{
  Gil *gil = &th->proc->gil;

  for (;;)
    {
      switch (th->resume)
        {
        case R_COMPUTE:
          compute_start (e, th, th->compute_state);
          return;

        case R_TAKE_GIL:
          if (!th->proc->has_gil || th->holds_gil)
            {
              th->resume = th->after_gil;
              continue;
            }
          if (!gil_take_or_wait (e, th))
            return;
          th->resume = th->after_gil;
          continue;

        case R_GIL_TIMEOUT:
          if (gil->locked && gil->switch_number == th->saved_switch)
            gil_request_drop (e, th);
          th->resume = R_TAKE_GIL;
          continue;

        case R_BLOCK:
          /* A blocking call whose GIL release had to wait for a switch. */
          if (th->block_is_wait)
            {
              th->block_is_wait = FALSE;
              thread_vis (e, th, th->block_state);
              thread_leave_core (e, th);
              th->gen++;
              th->wait = W_WAIT;
              th->resume = th->wait_resume;
              return;
            }
          th->resume = resume_after_block (th);
          block_start (e, th);
          return;

        case R_RETRY_SEM:
          {
            Sem *sem = &e->sems[th->pend_sem];
            if (sem->held < sem->capacity)
              {
                sem->held++;
                prog_push (&th->job->prog, th->pend_body, th->pend_n, 1, (gint32) th->pend_sem);
                th->resume = resume_after_block (th);
                continue;
              }
            Waiter w = { FALSE, th, th->pend_body, th->pend_n };
            g_array_append_val (sem->waiters, w);
            thread_vis (e, th, IL_STATE_BLOCKED);
            thread_leave_core (e, th);
            th->gen++;
            th->wait = W_WAIT;
            th->resume = R_RETRY_SEM;
            return;
          }

        case R_NEXT:
          {
            TOp top;

            if (th->dispatch_after != NULL)
              {
                pool_dispatch (e, th->dispatch_after, th->lane);
                th->dispatch_after = NULL;
              }
            if (th->wait_after)
              {
                th->wait_after = FALSE;
                begin_wait (e, th, IL_STATE_BLOCKED, R_NEXT);
                return;
              }
            /* The eval breaker runs between operations too: a drop request
             * that arrived during a C call is honoured here. */
            if (th->holds_gil && gil->drop_request)
              {
                gil_forced_drop (e, th, R_NEXT);
                return;
              }

            driver_next_op (e, th, &top);
            switch (top.kind)
              {
              case T_CPU:
                set_compute (e, th, C_PY, top.dur);
                continue;
              case T_C_HOLD:
                set_compute (e, th, C_HOLD, top.dur);
                if (top.state == IL_STATE_STARTING)
                  th->compute_state = IL_STATE_STARTING;
                continue;
              case T_C_FREE:
                th->ck = C_FREE;
                th->remaining = top.dur;
                th->compute_state = IL_STATE_RUNNING;
                if (th->holds_gil && gil_drop (e, th, FALSE))
                  {
                    /* FORCE_SWITCHING even on a voluntary release: wait for
                     * the switch, then run the C code. */
                    th->wait = W_GIL_SWITCH;
                    th->after_switch = R_COMPUTE;
                    thread_vis (e, th, IL_STATE_WAIT_GIL);
                    thread_leave_core (e, th);
                    return;
                  }
                th->resume = R_COMPUTE;
                continue;
              case T_IO:
                begin_block (e, th, IL_STATE_WAIT_IO, top.dur, FALSE);
                return;
              case T_SLEEP:
                begin_block (e, th, IL_STATE_SLEEPING, top.dur, FALSE);
                return;
              case T_SLEEP_EXACT:
                begin_block (e, th, IL_STATE_SLEEPING, top.dur - e->config.params.timer_slack, FALSE);
                return;
              case T_SELECT:
                begin_block (e, th, IL_STATE_IDLE, top.dur, TRUE);
                return;
              case T_WAIT:
                begin_wait (e, th, top.state, top.on_wake);
                return;
              case T_EXIT:
                release_for_block (e, th, TRUE);
                th->mirror = IL_NO_LANE;
                thread_vis (e, th, IL_STATE_DONE);
                thread_leave_core (e, th);
                th->wait = W_DONE;
                th->gen++;
                return;
              default:
                g_assert_not_reached ();
              }
          }

        default:
          g_assert_not_reached ();
        }
    }
}

static void
process_event (IlEngine *e,
               const Ev *ev)
{
  Thread *th = NULL;

  switch ((EvKind) ev->kind)
    {
    case EV_DISPATCH:
      th = g_ptr_array_index (e->threads, ev->id);
      if (th->gen == ev->gen && th->core >= 0)
        thread_run (e, th);
      break;

    case EV_COMPUTE_DONE:
      th = g_ptr_array_index (e->threads, ev->id);
      if (th->gen != ev->gen || !th->computing)
        break;
      th->computing = FALSE;
      th->remaining = 0;
      th->resume = th->ck == C_FREE ? resume_after_block (th) : R_NEXT;
      thread_run (e, th);
      break;

    case EV_BREAKER:
      th = g_ptr_array_index (e->threads, ev->id);
      if (th->gen != ev->gen || !th->computing || th->ck != C_PY || !th->holds_gil
          || !th->proc->gil.drop_request)
        break;
      compute_pause (e, th);
      th->resume = R_COMPUTE;
      gil_forced_drop (e, th, R_COMPUTE);
      break;

    case EV_WAKE:
      th = g_ptr_array_index (e->threads, ev->id);
      if (th->gen != ev->gen || th->wait != W_WAKING)
        break;
      thread_make_runnable (e, th);
      break;

    case EV_BLOCK_DONE:
      th = g_ptr_array_index (e->threads, ev->id);
      if (th->gen != ev->gen)
        break;
      switch (th->wait)
        {
        case W_GIL_COND:
          cond_remove (&th->proc->gil, th);
          th->resume = R_GIL_TIMEOUT;
          th->cause = IL_CAUSE_GIL_TIMEOUT;
          thread_make_runnable (e, th);
          break;
        case W_BLOCK:
          th->cause = th->block_state == IL_STATE_SLEEPING ? IL_CAUSE_TIMER : IL_CAUSE_IO;
          thread_make_runnable (e, th);
          break;
        case W_SELECT:
          e->loop->in_select = FALSE;
          th->cause = IL_CAUSE_TIMER;
          thread_make_runnable (e, th);
          break;
        case W_NONE:
        case W_GIL_SWITCH:
        case W_WAIT:
        case W_WAKING:
        case W_DONE:
        default:
          break;
        }
      break;

    case EV_SLICE:
      if (e->cores[ev->id].slice_gen == ev->gen)
        core_slice_end (e, ev->id);
      break;

    case EV_FD_READY:
      {
        Task *task = &e->tasks[ev->id];
        if (task->gen != ev->gen || task->wait != TW_IO || task->done)
          break;
        g_queue_push_tail (&e->loop->fd_ready, handle_new (e, H_IO, task, IL_CAUSE_IO, IL_NO_LANE));
        /* One rule for I/O and timers: once what the task awaits is done,
         * it is ready until its step runs, however busy the loop is. */
        task_set_state (e, task, IL_STATE_READY, IL_CAUSE_IO, IL_NO_LANE);
        loop_wake (e, IL_CAUSE_IO, IL_NO_LANE);
      }
      break;

    case EV_TIMER_DUE:
      {
        Task *task = &e->tasks[ev->id];
        if (task->gen == ev->gen && task->wait == TW_TIMER && !task->done
            && !((Handle *) task->wait_on)->cancelled)
          task_set_state (e, task, IL_STATE_READY, IL_CAUSE_TIMER, IL_NO_LANE);
      }
      break;

    case EV_JOB_RESULT:
      {
        Job *job = g_ptr_array_index (e->jobs, ev->id);
        if (job->done == JD_THREAD)
          thread_wake (e, job->submitter, resume_after_block (job->submitter), IL_CAUSE_FUTURE,
                       job->worker_lane);
        else if (job->awaiter != NULL && job->awaiter->wait == TW_JOB && job->awaiter->wait_on == job)
          loop_call_soon (e, job->awaiter, H_THREADSAFE, IL_CAUSE_FUTURE, job->worker_lane);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

void
il_run_config_from_scenario (IlRunConfig      *config,
                             const IlScenario *scenario)
{
  g_return_if_fail (config != NULL);
  g_return_if_fail (scenario != NULL);

  config->mode = scenario->mode;
  config->cores = scenario->cores;
  config->workers = scenario->workers;
  config->switch_interval = scenario->switch_interval;
  config->params = scenario->params;
}

static int
compare_start (gconstpointer a,
               gconstpointer b,
               gpointer      data)
{
  const IlScenario *sc = data;
  guint32 i = *(const guint32 *) a, j = *(const guint32 *) b;
  gint64 si = sc->tasks[i].start, sj = sc->tasks[j].start;

  if (si != sj)
    return si < sj ? -1 : 1;
  return i < j ? -1 : (i > j ? 1 : 0);
}

IlEngine *
il_engine_new (const IlScenario  *scenario,
               const IlRunConfig *config)
{
  IlEngine *e;
  Process *main_proc;
  Thread *main_thread;
  guint32 n;

  g_return_val_if_fail (scenario != NULL, NULL);
  g_return_val_if_fail (scenario->n_tasks > 0, NULL);

  e = g_new0 (IlEngine, 1);
  e->scenario = il_scenario_copy (scenario);
  if (config != NULL)
    e->config = *config;
  else
    il_run_config_from_scenario (&e->config, scenario);
  e->config.cores = CLAMP (e->config.cores, 1, IL_SCENARIO_MAX_CORES);
  if (e->config.switch_interval <= 0)
    e->config.switch_interval = IL_MSEC (5);
  if ((guint) e->config.mode >= IL_N_MODES)
    e->config.mode = IL_MODE_THREADS;

  /* The trace remembers the scenario as it was run. */
  e->trace = il_trace_new ();
  e->trace->scenario = il_scenario_copy (scenario);
  e->trace->scenario->mode = e->config.mode;
  e->trace->scenario->cores = e->config.cores;
  e->trace->scenario->workers = e->config.workers;
  e->trace->scenario->switch_interval = e->config.switch_interval;
  e->trace->scenario->params = e->config.params;
  e->trace->mode = e->config.mode;

  e->heap = g_array_new (FALSE, FALSE, sizeof (Ev));
  e->lane_state = g_byte_array_new ();
  e->step_index = il_steps_index_new (e->scenario);
  e->threads = g_ptr_array_new_with_free_func (g_free);
  e->processes = g_ptr_array_new ();
  e->jobs = g_ptr_array_new_with_free_func (g_free);
  e->pools = g_ptr_array_new ();
  e->handles = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&e->runq);
  e->rng = e->config.params.seed != 0 ? e->config.params.seed : 0x9e3779b9u;

  e->cores = g_new0 (Core, e->config.cores);
  for (guint c = 0; c < e->config.cores; c++)
    {
      g_autofree char *name = g_strdup_printf ("Core %u", c);
      e->cores[c].lane = add_lane (e, IL_LANE_CORE, name, IL_NO_LANE, c);
    }

  /* Locks, then limits, then the asyncio workers semaphore. */
  e->limit_base = e->scenario->n_locks;
  e->workers_sem = -1;
  e->n_sems = e->scenario->n_locks + e->scenario->n_limits;
  if (e->config.mode == IL_MODE_ASYNCIO && e->config.workers > 0)
    e->workers_sem = (gint32) e->n_sems++;
  e->sems = g_new0 (Sem, MAX (1, e->n_sems));
  for (guint i = 0; i < e->n_sems; i++)
    {
      e->sems[i].waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
      if (i < e->scenario->n_locks)
        e->sems[i].capacity = 1;
      else if (i < e->limit_base + e->scenario->n_limits)
        e->sems[i].capacity = e->scenario->limits[i - e->limit_base].capacity;
      else
        e->sems[i].capacity = e->config.workers;
    }

  main_proc = process_new (e, "MainProcess", e->config.mode != IL_MODE_FREE_THREADING);

  n = e->scenario->n_tasks;
  e->tasks = g_new0 (Task, n);
  e->order = g_new (guint32, n);
  for (guint32 i = 0; i < n; i++)
    e->order[i] = i;
  g_qsort_with_data (e->order, n, sizeof (guint32), compare_start, e->scenario);

  if (e->config.mode == IL_MODE_ASYNCIO)
    {
      e->loop = g_new0 (Loop, 1);
      e->loop->lane = add_lane (e, IL_LANE_LOOP, "Event loop", main_proc->lane, 0);
      g_queue_init (&e->loop->ready);
      g_queue_init (&e->loop->fd_ready);
      e->loop->timers = g_ptr_array_new ();
    }

  main_thread = thread_new (e, main_proc,
                            e->config.mode == IL_MODE_ASYNCIO ? ROLE_LOOP : ROLE_MAIN,
                            add_lane (e, IL_LANE_THREAD, "MainThread", main_proc->lane, 0));

  for (guint32 i = 0; i < n; i++)
    {
      Task *t = &e->tasks[i];
      guint32 parent = main_proc->lane;

      t->index = i;
      t->def = &e->scenario->tasks[i];
      t->awaiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
      t->outcome = IL_CAUSE_NONE;
      if (e->config.mode == IL_MODE_PROCESSES && e->config.workers == 0)
        {
          g_autofree char *pname = g_strdup_printf ("Process-%u (%s)", i + 1, t->def->name);
          t->proc = process_new (e, pname, TRUE);
          parent = t->proc->lane;
        }
      t->lane = add_lane (e, IL_LANE_TASK, t->def->name, parent, i);
    }

  if ((e->config.mode == IL_MODE_THREADS || e->config.mode == IL_MODE_FREE_THREADING)
      && e->config.workers > 0)
    e->item_pool = pool_new (e, main_proc, FALSE, e->config.workers);

  if (e->loop != NULL)
    {
      e->loop->thread = main_thread;
      g_queue_push_tail (&e->loop->ready, handle_new (e, H_MAIN, NULL, IL_CAUSE_START, IL_NO_LANE));
      loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, g_queue_peek_tail (&e->loop->ready));
    }

  main_thread->cause = IL_CAUSE_START;
  thread_make_runnable (e, main_thread);

  return e;
}

void
il_engine_free (IlEngine *e)
{
  if (e == NULL)
    return;

  for (guint i = 0; i < e->processes->len; i++)
    {
      Process *p = g_ptr_array_index (e->processes, i);
      g_queue_init (&p->gil.cond_waiters);   /* forget the nodes: they live inside the threads */
      g_ptr_array_unref (p->gil.switch_waiters);
      g_free (p);
    }
  g_ptr_array_unref (e->processes);
  for (guint i = 0; i < e->pools->len; i++)
    {
      Pool *pool = g_ptr_array_index (e->pools, i);
      g_ptr_array_unref (pool->workers);
      g_queue_clear (&pool->queue);
      g_queue_clear (&pool->idle);
      g_free (pool);
    }
  g_ptr_array_unref (e->pools);
  if (e->loop != NULL)
    {
      g_queue_clear (&e->loop->ready);
      g_queue_clear (&e->loop->fd_ready);
      g_ptr_array_unref (e->loop->timers);
      g_free (e->loop);
    }
  for (guint i = 0; i < e->n_sems; i++)
    g_array_unref (e->sems[i].waiters);
  g_free (e->sems);
  for (guint i = 0; i < e->scenario->n_tasks; i++)
    g_array_unref (e->tasks[i].awaiters);
  g_free (e->tasks);
  g_free (e->order);
  g_free (e->cores);
  g_queue_clear (&e->runq);
  g_ptr_array_unref (e->threads);
  g_ptr_array_unref (e->jobs);
  g_ptr_array_unref (e->handles);
  g_array_unref (e->heap);
  g_byte_array_unref (e->lane_state);
  g_hash_table_unref (e->step_index);
  il_trace_unref (e->trace);
  il_scenario_free (e->scenario);
  g_clear_error (&e->error);
  g_free (e);
}

static void
set_deadlock_error (IlEngine *e)
{
  g_autoptr(GString) names = g_string_new (NULL);
  guint shown = 0;

  for (guint i = 0; i < e->scenario->n_tasks; i++)
    if (!e->tasks[i].done)
      {
        if (shown++ < 8)
          g_string_append_printf (names, "%s%s", names->len ? ", " : "", e->tasks[i].def->name);
      }
  if (shown > 8)
    g_string_append_printf (names, " and %u more", shown - 8);
  g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_DEADLOCK,
               "deadlock at %.3f ms: nothing can run, and these tasks wait for each other: %s",
               il_time_to_ms (e->now), names->str);
}

gboolean
il_engine_run_until (IlEngine  *e,
                     gint64     t,
                     GError   **error)
{
  g_return_val_if_fail (e != NULL, FALSE);

  while (e->error == NULL && !e->finished && e->heap->len > 0)
    {
      Ev ev;

      if (((Ev *) (gpointer) e->heap->data)[0].t > t)
        break;
      heap_pop (e, &ev);
      e->now = ev.t;
      if (++e->n_processed > IL_ENGINE_MAX_EVENTS || e->now > IL_ENGINE_MAX_TIME)
        {
          g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_LIMIT,
                       "the run would not end: stopped after %" G_GINT64_FORMAT " scheduling events "
                       "and %.1f s of simulated time",
                       e->n_processed, il_time_to_ms (e->now) / 1000.0);
          break;
        }
      process_event (e, &ev);
    }

  if (e->error == NULL && !e->finished && e->heap->len == 0)
    set_deadlock_error (e);

  if (e->finished)
    {
      e->now = e->finish_time;
      e->trace->finished = TRUE;
    }
  else if (e->error == NULL && t != IL_TIME_FOREVER && t > e->now)
    e->now = t;
  il_trace_set_end_time (e->trace, e->now);

  if (e->error != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (e->error);
      return FALSE;
    }
  return TRUE;
}

gint64
il_engine_peek_next_time (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, IL_TIME_FOREVER);

  if (e->finished || e->error != NULL || e->heap->len == 0)
    return IL_TIME_FOREVER;
  return ((Ev *) (gpointer) e->heap->data)[0].t;
}

gint64
il_engine_get_now (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, 0);
  return e->now;
}

gboolean
il_engine_is_finished (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, TRUE);
  return e->finished;
}

IlTrace *
il_engine_get_trace (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, NULL);
  return e->trace;
}

const IlRunConfig *
il_engine_get_config (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, NULL);
  return &e->config;
}

IlTrace *
il_simulate (const IlScenario  *scenario,
             const IlRunConfig *config,
             GError           **error)
{
  g_autoptr(IlEngine) e = il_engine_new (scenario, config);

  if (e == NULL)
    {
      g_set_error (error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_LIMIT, "the scenario has no tasks");
      return NULL;
    }
  if (!il_engine_run_until (e, IL_TIME_FOREVER, error))
    return NULL;
  return il_trace_ref (e->trace);
}
