/* il-compare.c — one scenario in every mode, side by side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-compare.h"

#include "il-engine.h"

/* Virtual time an engine runs between looks at the cancellable: short
 * enough to stop soon, long enough that looking costs nothing. */
#define CANCEL_CHECK_SPAN IL_MSEC (50)

typedef struct {
  IlScenario   *scenario;
  IlComparison *comparison;
  IlMode        mode;
  GCancellable *cancellable;
} ModeRun;

static gpointer
run_mode (gpointer data)
{
  ModeRun *run = data;
  IlComparison *c = run->comparison;
  IlMode m = run->mode;
  g_autoptr(IlEngine) engine = il_engine_new (run->scenario, &c->configs[m]);
  IlTrace *trace;

  if (engine == NULL)
    {
      g_set_error (&c->errors[m], IL_ENGINE_ERROR, IL_ENGINE_ERROR_LIMIT, "the scenario has no tasks");
      return NULL;
    }
  while (!il_engine_is_finished (engine))
    {
      gint64 next = il_engine_peek_next_time (engine);
      gint64 until = next >= IL_TIME_FOREVER - CANCEL_CHECK_SPAN ? IL_TIME_FOREVER : next + CANCEL_CHECK_SPAN;

      if (g_cancellable_is_cancelled (run->cancellable))
        return NULL;
      if (!il_engine_run_until (engine, until, &c->errors[m]))
        return NULL;
      if (until == IL_TIME_FOREVER)
        break;
    }
  trace = il_trace_ref (il_engine_get_trace (engine));
  c->traces[m] = trace;
  c->stats[m] = il_stats_compute (trace, trace->end_time);
  c->makespans[m] = c->stats[m]->makespan;
  return NULL;
}

IlComparison *
il_compare_run (const IlScenario  *scenario,
                const IlRunConfig *base,
                guint32            modes,
                GCancellable      *cancellable,
                GError           **error)
{
  g_autoptr(IlComparison) c = NULL;
  ModeRun runs[IL_N_MODES];
  GThread *threads[IL_N_MODES] = { NULL };
  guint n = 0;

  g_return_val_if_fail (scenario != NULL, NULL);
  g_return_val_if_fail (base != NULL, NULL);

  if (!il_run_config_validate (base, IL_PARAM_KEYS_CLI, error))
    return NULL;

  c = g_new0 (IlComparison, 1);
  c->modes = modes & IL_MODE_MASK_ALL;
  for (guint m = 0; m < IL_N_MODES; m++)
    {
      c->configs[m] = *base;
      c->configs[m].mode = (IlMode) m;
      c->makespans[m] = -1;
    }

  /* One thread per mode; the last wanted mode runs on this one. */
  for (guint m = 0; m < IL_N_MODES; m++)
    {
      if (!(c->modes & IL_MODE_MASK (m)))
        continue;
      runs[m] = (ModeRun) { il_scenario_ref ((IlScenario *) scenario), c, (IlMode) m, cancellable };
      n++;
    }
  for (guint m = 0, started = 0; m < IL_N_MODES; m++)
    {
      if (!(c->modes & IL_MODE_MASK (m)))
        continue;
      if (++started < n)
        threads[m] = g_thread_new ("il-compare", run_mode, &runs[m]);
      else
        run_mode (&runs[m]);
    }
  for (guint m = 0; m < IL_N_MODES; m++)
    {
      if (threads[m] != NULL)
        g_thread_join (threads[m]);
      if (c->modes & IL_MODE_MASK (m))
        il_scenario_unref (runs[m].scenario);
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return g_steal_pointer (&c);
}

typedef struct {
  IlScenario   *scenario;
  IlRunConfig   base;
  guint32       modes;
} AsyncJob;

static void
async_job_free (AsyncJob *job)
{
  il_scenario_unref (job->scenario);
  g_free (job);
}

static void
compare_thread (GTask        *task,
                gpointer      source,
                gpointer      data,
                GCancellable *cancellable)
{
  AsyncJob *job = data;
  GError *error = NULL;
  IlComparison *c = il_compare_run (job->scenario, &job->base, job->modes, cancellable, &error);

  if (c == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, c, (GDestroyNotify) il_comparison_free);
}

void
il_compare_run_async (const IlScenario    *scenario,
                      const IlRunConfig   *base,
                      guint32              modes,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AsyncJob *job;

  g_return_if_fail (scenario != NULL);
  g_return_if_fail (base != NULL);

  job = g_new0 (AsyncJob, 1);
  job->scenario = il_scenario_ref ((IlScenario *) scenario);
  job->base = *base;
  job->modes = modes;
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, il_compare_run_async);
  g_task_set_task_data (task, job, (GDestroyNotify) async_job_free);
  g_task_run_in_thread (task, compare_thread);
}

IlComparison *
il_compare_run_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == il_compare_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
il_comparison_check (const IlComparison  *c,
                     GError             **error)
{
  g_return_val_if_fail (c != NULL, FALSE);

  for (guint m = 0; m < IL_N_MODES; m++)
    if (c->errors[m] != NULL)
      {
        g_set_error (error, c->errors[m]->domain, c->errors[m]->code, "%s mode: %s",
                     il_mode_to_string ((IlMode) m), c->errors[m]->message);
        return FALSE;
      }
  return TRUE;
}

double
il_comparison_speedup (const IlComparison *c,
                       IlMode              mode)
{
  g_return_val_if_fail (c != NULL, -1);
  g_return_val_if_fail ((guint) mode < IL_N_MODES, -1);

  if (c->makespans[IL_MODE_SEQUENTIAL] < 0 || c->makespans[mode] < 0)
    return -1;
  return (double) c->makespans[IL_MODE_SEQUENTIAL] / (double) MAX (1, c->makespans[mode]);
}

void
il_comparison_free (IlComparison *c)
{
  if (c == NULL)
    return;
  for (guint m = 0; m < IL_N_MODES; m++)
    {
      g_clear_pointer (&c->stats[m], il_stats_free);
      g_clear_pointer (&c->traces[m], il_trace_unref);
      g_clear_error (&c->errors[m]);
    }
  g_free (c);
}
