/* il-trace.h — the recorded run: lanes plus columns of fixed-size events
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A trace is what the timeline draws, what statistics are computed from and
 * what gets saved.  Events are appended in non-decreasing time order and
 * stored as columns (struct of arrays, 18 bytes per event plus 4 bytes in a
 * per-lane index), so millions of events cost tens of megabytes and no
 * GObjects.  Readers use the columns directly; only il-trace.c writes them.
 *
 * Each lane's index is a plain array of event indices (IlLaneIndex) that
 * il_trace_append extends inline: the engine appends tens of millions of
 * events, and a library call per event for the index was ~15 % of its
 * time.  Bulk loaders (il_trace_begin_bulk) skip the index while appending
 * and get it built at the end in one counting pass, each lane exactly the
 * size it needs.
 *
 * Meaning of the columns per event kind:
 *
 *  kind               lane        value              aux          arg
 *  STATE              task/thread IlState (new)      IlCause      lane that caused it, or IL_NO_LANE
 *  CORE               core        0                  0            thread lane now on the core, or IL_NO_LANE (idle)
 *  GIL_TAKE           gil         1 if a switch      0            thread lane that took it
 *  GIL_DROP           gil         IlGilDrop          0            thread lane that dropped it
 *  GIL_REQUEST        gil         0                  0            waiting thread lane that set the drop request
 *  GIL_WAITERS        gil         0                  0            number of threads now waiting for the GIL
 *  LOOP_ITER          loop        0                  ready depth  iteration number (from 1)
 *  LOOP_SELECT        loop        0                  0            timeout in µs, or G_MAXUINT32 for "block"
 *  LOOP_SELECT_END    loop        0                  0            number of I/O and timer events it returned
 *  LOOP_CALLBACK      loop        IlCallbackKind     0            task lane the callback steps, or IL_NO_LANE
 *  LOOP_CALLBACK_END  loop        0                  0            same task lane
 *  MARK               any         IlMarkKind         0            related lane or IL_NO_LANE
 *
 * Events that carry names, used by traces imported from other tools (and
 * free for the engine to use); names are interned with il_trace_intern():
 *
 *  SLICE_BEGIN        thread/task 0                  depth        string id of the slice name
 *  SLICE_END          thread/task 0                  depth        string id of the slice name
 *  INSTANT            any         0                  0            string id of the name
 *  COUNTER            counter     0                  0            value as IEEE float bits (il_trace_float_bits)
 *  FLOW               any         IlFlowPhase        0            flow id (same id on start, steps and end)
 *
 * Added later (readers of older files never see them):
 *
 *  STEP               task        0                  0            pre-order index of the scenario step the task
 *                                                                   starts now (il-steps.h); it stays the task's
 *                                                                   current step, running or awaited, until the next
 *  QUEUE              see below   IlQueueOp | (IlCallbackKind << 2)
 *                                                    queue id     task lane of the item, or IL_NO_LANE
 *
 * QUEUE events follow items through the queues a lecture wants to show:
 * the event loop's ready queue (IL_QUEUE_READY, on the loop lane), its
 * timers (IL_QUEUE_TIMERS, loop lane) and each pool's work queue
 * (IL_QUEUE_POOL + pool number, | IL_QUEUE_PROCESS_POOL for a
 * ProcessPoolExecutor; pushed on the lane of the process that owns the
 * pool, popped on the lane of the worker that takes the item).  The callback kind says what
 * a loop item will run (a task step, an I/O or timer callback…).
 *
 * The scenario's own queues (queue.Queue / asyncio.Queue, IL_QUEUE_USER +
 * index into scenario->queues, added later) follow items from producer to
 * consumer: PUSH on the task lane that puts (arg: that lane, the item's
 * colour), POP on the task lane that gets (arg: the lane that put the item
 * it takes), what 0.  A task that must wait records IL_QUEUE_WAIT on its
 * own lane (what 0: to put on a full queue, 1: to get from an empty one)
 * right before its BLOCKED state, whose cause is IL_CAUSE_QUEUE.
 *
 * The cause of a STATE change is what made it happen: for a task becoming
 * ready/running it is the wake-up (I/O completion, timer, GIL hand-off from
 * `arg`, a future resolved by task `arg`, …).  The timeline draws an arrow
 * from `arg`'s lane to this lane at this time.
 */
#pragma once

