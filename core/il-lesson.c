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
  N_METRICS
} Metric;

static const struct {
  const char *name;
  gboolean    per_task;
} metrics[N_METRICS] = {
  [M_MAKESPAN] = { "makespan", FALSE },
  [M_SPEEDUP] = { "speedup", FALSE },
  [M_UTILISATION] = { "utilisation", FALSE },
  [M_SWITCHES] = { "switches", FALSE },
  [M_DROP_REQUESTS] = { "drop_requests", FALSE },
  [M_ITERATIONS] = { "iterations", FALSE },
  [M_START] = { "start", TRUE },
  [M_FINISH] = { "finish", TRUE },
  [M_CPU] = { "cpu", TRUE },
  [M_GIL_WAIT] = { "gil_wait", TRUE },
  [M_IO_WAIT] = { "io_wait", TRUE },
  [M_SLEEPING] = { "sleeping", TRUE },
  [M_READY] = { "ready", TRUE },
  [M_BLOCKED] = { "blocked", TRUE },
  [M_OUTCOME] = { "outcome", TRUE },
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

      if (metrics[m].per_task)
        {
          g_autofree char *task = NULL;
          gint32 idx;

          at = ps->p;
          task = read_ident (ps);
          idx = il_scenario_find_task (ps->check->scenario, task);
          if (idx < 0)
            {
              ps->p = at;
              return fail (ps, "no task of that name"), NULL;
            }
          n->task = (guint32) idx;
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
  if (metrics[n->metric].per_task)
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
