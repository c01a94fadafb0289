/* il-engine-private.h — what the files of the engine share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine's entities (threads, tasks, processes, jobs, pools, the
 * asyncio loop, cores) and the functions one part of it calls in another.
 * Nothing here is public: only il-engine.h is.
 */
#pragma once

#include "il-engine.h"
#include "il-steps.h"

/* Events */

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

#define N_THREAD_EVENTS (EV_BLOCK_DONE + 1)

typedef struct _Thread  Thread;

typedef struct {
  gint64  t;
  guint64 seq;
  guint32 kind;
  guint32 id;
  guint32 gen;
  Thread *th;     /* a thread event's thread (from its slot's address: no lookup by id) */
} Ev;

/* The event queue is an indexed heap: every event has a fixed slot in the
 * thread, core, task or job it is about (a thread has one per kind from
 * EV_DISPATCH to EV_BLOCK_DONE), and each slot holds at most one pending
 * event.  A slot knows where its event's entry sits, so an event that a
 * generation bump makes stale is taken out at once in O(log n) instead of
 * lingering until its time comes: the heap holds only live events, and
 * its size is the number of things that really wait for a time.
 *
 * The entry, not the slot, holds the event: choosing the next event and
 * taking it out read only the queue's own arrays, and a slot is small
 * enough that a thread's five share a cache line. */
typedef struct _EvSlot EvSlot;
struct _EvSlot {
  guint32 pos;              /* in a lane: its entry's number there; else index in the heap + 1, 0 when not in it */
  guint32 fifo;             /* FIFO lane + 1; 0 when not in a lane */
};

/* An event in the heap or a lane, 32 bytes.  The kind rides in the low
 * byte of the sequence number's key: sequence numbers are unique, so the
 * key sorts exactly as the sequence does (and 2^56 of them is far beyond
 * IL_ENGINE_MAX_EVENTS). */
typedef struct {
  gint64   t;
  guint64  key;             /* sequence << 8 | kind */
  EvSlot  *slot;            /* lanes: NULL once cancelled */
  guint32  id;
  guint32  gen;
} EvEntry;

#define EV_KEY_KIND(key) ((guint32) ((key) & 0xff))

/* Events that always come the same delay after they are asked for (a
 * dispatch now, a wake-up after the wake latency, the eval breaker after
 * its latency, a timed GIL wait after the interval) are due in the order
 * they were scheduled: they queue in FIFO lanes beside the heap, one lane
 * per delay, in O(1), and the earliest of the heap's top and the lanes'
 * heads is next.  The first N_FIXED_FIFOS lanes have those delays; the
 * others take whatever delay comes when they are empty — a scenario's
 * steps have fixed durations, so most I/O and computations end a step's
 * duration after they begin and skip the heap too.
 *
 * A lane is a ring of entries: pushing and popping write no thread but the
 * one the event is about (a list through the threads' slots wrote the
 * neighbours').  An event cancelled in the middle of a lane leaves its
 * entry there, dead (slot NULL), skipped when it reaches the head.
 * Entries are numbered from the lane's start (the number wraps around at
 * 2^32; only differences count): entry n is ring[n & mask]. */
#define N_FIXED_FIFOS 4
#define N_FIFOS 8

typedef struct {
  EvEntry *ring;
  guint32  head;            /* number of the first entry (live whenever the lane is not empty) */
  guint32  tail;            /* number the next entry gets (the one before it is live) */
  guint32  mask;            /* the ring's size - 1 (a power of two - 1) */
  gint64   delay;           /* changes only while the lane is empty */
  gint64   last_t;          /* time of the last entry pushed (for queue_last_time only) */
} EvFifo;

/* Programs: walking a task's step tree */

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
  OP_PUT,       /* ref: queue index */
  OP_GET,
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
  guint32       first;    /* il-steps.h number of steps[0] in its task */
  guint32       next;     /* number of steps[pos] */
} Frame;

