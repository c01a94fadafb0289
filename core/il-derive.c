/* il-derive.c — a scenario of the workload a recording shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Which lanes become tasks depends on what the program was:
 *  - asyncio: every task; a step is what ran between the loop's callback
 *    begin and end (its GIL-holding time is CPU, a blocking call inside it
 *    a blocking sleep or I/O); between steps the task waited for the task
 *    that woke it ("await"; of each task it created that ended just before
 *    it woke, for gather()), yielded, handed work to a thread or a process
 *    ("to_thread" / "to_process", matched with the pool work item that ran
 *    in that gap), or waited for a timer or I/O until the loop iteration
 *    that woke it;
 *  - threads: every thread the program started, from its Thread.start()
 *    call, and its pool work items (with the pool's size as "workers"); the
 *    main thread too when it computes beside them; a wait for a process
 *    pool's item is a "to_process" of it;
 *  - processes: every child process, by what its main thread did, or the
 *    process pool's work items.
 * The wait for the GIL is left out everywhere: the simulation makes it.
 */
#include <string.h>

#include "il-derive.h"
#include "il-recording.h"
#include "il-run-config.h"
#include "il-scenario.h"

typedef enum { K_THREAD, K_ASYNC, K_ITEM, K_PROCESS } LaneRole;

typedef struct {
  guint32  lane;
  LaneRole role;
  char    *name;        /* unique in the scenario */
  gint64   start;
  gint64   begin;       /* items: first event */
  gint64   end;         /* items: DONE */
  gboolean claimed;     /* an item used as a to_thread / to_process body */
  gboolean in_child;    /* items: run by a worker process (ProcessPoolExecutor, multiprocessing) */
  guint32  owner;       /* in_child items: the thread that waited for it, or IL_NO_LANE */
  gboolean include;
} DLane;

typedef struct {
  gint64  begin;
  gint64  end;
  guint32 loop_lane;
} DStep;

/* A step to write: timed (kind ≥ 0) or ready-made JSON. */
typedef struct {
  int      kind;
  gboolean blocking;
  gint64   dur;
  char    *raw;
} DOut;

typedef struct {
  const IlTrace *trace;
  GArray        *lanes;         /* of DLane */
  GHashTable    *steps;         /* task lane → GArray of DStep, from the loops' callbacks */
  GHashTable    *by_lane;       /* lane → index + 1 */
  GString       *out;
  GArray        *list;          /* of DOut: the steps of the task being written */
  /* The step being merged. */
  int            pend_kind;     /* -1 none, else IlStepKind */
  gboolean       pend_blocking;
  gboolean       in_c;          /* the lane is inside a recorded C extension call */
  gint64         pend_dur;
  GHashTable    *capacity;      /* semaphore number → most holders seen at once */
  GHashTable    *limits_used;   /* semaphore numbers written as "limit" steps */
  GHashTable    *queues_on;     /* queue number → maxsize + 1, for queues written as put / get steps */
  GHashTable    *queue_written; /* queue number → put / get steps written */
  GHashTable    *queue_bad;     /* queue numbers used where a scenario queue cannot be (a to_thread body) */
  gboolean       in_item;       /* writing a to_thread / to_process body */
} Derive;

/* A lock or semaphore a thread holds while its steps are collected: the
 * steps from before are kept aside until it lets go. */
typedef struct {
  guint32     number;
  IlSyncKind  kind;
  GArray     *outer;
} DHold;


/* The start method a child process's lane names, by the parameter table's
 * spelling of the choices (fork, forkserver, spawn). */
static gboolean
start_method_from_name (const char    *name,
                        IlStartMethod *out)
{
  const char * const *choices = il_param_choices (il_param_find ("start_method"));

  for (guint i = 0; choices != NULL && choices[i] != NULL; i++)
    if (g_str_equal (choices[i], name))
      {
        *out = (IlStartMethod) i;
        return TRUE;
      }
  return FALSE;
}

static void
json_str (GString    *out,
          const char *s)
{
  g_string_append_c (out, '"');
  for (; *s; s++)
    {
      unsigned char ch = (unsigned char) *s;
      if (ch == '"' || ch == '\\')
        g_string_append_printf (out, "\\%c", ch);
      else if (ch < 0x20)
        g_string_append_printf (out, "\\u%04x", ch);
      else
        g_string_append_c (out, (char) ch);
    }
  g_string_append_c (out, '"');
}

static void
json_ms (GString *out,
         gint64   ns)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.3f", (double) ns / 1e6);
  g_string_append (out, buf);
}

static void
flush_step (Derive *d)
{
  if (d->pend_kind < 0)
    return;
  if (d->pend_dur >= IL_DERIVE_MIN_STEP)
    {
      DOut o = { d->pend_kind, d->pend_blocking, d->pend_dur, NULL };
      g_array_append_val (d->list, o);
    }
  d->pend_kind = -1;
  d->pend_dur = 0;
}

static gboolean
same_step (const DOut *a,
           const DOut *b)
{
  if (a->kind != b->kind || a->blocking != b->blocking)
    return FALSE;
  if (a->kind < 0)
    return g_strcmp0 (a->raw, b->raw) == 0;
  return ABS (a->dur - b->dur) <= MAX (a->dur / 4, IL_USEC (20));
}

static void
write_one (GString    *out,
           const DOut *o,
           gint64      dur)
{
  static const char *names[] = { [IL_STEP_CPU] = "cpu", [IL_STEP_IO] = "io", [IL_STEP_SLEEP] = "sleep",
                                 [IL_STEP_C] = "c" };

  if (o->kind < 0)
    {
      g_string_append (out, o->raw);
      return;
    }
  g_string_append_printf (out, "{\"%s\": ", names[o->kind]);
  json_ms (out, MAX (dur, IL_USEC (1)));
  if (o->kind == IL_STEP_C)
    g_string_append (out, ", \"gil\": \"release\"");
  if (o->blocking)
    g_string_append (out, ", \"blocking\": true");
  g_string_append_c (out, '}');
}

/* Writes the collected steps, a block of one or two steps that comes
 * back three times or more (with durations within 25 %) as a "repeat" of
 * their mean durations, so a loop reads as one; returns how many steps
 * were written. */
static guint
write_steps (Derive *d)
{
  GArray *l = d->list;
  guint written = 0;

  flush_step (d);
  for (guint i = 0; i < l->len; )
    {
      guint best_p = 0, best_k = 1;

      for (guint p = 1; p <= 2; p++)
        {
          guint k = 1;
          while (i + (k + 1) * p <= l->len)
            {
              gboolean same = TRUE;
              for (guint j = 0; j < p && same; j++)
                same = same_step (&g_array_index (l, DOut, i + j), &g_array_index (l, DOut, i + k * p + j));
              if (!same)
                break;
              k++;
            }
          if (k >= 3 && k * p > best_k * MAX (best_p, 1))
            best_p = p, best_k = k;
        }
      if (written++ > 0)
        g_string_append (d->out, ", ");
      if (best_p == 0)
        {
          write_one (d->out, &g_array_index (l, DOut, i), g_array_index (l, DOut, i).dur);
          i++;
          continue;
        }
      g_string_append_printf (d->out, "{\"repeat\": %u, \"steps\": [", best_k);
      for (guint j = 0; j < best_p; j++)
        {
          gint64 sum = 0;
          for (guint k = 0; k < best_k; k++)
            sum += g_array_index (l, DOut, i + k * best_p + j).dur;
          if (j > 0)
            g_string_append (d->out, ", ");
          write_one (d->out, &g_array_index (l, DOut, i + j), sum / best_k);
        }
      g_string_append (d->out, "]}");
      i += best_k * best_p;
    }
  for (guint i = 0; i < l->len; i++)
    g_free (g_array_index (l, DOut, i).raw);
  g_array_set_size (l, 0);
  return written;
}

/* Adds a step, merging it into the one before when of the same kind. */
static void
add_step (Derive     *d,
          IlStepKind  kind,
          gint64      dur,
          gboolean    blocking)
{
  if (dur <= 0)
    return;
  if (d->pend_kind == (int) kind && d->pend_blocking == blocking)
    {
      d->pend_dur += dur;
      return;
    }
  /* A sliver of another kind between two of one kind is noise (a sample
   * boundary): fold it into the current step. */
  if (d->pend_kind >= 0 && dur < IL_DERIVE_MIN_STEP)
    {
      d->pend_dur += dur;
      return;
    }
  flush_step (d);
  d->pend_kind = (int) kind;
  d->pend_blocking = blocking;
  d->pend_dur = dur;
}