#include <glib.h>

#include "il-scenario.h"
#include "il-time.h"

G_BEGIN_DECLS

#define IL_NO_LANE G_MAXUINT32

typedef enum {
  IL_LANE_CORE,     /* a CPU core */
  IL_LANE_PROCESS,  /* a process: groups its GIL, loop, threads and tasks; carries no events of its own */
  IL_LANE_GIL,      /* the GIL of one process */
  IL_LANE_LOOP,     /* an asyncio event loop */
  IL_LANE_THREAD,   /* an OS thread that is not one task (loop thread, pool worker) */
  IL_LANE_TASK,     /* a task of the scenario: coroutine, thread, process or pool item */
  IL_LANE_COUNTER,  /* an imported counter track (Chrome "C" events) */
  IL_N_LANE_KINDS
} IlLaneKind;

typedef enum {
  IL_STATE_NOT_STARTED,
  IL_STATE_RUNNING,    /* executing on a core (task: its step is executing) */
  IL_STATE_READY,      /* runnable but not running: waiting for a core, in the loop's ready queue, queued in a pool */
  IL_STATE_WAIT_GIL,   /* wants to run Python code; another thread holds the GIL */
  IL_STATE_WAIT_IO,    /* waiting for I/O */
  IL_STATE_SLEEPING,   /* waiting for a timer */
  IL_STATE_BLOCKED,    /* waiting for a lock, semaphore, another task or a future */
  IL_STATE_IDLE,       /* loop thread in select(); pool worker waiting for work */
  IL_STATE_DONE,       /* finished (aux tells returned / failed / cancelled) */
  IL_STATE_STARTING,   /* a new process starting its interpreter (spawn / forkserver) before the task's code */
  IL_N_STATES
} IlState;

typedef enum {
  IL_CAUSE_NONE,
  IL_CAUSE_START,        /* created / started (arg: the creator, if any) */
  IL_CAUSE_IO,           /* I/O completed */
  IL_CAUSE_TIMER,        /* a timer fired */
  IL_CAUSE_GIL_HANDOFF,  /* arg dropped the GIL and this thread took it */
  IL_CAUSE_GIL_TIMEOUT,  /* the GIL wait timed out */
  IL_CAUSE_PREEMPT,      /* the OS took the core away / gave it */
  IL_CAUSE_LOCK,         /* arg released the lock or semaphore */
  IL_CAUSE_FUTURE,       /* arg finished and resolved the awaited future */
  IL_CAUSE_CALL_SOON,    /* rescheduled by the loop (yield, first step) */
  IL_CAUSE_LOOP,         /* the event loop ran a step of this task */
  IL_CAUSE_POOL,         /* a pool worker picked up / handed back this item */
  IL_CAUSE_RETURNED,     /* DONE: returned normally */
  IL_CAUSE_FAILED,       /* DONE: raised */
  IL_CAUSE_CANCELLED,    /* DONE: cancelled (arg: the failing sibling) */
  IL_CAUSE_QUEUE,        /* BLOCKED: waits to put on a full / get from an empty queue (a QUEUE
                          * WAIT event just before names it); woken: arg put an item on or took
                          * one off the queue it waited on */
  IL_N_CAUSES
} IlCause;

typedef enum {
  IL_EVENT_STATE,
  IL_EVENT_CORE,
  IL_EVENT_GIL_TAKE,
  IL_EVENT_GIL_DROP,
  IL_EVENT_GIL_REQUEST,
  IL_EVENT_GIL_WAITERS,
  IL_EVENT_LOOP_ITER,
  IL_EVENT_LOOP_SELECT,
  IL_EVENT_LOOP_SELECT_END,
  IL_EVENT_LOOP_CALLBACK,
  IL_EVENT_LOOP_CALLBACK_END,
  IL_EVENT_MARK,
  IL_EVENT_SLICE_BEGIN,
  IL_EVENT_SLICE_END,
  IL_EVENT_INSTANT,
  IL_EVENT_COUNTER,
  IL_EVENT_FLOW,
  IL_EVENT_STEP,
  IL_EVENT_QUEUE,
  IL_N_EVENT_KINDS
} IlEventKind;

typedef enum {
  IL_GIL_DROP_VOLUNTARY, /* I/O, sleep, blocking wait, GIL-releasing C code, exit */
  IL_GIL_DROP_FORCED,    /* honoured a drop request */
} IlGilDrop;

