/* il-params.c — default model constants
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where a number comes from is said beside it.  "measured" means measured
 * with CPython 3.11.7 on this project's 2-vCPU Debian 12 machines (see
 * tools/measure-cpython.py and the README's validation table).
 */
#include "il-params.h"

#include <string.h>

#include "il-time.h"

void
il_params_init_defaults (IlParams *params)
{
  g_return_if_fail (params != NULL);

  memset (params, 0, sizeof *params);
  params->wake_latency = IL_USEC (20);        /* reference: 5–50 µs futex wake to running */
  params->timer_slack = IL_USEC (60);         /* measured: time.sleep(0.001) takes ~1.07 ms */
  params->breaker_latency = IL_USEC (1);      /* reference: pure-Python code checks within ~1 µs */
  params->os_slice = IL_MSEC (3);             /* CFS/EEVDF slices of ~0.75–3 ms with few threads */
  params->loop_iteration_cost = IL_USEC (7);  /* reference: measured ~7 µs per _run_once */
  params->task_step_cost = IL_USEC (2);       /* reference: ~2 µs per Task.__step */
  params->task_create_cost = IL_USEC (12);    /* reference: ~12 µs create + finish */
  params->thread_start_cost = IL_USEC (125);  /* reference: Thread.start() ~125 µs */
  params->pool_item_cost = IL_USEC (27);      /* reference: submit → result ~27 µs */
  params->process_start_cost[IL_START_FORK] = IL_MSEC (2);        /* measured: 1.7–2.5 ms per worker, parent 1.8 ms CPU */
  params->process_start_cost[IL_START_FORKSERVER] = IL_MSEC (30); /* measured: child CPU 25–35 ms */
  params->process_start_cost[IL_START_SPAWN] = IL_MSEC (110);     /* measured: child CPU 106–143 ms */
  params->ipc_item_cost = IL_USEC (150);      /* reference: ~150 µs per item + pickling */
  params->free_threading_overhead = 0.10;     /* reference: 5–10% in 3.14t (40% in 3.13t) */
  params->start_method = IL_START_FORK;       /* the Linux default up to 3.13 */
  params->seed = 0;   /* GIL waiters wake first-come, as glibc does */
}

const char *
il_start_method_to_string (IlStartMethod method)
{
  switch (method)
    {
    case IL_START_FORK: return "fork";
    case IL_START_FORKSERVER: return "forkserver";
    case IL_START_SPAWN: return "spawn";
    default: return "fork";
    }
}

gboolean
il_start_method_from_string (const char    *str,
                             IlStartMethod *out)
{
  static const char *names[] = { "fork", "forkserver", "spawn" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (str, names[i]) == 0)
      {
        *out = (IlStartMethod) i;
        return TRUE;
      }
  return FALSE;
}
