/* il-lesson.c — evaluate a lesson's "check" against simulated runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-lesson.h"

#include "il-compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "il-engine.h"
#include "il-stats.h"

typedef enum {
  M_MAKESPAN, M_SPEEDUP, M_UTILISATION, M_SWITCHES, M_DROP_REQUESTS, M_ITERATIONS,
  M_START, M_FINISH, M_CPU, M_GIL_WAIT, M_IO_WAIT, M_SLEEPING, M_READY, M_BLOCKED, M_OUTCOME,
  M_STARTING, M_SLICES, M_FORCED_SWITCHES, M_PARALLEL, M_IN_SELECT, M_MAX_QUEUE_DEPTH,
  M_MAX_CALLBACK, M_PEAK, M_TOTAL, M_HANDOFFS, M_QUEUE_PEAK, M_PUT_WAITS, M_GET_WAITS,
  N_METRICS
} Metric;

/* What a metric takes before its optional mode. */
typedef enum {
  ARG_NONE,
  ARG_TASK,       /* a task name */
  ARG_STATE,      /* a state nick, '-' or '_': running, ready, wait_gil, wait_io, sleeping, blocked, starting… */
  ARG_TWO_TASKS,  /* two task names */
  ARG_QUEUE,      /* a queue name (the scenario's "queues") */
} ArgKind;

static const struct {
  const char *name;
  ArgKind     arg;
} metrics[N_METRICS] = {
  [M_MAKESPAN] = { "makespan", ARG_NONE },
  [M_SPEEDUP] = { "speedup", ARG_NONE },
  [M_UTILISATION] = { "utilisation", ARG_NONE },
  [M_SWITCHES] = { "switches", ARG_NONE },
  [M_DROP_REQUESTS] = { "drop_requests", ARG_NONE },
  [M_ITERATIONS] = { "iterations", ARG_NONE },
  [M_START] = { "start", ARG_TASK },
  [M_FINISH] = { "finish", ARG_TASK },
  [M_CPU] = { "cpu", ARG_TASK },
  [M_GIL_WAIT] = { "gil_wait", ARG_TASK },
  [M_IO_WAIT] = { "io_wait", ARG_TASK },
  [M_SLEEPING] = { "sleeping", ARG_TASK },
  [M_READY] = { "ready", ARG_TASK },
  [M_BLOCKED] = { "blocked", ARG_TASK },
  [M_OUTCOME] = { "outcome", ARG_TASK },
  [M_STARTING] = { "starting", ARG_TASK },
  [M_SLICES] = { "slices", ARG_TASK },
  [M_FORCED_SWITCHES] = { "forced_switches", ARG_NONE },
  [M_PARALLEL] = { "parallel", ARG_NONE },
  [M_IN_SELECT] = { "in_select", ARG_NONE },
  [M_MAX_QUEUE_DEPTH] = { "max_queue_depth", ARG_NONE },
  [M_MAX_CALLBACK] = { "max_callback", ARG_NONE },
  [M_PEAK] = { "peak", ARG_STATE },
  [M_TOTAL] = { "total", ARG_STATE },
  [M_HANDOFFS] = { "handoffs", ARG_TWO_TASKS },
  [M_QUEUE_PEAK] = { "queue_peak", ARG_QUEUE },
  [M_PUT_WAITS] = { "put_waits", ARG_TASK },
  [M_GET_WAITS] = { "get_waits", ARG_TASK },
};

/* outcome() compares against these constants. */
#define OUTCOME_RETURNED  0.0
#define OUTCOME_FAILED    1.0
#define OUTCOME_CANCELLED 2.0

typedef enum { N_NUM, N_CALL, N_ADD, N_SUB, N_MUL, N_DIV } NodeKind;

typedef struct _Node Node;
struct _Node {
  NodeKind kind;
  double   num;
  Metric   metric;
  guint32  task;
  guint32  task2;    /* handoffs: the other task */
  guint32  queue;    /* queue_peak: index into the scenario's queues */
  IlState  state;    /* peak, total */
  IlMode   mode;
  Node    *l, *r;
};

typedef enum { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE } CmpOp;

typedef struct {
  Node  *l, *r;
  CmpOp  op;
  char  *text;
} Clause;

struct _IlLessonCheck {
  IlScenario *scenario;
  GPtrArray  *clauses;   /* Clause* */
  GPtrArray  *nodes;     /* Node*, owned */
  guint32     modes;
};

