/* il-params.h — the tunable constants of the CPython/OS model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Defaults come from shared/reference/cpython-mechanics.md and from
 * measurements of CPython 3.11 on a 2-vCPU Linux machine (see README,
 * "Faithful to CPython").  A scenario may override any of them in its
 * "params" object, using the JSON names given beside each field (values
 * in milliseconds unless the name says otherwise).  Names, defaults and
 * limits are in one table: il_param_table() in il-run-config.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  IL_START_FORK,
  IL_START_FORKSERVER,
  IL_START_SPAWN,
} IlStartMethod;

typedef struct {
  gint64        wake_latency;        /* "wake_latency_ms": futex wake → thread running on an idle core */
  gint64        timer_slack;         /* "timer_slack_ms": timed waits and sleeps fire this late */
  gint64        breaker_latency;     /* "breaker_latency_ms": drop request → holder reaches the eval breaker */
  gint64        os_slice;            /* "os_slice_ms": round-robin slice when threads outnumber cores */
  gint64        loop_iteration_cost; /* "loop_iteration_ms": one _run_once, excluding callbacks */
  gint64        task_step_cost;      /* "task_step_ms": Task.__step overhead per resume */
  gint64        task_create_cost;    /* "task_create_ms": create_task + finishing bookkeeping */
  gint64        thread_start_cost;   /* "thread_start_ms": threading.Thread.start() in the starter */
  gint64        pool_item_cost;      /* "pool_item_ms": ThreadPoolExecutor submit → result overhead */
  gint64        process_start_cost[3]; /* "fork_ms", "forkserver_ms", "spawn_ms": per started process */
  gint64        ipc_item_cost;       /* "ipc_item_ms": pickling + pipe per pool item, paid on each side */
  double        free_threading_overhead; /* "free_threading_overhead": 0.10 = Python code 10% slower */
  IlStartMethod start_method;        /* "start_method" at the scenario's top level */
  guint32       seed;                /* "seed" at the scenario's top level: which GIL waiter the OS wakes */
} IlParams;

/* From il_param_table ()'s defaults (il-run-config.c); the names of the
 * start methods are il_param_choices () of "start_method". */
void        il_params_init_defaults     (IlParams      *params);

G_END_DECLS