static void
add_raw (Derive     *d,
         const char *json)
{
  DOut o = { -1, FALSE, 0, g_strdup (json) };

  flush_step (d);
  g_array_append_val (d->list, o);
}

/* Whether a lane's event k (its index in the lane, `ev`) falls inside a
 * recorded C extension call: the last C mark before it opened one.  A C
 * call only runs or waits for the GIL, so any other state before it ends
 * the search. */
static gboolean
c_call_at (const IlTrace  *t,
           const guint32  *ev,
           guint           k)
{
  while (k-- > 0)
    {
      gsize e = ev[k];
      if (t->kind[e] == IL_EVENT_MARK && (t->value[e] == IL_MARK_C_CALL || t->value[e] == IL_MARK_C_CALL_END))
        return t->value[e] == IL_MARK_C_CALL;
      if (t->kind[e] == IL_EVENT_STATE && t->value[e] != IL_STATE_RUNNING && t->value[e] != IL_STATE_WAIT_GIL
          && t->value[e] != IL_STATE_READY)
        return FALSE;
    }
  return FALSE;
}

/* What a span in state s contributes; in_step: inside an asyncio step. */
static void
add_state (Derive  *d,
           IlState  s,
           gint64   dur,
           gboolean in_step)
{
  switch (s)
    {
    case IL_STATE_RUNNING:
      /* hashlib and zlib compute without the GIL: what free-threading,
       * threads and processes overlap differently from Python code. */
      add_step (d, d->in_c ? IL_STEP_C : IL_STEP_CPU, dur, FALSE);
      break;
    case IL_STATE_SLEEPING:
      add_step (d, IL_STEP_SLEEP, dur, in_step);
      break;
    case IL_STATE_WAIT_IO:
    case IL_STATE_BLOCKED:
    case IL_STATE_IDLE:
      add_step (d, IL_STEP_IO, dur, in_step);
      break;
    default:
      break;  /* waiting for the GIL or a core: the simulation makes that */
    }
}

static DLane *dlane (Derive *d, guint32 lane);

/* The task a thread joined, when it is one of the scenario's. */
static DLane *
join_target (Derive  *d,
             guint32  lane)
{
  DLane *l = lane != IL_NO_LANE ? dlane (d, lane) : NULL;
  return l != NULL && l->include && l->name != NULL ? l : NULL;
}

/* Locks and semaphores become lock and limit steps; conditions and events
 * have none (the scenario format has no condition): their waits stay I/O
 * waits of their length.  Queues are steps when queue_is_step says so. */
static gboolean
sync_is_step (guint16 kind)
{
  return kind == IL_SYNC_LOCK || kind == IL_SYNC_SEMAPHORE;
}

enum { NEXT_NONE, NEXT_RELEASED, NEXT_HOLD, NEXT_TAKEN };  /* an object's next mark */

typedef struct {
  guint32 number;
  guint8  next;
} HoldNext;

/* The next-mark state of object `number`: a lane takes few locks, so a
 * short array; a hash table beyond it. */
static guint8 *
hold_next (HoldNext    *few,
           guint       *n_few,
           GHashTable **more,
           guint32      number)
{
  guint8 *v;

  for (guint i = 0; i < *n_few; i++)
    if (few[i].number == number)
      return &few[i].next;
  if (*n_few < 16)
    {
      few[*n_few] = (HoldNext) { number, NEXT_NONE };
      return &few[(*n_few)++].next;
    }
  if (*more == NULL)
    *more = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  v = g_hash_table_lookup (*more, GUINT_TO_POINTER (number));
  if (v == NULL)
    {
      v = g_new0 (guint8, 1);
      g_hash_table_insert (*more, GUINT_TO_POINTER (number), v);
    }
  return v;
}

typedef struct {
  guint8 *data;
  guint   len;
  guint   size;
} HoldSteps;

static inline void
hold_step_push (HoldSteps *ok,
                gboolean   hold)
{
  if (ok->len == ok->size)
    ok->data = g_realloc (ok->data, ok->size = MAX (64, ok->size * 2));
  ok->data[ok->len++] = (guint8) hold;
}

/* Which of a lane's lock and semaphore WAIT and ACQUIRED marks over
 * events [k0, end) begin a hold that is a "lock" / "limit" step, found in
 * one pass from the end: an ACQUIRED mark whose object the lane lets go of
 * before taking it again (and before `end`), and a WAIT whose object's
 * next mark is such an ACQUIRED.  One byte per such mark pushed on `ok`,
 * the last mark's first, so that the marks met going forward pop theirs
 * off the end.
 * (Each wait used to scan ahead for its hold's end, and the hold's
 * ACQUIRED again: twice the events of every hold.) */
static void
hold_steps (const IlTrace  *t,
            const guint32  *ev,
            guint           k0,
            guint           end,
            HoldSteps      *ok)
{
  HoldNext few[16];
  guint n_few = 0;
  g_autoptr(GHashTable) more = NULL;

  for (guint k = end; k-- > k0;)
    {
      gsize e = ev[k];
      guint8 *next, hold;

      if (t->kind[e] != IL_EVENT_MARK || t->value[e] < IL_MARK_SYNC_WAIT || t->value[e] > IL_MARK_SYNC_RELEASED
          || !sync_is_step (t->aux[e]))
        continue;
      next = hold_next (few, &n_few, &more, t->arg[e]);
      switch (t->value[e])
        {
        case IL_MARK_SYNC_ACQUIRED:
          hold = *next == NEXT_RELEASED;
          *next = hold ? NEXT_HOLD : NEXT_TAKEN;
          hold_step_push (ok, hold);
          break;
        case IL_MARK_SYNC_RELEASED:
          *next = NEXT_RELEASED;
          break;
        default:
          hold = *next == NEXT_HOLD;
          hold_step_push (ok, hold);
          break;
        }
    }
}

/* The next forward mark's answer of hold_steps. */
static gboolean
hold_step_pop (HoldSteps *ok)
{
  g_assert (ok->len > 0);
  return ok->data[--ok->len];
}

/* Whether queue `number`'s puts and gets are written as steps. */
static gboolean
queue_is_step (Derive  *d,
               guint32  number)
{
  return d->queues_on != NULL && g_hash_table_contains (d->queues_on, GUINT_TO_POINTER (number));
}

static void
add_queue_step (Derive   *d,
                gboolean  put,
                guint32   number)
{
  g_autofree char *json = g_strdup_printf ("{\"%s\": \"queue-%u\"}", put ? "put" : "get", number);
  gpointer key = GUINT_TO_POINTER (number);

  /* Python cannot hand a queue to a process pool's worker, nor an
   * asyncio.Queue to another thread: such a queue stays what it was. */
  if (d->in_item)
    g_hash_table_add (d->queue_bad, key);
  g_hash_table_insert (d->queue_written, key,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (d->queue_written, key)) + 1));
  add_raw (d, json);
}

static void
hold_begin (Derive  *d,
            GArray  *holds,
            guint32  number,
            guint16  kind)
{
  DHold h = { number, (IlSyncKind) kind, d->list };

  flush_step (d);
  d->list = g_array_new (FALSE, FALSE, sizeof (DOut));
  g_array_append_val (holds, h);
}

/* The steps since the hold began become its body. */
static void
hold_end (Derive *d,
          GArray *holds)
{
  DHold h = g_array_index (holds, DHold, holds->len - 1);
  g_autoptr(GString) body = g_string_new (NULL);
  GString *out = d->out;

  g_array_set_size (holds, holds->len - 1);
  g_string_append_printf (body, "{\"%s\": \"%s-%u\", \"steps\": [", h.kind == IL_SYNC_SEMAPHORE ? "limit" : "lock",
                          h.kind == IL_SYNC_SEMAPHORE ? "semaphore" : "lock", h.number);
  d->out = body;
  if (write_steps (d) == 0)
    g_string_append (body, "{\"cpu\": 0.001}");
  d->out = out;
  g_string_append (body, "]}");
  g_array_unref (d->list);
  d->list = h.outer;
  if (h.kind == IL_SYNC_SEMAPHORE)
    g_hash_table_add (d->limits_used, GUINT_TO_POINTER (h.number));
  add_raw (d, body->str);
}