typedef struct {
  const char        *text;
  const char        *p;
  IlLessonCheck     *check;
  GError           **error;
} Parser;

static gboolean
fail (Parser     *ps,
      const char *what)
{
  if (ps->error != NULL && *ps->error == NULL)
    g_set_error (ps->error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_INVALID,
                 "check, column %d: %s", (int) (ps->p - ps->text) + 1, what);
  return FALSE;
}

static void
skip_space (Parser *ps)
{
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
    ps->p++;
}

static Node *
node_new (Parser   *ps,
          NodeKind  kind)
{
  Node *n = g_new0 (Node, 1);
  n->kind = kind;
  g_ptr_array_add (ps->check->nodes, n);
  return n;
}

static char *
read_ident (Parser *ps)
{
  const char *start = ps->p;

  while (g_ascii_isalnum (*ps->p) || *ps->p == '_' || *ps->p == '-')
    ps->p++;
  return g_strndup (start, ps->p - start);
}

static gboolean
parse_mode (const char *word,
            IlMode     *mode)
{
  g_autofree char *dashed = g_strdelimit (g_strdup (word), "_", '-');
  return il_mode_from_string (dashed, mode);
}

static gboolean
parse_state (const char *word,
             IlState    *state)
{
  g_autofree char *dashed = g_strdelimit (g_strdup (word), "_", '-');

  for (int s = IL_STATE_RUNNING; s < IL_N_STATES; s++)
    if (s != IL_STATE_DONE && g_str_equal (dashed, il_state_to_nick ((IlState) s)))
      {
        *state = (IlState) s;
        return TRUE;
      }
  return FALSE;
}

/* A task name, and the comma after it if there is one. */
static gboolean
parse_task_arg (Parser  *ps,
                guint32 *task)
{
  const char *at = ps->p;
  g_autofree char *name = read_ident (ps);
  gint32 idx = il_scenario_find_task (ps->check->scenario, name);

  if (idx < 0)
    {
      ps->p = at;
      return fail (ps, "no task of that name");
    }
  *task = (guint32) idx;
  skip_space (ps);
  if (*ps->p == ',')
    {
      ps->p++;
      skip_space (ps);
    }
  return TRUE;
}

static Node *parse_sum (Parser *ps);

static Node *
parse_atom (Parser *ps)
{
  skip_space (ps);

  if (*ps->p == '(')
    {
      Node *n;
      ps->p++;
      n = parse_sum (ps);
      skip_space (ps);
      if (n == NULL)
        return NULL;
      if (*ps->p != ')')
        return fail (ps, "expected ')'"), NULL;
      ps->p++;
      return n;
    }

  if (g_ascii_isdigit (*ps->p) || *ps->p == '.')
    {
      char *end = NULL;
      Node *n = node_new (ps, N_NUM);
      n->num = g_ascii_strtod (ps->p, &end);
      if (end == ps->p || !isfinite (n->num))
        return fail (ps, "bad number"), NULL;
      ps->p = end;
      return n;
    }

  if (g_ascii_isalpha (*ps->p))
    {
      const char *at = ps->p;
      g_autofree char *word = read_ident (ps);
      Node *n;
      int m;

      if (g_str_equal (word, "returned") || g_str_equal (word, "failed") || g_str_equal (word, "cancelled"))
        {
          n = node_new (ps, N_NUM);
          n->num = word[0] == 'r' ? OUTCOME_RETURNED : word[0] == 'f' ? OUTCOME_FAILED : OUTCOME_CANCELLED;
          return n;
        }
      for (m = 0; m < N_METRICS; m++)
        if (g_str_equal (word, metrics[m].name))
          break;
      if (m == N_METRICS)
        {
          ps->p = at;
          return fail (ps, "unknown name (expected a metric such as makespan, finish or gil_wait)"), NULL;
        }

      n = node_new (ps, N_CALL);
      n->metric = (Metric) m;
      n->mode = ps->check->scenario->mode;
      skip_space (ps);
      if (*ps->p != '(')
        return fail (ps, "expected '(' after the metric"), NULL;
      ps->p++;
      skip_space (ps);

      if (metrics[m].arg == ARG_TASK || metrics[m].arg == ARG_TWO_TASKS)
        {
          if (!parse_task_arg (ps, &n->task))
            return NULL;
          if (metrics[m].arg == ARG_TWO_TASKS && !parse_task_arg (ps, &n->task2))
            return NULL;
        }
      else if (metrics[m].arg == ARG_QUEUE)
        {
          const IlScenario *sc = ps->check->scenario;
          g_autofree char *queue = NULL;

          at = ps->p;
          queue = read_ident (ps);
          n->queue = G_MAXUINT32;
          for (guint32 q = 0; q < sc->n_queues; q++)
            if (g_str_equal (sc->queues[q].name, queue))
              n->queue = q;
          if (n->queue == G_MAXUINT32)
            {
              ps->p = at;
              return fail (ps, "no queue of that name"), NULL;
            }
          skip_space (ps);
          if (*ps->p == ',')
            {
              ps->p++;
              skip_space (ps);
            }
        }
      else if (metrics[m].arg == ARG_STATE)
        {
          g_autofree char *state = NULL;

          at = ps->p;
          state = read_ident (ps);
          if (!parse_state (state, &n->state))
            {
              ps->p = at;
              return fail (ps, "unknown state (expected running, ready, wait_gil, wait_io, sleeping, blocked or starting)"), NULL;
            }
          skip_space (ps);
          if (*ps->p == ',')
            {
              ps->p++;
              skip_space (ps);
            }
        }

      if (*ps->p != ')')
        {
          g_autofree char *mode = NULL;
          at = ps->p;
          mode = read_ident (ps);
          if (!parse_mode (mode, &n->mode))
            {
              ps->p = at;
              return fail (ps, "unknown mode"), NULL;
            }
          skip_space (ps);
        }
      if (*ps->p != ')')
        return fail (ps, "expected ')'"), NULL;
      ps->p++;

      ps->check->modes |= IL_MODE_MASK (n->mode);
      if (n->metric == M_SPEEDUP)
        ps->check->modes |= IL_MODE_MASK (IL_MODE_SEQUENTIAL);
      return n;
    }

  return fail (ps, "expected a number, a metric or '('"), NULL;
}

