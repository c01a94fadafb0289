/* il-scenario.h — a workload, and the mode Python runs it in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A scenario is parsed from JSON (see README "Scenario format") into an
 * immutable tree of steps.  The engine never sees JSON.  Times are in
 * nanoseconds (il-time.h).
 *
 * Scenarios are immutable once loaded and reference-counted (atomically:
 * a comparison shares one between threads), so whoever keeps one takes a
 * reference instead of a copy.
 */
#pragma once

#include <glib.h>

#include "il-params.h"
#include "il-time.h"

G_BEGIN_DECLS

typedef enum {
  IL_MODE_SEQUENTIAL,
  IL_MODE_ASYNCIO,
  IL_MODE_THREADS,
  IL_MODE_FREE_THREADING,
  IL_MODE_PROCESSES,
  IL_N_MODES
} IlMode;

#define IL_MODE_MASK(m) (1u << (m))
#define IL_MODE_MASK_ALL ((1u << IL_N_MODES) - 1)

const char *il_mode_to_string   (IlMode      mode);   /* "sequential", "asyncio", "threads", "free-threading", "processes" */
const char *il_mode_to_label    (IlMode      mode);   /* "Sequential", "asyncio", "Threads", "Free-threading", "Processes" */
gboolean    il_mode_from_string (const char *str,
                                 IlMode     *out);

typedef enum {
  IL_STEP_CPU,        /* {"cpu": ms}: Python code; needs the GIL; blocks the event loop */
  IL_STEP_IO,         /* {"io": ms}: wait for I/O; releases the GIL; awaited in asyncio */
  IL_STEP_SLEEP,      /* {"sleep": ms}: timer wait (time.sleep / asyncio.sleep) */
  IL_STEP_C,          /* {"c": ms, "gil": "hold"|"release"}: a C call; "hold" is never interrupted */
  IL_STEP_YIELD,      /* {"yield": true}: asyncio.sleep(0) / time.sleep(0) */
  IL_STEP_REPEAT,     /* {"repeat": n, "steps": [...]} */
  IL_STEP_LOCK,       /* {"lock": "name", "steps": [...]}: hold a Lock around the body */
  IL_STEP_LIMIT,      /* {"limit": "name", "steps": [...]}: hold a Semaphore slot ("limits" declares capacity) */
  IL_STEP_TO_THREAD,  /* {"to_thread": [...]}: asyncio.to_thread / run_in_executor(None, …) */
  IL_STEP_TO_PROCESS, /* {"to_process": [...]}: run the body in a ProcessPoolExecutor and wait */
  IL_STEP_AWAIT,      /* {"await": "task"}: wait until another task finishes (await task / join) */
  IL_STEP_FAIL,       /* {"fail": "message"}: raise; in a task group the siblings are cancelled */
  IL_STEP_PUT,        /* {"put": "name"}: put an item on a queue ("queues" declares it); waits while it is full */
  IL_STEP_GET,        /* {"get": "name"}: take the oldest item from a queue; waits while it is empty */
  IL_N_STEP_KINDS
} IlStepKind;

typedef enum {
  IL_STEP_FLAG_NONE        = 0,
  IL_STEP_FLAG_BLOCKING    = 1 << 0, /* io/sleep with "blocking": true: a synchronous call inside a coroutine */
  IL_STEP_FLAG_RELEASE_GIL = 1 << 1, /* c with "gil": "release" */
} IlStepFlags;

typedef struct _IlStep IlStep;

struct _IlStep {
  IlStepKind  kind;
  IlStepFlags flags;
  gint64      duration;   /* cpu, io, sleep, c: nanoseconds */
  guint32     count;      /* repeat: iterations (≥ 1) */
  guint32     ref;        /* lock: index into locks; limit: index into limits; await: task index;
                           * put, get: index into queues */
  guint32     n_children; /* repeat, lock, limit, to_thread, to_process: the body */
  IlStep     *children;
  char       *message;    /* fail: the exception text (may be NULL) */
};

typedef struct {
  char   *name;
  IlStep *steps;
  guint32 n_steps;
  gint64  start;          /* "start": ms after the run begins that the task is created (default 0) */
  gint32  group;          /* "group": index into groups, or -1 */
} IlTask;

typedef struct {
  char   *name;
  guint32 capacity;
} IlLimit;

/* queue.Queue(maxsize) / asyncio.Queue(maxsize) / multiprocessing.Queue(maxsize),
 * by the mode the scenario runs in. */
