/* test-stats.c — statistics of small deterministic runs, exact where the model is
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expected values are computed from the default parameters (the table in il-run-config.c), not
 * copied from a run: e.g. an I/O wait costs its duration plus wake_latency,
 * a sleep its duration plus timer_slack, a process its start cost.
 */
#include <math.h>
#include <string.h>

#include "il-engine.h"
#include "il-stats.h"
#include "test-util.h"

static const char *two_cpu =
  "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 100}]},"
  "            {\"name\": \"b\", \"steps\": [{\"cpu\": 100}]}]}";

static IlParams defaults;

static IlTrace *
simulate (const char *json,
          int         mode,     /* -1: the scenario's */
          guint32     cores)    /* 0: the scenario's */
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_data (json, -1, "stats.json", &error);
  IlRunConfig cfg;
  IlTrace *trace;

  g_assert_no_error (error);
  il_run_config_from_scenario (&cfg, sc);
  if (mode >= 0)
    cfg.mode = (IlMode) mode;
  if (cores > 0)
    cfg.cores = cores;
  trace = il_simulate (sc, &cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (trace);
  g_assert_true (trace->finished);
  return trace;
}

static const IlTaskStats *
task (const IlStats *st,
      const char    *name)
{
  for (guint i = 0; i < st->n_tasks; i++)
    if (g_strcmp0 (st->tasks[i].name, name) == 0)
      return &st->tasks[i];
  g_error ("no task %s", name);
  return NULL;
}

/* Invariants that hold for every finished run. */
static void
check_consistent (const IlTrace *trace,
                  const IlStats *st)
{
  gint64 busy = 0, gil_wait = 0, last_finish = 0;

  g_assert_cmpuint (st->n_cores, >=, 1);
  for (guint c = 0; c < st->n_cores; c++)
    {
      g_assert_cmpint (st->core_busy[c], >=, 0);
      g_assert_cmpint (st->core_busy[c], <=, st->makespan);
      busy += st->core_busy[c];
    }
  g_assert_cmpfloat (st->utilisation, >=, 0.0);
  g_assert_cmpfloat (st->utilisation, <=, 1.0);
  if (st->makespan > 0)
    g_assert_cmpfloat_with_epsilon (st->utilisation, (double) busy / ((double) st->n_cores * (double) st->makespan), 1e-9);

  for (guint i = 0; i < st->n_tasks; i++)
    {
      const IlTaskStats *ts = &st->tasks[i];
      gint64 sum = 0;

      g_assert_cmpint (il_trace_get_lane (trace, ts->lane)->kind, ==, IL_LANE_TASK);
      g_assert_cmpstr (ts->name, ==, il_trace_get_lane (trace, ts->lane)->name);
      g_assert_cmpint (ts->finish, >=, 0);
      g_assert_cmpint (ts->start, <=, ts->finish);
      for (int s = 0; s < IL_N_STATES; s++)
        if (s != IL_STATE_DONE)
          {
            g_assert_cmpint (ts->in_state[s], >=, 0);
            sum += ts->in_state[s];
          }
      /* every moment up to the finish is in exactly one state */
      g_assert_cmpint (sum, ==, ts->finish);
      gil_wait += ts->in_state[IL_STATE_WAIT_GIL];
      last_finish = MAX (last_finish, ts->finish);
    }
  g_assert_cmpint (st->total_gil_wait, ==, gil_wait);
  g_assert_cmpint (st->makespan, ==, last_finish);
  g_assert_cmpuint (st->gil_switches, <=, st->gil_takes);
  g_assert_cmpuint (st->forced_switches, <=, st->drop_requests);
}

static IlStats *
stats_of (const IlTrace *trace)
{
  IlStats *st = il_stats_compute (trace, trace->end_time);

  g_assert_nonnull (st);
  check_consistent (trace, st);
  return st;
}