#define MAX_FRAMES (IL_SCENARIO_MAX_DEPTH + 4)
/* Frames kept inside the Prog: most programs nest a loop or a lock or two.
 * Deeper ones move their frames to the heap (prog_push), so a Prog costs
 * under 200 bytes instead of 900 — every task and job has one, and
 * zeroing them was a large part of setting up 100 000 threads. */
#define INLINE_FRAMES 4

/* A body guarded by a lock or semaphore is pushed only once the acquire has
 * succeeded, so every frame with release >= 0 is a semaphore really held:
 * finishing, failing or being cancelled releases exactly those.  A Prog
 * stays where it was set up (frames may point into it).
 *
 * The innermost frame, the only one prog_next walks, lives in the Prog
 * itself (`top`), the ones below it in an array that only pushing and
 * popping a body touch: what a step reads and writes is the first 48
 * bytes, which a Job keeps on one cache line with its own hot fields.
 * With 10 000 threads alive every line a step touches is a cache miss,
 * and the frame array in the middle of the Prog made it four. */
typedef struct {
  /* hot: every step */
  Frame   top;          /* frame depth - 1, while depth > 0 */
  guint32 number;       /* the number (il-steps.h) of the step prog_next started last */
  gint32  wrap;         /* semaphore around the whole body (asyncio workers), or -1 */
  guint32 lane;         /* where its steps are recorded (IL_EVENT_STEP), or IL_NO_LANE */
  guint8  depth;
  guint8  stepped;      /* the last prog_next started a step (recorded by emit_step) */
  /* cold: pushing and popping bodies, acquiring limits */
  Frame  *below;        /* frames 0 .. depth - 2: inline_below, or g_new'd once deeper */
  const IlStep *steps;
  guint32 n_steps;
  guint32 limit_base;   /* semaphore index of the scenario's first limit */
  guint32 cap;          /* room in below */
  Frame   inline_below[INLINE_FRAMES - 1];
} Prog;

G_STATIC_ASSERT (MAX_FRAMES <= G_MAXUINT8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (Prog, below) == 48);

/* Frame i of a program (0 the outermost, depth - 1 the innermost). */
static inline Frame *
prog_frame (Prog    *prog,
            guint32  i)
{
  return i + 1 == prog->depth ? &prog->top : &prog->below[i];
}


/* Entities */

typedef struct _Task    Task;
typedef struct _Process Process;
typedef struct _Job     Job;
typedef struct _Pool    Pool;

/* A thread or task waiting in a semaphore's queue or for a task to finish.
 * Each thread and task waits for one thing at a time, so it carries its own
 * node: joining, leaving (cancellation) and waking cost O(1), no memory. */
typedef struct {
  GList         link;       /* data: this Waiter */
  gboolean      queued;
  gboolean      is_task;
  gpointer      who;
  const IlStep *body;
  guint32       n_body;
} Waiter;

/* A waiter of the GIL's condition variable, kept in the GIL rather than in
 * the thread: joining, leaving and picking a waiter then read and write
 * the GIL's array and the thread concerned, never a neighbour thread (a
 * list through the threads wrote its neighbours' nodes, a cache miss on a
 * thread that had nothing to do with the event). */
typedef struct {
  Thread  *th;                /* NULL once it left */
  gint64   since;             /* when it (re)entered the wait */
} GilWaiter;

