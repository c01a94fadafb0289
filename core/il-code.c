/* il-code.c — generate the Python a scenario stands for, and follow a trace
 * through it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The program is built in three passes per task: number the offloaded
 * bodies that need a function of their own (a multi-step body handed to
 * asyncio.to_thread or a process pool must be a module-level function to be
 * picklable), emit those functions, then the task's own `def`.  Each line
 * keeps the range of step numbers it covers: a leaf step covers itself, a
 * `for` or `with` line its whole body (a subtree is a contiguous range in
 * pre-order), a `def` line the whole task.
 */
#include "il-code.h"

#include <string.h>

#include "il-steps.h"

typedef struct {
  guint32 lo, hi;   /* step numbers [lo, hi) the line covers; lo == hi: none */
} Range;

struct _IlCode {
  IlMode      mode;
  GArray     *lines;      /* IlCodeLine */
  GArray     *ranges;     /* Range, one per line */
  guint32     n_tasks;
  gint       *def_line;   /* per task */
  GArray    **step_line;  /* per task: gint per step */
  char      **task_names; /* per task, as in the scenario (to find lanes of imported traces) */
};

/* The Python names of a scenario's tasks, locks, semaphores, queues and
 * task groups, one namespace for all: `q = queue.Queue()` and a task
 * `def q():` made the program call the function's put().  Tasks keep their
 * names; anything else that would take a name already taken gets its kind
 * as a suffix (`q_queue`), then a number. */
typedef struct {
  GHashTable *used;      /* every name given, and the program's own */
  char      **task;
  char      **lock;
  char      **limit;
  char      **queue;
  char      **group;     /* X of the group's `run_X` */
} Names;

typedef struct {
  IlCode           *code;
  const IlScenario *sc;
  IlMode            mode;
  guint32           task;
  const char       *ident;       /* the task's Python name */
  Names            *names;
  GHashTable       *helpers;     /* IlStep* → helper number (1-based) */
  GHashTable       *helper_names; /* IlStep* → its function's name */
  guint             n_helpers;
  guint32           uses;        /* USE_* bits: which helper definitions the preamble needs */
} Gen;

enum {
  USE_CRUNCH      = 1 << 0,
  USE_BLOCKING_IO = 1 << 1,
  USE_ASYNC_IO    = 1 << 2,
  USE_C_CALL      = 1 << 3,
  USE_C_NOGIL     = 1 << 4,
  USE_PROCESS_POOL = 1 << 5,
};

/* ------------------------------------------------------------------ */
/* Lines                                                               */

static guint
add_range (IlCode     *code,
           guint       indent,
           gint32      task,
           gint32      step,
           Range       range,
           const char *text)
{
  IlCodeLine line = { g_strdup (text), indent, task, step };

  g_array_append_val (code->lines, line);
  g_array_append_val (code->ranges, range);
  return code->lines->len - 1;
}

static guint G_GNUC_PRINTF (5, 6)
addf (IlCode     *code,
      guint       indent,
      gint32      task,
      gint32      step,
      const char *fmt,
      ...)
{
  g_autofree char *text = NULL;
  va_list args;
  Range none = { 0, 0 };

  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);
  return add_range (code, indent, task, step, none, text);
}

static void
blank (IlCode *code)
{
  if (code->lines->len > 0 && *g_array_index (code->lines, IlCodeLine, code->lines->len - 1).text != '\0')
    addf (code, 0, -1, -1, "%s", "");
}

/* A line standing for step `idx` of the current task and everything inside
 * it; registered as the step's line unless the step already has one. */
static guint G_GNUC_PRINTF (5, 6)
step_line (Gen          *g,
           guint         indent,
           guint32       idx,
           const IlStep *s,
           const char   *fmt,
           ...)
{
  g_autofree char *text = NULL;
  GArray *lines = g->code->step_line[g->task];
  Range r = { idx, idx + 1 + il_steps_count (s->children, s->n_children) };
  va_list args;
  guint line;

  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);
  line = add_range (g->code, indent, (gint32) g->task, (gint32) idx, r, text);
  if (g_array_index (lines, gint, idx) < 0)
    g_array_index (lines, gint, idx) = (gint) line;
  return line;
}

/* ------------------------------------------------------------------ */
/* Names and numbers                                                   */

static char *
py_ident (const char *name)
{
  static const char *taken[] = {
    "crunch", "blocking_io", "async_io", "c_call", "c_call_nogil", "main", "tasks", "threads",
    "processes", "futures", "process_pool", "workers", "asyncio", "time", "threading",
    "multiprocessing", "hashlib", "pool", "task", "thread", "process", "tg", "queue", "item",
    "future", "finished", "wait_for", "ProcessPoolExecutor", "ThreadPoolExecutor", "RuntimeError",
    "range", "sum", "int", "bytes", "list", "set", "__name__", "_",
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    "None", "True", "False",
  };
  GString *s = g_string_new (NULL);

  for (const char *p = name; *p != '\0'; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '_' ? *p : '_');
  if (s->len == 0 || g_ascii_isdigit (s->str[0]))
    g_string_prepend_c (s, '_');
  for (guint i = 0; i < G_N_ELEMENTS (taken); i++)
    if (g_str_equal (s->str, taken[i]))
      {
        g_string_append_c (s, '_');
        break;
      }
  return g_string_free (s, FALSE);
}

/* name's identifier, or with `_kind`, then a number, if that is taken. */
static char *
names_claim (Names      *names,
             const char *name,
             const char *kind)
{
  g_autofree char *base = py_ident (name);
  char *s = g_strdup (base);

  if (g_hash_table_contains (names->used, s) && kind != NULL)
    {
      g_free (s);
      s = g_strdup_printf ("%s_%s", base, kind);
    }
  for (guint k = 2; g_hash_table_contains (names->used, s); k++)
    {
      g_free (s);
      s = g_strdup_printf ("%s_%s%u", base, kind != NULL ? kind : "", k);
    }
  g_hash_table_add (names->used, g_strdup (s));
  return s;
}