static void
test_sequential (void)
{
  g_autoptr(IlTrace) trace = simulate (two_cpu, IL_MODE_SEQUENTIAL, 0);
  g_autoptr(IlStats) st = stats_of (trace);
  const IlTaskStats *a = task (st, "a"), *b = task (st, "b");

  /* one after the other in the main thread, no overhead at all */
  g_assert_cmpint (st->makespan, ==, IL_MSEC (200));
  g_assert_cmpint (trace->end_time, ==, IL_MSEC (200));
  g_assert_cmpuint (st->n_tasks, ==, 2);
  g_assert_cmpint (a->start, ==, 0);
  g_assert_cmpint (a->finish, ==, IL_MSEC (100));
  g_assert_cmpint (b->start, ==, IL_MSEC (100));
  g_assert_cmpint (b->finish, ==, IL_MSEC (200));
  g_assert_cmpint (a->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (b->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (b->in_state[IL_STATE_NOT_STARTED], ==, IL_MSEC (100));
  g_assert_cmpint (a->outcome, ==, IL_CAUSE_RETURNED);
  g_assert_cmpint (b->outcome, ==, IL_CAUSE_RETURNED);
  /* one thread on one of the two cores the whole time */
  g_assert_cmpuint (st->n_cores, ==, 2);
  g_assert_cmpint (st->core_busy[0] + st->core_busy[1], ==, IL_MSEC (200));
  g_assert_cmpfloat_with_epsilon (st->utilisation, 0.5, 1e-12);
  /* the main thread takes the GIL once and never gives it up */
  g_assert_cmpuint (st->gil_takes, ==, 1);
  g_assert_cmpuint (st->gil_switches, ==, 1);
  g_assert_cmpuint (st->drop_requests, ==, 0);
  g_assert_cmpuint (st->forced_switches, ==, 0);
  g_assert_cmpint (st->total_gil_wait, ==, 0);
  g_assert_cmpuint (st->loop_iterations, ==, 0);
}

static void
test_sequential_waits (void)
{
  static const char *json =
    "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 30}, {\"io\": 50}, {\"cpu\": 20}]},"
    "            {\"name\": \"b\", \"steps\": [{\"sleep\": 40}]}]}";
  g_autoptr(IlTrace) trace = simulate (json, IL_MODE_SEQUENTIAL, 0);
  g_autoptr(IlStats) st = stats_of (trace);
  const IlTaskStats *a = task (st, "a"), *b = task (st, "b");
  gint64 io_wait = IL_MSEC (50) + defaults.wake_latency;
  gint64 sleep_wait = IL_MSEC (40) + defaults.timer_slack;

  g_assert_cmpint (a->in_state[IL_STATE_RUNNING], ==, IL_MSEC (50));
  g_assert_cmpint (a->in_state[IL_STATE_WAIT_IO], ==, io_wait);
  g_assert_cmpint (a->finish, ==, IL_MSEC (50) + io_wait);
  g_assert_cmpint (b->start, ==, a->finish);
  g_assert_cmpint (b->in_state[IL_STATE_RUNNING], ==, 0);
  g_assert_cmpint (b->in_state[IL_STATE_SLEEPING], ==, sleep_wait);
  g_assert_cmpint (st->makespan, ==, IL_MSEC (50) + io_wait + sleep_wait);
  /* only the 50 ms of Python code keep a core busy */
  g_assert_cmpint (st->core_busy[0] + st->core_busy[1], ==, IL_MSEC (50));
  /* the same thread takes the GIL back after each wait: no switch */
  g_assert_cmpuint (st->gil_switches, ==, 1);
  g_assert_cmpuint (st->gil_takes, ==, 3);
}

static void
test_asyncio (void)
{
  g_autoptr(IlTrace) trace = simulate (two_cpu, IL_MODE_ASYNCIO, 0);
  g_autoptr(IlStats) st = stats_of (trace);
  const IlTaskStats *a = task (st, "a"), *b = task (st, "b");
  /* two loop iterations, two create_task, one Task.__step each */
  gint64 overhead = 2 * defaults.loop_iteration_cost + 2 * defaults.task_create_cost
                    + 2 * defaults.task_step_cost;

  g_assert_cmpint (st->makespan, ==, IL_MSEC (200) + overhead);
  g_assert_cmpint (a->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100) + defaults.task_step_cost);
  g_assert_cmpint (b->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100) + defaults.task_step_cost);
  /* b waits in the ready queue while a's step blocks the loop */
  g_assert_cmpint (b->in_state[IL_STATE_READY], >, IL_MSEC (100));
  g_assert_cmpint (b->start, ==, a->finish);
  g_assert_cmpuint (st->loop_iterations, ==, 2);
  g_assert_cmpint (st->total_gil_wait, ==, 0);
  g_assert_cmpuint (st->forced_switches, ==, 0);
  /* a single thread: at most half of two cores */
  g_assert_cmpfloat (st->utilisation, <=, 0.5);
}

