/* il-recording.c — turn a recording of a real CPython program into a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Records of every process are merged on the one CLOCK_MONOTONIC axis and
 * replayed in time order through a small model of each process: who holds
 * its GIL, which call each thread is inside, which task step or work item
 * a thread runs.  A thread's state is always derived from those facts:
 *
 *   holds the GIL                        → running
 *   inside a recorded blocking call      → sleeping / waiting for I/O / blocked
 *   a loop thread inside select()        → idle
 *   lost the GIL to a forced switch      → waiting for the GIL
 *   released it outside a recorded call  → blocked (in a GIL-released call
 *                                          the recorder does not name)
 *   inside a C extension call            → running (without the GIL)
 *
 * Waits for a lock, semaphore, condition, event or queue are blocked
 * states with marks that name the object (one number per object); the
 * holds of the locks and semaphores threads waited for are marked too,
 * and the waiter wakes with a cause arrow from the thread that let go.
 *
 * A record written by a thread proves that thread held the GIL at that
 * moment (the recorder's wrappers run under the GIL), so it also corrects
 * the holder between two samples of the sampler.  The task step or work
 * item a thread runs mirrors its thread's state, as in the engine.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "il-engine.h"
#include "il-recording.h"
#include "../recorder/interleave-recorder.h"

G_DEFINE_QUARK (il-recording-error-quark, il_recording_error)

/* ------------------------------------------------------------------ */
/* Collecting records                                                  */

typedef struct {
  gint64      t;
  gint64      a;
  gint64      b;
  const char *text;    /* in rec->strings, or NULL */
  guint32     thread;
  guint32     file;    /* index into rec->files */
  guint32     seq;     /* order within its file */
  guint8      kind;
  guint8      cpu;
} Rec;

typedef struct {
  char       *name;
  GByteArray *pending;   /* bytes of a record not complete yet */
  guint64     offset;    /* bytes of the file consumed */
  guint64     read_pos;  /* bytes of the file read from disk (feed_dir) */
  gboolean    magic_ok;
  guint32     n_recs;
} RecFile;

struct _IlRecording {
  GPtrArray    *files;     /* of RecFile */
  GHashTable   *file_ids;  /* name → index + 1 */
  GArray       *recs;      /* of Rec */
  GStringChunk *strings;
  char         *program;
  int           exit_code;
};

static void
rec_file_free (gpointer p)
{
  RecFile *f = p;
  g_free (f->name);
  g_byte_array_unref (f->pending);
  g_free (f);
}

IlRecording *
il_recording_new (void)
{
  IlRecording *rec = g_new0 (IlRecording, 1);

  rec->files = g_ptr_array_new_with_free_func (rec_file_free);
  rec->file_ids = g_hash_table_new (g_str_hash, g_str_equal);
  rec->recs = g_array_new (FALSE, FALSE, sizeof (Rec));
  rec->strings = g_string_chunk_new (4096);
  rec->exit_code = -1;
  return rec;
}

void
il_recording_free (IlRecording *rec)
{
  if (rec == NULL)
    return;
  g_hash_table_unref (rec->file_ids);
  g_ptr_array_unref (rec->files);
  g_array_unref (rec->recs);
  g_string_chunk_free (rec->strings);
  g_free (rec->program);
  g_free (rec);
}

void
il_recording_set_program (IlRecording *rec,
                          const char  *program,
                          int          exit_code)
{
  g_return_if_fail (rec != NULL);
  g_free (rec->program);
  rec->program = g_strdup (program);
  rec->exit_code = exit_code;
}

static RecFile *
get_file (IlRecording *rec,
          const char  *name,
          guint32     *index)
{
  gpointer id = g_hash_table_lookup (rec->file_ids, name);
  RecFile *f;

  if (id != NULL)
    {
      *index = GPOINTER_TO_UINT (id) - 1;
      return g_ptr_array_index (rec->files, *index);
    }
  f = g_new0 (RecFile, 1);
  f->name = g_strdup (name);
  f->pending = g_byte_array_new ();
  g_ptr_array_add (rec->files, f);
  *index = rec->files->len - 1;
  g_hash_table_insert (rec->file_ids, f->name, GUINT_TO_POINTER (*index + 1));
  return f;
}

gboolean
il_recording_feed (IlRecording   *rec,
                   const char    *file,
                   const guint8  *data,
                   gsize          len,
                   GError       **error)
{
  guint32 index;
  RecFile *f;
  const guint8 *d;
  gsize n, off = 0;

  g_return_val_if_fail (rec != NULL && file != NULL, FALSE);
  f = get_file (rec, file, &index);
  g_byte_array_append (f->pending, data, (guint) len);
  d = f->pending->data;
  n = f->pending->len;

  if (!f->magic_ok)
    {
      if (n < IL_REC_MAGIC_LEN)
        return TRUE;
      if (memcmp (d, IL_REC_MAGIC, IL_REC_MAGIC_LEN) != 0)
        {
          g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_FORMAT,
                       "%s: not an Interleave recording (no %s magic)", file, IL_REC_MAGIC);
          return FALSE;
        }
      f->magic_ok = TRUE;
      off = IL_REC_MAGIC_LEN;
    }

  while (n - off >= sizeof (IlRecHeader))
    {
      IlRecHeader h;
      Rec r;

      memcpy (&h, d + off, sizeof h);
      if (h.kind < IL_REC_PROCESS || h.kind >= IL_REC_N_KINDS || h.slen > 4096 || h.t < 0)
        {
          g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_FORMAT,
                       "%s: byte %" G_GUINT64_FORMAT ": damaged record (kind %u, text length %u)",
                       file, f->offset + off, h.kind, h.slen);
          return FALSE;
        }
      if (n - off < sizeof h + h.slen)
        break;
      r.t = h.t;
      r.a = h.a;
      r.b = h.b;
      r.thread = h.thread;
      r.file = index;
      r.seq = f->n_recs++;
      r.kind = h.kind;
      r.cpu = h.cpu;
      r.text = NULL;
      if (h.slen > 0)
        {
          g_autofree char *s = g_strndup ((const char *) d + off + sizeof h, h.slen);
          if (!g_utf8_validate (s, -1, NULL))
            {
              g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_FORMAT,
                           "%s: byte %" G_GUINT64_FORMAT ": a name is not valid UTF-8", file,
                           f->offset + off + sizeof h);
              return FALSE;
            }
          r.text = g_string_chunk_insert_const (rec->strings, s);
        }
      g_array_append_val (rec->recs, r);
      off += sizeof h + h.slen;
    }
  f->offset += off;
  g_byte_array_remove_range (f->pending, 0, (guint) off);
  return TRUE;
}

gboolean
il_recording_feed_dir (IlRecording  *rec,
                       const char   *dir,
                       GError      **error)
{
  g_autoptr(GDir) gdir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  gdir = g_dir_open (dir, 0, error);
  if (gdir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (gdir)) != NULL)
    if (g_str_has_prefix (name, "proc-") && g_str_has_suffix (name, ".rec"))
      g_ptr_array_add (names, g_strdup (name));
  /* Same order every time: the merge is stable. */
  g_ptr_array_sort (names, (GCompareFunc) (void (*) (void)) g_strcmp0);

  for (guint i = 0; i < names->len; i++)
    {
      const char *base = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir, base, NULL);
      guint32 index;
      RecFile *f = get_file (rec, path, &index);
      FILE *fp = fopen (path, "rb");
      guint8 chunk[65536];
      size_t got;

      if (fp == NULL)
        {
          g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_IO, "%s: cannot open: %s", path,
                       g_strerror (errno));
          return FALSE;
        }
      if (fseeko (fp, (off_t) f->read_pos, SEEK_SET) != 0)
        {
          fclose (fp);
          continue;
        }
      while ((got = fread (chunk, 1, sizeof chunk, fp)) > 0)
        {
          f->read_pos += got;
          if (!il_recording_feed (rec, path, chunk, got, error))
            {
              fclose (fp);
              return FALSE;
            }
        }
      fclose (fp);
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The replay model                                                    */

typedef struct _Proc Proc;
typedef struct _Loop Loop;