/* Steps of a lane's states over [from, to). */
static void
add_lane_states (Derive   *d,
                 guint32   lane,
                 gint64    from,
                 gint64    to,
                 gboolean  in_step)
{
  const IlTrace *t = d->trace;
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;
  IlState cur = il_trace_state_at (t, lane, from, NULL);
  gint64 at = from;
  g_autoptr(GArray) holds = g_array_new (FALSE, FALSE, sizeof (DHold));
  gboolean drop_wait = FALSE;
  gboolean queue_wait = FALSE;  /* in a wait on a queue that has put / get steps */
  gint64 queue_waited = 0;      /* its blocked time so far */
  guint k0 = il_trace_lane_lower_bound (t, lane, from + 1);
  HoldSteps hold_ok = { NULL, 0, 0 };  /* hold_steps, made at the first lock mark */
  gboolean hold_known = FALSE;

  d->in_c = c_call_at (t, ev, k0);
  for (guint k = k0; k < idx->len; k++)
    {
      gsize e = ev[k];
      if (t->time[e] >= to)
        break;
      if (t->kind[e] == IL_EVENT_MARK && (t->value[e] == IL_MARK_C_CALL || t->value[e] == IL_MARK_C_CALL_END))
        {
          add_state (d, cur, t->time[e] - at, in_step);
          at = t->time[e];
          d->in_c = t->value[e] == IL_MARK_C_CALL;
          continue;
        }
      if (t->kind[e] == IL_EVENT_MARK && t->aux[e] == IL_SYNC_QUEUE && queue_is_step (d, t->arg[e])
          && (t->value[e] == IL_MARK_QUEUE_PUT || t->value[e] == IL_MARK_QUEUE_GET || t->value[e] == IL_MARK_QUEUE_FAILED
              || (t->value[e] == IL_MARK_SYNC_WAIT && !in_step)))
        {
          /* A put or get, and the wait before it, become one put / get
           * step: the simulation makes the wait, until the other side
           * serves it.  A wait that ended without an item (a get's
           * timeout) was a timer. */
          if (queue_wait && cur == IL_STATE_BLOCKED)
            queue_waited += t->time[e] - at;
          else
            add_state (d, cur, t->time[e] - at, in_step);
          at = t->time[e];
          if (t->value[e] == IL_MARK_SYNC_WAIT)
            queue_wait = TRUE, queue_waited = 0;
          else if (t->value[e] == IL_MARK_QUEUE_FAILED)
            {
              if (queue_wait)
                add_step (d, IL_STEP_SLEEP, queue_waited, FALSE);
              queue_wait = FALSE;
            }
          else
            {
              queue_wait = FALSE;
              add_queue_step (d, t->value[e] == IL_MARK_QUEUE_PUT, t->arg[e]);
            }
          continue;
        }
      if (t->kind[e] == IL_EVENT_MARK && !in_step && t->value[e] >= IL_MARK_SYNC_WAIT && sync_is_step (t->aux[e]))
        {
          /* A wait for a lock that becomes a step: the simulation makes
           * the wait, as it makes the wait for the GIL.  (A hold may end
           * at `to` itself.) */
          gboolean hold = FALSE;
          if (!hold_known)
            hold_steps (t, ev, k, il_trace_lane_lower_bound (t, lane, to + 1), &hold_ok);
          hold_known = TRUE;
          if (t->value[e] == IL_MARK_SYNC_WAIT || t->value[e] == IL_MARK_SYNC_ACQUIRED)
            hold = hold_step_pop (&hold_ok);
          if (t->value[e] == IL_MARK_SYNC_ACQUIRED)
            drop_wait = FALSE;  /* the wait ends when the lock is taken */
          if (t->value[e] == IL_MARK_SYNC_WAIT)
            drop_wait = hold;
          else if (t->value[e] == IL_MARK_SYNC_ACQUIRED && holds->len < 16 && hold)
            {
              add_state (d, cur, t->time[e] - at, in_step);
              at = t->time[e];
              hold_begin (d, holds, t->arg[e], t->aux[e]);
            }
          else if (t->value[e] == IL_MARK_SYNC_RELEASED && holds->len > 0
                   && g_array_index (holds, DHold, holds->len - 1).number == t->arg[e])
            {
              add_state (d, cur, t->time[e] - at, in_step);
              at = t->time[e];
              hold_end (d, holds);
            }
          continue;
        }
      if (t->kind[e] != IL_EVENT_STATE)
        continue;
      if (drop_wait && cur == IL_STATE_BLOCKED)
        ;
      else if (queue_wait && cur == IL_STATE_BLOCKED)
        queue_waited += t->time[e] - at;
      else if (!in_step && cur == IL_STATE_BLOCKED && t->aux[e] == IL_CAUSE_FUTURE && join_target (d, t->arg[e]) != NULL)
        {
          /* Woken by the end of the thread it joined: an await of it. */
          g_autoptr(GString) j = g_string_new ("{\"await\": ");
          json_str (j, join_target (d, t->arg[e])->name);
          g_string_append_c (j, '}');
          add_raw (d, j->str);
        }
      else
        add_state (d, cur, t->time[e] - at, in_step);
      cur = (IlState) t->value[e];
      at = t->time[e];
      /* The wait lasts until the lock is taken: a waiter that had the GIL
       * for a moment after its wait began (written late by the sampler on
       * a busy machine: it holds the GIL until the lock's C code lets go)
       * is still waiting for the lock afterwards, not for I/O.  Any other
       * state ends it (a wait that timed out). */
      if (cur != IL_STATE_BLOCKED && cur != IL_STATE_RUNNING && cur != IL_STATE_WAIT_GIL && cur != IL_STATE_READY)
        drop_wait = FALSE;
    }
  if (queue_wait && cur == IL_STATE_BLOCKED)
    queue_waited += to - at;
  else if (cur != IL_STATE_DONE)
    add_state (d, cur, to - at, in_step);
  /* Still waiting where the span ends: nobody served it while recorded. */
  if (queue_wait)
    add_step (d, IL_STEP_IO, queue_waited, in_step);
  d->in_c = FALSE;
  while (holds->len > 0)
    hold_end (d, holds);
  g_free (hold_ok.data);
}

/* Each semaphore's capacity, as the most threads seen holding it at once. */
static GHashTable *
semaphore_capacity (const IlTrace *t)
{
  GHashTable *cap = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) held = g_hash_table_new (NULL, NULL);

  for (gsize e = 0; e < t->n_events; e++)
    {
      gpointer key;
      gint n;
      if (t->kind[e] != IL_EVENT_MARK || t->aux[e] != IL_SYNC_SEMAPHORE
          || (t->value[e] != IL_MARK_SYNC_ACQUIRED && t->value[e] != IL_MARK_SYNC_RELEASED))
        continue;
      /* Marks are on a thread's lane and again on the work item it runs. */
      if (il_trace_get_lane (t, il_trace_event_lane (t, e))->kind == IL_LANE_TASK && e > 0 && t->kind[e - 1] == IL_EVENT_MARK
          && t->value[e - 1] == t->value[e] && t->arg[e - 1] == t->arg[e] && t->time[e - 1] == t->time[e])
        continue;
      key = GUINT_TO_POINTER (t->arg[e]);
      n = GPOINTER_TO_INT (g_hash_table_lookup (held, key)) + (t->value[e] == IL_MARK_SYNC_ACQUIRED ? 1 : -1);
      n = MAX (n, 0);
      g_hash_table_insert (held, key, GINT_TO_POINTER (n));
      if (n > GPOINTER_TO_INT (g_hash_table_lookup (cap, key)))
        g_hash_table_insert (cap, key, GINT_TO_POINTER (n));
    }
  return cap;
}

static gint
compare_numbers (gconstpointer a,
                 gconstpointer b,
                 gpointer      unused)
{
  guint x = GPOINTER_TO_UINT (*(gpointer const *) a), y = GPOINTER_TO_UINT (*(gpointer const *) b);
  return x < y ? -1 : x > y;
}

static gint64
lane_done_time (const IlTrace *t,
                guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;

  for (guint k = idx->len; k > 0; k--)
    if (t->kind[ev[k - 1]] == IL_EVENT_STATE && t->value[ev[k - 1]] == IL_STATE_DONE)
      return t->time[ev[k - 1]];
  return t->end_time;
}

static gint64
lane_first_time (const IlTrace *t,
                 guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;

  for (guint k = 0; k < idx->len; k++)
    if (t->kind[ev[k]] == IL_EVENT_STATE && t->value[ev[k]] != IL_STATE_NOT_STARTED)
      return t->time[ev[k]];
  return -1;
}

/* The time on a creator thread's own clock: `at` less the time it spent
 * before `at` waiting for the GIL, and inside Thread.start() while the new
 * thread waited for the GIL to come up (`starts` maps those BLOCKED spans,
 * by their first state event + 1, to the part of them that was not the
 * GIL's: the OS starting the thread).  The GIL's waits are the
 * simulation's to make where the mode has them. */
