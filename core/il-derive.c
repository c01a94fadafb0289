/* il-derive.c — a scenario of the workload a recording shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Which lanes become tasks depends on what the program was:
 *  - asyncio: every task; a step is what ran between the loop's callback
 *    begin and end (its GIL-holding time is CPU, a blocking call inside it
 *    a blocking sleep or I/O); between steps the task waited for the task
 *    that woke it ("await"), yielded, handed work to a thread ("to_thread",
 *    matched with the pool work item that ran in that gap), or waited for
 *    a timer or I/O until the loop iteration that woke it;
 *  - threads: every thread the program started, and its pool work items
 *    (with the pool's size as "workers"); the main thread too when it
 *    computes beside them;
 *  - processes: every child process, by what its main thread did.
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
  gboolean claimed;     /* an item used as a to_thread body */
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
  gint64         pend_dur;
} Derive;


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
  static const char *names[] = { [IL_STEP_CPU] = "cpu", [IL_STEP_IO] = "io", [IL_STEP_SLEEP] = "sleep" };

  if (o->kind < 0)
    {
      g_string_append (out, o->raw);
      return;
    }
  g_string_append_printf (out, "{\"%s\": ", names[o->kind]);
  json_ms (out, MAX (dur, IL_USEC (1)));
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
      add_step (d, IL_STEP_CPU, dur, FALSE);
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

  for (guint k = il_trace_lane_lower_bound (t, lane, from + 1); k < idx->len; k++)
    {
      gsize e = ev[k];
      if (t->time[e] >= to)
        break;
      if (t->kind[e] != IL_EVENT_STATE)
        continue;
      if (!in_step && cur == IL_STATE_BLOCKED && t->aux[e] == IL_CAUSE_FUTURE && join_target (d, t->arg[e]) != NULL)
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
    }
  if (cur != IL_STATE_DONE)
    add_state (d, cur, to - at, in_step);
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

static void
thread_steps (Derive *d,
              DLane  *l)
{
  add_lane_states (d, l->lane, l->start, lane_done_time (d->trace, l->lane), FALSE);
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
  Derive sub = { d->trace, d->lanes, d->steps, d->by_lane, g_string_new ("{\"to_thread\": ["),
                 g_array_new (FALSE, FALSE, sizeof (DOut)), -1, FALSE, 0 };

  add_lane_states (&sub, item->lane, item->begin, item->end, FALSE);
  if (write_steps (&sub) == 0)
    g_string_append (sub.out, "{\"cpu\": 0.001}");
  g_string_append (sub.out, "]}");
  add_raw (d, sub.out->str);
  g_string_free (sub.out, TRUE);
  g_array_unref (sub.list);
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

          for (guint i = 0; i < d->lanes->len && cause != IL_CAUSE_FUTURE; i++)
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

char *
il_derive_scenario_json (const IlTrace  *trace,
                         const char     *title,
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
      else if (lane->kind != IL_LANE_TASK || (lane->parent != main_proc && mode != IL_MODE_PROCESSES))
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
      if (dl.role == K_ITEM)
        {
          dl.begin = dl.start;
          dl.end = lane_done_time (t, i);
        }
      /* Work items run by process-pool workers. */
      if (dl.role == K_ITEM && lane->parent != main_proc)
        n_process_items++;
      dl.include = (mode == IL_MODE_ASYNCIO && (dl.role == K_ASYNC))
                   || (mode == IL_MODE_THREADS && (dl.role == K_ITEM || (dl.role == K_THREAD && lane->kind == IL_LANE_TASK)))
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
        }
      }

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
      if (g_array_index (d.lanes, DLane, i).role == K_ITEM)
        workers = workers_s ? (guint) g_ascii_strtoull (workers_s, NULL, 10) : 0;
  /* Work items of a process pool run in a pool of its size; without
   * them each recorded child process is one task in its own process. */
  if (n_process_items > 0)
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
  g_string_append (out, "\n  ]\n}\n");

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
