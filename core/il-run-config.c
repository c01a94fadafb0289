/* il-run-config.c — the parameter table and the one run-config validator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where a default comes from is said beside it.  "measured" means measured
 * with CPython 3.11.7 on this project's 2-vCPU Debian 12 machines (see
 * tools/measure-cpython.py and the README's validation table); "reference"
 * means shared/reference/cpython-mechanics.md.
 *
 * The limits are what a run can take without the engine spinning for ever
 * or a day of virtual time passing in one step; the scenario reader, the
 * trace loader, the CLI and the window all check against these, and only
 * these.
 */
#include "il-run-config.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "il-json.h"
#include "il-time.h"

G_DEFINE_QUARK (il-run-config-error-quark, il_run_config_error)

#define CFG(field) offsetof (IlRunConfig, field)

/* The order is the order files write the fields in: the trace file's
 * configuration section writes all of them in this order, a scenario writes
 * the top-level ones and then its "params" object in this order. */
static const IlParamInfo params[] = {
  { "cores", "cores", "cores", "cores", 'c', "Cores",
    "CPU cores of the simulated machine",
    IL_PARAM_COUNT, IL_PARAM_FLAG_CLI, CFG (cores), 2, 1, IL_SCENARIO_MAX_CORES },
  { "workers", "workers", "workers", "workers", 'w', "Workers",
    "Pool size or concurrency limit; 0: one thread, process or task each",
    IL_PARAM_COUNT, IL_PARAM_FLAG_CLI, CFG (workers), 0, 0, IL_SCENARIO_MAX_WORKERS },
  { "switch_interval", "switch_interval_ms", "switch_interval_ns", "switch-interval", 's', "switch interval",
    "GIL switch interval, sys.setswitchinterval(): how long a thread keeps the GIL when others wait",
    IL_PARAM_TIME, IL_PARAM_FLAG_CLI, CFG (switch_interval), 5, 0.001, 1000 },
  /* reference: 5–50 µs futex wake to running */
  { "wake_latency", "wake_latency_ms", "wake_latency_ns", NULL, 0, "wake latency",
    "futex wake → thread running on an idle core",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.wake_latency), 0.020, 0, 1000 },
  /* measured: time.sleep(0.001) takes ~1.07 ms */
  { "timer_slack", "timer_slack_ms", "timer_slack_ns", NULL, 0, "timer slack",
    "timed waits and sleeps fire this late",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.timer_slack), 0.060, 0, 1000 },
  /* reference: pure-Python code checks within ~1 µs */
  { "breaker_latency", "breaker_latency_ms", "breaker_latency_ns", NULL, 0, "eval-breaker latency",
    "drop request → the GIL holder reaches the eval breaker",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.breaker_latency), 0.001, 0, 1000 },
  /* CFS/EEVDF slices of ~0.75–3 ms with few threads.  Never 0: a zero
   * slice would preempt without end and no virtual time would pass. */
  { "os_slice", "os_slice_ms", "os_slice_ns", NULL, 0, "OS time slice",
    "round-robin slice when threads outnumber cores",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.os_slice), 3, 0.001, 1000 },
  /* reference: measured ~7 µs per _run_once */
  { "loop_iteration", "loop_iteration_ms", "loop_iteration_ns", NULL, 0, "loop iteration cost",
    "one _run_once of the event loop, excluding callbacks",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.loop_iteration_cost), 0.007, 0, 1000 },
  /* reference: ~2 µs per Task.__step */
  { "task_step", "task_step_ms", "task_step_ns", NULL, 0, "task step cost",
    "Task.__step overhead per resume",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.task_step_cost), 0.002, 0, 1000 },
  /* reference: ~12 µs create + finish */
  { "task_create", "task_create_ms", "task_create_ns", NULL, 0, "task creation cost",
    "create_task + finishing bookkeeping",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.task_create_cost), 0.012, 0, 1000 },
  /* reference: Thread.start() ~125 µs */
  { "thread_start", "thread_start_ms", "thread_start_ns", NULL, 0, "thread start cost",
    "threading.Thread.start() in the starting thread",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.thread_start_cost), 0.125, 0, 10000 },
  /* reference: submit → result ~27 µs */
  { "pool_item", "pool_item_ms", "pool_item_ns", NULL, 0, "pool item cost",
    "ThreadPoolExecutor submit → result overhead",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.pool_item_cost), 0.027, 0, 10000 },
  /* measured: 1.7–2.5 ms per fork worker, 1.8 ms of the parent's CPU */
  { "fork", "fork_ms", "fork_ns", NULL, 0, "fork start cost",
    "starting a process with fork",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.process_start_cost[IL_START_FORK]), 2, 0, 60000 },
  /* measured: forkserver child CPU 25–35 ms per worker */
  { "forkserver", "forkserver_ms", "forkserver_ns", NULL, 0, "forkserver start cost",
    "starting a process with forkserver",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.process_start_cost[IL_START_FORKSERVER]), 30, 0, 60000 },
  /* measured: spawn child CPU 106–143 ms per worker */
  { "spawn", "spawn_ms", "spawn_ns", NULL, 0, "spawn start cost",
    "starting a process with spawn",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.process_start_cost[IL_START_SPAWN]), 110, 0, 60000 },
  /* reference: ~150 µs per item + pickling */
  { "ipc_item", "ipc_item_ms", "ipc_item_ns", NULL, 0, "IPC cost per item",
    "pickling + pipe per pool item, paid on each side",
    IL_PARAM_TIME, IL_PARAM_FLAG_IN_PARAMS, CFG (params.ipc_item_cost), 0.150, 0, 10000 },
  /* reference: 5–10% in 3.14t (40% in 3.13t) */
  { "free_threading_overhead", "free_threading_overhead", "free_threading_overhead", NULL, 0,
    "free-threading overhead", "0.1 = Python code runs 10% slower without the GIL",
    IL_PARAM_FRACTION, IL_PARAM_FLAG_IN_PARAMS, CFG (params.free_threading_overhead), 0.10, 0, 10 },
  /* fork: the Linux default up to 3.13 */
  { "start_method", "start_method", "start_method", NULL, 0, "start method",
    "how processes start: fork, forkserver or spawn",
    IL_PARAM_CHOICE, IL_PARAM_FLAG_NONE, CFG (params.start_method), IL_START_FORK, 0, IL_START_SPAWN },
  /* 0: GIL waiters wake first-come, as glibc does */
  { "seed", "seed", "seed", NULL, 0, "seed",
    "which GIL waiter the OS wakes (0: the model's fixed order)",
    IL_PARAM_COUNT, IL_PARAM_FLAG_NONE, CFG (params.seed), 0, 0, G_MAXUINT32 },
};