typedef struct {
  Proc     *proc;
  guint32   number;
  guint32   lane;
  gboolean  worker;          /* a pool worker: idle between items */
  gboolean  child_main;      /* main thread of a child process: a task */
  gboolean  done;
  gboolean  ever_held;
  gboolean  forced_out;      /* lost the GIL to a drop request */
  int       call_depth;
  int       call_cat;        /* category of the outermost recorded call */
  gint64    sleep_until;     /* a time.sleep's end, or -1: then it waits for the GIL */
  gboolean  returned;        /* its call's OS-level wait ended: it waits for the GIL to return */
  gint64    ident;           /* threading ident */
  guint32   joining;         /* lane of the thread it joins, or IL_NO_LANE */
  struct _Sync *waits_for;   /* the lock, semaphore, … of its recorded wait, or NULL */
  gint64    wait_since;
  gboolean  wait_put;        /* its wait is for room on a full queue (else an item, for a queue) */
  guint32   woken_by;        /* queue waits: lane whose put or get served it, or IL_NO_LANE */
  gboolean  in_select;
  Loop     *loop;
  IlState   state;
  gint64    state_since;
  gint64    lost_at;         /* when it last stopped holding the GIL */
  guint32   mirror;          /* task or item lane whose state follows this thread's, or IL_NO_LANE */
  guint     cpu;             /* last core it was seen on */
  gint64    cpu_ns;
} Thr;

/* A lock, semaphore, condition, event or queue seen in a recorded wait. */
typedef struct _Sync {
  guint32    number;         /* in the recording: the marks' arg */
  IlSyncKind kind;
  guint32    released_by;    /* lane that last let go of it, or IL_NO_LANE */
  gint64     released_at;
  gint64     maxsize;        /* queues: maxsize (0 unbounded) from its QUEUE records, or -1 */
  guint      ops;            /* queues: puts and gets that moved an item */
} Sync;

struct _Loop {
  guint32 lane;
  guint32 iteration;
  guint32 cur_select_n;
  guint32 prev_select_n;
};

typedef struct {
  guint32  lane;
  IlState  state;
  gboolean done;
  gboolean yielded;          /* the last step ended in a bare yield */
  gboolean timer_woke;       /* made ready by its asyncio.sleep's timer */
  gint64   wake_at;          /* asleep until, or -1 */
  struct _Sync *queue_wait;  /* the asyncio.Queue it waits on to get or put, until its next step, or NULL */
  gboolean queue_put;        /* …to put */
  guint32  woken_by;         /* lane whose put or get served that wait, or IL_NO_LANE */
  guint32  index;
} Task;

struct _Proc {
  gint64      pid;
  gint64      ppid;
  guint32     lane;
  guint32     gil_lane;
  char       *version;
  char       *method;
  GHashTable *threads;       /* number → Thr */
  GPtrArray  *thread_list;
  Thr        *unknown;       /* holder whose thread state was not registered */
  Thr        *holder;
  Thr        *last_taker;
  gboolean    locked;
  gboolean    drop;
  gint64      held_since;
  gint64      interval;
  GHashTable *loops;         /* loop id → Loop */
  GHashTable *tasks;         /* task id → Task, while alive */
  GHashTable *items;         /* item id → lane, while running */
  GHashTable *timers;        /* future id → when its timer fires (trace time) */
  GHashTable *syncs;         /* lock, semaphore, … id → Sync */
  gboolean    exited;
  guint32     n_waiting;     /* threads waiting for the GIL, as last written */
  gint64      last_t;
  int         exit_code;
};

typedef struct {
  IlRecording *rec;
  IlTrace     *trace;
  gint64       t0;
  GPtrArray   *procs;        /* of Proc, in order of appearance */
  GHashTable  *proc_of_file; /* file index → Proc */
  GHashTable  *workers;      /* (file << 32 | thread) of threads that ran work items */
  GPtrArray   *sleepers;     /* Thr in time.sleep with a known end */
  GPtrArray   *task_sleepers; /* Task in asyncio.sleep with a known end */
  guint32     *core_lanes;
  Thr        **core_thread;
  guint        n_cores;
  GPtrArray   *tasks_all;    /* every Task, freed at the end */
  GHashTable  *task_of_lane; /* task lane → Task */
  GPtrArray   *queue_waiters; /* Task waiting in an asyncio.Queue's get or put */
  guint32      n_task_lanes;
  guint64      gil_switches;
  guint64      loop_iterations;
  guint        n_syncs;
  guint        lock_waits;
  guint        lock_handoffs;  /* waits that ended with a known thread letting go */
  guint        queue_ops;      /* puts and gets that moved an item */
  guint        queue_handoffs; /* queue waits that ended with a known thread's put or get */
  guint        drop_requests;
  guint        file_calls;
  guint        c_calls;
  guint        n_tasks;
  guint        n_threads;
  guint        n_items;
  guint        thread_pool_workers;
  guint        process_pool_workers;
  char        *pool_method;
} Ctx;

static void
proc_free (gpointer p)
{
  Proc *proc = p;
  g_hash_table_unref (proc->threads);
  g_ptr_array_unref (proc->thread_list);
  g_hash_table_unref (proc->loops);
  g_hash_table_unref (proc->tasks);
  g_hash_table_unref (proc->items);
  g_hash_table_unref (proc->timers);
  g_hash_table_unref (proc->syncs);
  g_free (proc->version);
  g_free (proc->method);
  g_free (proc);
}

static IlState
state_of_call (int cat)
{
  switch (cat)
    {
    case IL_REC_CALL_SLEEP:
      return IL_STATE_SLEEPING;
    case IL_REC_CALL_SELECT:
    case IL_REC_CALL_SOCKET:
    case IL_REC_CALL_FILE:
      return IL_STATE_WAIT_IO;
    case IL_REC_CALL_C:
      /* Computing without the GIL, like a simulation's {"c", "gil": "release"}. */
      return IL_STATE_RUNNING;
    default:
      return IL_STATE_BLOCKED;
    }
}

/* The kind of object a recorded wait of category cat waits for, or -1. */
static int
sync_of_call (int cat)
{
  switch (cat)
    {
    case IL_REC_CALL_LOCK:
      return IL_SYNC_LOCK;
    case IL_REC_CALL_SEMAPHORE:
      return IL_SYNC_SEMAPHORE;
    case IL_REC_CALL_CONDITION:
      return IL_SYNC_CONDITION;
    case IL_REC_CALL_EVENT:
      return IL_SYNC_EVENT;
    case IL_REC_CALL_QUEUE:
    case IL_REC_CALL_QUEUE_PUT:
      return IL_SYNC_QUEUE;
    default:
      return -1;
    }
}

static IlState
thr_compute (const Thr *th)
{
  const Proc *p = th->proc;

  if (th->done)
    return IL_STATE_DONE;
  if (p->locked && p->holder == th)
    return IL_STATE_RUNNING;
  if (th == p->unknown)
    return IL_STATE_NOT_STARTED;  /* stands only for the holding */
  if (th->call_depth > 0 && !th->returned && !(th->call_cat == IL_REC_CALL_SLEEP && th->sleep_until < 0))
    return state_of_call (th->call_cat);
  if (th->call_depth > 0)  /* slept its time or got its data; the call returns once it has the GIL */
    return p->locked ? IL_STATE_WAIT_GIL : IL_STATE_READY;
  if (th->in_select)
    return IL_STATE_IDLE;
  /* Wanting the GIL while nobody holds it is waiting for a core: the
   * machine is busy with other work. */
  if (!th->ever_held || th->forced_out)
    return p->locked ? IL_STATE_WAIT_GIL : IL_STATE_READY;
  /* Released the GIL outside any call the recorder wraps: a pool worker
   * waiting on its queue, or an unnamed C call (lock, file, extension). */
  return th->worker && th->mirror == IL_NO_LANE ? IL_STATE_IDLE : IL_STATE_BLOCKED;
}