typedef struct {
  gboolean   locked;
  Thread    *holder;
  Thread    *last_holder;
  guint32    last_dropper_lane;
  guint64    switch_number;
  gboolean   drop_request;
  /* The threads in COND_TIMED_WAIT, in arrival order: each has a ticket,
   * numbered in that order, and its entry is waiters[ticket & (waiter_cap
   * - 1)], a ring.  The live ones lie between waiter_first (the oldest)
   * and waiter_next (the ticket the next one gets), among the entries of
   * those that left. */
  GilWaiter *waiters;
  guint32    waiter_cap;      /* a power of two, or 0 */
  guint32    waiter_first;
  guint32    waiter_next;
  guint32    n_waiters;
  /* With a seed, the waiter to wake is picked by its rank in arrival
   * order: a Fenwick tree over the ring finds it in O(log n). */
  guint32   *ticket_tree;     /* 1-based, waiter_cap nodes */
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
  R_RETRY_QUEUE,  /* woken by a queue's condition: check the queue again (with the GIL) */
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

/* Fields in the order events touch them.  Threads are 64-byte aligned
 * (slab_alloc0), and the first line holds what nearly every event reads
 * or writes — above all the GIL waits and time-outs, a third of all
 * events when threads contend for the GIL: generation, pending events,
 * where it waits, its core and place among the GIL's waiters.  The second
 * line holds what a computation and the driver's next operation need; then
 * the event slots; then what only some roles or rare paths need.  With
 * 10 000 threads alive the threads are far beyond the caches, and each
 * line an event touches is a miss.  Small enums and flags are one byte
 * each (bit-fields keep the enum types) so that this fits. */
struct _Thread {
  /* line 0 */
  guint32  id;
  guint32  gen;             /* bumps cancel this thread's pending events */
  guint32  pending_ev;      /* bit k: ev[k] is in the queue */
  gint32   core;            /* -1 when off core */
  guint32  lane;
  guint32  mirror;          /* task lane that shows this thread's states too, or IL_NO_LANE */
  guint32  ticket;          /* its arrival ticket among the GIL's waiters while it waits there */
  guint32  cause_lane;
  Wait     wait : 8;
  Resume   resume : 8;
  Resume   after_gil : 8;
  Resume   after_switch : 8;
  Role     role : 8;
  Compute  ck : 8;
  IlState  compute_state : 8;
  IlCause  cause : 8;       /* cause of the next state change (wake-ups) */
  guint8   queued;
  guint8   holds_gil;
  guint8   wants_gil;
  guint8   computing;
  /* Pending blocking call. */
  IlState  block_state : 8;
  guint8   block_select;
  guint8   block_is_wait;
  guint8   wait_after;      /* done after the cost the driver asked for has been paid */
  Process *proc;
  guint64  saved_switch;

  /* line 1 */
  Job     *job;
  gint64   remaining;
  gint64   started;
  gint64   block_dur;
  gint64   boot;            /* CPU a new process spends before its first step */
  gint64   boot_after;      /* forkserver: the server is up at this time */
  Pool    *dispatch_after;
  Pool    *pool;

  EvSlot   ev[N_THREAD_EVENTS];

  Waiter   waiter;          /* its node in a semaphore's or task's waiters */
  Task    *pending_spawn;   /* ROLE_MAIN */
  const IlStep *pend_body;  /* semaphore acquire in progress */
  guint32  pend_sem;
  guint32  pend_n;
  guint32  pend_queue;      /* queue put/get in progress (R_RETRY_QUEUE) */
  guint32  main_next;       /* ROLE_MAIN */
  guint8   pend_put;
  Resume   wait_resume : 8; /* what a begin_wait delayed by a forced switch resumes with */
};

typedef enum {
  JD_TASK,         /* the job is a task's body: the task ends with it */
  JD_THREAD,       /* an offloaded body a thread waits for */
  JD_LOOP,         /* an offloaded body a coroutine awaits */
} JobDone;

/* Jobs are cut from the slab (64-byte aligned): line 0 holds what every
 * step of its program reads and writes (job_next_op, prog_next), the
 * rest is read when it is handed out, ends or delivers its result. */
struct _Job {
  /* line 0 */
  gint64   pre_cost;
  gint64   post_cost;
  Prog     prog;           /* its hot part fills the line */

  Task    *task;           /* JD_TASK: the task */
  guint32  mirror;
  JobDone  done;
  Thread  *submitter;      /* JD_THREAD */
  Task    *awaiter;        /* JD_LOOP (NULL once the awaiter was cancelled) */
  gboolean failed;
  gboolean ended;
  Pool    *pool;
  Job     *outer;          /* sequential mode: the job to return to after an inline await */
  guint32  worker_lane;
  guint32  id;
  EvSlot   result_ev;      /* EV_JOB_RESULT */
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
  TW_QUEUE,
  TW_RUNNING,
} TaskWait;

/* What only a coroutine needs: its own program, its I/O and timer events
 * and its node in the queues it waits in.  Kept apart (e->task_co, asyncio mode only) so that a task of
 * the other modes is 120 bytes instead of 432: setting up 100 000 threads touched
 * 43 MB of tasks, a page fault every 4 KiB. */
typedef struct {
  Prog          prog;
  EvSlot        fd_ev;      /* EV_FD_READY */
  EvSlot        timer_ev;   /* EV_TIMER_DUE */
  Waiter        waiter;     /* its node in a semaphore's, task's or queue's waiters */
} TaskCo;

struct _Task {
  guint32       index;
  guint32       lane;
  const IlTask *def;
  gboolean      started;
  gboolean      done;
  IlCause       outcome;
  GQueue        awaiters;   /* Waiter: who awaits or joins this task */
  Process      *proc;       /* processes mode: its own process */

  /* asyncio */
  TaskCo       *co;         /* NULL in the other modes */
  Job          *job;        /* threads/processes: its body */
  guint32       gen;
  TaskWait      wait;
  gpointer      wait_on;    /* Task* awaited, Job* offloaded, timer handle */
  guint32       wait_ref;
  gboolean      cancel_requested;
  guint32       cancel_by;

  /* Waiting on a queue (any mode), and asyncio: the put/get to retry when
   * its wake-up runs (asyncio.Queue re-checks, it is not handed the item). */
  gint32        queue_wait;   /* queue index, or -1 */
  gboolean      queue_put;
  gboolean      queue_retry;
};

typedef struct {
  guint32 capacity;
  guint32 held;
  GQueue  waiters;          /* Waiter, FIFO, linked through Waiter.link */
} Sem;

/* queue.Queue / asyncio.Queue / multiprocessing.Queue.  Items are told
 * apart only by who put them (their colour in the views): FIFO order
 * makes the n-th item taken the n-th put. */
typedef struct {
  guint32  maxsize;         /* 0: unbounded */
  GArray  *items;           /* guint32 lane of the task that put it; the live items start at head */
  guint    head;
  GQueue   getters;         /* Waiter, FIFO: not_empty's waiters / asyncio _getters */
  GQueue   putters;         /* Waiter, FIFO: not_full's waiters / asyncio _putters */
} PyQueue;

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
  EvSlot   slice_ev;        /* EV_SLICE */
} Core;