G_STATIC_ASSERT (G_N_ELEMENTS (params) == IL_N_PARAMS);

static const char * const start_methods[] = { "fork", "forkserver", "spawn", NULL };

const IlParamInfo *
il_param_table (guint *n_params)
{
  if (n_params != NULL)
    *n_params = G_N_ELEMENTS (params);
  return params;
}

const IlParamInfo *
il_param_find (const char *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    if (g_str_equal (key, params[i].name) || g_str_equal (key, params[i].json_key)
        || g_str_equal (key, params[i].trace_key))
      return &params[i];
  return NULL;
}

const char * const *
il_param_choices (const IlParamInfo *param)
{
  g_return_val_if_fail (param != NULL, NULL);
  return param->type == IL_PARAM_CHOICE ? start_methods : NULL;
}

double
il_param_get (const IlParamInfo *param,
              const IlRunConfig *config)
{
  gconstpointer p = (const guint8 *) config + param->offset;

  switch (param->type)
    {
    case IL_PARAM_TIME: return il_time_to_ms (*(const gint64 *) p);
    case IL_PARAM_COUNT: return *(const guint32 *) p;
    case IL_PARAM_FRACTION: return *(const double *) p;
    case IL_PARAM_CHOICE: return *(const IlStartMethod *) p;
    default: g_assert_not_reached ();
    }
}

gint64
il_param_get_ns (const IlParamInfo *param,
                 const IlRunConfig *config)
{
  g_return_val_if_fail (param != NULL && param->type == IL_PARAM_TIME, 0);
  return *(const gint64 *) (gconstpointer) ((const guint8 *) config + param->offset);
}

void
il_param_set_ns (const IlParamInfo *param,
                 IlRunConfig       *config,
                 gint64             ns)
{
  g_return_if_fail (param != NULL && param->type == IL_PARAM_TIME);
  *(gint64 *) (gpointer) ((guint8 *) config + param->offset) = ns;
}

void
il_param_set (const IlParamInfo *param,
              IlRunConfig       *config,
              double             value)
{
  gpointer p = (guint8 *) config + param->offset;

  switch (param->type)
    {
    case IL_PARAM_TIME: *(gint64 *) p = il_time_from_ms (value); break;
    case IL_PARAM_COUNT: *(guint32 *) p = (guint32) value; break;
    case IL_PARAM_FRACTION: *(double *) p = value; break;
    case IL_PARAM_CHOICE: *(IlStartMethod *) p = (IlStartMethod) value; break;
    default: g_assert_not_reached ();
    }
}