static gint64
creator_clock (const IlTrace *t,
               guint32        c,
               gint64         at,
               GHashTable    *starts)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, c);
  const guint32 *ev = (const guint32 *) (gpointer) idx->data;
  gint64 since = 0, lost = 0, keep = 0;
  gboolean lose = FALSE;

  for (guint k = 0; k < idx->len; k++)
    {
      gsize e = ev[k];
      gpointer os;
      if (t->kind[e] != IL_EVENT_STATE)
        continue;
      if (t->time[e] > at)
        break;
      if (lose)
        lost += MAX (0, t->time[e] - since - keep);
      lose = t->value[e] == IL_STATE_WAIT_GIL;
      keep = 0;
      if (t->value[e] == IL_STATE_BLOCKED
          && g_hash_table_lookup_extended (starts, GSIZE_TO_POINTER (e + 1), NULL, &os))
        lose = TRUE, keep = (gint64) GPOINTER_TO_SIZE (os);
      since = t->time[e];
    }
  return at - lost;
}

/* How long, over [from, to), another thread of the program (a started one
 * or the main thread) held the GIL of process `proc`; the "unregistered"
 * lane, a thread coming up or going away, does not count. */
static gint64
gil_busy (const IlTrace *t,
          guint32        proc,
          guint32        self,
          gint64         from,
          gint64         to)
{
  for (guint32 g = 0; g < il_trace_get_n_lanes (t); g++)
    {
      const IlLane *gl = il_trace_get_lane (t, g);
      const IlLaneIndex *idx;
      const guint32 *ev;
      guint32 holder;
      gint64 at = from, busy = 0;

      if (gl->kind != IL_LANE_GIL || gl->parent != proc)
        continue;
      idx = il_trace_get_lane_events (t, g);
      ev = (const guint32 *) (gpointer) idx->data;
      holder = il_trace_gil_holder_at (t, g, from);
      for (guint k = il_trace_lane_lower_bound (t, g, from + 1); k <= idx->len; k++)
        {
          gint64 next = k < idx->len ? MIN (t->time[ev[k]], to) : to;
          const IlLane *hl = holder != IL_NO_LANE && holder < il_trace_get_n_lanes (t) ? il_trace_get_lane (t, holder) : NULL;
          if (hl != NULL && holder != self && (hl->kind == IL_LANE_TASK || hl->index == 0))
            busy += next - at;
          at = next;
          if (k == idx->len || t->time[ev[k]] >= to)
            break;
          if (t->kind[ev[k]] == IL_EVENT_GIL_TAKE)
            holder = t->arg[ev[k]];
          else if (t->kind[ev[k]] == IL_EVENT_GIL_DROP)
            holder = IL_NO_LANE;
        }
      return busy;
    }
  return 0;
}

/* When a thread was started: Thread.start() blocks its caller on a lock
 * until the new thread first runs and sets its "started" event.  When the
 * GIL is busy the new thread's first run comes a switch interval or more
 * after the call, and the caller then waits for the GIL again before it
 * starts the next one; those waits are the simulation's to make (in
 * threads mode) and do not exist in the other modes, so the start is the
 * call on the creator's own clock (creator_clock) plus the time the OS
 * took to bring the thread up (the wait less the GIL's part).  The creator
 * is a thread of the same process blocked from before the first run until
 * a lock wakes it (who released the lock is not reliable: the recorder
 * names the GIL holder), each blocked span starting one thread.  Falls
 * back to the first run. */
static gint64
thread_spawn_time (const IlTrace *t,
                   guint32        lane,
                   gint64         first_run,
                   GHashTable    *starts)
{
  guint32 proc = il_trace_get_lane (t, lane)->parent;

  for (guint32 c = 0; c < il_trace_get_n_lanes (t); c++)
    {
      const IlLane *cl = il_trace_get_lane (t, c);
      const IlLaneIndex *idx;
      const guint32 *ev;
      gsize at = t->n_events;

      if (c == lane || cl->parent != proc || (cl->kind != IL_LANE_THREAD && cl->kind != IL_LANE_TASK))
        continue;
      if (il_trace_state_at (t, c, first_run - 1, &at) != IL_STATE_BLOCKED || at >= t->n_events
          || g_hash_table_contains (starts, GSIZE_TO_POINTER (at + 1)))
        continue;
      idx = il_trace_get_lane_events (t, c);
      ev = (const guint32 *) (gpointer) idx->data;
      for (guint k = il_trace_lane_lower_bound (t, c, first_run); k < idx->len; k++)
        {
          gsize e = ev[k];
          gint64 os;
          if (t->kind[e] != IL_EVENT_STATE)
            continue;
          if (t->aux[e] != IL_CAUSE_LOCK)
            break;
          os = MAX (0, first_run - t->time[at] - gil_busy (t, proc, lane, t->time[at], first_run));
          g_hash_table_insert (starts, GSIZE_TO_POINTER (at + 1), GSIZE_TO_POINTER ((gsize) os));
          return creator_clock (t, c, t->time[at], starts) + os;
        }
    }
  return first_run;
}

/* A pool work item: its first state came from the pool. */
static gboolean
is_pool_item (const IlTrace *t,
              guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;

  for (guint k = 0; k < idx->len; k++)
    if (t->kind[ev[k]] == IL_EVENT_STATE)
      return t->aux[ev[k]] == IL_CAUSE_POOL;
  return FALSE;
}

static DLane *
dlane (Derive  *d,
       guint32  lane)
{
  gpointer v = g_hash_table_lookup (d->by_lane, GUINT_TO_POINTER (lane));
  return v ? &g_array_index (d->lanes, DLane, GPOINTER_TO_UINT (v) - 1) : NULL;
}

static void item_body (Derive *d, DLane *item);

/* A work item of the thread that a worker process finished while the
 * thread waited over (from, to] (a future's result, a pool.map), not
 * claimed yet; NULL if none. */
static DLane *
process_item_in (Derive  *d,
                 guint32  lane,
                 gint64   from,
                 gint64   to)
{
  for (guint i = 0; i < d->lanes->len; i++)
    {
      DLane *c = &g_array_index (d->lanes, DLane, i);
      if (c->role == K_ITEM && c->in_child && !c->claimed && c->owner == lane && c->end > from && c->end <= to)
        return c;
    }
  return NULL;
}

/* The state event that ends the span holding event `ev` of `lane` (its
 * next state event), or -1 at the lane's end. */
static gint64
span_end (const IlTrace *t,
          guint32        lane,
          gsize          ev)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *e = (const guint32 *) (gpointer) idx->data;

  guint k = il_trace_lane_lower_bound (t, lane, t->time[ev]);

  while (k < idx->len && e[k] != ev)   /* past events at the same time before it */
    k++;
  for (k++; k < idx->len; k++)
    if (t->kind[e[k]] == IL_EVENT_STATE)
      return t->time[e[k]];
  return -1;
}

static int
cmp_item_end (gconstpointer a,
              gconstpointer b)
{
  const DLane *x = *(DLane * const *) a, *y = *(DLane * const *) b;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* How long the lane ran or slept over [from, to): its own work, not the
 * rest of a submit (which may wait for the GIL or write to the pool's
 * pipe before the wait for the result begins). */
static gint64
own_work (const IlTrace *t,
          guint32        lane,
          gint64         from,
          gint64         to)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;
  IlState cur = il_trace_state_at (t, lane, from, NULL);
  gint64 at = from, busy = 0;

  for (guint k = il_trace_lane_lower_bound (t, lane, from + 1); k < idx->len && at < to; k++)
    {
      gsize e = ev[k];
      gint64 next = MIN (t->time[e], to);
      if (t->kind[e] != IL_EVENT_STATE)
        continue;
      if (cur == IL_STATE_RUNNING || cur == IL_STATE_SLEEPING)
        busy += MAX (0, next - at);
      cur = (IlState) t->value[e];
      at = next;
    }
  if (at < to && (cur == IL_STATE_RUNNING || cur == IL_STATE_SLEEPING))
    busy += to - at;
  return busy;
}

/* The owner of each process item: a thread submits, then waits for the
 * result, and wakes when it comes back.  Of the threads waiting when the
 * item finished, in a wait that began before the worker picked it up (or
 * after, when the thread did not run or sleep 2 ms in between: the worker
 * may be quicker than the submitter, which on a busy machine may wait
 * milliseconds for the GIL before its wait for the result), the one that
 * woke first, preferring a wait that has no item yet (items in the order
 * they finished: two results back at once go to two waiters; the wait of
 * a pool.map covers all its items). */