static Node *
parse_product (Parser *ps)
{
  Node *l = parse_atom (ps);

  while (l != NULL)
    {
      Node *n;
      skip_space (ps);
      if (*ps->p != '*' && *ps->p != '/')
        break;
      n = node_new (ps, *ps->p == '*' ? N_MUL : N_DIV);
      ps->p++;
      n->l = l;
      n->r = parse_atom (ps);
      if (n->r == NULL)
        return NULL;
      l = n;
    }
  return l;
}

static Node *
parse_sum (Parser *ps)
{
  Node *l = parse_product (ps);

  while (l != NULL)
    {
      Node *n;
      skip_space (ps);
      if (*ps->p != '+' && *ps->p != '-')
        break;
      n = node_new (ps, *ps->p == '+' ? N_ADD : N_SUB);
      ps->p++;
      n->l = l;
      n->r = parse_product (ps);
      if (n->r == NULL)
        return NULL;
      l = n;
    }
  return l;
}

static gboolean
parse_cmp (Parser *ps,
           CmpOp  *op)
{
  static const struct { const char *s; CmpOp op; } ops[] = {
    { "<=", OP_LE }, { ">=", OP_GE }, { "==", OP_EQ }, { "!=", OP_NE }, { "<", OP_LT }, { ">", OP_GT },
  };

  skip_space (ps);
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    if (g_str_has_prefix (ps->p, ops[i].s))
      {
        *op = ops[i].op;
        ps->p += strlen (ops[i].s);
        return TRUE;
      }
  return fail (ps, "expected a comparison (<, <=, >, >=, ==, !=)");
}

static void
clause_free (gpointer data)
{
  Clause *c = data;
  g_free (c->text);
  g_free (c);
}

void
il_lesson_check_free (IlLessonCheck *check)
{
  if (check == NULL)
    return;
  g_ptr_array_unref (check->clauses);
  g_ptr_array_unref (check->nodes);
  g_clear_pointer (&check->scenario, il_scenario_unref);
  g_free (check);
}

IlLessonCheck *
il_lesson_check_parse (const char        *text,
                       const IlScenario  *scenario,
                       GError           **error)
{
  g_autoptr(IlLessonCheck) check = g_new0 (IlLessonCheck, 1);
  Parser ps = { text, text, check, error };

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (scenario != NULL, NULL);

  check->scenario = il_scenario_ref (scenario);
  check->clauses = g_ptr_array_new_with_free_func (clause_free);
  check->nodes = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      Clause *c = g_new0 (Clause, 1);
      const char *start;

      skip_space (&ps);
      start = ps.p;
      g_ptr_array_add (check->clauses, c);
      if ((c->l = parse_sum (&ps)) == NULL || !parse_cmp (&ps, &c->op) || (c->r = parse_sum (&ps)) == NULL)
        return NULL;
      c->text = g_strstrip (g_strndup (start, ps.p - start));
      skip_space (&ps);
      if (*ps.p == '\0')
        break;
      if (!g_str_has_prefix (ps.p, "&&"))
        return fail (&ps, "expected '&&' or the end"), NULL;
      ps.p += 2;
    }

  return g_steal_pointer (&check);
}

