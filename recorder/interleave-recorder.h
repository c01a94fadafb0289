/* interleave-recorder.h — the record layout shared by the recorder and the reader
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A recording is a directory with one file per process, "proc-PID.rec".
 * Each file starts with the 8-byte magic IL_REC_MAGIC and then holds
 * records: a fixed 32-byte header (host byte order, the file never leaves
 * the machine it was recorded on before it is converted) followed by
 * `slen` bytes of UTF-8 text (a name), not terminated.  Times are
 * CLOCK_MONOTONIC nanoseconds, one axis for every process of the machine.
 *
 * This header has no dependencies so that both the CPython extension and
 * core/il-recording.c include it.
 */
#pragma once

#include <stdint.h>

#define IL_REC_MAGIC "ILREC001"
#define IL_REC_MAGIC_LEN 8

typedef struct {
  uint8_t  kind;     /* IlRecKind */
  uint8_t  cpu;      /* core the writing thread ran on (sched_getcpu), 255 unknown */
  uint16_t slen;     /* bytes of text after the header */
  uint32_t thread;   /* thread number within the process (1…), 0 for none */
  int64_t  t;        /* CLOCK_MONOTONIC ns */
  int64_t  a;
  int64_t  b;
} IlRecHeader;

_Static_assert (sizeof (IlRecHeader) == 32, "record header is 32 bytes");

/* Meaning of a and b (and the text) per kind. */
typedef enum {
  IL_REC_PROCESS = 1,   /* a pid, b parent pid; text "VERSION START-METHOD" */
  IL_REC_INTERVAL,      /* a switch interval in µs (at start, and from sys.setswitchinterval) */
  IL_REC_THREAD_START,  /* thread; a ident, b native id; text the thread's name, then "\n" and its class when known */
  IL_REC_THREAD_END,    /* thread; a thread CPU time ns */
  IL_REC_GIL,           /* thread = holder (0 unknown); a bit0 locked, bit1 drop request; b switch_number */
  IL_REC_CALL_BEGIN,    /* thread; a IlRecCall; b argument ns (sleep time, timeout) or -1 */
  IL_REC_CALL_END,      /* thread; a IlRecCall */
  IL_REC_LOOP_ITER,     /* thread; a ready handles; b loop id */
  IL_REC_SELECT_BEGIN,  /* thread; a timeout ns or -1 to block */
  IL_REC_SELECT_END,    /* thread; a events returned */
  IL_REC_TASK_CREATE,   /* thread; a task id; b creating task id or 0, or -1 for a new name; text the task's name */
  IL_REC_STEP_BEGIN,    /* thread; a task id (0: a callback that is no task step); b waking task id or 0 */
  IL_REC_STEP_END,      /* thread; a task id; b IlRecStepEnd */
  IL_REC_WORK_BEGIN,    /* thread; a work item id; b 1 thread pool, 2 process pool; text the function */
  IL_REC_WORK_END,      /* thread; a work item id */
  IL_REC_POOL,          /* thread; a max workers; b 1 thread pool, 2 process pool; text start method */
  IL_REC_EXIT,          /* a exit code or -1 when unknown */
  IL_REC_CORE,          /* written by the sampler: thread (the GIL holder) was on core a (/proc) */
  IL_REC_TIMER,         /* thread; a id of the timer callback's first argument (asyncio.sleep's future); b when, ns */
  IL_REC_PROCESS_NAME,  /* thread; text the multiprocessing name of this process */
  IL_REC_ACQUIRED,      /* thread took a lock or semaphore: a object id (see below); b IlRecCall (LOCK, SEMAPHORE) */
  IL_REC_RELEASED,      /* thread released it: a object id; b IlRecCall (LOCK, SEMAPHORE) */
  IL_REC_CALL_RETURNED, /* thread, without the GIL: its call's OS-level wait ended; it now waits for the GIL */
  IL_REC_QUEUE,         /* thread put on or took from a queue: a queue id; b IlRecQueueOp flags | maxsize << 8 */
  IL_REC_N_KINDS
} IlRecKind;

typedef enum {
  IL_REC_CALL_SLEEP = 1,
  IL_REC_CALL_SELECT,
  IL_REC_CALL_SOCKET,
  IL_REC_CALL_FILE,
  IL_REC_CALL_LOCK,      /* a contended Lock / RLock: b of CALL_BEGIN is the lock's id */
  IL_REC_CALL_C,         /* a C extension call that may release the GIL (zlib, hashlib) */
  IL_REC_CALL_PROCESS,   /* waiting for a child process */
  IL_REC_CALL_JOIN,      /* Thread.join: b of CALL_BEGIN is the joined thread's ident */
  IL_REC_CALL_SEMAPHORE, /* Semaphore.acquire with no slot free: b the semaphore's id */
  IL_REC_CALL_CONDITION, /* Condition.wait: b the condition's id */
  IL_REC_CALL_EVENT,     /* Event.wait on an event not set: b the event's id */
  IL_REC_CALL_QUEUE,     /* queue.Queue get on an empty queue (older recordings: put on a full one too): b the queue's id */
  IL_REC_CALL_QUEUE_PUT, /* queue.Queue put on a full queue: b the queue's id */
  IL_REC_N_CALLS
} IlRecCall;

/* Object ids (locks, semaphores, conditions, events, queues: a of
 * ACQUIRED, RELEASED, QUEUE, b of a sync CALL_BEGIN): odd numbers the
 * recorder gives each object at first sight and drops when it dies, so
 * that an object made where a freed one lay is another object; even ones
 * are addresses (older recordings, an object that took no number). */

/* b of QUEUE: what happened, in the low 8 bits; the queue's maxsize (0:
 * unbounded) above them.  Written after every call of queue.Queue's get
 * and put (get_nowait and put_nowait call them) and of asyncio.Queue's
 * get_nowait and put_nowait (its get and put call those once they need
 * not wait), after the wait that a get on an empty or put on a full queue
 * is recorded as (CALL_BEGIN … CALL_END). */
typedef enum {
  IL_REC_QUEUE_PUT   = 1 << 0,  /* a put, else a get */
  IL_REC_QUEUE_DONE  = 1 << 1,  /* an item moved; else the call raised (Full, Empty: a timeout or a _nowait) */
  IL_REC_QUEUE_ASYNC = 1 << 2,  /* an asyncio.Queue */
  IL_REC_QUEUE_WAITS = 1 << 3,  /* asyncio.Queue get / put run on an empty / full queue: the task will
                                 * wait (no item moves; its get_nowait / put_nowait comes once served) */
} IlRecQueueOp;

#define IL_REC_QUEUE_MAXSIZE_SHIFT 8

/* b of STEP_END: the outcome in the low 8 bits; for WAITING and
 * AWAITS_TASK the id of the awaited future or task above them. */
typedef enum {
  IL_REC_STEP_WAITING = 0, /* awaits a future */
  IL_REC_STEP_DONE,
  IL_REC_STEP_YIELDED,
  IL_REC_STEP_FAILED,
  IL_REC_STEP_CANCELLED,
  IL_REC_STEP_AWAITS_TASK, /* awaits another task */
} IlRecStepEnd;
