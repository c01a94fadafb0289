/* bench-engine.c — how fast the engine simulates, and how compact its trace is
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints numbers; never fails on them.  Usage:
 *   bench-engine [TASKS] [STEPS]    (default 10000 tasks x 100 steps)
 *   bench-engine --scaling N        only the scaling row for N threads (for profilers),
 *                                   or with N = 0 only the scaling table
 *   bench-engine --same-load N      the same for the table of the same load at every size
 *   bench-engine --file TASKS STEPS only the scenario file and its statistics
 *   bench-engine --mode MODE [TASKS] [STEPS]
 *                                   only the baseline and that mode's row (for profilers)
 *
 * Times are the process's CPU time, which another busy process on the
 * machine disturbs much less than wall-clock time.
 *
 * 1. Scaling: threads mode with 100, 1 000, 10 000 and 100 000 threads, each
 *    alternating 1 ms of I/O and 50 µs of Python, 200 000 such pairs shared
 *    out.  The work is the same, the events are not: GIL contention makes
 *    2.1, 5.7, 4.3 and 3.2 M events; at 100 000 threads each thread runs two
 *    pairs, so about half its events start or end it, and only ~140 threads
 *    are alive at once.  The cost per event must not grow with
 *    the number of threads: each row shows its ratio to the 100-thread row,
 *    the in-run baseline (target: within 1.5×), with and without setting
 *    up and freeing the engine.  A second table keeps the mix of events
 *    instead: the same load at every size, all threads alive at once.
 * 2. Every mode on TASKS x STEPS, each with its ratio to the same steps
 *    run by 100 threads in the same run.
 * 3. The scenario file of 10 000 threads x 100 steps that
 *    `interleave-cli simulate` gets: written to a temporary file, then read
 *    and simulated in-process (target: within 2 s), and through the CLI too
 *    when INTERLEAVE_CLI names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "il-engine.h"
#include "il-stats.h"

static gint64
cpu_time_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

typedef struct {
  gsize  n_events;
  double secs;          /* il_simulate: set-up and run */
  double setup_secs;    /* il_engine_new + il_engine_free alone: scenario copy, lanes, tasks */
  gsize  bytes;
  gint64 end_time;
} Result;

/* A scenario file as a user would write it: n_tasks tasks, each a loop of
 * n_pairs x (1 ms I/O, 50 µs CPU). */
static char *
scenario_json (IlMode mode,
               guint  cores,
               guint  workers,
               guint  n_tasks,
               guint  n_pairs,
               double io_ms)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "{ \"title\": \"bench\", \"mode\": \"%s\", \"cores\": %u, \"workers\": %u, "
                          "\"tasks\": [\n", il_mode_to_string (mode), cores, workers);

  for (guint i = 0; i < n_tasks; i++)
    g_string_append_printf (s, "  { \"name\": \"t%u\", \"steps\": [ {\"repeat\": %u, \"steps\": "
                            "[ {\"io\": %.3f}, {\"cpu\": 0.05} ]} ] }%s\n",
                            i, MAX (1, n_pairs), io_ms, i + 1 < n_tasks ? "," : "");
  g_string_append (s, "] }\n");
  return g_string_free (s, FALSE);
}

/* Runs n_tasks tasks of n_pairs x (io_ms of I/O, 50 µs CPU) — a busy
 * server's worth of GIL hand-offs.  The scenario is read from JSON the way the CLI
 * and the window get one (scenarios are reference-counted and immutable),
 * outside the timed part.  Returns FALSE (and prints) on error. */
static gboolean
run_pairs (IlMode   mode,
           guint    n_tasks,
           guint    n_pairs,
           guint    workers,
           guint    cores,
           double   io_ms,
           Result  *res)
{
  g_autofree char *json = scenario_json (mode, cores, workers, n_tasks, n_pairs, io_ms);
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(IlTrace) trace = NULL;
  IlRunConfig cfg;
  IlEngine *setup;
  gint64 t0, t1;

  sc = il_scenario_load_data (json, -1, "bench", &error);
  if (sc == NULL)
    {
      printf ("%-15s %6u tasks: error: %s\n", il_mode_to_string (mode), n_tasks, error->message);
      return FALSE;
    }
  /* The scenario's own configuration, as `interleave-cli simulate` runs
   * it (another one would make the trace copy the scenario). */
  il_run_config_from_scenario (&cfg, sc);

  /* Setting up and freeing alone, to tell a cost per thread from a cost
   * per event.  Once untimed first: the first big allocation after
   * reading the scenario makes malloc consolidate the reader's freed
   * nodes (0.19 s for 100 000 tasks), which is not the engine's cost and
   * which il_simulate below does not pay again. */
  il_engine_free (il_engine_new (sc, &cfg));
  t0 = cpu_time_us ();
  setup = il_engine_new (sc, &cfg);
  il_engine_free (setup);
  t1 = cpu_time_us ();
  res->setup_secs = (double) (t1 - t0) / G_USEC_PER_SEC;

  t0 = cpu_time_us ();
  trace = il_simulate (sc, &cfg, &error);
  t1 = cpu_time_us ();

  if (trace == NULL)
    {
      printf ("%-15s %6u tasks: error: %s\n", il_mode_to_string (mode), n_tasks, error->message);
      return FALSE;
    }
  res->n_events = trace->n_events;
  res->secs = (double) (t1 - t0) / G_USEC_PER_SEC;
  res->bytes = il_trace_get_memory_size (trace);
  res->end_time = trace->end_time;
  return TRUE;
}