static void
test_asyncio_io_overlaps (void)
{
  static const char *json =
    "{\"mode\": \"asyncio\", \"tasks\": [{\"name\": \"a\", \"steps\": [{\"io\": 100}]},"
    "                                  {\"name\": \"b\", \"steps\": [{\"io\": 100}]}]}";
  g_autoptr(IlTrace) trace = simulate (json, -1, 0);
  g_autoptr(IlStats) st = stats_of (trace);

  /* both waits overlap: far less than 200 ms, a little more than 100 */
  g_assert_cmpint (st->makespan, >, IL_MSEC (100));
  g_assert_cmpint (st->makespan, <, IL_MSEC (101));
  g_assert_cmpint (task (st, "a")->in_state[IL_STATE_WAIT_IO], >=, IL_MSEC (100));
  g_assert_cmpint (task (st, "b")->in_state[IL_STATE_WAIT_IO], >=, IL_MSEC (100));
  g_assert_cmpfloat (st->utilisation, <, 0.01);
}

static void
test_threads (void)
{
  g_autoptr(IlTrace) trace = simulate (two_cpu, IL_MODE_THREADS, 0);
  g_autoptr(IlStats) st = stats_of (trace);
  const IlTaskStats *a = task (st, "a"), *b = task (st, "b");

  /* the GIL lets one run at a time: no faster than sequential */
  g_assert_cmpint (st->makespan, >=, IL_MSEC (200) + 2 * defaults.thread_start_cost);
  g_assert_cmpint (st->makespan, <, IL_MSEC (210));
  g_assert_cmpint (a->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (b->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (a->start, ==, defaults.thread_start_cost);
  g_assert_cmpint (b->start, ==, 2 * defaults.thread_start_cost);
  /* each waits for the GIL about as long as the other runs */
  g_assert_cmpint (a->in_state[IL_STATE_WAIT_GIL], >, IL_MSEC (90));
  g_assert_cmpint (b->in_state[IL_STATE_WAIT_GIL], >, IL_MSEC (90));
  g_assert_cmpint (st->total_gil_wait, >, IL_MSEC (180));
  /* they take turns every switch interval (5 ms): about 200 / 5 switches */
  g_assert_cmpuint (st->gil_switches, >, 30);
  g_assert_cmpuint (st->gil_switches, <, 50);
  g_assert_cmpuint (st->forced_switches, >, 0);
  g_assert_cmpuint (st->drop_requests, >=, st->forced_switches);
  g_assert_cmpfloat (st->utilisation, <=, 0.5 + 1e-9);
  g_assert_cmpuint (st->loop_iterations, ==, 0);
}

static void
test_threads_switch_interval (void)
{
  g_autoptr(IlTrace) t5 = simulate (two_cpu, IL_MODE_THREADS, 0);
  g_autoptr(IlStats) s5 = stats_of (t5);
  g_autoptr(IlTrace) t20 = simulate ("{\"switch_interval_ms\": 20, \"tasks\": ["
                                     "{\"name\": \"a\", \"steps\": [{\"cpu\": 100}]},"
                                     "{\"name\": \"b\", \"steps\": [{\"cpu\": 100}]}]}",
                                     IL_MODE_THREADS, 0);
  g_autoptr(IlStats) s20 = stats_of (t20);

  /* a four times longer interval: about a quarter of the switches */
  g_assert_cmpuint (s20->gil_switches, <, s5->gil_switches);
  g_assert_cmpuint (s20->gil_switches * 3, <, s5->gil_switches);
  g_assert_cmpuint (s20->forced_switches, >, 0);
}

static void
test_free_threading (void)
{
  g_autoptr(IlTrace) trace = simulate (two_cpu, IL_MODE_FREE_THREADING, 0);
  g_autoptr(IlStats) st = stats_of (trace);
  const IlTaskStats *a = task (st, "a"), *b = task (st, "b");
  double slower = 1.0 + defaults.free_threading_overhead;
  gint64 cpu = (gint64) llround (IL_MSEC (100) * slower);
  gint64 start = (gint64) llround (defaults.thread_start_cost * slower);

  /* no GIL at all */
  g_assert_cmpuint (st->gil_switches, ==, 0);
  g_assert_cmpuint (st->gil_takes, ==, 0);
  g_assert_cmpuint (st->drop_requests, ==, 0);
  g_assert_cmpint (st->total_gil_wait, ==, 0);
  /* Python code runs 10 % slower, but both run at once on two cores */
  g_assert_cmpint (a->in_state[IL_STATE_RUNNING], ==, cpu);
  g_assert_cmpint (b->in_state[IL_STATE_RUNNING], ==, cpu);
  g_assert_cmpint (a->start, ==, start);
  g_assert_cmpint (b->start, ==, 2 * start);
  g_assert_cmpint (st->makespan, ==, 2 * start + cpu);
  g_assert_cmpfloat (st->utilisation, >, 0.99);
}

static void
test_processes (void)
{
  g_autoptr(IlTrace) t2 = simulate (two_cpu, IL_MODE_PROCESSES, 2);
  g_autoptr(IlStats) s2 = stats_of (t2);
  g_autoptr(IlTrace) t1 = simulate (two_cpu, IL_MODE_PROCESSES, 1);
  g_autoptr(IlStats) s1 = stats_of (t1);
  gint64 fork = defaults.process_start_cost[IL_START_FORK];

  g_assert_cmpint (defaults.start_method, ==, IL_START_FORK);
  /* two cores: the main process forks them one after the other, then they run in parallel */
  g_assert_cmpuint (s2->n_cores, ==, 2);
  g_assert_cmpint (task (s2, "a")->start, ==, fork);
  g_assert_cmpint (task (s2, "b")->start, ==, 2 * fork);
  g_assert_cmpint (task (s2, "a")->finish, ==, fork + IL_MSEC (100));
  g_assert_cmpint (s2->makespan, ==, 2 * fork + IL_MSEC (100));
  g_assert_cmpint (task (s2, "a")->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (task (s2, "b")->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (s2->total_gil_wait, ==, 0);
  g_assert_cmpuint (s2->forced_switches, ==, 0);
  /* busy: 2 × fork in the parent and 200 ms of work */
  g_assert_cmpint (s2->core_busy[0] + s2->core_busy[1], ==, 2 * fork + IL_MSEC (200));
  g_assert_cmpfloat_with_epsilon (s2->utilisation,
                                  (double) (2 * fork + IL_MSEC (200)) / (2.0 * (double) s2->makespan), 1e-12);

  /* one core: no parallelism, everything adds up, the core never idles */
  g_assert_cmpuint (s1->n_cores, ==, 1);
  g_assert_cmpint (s1->makespan, ==, 2 * fork + IL_MSEC (200));
  g_assert_cmpint (s1->core_busy[0], ==, s1->makespan);
  g_assert_cmpfloat_with_epsilon (s1->utilisation, 1.0, 1e-12);
  g_assert_cmpint (s1->makespan, >, s2->makespan);
  g_assert_cmpint (task (s1, "a")->in_state[IL_STATE_READY], >, 0);
}

static void
test_spawn_costs_more (void)
{
  g_autoptr(IlTrace) trace = simulate ("{\"start_method\": \"spawn\", \"tasks\": ["
                                       "{\"name\": \"a\", \"steps\": [{\"cpu\": 100}]},"
                                       "{\"name\": \"b\", \"steps\": [{\"cpu\": 100}]}]}",
                                       IL_MODE_PROCESSES, 2);
  g_autoptr(IlStats) st = stats_of (trace);
  gint64 spawn = defaults.process_start_cost[IL_START_SPAWN];
  /* spawn only sends a request: the parent pays a fixed 1 ms per process
   * (process_parent_cost in il-engine.c) and each child pays the spawn cost
   * booting, in parallel on its own core */
  gint64 parent = IL_MSEC (1);

  /* the child's start-up is its own state; the task starts after it */
  g_assert_cmpint (task (st, "a")->start, ==, parent + spawn);
  g_assert_cmpint (task (st, "b")->start, ==, 2 * parent + spawn);
  g_assert_cmpint (task (st, "a")->in_state[IL_STATE_STARTING], ==, spawn);
  g_assert_cmpint (task (st, "a")->in_state[IL_STATE_RUNNING], ==, IL_MSEC (100));
  g_assert_cmpint (task (st, "a")->finish, ==, parent + spawn + IL_MSEC (100));
  g_assert_cmpint (st->makespan, ==, 2 * parent + spawn + IL_MSEC (100));
}

static void
test_params_override (void)
{
  /* "params" changes the start cost the stats see */
  g_autoptr(IlTrace) trace = simulate ("{\"params\": {\"fork_ms\": 3}, \"tasks\": ["
                                       "{\"name\": \"a\", \"steps\": [{\"cpu\": 100}]},"
                                       "{\"name\": \"b\", \"steps\": [{\"cpu\": 100}]}]}",
                                       IL_MODE_PROCESSES, 2);
  g_autoptr(IlStats) st = stats_of (trace);

  g_assert_cmpint (st->makespan, ==, IL_MSEC (106));
}

static void
test_failed_outcome (void)
{
  g_autoptr(IlTrace) trace = simulate ("{\"tasks\": [{\"name\": \"bad\", \"steps\": [{\"cpu\": 5}, {\"fail\": \"boom\"}, {\"cpu\": 50}]},"
                                       "            {\"name\": \"good\", \"steps\": [{\"cpu\": 5}]}]}",
                                       IL_MODE_SEQUENTIAL, 0);
  g_autoptr(IlStats) st = stats_of (trace);

  g_assert_cmpint (task (st, "bad")->outcome, ==, IL_CAUSE_FAILED);
  g_assert_cmpint (task (st, "bad")->finish, ==, IL_MSEC (5));
  g_assert_cmpint (task (st, "bad")->in_state[IL_STATE_RUNNING], ==, IL_MSEC (5));
}

static void
test_upto (void)
{
  g_autoptr(IlTrace) trace = simulate (two_cpu, IL_MODE_SEQUENTIAL, 0);
  g_autoptr(IlStats) mid = il_stats_compute (trace, IL_MSEC (150));
  g_autoptr(IlStats) early = il_stats_compute (trace, IL_MSEC (40));
  g_autoptr(IlStats) full = il_stats_compute (trace, trace->end_time);

  /* while unfinished, makespan is the time so far */
  g_assert_cmpint (mid->upto, ==, IL_MSEC (150));
  g_assert_cmpint (mid->makespan, ==, IL_MSEC (150));
  g_assert_cmpint (task (mid, "a")->finish, ==, IL_MSEC (100));
  g_assert_cmpint (task (mid, "a")->outcome, ==, IL_CAUSE_RETURNED);
  g_assert_cmpint (task (mid, "b")->start, ==, IL_MSEC (100));
  g_assert_cmpint (task (mid, "b")->finish, ==, -1);
  g_assert_cmpint (task (mid, "b")->outcome, ==, IL_CAUSE_NONE);
  g_assert_cmpint (task (mid, "b")->in_state[IL_STATE_RUNNING], ==, IL_MSEC (50));
  g_assert_cmpint (task (mid, "b")->in_state[IL_STATE_NOT_STARTED], ==, IL_MSEC (100));

  g_assert_cmpint (early->makespan, ==, IL_MSEC (40));
  g_assert_cmpint (task (early, "a")->finish, ==, -1);
  g_assert_cmpint (task (early, "a")->in_state[IL_STATE_RUNNING], ==, IL_MSEC (40));
  g_assert_cmpint (task (early, "b")->start, ==, -1);
  g_assert_cmpint (task (early, "b")->in_state[IL_STATE_NOT_STARTED], ==, IL_MSEC (40));
  g_assert_cmpfloat_with_epsilon (early->utilisation, 0.5, 1e-12);

  g_assert_cmpint (full->makespan, ==, IL_MSEC (200));
  g_assert_cmpint (full->gil_takes, >=, mid->gil_takes);
}

static void
test_deterministic (void)
{
  g_autoptr(IlTrace) t1 = simulate (two_cpu, IL_MODE_THREADS, 0);
  g_autoptr(IlTrace) t2 = simulate (two_cpu, IL_MODE_THREADS, 0);
  g_autoptr(IlStats) s1 = stats_of (t1);
  g_autoptr(IlStats) s2 = stats_of (t2);

  g_assert_cmpint (s1->makespan, ==, s2->makespan);
  g_assert_cmpuint (s1->gil_switches, ==, s2->gil_switches);
  g_assert_cmpuint (s1->forced_switches, ==, s2->forced_switches);
  g_assert_cmpint (s1->total_gil_wait, ==, s2->total_gil_wait);
  g_assert_cmpmem (s1->core_busy, s1->n_cores * sizeof (gint64), s2->core_busy, s2->n_cores * sizeof (gint64));
  for (guint i = 0; i < s1->n_tasks; i++)
    g_assert_cmpmem (s1->tasks[i].in_state, sizeof s1->tasks[i].in_state,
                     s2->tasks[i].in_state, sizeof s2->tasks[i].in_state);
}

static void
test_empty_trace (void)
{
  g_autoptr(IlTrace) trace = il_trace_new ();
  g_autoptr(IlStats) st = NULL;

  il_trace_add_lane (trace, IL_LANE_CORE, "Core 0", IL_NO_LANE, 0);
  st = il_stats_compute (trace, 0);
  g_assert_nonnull (st);
  g_assert_cmpuint (st->n_tasks, ==, 0);
  g_assert_cmpuint (st->n_cores, ==, 1);
  g_assert_cmpint (st->makespan, ==, 0);
  g_assert_cmpfloat (st->utilisation, ==, 0.0);
  g_assert_cmpuint (st->gil_switches, ==, 0);
}

/* Thread-time waiting for the GIL counts every thread once: where the
 * tasks are the threads it is the tasks' GIL wait; with asyncio.to_thread
 * the coroutines never wait for the GIL but the workers that run their
 * work do (lesson 13), which the tasks' sum missed, so the statistics
 * said "Total GIL wait 0 ns" beside a timeline full of waiting. */
static void
test_threads_gil_wait (void)
{
  g_autoptr(IlTrace) threads = tu_run_lesson ("02-gil-cpu-threads.json", IL_MODE_THREADS);
  g_autoptr(IlTrace) offload = tu_run_lesson ("13-offload-to-thread.json", IL_MODE_ASYNCIO);
  g_autoptr(IlStats) st = il_stats_compute (threads, G_MAXINT64);
  g_autoptr(IlStats) so = il_stats_compute (offload, G_MAXINT64);
  g_autoptr(IlStats) half = il_stats_compute (offload, offload->end_time / 2);

  g_assert_cmpint (st->total_gil_wait, >, IL_MSEC (100));
  g_assert_cmpint (st->threads_gil_wait, ==, st->total_gil_wait);
  g_assert_cmpint (so->total_gil_wait, ==, 0);
  g_assert_cmpint (so->threads_gil_wait, >, IL_MSEC (300));
  /* Up to the middle of the run: no more than the whole, and some. */
  g_assert_cmpint (half->threads_gil_wait, >, 0);
  g_assert_cmpint (half->threads_gil_wait, <, so->threads_gil_wait);
}

/* A task lane's time is its STATE events': a loaded .itrace may put other
 * boundary events on it (a CORE event whose value is no state, a GIL take),
 * and those must neither be summed as a state nor index past in_state.
 * With value 200 the sum wrote 1.6 kB past the task's statistics. */
static void
test_task_lane_other_events (void)
{
  g_autoptr(IlTrace) trace = il_trace_new ();
  guint32 task = il_trace_add_lane (trace, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  g_autoptr(IlStats) st = NULL;
  gint64 sum = 0;

  il_trace_append (trace, 0, task, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_START, IL_NO_LANE);
  il_trace_append (trace, 10, task, IL_EVENT_CORE, 200, 0, IL_NO_LANE);
  il_trace_append (trace, 20, task, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_NONE, IL_NO_LANE);
  il_trace_append (trace, 30, task, IL_EVENT_GIL_TAKE, IL_STATE_WAIT_GIL, 0, IL_NO_LANE);
  il_trace_append (trace, 40, task, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_RETURNED, IL_NO_LANE);
  il_trace_set_end_time (trace, 40);
  st = il_stats_compute (trace, G_MAXINT64);

  g_assert_cmpuint (st->n_tasks, ==, 1);
  g_assert_cmpint (st->tasks[0].in_state[IL_STATE_WAIT_GIL], ==, 0);
  for (guint s = 0; s < IL_N_STATES; s++)
    sum += st->tasks[0].in_state[s];
  g_assert_cmpint (sum, ==, st->tasks[0].in_state[IL_STATE_RUNNING]);
  g_assert_cmpint (st->tasks[0].finish, ==, 40);
  g_assert_cmpuint (st->gil_switches, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  il_params_init_defaults (&defaults);
  g_test_add_func ("/stats/sequential", test_sequential);
  g_test_add_func ("/stats/sequential-waits", test_sequential_waits);
  g_test_add_func ("/stats/asyncio", test_asyncio);
  g_test_add_func ("/stats/asyncio-io-overlaps", test_asyncio_io_overlaps);
  g_test_add_func ("/stats/threads", test_threads);
  g_test_add_func ("/stats/threads-switch-interval", test_threads_switch_interval);
  g_test_add_func ("/stats/free-threading", test_free_threading);
  g_test_add_func ("/stats/processes", test_processes);
  g_test_add_func ("/stats/spawn", test_spawn_costs_more);
  g_test_add_func ("/stats/params-override", test_params_override);
  g_test_add_func ("/stats/failed-outcome", test_failed_outcome);
  g_test_add_func ("/stats/upto", test_upto);
  g_test_add_func ("/stats/deterministic", test_deterministic);
  g_test_add_func ("/stats/empty-trace", test_empty_trace);
  g_test_add_func ("/stats/threads-gil-wait", test_threads_gil_wait);
  g_test_add_func ("/stats/task-lane-other-events", test_task_lane_other_events);
  return g_test_run ();
}