/* Threads and jobs live as long as the engine: they are cut from big
 * zeroed chunks instead of one allocation each, and freed with them. */
typedef struct {
  GPtrArray *chunks;
  guint8    *next;
  gsize      left;
} Slab;

struct _IlEngine {
  IlScenario  *scenario;
  IlRunConfig  config;
  IlTrace     *trace;

  gint64       now;
  guint64      seq;
  EvEntry     *heap;
  EvFifo       fifos[N_FIFOS];
  EvEntry     *fifo_first[N_FIFOS];  /* lane k's head entry, ring + (head & mask), while it is live */
  guint        fifos_live;  /* bit k: lane k is not empty */
  guint8       fifo_hint[EV_TIMER_DUE + 1];  /* by event kind: the lane its last event went to */
  guint8       fifo_alt[EV_TIMER_DUE + 1];   /* by event kind: the lane it went to before that */
  guint        heap_len;
  guint        heap_cap;
  gint64       last_time;   /* latest time anything went to the heap for (queue_last_time) */
  gint64       n_processed;

  Core        *cores;
  /* Bit c set: core c is free / busy with its slice not armed.  Waking a
   * thread finds a free core, and a longer run queue arms the slices, by
   * looking only at the cores concerned. */
  guint64     *free_cores;
  guint64     *unarmed_cores;
  guint        n_core_words;
  /* The OS run queue, first in first out: a ring of threads, so that
   * queueing one and taking the next write the ring and the thread
   * concerned, never a neighbour thread. */
  Thread     **runq;
  guint        runq_cap;    /* a power of two, or 0 */
  guint        runq_head;
  guint        runq_len;
  Slab         slab;        /* where threads and jobs live */
  GPtrArray   *threads;     /* Thread* (in slab), by id; NULL once recycled */
  GPtrArray   *processes;   /* Process* (owned) */
  GPtrArray   *jobs;        /* Job* (in slab), by id; NULL once recycled */
  /* Threads that exited and jobs whose task ended, for thread_new and
   * job_new to use again (last in, first out).  With 100 000 short-lived
   * threads only a hundred or so live at once: reusing their memory keeps
   * what the engine touches per event in the caches, where fresh memory
   * for each new thread cost a page fault per 4 KiB and a cache miss on
   * nearly every field. */
  GPtrArray   *spare_threads;
  GPtrArray   *spare_jobs;
  GPtrArray   *pools;       /* Pool* (owned) */
  GPtrArray   *handles;     /* Handle* (owned) */
  Task        *tasks;
  TaskCo      *task_co;     /* asyncio: by task index */
  guint32     *order;       /* task indices by start time (stable) */
  /* The tasks of group g, in index order: group_tasks[group_start[g]] up
   * to group_tasks[group_start[g + 1]] (a failure cancels just those). */
  guint32     *group_tasks;
  guint32     *group_start;
  Sem         *sems;
  guint32      n_sems;
  PyQueue     *queues;      /* the scenario's queues, by index */
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
  gint64       forkserver_up;  /* when the forkserver process is ready; -1 before its first use */
  GError      *error;
};