static char **
names_claim_all (Names       *names,
                 guint32      n,
                 const char *(*name_of) (const IlScenario *, guint32),
                 const IlScenario *sc,
                 const char  *kind)
{
  char **out = g_new0 (char *, n + 1);

  for (guint32 i = 0; i < n; i++)
    out[i] = names_claim (names, name_of (sc, i), kind);
  return out;
}

static const char *task_name (const IlScenario *sc, guint32 i) { return sc->tasks[i].name; }
static const char *lock_name (const IlScenario *sc, guint32 i) { return sc->locks[i]; }
static const char *limit_name (const IlScenario *sc, guint32 i) { return sc->limits[i].name; }
static const char *queue_name (const IlScenario *sc, guint32 i) { return sc->queues[i].name; }

static void
names_init (Names            *names,
            const IlScenario *sc)
{
  names->used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  names->task = names_claim_all (names, sc->n_tasks, task_name, sc, "task");
  /* A group's coroutine is run_X: that is the name to keep apart. */
  names->group = g_new0 (char *, sc->n_groups + 1);
  for (guint32 i = 0; i < sc->n_groups; i++)
    {
      g_autofree char *run = g_strconcat ("run_", sc->groups[i], NULL);
      g_autofree char *fn = names_claim (names, run, "group");
      names->group[i] = g_strdup (fn + 4);
    }
  names->lock = names_claim_all (names, sc->n_locks, lock_name, sc, "lock");
  names->limit = names_claim_all (names, sc->n_limits, limit_name, sc, "semaphore");
  names->queue = names_claim_all (names, sc->n_queues, queue_name, sc, "queue");
}

static void
names_clear (Names *names)
{
  g_clear_pointer (&names->used, g_hash_table_unref);
  g_clear_pointer (&names->task, g_strfreev);
  g_clear_pointer (&names->group, g_strfreev);
  g_clear_pointer (&names->lock, g_strfreev);
  g_clear_pointer (&names->limit, g_strfreev);
  g_clear_pointer (&names->queue, g_strfreev);
}