/* The in-run baseline of the modes' rows: threads mode with a hundred
 * threads, whose every thread stays in the caches, each running 20 times
 * the steps (a million events, long enough to time). */
static double baseline_rate;

static void
bench_mode (IlMode mode,
            guint  n_tasks,
            guint  n_steps,
            guint  workers)
{
  Result r;
  double rate;

  if (!run_pairs (mode, n_tasks, MAX (1, n_steps / 2), workers, 2, 1.0, &r))
    return;
  rate = (double) r.n_events / r.secs / 1e6;
  printf ("%-15s %6u tasks x %3u steps, workers %4u: %10zu events in %6.3f s = %6.2f M events/s "
          "= x%.2f of the baseline, %5.1f bytes/event, simulated %.1f s\n",
          il_mode_to_string (mode), n_tasks, n_steps, workers, r.n_events, r.secs, rate,
          baseline_rate > 0 ? rate / baseline_rate : 0.0, (double) r.bytes / (double) r.n_events,
          il_time_to_ms (r.end_time) / 1000.0);
}

static void
bench_baseline (guint n_steps)
{
  Result r;

  if (!run_pairs (IL_MODE_THREADS, 100, MAX (1, n_steps * 10), 0, 2, 1.0, &r))
    return;
  baseline_rate = (double) r.n_events / r.secs / 1e6;
  printf ("baseline: threads    100 tasks x %5u steps:              %10zu events in %6.3f s = %6.2f M events/s\n",
          MAX (1, n_steps * 10) * 2, r.n_events, r.secs, baseline_rate);
}

/* The cost per event as the number of threads grows.  Two tables:
 *  - the same work (200 000 pairs of 1 ms I/O and 50 µs CPU shared out):
 *    more threads make more GIL contention, so the mix of events changes
 *    with the size, and at 100 000 threads each runs two pairs, so only
 *    ~140 are alive at once;
 *  - the same load: each thread's I/O grows with the thread count (N x
 *    0.1 ms - 50 µs) so that the threads together want the GIL half of
 *    the time at every size, all of them alive at once: the same mix of
 *    events (1.6 M), only the number of threads changes.  (Overloading
 *    the GIL would not do: its waiters time out every interval, so the
 *    longer queue of more threads makes more events per pair.) */