static void
core_update (Ctx     *c,
             gint64   t,
             Thr     *th,
             IlState  state)
{
  guint core = th->cpu < c->n_cores ? th->cpu : 0;

  if (state == IL_STATE_RUNNING)
    {
      /* It may have moved: leave the core it was drawn on. */
      for (guint i = 0; i < c->n_cores; i++)
        if (i != core && c->core_thread[i] == th)
          {
            c->core_thread[i] = NULL;
            il_trace_append (c->trace, t, c->core_lanes[i], IL_EVENT_CORE, 0, 0, IL_NO_LANE);
          }
      if (c->core_thread[core] != th)
        {
          c->core_thread[core] = th;
          il_trace_append (c->trace, t, c->core_lanes[core], IL_EVENT_CORE, 0, 0, th->lane);
        }
    }
  else
    for (guint i = 0; i < c->n_cores; i++)
      if (c->core_thread[i] == th)
        {
          c->core_thread[i] = NULL;
          il_trace_append (c->trace, t, c->core_lanes[i], IL_EVENT_CORE, 0, 0, IL_NO_LANE);
        }
}

static void
task_state (Ctx     *c,
            gint64   t,
            Task    *task,
            IlState  state,
            IlCause  cause,
            guint32  cause_lane)
{
  task->state = state;
  il_trace_append (c->trace, t, task->lane, IL_EVENT_STATE, (guint8) state, (guint16) cause, cause_lane);
}

static void
thr_update (Ctx     *c,
            gint64   t,
            Thr     *th,
            IlCause  cause,
            guint32  cause_lane)
{
  IlState s = thr_compute (th);

  if (s == th->state)
    return;
  if ((th->state == IL_STATE_WAIT_GIL) != (s == IL_STATE_WAIT_GIL))
    {
      /* The GIL lane counts its waiters, as a simulation's does. */
      Proc *p = th->proc;
      p->n_waiting = s == IL_STATE_WAIT_GIL ? p->n_waiting + 1 : p->n_waiting - MIN (p->n_waiting, 1u);
      il_trace_append (c->trace, t, p->gil_lane, IL_EVENT_GIL_WAITERS, 0, 0, p->n_waiting);
    }
  th->state = s;
  th->state_since = t;
  il_trace_append (c->trace, t, th->lane, IL_EVENT_STATE, (guint8) s, (guint16) cause, cause_lane);
  if (th->mirror != IL_NO_LANE && s != IL_STATE_DONE)
    il_trace_append (c->trace, t, th->mirror, IL_EVENT_STATE, (guint8) s, (guint16) cause, cause_lane);
  core_update (c, t, th, s);
}

static guint32
add_lane (Ctx        *c,
          IlLaneKind  kind,
          const char *name,
          guint32     parent,
          guint32     index)
{
  return il_trace_add_lane (c->trace, kind, name, parent, index);
}

static Thr *
thr_new (Ctx        *c,
         Proc       *p,
         guint32     number,
         const char *name,
         guint32     file,
         gboolean    child_main)
{
  Thr *th = g_new0 (Thr, 1);
  gboolean worker = g_hash_table_contains (c->workers, GSIZE_TO_POINTER (((gsize) file << 32) | number));
  /* The main thread, pool workers and the interpreter's helper threads are
   * threads; every other thread the program starts is one of its tasks. */
  const char *cls = name != NULL ? strchr (name, '\n') : NULL;
  g_autofree char *shown = cls != NULL ? g_strndup (name, (gsize) (cls - name)) : g_strdup (name);
  gboolean helper = (number <= 1 && !child_main) || worker || name == NULL
                    || g_str_has_prefix (name, "QueueFeederThread")
                    || (cls != NULL && strstr (cls, "ExecutorManagerThread") != NULL)
                    || strstr (name, "(_handle_") != NULL || strstr (name, "(_manager") != NULL;

  th->proc = p;
  th->child_main = child_main;
  th->number = number;
  th->worker = worker;
  th->mirror = IL_NO_LANE;
  th->state = IL_STATE_NOT_STARTED;
  th->cpu = G_MAXUINT;
  th->sleep_until = -1;
  th->joining = IL_NO_LANE;
  th->woken_by = IL_NO_LANE;
  th->lane = add_lane (c, helper ? IL_LANE_THREAD : IL_LANE_TASK, shown ? shown : "thread",
                       p->lane, helper ? number - 1 : c->n_task_lanes++);
  if (number > 0)
    {
      g_hash_table_insert (p->threads, GUINT_TO_POINTER (number), th);
      c->n_threads++;
    }
  g_ptr_array_add (p->thread_list, th);
  return th;
}

static Proc *
proc_for (Ctx       *c,
          const Rec *r)
{
  Proc *p = g_hash_table_lookup (c->proc_of_file, GUINT_TO_POINTER (r->file + 1));
  g_autofree char *name = NULL;
  g_autofree char *gil_name = NULL;
  const char *space;

  if (p != NULL)
    return p;
  p = g_new0 (Proc, 1);
  p->threads = g_hash_table_new (NULL, NULL);
  p->thread_list = g_ptr_array_new_with_free_func (g_free);
  p->loops = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  p->tasks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  p->items = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  p->timers = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  p->syncs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  p->interval = 5 * IL_NSEC_PER_MSEC;
  p->exit_code = -1;
  if (r->kind == IL_REC_PROCESS)
    {
      p->pid = r->a;
      p->ppid = r->b;
      space = r->text ? strchr (r->text, ' ') : NULL;
      p->version = space ? g_strndup (r->text, (gsize) (space - r->text)) : g_strdup (r->text ? r->text : "");
      p->method = g_strdup (space ? space + 1 : "main");
    }
  else
    {
      p->version = g_strdup ("");
      p->method = g_strdup ("main");
    }
  if (c->procs->len == 0)
    name = g_strdup ("MainProcess");
  else
    name = g_strdup_printf ("Process %" G_GINT64_FORMAT " (%s)", p->pid, p->method);
  gil_name = g_strdup_printf ("GIL (%s)", name);
  p->lane = add_lane (c, IL_LANE_PROCESS, name, IL_NO_LANE, c->procs->len);
  p->gil_lane = add_lane (c, IL_LANE_GIL, gil_name, p->lane, c->procs->len);
  g_ptr_array_add (c->procs, p);
  g_hash_table_insert (c->proc_of_file, GUINT_TO_POINTER (r->file + 1), p);
  return p;
}

static Thr *
unknown_thread (Ctx  *c,
                Proc *p)
{
  if (p->unknown == NULL)
    {
      p->unknown = thr_new (c, p, 0, "Unregistered or exiting threads", G_MAXUINT32, FALSE);
      p->unknown->ever_held = TRUE;
    }
  return p->unknown;
}

/* A thread records only while it holds the GIL. */
static Thr *
thread_for (Ctx       *c,
            Proc      *p,
            const Rec *r)
{
  Thr *th;

  if (r->thread == 0)
    return NULL;
  th = g_hash_table_lookup (p->threads, GUINT_TO_POINTER (r->thread));
  if (th == NULL)
    {
      g_autofree char *made = g_strdup_printf ("thread %u", r->thread);
      const char *name = r->kind == IL_REC_THREAD_START && r->text != NULL ? r->text : made;
      /* A child process's main thread is that process's work. */
      g_autofree char *child = c->procs->len > 1 && p != g_ptr_array_index (c->procs, 0) && r->thread == 1
                               ? g_strdup_printf ("Process-%" G_GINT64_FORMAT, p->pid) : NULL;
      /* …unless it is a pool worker: then its items are the work. */
      if (child != NULL && g_hash_table_contains (c->workers, GSIZE_TO_POINTER (((gsize) r->file << 32) | r->thread)))
        g_clear_pointer (&child, g_free);
      th = thr_new (c, p, r->thread, child ? child : name, r->file, child != NULL);
    }
  if (r->cpu != 255)
    th->cpu = r->cpu;
  return th;
}

/* Whether `th`, taking the GIL at `t`, had wanted it for `near` or more: a
 * waiter asks the holder to drop the GIL only once it has waited a full
 * interval (the drop request itself is often set and cleared between two
 * samples).  Since it lost the GIL to a forced switch, or since the sleep
 * or wait of its call ended (time.sleep's known end, a socket's data).
 * The holder's own hold, as sampled, may look shorter than it was: on a
 * busy machine the sampler sees a take late. */
static gboolean
waited_interval (const Thr *th,
                 gint64     t,
                 gint64     near)
{
  if (!th->ever_held || th->in_select)
    return FALSE;
  if (th->call_depth == 0)
    return t - th->lost_at >= near;
  return (th->returned || (th->call_cat == IL_REC_CALL_SLEEP && th->sleep_until < 0))
         && th->state == IL_STATE_WAIT_GIL && t - th->state_since >= near;
}