typedef struct {
  char   *name;
  guint32 maxsize;        /* 0: unbounded, as in Python */
} IlQueueDecl;

typedef struct {
  char     *title;
  char     *description;
  char     *filename;          /* where it was loaded from, or NULL */

  IlMode    mode;
  guint32   cores;             /* default 2 */
  guint32   workers;           /* 0: no pool / no semaphore */
  gint64    switch_interval;   /* default 5 ms */
  IlParams  params;            /* defaults overridden by "params", "start_method", "seed" */

  IlTask   *tasks;
  guint32   n_tasks;
  char    **locks;             /* names used by "lock" steps, in first-use order */
  guint32   n_locks;
  IlLimit  *limits;            /* from "limits": {"name": capacity} */
  guint32   n_limits;
  IlQueueDecl *queues;         /* from "queues": {"name": maxsize} */
  guint32   n_queues;
  char    **groups;            /* names used by tasks' "group", in first-use order */
  guint32   n_groups;

  /* Lesson metadata (all optional; NULL / 0 when absent). */
  char     *lesson_group;      /* "lesson": {"group": …} — the heading in the lesson browser */
  char    **concepts;          /* NULL-terminated */
  char     *question;          /* "predict first" question */
  char    **choices;           /* NULL-terminated possible answers, or NULL */
  gint32    correct;           /* "correct": index of the right choice, or -1 when the lesson names none */
  char     *answer;            /* the answer revealed after the run */
  char     *look_at;           /* what to look at in the timeline */
  char     *check;             /* machine-checkable claim the lesson test evaluates, see README */
  guint32   modes_mask;        /* "modes": the modes the lesson declares; IL_MODE_MASK (mode) when absent */
  char     *compare_task;      /* "lesson": {"compare": {"task": …}}: the task whose time the compare chart
                                * shows instead of the makespan, or NULL */

  /*< private >*/
  gatomicrefcount ref_count;
} IlScenario;

#define IL_SCENARIO_ERROR (il_scenario_error_quark ())

typedef enum {
  IL_SCENARIO_ERROR_IO,        /* cannot read the file */
  IL_SCENARIO_ERROR_SYNTAX,    /* not JSON: message has line:column */
  IL_SCENARIO_ERROR_INVALID,   /* JSON but not a scenario: message has a JSON path */
  IL_SCENARIO_ERROR_TOO_LARGE, /* would simulate without end or exceed the limits */
} IlScenarioError;

GQuark      il_scenario_error_quark (void);

/* Errors read "FILE:LINE:COL: what" (syntax) or "FILE: $.tasks[1].steps[0].cpu: what". */
IlScenario *il_scenario_load_file   (const char        *path,
                                     GError           **error);
IlScenario *il_scenario_load_data   (const char        *data,
                                     gssize             length,
                                     const char        *display_name,
                                     GError           **error);
/* A new reference.  It takes a const pointer because nothing changes a
 * scenario after it is loaded: the reference is as read-only as the
 * pointer it came from. */
IlScenario *il_scenario_ref         (const IlScenario  *scenario);
void        il_scenario_unref       (IlScenario        *scenario);
/* A deep copy with a reference count of its own, for the engine, which
 * still writes the run configuration into its trace's copy. */
IlScenario *il_scenario_copy        (const IlScenario  *scenario);

/* Serialises back to the JSON format (used when a trace embeds its scenario). */
char       *il_scenario_to_json     (const IlScenario  *scenario);

gint32      il_scenario_find_task   (const IlScenario  *scenario,
                                     const char        *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlScenario, il_scenario_unref)

/* Limits enforced by the parser. */
#define IL_SCENARIO_MAX_TASKS        100000
#define IL_SCENARIO_MAX_DEPTH        32          /* nesting of step bodies */
#define IL_SCENARIO_MAX_JSON_DEPTH   64
#define IL_SCENARIO_MAX_REPEAT       1000000
#define IL_SCENARIO_MAX_STEP_MS      3600000.0   /* one hour */
#define IL_SCENARIO_MAX_EXPANDED     50000000    /* steps after unrolling every repeat */
#define IL_SCENARIO_MAX_CORES        256
#define IL_SCENARIO_MAX_WORKERS      4096
#define IL_SCENARIO_MAX_QUEUE_SIZE   1000000
#define IL_SCENARIO_MAX_QUEUES       1024       /* ids are IL_QUEUE_USER | index (14 bits) */

G_END_DECLS