/* What a driver asks its thread to do next. */
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
  IlState state;     /* T_WAIT; T_C_HOLD: IL_STATE_STARTING while a new interpreter boots */
  Resume  on_wake;   /* T_WAIT */
} TOp;

/* The leaf operations, which mean the same to a thread and to a coroutine
 * (in a coroutine, io and sleep mean that only with "blocking": the loop
 * handles an awaited one itself).  FALSE for every other operation.
 * Inline: it runs for every operation of every task. */
static inline gboolean
op_leaf (const Op *op,
         TOp      *top)
{
  static const TKind kinds[] = {
    [OP_CPU] = T_CPU, [OP_C_HOLD] = T_C_HOLD, [OP_C_FREE] = T_C_FREE, [OP_IO] = T_IO, [OP_SLEEP] = T_SLEEP,
  };

  switch (op->kind)
    {
    case OP_CPU:
    case OP_C_HOLD:
    case OP_C_FREE:
    case OP_IO:
    case OP_SLEEP:
      top->kind = kinds[op->kind];
      top->dur = op->dur;
      return TRUE;
    case OP_YIELD:
      top->kind = T_SLEEP;   /* time.sleep(0): measured ~70 µs, a real timer sleep */
      top->dur = 0;
      return TRUE;
    case OP_END:
    case OP_ACQUIRE:
    case OP_RELEASE:
    case OP_TO_THREAD:
    case OP_TO_PROCESS:
    case OP_AWAIT:
    case OP_FAIL:
    case OP_PUT:
    case OP_GET:
    default:
      return FALSE;
    }
}

/* Recording (inline: called for every event). */

static inline guint32
rng_next (IlEngine *e)
{
  /* xorshift32: enough to pick a waiter, and reproducible everywhere. */
  guint32 x = e->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return e->rng = x;
}

static inline gboolean
mode_is_asyncio (IlEngine *e)
{
  return e->config.mode == IL_MODE_ASYNCIO;
}

/* Always inline: as a call (seven arguments, five saved registers) it was
 * a sixth of the instructions per event. */
G_ALWAYS_INLINE static inline void
emit (IlEngine    *e,
      guint32      lane,
      IlEventKind  kind,
      guint8       value,
      guint16      aux,
      guint32      arg)
{
  il_trace_append (e->trace, e->now, lane, kind, value, aux, arg);
}

static inline void
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

/* Queue events (il-trace.h): what enters and leaves the loop's ready queue
 * and timers and the pools' work queues, for the views that draw them. */
static inline void
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
static inline void
emit_step (IlEngine   *e,
           const Prog *prog)
{
  if (!prog->stepped || prog->lane == IL_NO_LANE)
    return;
  emit (e, prog->lane, IL_EVENT_STEP, 0, 0, prog->number);
}