guint32
il_lesson_check_modes (const IlLessonCheck *check)
{
  g_return_val_if_fail (check != NULL, 0);
  return check->modes;
}

typedef struct {
  IlTrace *traces[IL_N_MODES];
  IlStats *stats[IL_N_MODES];
} Runs;

static const IlTaskStats *
task_stats (const IlLessonCheck *check,
            const IlStats       *stats,
            guint32              task)
{
  const char *name = check->scenario->tasks[task].name;

  for (guint i = 0; i < stats->n_tasks; i++)
    if (g_strcmp0 (stats->tasks[i].name, name) == 0)
      return &stats->tasks[i];
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Measures that IlStats does not keep, straight from the trace          */

/* Times the lane entered "running". */
static guint
count_slices (const IlTrace *trace,
              guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  guint n = 0;
  int cur = IL_STATE_NOT_STARTED;

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (trace->kind[e] != IL_EVENT_STATE)
        continue;
      if (trace->value[e] == IL_STATE_RUNNING && cur != IL_STATE_RUNNING)
        n++;
      cur = trace->value[e];
    }
  return n;
}

/* Time with two or more cores busy at once.  Events at one instant are all
 * applied before the count is read, so a hand-over is not a moment of
 * parallelism. */
static gint64
time_parallel (const IlTrace *trace)
{
  g_autofree gboolean *busy = g_new0 (gboolean, MAX (1, il_trace_get_n_lanes (trace)));
  gint64 total = 0, since = 0;
  guint n_busy = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    {
      guint32 l = il_trace_event_lane (trace, i);
      gboolean b;

      if (trace->kind[i] != IL_EVENT_CORE)
        continue;
      if (n_busy >= 2)
        total += trace->time[i] - since;
      since = trace->time[i];
      b = trace->arg[i] != IL_NO_LANE;
      if (b != busy[l])
        n_busy = b ? n_busy + 1 : n_busy - 1;
      busy[l] = b;
    }
  if (n_busy >= 2)
    total += trace->end_time - since;
  return total;
}

/* How long the event loop slept in select() in all. */
static gint64
time_in_select (const IlTrace *trace)
{
  gint64 total = 0, since = -1;

  for (gsize i = 0; i < trace->n_events; i++)
    {
      if (il_trace_get_lane (trace, il_trace_event_lane (trace, i))->kind != IL_LANE_LOOP)
        continue;
      if (since >= 0)
        {
          total += trace->time[i] - since;
          since = -1;
        }
      if (trace->kind[i] == IL_EVENT_LOOP_SELECT)
        since = trace->time[i];
    }
  return total;
}

static guint
max_queue_depth (const IlTrace *trace)
{
  guint depth = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    if (trace->kind[i] == IL_EVENT_LOOP_ITER)
      depth = MAX (depth, trace->aux[i]);
  return depth;
}

/* The most items one of the scenario's queues held at once. */
static guint
queue_peak (const IlTrace *trace,
            guint32        queue)
{
  gint depth = 0, peak = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    if (trace->kind[i] == IL_EVENT_QUEUE && trace->aux[i] == (IL_QUEUE_USER | queue))
      {
        if ((trace->value[i] & 3) == IL_QUEUE_PUSH)
          {
            depth++;
            peak = MAX (peak, depth);
          }
        else if ((trace->value[i] & 3) == IL_QUEUE_POP)
          depth--;
      }
  return (guint) peak;
}

/* How often a task had to wait to put (what 0) or to get (what 1). */
static guint
queue_waits (const IlTrace *trace,
             guint32        lane,
             guint          what)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  guint n = 0;

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (trace->kind[e] == IL_EVENT_QUEUE && (trace->value[e] & 3) == IL_QUEUE_WAIT
          && (guint) (trace->value[e] >> 2) == what)
        n++;
    }
  return n;
}