void
il_param_append_value (GString           *out,
                       const IlParamInfo *p,
                       const IlRunConfig *config,
                       IlParamKeys        style)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gboolean json = style != IL_PARAM_KEYS_TRACE;

  g_return_if_fail (out != NULL && p != NULL && config != NULL);

  switch (p->type)
    {
    case IL_PARAM_TIME:
      if (json)
        il_json_append_ms (out, il_param_get_ns (p, config));
      else
        g_string_append_printf (out, "%" G_GINT64_FORMAT, il_param_get_ns (p, config));
      break;
    case IL_PARAM_COUNT:
      g_string_append_printf (out, "%.0f", il_param_get (p, config));
      break;
    case IL_PARAM_FRACTION:
      /* Both round-trip; the trace file has always written %.17g. */
      if (json)
        g_string_append (out, g_ascii_dtostr (buf, sizeof buf, il_param_get (p, config)));
      else
        g_string_append_printf (out, "%.17g", il_param_get (p, config));
      break;
    case IL_PARAM_CHOICE:
      if (json)
        il_json_append_string (out, start_methods[(guint) il_param_get (p, config)]);
      else
        g_string_append (out, start_methods[(guint) il_param_get (p, config)]);
      break;
    default:
      g_assert_not_reached ();
    }
}

gboolean
il_param_check (const IlParamInfo *param,
                double             v,
                GError           **error)
{
  g_return_val_if_fail (param != NULL, FALSE);

  switch (param->type)
    {
    case IL_PARAM_TIME:
      if (!(v >= 0))
        {
          g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID,
                       "expected a non-negative number of milliseconds, got %g", v);
          return FALSE;
        }
      if (v < param->min)
        {
          g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID,
                       "the %s must be at least %g ms", param->label, param->min);
          return FALSE;
        }
      if (v > param->max)
        {
          /* %.10g: 3600001 must not print as the limit itself (3.6e+06). */
          g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_TOO_LARGE,
                       "%.10g ms is more than the limit of %.10g ms", v, param->max);
          return FALSE;
        }
      return TRUE;

    case IL_PARAM_COUNT:
      if (v != floor (v))
        {
          g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID,
                       "expected a whole number from %.0f to %.0f, got a fraction", param->min, param->max);
          return FALSE;
        }
      if (!(v >= param->min && v <= param->max))
        {
          g_set_error (error, IL_RUN_CONFIG_ERROR, v > param->max ? IL_RUN_CONFIG_ERROR_TOO_LARGE
                                                                  : IL_RUN_CONFIG_ERROR_INVALID,
                       "expected a whole number from %.0f to %.0f, got %.15g", param->min, param->max, v);
          return FALSE;
        }
      return TRUE;

    case IL_PARAM_FRACTION:
      if (!(v >= param->min && v <= param->max))
        {
          g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID,
                       "expected a fraction from %g to %g (0.1 = 10%% slower)", param->min, param->max);
          return FALSE;
        }
      return TRUE;

    case IL_PARAM_CHOICE:
      if (v != floor (v) || !(v >= param->min && v <= param->max))
        {
          g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID,
                       "expected \"fork\", \"forkserver\" or \"spawn\"");
          return FALSE;
        }
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

void
il_run_config_init_defaults (IlRunConfig *config)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->mode = IL_MODE_THREADS;
  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    il_param_set (&params[i], config, params[i].def);
}

/* IlParams on its own: the same defaults, from the same table. */
void
il_params_init_defaults (IlParams *p)
{
  IlRunConfig config;

  g_return_if_fail (p != NULL);

  il_run_config_init_defaults (&config);
  *p = config.params;
}

gboolean
il_run_config_validate (const IlRunConfig *config,
                        IlParamKeys        keys,
                        GError           **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  if ((guint) config->mode >= IL_N_MODES)
    {
      g_set_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID,
                   "%s: unknown mode %u", keys == IL_PARAM_KEYS_CLI ? "--mode" : "mode", (guint) config->mode);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    {
      const IlParamInfo *p = &params[i];
      GError *local = NULL;

      if (il_param_check (p, il_param_get (p, config), &local))
        continue;
      switch (keys)
        {
        case IL_PARAM_KEYS_JSON:
          g_propagate_prefixed_error (error, local, "%s%s: ",
                                      p->flags & IL_PARAM_FLAG_IN_PARAMS ? "params." : "", p->json_key);
          break;
        case IL_PARAM_KEYS_TRACE:
          g_propagate_prefixed_error (error, local, "%s: ", p->trace_key);
          break;
        case IL_PARAM_KEYS_CLI:
        default:
          if (p->cli_option != NULL)
            g_propagate_prefixed_error (error, local, "--%s: ", p->cli_option);
          else
            g_propagate_prefixed_error (error, local, "%s: ", p->json_key);
          break;
        }
      return FALSE;
    }
  return TRUE;
}