/* A thread's visible state, mirrored on the task it is running. */
static inline void
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

/* il-engine.c */
G_GNUC_INTERNAL gpointer slab_alloc0 (IlEngine *e, gsize size);
G_GNUC_INTERNAL gpointer slab_reuse0 (IlEngine *e, GPtrArray *spare, gsize size);
G_GNUC_INTERNAL guint32 add_lane (IlEngine *e, IlLaneKind kind, const char *name, guint32 parent, guint32 index);

/* il-engine-queue.c */
G_GNUC_INTERNAL void schedule (IlEngine *e, gint64 t, EvKind kind, guint32 id, guint32 gen);
G_GNUC_INTERNAL void schedule_general (IlEngine *e, EvSlot *slot, gint64 t, EvKind kind, guint32 id, guint32 gen);
G_GNUC_INTERNAL gint64 queue_last_time (IlEngine *e);
G_GNUC_INTERNAL void queue_init (IlEngine *e);
G_GNUC_INTERNAL void queue_free (IlEngine *e);
G_GNUC_INTERNAL gboolean queue_pop (IlEngine *e, gint64 until, Ev *out);
G_GNUC_INTERNAL gint64 queue_next_time (IlEngine *e);
G_GNUC_INTERNAL void event_take_out (IlEngine *e, EvSlot *slot);
G_GNUC_INTERNAL void task_new_gen (IlEngine *e, Task *task);

static inline EvEntry *
lane_entry (const EvFifo *fifo,
            guint32       number)
{
  return &fifo->ring[number & fifo->mask];
}

/* A new event at the tail of a lane that has room. */
static inline void
lane_push (IlEngine *e,
           guint     k,
           EvSlot   *slot,
           gint64    t,
           guint64   key,
           guint32   id,
           guint32   gen)
{
  EvFifo *fifo = &e->fifos[k];
  guint32 n = fifo->tail;
  EvEntry *entry = lane_entry (fifo, n);

  entry->t = t;
  entry->key = key;
  entry->slot = slot;
  entry->id = id;
  entry->gen = gen;
  fifo->tail = n + 1;
  fifo->last_t = t;
  if (fifo->head == n)
    {
      e->fifos_live |= 1u << k;
      e->fifo_first[k] = entry;
    }
  slot->pos = n;
  slot->fifo = k + 1;
  /* The lines the next pushes write were last read a turn of the ring ago. */
  __builtin_prefetch (lane_entry (fifo, n + 3), 1);
}

/* Schedules the slot's event.  Nearly every event goes to the lane its
 * kind went to last, which has room: that path is inline (as a call it
 * saved and restored four registers for the general one).  A lane's
 * events are in time order without any check: all of them came its delay
 * after they were scheduled, and its delay changes only while it is
 * empty. */
static inline void
schedule_slot (IlEngine *e,
               EvSlot   *slot,
               gint64    t,
               EvKind    kind,
               guint32   id,
               guint32   gen)
{
  guint lane = e->fifo_hint[kind];
  EvFifo *fifo = &e->fifos[lane];

  if (t - e->now != fifo->delay)
    {
      /* A kind with two usual delays (a blocking call's end: I/O, or a
       * timed GIL wait) alternates between their lanes. */
      guint alt = e->fifo_alt[kind];

      fifo = &e->fifos[alt];
      if (t - e->now != fifo->delay)
        {
          schedule_general (e, slot, t, kind, id, gen);
          return;
        }
      e->fifo_alt[kind] = (guint8) lane;
      e->fifo_hint[kind] = (guint8) alt;
      lane = alt;
    }
  if (G_UNLIKELY ((slot->pos | slot->fifo) != 0 || fifo->tail - fifo->head > fifo->mask))
    {
      schedule_general (e, slot, t, kind, id, gen);
      return;
    }
  lane_push (e, lane, slot, t, e->seq++ << 8 | kind, id, gen);
}

/* An event for a thread, in its current generation.  Inline: the thread
 * is at hand, so no lookup of its slot by kind and id. */