static void
assign_process_items (Derive *d)
{
  const IlTrace *t = d->trace;
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  g_autoptr(GHashTable) used = g_hash_table_new (NULL, NULL);   /* wait's state event index + 1 */

  for (guint i = 0; i < d->lanes->len; i++)
    if (g_array_index (d->lanes, DLane, i).role == K_ITEM && g_array_index (d->lanes, DLane, i).in_child)
      g_ptr_array_add (items, &g_array_index (d->lanes, DLane, i));
  g_ptr_array_sort (items, cmp_item_end);

  for (guint i = 0; i < items->len; i++)
    {
      DLane *item = g_ptr_array_index (items, i);
      gint64 best_free = G_MAXINT64, best_any = G_MAXINT64;
      guint32 free_lane = IL_NO_LANE, any_lane = IL_NO_LANE;
      gsize free_ev = 0, any_ev = 0;

      for (guint j = 0; j < d->lanes->len; j++)
        {
          const DLane *th = &g_array_index (d->lanes, DLane, j);
          gsize at = t->n_events;
          IlState s;
          gint64 woke;
          if (th->role != K_THREAD || !th->include)
            continue;
          s = il_trace_state_at (t, th->lane, item->end, &at);
          if ((s != IL_STATE_BLOCKED && s != IL_STATE_WAIT_IO) || at >= t->n_events
              || own_work (t, th->lane, item->begin, t->time[at]) > IL_MSEC (2))
            continue;
          woke = span_end (t, th->lane, at);
          if (woke < 0)
            woke = G_MAXINT64 - 1;
          if (!g_hash_table_contains (used, GSIZE_TO_POINTER (at + 1)) && woke < best_free)
            best_free = woke, free_lane = th->lane, free_ev = at;
          if (woke < best_any)
            best_any = woke, any_lane = th->lane, any_ev = at;
        }
      item->owner = free_lane != IL_NO_LANE ? free_lane : any_lane;
      if (item->owner != IL_NO_LANE)
        g_hash_table_add (used, GSIZE_TO_POINTER ((free_lane != IL_NO_LANE ? free_ev : any_ev) + 1));
    }
}

/* A thread's steps; each wait during which a worker process ran an item
 * for it becomes a to_process of the item's body (the rest of the wait,
 * pickling and the result's way back, stays a wait).  Items in other
 * processes are what ProcessPoolExecutor.submit(...).result() from a
 * thread looks like. */
static void
thread_steps (Derive *d,
              DLane  *l)
{
  const IlTrace *t = d->trace;
  const IlLaneIndex *idx = il_trace_get_lane_events (t, l->lane);
  const guint32 *ev = (const guint32 *) (gpointer) idx->data;
  gint64 done = lane_done_time (t, l->lane), at = l->start, wait_from = -1;

  for (guint k = il_trace_lane_lower_bound (t, l->lane, l->start); k < idx->len && at < done; k++)
    {
      gsize e = ev[k];
      IlState s;
      if (t->kind[e] != IL_EVENT_STATE || t->time[e] >= done)
        continue;
      s = (IlState) t->value[e];
      if (s == IL_STATE_BLOCKED || s == IL_STATE_WAIT_IO)
        {
          if (wait_from < 0)
            wait_from = t->time[e];
          continue;
        }
      if (wait_from >= 0 && s != IL_STATE_WAIT_GIL)
        {
          DLane *item;
          gboolean first = TRUE;
          while ((item = process_item_in (d, l->lane, wait_from, t->time[e])) != NULL)
            {
              if (first)
                add_lane_states (d, l->lane, at, wait_from, FALSE);
              first = FALSE;
              item->claimed = TRUE;
              item_body (d, item);
              at = MAX (at, MIN (item->end, t->time[e]));
            }
          if (!first)
            /* The result's way back to the thread. */
            add_lane_states (d, l->lane, at, t->time[e], FALSE), at = t->time[e];
          wait_from = -1;
        }
    }
  add_lane_states (d, l->lane, at, done, FALSE);
}

/* Every task step, from the loops' callback begin/end events. */
static GHashTable *
collect_steps (const IlTrace *t)
{
  GHashTable *steps = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_array_unref);

  for (guint32 loop_lane = 0; loop_lane < il_trace_get_n_lanes (t); loop_lane++)
    {
      const IlLaneIndex *idx;
      const guint32 *ev;
      GArray *open = NULL;

      if (il_trace_get_lane (t, loop_lane)->kind != IL_LANE_LOOP)
        continue;
      idx = il_trace_get_lane_events (t, loop_lane);
      ev = idx->data;
      for (guint k = 0; k < idx->len; k++)
        {
          gsize e = ev[k];
          if (t->kind[e] == IL_EVENT_LOOP_CALLBACK && t->arg[e] != IL_NO_LANE)
            {
              GArray *a = g_hash_table_lookup (steps, GUINT_TO_POINTER (t->arg[e]));
              DStep st = { t->time[e], -1, loop_lane };
              if (a == NULL)
                {
                  a = g_array_new (FALSE, FALSE, sizeof (DStep));
                  g_hash_table_insert (steps, GUINT_TO_POINTER (t->arg[e]), a);
                }
              g_array_append_val (a, st);
              open = a;
            }
          else if (t->kind[e] == IL_EVENT_LOOP_CALLBACK_END && open != NULL)
            {
              g_array_index (open, DStep, open->len - 1).end = t->time[e];
              open = NULL;
            }
        }
    }
  return steps;
}

/* Time the loop last returned from select before the iteration that ran a
 * step at `t` began: when the callback that woke the task ran. */
static gint64
wake_time (const IlTrace *t,
           guint32        loop_lane,
           gint64         at)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, loop_lane);
  const guint32 *ev = idx->data;
  guint seen = 0;

  for (guint k = il_trace_lane_lower_bound (t, loop_lane, at + 1); k > 0; k--)
    if (t->kind[ev[k - 1]] == IL_EVENT_LOOP_SELECT_END && ++seen == 2)
      return t->time[ev[k - 1]];
  return -1;
}

static void
item_body (Derive *d,
           DLane  *item)
{
  Derive sub = { d->trace, d->lanes, d->steps, d->by_lane,
                 g_string_new (item->in_child ? "{\"to_process\": [" : "{\"to_thread\": ["),
                 g_array_new (FALSE, FALSE, sizeof (DOut)), -1, FALSE, FALSE, 0,
                 d->capacity, d->limits_used, d->queues_on, d->queue_written, d->queue_bad, TRUE };

  add_lane_states (&sub, item->lane, item->begin, item->end, FALSE);
  if (write_steps (&sub) == 0)
    g_string_append (sub.out, "{\"cpu\": 0.001}");
  g_string_append (sub.out, "]}");
  add_raw (d, sub.out->str);
  g_string_free (sub.out, TRUE);
  g_array_unref (sub.list);
}

/* Whether task `c` was created while a step of task `l` ran. */
static gboolean
created_by (Derive      *d,
            const DLane *l,
            const DLane *c)
{
  GArray *steps = g_hash_table_lookup (d->steps, GUINT_TO_POINTER (l->lane));

  for (guint k = 0; steps != NULL && k < steps->len; k++)
    {
      const DStep *st = &g_array_index (steps, DStep, k);
      if (st->begin <= c->start && (st->end < 0 || c->start <= st->end))
        return TRUE;
    }
  return FALSE;
}

/* A task blocked on a future that no task resolved directly (gather,
 * wait, a TaskGroup): when tasks it created finished while it waited and
 * the last of them just before it woke, it waited for them; writes an
 * await of each, in the order they finished, and says whether it did. */
typedef struct {
  gint64 finish;
  guint  index;   /* in Derive.lanes */
} DFinish;

static int
cmp_finish (gconstpointer a,
            gconstpointer b)
{
  const DFinish *x = a, *y = b;
  return x->finish < y->finish ? -1 : x->finish > y->finish;
}

static gboolean
add_gathered_awaits (Derive *d,
                     DLane  *l,
                     gint64  from,
                     gint64  woke)
{
  g_autoptr(GArray) done = g_array_new (FALSE, FALSE, sizeof (DFinish));
  gint64 last = -1;

  for (guint i = 0; i < d->lanes->len; i++)
    {
      DLane *c = &g_array_index (d->lanes, DLane, i);
      DFinish f;
      if (c == l || !c->include || c->role != K_ASYNC)
        continue;
      f.finish = lane_done_time (d->trace, c->lane);
      f.index = i;
      if (f.finish <= from || f.finish > woke || !created_by (d, l, c))
        continue;
      g_array_append_val (done, f);
      last = MAX (last, f.finish);
    }
  /* The awaiter wakes an iteration or two after the last one ends. */
  if (done->len == 0 || woke - last > IL_MSEC (2))
    return FALSE;
  g_array_sort (done, cmp_finish);
  for (guint k = 0; k < done->len; k++)
    {
      g_autoptr(GString) s = g_string_new ("{\"await\": ");
      json_str (s, g_array_index (d->lanes, DLane, g_array_index (done, DFinish, k).index).name);
      g_string_append_c (s, '}');
      add_raw (d, s->str);
    }
  return TRUE;
}