typedef enum {
  IL_CALLBACK_TASK_STEP,   /* Task.__step / __wakeup of the task in arg */
  IL_CALLBACK_IO,          /* a reader/writer callback resolving a future */
  IL_CALLBACK_TIMER,       /* a timer handle */
  IL_CALLBACK_THREADSAFE,  /* call_soon_threadsafe from an executor */
  IL_CALLBACK_MAIN,        /* the main coroutine creating the tasks */
} IlCallbackKind;

typedef enum {
  IL_MARK_TASK_CREATED,
  IL_MARK_EXCEPTION,
  IL_MARK_CANCEL_REQUEST,
  IL_MARK_PROCESS_START,
  /* Recordings: a thread waits for / took / let go of a lock, semaphore,
   * condition, event or queue (aux: IlSyncKind; arg: the object's number
   * in the recording, one per object). */
  IL_MARK_SYNC_WAIT,
  IL_MARK_SYNC_ACQUIRED,
  IL_MARK_SYNC_RELEASED,
  /* Recordings: a thread enters / leaves a C extension call that may
   * release the GIL (hashlib, zlib), running all along. */
  IL_MARK_C_CALL,
  IL_MARK_C_CALL_END,
  /* Recordings: a thread (or task) put an item on / took one off a queue,
   * or its put or get raised Full / Empty (aux IL_SYNC_QUEUE, arg the
   * queue's number as in SYNC_WAIT). */
  IL_MARK_QUEUE_PUT,
  IL_MARK_QUEUE_GET,
  IL_MARK_QUEUE_FAILED,
} IlMarkKind;

typedef enum {
  IL_SYNC_LOCK,        /* threading.Lock / RLock */
  IL_SYNC_SEMAPHORE,   /* threading.Semaphore / BoundedSemaphore */
  IL_SYNC_CONDITION,   /* threading.Condition.wait */
  IL_SYNC_EVENT,       /* threading.Event.wait */
  IL_SYNC_QUEUE,       /* queue.Queue get / put */
  IL_N_SYNCS
} IlSyncKind;

typedef enum {
  IL_QUEUE_PUSH,   /* joined the queue at the back (timers: the heap) */
  IL_QUEUE_POP,    /* taken to run (timers: due, moved to the ready queue) */
  IL_QUEUE_DROP,   /* left without running (cancelled) */
  IL_QUEUE_WAIT,   /* user queues: the lane's task waits to put (what 0) / get (what 1); no item moves */
} IlQueueOp;

#define IL_QUEUE_READY         0
#define IL_QUEUE_TIMERS        1
#define IL_QUEUE_POOL          2        /* + pool number */
#define IL_QUEUE_PROCESS_POOL  0x8000   /* flag: the pool runs processes */
#define IL_QUEUE_USER          0x4000   /* flag: + index into the scenario's "queues" */

typedef enum {
  IL_FLOW_START,
  IL_FLOW_STEP,
  IL_FLOW_END,
} IlFlowPhase;

typedef struct {
  IlLaneKind kind;
  char      *name;
  guint32    parent;   /* process lane this lane belongs to, or IL_NO_LANE */
  guint32    index;    /* core number, task index, thread number… by kind */
} IlLane;

/* The events of one lane, in time order: data[0 … len-1] are indices into
 * the columns.  Read-only outside il-trace.c. */
typedef struct {
  guint32 *data;
  guint    len;
  guint    alloc;   /* room in data; private */
  gboolean shared;  /* private: data lies in a block the trace holds for many lanes */
} IlLaneIndex;

typedef struct _IlTrace IlTrace;

/* Read-only for everyone but il-trace.c. */
struct _IlTrace {
  gint     ref_count;

  /* Columns, each n_events long. */
  gsize    n_events;
  gsize    capacity;
  gsize    append_limit;  /* private: appends up to here need no call (≤ capacity) */
  gint64  *time;
  /* The lane of each event: 16 bits while every lane number fits (imported
   * traces, most simulations: 2 bytes an event less), 32 bits once a lane
   * beyond 65535 is added.  Exactly one of the two is in use: read it with
   * il_trace_event_lane(). */
  guint16 *lane16;
  guint32 *lane32;
  guint8  *kind;
  guint8  *value;
  guint16 *aux;
  guint32 *arg;