static inline void
schedule_thread (IlEngine *e,
                 Thread   *th,
                 gint64    t,
                 EvKind    kind)
{
  schedule_slot (e, &th->ev[kind], t, kind, th->id, th->gen);
  th->pending_ev |= 1u << kind;   /* after: replacing an eval breaker takes the old one out */
}

/* Takes the slot's pending event out of the queue, if it has one.  Inline:
 * a new generation cancels every slot of a thread, and most are empty. */
static inline void
event_cancel (IlEngine *e,
              EvSlot   *slot)
{
  if ((slot->pos | slot->fifo) != 0)
    event_take_out (e, slot);
}

/* A new generation: every event pending for the thread is stale. */
static inline void
thread_new_gen (IlEngine *e,
                Thread   *th)
{
  th->gen++;
  /* Only the slots that hold an event: looking at all five touched five
   * cache lines of the thread on every change of its state. */
  for (guint32 pending = th->pending_ev; pending != 0; pending &= pending - 1)
    event_take_out (e, &th->ev[__builtin_ctz (pending)]);
}

static inline void
core_new_slice_gen (IlEngine *e,
                    Core     *core)
{
  core->slice_gen++;
  event_cancel (e, &core->slice_ev);
}

/* il-engine-program.c */
G_GNUC_INTERNAL void prog_push (Prog *prog, const IlStep *steps, guint32 n, guint32 left, gint32 release);
G_GNUC_INTERNAL void prog_init (Prog *prog, const IlStep *steps, guint32 n, guint32 limit_base, gint32 wrap, guint32 lane);
G_GNUC_INTERNAL void prog_next (Prog *prog, Op *op);
G_GNUC_INTERNAL void prog_clear (Prog *prog);

/* il-engine-scheduler.c */
G_GNUC_INTERNAL void thread_make_runnable (IlEngine *e, Thread *th);
G_GNUC_INTERNAL void thread_leave_core (IlEngine *e, Thread *th);
G_GNUC_INTERNAL void thread_wake (IlEngine *e, Thread *th, Resume resume, IlCause cause, guint32 cause_lane);
G_GNUC_INTERNAL void compute_start (IlEngine *e, Thread *th, IlState vis);
G_GNUC_INTERNAL void compute_pause (IlEngine *e, Thread *th);
G_GNUC_INTERNAL void core_slice_end (IlEngine *e, guint c);
G_GNUC_INTERNAL Thread * thread_new (IlEngine *e, Process *proc, Role role, guint32 lane);
G_GNUC_INTERNAL void thread_recycle (IlEngine *e, Thread *th);
G_GNUC_INTERNAL gboolean release_for_block (IlEngine *e, Thread *th, gboolean final);
G_GNUC_INTERNAL Resume resume_after_block (Thread *th);
G_GNUC_INTERNAL void block_start (IlEngine *e, Thread *th);
G_GNUC_INTERNAL void begin_block (IlEngine *e, Thread *th, IlState state, gint64 dur, gboolean select);
G_GNUC_INTERNAL void begin_wait (IlEngine *e, Thread *th, IlState state, Resume on_wake);

/* il-engine-gil.c */
G_GNUC_INTERNAL void gil_init (Gil *gil);
G_GNUC_INTERNAL void gil_clear (Gil *gil);
G_GNUC_INTERNAL void cond_add (IlEngine *e, Gil *gil, Thread *th);
G_GNUC_INTERNAL void cond_remove (IlEngine *e, Gil *gil, Thread *th);
G_GNUC_INTERNAL Thread * cond_waiter_at_rank (Gil *gil, guint32 k);
G_GNUC_INTERNAL gboolean gil_take_or_wait (IlEngine *e, Thread *th);
G_GNUC_INTERNAL gboolean gil_drop (IlEngine *e, Thread *th, gboolean forced);
G_GNUC_INTERNAL void gil_forced_drop (IlEngine *e, Thread *th, Resume then);
G_GNUC_INTERNAL void gil_request_drop (IlEngine *e, Thread *waiter);