/* The first put or get over [from, to) of a queue with steps on the
 * lane, or -1. */
static gint64
first_queue_op (Derive  *d,
                guint32  lane,
                gint64   from,
                gint64   to)
{
  const IlTrace *t = d->trace;
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;

  for (guint k = il_trace_lane_lower_bound (t, lane, from); k < idx->len && t->time[ev[k]] < to; k++)
    if (t->kind[ev[k]] == IL_EVENT_MARK && t->aux[ev[k]] == IL_SYNC_QUEUE
        && (t->value[ev[k]] == IL_MARK_QUEUE_PUT || t->value[ev[k]] == IL_MARK_QUEUE_GET)
        && queue_is_step (d, t->arg[ev[k]]))
      return t->time[ev[k]];
  return -1;
}

/* Whether the last queue call of the lane over [from, to] was a wait on
 * a queue with steps (an asyncio task's get on an empty or put on a full
 * queue). */
static gboolean
step_ends_in_queue_wait (Derive  *d,
                         guint32  lane,
                         gint64   from,
                         gint64   to)
{
  const IlTrace *t = d->trace;
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *ev = idx->data;
  gboolean waits = FALSE;

  for (guint k = il_trace_lane_lower_bound (t, lane, from); k < idx->len && t->time[ev[k]] <= to; k++)
    if (t->kind[ev[k]] == IL_EVENT_MARK && t->aux[ev[k]] == IL_SYNC_QUEUE)
      waits = t->value[ev[k]] == IL_MARK_SYNC_WAIT && queue_is_step (d, t->arg[ev[k]]);
  return waits;
}

static void
async_steps (Derive *d,
             DLane  *l)
{
  const IlTrace *t = d->trace;
  GArray *steps = g_hash_table_lookup (d->steps, GUINT_TO_POINTER (l->lane));
  gint64 prev_end = -1, prev_begin = -1;
  IlState prev_state = IL_STATE_READY;

  for (guint k = 0; steps != NULL && k < steps->len; k++)
    {
      const DStep *st = &g_array_index (steps, DStep, k);
      gint64 begin = st->begin;
      gint64 end = st->end >= 0 ? st->end : lane_done_time (t, l->lane);
      gsize start_ev = t->n_events;
      IlCause cause;
      guint32 by;

      il_trace_state_at (t, l->lane, begin, &start_ev);
      cause = start_ev < t->n_events ? (IlCause) t->aux[start_ev] : IL_CAUSE_NONE;
      by = start_ev < t->n_events ? t->arg[start_ev] : IL_NO_LANE;

      if (prev_end >= 0)
        {
          /* The worker may pick the item up before the submitting step
           * ends, and record its end after the task it woke has run. */
          DLane *w = by != IL_NO_LANE ? dlane (d, by) : NULL;
          gint64 wake = wake_time (t, st->loop_lane, begin);
          DLane *item = NULL;

          for (guint i = 0; i < d->lanes->len && cause != IL_CAUSE_FUTURE && prev_state != IL_STATE_SLEEPING; i++)
            {
              DLane *c = &g_array_index (d->lanes, DLane, i);
              if (c->role == K_ITEM && !c->claimed && c->begin >= prev_begin && c->begin <= begin)
                {
                  item = c;
                  break;
                }
            }
          if (cause == IL_CAUSE_FUTURE && w != NULL && w->include && w != l)
            {
              g_autoptr(GString) s = g_string_new ("{\"await\": ");
              json_str (s, w->name);
              g_string_append_c (s, '}');
              add_raw (d, s->str);
            }
          else if (prev_state == IL_STATE_BLOCKED && step_ends_in_queue_wait (d, l->lane, prev_begin, prev_end)
                   && first_queue_op (d, l->lane, begin, end) >= 0)
            ;  /* awaited asyncio.Queue's get or put: the put / get of the step it woke for waits in the simulation */
          else if (prev_state == IL_STATE_BLOCKED && add_gathered_awaits (d, l, prev_end, begin))
            ;
          else if (item != NULL)
            {
              item->claimed = TRUE;
              item_body (d, item);
            }
          else if (prev_state == IL_STATE_SLEEPING)
            {
              /* asyncio.sleep: asleep until its timer fired (the next state). */
              gsize k2 = il_trace_lane_lower_bound (t, l->lane, prev_end + 1);
              const IlLaneIndex *ix = il_trace_get_lane_events (t, l->lane);
              const guint32 *ev = ix->data;
              gint64 fired = begin;
              for (; k2 < ix->len; k2++)
                if (t->kind[ev[k2]] == IL_EVENT_STATE)
                  {
                    fired = MIN (t->time[ev[k2]], begin);
                    break;
                  }
              add_step (d, IL_STEP_SLEEP, fired - prev_end, FALSE);
            }
          else if (prev_state == IL_STATE_READY || wake <= prev_end)
            add_raw (d, "{\"yield\": true}");
          else
            add_step (d, cause == IL_CAUSE_IO ? IL_STEP_IO : IL_STEP_SLEEP, wake - prev_end, FALSE);
        }
      add_lane_states (d, l->lane, begin, end, TRUE);
      prev_end = end;
      prev_begin = begin;
      prev_state = il_trace_state_at (t, l->lane, end, NULL);
    }
}

/* asyncio.run() ends with tasks of its own (shutting down async generators
 * and the default executor): created after every task before them had
 * finished, over in well under a millisecond.  In the recording they
 * start when the program's work ended; in another mode, where the work
 * ends sooner or later, that recorded start would pin the makespan. */
static void
drop_shutdown_tasks (Derive *d)
{
  for (guint i = 0; i < d->lanes->len; i++)
    {
      DLane *l = &g_array_index (d->lanes, DLane, i);
      gboolean after_all = TRUE;
      if (l->role != K_ASYNC || !l->include || lane_done_time (d->trace, l->lane) - l->start >= IL_MSEC (1))
        continue;
      for (guint j = 0; j < d->lanes->len && after_all; j++)
        {
          const DLane *o = &g_array_index (d->lanes, DLane, j);
          if (o != l && o->role == K_ASYNC && o->include && o->start <= l->start)
            after_all = lane_done_time (d->trace, o->lane) <= l->start;
        }
      if (after_all)
        l->include = FALSE;
    }
}

/* Whether the main process's started threads (task lanes that are
 * neither asyncio tasks nor pool items) waited for the work items its
 * worker processes ran: for each item, some thread was waiting when it
 * ended.  (The main thread's own pool.map beside a thread that does
 * something else stays a pool of processes.) */
static gboolean
threads_use_process_pool (const IlTrace *t)
{
  guint32 main_proc = IL_NO_LANE;
  g_autoptr(GArray) threads = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint32 i = 0; i < il_trace_get_n_lanes (t); i++)
    {
      const IlLane *lane = il_trace_get_lane (t, i);
      const IlLaneIndex *idx = il_trace_get_lane_events (t, i);
      const guint32 *ev = (const guint32 *) (gpointer) idx->data;

      if (lane->kind == IL_LANE_PROCESS && main_proc == IL_NO_LANE)
        main_proc = i;
      if (lane->kind != IL_LANE_TASK || main_proc == IL_NO_LANE || idx->len == 0)
        continue;
      if (is_pool_item (t, i))
        {
          if (lane->parent != main_proc)
            g_array_append_val (items, i);
        }
      else if (lane->parent == main_proc
               && !(t->kind[ev[0]] == IL_EVENT_MARK && t->value[ev[0]] == IL_MARK_TASK_CREATED))
        g_array_append_val (threads, i);
    }
  if (threads->len == 0 || items->len == 0)
    return FALSE;
  for (guint k = 0; k < items->len; k++)
    {
      gint64 end = lane_done_time (t, g_array_index (items, guint32, k));
      gboolean waited = FALSE;
      for (guint j = 0; j < threads->len && !waited; j++)
        {
          IlState s = il_trace_state_at (t, g_array_index (threads, guint32, j), end, NULL);
          waited = s == IL_STATE_BLOCKED || s == IL_STATE_WAIT_IO;
        }
      if (!waited)
        return FALSE;
    }
  return TRUE;
}