static void
set_holder (Ctx      *c,
            Proc     *p,
            gint64    t,
            Thr      *next,
            gboolean  locked)
{
  Thr *old = p->holder;
  gboolean was_locked = p->locked;
  gboolean forced = FALSE;

  if (old == next && locked == was_locked)
    return;
  if (was_locked && old != NULL && (old != next || !locked))
    {
      /* A release with the drop request seen (it stays set until the
       * waiter has the GIL), after a full interval, or to a thread that had
       * waited a full interval was forced; anything else was the holder
       * letting go. */
      gint64 near = p->interval * 8 / 10;
      forced = p->drop || t - p->held_since >= near
               || (locked && next != NULL && next != old && waited_interval (next, t, near));
      forced = forced && old->call_depth == 0 && !old->in_select;
      old->forced_out = forced;
      old->lost_at = t;
      il_trace_append (c->trace, t, p->gil_lane, IL_EVENT_GIL_DROP,
                       forced ? IL_GIL_DROP_FORCED : IL_GIL_DROP_VOLUNTARY, 0, old->lane);
    }
  p->holder = next;
  p->locked = locked;
  if (locked && next != NULL && (next != old || !was_locked))
    {
      gboolean switched = p->last_taker != NULL && p->last_taker != next;
      IlCause cause = IL_CAUSE_GIL_HANDOFF;

      il_trace_append (c->trace, t, p->gil_lane, IL_EVENT_GIL_TAKE, switched ? 1 : 0, 0, next->lane);
      c->gil_switches += switched;
      p->last_taker = next;
      p->held_since = t;
      next->ever_held = TRUE;
      next->forced_out = FALSE;
      if (next->call_depth > 0 && next->call_cat == IL_REC_CALL_JOIN && next->joining != IL_NO_LANE)
        {
          /* Back from join: the joined thread finishing woke it. */
          thr_update (c, t, next, IL_CAUSE_FUTURE, next->joining);
          cause = IL_CAUSE_NONE;
        }
      else if (next->call_depth > 0 && next->waits_for != NULL && next->waits_for->kind == IL_SYNC_QUEUE
               && next->woken_by != IL_NO_LANE)
        {
          /* Back from a queue wait: served by the thread whose put or get woke it. */
          thr_update (c, t, next, IL_CAUSE_QUEUE, next->woken_by);
          c->queue_handoffs++;
          cause = IL_CAUSE_NONE;
        }
      else if (next->call_depth > 0 && next->waits_for != NULL && next->waits_for->released_by != IL_NO_LANE
               && next->waits_for->released_by != next->lane && next->waits_for->released_at >= next->wait_since)
        {
          /* Back from a lock or semaphore: woken by the thread that let go. */
          thr_update (c, t, next, IL_CAUSE_LOCK, next->waits_for->released_by);
          c->lock_handoffs++;
          cause = IL_CAUSE_NONE;
        }
      else if (next->call_depth > 0)
        cause = next->call_cat == IL_REC_CALL_SLEEP ? IL_CAUSE_TIMER
              : next->call_cat == IL_REC_CALL_JOIN || sync_of_call (next->call_cat) >= 0 ? IL_CAUSE_LOCK
              : IL_CAUSE_IO;
      else if (next->in_select)
        cause = IL_CAUSE_IO;
      thr_update (c, t, next, cause, old != NULL && old != next ? old->lane : IL_NO_LANE);
    }
  if (old != NULL && old != next)
    thr_update (c, t, old, forced ? IL_CAUSE_GIL_TIMEOUT : IL_CAUSE_NONE, IL_NO_LANE);
  else if (old != NULL)
    thr_update (c, t, old, IL_CAUSE_NONE, IL_NO_LANE);
  /* Threads that want the GIL wait for it or for a core, as it is held or free. */
  if (locked != was_locked && p->thread_list->len <= 256)
    for (guint i = 0; i < p->thread_list->len; i++)
      {
        Thr *other = g_ptr_array_index (p->thread_list, i);
        if (other != old && other != next && (other->state == IL_STATE_WAIT_GIL || other->state == IL_STATE_READY))
          thr_update (c, t, other, IL_CAUSE_NONE, IL_NO_LANE);
      }
}

static Sync *
sync_for (Ctx        *c,
          Proc       *p,
          gint64      id,
          IlSyncKind  kind)
{
  Sync *so = g_hash_table_lookup (p->syncs, &id);

  if (so == NULL)
    {
      so = g_new0 (Sync, 1);
      so->number = ++c->n_syncs;
      so->kind = kind;
      so->released_by = IL_NO_LANE;
      so->maxsize = -1;
      g_hash_table_insert (p->syncs, g_memdup2 (&id, sizeof id), so);
    }
  return so;
}

/* On the thread's lane and on the work item it runs, which derive reads. */
static void
sync_mark (Ctx        *c,
           gint64      t,
           const Thr  *th,
           IlMarkKind  mark,
           const Sync *so)
{
  il_trace_append (c->trace, t, th->lane, IL_EVENT_MARK, (guint8) mark, (guint16) so->kind, so->number);
  if (th->mirror != IL_NO_LANE)
    il_trace_append (c->trace, t, th->mirror, IL_EVENT_MARK, (guint8) mark, (guint16) so->kind, so->number);
}

/* A C extension call begins or ends on the thread (and the work item it
 * runs): derive writes what runs inside as {"c", "gil": "release"}. */
static void
c_call_mark (Ctx        *c,
             gint64      t,
             const Thr  *th,
             IlMarkKind  mark)
{
  il_trace_append (c->trace, t, th->lane, IL_EVENT_MARK, (guint8) mark, 0, IL_NO_LANE);
  if (th->mirror != IL_NO_LANE)
    il_trace_append (c->trace, t, th->mirror, IL_EVENT_MARK, (guint8) mark, 0, IL_NO_LANE);
}

static Loop *
loop_for (Ctx    *c,
          Proc   *p,
          gint64  id)
{
  Loop *loop = g_hash_table_lookup (p->loops, &id);

  if (loop == NULL)
    {
      guint n = g_hash_table_size (p->loops);
      g_autofree char *name = n == 0 ? g_strdup ("Event loop") : g_strdup_printf ("Event loop %u", n + 1);
      loop = g_new0 (Loop, 1);
      loop->lane = add_lane (c, IL_LANE_LOOP, name, p->lane, n);
      g_hash_table_insert (p->loops, g_memdup2 (&id, sizeof id), loop);
    }
  return loop;
}

static Task *
task_new (Ctx        *c,
          Proc       *p,
          gint64      t,
          gint64      id,
          const char *name,
          guint32     creator)
{
  Task *task = g_new0 (Task, 1);
  g_autofree char *made = NULL;

  if (name == NULL)
    name = made = g_strdup_printf ("Task %u", c->n_tasks + 1);
  task->index = c->n_task_lanes++;
  task->lane = add_lane (c, IL_LANE_TASK, name, p->lane, task->index);
  task->state = IL_STATE_NOT_STARTED;
  task->wake_at = -1;
  task->woken_by = IL_NO_LANE;
  g_hash_table_insert (c->task_of_lane, GUINT_TO_POINTER (task->lane), task);
  g_hash_table_replace (p->tasks, g_memdup2 (&id, sizeof id), task);
  g_ptr_array_add (c->tasks_all, task);
  c->n_tasks++;
  il_trace_append (c->trace, t, task->lane, IL_EVENT_MARK, IL_MARK_TASK_CREATED, 0, creator);
  return task;
}

static void
proc_exit (Ctx    *c,
           Proc   *p,
           gint64  t,
           int     code)
{
  if (p->exited)
    return;
  set_holder (c, p, t, p->holder, FALSE);
  for (guint i = 0; i < p->thread_list->len; i++)
    {
      Thr *th = g_ptr_array_index (p->thread_list, i);
      if (th->state == IL_STATE_NOT_STARTED || th == p->unknown)
        continue;
      th->mirror = IL_NO_LANE;
      th->done = TRUE;
      thr_update (c, t, th, code == 0 || code == -1 ? IL_CAUSE_RETURNED : IL_CAUSE_FAILED, IL_NO_LANE);
    }
  p->exited = TRUE;
  p->exit_code = code;
}