/* il-engine-locks.c */
G_GNUC_INTERNAL void sem_release (IlEngine *e, guint32 ref, guint32 by_lane);
G_GNUC_INTERNAL void waiter_enqueue (GQueue *queue, Waiter *w, gboolean is_task, gpointer who, const IlStep *body, guint32 n_body);
G_GNUC_INTERNAL Waiter * waiter_dequeue (GQueue *queue);
G_GNUC_INTERNAL void waiter_remove (GQueue *queue, Waiter *w);
G_GNUC_INTERNAL void prog_unwind (IlEngine *e, Prog *prog, guint32 by_lane);

/* il-engine-pyqueue.c */
G_GNUC_INTERNAL void pyqueues_init (IlEngine *e);
G_GNUC_INTERNAL void pyqueues_free (IlEngine *e);
G_GNUC_INTERNAL gboolean pyqueue_try (IlEngine *e, guint32 ref, gboolean put, guint32 lane);
G_GNUC_INTERNAL void pyqueue_wait_task (IlEngine *e, Task *task, guint32 ref, gboolean put);
G_GNUC_INTERNAL void pyqueue_wait_thread (IlEngine *e, Thread *th, Task *task, guint32 ref, gboolean put);
G_GNUC_INTERNAL void pyqueue_cancel (IlEngine *e, Task *task);
G_GNUC_INTERNAL void pyqueue_describe_wait (IlEngine *e, const Task *task, GString *out);

/* il-engine-pools.c */
G_GNUC_INTERNAL Job * job_new (IlEngine *e, const IlStep *steps, guint32 n, JobDone done, gint32 wrap);
G_GNUC_INTERNAL void job_finish (IlEngine *e, Thread *th, Job *job);
G_GNUC_INTERNAL void job_recycle (IlEngine *e, Job *job);
G_GNUC_INTERNAL Pool * pool_new (IlEngine *e, Process *owner, gboolean processes, guint32 max);
G_GNUC_INTERNAL gint64 pool_submit (IlEngine *e, Pool *pool, Job *job);
G_GNUC_INTERNAL void pool_dispatch (IlEngine *e, Pool *pool, guint32 by_lane);
G_GNUC_INTERNAL guint16 pool_queue_id (const Pool *pool);
G_GNUC_INTERNAL guint32 job_item_lane (const Job *job);
G_GNUC_INTERNAL Pool * process_pool (IlEngine *e);
G_GNUC_INTERNAL Pool * default_executor (IlEngine *e);

/* il-engine-processes.c */
G_GNUC_INTERNAL Process * process_new (IlEngine *e, const char *name, gboolean has_gil);
G_GNUC_INTERNAL gint64 process_parent_cost (IlEngine *e);
G_GNUC_INTERNAL void process_boot (IlEngine *e, Thread *th);
G_GNUC_INTERNAL void spawn_task_thread (IlEngine *e, Thread *starter, Task *t);

/* il-engine-loop.c */
G_GNUC_INTERNAL Handle * handle_new (IlEngine *e, HKind kind, Task *task, IlCause cause, guint32 cause_lane);
G_GNUC_INTERNAL void loop_wake (IlEngine *e, IlCause cause, guint32 cause_lane);
G_GNUC_INTERNAL void loop_queue_event (IlEngine *e, IlQueueOp op, guint16 queue, const Handle *h);
G_GNUC_INTERNAL void loop_call_soon (IlEngine *e, Task *task, HKind kind, IlCause cause, guint32 cause_lane);
G_GNUC_INTERNAL void task_cancel (IlEngine *e, Task *victim, Task *by);
G_GNUC_INTERNAL void loop_next_op (IlEngine *e, Thread *th, TOp *top);

/* il-engine-drivers.c */
G_GNUC_INTERNAL void task_set_state (IlEngine *e, Task *task, IlState state, IlCause cause, guint32 cause_lane);
G_GNUC_INTERNAL void task_finish (IlEngine *e, Task *task, IlCause outcome, guint32 cause_lane);
G_GNUC_INTERNAL void process_event (IlEngine *e, const Ev *ev);

