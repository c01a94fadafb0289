/* bench-engine.c — how fast the engine simulates, and how compact its trace is
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints numbers; never fails on them.  Usage:
 *   bench-engine [TASKS] [STEPS]    (default 10000 tasks x 100 steps)
 */
#include <stdio.h>
#include <stdlib.h>

#include "il-engine.h"

static void
bench_mode (IlMode   mode,
            guint    n_tasks,
            guint    n_steps,
            guint    workers)
{
  IlStep body[2] = { { 0 } };
  IlStep loop = { 0 };
  IlScenario sc = { 0 };
  IlRunConfig cfg;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = NULL;
  IlTask *tasks = g_new0 (IlTask, n_tasks);
  gint64 t0, t1;
  double secs;

  /* Each task: n_steps / 2 x (1 ms I/O, 50 us CPU) — a busy server's worth of
   * GIL hand-offs. */
  body[0].kind = IL_STEP_IO;
  body[0].duration = IL_MSEC (1);
  body[1].kind = IL_STEP_CPU;
  body[1].duration = IL_USEC (50);
  loop.kind = IL_STEP_REPEAT;
  loop.count = MAX (1, n_steps / 2);
  loop.children = body;
  loop.n_children = 2;

  for (guint i = 0; i < n_tasks; i++)
    {
      tasks[i].name = g_strdup_printf ("t%u", i);
      tasks[i].steps = &loop;
      tasks[i].n_steps = 1;
      tasks[i].group = -1;
    }
  sc.title = (char *) "bench";
  sc.mode = mode;
  sc.cores = 2;
  sc.workers = workers;
  sc.switch_interval = IL_MSEC (5);
  il_params_init_defaults (&sc.params);
  sc.tasks = tasks;
  sc.n_tasks = n_tasks;
  il_run_config_from_scenario (&cfg, &sc);

  t0 = g_get_monotonic_time ();
  trace = il_simulate (&sc, &cfg, &error);
  t1 = g_get_monotonic_time ();
  secs = (double) (t1 - t0) / G_USEC_PER_SEC;

  if (trace == NULL)
    printf ("%-15s %6u tasks x %3u steps, workers %4u: error: %s\n",
            il_mode_to_string (mode), n_tasks, n_steps, workers, error->message);
  else
    printf ("%-15s %6u tasks x %3u steps, workers %4u: %10zu events in %6.3f s = %6.2f M events/s, "
            "%5.1f bytes/event, simulated %.1f s\n",
            il_mode_to_string (mode), n_tasks, n_steps, workers, trace->n_events, secs,
            (double) trace->n_events / secs / 1e6,
            (double) il_trace_get_memory_size (trace) / (double) trace->n_events,
            il_time_to_ms (trace->end_time) / 1000.0);

  for (guint i = 0; i < n_tasks; i++)
    g_free (tasks[i].name);
  g_free (tasks);
}

int
main (int   argc,
      char *argv[])
{
  guint n_tasks = argc > 1 ? (guint) atoi (argv[1]) : 10000;
  guint n_steps = argc > 2 ? (guint) atoi (argv[2]) : 100;

  printf ("Interleave engine benchmark (%u tasks x %u steps; 2 cores, 5 ms interval)\n", n_tasks, n_steps);
  bench_mode (IL_MODE_THREADS, n_tasks, n_steps, 0);
  bench_mode (IL_MODE_THREADS, n_tasks, n_steps, 32);
  bench_mode (IL_MODE_ASYNCIO, n_tasks, n_steps, 0);
  bench_mode (IL_MODE_FREE_THREADING, n_tasks, n_steps, 32);
  bench_mode (IL_MODE_PROCESSES, n_tasks / 10, n_steps, 8);
  bench_mode (IL_MODE_SEQUENTIAL, n_tasks / 10, n_steps, 0);
  return 0;
}