/* The earliest of `sleepers` whose end (read by `end_of`) is at or before
 * `t`, removed from the array; NULL when none is due.  Sleepers wake in
 * the order their sleeps end: each wake-up is appended no earlier than the
 * event before it, so waking a later one first would push an earlier one's
 * end to the later time (a 60 ms asyncio.sleep recorded as 80 ms because an
 * 80 ms one sat before it in the array). */
static gpointer
take_earliest_due (GPtrArray *sleepers,
                   gint64     t,
                   gint64   (*end_of) (gpointer))
{
  guint best = G_MAXUINT;

  for (guint i = 0; i < sleepers->len; i++)
    {
      gint64 end = end_of (g_ptr_array_index (sleepers, i));
      if (end <= t && (best == G_MAXUINT || end < end_of (g_ptr_array_index (sleepers, best))))
        best = i;
    }
  return best == G_MAXUINT ? NULL : g_ptr_array_remove_index_fast (sleepers, best);
}

static gint64
thr_sleep_end (gpointer th)
{
  return ((Thr *) th)->sleep_until;
}

static gint64
task_sleep_end (gpointer task)
{
  return ((Task *) task)->wake_at;
}

/* Sleeps that ended before `t`: those threads now wait for the GIL. */
static void
wake_sleepers (Ctx    *c,
               gint64  t)
{
  Thr *th;

  while ((th = take_earliest_due (c->sleepers, t, thr_sleep_end)) != NULL)
    {
      /* Not appended before the previous event: times never go back. */
      gint64 until = MAX (th->sleep_until, c->trace->n_events > 0 ? c->trace->time[c->trace->n_events - 1] : 0);
      th->sleep_until = -1;
      if (!th->done && !th->proc->exited)
        thr_update (c, until, th, IL_CAUSE_TIMER, IL_NO_LANE);
    }
}

/* asyncio.sleep timers that fired before `t`: those tasks are ready. */
static void
wake_tasks (Ctx    *c,
            gint64  t)
{
  Task *task;

  while ((task = take_earliest_due (c->task_sleepers, t, task_sleep_end)) != NULL)
    {
      gint64 at = MAX (task->wake_at, c->trace->n_events > 0 ? c->trace->time[c->trace->n_events - 1] : 0);
      task->wake_at = -1;
      if (!task->done && task->state == IL_STATE_SLEEPING)
        {
          task->timer_woke = TRUE;
          task_state (c, at, task, IL_STATE_READY, IL_CAUSE_TIMER, IL_NO_LANE);
        }
    }
}

/* A put or get: marked where it happened (it moved an item, or raised
 * Full / Empty).  A queue.Queue waiter is woken by the other side's
 * notify(), which wakes the waiter that waits longest: an item put serves
 * the oldest waiting getter, an item taken the oldest waiting putter. */
static void
queue_op (Ctx       *c,
          Proc      *p,
          gint64     t,
          Thr       *th,
          const Rec *r)
{
  Sync *so = sync_for (c, p, r->a, IL_SYNC_QUEUE);
  gboolean put = (r->b & IL_REC_QUEUE_PUT) != 0;
  gboolean done = (r->b & IL_REC_QUEUE_DONE) != 0;
  Thr *oldest = NULL;

  so->maxsize = MAX (r->b, 0) >> IL_REC_QUEUE_MAXSIZE_SHIFT;
  if (r->b & IL_REC_QUEUE_WAITS)
    {
      /* An asyncio task about to wait in get / put: its step ends there. */
      Task *task = th->mirror != IL_NO_LANE ? g_hash_table_lookup (c->task_of_lane, GUINT_TO_POINTER (th->mirror)) : NULL;
      sync_mark (c, t, th, IL_MARK_SYNC_WAIT, so);
      if (task != NULL && task->queue_wait == NULL && c->queue_waiters->len < 100000)
        {
          task->queue_wait = so;
          task->queue_put = put;
          task->woken_by = IL_NO_LANE;
          g_ptr_array_add (c->queue_waiters, task);
        }
      return;
    }
  sync_mark (c, t, th, !done ? IL_MARK_QUEUE_FAILED : put ? IL_MARK_QUEUE_PUT : IL_MARK_QUEUE_GET, so);
  if (!done)
    return;
  so->ops++;
  c->queue_ops++;
  for (guint i = 0; i < p->thread_list->len && i < 4096; i++)
    {
      Thr *w = g_ptr_array_index (p->thread_list, i);
      if (w != th && !w->done && w->call_depth > 0 && w->waits_for == so && w->wait_put != put
          && w->woken_by == IL_NO_LANE && (oldest == NULL || w->wait_since < oldest->wait_since))
        oldest = w;
    }
  if (oldest != NULL)
    oldest->woken_by = th->lane;
  /* asyncio.Queue: put_nowait / get_nowait resolve the oldest waiter's
   * future (in the order they began to wait). */
  for (guint i = 0; i < c->queue_waiters->len; i++)
    {
      Task *w = g_ptr_array_index (c->queue_waiters, i);
      if (w->queue_wait == so && w->queue_put != put && w->woken_by == IL_NO_LANE)
        {
          w->woken_by = th->mirror != IL_NO_LANE ? th->mirror : th->lane;
          break;
        }
    }
}