  /* Lanes, and per lane the indices of its events in time order. */
  GArray  *lanes;         /* of IlLane */
  GPtrArray *lane_events; /* of IlLaneIndex*, one per lane (in blocks that never move, so
                           * a lane's pointer stays valid as lanes are added) */
  GPtrArray *lane_blocks; /* private: the blocks of IlLaneIndex */
  GArray  *index_blocks;  /* private: lane index data shared by many lanes */
  GStringChunk *lane_names; /* private: the lanes' names */
  gsize    bulk_from;     /* first event not in the lane indices yet, while bulk appending */
  gboolean bulk;          /* il_trace_begin_bulk() is in force */
  guint   *bulk_count;    /* private: while bulk appending, the new events of each lane */
  guint    bulk_count_alloc;

  /* Interned names (slices, instants); id = index. */
  GPtrArray  *strings;
  GHashTable *string_ids; /* char* → GUINT_TO_POINTER (id + 1) */

  gint64   end_time;      /* how far the run has been simulated (≥ last event time; while bulk
                           * appending, only as of il_trace_begin_bulk) */
  gboolean finished;      /* TRUE when every task is done */

  /* Where it came from: the scenario and the parameters it ran with.  May be
   * NULL for traces imported from other tools. */
  IlScenario *scenario;
  IlMode      mode;
  char       *source;     /* human description for imported traces, or NULL */
  char       *recording;  /* a recorded real run's facts, "name=value" lines (il-recording.h), or NULL */

  /* Where imported slices' args are, kept by the importer that made the
   * trace (il_chrome_slice_args() reads them); NULL if none. */
  struct _IlChromeArgs *slice_args;
  GDestroyNotify        slice_args_free;
};

IlTrace       *il_trace_new              (void);
IlTrace       *il_trace_ref              (IlTrace     *trace);
void           il_trace_unref            (IlTrace     *trace);

guint32        il_trace_add_lane         (IlTrace     *trace,
                                          IlLaneKind   kind,
                                          const char  *name,
                                          guint32      parent,
                                          guint32      index);
void           il_trace_set_lane_name    (IlTrace     *trace,
                                          guint32      lane,
                                          const char  *name);
static inline guint32
il_trace_event_lane (const IlTrace *trace,
                     gsize          event)
{
  return G_LIKELY (trace->lane32 == NULL) ? trace->lane16[event] : trace->lane32[event];
}

void           il_trace_grow_columns     (IlTrace     *trace);
void           il_trace_grow_lane_index  (IlLaneIndex *index);

/* Times must not decrease.  Always inline: the engine calls it for every
 * event. */
G_ALWAYS_INLINE static inline void
il_trace_append (IlTrace     *trace,
                 gint64       time,
                 guint32      lane,
                 IlEventKind  kind,
                 guint8       value,
                 guint16      aux,
                 guint32      arg)
{
  gsize i = trace->n_events;

  g_assert (lane < trace->lanes->len);
  g_assert (i == 0 || time >= trace->time[i - 1]);

  if (G_UNLIKELY (i == trace->append_limit))
    il_trace_grow_columns (trace);

  trace->time[i] = time;
  if (G_LIKELY (trace->lane32 == NULL))
    trace->lane16[i] = (guint16) lane;
  else
    trace->lane32[i] = lane;
  trace->kind[i] = (guint8) kind;
  trace->value[i] = value;
  trace->aux[i] = aux;
  trace->arg[i] = arg;
  trace->n_events = i + 1;

  if (!trace->bulk)
    {
      IlLaneIndex *index = (IlLaneIndex *) trace->lane_events->pdata[lane];
      if (G_UNLIKELY (index->len == index->alloc))
        il_trace_grow_lane_index (index);
      index->data[index->len++] = (guint32) i;
      if (time > trace->end_time)
        trace->end_time = time;
    }
  else
    /* The end time waits for il_trace_end_bulk too: times do not
     * decrease, so it is the last event's. */
    trace->bulk_count[lane]++;
}
/* Between these two, appends fill the columns only; il_trace_end_bulk
 * then adds the new events to the lane indices in one pass, with exact
 * sizes for lanes that had no events yet (lanes that grow again grow by
 * half, so a trace built in many rounds copies each index O(1) times).
 * Nothing may read the lane indices in between. */