/* Milliseconds and seconds as Python literals: 200, 0.05; 0.2, 0.0001. */
static char *
num (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static char *
ms_of (gint64 ns)
{
  return num ((double) ns / 1e6);
}

static char *
secs_of (gint64 ns)
{
  return num ((double) ns / 1e9);
}

static char *
py_string (const char *text)
{
  GString *s = g_string_new ("\"");

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (s, '\\');
      if ((guchar) *p < 0x20)
        g_string_append_printf (s, "\\x%02x", (guchar) *p);
      else
        g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

static gboolean
is_exception_name (const char *m)
{
  if (m == NULL || !(g_ascii_isupper (m[0])))
    return FALSE;
  for (const char *p = m; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return g_str_has_suffix (m, "Error") || g_str_has_suffix (m, "Exception");
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */

static gboolean
is_leaf (const IlStep *s)
{
  return s->kind == IL_STEP_CPU || s->kind == IL_STEP_IO || s->kind == IL_STEP_SLEEP
         || s->kind == IL_STEP_C || s->kind == IL_STEP_YIELD;
}

/* A leaf as a function and its argument, for executor calls. */
static char *
leaf_call_args (Gen          *g,
                const IlStep *s)
{
  g_autofree char *ms = ms_of (s->duration);
  g_autofree char *secs = secs_of (s->duration);

  switch (s->kind)
    {
    case IL_STEP_CPU:
      g->uses |= USE_CRUNCH;
      return g_strdup_printf ("crunch, %s", ms);
    case IL_STEP_C:
      g->uses |= (s->flags & IL_STEP_FLAG_RELEASE_GIL) ? USE_C_NOGIL : USE_C_CALL;
      return g_strdup_printf ("%s, %s", (s->flags & IL_STEP_FLAG_RELEASE_GIL) ? "c_call_nogil" : "c_call", ms);
    case IL_STEP_IO:
      g->uses |= USE_BLOCKING_IO;
      return g_strdup_printf ("blocking_io, %s", secs);
    case IL_STEP_SLEEP:
      return g_strdup_printf ("time.sleep, %s", secs);
    case IL_STEP_YIELD:
      return g_strdup ("time.sleep, 0");
    case IL_STEP_REPEAT:
    case IL_STEP_LOCK:
    case IL_STEP_LIMIT:
    case IL_STEP_TO_THREAD:
    case IL_STEP_TO_PROCESS:
    case IL_STEP_AWAIT:
    case IL_STEP_FAIL:
    case IL_STEP_PUT:
    case IL_STEP_GET:
    case IL_N_STEP_KINDS:
    default:
      g_assert_not_reached ();
    }
}

/* Does the engine run this offloaded body on the same thread? */
static gboolean
runs_inline (const Gen    *g,
             const IlStep *s,
             gboolean      coroutine)
{
  if (s->kind == IL_STEP_TO_THREAD)
    return !coroutine;
  return g->mode == IL_MODE_PROCESSES;
}

static gboolean
needs_helper (const Gen    *g,
              const IlStep *s,
              gboolean      coroutine)
{
  if (s->kind != IL_STEP_TO_THREAD && s->kind != IL_STEP_TO_PROCESS)
    return FALSE;
  if (runs_inline (g, s, coroutine))
    return FALSE;
  return !(s->n_children == 1 && is_leaf (&s->children[0]));
}

static void
number_helpers (Gen          *g,
                const IlStep *steps,
                guint32       n,
                gboolean      coroutine)
{
  for (guint32 i = 0; i < n; i++)
    {
      const IlStep *s = &steps[i];
      gboolean inner = coroutine;

      if (needs_helper (g, s, coroutine))
        g_hash_table_insert (g->helpers, (gpointer) s, GUINT_TO_POINTER (++g->n_helpers));
      if ((s->kind == IL_STEP_TO_THREAD || s->kind == IL_STEP_TO_PROCESS) && !runs_inline (g, s, coroutine))
        inner = FALSE;
      number_helpers (g, s->children, s->n_children, inner);
    }
}

static char *
helper_name (Gen          *g,
             const IlStep *s)
{
  const char *name = g_hash_table_lookup (g->helper_names, s);

  if (name == NULL)
    {
      g_autofree char *want = g_strdup_printf ("%s_job_%u", g->ident,
                                               GPOINTER_TO_UINT (g_hash_table_lookup (g->helpers, s)));
      name = names_claim (g->names, want, NULL);
      g_hash_table_insert (g->helper_names, (gpointer) s, (gpointer) name);
    }
  return g_strdup (name);
}

static const char *
await_text (Gen  *g,
            char *who,
            char *buf,
            gsize size)
{
  gboolean pooled = g->sc->workers > 0;

  switch (g->mode)
    {
    case IL_MODE_ASYNCIO:
      g_snprintf (buf, size, "await tasks[%s]", who);
      break;
    case IL_MODE_SEQUENTIAL:
      g_snprintf (buf, size, "wait_for(%s)", who);
      break;
    case IL_MODE_THREADS:
    case IL_MODE_FREE_THREADING:
      g_snprintf (buf, size, pooled ? "futures[%s].result()" : "threads[%s].join()", who);
      break;
    case IL_MODE_PROCESSES:
      g_snprintf (buf, size, pooled ? "futures[%s].result()" : "processes[%s].join()", who);
      break;
    case IL_N_MODES:
    default:
      g_assert_not_reached ();
    }
  return buf;
}

static guint32 emit_body (Gen *g, const IlStep *steps, guint32 n, guint32 first, guint indent, gboolean coroutine);

/* Emits step `s`, numbered idx; returns the number after its subtree. */
static guint32
emit_step (Gen          *g,
           const IlStep *s,
           guint32       idx,
           guint         indent,
           gboolean      coroutine)
{
  guint32 after = idx + 1 + il_steps_count (s->children, s->n_children);
  g_autofree char *ms = ms_of (s->duration);
  g_autofree char *secs = secs_of (s->duration);
  const char *aw = coroutine ? "async " : "";
  GArray *lines = g->code->step_line[g->task];

  switch (s->kind)
    {
    case IL_STEP_CPU:
      g->uses |= USE_CRUNCH;
      step_line (g, indent, idx, s, "crunch(%s)", ms);
      break;
    case IL_STEP_C:
      if (s->flags & IL_STEP_FLAG_RELEASE_GIL)
        {
          g->uses |= USE_C_NOGIL;
          step_line (g, indent, idx, s, "c_call_nogil(%s)", ms);
        }
      else
        {
          g->uses |= USE_C_CALL;
          step_line (g, indent, idx, s, "c_call(%s)", ms);
        }
      break;
    case IL_STEP_IO:
      if (coroutine && !(s->flags & IL_STEP_FLAG_BLOCKING))
        {
          g->uses |= USE_ASYNC_IO;
          step_line (g, indent, idx, s, "await async_io(%s)", secs);
        }
      else
        {
          g->uses |= USE_BLOCKING_IO;
          step_line (g, indent, idx, s, "blocking_io(%s)%s", secs,
                     coroutine ? "  # blocks the event loop" : "");
        }
      break;
    case IL_STEP_SLEEP:
      if (coroutine && !(s->flags & IL_STEP_FLAG_BLOCKING))
        step_line (g, indent, idx, s, "await asyncio.sleep(%s)", secs);
      else
        step_line (g, indent, idx, s, "time.sleep(%s)%s", secs, coroutine ? "  # blocks the event loop" : "");
      break;
    case IL_STEP_YIELD:
      step_line (g, indent, idx, s, coroutine ? "await asyncio.sleep(0)" : "time.sleep(0)");
      break;
    case IL_STEP_REPEAT:
      step_line (g, indent, idx, s, "for _ in range(%u):", s->count);
      emit_body (g, s->children, s->n_children, idx + 1, indent + 1, coroutine);
      break;
    case IL_STEP_LOCK:
    case IL_STEP_LIMIT:
      {
        const char *name = s->kind == IL_STEP_LOCK ? g->names->lock[s->ref] : g->names->limit[s->ref];
        step_line (g, indent, idx, s, "%swith %s:", aw, name);
        emit_body (g, s->children, s->n_children, idx + 1, indent + 1, coroutine);
      }
      break;
    case IL_STEP_TO_THREAD:
    case IL_STEP_TO_PROCESS:
      if (runs_inline (g, s, coroutine))
        {
          /* Already on a thread (or in a process) of its own: the engine
           * runs the body right here, and so does the code. */
          guint first = g->code->lines->len;
          emit_body (g, s->children, s->n_children, idx + 1, indent, coroutine);
          if (g_array_index (lines, gint, idx) < 0)
            g_array_index (lines, gint, idx) = (gint) first;
        }
      else
        {
          g_autofree char *call = NULL;
          guint line;

          if (needs_helper (g, s, coroutine))
            call = helper_name (g, s);
          else
            call = leaf_call_args (g, &s->children[0]);

          if (s->kind == IL_STEP_TO_PROCESS)
            g->uses |= USE_PROCESS_POOL;
          if (coroutine && s->kind == IL_STEP_TO_THREAD)
            line = step_line (g, indent, idx, s, "await asyncio.to_thread(%s)", call);
          else if (coroutine)
            line = step_line (g, indent, idx, s,
                              "await asyncio.get_running_loop().run_in_executor(process_pool, %s)", call);
          else
            line = step_line (g, indent, idx, s, "process_pool.submit(%s).result()", call);
          /* A one-step body has no line of its own. */
          if (!needs_helper (g, s, coroutine) && g_array_index (lines, gint, idx + 1) < 0)
            g_array_index (lines, gint, idx + 1) = (gint) line;
        }
      break;
    case IL_STEP_AWAIT:
      {
        g_autofree char *who = NULL;
        char buf[512];
        /* Tasks are registered under their function's name. */
        if (g->mode == IL_MODE_SEQUENTIAL)
          who = g_strdup (g->names->task[s->ref]);
        else
          who = py_string (g->names->task[s->ref]);
        step_line (g, indent, idx, s, "%s", await_text (g, who, buf, sizeof buf));
      }
      break;
    case IL_STEP_PUT:
    case IL_STEP_GET:
      {
        const char *q = g->names->queue[s->ref];
        if (s->kind == IL_STEP_PUT)
          step_line (g, indent, idx, s, "%s%s.put(item)", coroutine ? "await " : "", q);
        else
          step_line (g, indent, idx, s, "item = %s%s.get()", coroutine ? "await " : "", q);
      }
      break;
    case IL_STEP_FAIL:
      if (is_exception_name (s->message))
        step_line (g, indent, idx, s, "raise %s()", s->message);
      else
        {
          g_autofree char *msg = py_string (s->message != NULL ? s->message : "failed");
          step_line (g, indent, idx, s, "raise RuntimeError(%s)", msg);
        }
      break;
    case IL_N_STEP_KINDS:
    default:
      g_assert_not_reached ();
    }
  return after;
}

static guint32
emit_body (Gen          *g,
           const IlStep *steps,
           guint32       n,
           guint32       first,
           guint         indent,
           gboolean      coroutine)
{
  guint32 idx = first;

  if (n == 0)
    {
      addf (g->code, indent, (gint32) g->task, -1, "pass");
      return idx;
    }
  for (guint32 i = 0; i < n; i++)
    idx = emit_step (g, &steps[i], idx, indent, coroutine);
  return idx;
}

static gboolean
steps_put (const IlStep *steps,
           guint32       n)
{
  for (guint32 i = 0; i < n; i++)
    if (steps[i].kind == IL_STEP_PUT || steps_put (steps[i].children, steps[i].n_children))
      return TRUE;
  return FALSE;
}

/* The module-level functions for offloaded bodies, in step order. */
static void
emit_helpers (Gen          *g,
              const IlStep *steps,
              guint32       n,
              guint32       first,
              gboolean      coroutine)
{
  guint32 idx = first;

  for (guint32 i = 0; i < n; i++)
    {
      const IlStep *s = &steps[i];
      gboolean offloaded = (s->kind == IL_STEP_TO_THREAD || s->kind == IL_STEP_TO_PROCESS)
                           && !runs_inline (g, s, coroutine);

      if (needs_helper (g, s, coroutine))
        {
          g_autofree char *name = helper_name (g, s);
          Range r = { idx, idx + 1 + il_steps_count (s->children, s->n_children) };
          g_autofree char *text = g_strdup_printf ("def %s():", name);

          blank (g->code);
          add_range (g->code, 0, (gint32) g->task, (gint32) idx, r, text);
          emit_body (g, s->children, s->n_children, idx + 1, 1, FALSE);
        }
      emit_helpers (g, s->children, s->n_children, idx + 1, offloaded ? FALSE : coroutine);
      idx += 1 + il_steps_count (s->children, s->n_children);
    }
}

/* ------------------------------------------------------------------ */
/* The program                                                         */

static const char *
mode_comment (IlMode mode)
{
  switch (mode)
    {
    case IL_MODE_SEQUENTIAL: return "# Sequential: one call after another, on one thread";
    case IL_MODE_ASYNCIO: return "# asyncio: one thread, one event loop; tasks take turns at each await";
    case IL_MODE_THREADS: return "# Threads: one OS thread per task; only the GIL holder runs Python";
    case IL_MODE_FREE_THREADING: return "# Free-threaded CPython (python3.13t / 3.14t): threads without a GIL";
    case IL_MODE_PROCESSES: return "# Processes: each with its own interpreter and its own GIL";
    case IL_N_MODES:
    default: return "#";
    }
}

static const char *
start_method (const IlScenario *sc)
{
  switch (sc->params.start_method)
    {
    case IL_START_SPAWN: return "spawn";
    case IL_START_FORKSERVER: return "forkserver";
    case IL_START_FORK:
    default: return "fork";
    }
}

static void
emit_preamble (IlCode           *code,
               const IlScenario *sc,
               const Names      *names,
               IlMode            mode,
               guint32           uses)
{
  gboolean pooled = sc->workers > 0 && mode != IL_MODE_ASYNCIO && mode != IL_MODE_SEQUENTIAL;

  addf (code, 0, -1, -1, "%s", mode_comment (mode));
  if (mode == IL_MODE_ASYNCIO)
    addf (code, 0, -1, -1, "import asyncio");
  if (uses & USE_C_NOGIL)
    addf (code, 0, -1, -1, "import hashlib");
  if (mode == IL_MODE_PROCESSES || (uses & USE_PROCESS_POOL))
    addf (code, 0, -1, -1, "import multiprocessing");
  if (sc->n_queues > 0 && mode != IL_MODE_ASYNCIO && mode != IL_MODE_PROCESSES)
    addf (code, 0, -1, -1, "import queue");
  if (mode == IL_MODE_THREADS || mode == IL_MODE_FREE_THREADING || mode == IL_MODE_SEQUENTIAL)
    addf (code, 0, -1, -1, "import threading");
  addf (code, 0, -1, -1, "import time");
  if (pooled && mode == IL_MODE_PROCESSES)
    addf (code, 0, -1, -1, "from concurrent.futures import ProcessPoolExecutor");
  else if (pooled)
    addf (code, 0, -1, -1, "from concurrent.futures import ThreadPoolExecutor");
  if ((uses & USE_PROCESS_POOL) && !(pooled && mode == IL_MODE_PROCESSES))
    addf (code, 0, -1, -1, "from concurrent.futures import ProcessPoolExecutor");

  if (uses & USE_CRUNCH)
    {
      blank (code);
      addf (code, 0, -1, -1, "def crunch(ms):");
      addf (code, 1, -1, -1, "\"\"\"Pure-Python arithmetic for ms milliseconds of CPU: needs the GIL.\"\"\"");
      addf (code, 1, -1, -1, "end = time.thread_time() + ms / 1000");
      addf (code, 1, -1, -1, "while time.thread_time() < end:");
      addf (code, 2, -1, -1, "pass");
    }
  if (uses & USE_C_CALL)
    {
      blank (code);
      addf (code, 0, -1, -1, "def c_call(ms):");
      addf (code, 1, -1, -1, "\"\"\"One C call that keeps the GIL for ms milliseconds: never interrupted.\"\"\"");
      addf (code, 1, -1, -1, "sum(range(int(ms * 20_000)))");
    }
  if (uses & USE_C_NOGIL)
    {
      blank (code);
      addf (code, 0, -1, -1, "def c_call_nogil(ms):");
      addf (code, 1, -1, -1, "\"\"\"C code that releases the GIL for ms milliseconds.\"\"\"");
      addf (code, 1, -1, -1, "hashlib.sha256(bytes(int(ms * 1_000_000))).digest()");
    }
  if (uses & USE_BLOCKING_IO)
    {
      blank (code);
      addf (code, 0, -1, -1, "def blocking_io(seconds):");
      addf (code, 1, -1, -1, "\"\"\"Stands for a blocking socket read: the GIL is released while it waits.\"\"\"");
      addf (code, 1, -1, -1, "time.sleep(seconds)");
    }
  if (uses & USE_ASYNC_IO)
    {
      blank (code);
      addf (code, 0, -1, -1, "async def async_io(seconds):");
      addf (code, 1, -1, -1, "\"\"\"Stands for awaiting a socket: the loop runs other tasks meanwhile.\"\"\"");
      addf (code, 1, -1, -1, "await asyncio.sleep(seconds)");
    }
  if (mode == IL_MODE_SEQUENTIAL)
    {
      blank (code);
      addf (code, 0, -1, -1, "finished = set()");
      blank (code);
      addf (code, 0, -1, -1, "def wait_for(task):");
      addf (code, 1, -1, -1, "\"\"\"Awaiting without concurrency: call it now unless it already ran.\"\"\"");
      addf (code, 1, -1, -1, "if task.__name__ not in finished:");
      addf (code, 2, -1, -1, "task()");
    }

  blank (code);
  {
    /* In processes mode from the start method's context, as the queues
     * below: multiprocessing.Lock() fixed the default context, and main()'s
     * set_start_method() then raised "context has already been set". */
    g_autofree char *where = mode == IL_MODE_ASYNCIO ? g_strdup ("asyncio")
                             : mode == IL_MODE_PROCESSES ? g_strdup_printf ("multiprocessing.get_context(\"%s\")", start_method (sc))
                             : g_strdup ("threading");

    for (guint32 i = 0; i < sc->n_locks; i++)
      addf (code, 0, -1, -1, "%s = %s.Lock()", names->lock[i], where);
    for (guint32 i = 0; i < sc->n_limits; i++)
      addf (code, 0, -1, -1, "%s = %s.Semaphore(%u)", names->limit[i], where, sc->limits[i].capacity);
  }
  for (guint32 i = 0; i < sc->n_queues; i++)
    {
      const char *name = names->queue[i];
      if (mode == IL_MODE_PROCESSES)
        /* From the start method's context: multiprocessing.Queue() would
         * fix the default context before main() sets it.  Children inherit
         * it by fork; with spawn they would re-create it on import. */
        addf (code, 0, -1, -1, "%s = multiprocessing.get_context(\"%s\").Queue(maxsize=%u)%s", name, start_method (sc),
              sc->queues[i].maxsize,
              g_str_equal (start_method (sc), "fork") ? "" : "  # real code passes it to Process(args=...)");
      else
        addf (code, 0, -1, -1, "%s = %s.Queue(maxsize=%u)%s", name, mode == IL_MODE_ASYNCIO ? "asyncio" : "queue",
              sc->queues[i].maxsize, sc->queues[i].maxsize == 0 ? "  # unbounded" : "");
    }
  if (mode == IL_MODE_ASYNCIO && sc->workers > 0)
    addf (code, 0, -1, -1, "workers = asyncio.Semaphore(%u)", sc->workers);
  if ((uses & USE_PROCESS_POOL) && mode != IL_MODE_PROCESSES)
    addf (code, 0, -1, -1, "process_pool = ProcessPoolExecutor(max_workers=%u, mp_context=multiprocessing.get_context(\"%s\"))",
          sc->cores, start_method (sc));
  switch (mode)
    {
    case IL_MODE_ASYNCIO:
      addf (code, 0, -1, -1, "tasks = {}");
      break;
    case IL_MODE_THREADS:
    case IL_MODE_FREE_THREADING:
      addf (code, 0, -1, -1, pooled ? "futures = {}" : "threads = {}");
      break;
    case IL_MODE_PROCESSES:
      addf (code, 0, -1, -1, pooled ? "futures = {}" : "processes = {}");
      break;
    case IL_MODE_SEQUENTIAL:
    case IL_N_MODES:
    default:
      break;
    }
}

static int
compare_start (gconstpointer a,
               gconstpointer b,
               gpointer      data)
{
  const IlScenario *sc = data;
  const IlTask *ta = &sc->tasks[*(const guint32 *) a];
  const IlTask *tb = &sc->tasks[*(const guint32 *) b];

  if (ta->start != tb->start)
    return ta->start < tb->start ? -1 : 1;
  return *(const guint32 *) a < *(const guint32 *) b ? -1 : 1;
}

/* "(a, b, c)" for the tasks order[from..to) that are not in a group. */
static char *
task_tuple (const IlScenario *sc,
            char *const      *idents,
            const guint32    *order,
            guint             from,
            guint             to)
{
  GString *s = g_string_new ("(");
  guint n = 0;

  for (guint i = from; i < to; i++)
    {
      if (sc->tasks[order[i]].group >= 0)
        continue;
      g_string_append_printf (s, "%s%s", n++ ? ", " : "", idents[order[i]]);
    }
  if (n == 0)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  g_string_append (s, n == 1 ? ",)" : ")");
  return g_string_free (s, FALSE);
}

static void
emit_main (IlCode           *code,
           const IlScenario *sc,
           const Names      *names,
           IlMode            mode)
{
  char *const *idents = names->task;
  g_autofree guint32 *order = g_new (guint32, MAX (1, sc->n_tasks));
  gboolean pooled = sc->workers > 0 && mode != IL_MODE_ASYNCIO && mode != IL_MODE_SEQUENTIAL;
  gint64 now = 0;
  guint ind = 1;

  for (guint32 i = 0; i < sc->n_tasks; i++)
    order[i] = i;
  g_qsort_with_data (order, (gint) sc->n_tasks, sizeof (guint32), compare_start, (gpointer) sc);

  /* TaskGroups: one coroutine per group holds its children. */
  if (mode == IL_MODE_ASYNCIO)
    for (guint32 gi = 0; gi < sc->n_groups; gi++)
      {
        const char *gname = names->group[gi];
        blank (code);
        addf (code, 0, -1, -1, "async def run_%s():", gname);
        addf (code, 1, -1, -1, "async with asyncio.TaskGroup() as tg:");
        for (guint i = 0; i < sc->n_tasks; i++)
          if (sc->tasks[order[i]].group == (gint32) gi)
            {
              g_autofree char *key = py_string (idents[order[i]]);
              addf (code, 2, -1, -1, "tasks[%s] = tg.create_task(%s())", key, idents[order[i]]);
            }
      }

  blank (code);
  addf (code, 0, -1, -1, mode == IL_MODE_ASYNCIO ? "async def main():" : "def main():");
  if (mode == IL_MODE_PROCESSES && !pooled)
    addf (code, 1, -1, -1, "multiprocessing.set_start_method(\"%s\")", start_method (sc));
  if (pooled)
    {
      if (mode == IL_MODE_PROCESSES)
        addf (code, 1, -1, -1, "with ProcessPoolExecutor(max_workers=%u, mp_context=multiprocessing.get_context(\"%s\")) as pool:",
              sc->workers, start_method (sc));
      else
        addf (code, 1, -1, -1, "with ThreadPoolExecutor(max_workers=%u) as pool:", sc->workers);
      ind = 2;
    }

  for (guint i = 0; i < sc->n_tasks;)
    {
      guint j = i;
      g_autofree char *tuple = NULL;

      while (j < sc->n_tasks && sc->tasks[order[j]].start == sc->tasks[order[i]].start)
        j++;
      if (sc->tasks[order[i]].start > now)
        {
          g_autofree char *secs = secs_of (sc->tasks[order[i]].start - now);
          addf (code, ind, -1, -1, mode == IL_MODE_ASYNCIO ? "await asyncio.sleep(%s)" : "time.sleep(%s)", secs);
          now = sc->tasks[order[i]].start;
        }
      tuple = task_tuple (sc, idents, order, i, j);
      i = j;
      if (tuple == NULL)
        continue;

      addf (code, ind, -1, -1, "for task in %s:", tuple);
      switch (mode)
        {
        case IL_MODE_SEQUENTIAL:
          addf (code, ind + 1, -1, -1, "if task.__name__ not in finished:");
          addf (code, ind + 2, -1, -1, "task()");
          break;
        case IL_MODE_ASYNCIO:
          addf (code, ind + 1, -1, -1, "tasks[task.__name__] = asyncio.create_task(task())");
          break;
        case IL_MODE_THREADS:
        case IL_MODE_FREE_THREADING:
        case IL_MODE_PROCESSES:
          if (pooled)
            addf (code, ind + 1, -1, -1, "futures[task.__name__] = pool.submit(task)");
          else
            {
              const char *reg = mode == IL_MODE_PROCESSES ? "processes" : "threads";
              addf (code, ind + 1, -1, -1, "%s[task.__name__] = %s(target=task)", reg,
                    mode == IL_MODE_PROCESSES ? "multiprocessing.Process" : "threading.Thread");
              addf (code, ind + 1, -1, -1, "%s[task.__name__].start()", reg);
            }
          break;
        case IL_N_MODES:
        default:
          g_assert_not_reached ();
        }
    }

  switch (mode)
    {
    case IL_MODE_ASYNCIO:
      {
        GString *groups = g_string_new (NULL);
        for (guint32 gi = 0; gi < sc->n_groups; gi++)
          {
            g_string_append_printf (groups, "run_%s(), ", names->group[gi]);
          }
        addf (code, 1, -1, -1, "await asyncio.gather(%s*tasks.values()%s)", groups->str,
              sc->n_groups > 0 ? ", return_exceptions=True" : "");
        g_string_free (groups, TRUE);
      }
      break;
    case IL_MODE_THREADS:
    case IL_MODE_FREE_THREADING:
    case IL_MODE_PROCESSES:
      if (pooled)
        {
          addf (code, ind, -1, -1, "for future in futures.values():");
          addf (code, ind + 1, -1, -1, "future.result()");
        }
      else
        {
          const char *reg = mode == IL_MODE_PROCESSES ? "processes" : "threads";
          addf (code, 1, -1, -1, "for %s in list(%s.values()):", mode == IL_MODE_PROCESSES ? "process" : "thread", reg);
          addf (code, 2, -1, -1, "%s.join()", mode == IL_MODE_PROCESSES ? "process" : "thread");
        }
      break;
    case IL_MODE_SEQUENTIAL:
    case IL_N_MODES:
    default:
      break;
    }

  blank (code);
  addf (code, 0, -1, -1, "if __name__ == \"__main__\":");
  addf (code, 1, -1, -1, mode == IL_MODE_ASYNCIO ? "asyncio.run(main())" : "main()");
}

IlCode *
il_code_new (const IlScenario *scenario,
             IlMode            mode)
{
  IlCode *code;
  g_autoptr(IlCode) body = NULL;
  Names names = { 0 };
  char **idents;
  guint32 uses = 0;

  g_return_val_if_fail (scenario != NULL, NULL);
  g_return_val_if_fail ((guint) mode < IL_N_MODES, NULL);

  /* The task definitions are generated first (into `body`) so the preamble
   * can define exactly the helpers they use. */
  body = g_new0 (IlCode, 1);
  body->lines = g_array_new (FALSE, FALSE, sizeof (IlCodeLine));
  body->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  body->n_tasks = scenario->n_tasks;
  body->def_line = g_new (gint, MAX (1, scenario->n_tasks));
  body->step_line = g_new0 (GArray *, MAX (1, scenario->n_tasks));
  body->task_names = g_new0 (char *, scenario->n_tasks + 1);
  body->mode = mode;
  names_init (&names, scenario);
  idents = names.task;

  for (guint32 t = 0; t < scenario->n_tasks; t++)
    {
      const IlTask *task = &scenario->tasks[t];
      guint32 n = il_steps_count (task->steps, task->n_steps);
      gboolean coroutine = mode == IL_MODE_ASYNCIO;
      Gen g = { body, scenario, mode, t, NULL, &names, NULL, NULL, 0, 0 };
      Range all = { 0, n };
      g_autofree char *def = NULL;
      guint indent = 1;

      body->task_names[t] = g_strdup (task->name);
      body->step_line[t] = g_array_sized_new (FALSE, FALSE, sizeof (gint), n);
      g_array_set_size (body->step_line[t], n);
      for (guint32 i = 0; i < n; i++)
        g_array_index (body->step_line[t], gint, i) = -1;

      g.ident = idents[t];
      g.helpers = g_hash_table_new (g_direct_hash, g_direct_equal);
      g.helper_names = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
      number_helpers (&g, task->steps, task->n_steps, coroutine);
      emit_helpers (&g, task->steps, task->n_steps, 0, coroutine);

      blank (body);
      def = g_strdup_printf ("%sdef %s():", coroutine ? "async " : "", idents[t]);
      body->def_line[t] = (gint) add_range (body, 0, (gint32) t, -1, all, def);
      if (coroutine && scenario->workers > 0)
        {
          add_range (body, 1, (gint32) t, -1, all, "async with workers:");
          indent = 2;
        }
      if (steps_put (task->steps, task->n_steps))
        {
          /* What it puts: the views tell items apart by who put them. */
          g_autofree char *what = py_string (task->name);
          g_autofree char *line = g_strdup_printf ("item = %s", what);
          add_range (body, indent, (gint32) t, -1, all, line);
        }
      emit_body (&g, task->steps, task->n_steps, 0, indent, coroutine);
      if (mode == IL_MODE_SEQUENTIAL)
        {
          /* wait_for() looks the function's name up. */
          g_autofree char *key = py_string (idents[t]);
          addf (body, indent, (gint32) t, -1, "finished.add(%s)", key);
        }
      uses |= g.uses;
      g_hash_table_unref (g.helpers);
      g_hash_table_unref (g.helper_names);
    }

  /* Preamble, then the body shifted after it, then main. */
  code = g_new0 (IlCode, 1);
  code->mode = mode;
  code->lines = g_array_new (FALSE, FALSE, sizeof (IlCodeLine));
  code->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  emit_preamble (code, scenario, &names, mode, uses);
  blank (code);
  {
    guint shift = code->lines->len;

    g_array_append_vals (code->lines, body->lines->data, body->lines->len);
    g_array_append_vals (code->ranges, body->ranges->data, body->ranges->len);
    g_array_set_size (body->lines, 0);   /* the texts moved */
    code->n_tasks = body->n_tasks;
    code->def_line = g_steal_pointer (&body->def_line);
    code->step_line = g_steal_pointer (&body->step_line);
    code->task_names = g_steal_pointer (&body->task_names);
    for (guint32 t = 0; t < code->n_tasks; t++)
      {
        code->def_line[t] += (gint) shift;
        for (guint i = 0; i < code->step_line[t]->len; i++)
          if (g_array_index (code->step_line[t], gint, i) >= 0)
            g_array_index (code->step_line[t], gint, i) += (gint) shift;
      }
  }
  emit_main (code, scenario, &names, mode);
  names_clear (&names);
  return code;
}

void
il_code_free (IlCode *code)
{
  if (code == NULL)
    return;
  for (guint i = 0; i < code->lines->len; i++)
    g_free (g_array_index (code->lines, IlCodeLine, i).text);
  g_array_unref (code->lines);
  g_array_unref (code->ranges);
  if (code->step_line != NULL)
    for (guint32 t = 0; t < code->n_tasks; t++)
      if (code->step_line[t] != NULL)
        g_array_unref (code->step_line[t]);
  g_free (code->step_line);
  g_free (code->def_line);
  g_strfreev (code->task_names);
  g_free (code);
}

IlMode
il_code_get_mode (const IlCode *code)
{
  g_return_val_if_fail (code != NULL, IL_MODE_SEQUENTIAL);
  return code->mode;
}

guint
il_code_get_n_lines (const IlCode *code)
{
  g_return_val_if_fail (code != NULL, 0);
  return code->lines->len;
}

const IlCodeLine *
il_code_get_line (const IlCode *code,
                  guint         line)
{
  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (line < code->lines->len, NULL);
  return &g_array_index (code->lines, IlCodeLine, line);
}

char *
il_code_to_string (const IlCode *code)
{
  GString *s;

  g_return_val_if_fail (code != NULL, NULL);

  s = g_string_new (NULL);
  for (guint i = 0; i < code->lines->len; i++)
    {
      const IlCodeLine *l = &g_array_index (code->lines, IlCodeLine, i);
      if (*l->text != '\0')
        for (guint k = 0; k < l->indent; k++)
          g_string_append (s, "    ");
      g_string_append (s, l->text);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

gint
il_code_line_of_step (const IlCode *code,
                      guint32       task,
                      gint32        step)
{
  g_return_val_if_fail (code != NULL, -1);

  if (task >= code->n_tasks)
    return -1;
  if (step < 0)
    return code->def_line[task];
  if ((guint) step >= code->step_line[task]->len)
    return -1;
  return g_array_index (code->step_line[task], gint, step);
}

/* The lane of every scenario task in a trace (IL_NO_LANE when it has
 * none), matched by index and name as the engine numbers task lanes, else
 * by name alone; one pass over the lanes, so 100,000 tasks stay cheap. */
static guint32 *
task_lanes (const IlCode  *code,
            const IlTrace *trace)
{
  guint32 *lanes = g_new (guint32, MAX (1, code->n_tasks));
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint32 t = 0; t < code->n_tasks; t++)
    lanes[t] = IL_NO_LANE;
  for (guint l = 0; l < il_trace_get_n_lanes (trace); l++)
    {
      const IlLane *lane = il_trace_get_lane (trace, l);

      if (lane->kind != IL_LANE_TASK)
        continue;
      if (lane->index < code->n_tasks && g_strcmp0 (lane->name, code->task_names[lane->index]) == 0)
        lanes[lane->index] = l;
      else if (lane->name != NULL && !g_hash_table_contains (by_name, lane->name))
        g_hash_table_insert (by_name, lane->name, GUINT_TO_POINTER (l + 1));
    }
  for (guint32 t = 0; t < code->n_tasks; t++)
    if (lanes[t] == IL_NO_LANE && g_hash_table_contains (by_name, code->task_names[t]))
      lanes[t] = GPOINTER_TO_UINT (g_hash_table_lookup (by_name, code->task_names[t])) - 1;
  return lanes;
}

void
il_code_lines_at (const IlCode  *code,
                  const IlTrace *trace,
                  gint64         t,
                  gint          *out)
{
  g_autofree guint32 *lanes = NULL;

  g_return_if_fail (code != NULL);
  g_return_if_fail (trace != NULL);
  g_return_if_fail (out != NULL);

  lanes = task_lanes (code, trace);
  for (guint32 task = 0; task < code->n_tasks; task++)
    {
      guint32 lane = lanes[task];
      const IlLaneIndex *idx;
      IlState state;
      guint pos;

      out[task] = -1;
      if (lane == IL_NO_LANE)
        continue;
      state = il_trace_state_at (trace, lane, t, NULL);
      if (state == IL_STATE_NOT_STARTED || state == IL_STATE_DONE)
        continue;
      out[task] = code->def_line[task];
      idx = il_trace_get_lane_events (trace, lane);
      pos = il_trace_lane_lower_bound (trace, lane, t == G_MAXINT64 ? t : t + 1);
      while (pos-- > 0)
        {
          guint32 e = idx->data[pos];
          if (trace->kind[e] == IL_EVENT_STEP)
            {
              gint line = il_code_line_of_step (code, task, (gint32) trace->arg[e]);
              if (line >= 0)
                out[task] = line;
              break;
            }
        }
    }
}

GArray *
il_code_line_spans (const IlCode  *code,
                    const IlTrace *trace,
                    guint          line)
{
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (IlCodeSpan));
  const IlCodeLine *l;
  const Range *r;
  const IlLaneIndex *idx;
  guint32 lane;
  gint64 open = -1;

  g_return_val_if_fail (code != NULL, spans);
  g_return_val_if_fail (trace != NULL, spans);
  g_return_val_if_fail (line < code->lines->len, spans);

  l = &g_array_index (code->lines, IlCodeLine, line);
  r = &g_array_index (code->ranges, Range, line);
  if (l->task < 0 || r->lo >= r->hi)
    return spans;
  {
    g_autofree guint32 *lanes = task_lanes (code, trace);
    lane = lanes[l->task];
  }
  if (lane == IL_NO_LANE)
    return spans;

  idx = il_trace_get_lane_events (trace, lane);
  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      gboolean inside;

      if (trace->kind[e] == IL_EVENT_STEP)
        inside = trace->arg[e] >= r->lo && trace->arg[e] < r->hi;
      else if (trace->kind[e] == IL_EVENT_STATE && trace->value[e] == IL_STATE_DONE)
        inside = FALSE;
      else
        continue;

      if (inside && open < 0)
        open = trace->time[e];
      else if (!inside && open >= 0)
        {
          IlCodeSpan span = { open, trace->time[e], l->task };
          IlCodeSpan *last = spans->len > 0 ? &g_array_index (spans, IlCodeSpan, spans->len - 1) : NULL;

          if (last != NULL && last->end >= span.start)
            last->end = MAX (last->end, span.end);
          else
            g_array_append_val (spans, span);
          open = -1;
        }
    }
  if (open >= 0)
    {
      IlCodeSpan span = { open, MAX (open, trace->end_time), l->task };
      g_array_append_val (spans, span);
    }
  return spans;
}