/* The longest loop callback: a blocking call inside a coroutine shows here. */
static gint64
max_callback (const IlTrace *trace)
{
  gint64 longest = 0, since = -1;

  for (gsize i = 0; i < trace->n_events; i++)
    {
      if (trace->kind[i] == IL_EVENT_LOOP_CALLBACK)
        since = trace->time[i];
      else if (trace->kind[i] == IL_EVENT_LOOP_CALLBACK_END && since >= 0)
        {
          longest = MAX (longest, trace->time[i] - since);
          since = -1;
        }
    }
  return longest;
}

/* Most task lanes in `state` at one instant (instants resolved as in
 * time_parallel). */
static guint
peak_in_state (const IlTrace *trace,
               IlState        state)
{
  g_autofree guint8 *cur = g_new0 (guint8, MAX (1, il_trace_get_n_lanes (trace)));
  guint n = 0, peak = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    {
      guint32 l = il_trace_event_lane (trace, i);

      if (i > 0 && trace->time[i] != trace->time[i - 1])
        peak = MAX (peak, n);
      if (trace->kind[i] != IL_EVENT_STATE || il_trace_get_lane (trace, l)->kind != IL_LANE_TASK)
        continue;
      if (cur[l] == state)
        n--;
      cur[l] = trace->value[i];
      if (cur[l] == state)
        n++;
    }
  return MAX (peak, n);
}

/* GIL hand-overs from one of the two lanes straight to the other. */
static guint
count_handoffs (const IlTrace *trace,
                guint32        a,
                guint32        b)
{
  g_autoptr(GHashTable) last = g_hash_table_new (g_direct_hash, g_direct_equal); /* gil lane → holder + 1 */
  guint n = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    {
      guint32 prev, taker = trace->arg[i];

      if (trace->kind[i] != IL_EVENT_GIL_TAKE)
        continue;
      prev = GPOINTER_TO_UINT (g_hash_table_lookup (last, GUINT_TO_POINTER (il_trace_event_lane (trace, i))));
      if ((prev == a + 1 && taker == b) || (prev == b + 1 && taker == a))
        n++;
      g_hash_table_insert (last, GUINT_TO_POINTER (il_trace_event_lane (trace, i)), GUINT_TO_POINTER (taker + 1));
    }
  return n;
}