void           il_trace_begin_bulk       (IlTrace     *trace);
void           il_trace_end_bulk         (IlTrace     *trace);
/* Sets the event capacity to n_events (at least the events already there):
 * loaders that know the count reserve it up front, or call it with 0 when
 * done to give back what growing by half left unused (in the lane indices
 * too). */
void           il_trace_reserve          (IlTrace     *trace,
                                          gsize        n_events);
guint32        il_trace_intern           (IlTrace     *trace,
                                          const char  *str);
static inline const char *
il_trace_get_string (const IlTrace *trace,
                     guint32        id)
{
  return id < trace->strings->len ? g_ptr_array_index (trace->strings, id) : "";
}
static inline guint32
il_trace_float_bits (float f)
{
  union { float f; guint32 u; } v = { .f = f };
  return v.u;
}
static inline float
il_trace_bits_float (guint32 u)
{
  union { float f; guint32 u; } v = { .u = u };
  return v.f;
}
void           il_trace_set_end_time     (IlTrace     *trace,
                                          gint64       end_time);

static inline guint
il_trace_get_n_lanes (const IlTrace *trace)
{
  return trace->lanes->len;
}

static inline const IlLane *
il_trace_get_lane (const IlTrace *trace,
                   guint32        lane)
{
  return &g_array_index (trace->lanes, IlLane, lane);
}

static inline const IlLaneIndex *
il_trace_get_lane_events (const IlTrace *trace,
                          guint32        lane)
{
  return g_ptr_array_index (trace->lane_events, lane);
}

/* First event index with time >= t (n_events if none). */
gsize          il_trace_lower_bound      (const IlTrace *trace,
                                          gint64         t);
/* First position in lane's index with time >= t (len if none). */
guint          il_trace_lane_lower_bound (const IlTrace *trace,
                                          guint32        lane,
                                          gint64         t);
/* State of a task/thread lane at time t (the last STATE event at or before t). */
IlState        il_trace_state_at         (const IlTrace *trace,
                                          guint32        lane,
                                          gint64         t,
                                          gsize         *event_index);
/* Holder of a GIL lane at t, or IL_NO_LANE. */
guint32        il_trace_gil_holder_at    (const IlTrace *trace,
                                          guint32        gil_lane,
                                          gint64         t);
/* One interval of a lane: what it was doing from `start` to `end`. */
typedef struct {
  guint32  lane;
  gint64   start;       /* the interval containing t */
  gint64   end;         /* its end, or the trace's end time while it lasts */
  gboolean open;        /* still going on at the trace's end time */
  /* By lane kind: */
  IlState  state;       /* task/thread lanes */
  IlCause  cause;       /* why it entered that state */
  guint32  other;       /* task/thread: causing lane; core/GIL: lane running/holding; loop: task of the callback */
  guint    waiters;     /* GIL: threads waiting for it at t */
  gsize    event;       /* index of the event that began the interval, or G_MAXSIZE */
} IlTraceInterval;

/* Finds the interval of `lane` that contains t, up to `upto` (the playhead:
 * nothing after it exists yet).  FALSE if nothing is there. */
gboolean       il_trace_interval_at      (const IlTrace   *trace,
                                          guint32          lane,
                                          gint64           t,
                                          gint64           upto,
                                          IlTraceInterval *interval);
/* Time of the first scheduling event strictly after t (or before t when
 * backwards), for stepping through a recorded run; -1 if none.  With
 * gil_only, only GIL take/drop events count. */
gint64         il_trace_next_event_time  (const IlTrace *trace,
                                          gint64         t,
                                          gboolean       backwards,
                                          gboolean       gil_only);
/* TRUE if the lane holds named slices (imported traces) rather than
 * simulated states. */
gboolean       il_trace_lane_has_slices  (const IlTrace *trace,
                                          guint32        lane);
/* Bytes used by the event columns and lane indices. */
gsize          il_trace_get_memory_size  (const IlTrace *trace);

const char    *il_state_to_string        (IlState      state);  /* "running", "ready", "waiting for the GIL", … */
const char    *il_state_to_nick          (IlState      state);  /* "running", "ready", "wait-gil", "wait-io", "sleeping", "blocked", "idle", "done", "not-started", "starting" */
const char    *il_cause_to_string        (IlCause      cause);
const char    *il_lane_kind_to_string    (IlLaneKind   kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlTrace, il_trace_unref)

G_END_DECLS