static void
bench_scaling (guint    only,
               gboolean same_load)
{
  static const guint all_sizes[] = { 100, 1000, 10000, 100000 };
  const guint *sizes = only > 0 ? &only : all_sizes;
  guint n_sizes = only > 0 ? 1 : G_N_ELEMENTS (all_sizes);
  const guint total_pairs = 200000;
  double base = 0, base_run = 0, total_events = 0, total_secs = 0;

  if (same_load)
    printf ("\nthreads mode, 4 cores, the same load at every size: %u pairs of (N x 0.1 - 0.05 ms I/O "
            "+ 50 us CPU) shared out, all threads alive, the GIL busy half of the time:\n", total_pairs);
  else
    printf ("\nthreads mode, 4 cores, %u (1 ms I/O + 50 us CPU) pairs shared out:\n", total_pairs);
  for (guint i = 0; i < n_sizes; i++)
    {
      guint n = sizes[i];
      double io_ms = same_load ? n * 0.1 - 0.05 : 1.0;
      Result r;
      double ns, ns_run;

      if (!run_pairs (IL_MODE_THREADS, n, MAX (1, total_pairs / n), 0, 4, io_ms, &r))
        continue;
      ns = r.secs * 1e9 / (double) r.n_events;
      /* Without the one-off work per thread of il_engine_new and
       * il_engine_free, a large share at 100 000 threads of two steps. */
      ns_run = (r.secs - r.setup_secs) * 1e9 / (double) r.n_events;
      if (i == 0)
        {
          base = ns;
          base_run = ns_run;
        }
      total_events += (double) r.n_events;
      total_secs += r.secs;
      printf ("  %6u threads: %9zu events in %6.3f s = %6.1f ns/event = x%.2f of the first row; "
              "without set-up/free (%.3f s) %6.1f ns/event = x%.2f; %5.1f bytes/event\n",
              n, r.n_events, r.secs, ns, base > 0 ? ns / base : 0.0, r.setup_secs, ns_run,
              base_run > 0 ? ns_run / base_run : 0.0, (double) r.bytes / (double) r.n_events);
    }
  if (total_secs > 0)
    printf ("  threads mode overall: %.2f M events/s\n", total_events / total_secs / 1e6);
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* The statistics over a whole trace (what `simulate` prints and the window
 * shows after every run): median and spread of seven runs, in ms. */
static void
bench_stats (const IlTrace *trace)
{
  double ms[7];

  for (guint i = 0; i < G_N_ELEMENTS (ms); i++)
    {
      gint64 t0 = cpu_time_us ();
      IlStats *st = il_stats_compute (trace, IL_TIME_FOREVER);

      ms[i] = (double) (cpu_time_us () - t0) / 1000.0;
      il_stats_free (st);
    }
  qsort (ms, G_N_ELEMENTS (ms), sizeof ms[0], compare_double);
  printf ("statistics of those %zu events: %.1f ms (%.1f-%.1f), %.2f ns/event\n", trace->n_events,
          ms[3], ms[0], ms[G_N_ELEMENTS (ms) - 1], ms[3] * 1e6 / (double) MAX (1, trace->n_events));
}

static void
bench_file (guint n_tasks,
            guint n_steps)
{
  g_autofree char *json = scenario_json (IL_MODE_THREADS, 2, 0, n_tasks, MAX (1, n_steps / 2), 1.0);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(IlTrace) trace = NULL;
  const char *cli = g_getenv ("INTERLEAVE_CLI");
  gint64 t0, t1, t2;
  int fd;

  fd = g_file_open_tmp ("bench-engine-XXXXXX.json", &path, &error);
  if (fd < 0 || !g_file_set_contents (path, json, -1, &error))
    {
      printf ("cannot write the scenario: %s\n", error->message);
      return;
    }
  close (fd);

  t0 = cpu_time_us ();
  sc = il_scenario_load_file (path, &error);
  t1 = cpu_time_us ();
  if (sc != NULL)
    trace = il_simulate (sc, NULL, &error);
  t2 = cpu_time_us ();
  if (trace == NULL)
    printf ("\n%s: error: %s\n", path, error->message);
  else
    printf ("\nscenario file of %u threads x %u steps (%zu bytes): read in %.3f s, simulated in %.3f s "
            "(%zu events), together %.3f s\n",
            n_tasks, n_steps, strlen (json), (double) (t1 - t0) / G_USEC_PER_SEC,
            (double) (t2 - t1) / G_USEC_PER_SEC, trace->n_events, (double) (t2 - t0) / G_USEC_PER_SEC);
  if (trace != NULL)
    bench_stats (trace);

  if (cli != NULL)
    {
      const char *argv[] = { cli, "simulate", path, NULL };
      int status = 0;

      t0 = g_get_monotonic_time ();
      if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                        &status, &error))
        printf ("interleave-cli simulate on it: %.3f s (exit status %d)\n",
                (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC, WEXITSTATUS (status));
      else
        printf ("interleave-cli: %s\n", error->message);
    }
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  guint n_tasks, n_steps;

  if (argc > 2 && strcmp (argv[1], "--scaling") == 0)
    {
      /* 0: every row */
      bench_scaling ((guint) MAX (0, atoi (argv[2])), FALSE);
      return 0;
    }
  if (argc > 2 && strcmp (argv[1], "--same-load") == 0)
    {
      bench_scaling ((guint) MAX (0, atoi (argv[2])), TRUE);
      return 0;
    }
  if (argc > 3 && strcmp (argv[1], "--file") == 0)
    {
      bench_file ((guint) MAX (1, atoi (argv[2])), (guint) MAX (1, atoi (argv[3])));
      return 0;
    }
  if (argc > 2 && strcmp (argv[1], "--mode") == 0)
    {
      IlMode mode;

      if (!il_mode_from_string (argv[2], &mode))
        {
          fprintf (stderr, "bench-engine: unknown mode %s\n", argv[2]);
          return 2;
        }
      n_tasks = argc > 3 ? (guint) atoi (argv[3]) : 10000;
      n_steps = argc > 4 ? (guint) atoi (argv[4]) : 100;
      bench_baseline (n_steps);
      bench_mode (mode, n_tasks, n_steps, 0);
      return 0;
    }
  n_tasks = argc > 1 ? (guint) atoi (argv[1]) : 10000;
  n_steps = argc > 2 ? (guint) atoi (argv[2]) : 100;

  printf ("Interleave engine benchmark (%u tasks x %u steps; 2 cores, 5 ms interval)\n", n_tasks, n_steps);
  bench_baseline (n_steps);
  bench_mode (IL_MODE_THREADS, n_tasks, n_steps, 0);
  bench_mode (IL_MODE_THREADS, n_tasks, n_steps, 32);
  bench_mode (IL_MODE_ASYNCIO, n_tasks, n_steps, 0);
  bench_mode (IL_MODE_FREE_THREADING, n_tasks, n_steps, 32);
  bench_mode (IL_MODE_PROCESSES, n_tasks / 10, n_steps, 8);
  bench_mode (IL_MODE_SEQUENTIAL, n_tasks / 10, n_steps, 0);
  bench_scaling (0, FALSE);
  bench_scaling (0, TRUE);
  bench_file (10000, 100);
  return 0;
}