static void
replay (Ctx       *c,
        const Rec *r)
{
  Proc *p = proc_for (c, r);
  gint64 t = r->t - c->t0;
  Thr *th;

  if (c->sleepers->len > 0)
    wake_sleepers (c, t);
  if (c->task_sleepers->len > 0)
    wake_tasks (c, t);

  if (p->exited)
    return;
  p->last_t = t;
  switch ((IlRecKind) r->kind)
    {
    case IL_REC_PROCESS:
      {
        Proc *parent = NULL;
        for (guint i = 0; i < c->procs->len; i++)
          if (((Proc *) g_ptr_array_index (c->procs, i))->pid == p->ppid)
            parent = g_ptr_array_index (c->procs, i);
        il_trace_append (c->trace, t, p->lane, IL_EVENT_MARK, IL_MARK_PROCESS_START, 0,
                         parent != NULL && parent != p ? parent->lane : IL_NO_LANE);
        return;
      }

    case IL_REC_INTERVAL:
      if (r->a > 0 && r->a < 10 * G_GINT64_CONSTANT (1000000))
        p->interval = r->a * IL_NSEC_PER_USEC;
      return;

    case IL_REC_GIL:
      {
        Thr *holder = NULL;
        if (r->thread != 0)
          holder = g_hash_table_lookup (p->threads, GUINT_TO_POINTER (r->thread));
        /* Only a thread we do not know that takes the GIL needs the lane
         * that stands for such threads: a release by one (a pool's worker
         * exiting, say) just leaves the GIL free, and would leave the lane
         * empty in the window. */
        if (holder == NULL || holder->done)
          holder = (r->a & 1) != 0 ? unknown_thread (c, p) : NULL;
        if ((r->a & 2) && !p->drop && p->locked && p->holder != NULL)
          {
            il_trace_append (c->trace, t, p->gil_lane, IL_EVENT_GIL_REQUEST, 0, 0, IL_NO_LANE);
            c->drop_requests++;
          }
        p->drop = (r->a & 2) != 0;
        set_holder (c, p, t, holder, (r->a & 1) != 0);
        return;
      }

    case IL_REC_EXIT:
      proc_exit (c, p, t, (int) CLAMP (r->a, -1, 255));
      return;

    case IL_REC_ACQUIRED:
    case IL_REC_RELEASED:
      {
        /* Not proof of holding the GIL: the hold a first waiter finds is
         * written by the waiter, in the holder's name. */
        Thr *by = r->thread != 0 ? g_hash_table_lookup (p->threads, GUINT_TO_POINTER (r->thread)) : NULL;
        Sync *so;
        if (by == NULL || by->done)
          return;
        so = sync_for (c, p, r->a, r->b == IL_REC_CALL_SEMAPHORE ? IL_SYNC_SEMAPHORE : IL_SYNC_LOCK);
        sync_mark (c, t, by, r->kind == IL_REC_ACQUIRED ? IL_MARK_SYNC_ACQUIRED : IL_MARK_SYNC_RELEASED, so);
        if (r->kind == IL_REC_RELEASED)
          {
            so->released_by = by->lane;
            so->released_at = t;
          }
        return;
      }

    case IL_REC_CALL_RETURNED:
      {
        /* Written without the GIL, as the kernel ended the call's wait. */
        Thr *th_r = r->thread != 0 ? g_hash_table_lookup (p->threads, GUINT_TO_POINTER (r->thread)) : NULL;
        if (th_r != NULL && !th_r->done && th_r->call_depth > 0 && !th_r->returned)
          {
            th_r->returned = TRUE;
            thr_update (c, t, th_r, IL_CAUSE_IO, IL_NO_LANE);
          }
        return;
      }

    case IL_REC_CORE:
      {
        Thr *on = r->thread != 0 ? g_hash_table_lookup (p->threads, GUINT_TO_POINTER (r->thread)) : NULL;
        if (on != NULL && r->a >= 0 && r->a < c->n_cores)
          {
            on->cpu = (guint) r->a;
            if (on->state == IL_STATE_RUNNING)
              core_update (c, t, on, on->state);
          }
        return;
      }

    default:
      break;
    }

  /* Everything else was written by a thread holding the GIL. */
  th = thread_for (c, p, r);
  if (th == NULL)
    return;
  if (r->kind == IL_REC_THREAD_START)
    {
      if (r->text != NULL && th->state == IL_STATE_NOT_STARTED && !th->child_main)
        {
          const char *nl = strchr (r->text, '\n');
          g_autofree char *line = nl != NULL ? g_strndup (r->text, (gsize) (nl - r->text)) : NULL;
          il_trace_set_lane_name (c->trace, th->lane, line != NULL ? line : r->text);
        }
      th->done = FALSE;
    }
  if (th->done)
    return;
  set_holder (c, p, t, th, TRUE);

  switch ((IlRecKind) r->kind)
    {
    case IL_REC_THREAD_START:
      th->ident = r->a;
      thr_update (c, t, th, IL_CAUSE_START, IL_NO_LANE);
      break;

    case IL_REC_THREAD_END:
      th->cpu_ns = r->a;
      th->mirror = IL_NO_LANE;
      th->done = TRUE;
      if (p->holder == th)
        {
          /* It still holds the GIL while its thread state is torn down. */
          p->holder = unknown_thread (c, p);
          il_trace_append (c->trace, t, p->gil_lane, IL_EVENT_GIL_TAKE, 0, 0, p->holder->lane);
          p->last_taker = p->holder;
          /* …and its lane shows it running, as the GIL lane does. */
          thr_update (c, t, p->holder, IL_CAUSE_NONE, IL_NO_LANE);
        }
      thr_update (c, t, th, IL_CAUSE_RETURNED, IL_NO_LANE);
      break;

    case IL_REC_CALL_BEGIN:
      if (th->call_depth++ == 0)
        {
          th->call_cat = (int) CLAMP (r->a, 1, IL_REC_N_CALLS - 1);
          th->returned = FALSE;
          /* time.sleep says how long: after that the thread waits for the
           * GIL, which the call's return alone would hide. */
          if (th->call_cat == IL_REC_CALL_SLEEP && r->b >= 0 && r->b < IL_ENGINE_MAX_TIME)
            {
              th->sleep_until = t + r->b;
              g_ptr_array_add (c->sleepers, th);
            }
          th->joining = IL_NO_LANE;
          th->waits_for = NULL;
          th->wait_put = th->call_cat == IL_REC_CALL_QUEUE_PUT;
          th->woken_by = IL_NO_LANE;
          if (sync_of_call (th->call_cat) >= 0)
            {
              th->waits_for = sync_for (c, p, r->b, (IlSyncKind) sync_of_call (th->call_cat));
              th->wait_since = t;
              sync_mark (c, t, th, IL_MARK_SYNC_WAIT, th->waits_for);
              c->lock_waits++;
            }
          c->file_calls += th->call_cat == IL_REC_CALL_FILE;
          c->c_calls += th->call_cat == IL_REC_CALL_C;
          if (th->call_cat == IL_REC_CALL_C)
            c_call_mark (c, t, th, IL_MARK_C_CALL);
          if (th->call_cat == IL_REC_CALL_JOIN)
            for (guint i = 0; i < p->thread_list->len; i++)
              {
                Thr *other = g_ptr_array_index (p->thread_list, i);
                if (other != th && other->ident == r->b && other->number > 0)
                  th->joining = other->lane;
              }
        }
      /* Blocking calls release the GIL as they start: seen here at once,
       * where the sampler may see it late on a busy machine. */
      if (r->a != IL_REC_CALL_C)
        set_holder (c, p, t, th, FALSE);
      break;

    case IL_REC_CALL_END:
      if (th->call_depth > 0 && --th->call_depth == 0)
        {
          if (th->call_cat == IL_REC_CALL_C)
            c_call_mark (c, t, th, IL_MARK_C_CALL_END);
          th->waits_for = NULL;
          th->sleep_until = -1;
          g_ptr_array_remove_fast (c->sleepers, th);
          th->returned = FALSE;
        }
      thr_update (c, t, th, IL_CAUSE_NONE, IL_NO_LANE);
      break;

    case IL_REC_QUEUE:
      queue_op (c, p, t, th, r);
      break;

    case IL_REC_LOOP_ITER:
      {
        Loop *loop = loop_for (c, p, r->b);
        th->loop = loop;
        loop->iteration++;
        loop->prev_select_n = loop->cur_select_n;
        loop->cur_select_n = 0;
        c->loop_iterations++;
        il_trace_append (c->trace, t, loop->lane, IL_EVENT_LOOP_ITER, 0,
                         (guint16) CLAMP (r->a, 0, G_MAXUINT16), loop->iteration);
        break;
      }

    case IL_REC_SELECT_BEGIN:
      if (th->loop != NULL)
        {
          guint32 us = r->a < 0 ? G_MAXUINT32 : (guint32) MIN (r->a / IL_NSEC_PER_USEC, G_MAXUINT32 - 1);
          il_trace_append (c->trace, t, th->loop->lane, IL_EVENT_LOOP_SELECT, 0, 0, us);
          th->in_select = TRUE;
        }
      else if (th->call_depth++ == 0)
        th->call_cat = IL_REC_CALL_SELECT;
      set_holder (c, p, t, th, FALSE);
      break;

    case IL_REC_SELECT_END:
      if (th->loop != NULL && th->in_select)
        {
          th->loop->cur_select_n = (guint32) CLAMP (r->a, 0, G_MAXUINT32);
          il_trace_append (c->trace, t, th->loop->lane, IL_EVENT_LOOP_SELECT_END, 0, 0, th->loop->cur_select_n);
          th->in_select = FALSE;
        }
      else if (th->call_depth > 0)
        th->call_depth--;
      thr_update (c, t, th, IL_CAUSE_IO, IL_NO_LANE);
      break;

    case IL_REC_TASK_CREATE:
      if (r->b == -1)
        {
          /* Named after creation (asyncio.create_task (…, name=) before 3.12, set_name). */
          Task *task = g_hash_table_lookup (p->tasks, &r->a);
          if (task != NULL && r->text != NULL)
            {
              il_trace_set_lane_name (c->trace, task->lane, r->text);
            }
          break;
        }
      {
        Task *creator = r->b != 0 ? g_hash_table_lookup (p->tasks, &r->b) : NULL;
        guint32 by = creator != NULL ? creator->lane : th->lane;
        Task *task = task_new (c, p, t, r->a, r->text, by);
        task_state (c, t, task, IL_STATE_READY, IL_CAUSE_START, by);
        break;
      }

    case IL_REC_STEP_BEGIN:
      {
        Loop *loop = th->loop != NULL ? th->loop : (th->loop = loop_for (c, p, 0));
        Task *task = r->a != 0 ? g_hash_table_lookup (p->tasks, &r->a) : NULL;
        Task *waker = r->b != 0 ? g_hash_table_lookup (p->tasks, &r->b) : NULL;

        if (r->a == 0)
          {
            il_trace_append (c->trace, t, loop->lane, IL_EVENT_LOOP_CALLBACK,
                             loop->cur_select_n > 0 ? IL_CALLBACK_IO : IL_CALLBACK_TIMER, 0, IL_NO_LANE);
            break;
          }
        if (task == NULL)
          task = task_new (c, p, t, r->a, NULL, IL_NO_LANE);
        il_trace_append (c->trace, t, loop->lane, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_TASK_STEP, 0, task->lane);
        th->mirror = task->lane;
        if (task->wake_at >= 0)
          {
            /* Woken before its timer (cancelled, or by another future). */
            g_ptr_array_remove_fast (c->task_sleepers, task);
            task->wake_at = -1;
          }
        {
          IlCause cause;
          guint32 by = IL_NO_LANE;
          /* Why it runs now: the task it awaited finished, it yielded, or a
           * callback of the previous iteration (I/O or a timer) woke it. */
          if (task->queue_wait != NULL && task->woken_by != IL_NO_LANE)
            {
              cause = IL_CAUSE_QUEUE, by = task->woken_by;
              c->queue_handoffs++;
            }
          else if (waker != NULL)
            cause = IL_CAUSE_FUTURE, by = waker->lane;
          else if (task->state == IL_STATE_READY && task->timer_woke)
            cause = IL_CAUSE_TIMER, by = loop->lane;
          else if (task->state == IL_STATE_READY)
            cause = task->yielded ? IL_CAUSE_CALL_SOON : IL_CAUSE_LOOP, by = loop->lane;
          else
            cause = loop->prev_select_n > 0 ? IL_CAUSE_IO : IL_CAUSE_TIMER;
          task->state = th->state;
          task->timer_woke = FALSE;
          if (task->queue_wait != NULL)
            {
              /* Served or not (a cancelled wait), the wait is over. */
              g_ptr_array_remove (c->queue_waiters, task);
              task->queue_wait = NULL;
              task->woken_by = IL_NO_LANE;
            }
          il_trace_append (c->trace, t, task->lane, IL_EVENT_STATE, (guint8) th->state, (guint16) cause, by);
        }
        break;
      }

    case IL_REC_STEP_END:
      {
        Loop *loop = th->loop;
        Task *task = r->a != 0 ? g_hash_table_lookup (p->tasks, &r->a) : NULL;
        gint64 outcome = r->b & 0xff;

        if (loop != NULL)
          il_trace_append (c->trace, t, loop->lane, IL_EVENT_LOOP_CALLBACK_END, 0, 0,
                           task != NULL ? task->lane : IL_NO_LANE);
        th->mirror = IL_NO_LANE;
        if (task == NULL)
          break;
        task->yielded = outcome == IL_REC_STEP_YIELDED;
        switch (outcome)
          {
          case IL_REC_STEP_DONE:
          case IL_REC_STEP_FAILED:
          case IL_REC_STEP_CANCELLED:
            task_state (c, t, task, IL_STATE_DONE,
                        outcome == IL_REC_STEP_DONE ? IL_CAUSE_RETURNED
                        : outcome == IL_REC_STEP_FAILED ? IL_CAUSE_FAILED : IL_CAUSE_CANCELLED, IL_NO_LANE);
            task->done = TRUE;
            /* The id may be reused by the next task allocated there. */
            g_hash_table_remove (p->tasks, &r->a);
            break;
          case IL_REC_STEP_YIELDED:
            task_state (c, t, task, IL_STATE_READY, IL_CAUSE_CALL_SOON, loop ? loop->lane : IL_NO_LANE);
            break;
          case IL_REC_STEP_AWAITS_TASK:
            {
              gint64 awaited_id = r->b >> 8;
              Task *awaited = g_hash_table_lookup (p->tasks, &awaited_id);
              task_state (c, t, task, IL_STATE_BLOCKED, IL_CAUSE_NONE,
                          awaited != NULL ? awaited->lane : IL_NO_LANE);
              break;
            }
          default:
            {
              /* Awaiting a future a timer will resolve: asleep until then. */
              gint64 fut = r->b >> 8;
              gint64 *when = g_hash_table_lookup (p->timers, &fut);
              if (when != NULL && *when > t)
                {
                  task->wake_at = *when;
                  g_ptr_array_add (c->task_sleepers, task);
                  task_state (c, t, task, IL_STATE_SLEEPING, IL_CAUSE_NONE, IL_NO_LANE);
                }
              else
                task_state (c, t, task, IL_STATE_BLOCKED, IL_CAUSE_NONE, IL_NO_LANE);
              if (when != NULL)
                g_hash_table_remove (p->timers, &fut);
              break;
            }
          }
        break;
      }

    case IL_REC_WORK_BEGIN:
      {
        g_autofree char *name = g_strdup_printf ("%s #%u", r->text ? r->text : "work", ++c->n_items);
        guint32 lane = add_lane (c, IL_LANE_TASK, name, p->lane, c->n_task_lanes++);
        g_hash_table_replace (p->items, g_memdup2 (&r->a, sizeof r->a), GUINT_TO_POINTER (lane + 1));
        il_trace_append (c->trace, t, lane, IL_EVENT_STATE, (guint8) th->state, IL_CAUSE_POOL, th->lane);
        th->mirror = lane;
        break;
      }

    case IL_REC_WORK_END:
      {
        gpointer v = g_hash_table_lookup (p->items, &r->a);
        if (v != NULL)
          {
            il_trace_append (c->trace, t, GPOINTER_TO_UINT (v) - 1, IL_EVENT_STATE, IL_STATE_DONE,
                             IL_CAUSE_RETURNED, th->lane);
            g_hash_table_remove (p->items, &r->a);
          }
        th->mirror = IL_NO_LANE;
        thr_update (c, t, th, IL_CAUSE_NONE, IL_NO_LANE);
        break;
      }

    case IL_REC_TIMER:
      if (r->b > c->t0 && g_hash_table_size (p->timers) < 1000000)
        {
          gint64 when = r->b - c->t0;
          g_hash_table_replace (p->timers, g_memdup2 (&r->a, sizeof r->a), g_memdup2 (&when, sizeof when));
        }
      break;

    case IL_REC_PROCESS_NAME:
      /* The child learns its multiprocessing name: its lanes take it. */
      if (r->text != NULL && p != g_ptr_array_index (c->procs, 0))
        {
          g_autofree char *pname = g_strdup_printf ("%s (%" G_GINT64_FORMAT ", %s)", r->text, p->pid, p->method);
          il_trace_set_lane_name (c->trace, p->lane, pname);
          if (th->child_main)
            il_trace_set_lane_name (c->trace, th->lane, r->text);
        }
      break;

    case IL_REC_POOL:
      if (r->b == 1)
        c->thread_pool_workers = (guint) CLAMP (r->a, 0, 4096);
      else
        {
          c->process_pool_workers = (guint) CLAMP (r->a, 0, 4096);
          if (r->text != NULL && c->pool_method == NULL)
            c->pool_method = g_strdup (r->text);
        }
      break;

    default:
      break;
    }
}