static char *
derive_once (const IlTrace  *trace,
             const char     *title,
             GHashTable     *queues_on,
             GHashTable     *queue_written,
             GHashTable     *queue_bad,
             GError        **error)
{
  g_autofree char *mode_s = NULL, *interval_s = NULL, *workers_s = NULL, *cores_s = NULL, *method_s = NULL;
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal); /* keys owned by d.lanes */
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(IlScenario) check = NULL;
  Derive d = { 0 };
  IlMode mode = IL_MODE_SEQUENTIAL;
  guint32 main_proc = IL_NO_LANE;
  gint64 running_main = 0, first_thread = -1;
  guint workers = 0, n_included = 0, n_process_items = 0;
  const IlTrace *t = trace;
  g_autofree char *child_method = NULL;
  g_autoptr(GHashTable) child_seen = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) starts = g_hash_table_new (NULL, NULL);   /* Thread.start() spans, see creator_clock */
  IlParams params;

  g_return_val_if_fail (trace != NULL, NULL);
  il_params_init_defaults (&params);
  mode_s = il_recording_meta_get (trace, "mode");
  if (mode_s == NULL || !il_mode_from_string (mode_s, &mode))
    {
      g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_FORMAT,
                   "not a recording of a Python program (no recording facts)");
      return NULL;
    }
  interval_s = il_recording_meta_get (trace, "switch_interval_us");
  workers_s = il_recording_meta_get (trace, "thread_pool_workers");
  cores_s = il_recording_meta_get (trace, "cores");
  method_s = il_recording_meta_get (trace, "start_method");

  d.trace = trace;
  d.lanes = g_array_new (FALSE, TRUE, sizeof (DLane));
  d.by_lane = g_hash_table_new (NULL, NULL);
  d.steps = collect_steps (trace);
  d.out = out;
  d.list = g_array_new (FALSE, FALSE, sizeof (DOut));
  d.pend_kind = -1;
  d.capacity = semaphore_capacity (trace);
  d.limits_used = g_hash_table_new (NULL, NULL);
  d.queues_on = queues_on;
  d.queue_written = queue_written;
  d.queue_bad = queue_bad;

  /* Threads that hand work to a process pool: a threads program whose
   * waits are to_process hand-offs, not a pool of processes. */
  if (mode == IL_MODE_PROCESSES && threads_use_process_pool (t))
    mode = IL_MODE_THREADS;

  /* Classify the lanes. */
  for (guint32 i = 0; i < il_trace_get_n_lanes (t); i++)
    {
      const IlLane *lane = il_trace_get_lane (t, i);
      const IlLaneIndex *idx = il_trace_get_lane_events (t, i);
      const guint32 *ev = idx->data;
      DLane dl = { i, K_THREAD, NULL, -1, -1, -1, FALSE, FALSE };

      if (lane->kind == IL_LANE_PROCESS && main_proc == IL_NO_LANE)
        main_proc = i;
      if (lane->kind == IL_LANE_TASK && lane->parent != main_proc && lane->parent != IL_NO_LANE
          && !g_hash_table_contains (child_seen, GUINT_TO_POINTER (lane->parent)) && !is_pool_item (t, i))
        {
          /* A child process's first task lane is its main thread: the
           * process's work.  It was created its start cost before its
           * interpreter came up and recorded anything. */
          const char *pname = il_trace_get_lane (t, lane->parent)->name;
          const char *open = strrchr (pname, ',');
          g_autofree char *method = NULL;
          IlStartMethod m;
          if (open == NULL)
            open = strrchr (pname, '(');
          if (open != NULL)
            {
              open++;
              while (*open == ' ')
                open++;
              method = g_strndup (open, strcspn (open, ")"));
            }
          g_hash_table_add (child_seen, GUINT_TO_POINTER (lane->parent));
          dl.role = K_PROCESS;
          if (method != NULL && start_method_from_name (method, &m))
            {
              dl.start = MAX (0, lane_first_time (t, i) - params.process_start_cost[m]);
              if (child_method == NULL)
                child_method = g_strdup (method);
            }
        }
      else if (lane->kind == IL_LANE_THREAD && lane->parent == main_proc && lane->index == 0)
        dl.role = K_THREAD; /* the main thread: decided below */
      else if (lane->kind != IL_LANE_TASK
               || (lane->parent != main_proc && mode != IL_MODE_PROCESSES && !is_pool_item (t, i)))
        continue;
      else
        for (guint k = 0; k < idx->len; k++)
          {
            gsize e = ev[k];
            if (t->kind[e] == IL_EVENT_MARK && t->value[e] == IL_MARK_TASK_CREATED)
              {
                dl.role = K_ASYNC;
                dl.start = t->time[e];
                break;
              }
            if (t->kind[e] == IL_EVENT_STATE)
              {
                if (t->aux[e] == IL_CAUSE_POOL)
                  dl.role = K_ITEM;
                break;
              }
          }
      if (dl.start < 0)
        dl.start = lane_first_time (t, i);
      if (dl.start < 0)
        continue;
      if (dl.role == K_THREAD && lane->kind == IL_LANE_TASK)
        dl.start = thread_spawn_time (t, i, dl.start, starts);
      if (dl.role == K_ITEM)
        {
          dl.begin = dl.start;
          dl.end = lane_done_time (t, i);
        }
      /* Work items run by process-pool workers. */
      dl.in_child = dl.role == K_ITEM && lane->parent != main_proc;
      if (dl.in_child)
        n_process_items++;
      dl.include = (mode == IL_MODE_ASYNCIO && (dl.role == K_ASYNC))
                   || (mode == IL_MODE_THREADS && ((dl.role == K_ITEM && !dl.in_child)
                                                   || (dl.role == K_THREAD && lane->kind == IL_LANE_TASK)))
                   || (mode == IL_MODE_PROCESSES && (dl.role == K_PROCESS || dl.role == K_ITEM));
      if (dl.role == K_THREAD && lane->kind == IL_LANE_TASK && (first_thread < 0 || dl.start < first_thread))
        first_thread = dl.start;
      g_array_append_val (d.lanes, dl);
      g_hash_table_insert (d.by_lane, GUINT_TO_POINTER (i), GUINT_TO_POINTER (d.lanes->len));
    }

  /* The main thread is a task when it computes beside the threads (a
   * quarter of its time or more; its joins would otherwise be waits). */
  if (mode == IL_MODE_THREADS && first_thread >= 0)
    for (guint i = 0; i < d.lanes->len; i++)
      {
        DLane *l = &g_array_index (d.lanes, DLane, i);
        const IlLane *lane = il_trace_get_lane (t, l->lane);
        if (lane->kind != IL_LANE_THREAD || l->role != K_THREAD)
          continue;
        {
          gint64 done = lane_done_time (t, l->lane);
          IlState s = il_trace_state_at (t, l->lane, first_thread, NULL);
          gsize k0 = il_trace_lane_lower_bound (t, l->lane, first_thread);
          const IlLaneIndex *idx = il_trace_get_lane_events (t, l->lane);
          const guint32 *ev = idx->data;
          gint64 at = first_thread;
          for (gsize k = k0; k < idx->len; k++)
            {
              gsize e = ev[k];
              if (t->kind[e] != IL_EVENT_STATE)
                continue;
              if (s == IL_STATE_RUNNING)
                running_main += t->time[e] - at;
              s = (IlState) t->value[e];
              at = t->time[e];
            }
          if (running_main * 4 > done - first_thread && running_main > IL_MSEC (5))
            {
              l->include = TRUE;
              l->start = first_thread;
            }
          /* …or when it puts or gets items the threads get or put (a
           * producer feeding workers), from its first such call. */
          if (first_queue_op (&d, l->lane, 0, G_MAXINT64) >= 0)
            {
              l->include = TRUE;
              l->start = MIN (first_thread, first_queue_op (&d, l->lane, 0, G_MAXINT64));
            }
        }
      }

  if (n_process_items > 0 && mode != IL_MODE_PROCESSES)
    assign_process_items (&d);
  if (mode == IL_MODE_ASYNCIO)
    drop_shutdown_tasks (&d);

  /* Unique names, as the program named them. */
  for (guint i = 0; i < d.lanes->len; i++)
    {
      DLane *l = &g_array_index (d.lanes, DLane, i);
      const char *base = il_trace_get_lane (t, l->lane)->name;
      char *name = g_strdup (base);
      for (guint n = 2; g_hash_table_contains (names, name); n++)
        {
          g_free (name);
          name = g_strdup_printf ("%s (%u)", base, n);
        }
      g_hash_table_add (names, name);
      l->name = name;
    }

  if (mode == IL_MODE_THREADS)
    for (guint i = 0; i < d.lanes->len; i++)
      if (g_array_index (d.lanes, DLane, i).role == K_ITEM && !g_array_index (d.lanes, DLane, i).in_child)
        workers = workers_s ? (guint) g_ascii_strtoull (workers_s, NULL, 10) : 0;
  /* Work items of a process pool run in a pool of its size; without
   * them each recorded child process is one task in its own process. */
  if (n_process_items > 0 && mode == IL_MODE_PROCESSES)
    {
      g_autofree char *pw = il_recording_meta_get (trace, "process_pool_workers");
      workers = pw != NULL ? (guint) g_ascii_strtoull (pw, NULL, 10) : 0;
      for (guint i = 0; i < d.lanes->len; i++)
        if (g_array_index (d.lanes, DLane, i).role == K_PROCESS)
          g_array_index (d.lanes, DLane, i).include = FALSE;
    }
  /* The pool's own start method, else how its children were started. */
  if (child_method != NULL && method_s == NULL)
    {
      g_free (method_s);
      method_s = g_steal_pointer (&child_method);
    }

  g_string_append (out, "{\n  \"title\": ");
  json_str (out, title ? title : "Derived from a recording");
  g_string_append (out, ",\n  \"description\": ");
  {
    g_autofree char *program = il_recording_meta_get (trace, "program");
    g_autofree char *version = il_recording_meta_get (trace, "python");
    g_autofree char *desc = g_strdup_printf ("The workload of %s as CPython %s ran it, derived by interleave-cli derive.",
                                             program ? program : "a recorded program", version ? version : "");
    json_str (out, desc);
  }
  g_string_append_printf (out, ",\n  \"mode\": \"%s\",\n  \"cores\": %u,\n  \"workers\": %u,\n  \"switch_interval_ms\": ",
                          il_mode_to_string (mode),
                          cores_s ? CLAMP ((guint) g_ascii_strtoull (cores_s, NULL, 10), 1u, IL_SCENARIO_MAX_CORES) : 2,
                          MIN (workers, IL_SCENARIO_MAX_WORKERS));
  json_ms (out, interval_s ? (gint64) g_ascii_strtoll (interval_s, NULL, 10) * IL_NSEC_PER_USEC : IL_MSEC (5));
  if (method_s != NULL && (g_str_equal (method_s, "fork") || g_str_equal (method_s, "spawn")
                           || g_str_equal (method_s, "forkserver")))
    g_string_append_printf (out, ",\n  \"start_method\": \"%s\"", method_s);
  g_string_append (out, ",\n  \"tasks\": [");

  for (guint i = 0; i < d.lanes->len; i++)
    {
      DLane *l = &g_array_index (d.lanes, DLane, i);
      if (!l->include || l->claimed)
        continue;
      g_string_append (out, n_included++ ? ",\n    { \"name\": " : "\n    { \"name\": ");
      json_str (out, l->name);
      g_string_append (out, ", \"start\": ");
      json_ms (out, MAX (l->start, 0));
      g_string_append (out, ", \"steps\": [");
      d.pend_kind = -1;
      if (l->role == K_ASYNC)
        async_steps (&d, l);
      else
        thread_steps (&d, l);
      if (write_steps (&d) == 0)
        g_string_append (out, "{\"cpu\": 0.001}");
      g_string_append (out, "] }");
    }
  g_string_append (out, "\n  ]");
  if (g_hash_table_size (d.limits_used) > 0)
    {
      /* The semaphores' capacities, in the order they are numbered. */
      g_autofree gpointer *used = g_hash_table_get_keys_as_array (d.limits_used, NULL);
      guint n = g_hash_table_size (d.limits_used);
      g_qsort_with_data (used, (gint) n, sizeof (gpointer), compare_numbers, NULL);
      g_string_append (out, ",\n  \"limits\": {");
      for (guint i = 0; i < n; i++)
        g_string_append_printf (out, "%s\"semaphore-%u\": %d", i > 0 ? ", " : "", GPOINTER_TO_UINT (used[i]),
                                MAX (1, GPOINTER_TO_INT (g_hash_table_lookup (d.capacity, used[i]))));
      g_string_append_c (out, '}');
    }
  if (g_hash_table_size (queue_written) > 0)
    {
      /* The queues, in the order they are numbered, with their maxsize. */
      g_autofree gpointer *used = g_hash_table_get_keys_as_array (queue_written, NULL);
      guint n = g_hash_table_size (queue_written);
      g_qsort_with_data (used, (gint) n, sizeof (gpointer), compare_numbers, NULL);
      g_string_append (out, ",\n  \"queues\": {");
      for (guint i = 0; i < n; i++)
        g_string_append_printf (out, "%s\"queue-%u\": %u", i > 0 ? ", " : "", GPOINTER_TO_UINT (used[i]),
                                GPOINTER_TO_UINT (g_hash_table_lookup (queues_on, used[i])) - 1);
      g_string_append_c (out, '}');
    }
  g_string_append (out, "\n}\n");
  g_hash_table_unref (d.capacity);
  g_hash_table_unref (d.limits_used);

  for (guint i = 0; i < d.lanes->len; i++)
    g_free (g_array_index (d.lanes, DLane, i).name);
  g_array_unref (d.lanes);
  g_hash_table_unref (d.by_lane);
  g_hash_table_unref (d.steps);
  g_array_unref (d.list);

  if (n_included == 0)
    {
      g_set_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_EMPTY,
                   "the recording shows no threads, tasks or processes to derive a workload from");
      return NULL;
    }
  /* What we write must load. */
  check = il_scenario_load_data (out->str, (gssize) out->len, "derived scenario", error);
  if (check == NULL)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Queues whose every put and get the recording saw (queue_list: NUMBER:
 * MAXSIZE:OPS) become the scenario's queues, their calls put / get steps.
 * A queue some of whose calls are not in the scenario's tasks (made by a
 * helper thread, before a thread's start, in a to_thread body) keeps its
 * waits as waits of their length: put / get steps on it would wait for
 * items that never come.  So a scenario is derived, the queues whose
 * steps do not add up are dropped, and it is derived again. */