static double
eval (const IlLessonCheck *check,
      Runs                *runs,
      const Node          *n)
{
  const IlStats *st;
  const IlTaskStats *ts = NULL;

  switch (n->kind)
    {
    case N_NUM:
      return n->num;
    case N_ADD:
      return eval (check, runs, n->l) + eval (check, runs, n->r);
    case N_SUB:
      return eval (check, runs, n->l) - eval (check, runs, n->r);
    case N_MUL:
      return eval (check, runs, n->l) * eval (check, runs, n->r);
    case N_DIV:
      return eval (check, runs, n->l) / eval (check, runs, n->r);
    case N_CALL:
    default:
      break;
    }

  st = runs->stats[n->mode];
  g_assert (st != NULL);
  if (metrics[n->metric].arg == ARG_TASK)
    {
      ts = task_stats (check, st, n->task);
      if (ts == NULL)
        return NAN;
    }

  switch (n->metric)
    {
    case M_MAKESPAN: return il_time_to_ms (st->makespan);
    case M_SPEEDUP: return (double) runs->stats[IL_MODE_SEQUENTIAL]->makespan / (double) MAX (1, st->makespan);
    case M_UTILISATION: return st->utilisation;
    case M_SWITCHES: return (double) st->gil_switches;
    case M_DROP_REQUESTS: return (double) st->drop_requests;
    case M_ITERATIONS: return (double) st->loop_iterations;
    case M_START: return il_time_to_ms (ts->start);
    case M_FINISH: return il_time_to_ms (ts->finish);
    case M_CPU: return il_time_to_ms (ts->in_state[IL_STATE_RUNNING]);
    case M_GIL_WAIT: return il_time_to_ms (ts->in_state[IL_STATE_WAIT_GIL]);
    case M_IO_WAIT: return il_time_to_ms (ts->in_state[IL_STATE_WAIT_IO]);
    case M_SLEEPING: return il_time_to_ms (ts->in_state[IL_STATE_SLEEPING]);
    case M_READY: return il_time_to_ms (ts->in_state[IL_STATE_READY]);
    case M_BLOCKED: return il_time_to_ms (ts->in_state[IL_STATE_BLOCKED]);
    case M_OUTCOME:
      return ts->outcome == IL_CAUSE_FAILED ? OUTCOME_FAILED
             : ts->outcome == IL_CAUSE_CANCELLED ? OUTCOME_CANCELLED : OUTCOME_RETURNED;
    case M_STARTING: return il_time_to_ms (ts->in_state[IL_STATE_STARTING]);
    case M_SLICES: return (double) count_slices (runs->traces[n->mode], ts->lane);
    case M_FORCED_SWITCHES: return (double) st->forced_switches;
    case M_PARALLEL: return il_time_to_ms (time_parallel (runs->traces[n->mode]));
    case M_IN_SELECT: return il_time_to_ms (time_in_select (runs->traces[n->mode]));
    case M_MAX_QUEUE_DEPTH: return (double) max_queue_depth (runs->traces[n->mode]);
    case M_MAX_CALLBACK: return il_time_to_ms (max_callback (runs->traces[n->mode]));
    case M_PEAK: return (double) peak_in_state (runs->traces[n->mode], n->state);
    case M_TOTAL:
      {
        gint64 sum = 0;
        for (guint i = 0; i < st->n_tasks; i++)
          sum += st->tasks[i].in_state[n->state];
        return il_time_to_ms (sum);
      }
    case M_HANDOFFS:
      {
        const IlTaskStats *a = task_stats (check, st, n->task);
        const IlTaskStats *b = task_stats (check, st, n->task2);
        if (a == NULL || b == NULL)
          return NAN;
        return (double) count_handoffs (runs->traces[n->mode], a->lane, b->lane);
      }
    case M_QUEUE_PEAK: return (double) queue_peak (runs->traces[n->mode], n->queue);
    case M_PUT_WAITS: return (double) queue_waits (runs->traces[n->mode], ts->lane, 0);
    case M_GET_WAITS: return (double) queue_waits (runs->traces[n->mode], ts->lane, 1);
    case N_METRICS:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
compare (double  a,
         CmpOp   op,
         double  b)
{
  switch (op)
    {
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    case OP_EQ: return fabs (a - b) <= 1e-9 * MAX (1.0, fabs (a));
    case OP_NE: return !compare (a, OP_EQ, b);
    default: g_assert_not_reached ();
    }
}

gboolean
il_lesson_check_evaluate (IlLessonCheck  *check,
                          IlTrace *const *traces,
                          gboolean       *result,
                          char          **report,
                          GError        **error)
{
  static const char *ops[] = { "<", "<=", ">", ">=", "==", "!=" };
  g_autoptr(GString) text = g_string_new (NULL);
  Runs runs;
  gboolean all = TRUE, ok = TRUE;

  g_return_val_if_fail (check != NULL, FALSE);

  memset (&runs, 0, sizeof runs);
  {
    /* What the caller did not run, run side by side. */
    guint32 missing = 0;
    g_autoptr(IlComparison) comparison = NULL;

    for (guint m = 0; m < IL_N_MODES; m++)
      if ((check->modes & IL_MODE_MASK (m)) && (traces == NULL || traces[m] == NULL))
        missing |= IL_MODE_MASK (m);
    if (missing != 0)
      {
        IlRunConfig cfg;
        il_run_config_from_scenario (&cfg, check->scenario);
        comparison = il_compare_run (check->scenario, &cfg, missing, NULL, error);
        ok = comparison != NULL && il_comparison_check (comparison, error);
      }
    for (guint m = 0; m < IL_N_MODES && ok; m++)
      {
        if (!(check->modes & IL_MODE_MASK (m)))
          continue;
        runs.traces[m] = il_trace_ref (missing & IL_MODE_MASK (m) ? comparison->traces[m] : traces[m]);
        runs.stats[m] = il_stats_compute (runs.traces[m], runs.traces[m]->end_time);
      }
  }

  if (ok)
    for (guint i = 0; i < check->clauses->len; i++)
      {
        const Clause *c = g_ptr_array_index (check->clauses, i);
        double a = eval (check, &runs, c->l);
        double b = eval (check, &runs, c->r);
        gboolean r = compare (a, c->op, b);

        all = all && r;
        g_string_append_printf (text, "%s%s: %.4g %s %.4g: %s", i ? "\n" : "", c->text, a, ops[c->op], b,
                                r ? "true" : "false");
      }

  for (guint m = 0; m < IL_N_MODES; m++)
    {
      g_clear_pointer (&runs.stats[m], il_stats_free);
      g_clear_pointer (&runs.traces[m], il_trace_unref);
    }
  if (!ok)
    return FALSE;
  if (result != NULL)
    *result = all;
  if (report != NULL)
    *report = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}