static int
compare_recs (gconstpointer a,
              gconstpointer b)
{
  const Rec *x = a, *y = b;

  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  if (x->file != y->file)
    return x->file < y->file ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
compare_syncs (gconstpointer a,
               gconstpointer b)
{
  const Sync *x = *(Sync * const *) a, *y = *(Sync * const *) b;
  return x->number < y->number ? -1 : x->number > y->number;
}

/* "queues=N" and "queue_list=NUMBER:MAXSIZE:OPS,…": every queue an item
 * moved through, by its number in the marks, which derive declares. */
static void
append_queues (GString   *meta,
               GPtrArray *procs)
{
  g_autoptr(GPtrArray) queues = g_ptr_array_new ();

  for (guint i = 0; i < procs->len; i++)
    {
      GHashTableIter it;
      gpointer v;
      g_hash_table_iter_init (&it, ((Proc *) g_ptr_array_index (procs, i))->syncs);
      while (g_hash_table_iter_next (&it, NULL, &v))
        if (((Sync *) v)->kind == IL_SYNC_QUEUE && ((Sync *) v)->maxsize >= 0)
          g_ptr_array_add (queues, v);
    }
  g_ptr_array_sort (queues, compare_syncs);
  g_string_append_printf (meta, "queues=%u\nqueue_list=", queues->len);
  for (guint i = 0; i < queues->len; i++)
    {
      const Sync *so = g_ptr_array_index (queues, i);
      g_string_append_printf (meta, "%s%u:%" G_GINT64_FORMAT ":%u", i > 0 ? "," : "", so->number, so->maxsize, so->ops);
    }
  g_string_append_c (meta, '\n');
}

IlTrace *
il_recording_build (IlRecording  *rec,
                    GError      **error)
{
  g_autoptr(GArray) recs = NULL;
  g_autoptr(IlTrace) trace = NULL;
  g_autoptr(GString) meta = g_string_new (NULL);
  Ctx c = { 0 };
  guint max_cpu = 0;
  gint64 span = 0;
  Proc *main_proc;
  gboolean all_exited = TRUE;
  guint user_threads = 0, n_loops = 0;

  g_return_val_if_fail (rec != NULL, NULL);
  if (rec->recs->len == 0)
    {
      g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_EMPTY, "nothing was recorded");
      return NULL;
    }
  recs = g_array_sized_new (FALSE, FALSE, sizeof (Rec), rec->recs->len);
  g_array_append_vals (recs, rec->recs->data, rec->recs->len);
  g_array_sort (recs, compare_recs);

  trace = il_trace_new ();
  c.rec = rec;
  c.trace = trace;
  c.t0 = g_array_index (recs, Rec, 0).t;
  c.procs = g_ptr_array_new_with_free_func (proc_free);
  c.proc_of_file = g_hash_table_new (NULL, NULL);
  c.workers = g_hash_table_new (NULL, NULL);
  c.sleepers = g_ptr_array_new ();
  c.task_sleepers = g_ptr_array_new ();
  c.tasks_all = g_ptr_array_new_with_free_func (g_free);
  c.task_of_lane = g_hash_table_new (NULL, NULL);
  c.queue_waiters = g_ptr_array_new ();

  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (r->cpu != 255)
        max_cpu = MAX (max_cpu, r->cpu);
      if (r->kind == IL_REC_CORE && r->a >= 0 && r->a < 255)
        max_cpu = MAX (max_cpu, (guint) r->a);
      if (r->kind == IL_REC_WORK_BEGIN)
        g_hash_table_add (c.workers, GSIZE_TO_POINTER (((gsize) r->file << 32) | r->thread));
    }
  c.n_cores = MAX (max_cpu + 1, MIN (g_get_num_processors (), 256u));
  c.core_lanes = g_new (guint32, c.n_cores);
  c.core_thread = g_new0 (Thr *, c.n_cores);
  for (guint i = 0; i < c.n_cores; i++)
    {
      g_autofree char *name = g_strdup_printf ("Core %u", i);
      c.core_lanes[i] = il_trace_add_lane (trace, IL_LANE_CORE, name, IL_NO_LANE, i);
    }

  for (guint i = 0; i < recs->len; i++)
    replay (&c, &g_array_index (recs, Rec, i));
  span = g_array_index (recs, Rec, recs->len - 1).t - c.t0;
  span = MAX (span, trace->n_events > 0 ? trace->time[trace->n_events - 1] : 0);
  for (guint i = 0; i < c.procs->len; i++)
    {
      Proc *p = g_ptr_array_index (c.procs, i);
      all_exited &= p->exited;
      /* A process killed before it could write its exit ends with the recording. */
      proc_exit (&c, p, span, -1);
      n_loops += g_hash_table_size (p->loops);
    }
  il_trace_set_end_time (trace, span);
  trace->finished = all_exited;

  main_proc = g_ptr_array_index (c.procs, 0);
  for (guint i = 0; i < main_proc->thread_list->len; i++)
    user_threads += il_trace_get_lane (trace, ((Thr *) g_ptr_array_index (main_proc->thread_list, i))->lane)->kind
                    == IL_LANE_TASK;
  trace->mode = c.loop_iterations > 0 ? IL_MODE_ASYNCIO
              : c.procs->len > 1 ? IL_MODE_PROCESSES
              : user_threads > 0 || c.n_items > 0 ? IL_MODE_THREADS : IL_MODE_SEQUENTIAL;

  trace->source = g_strdup_printf ("CPython %s recording%s%s", main_proc->version,
                                   rec->program ? " of " : "", rec->program ? rec->program : "");
  g_string_append_printf (meta, "source=cpython\npython=%s\n", main_proc->version);
  if (rec->program != NULL)
    {
      g_autofree char *flat = g_strdup (rec->program);
      g_strdelimit (flat, "\n\r", ' ');
      g_string_append_printf (meta, "program=%s\n", flat);
    }
  g_string_append_printf (meta, "exit_code=%d\n", rec->exit_code != -1 ? rec->exit_code : main_proc->exit_code);
  g_string_append_printf (meta, "mode=%s\n", il_mode_to_string (trace->mode));
  g_string_append_printf (meta, "switch_interval_us=%" G_GINT64_FORMAT "\n", main_proc->interval / IL_NSEC_PER_USEC);
  g_string_append_printf (meta, "gil_switches=%" G_GUINT64_FORMAT "\n", c.gil_switches);
  g_string_append_printf (meta, "loop_iterations=%" G_GUINT64_FORMAT "\n", c.loop_iterations);
  g_string_append_printf (meta, "loops=%u\ntasks=%u\nthreads=%u\nwork_items=%u\n", n_loops, c.n_tasks,
                          c.n_threads, c.n_items);
  g_string_append_printf (meta, "processes=%u\ncores=%u\n", c.procs->len, c.n_cores);
  g_string_append_printf (meta, "locks=%u\nlock_waits=%u\nlock_handoffs=%u\ndrop_requests=%u\nfile_calls=%u\nc_calls=%u\n",
                          c.n_syncs, c.lock_waits, c.lock_handoffs, c.drop_requests, c.file_calls, c.c_calls);
  g_string_append_printf (meta, "queue_ops=%u\nqueue_handoffs=%u\n", c.queue_ops, c.queue_handoffs);
  append_queues (meta, c.procs);
  g_string_append_printf (meta, "thread_pool_workers=%u\nprocess_pool_workers=%u\n", c.thread_pool_workers,
                          c.process_pool_workers);
  if (c.pool_method != NULL)
    g_string_append_printf (meta, "start_method=%s\n", c.pool_method);
  g_string_append_printf (meta, "span_ns=%" G_GINT64_FORMAT "\nrecords=%u\n", span, rec->recs->len);
  trace->recording = g_string_free (g_steal_pointer (&meta), FALSE);

  g_ptr_array_unref (c.procs);
  g_hash_table_unref (c.proc_of_file);
  g_hash_table_unref (c.workers);
  g_ptr_array_unref (c.sleepers);
  g_ptr_array_unref (c.task_sleepers);
  g_ptr_array_unref (c.tasks_all);
  g_hash_table_unref (c.task_of_lane);
  g_ptr_array_unref (c.queue_waiters);
  g_free (c.core_lanes);
  g_free (c.core_thread);
  g_free (c.pool_method);
  return g_steal_pointer (&trace);
}

IlTrace *
il_recording_load_dir (const char  *dir,
                       const char  *program,
                       int          exit_code,
                       GError     **error)
{
  g_autoptr(IlRecording) rec = il_recording_new ();

  if (!il_recording_feed_dir (rec, dir, error))
    return NULL;
  il_recording_set_program (rec, program, exit_code);
  return il_recording_build (rec, error);
}

char *
il_recording_meta_get (const IlTrace *trace,
                       const char    *name)
{
  gsize nl;
  const char *p;

  g_return_val_if_fail (trace != NULL && name != NULL, NULL);
  if (trace->recording == NULL)
    return NULL;
  nl = strlen (name);
  for (p = trace->recording; *p; )
    {
      const char *end = strchr (p, '\n');
      gsize len = end ? (gsize) (end - p) : strlen (p);
      if (len > nl && p[nl] == '=' && strncmp (p, name, nl) == 0)
        return g_strndup (p + nl + 1, len - nl - 1);
      p += len + (end ? 1 : 0);
    }
  return NULL;
}