char *
il_derive_scenario_json (const IlTrace  *trace,
                         const char     *title,
                         GError        **error)
{
  g_autoptr(GHashTable) queues_on = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) ops = g_hash_table_new (NULL, NULL);
  g_autofree char *list = NULL;

  g_return_val_if_fail (trace != NULL, NULL);
  list = il_recording_meta_get (trace, "queue_list");
  if (list != NULL && *list != '\0')
    {
      g_auto(GStrv) items = g_strsplit (list, ",", -1);
      for (guint i = 0; items[i] != NULL && g_hash_table_size (queues_on) < IL_SCENARIO_MAX_QUEUES; i++)
        {
          guint64 number = 0, maxsize = 0, n = 0;
          char *end = items[i];
          number = g_ascii_strtoull (end, &end, 10);
          if (*end++ != ':')
            continue;
          maxsize = g_ascii_strtoull (end, &end, 10);
          if (*end++ != ':')
            continue;
          n = g_ascii_strtoull (end, &end, 10);
          if (*end != '\0' || number == 0 || number > G_MAXUINT32 || n == 0 || n > G_MAXUINT32)
            continue;
          g_hash_table_insert (queues_on, GUINT_TO_POINTER ((guint) number),
                               GUINT_TO_POINTER ((guint) MIN (maxsize, IL_SCENARIO_MAX_QUEUE_SIZE) + 1));
          g_hash_table_insert (ops, GUINT_TO_POINTER ((guint) number), GUINT_TO_POINTER ((guint) n));
        }
    }

  for (;;)
    {
      g_autoptr(GHashTable) written = g_hash_table_new (NULL, NULL);
      g_autoptr(GHashTable) bad = g_hash_table_new (NULL, NULL);
      g_autofree gpointer *numbers = NULL;
      guint n = 0, dropped = 0;
      char *json = derive_once (trace, title, queues_on, written, bad, error);

      if (json == NULL)
        return NULL;
      numbers = g_hash_table_get_keys_as_array (queues_on, &n);
      for (guint i = 0; i < n; i++)
        if (g_hash_table_contains (bad, numbers[i])
            || g_hash_table_lookup (written, numbers[i]) != g_hash_table_lookup (ops, numbers[i]))
          {
            g_hash_table_remove (queues_on, numbers[i]);
            dropped++;
          }
      if (dropped == 0)
        return json;
      g_free (json);
    }
}
