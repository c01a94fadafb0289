/* test-engine.c — exact semantics of the simulator, mode by mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every expectation here follows from the model in il-engine.c and the
 * default parameters, not from timing: the engine is deterministic, so the
 * numbers are exact or bounded by what the rules allow.
 */
#include <string.h>

#include "il-engine.h"
#include "test-util.h"

static IlTrace *
run (const IlScenario *sc,
     int               mode)
{
  IlRunConfig cfg;
  GError *error = NULL;
  IlTrace *trace;

  il_run_config_from_scenario (&cfg, sc);
  if (mode >= 0)
    cfg.mode = (IlMode) mode;
  trace = il_simulate (sc, &cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (trace);
  g_assert_true (trace->finished);
  return trace;
}

static guint32
lane_named (const IlTrace *trace,
            const char    *name)
{
  for (guint l = 0; l < il_trace_get_n_lanes (trace); l++)
    if (g_strcmp0 (il_trace_get_lane (trace, l)->name, name) == 0)
      return l;
  g_error ("no lane %s", name);
  return IL_NO_LANE;
}

static gint64
finish_time (const IlTrace *trace,
             const char    *task)
{
  return tu_first_state (trace, lane_named (trace, task), IL_STATE_DONE);
}

static IlCause
outcome (const IlTrace *trace,
         const char    *task)
{
  gsize e;

  g_assert_cmpint (il_trace_state_at (trace, lane_named (trace, task), trace->end_time, &e), ==, IL_STATE_DONE);
  return (IlCause) trace->aux[e];
}

static gint64
time_in_state (const IlTrace *trace,
               guint32        lane,
               IlState        state)
{
  const IlLaneIndex *ev = il_trace_get_lane_events (trace, lane);
  gint64 total = 0, since = 0;
  int cur = IL_STATE_NOT_STARTED;

  for (guint i = 0; i < ev->len; i++)
    {
      guint32 e = ev->data[i];
      if (trace->kind[e] != IL_EVENT_STATE)
        continue;
      if (cur == (int) state)
        total += trace->time[e] - since;
      cur = trace->value[e];
      since = trace->time[e];
    }
  if (cur == (int) state)
    total += trace->end_time - since;
  return total;
}

static guint
count_events (const IlTrace *trace,
              IlEventKind    kind,
              int            value)
{
  guint n = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    if (trace->kind[i] == kind && (value < 0 || trace->value[i] == value))
      n++;
  return n;
}

/* The most task lanes in `state` at any one moment. */
static guint
max_concurrent (const IlTrace *trace,
                IlState        state)
{
  g_autofree guint8 *cur = g_new0 (guint8, il_trace_get_n_lanes (trace));
  guint n = 0, best = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    {
      guint32 l = il_trace_event_lane (trace, i);

      if (trace->kind[i] == IL_EVENT_STATE && il_trace_get_lane (trace, l)->kind == IL_LANE_TASK)
        {
          if (cur[l] == state)
            n--;
          cur[l] = trace->value[i];
          if (cur[l] == state)
            n++;
        }
      /* Count only after every event of this instant has been applied. */
      if (i + 1 == trace->n_events || trace->time[i + 1] != trace->time[i])
        best = MAX (best, n);
    }
  return best;
}

#define MS(x) IL_MSEC (x)

/* ------------------------------------------------------------------ */

static void
test_determinism (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"repeat\":20,\"steps\":[{\"io\":0.3},{\"cpu\":2}]}]},"
    "{\"name\":\"b\",\"steps\":[{\"cpu\":30}]},"
    "{\"name\":\"c\",\"steps\":[{\"cpu\":30},{\"sleep\":1},{\"cpu\":5}]}]}");

  for (int mode = 0; mode < IL_N_MODES; mode++)
    {
      g_autoptr(IlTrace) t1 = run (sc, mode);
      g_autoptr(IlTrace) t2 = run (sc, mode);

      g_assert_cmpuint (t1->n_events, ==, t2->n_events);
      g_assert_cmpmem (t1->time, t1->n_events * sizeof (gint64), t2->time, t2->n_events * sizeof (gint64));
      for (gsize i = 0; i < t1->n_events; i++)
        g_assert_cmpuint (il_trace_event_lane (t1, i), ==, il_trace_event_lane (t2, i));
      g_assert_cmpmem (t1->kind, t1->n_events, t2->kind, t2->n_events);
      g_assert_cmpmem (t1->arg, t1->n_events * sizeof (guint32), t2->arg, t2->n_events * sizeof (guint32));
    }
}

/* Driving the engine in small steps gives exactly the one-shot trace. */
static void
test_steppable (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"repeat\":10,\"steps\":[{\"io\":3},{\"cpu\":1}]}]},"
    "{\"name\":\"b\",\"steps\":[{\"cpu\":12},{\"sleep\":5}]}]}");

  for (int mode = 0; mode < IL_N_MODES; mode++)
    {
      g_autoptr(IlTrace) whole = run (sc, mode);
      IlRunConfig cfg;
      g_autoptr(IlEngine) engine = NULL;
      IlTrace *stepped;
      gint64 t = 0;

      il_run_config_from_scenario (&cfg, sc);
      cfg.mode = (IlMode) mode;
      engine = il_engine_new (sc, &cfg);
      while (!il_engine_is_finished (engine))
        {
          t += IL_USEC (700);
          g_assert_true (il_engine_run_until (engine, t, NULL));
          g_assert_cmpint (il_engine_get_now (engine), <=, t);
          g_assert_cmpint (il_engine_get_trace (engine)->end_time, ==, il_engine_get_now (engine));
        }
      stepped = il_engine_get_trace (engine);
      g_assert_cmpuint (stepped->n_events, ==, whole->n_events);
      g_assert_cmpmem (stepped->time, whole->n_events * sizeof (gint64), whole->time, whole->n_events * sizeof (gint64));
      g_assert_cmpint (stepped->end_time, ==, whole->end_time);
      /* The lane indices, built once per call while the engine appends in
       * bulk, list the same events as the one-shot run's. */
      g_assert_cmpuint (stepped->lane_events->len, ==, whole->lane_events->len);
      for (guint l = 0; l < whole->lane_events->len; l++)
        {
          const IlLaneIndex *a = il_trace_get_lane_events (stepped, l);
          const IlLaneIndex *b = il_trace_get_lane_events (whole, l);

          g_assert_cmpuint (a->len, ==, b->len);
          g_assert_cmpmem (a->data, a->len * sizeof (guint32), b->data, b->len * sizeof (guint32));
        }
    }
}

static void
test_sequential (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"sequential\",\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":200}]},"
    "{\"name\":\"b\",\"steps\":[{\"cpu\":100},{\"c\":50}]},"
    "{\"name\":\"c\",\"steps\":[{\"io\":100}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  const IlParams *p = &sc->params;

  /* One after another, nothing overlaps, CPU costs exactly what it says. */
  g_assert_cmpint (finish_time (t, "a"), ==, MS (200));
  g_assert_cmpint (finish_time (t, "b"), ==, MS (350));
  g_assert_cmpint (finish_time (t, "c"), ==, MS (450) + p->wake_latency);
  g_assert_cmpint (tu_first_state (t, lane_named (t, "b"), IL_STATE_RUNNING), ==, MS (200));
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 1);
  g_assert_cmpuint (count_events (t, IL_EVENT_GIL_REQUEST, -1), ==, 0);
}

static void
test_threads_cpu_bound_no_speedup (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"cores\":4,\"switch_interval_ms\":5,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":100}]},{\"name\":\"b\",\"steps\":[{\"cpu\":100}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint switches = count_events (t, IL_EVENT_GIL_TAKE, 1);
  guint requests = count_events (t, IL_EVENT_GIL_REQUEST, -1);
  guint forced = count_events (t, IL_EVENT_GIL_DROP, IL_GIL_DROP_FORCED);

  /* The GIL serialises them: no speed-up even with 4 cores. */
  g_assert_cmpint (t->end_time, >=, MS (200));
  g_assert_cmpint (t->end_time, <, MS (205));
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 1);
  /* One forced switch per interval (plus slack and wake-ups): ~5.1 ms slices. */
  g_assert_cmpuint (forced, ==, requests);
  g_assert_cmpuint (switches, >=, 36);
  g_assert_cmpuint (switches, <=, 41);
  /* Each thread runs exactly its CPU time; the rest is waiting for the GIL. */
  g_assert_cmpint (time_in_state (t, lane_named (t, "a"), IL_STATE_RUNNING), ==, MS (100));
  g_assert_cmpint (time_in_state (t, lane_named (t, "b"), IL_STATE_RUNNING), ==, MS (100));
}

/* A drop request is only posted by a waiter whose wait timed out with no
 * switch in between: never sooner than one interval after the last take. */
static void
test_drop_request_after_timeout (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"switch_interval_ms\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":40}]},{\"name\":\"b\",\"steps\":[{\"cpu\":40}]},"
    "{\"name\":\"c\",\"steps\":[{\"repeat\":30,\"steps\":[{\"cpu\":0.5},{\"io\":0.5}]}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint32 gil = IL_NO_LANE;
  gint64 last_take = 0;
  guint32 holder = IL_NO_LANE;
  guint requests = 0;

  for (guint l = 0; l < il_trace_get_n_lanes (t); l++)
    if (il_trace_get_lane (t, l)->kind == IL_LANE_GIL)
      gil = l;
  g_assert_cmpuint (gil, !=, IL_NO_LANE);

  for (gsize i = 0; i < t->n_events; i++)
    {
      if (il_trace_event_lane (t, i) != gil)
        continue;
      switch (t->kind[i])
        {
        case IL_EVENT_GIL_TAKE:
          /* Never two holders. */
          g_assert_cmpuint (holder, ==, IL_NO_LANE);
          holder = t->arg[i];
          if (t->value[i])
            last_take = t->time[i];
          break;
        case IL_EVENT_GIL_DROP:
          g_assert_cmpuint (holder, ==, t->arg[i]);
          holder = IL_NO_LANE;
          break;
        case IL_EVENT_GIL_REQUEST:
          requests++;
          g_assert_cmpuint (t->arg[i], !=, holder);
          g_assert_cmpint (t->time[i] - last_take, >=, MS (2));
          break;
        default:
          break;
        }
    }
  g_assert_cmpuint (requests, >, 10);
}

/* bpo-7946: an I/O thread beside a CPU-bound one waits an interval per I/O. */
static void
test_convoy (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"io\",\"steps\":[{\"repeat\":20,\"steps\":[{\"io\":0.05},{\"cpu\":0.02}]}]},"
    "{\"name\":\"cpu\",\"steps\":[{\"cpu\":500}]}]}");
  g_autoptr(IlScenario) alone = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"io\",\"steps\":[{\"repeat\":20,\"steps\":[{\"io\":0.05},{\"cpu\":0.02}]}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  g_autoptr(IlTrace) ta = run (alone, -1);

  g_assert_cmpint (finish_time (ta, "io"), <, MS (3));
  /* Every I/O completion is followed by a full interval of waiting. */
  g_assert_cmpint (finish_time (t, "io"), >=, 20 * MS (5));
  g_assert_cmpint (finish_time (t, "io"), <, 20 * MS (5.3));
  g_assert_cmpint (time_in_state (t, lane_named (t, "io"), IL_STATE_WAIT_GIL), >=, 19 * MS (5));
  g_assert_cmpint (t->end_time, <, MS (510));
}

/* Short syscalls finish inside the waiter's wake latency: the releasing
 * thread takes the GIL straight back (barging).  Every release signals the
 * waiter, which starts a fresh timed wait, so it never times out and never
 * posts a drop request: it gets the GIL only when "fast" is done. */
static void
test_barging (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"fast\",\"steps\":[{\"repeat\":200,\"steps\":[{\"io\":0.001},{\"cpu\":0.1}]}]},"
    "{\"name\":\"cpu\",\"steps\":[{\"sleep\":1},{\"cpu\":30}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint32 cpu = lane_named (t, "cpu");

  /* 200 x (1 us + 100 us) plus the thread start: not slowed at all. */
  g_assert_cmpint (finish_time (t, "fast"), <, MS (20.5));
  g_assert_cmpuint (count_events (t, IL_EVENT_GIL_REQUEST, -1), ==, 0);
  g_assert_cmpint (tu_first_state (t, cpu, IL_STATE_RUNNING), >=, finish_time (t, "fast"));
  g_assert_cmpint (time_in_state (t, cpu, IL_STATE_WAIT_GIL), >=, MS (19));
}

/* One long C call that keeps the GIL is never interrupted. */
static void
test_c_call_holds_gil (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"sum\",\"steps\":[{\"c\":400}]},"
    "{\"name\":\"ticker\",\"steps\":[{\"sleep\":1},{\"cpu\":0.01}]}]}");
  g_autoptr(IlScenario) rel = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"hash\",\"steps\":[{\"c\":400,\"gil\":\"release\"}]},"
    "{\"name\":\"ticker\",\"steps\":[{\"sleep\":1},{\"cpu\":0.01}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  g_autoptr(IlTrace) tr = run (rel, -1);

  g_assert_cmpint (finish_time (t, "ticker"), >=, MS (400));
  /* The ticker's drop request waits for the call to return. */
  g_assert_cmpuint (count_events (t, IL_EVENT_GIL_REQUEST, -1), >=, 1);
  for (gsize i = 0; i < t->n_events; i++)
    if (t->kind[i] == IL_EVENT_GIL_DROP && t->value[i] == IL_GIL_DROP_FORCED)
      g_assert_cmpint (t->time[i], >=, MS (400));
  /* Released: the ticker is not delayed. */
  g_assert_cmpint (finish_time (tr, "ticker"), <, MS (2));
}

static void
test_free_threading (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"free-threading\",\"cores\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":100}]},{\"name\":\"b\",\"steps\":[{\"cpu\":100}]},"
    "{\"name\":\"c\",\"steps\":[{\"cpu\":100}]},{\"name\":\"d\",\"steps\":[{\"cpu\":100}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);

  /* Parallel on 2 cores, each 10% slower: 4 x 110 / 2 = 220 ms (+ starts). */
  g_assert_cmpint (t->end_time, >=, MS (220));
  g_assert_cmpint (t->end_time, <, MS (222));
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 2);
  g_assert_cmpuint (count_events (t, IL_EVENT_GIL_TAKE, -1), ==, 0);
  g_assert_cmpint (time_in_state (t, lane_named (t, "a"), IL_STATE_RUNNING), ==, MS (110));
}

static void
test_processes (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"processes\",\"cores\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":100}]},{\"name\":\"b\",\"steps\":[{\"cpu\":100}]}]}");
  g_autoptr(IlScenario) spawn = tu_load (
    "{\"mode\":\"processes\",\"cores\":2,\"start_method\":\"spawn\",\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":100}]},{\"name\":\"b\",\"steps\":[{\"cpu\":100}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  g_autoptr(IlTrace) ts = run (spawn, -1);
  const IlParams *p = &sc->params;
  guint gils = 0;

  for (guint l = 0; l < il_trace_get_n_lanes (t); l++)
    gils += il_trace_get_lane (t, l)->kind == IL_LANE_GIL;
  /* Main process plus one per task, each with its own GIL. */
  g_assert_cmpuint (gils, ==, 3);
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 2);
  /* fork: the parent forks one after the other; each child then runs. */
  g_assert_cmpint (tu_first_state (t, lane_named (t, "a"), IL_STATE_RUNNING), ==, p->process_start_cost[IL_START_FORK]);
  g_assert_cmpint (finish_time (t, "b"), ==, 2 * p->process_start_cost[IL_START_FORK] + MS (100));
  /* spawn: each child starts a new interpreter first. */
  g_assert_cmpint (ts->end_time, >=, p->process_start_cost[IL_START_SPAWN] + MS (100));
}

static void
test_thread_pool (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"workers\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"io\":10}]},{\"name\":\"b\",\"steps\":[{\"io\":10}]},"
    "{\"name\":\"c\",\"steps\":[{\"io\":10}]},{\"name\":\"d\",\"steps\":[{\"io\":10}]},"
    "{\"name\":\"e\",\"steps\":[{\"io\":10}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint workers = 0;

  for (guint l = 0; l < il_trace_get_n_lanes (t); l++)
    workers += g_str_has_prefix (il_trace_get_lane (t, l)->name, "ThreadPoolExecutor-");
  g_assert_cmpuint (workers, ==, 2);
  /* Two at a time, in submission order: 3 rounds of 10 ms. */
  g_assert_cmpuint (max_concurrent (t, IL_STATE_WAIT_IO), ==, 2);
  g_assert_cmpint (t->end_time, >=, MS (30));
  g_assert_cmpint (t->end_time, <, MS (31));
  g_assert_cmpint (finish_time (t, "c"), >=, finish_time (t, "a"));
  g_assert_cmpint (tu_first_state (t, lane_named (t, "e"), IL_STATE_WAIT_IO), >=, MS (20));
}

static void
test_process_pool (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"processes\",\"workers\":2,\"cores\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":50}]},{\"name\":\"b\",\"steps\":[{\"cpu\":50}]},"
    "{\"name\":\"c\",\"steps\":[{\"cpu\":50}]},{\"name\":\"d\",\"steps\":[{\"cpu\":50}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  const IlParams *p = &sc->params;
  gint64 fork = p->process_start_cost[IL_START_FORK];

  /* Both workers are forked when the pool is first used; each item pays
   * IPC in the worker; two rounds of 50 ms in parallel. */
  g_assert_cmpint (tu_first_state (t, lane_named (t, "a"), IL_STATE_RUNNING), ==, 2 * fork);
  g_assert_cmpint (t->end_time, ==, 2 * fork + 2 * (MS (50) + p->ipc_item_cost));
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 2);
}

/* A loop thread that wakes every 5 ms competes with three to_thread
 * workers for the GIL.  Real CPython (3.10-3.13) makes it wait through
 * several worker slices: the worker whose timed wait expired, still awake,
 * often takes the signal, so the ticker's 40 ticks end well after the
 * workers (3.11.7: workers done at 604-607 ms, ticker at 682-711 ms).
 * Pure first-come hands the loop thread the GIL at every request, and the
 * ticker finished before the workers. */
static void
test_gil_awake_waiter_race (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"cores\":2,\"tasks\":["
    "{\"name\":\"c0\",\"steps\":[{\"to_thread\":[{\"cpu\":200}]}]},"
    "{\"name\":\"c1\",\"steps\":[{\"to_thread\":[{\"cpu\":200}]}]},"
    "{\"name\":\"c2\",\"steps\":[{\"to_thread\":[{\"cpu\":200}]}]},"
    "{\"name\":\"ticker\",\"steps\":[{\"repeat\":40,\"steps\":[{\"sleep\":5},{\"cpu\":0.1}]}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  gint64 workers = MAX (finish_time (t, "c0"), MAX (finish_time (t, "c1"), finish_time (t, "c2")));

  g_assert_cmpint (workers, >=, MS (600));
  g_assert_cmpint (finish_time (t, "ticker"), >=, workers + MS (25));
}

/* spawn and forkserver pools start a worker per submit (no worker idle,
 * fewer than max_workers), and each child pays its own start-up; the
 * forkserver's children wait until the server itself is up. */
static void
test_process_pool_start_methods (void)
{
  static const char *methods[] = { "spawn", "forkserver" };

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"mode\":\"processes\",\"workers\":3,\"cores\":4,\"start_method\":\"%s\",\"tasks\":["
        "{\"name\":\"a\",\"steps\":[{\"cpu\":50}]},{\"name\":\"b\",\"steps\":[{\"cpu\":50}]}]}",
        methods[m]);
      g_autoptr(IlScenario) sc = tu_load (json);
      g_autoptr(IlTrace) t = run (sc, -1);
      const IlParams *p = &sc->params;
      gint64 boot = p->process_start_cost[m == 0 ? IL_START_SPAWN : IL_START_FORKSERVER];
      /* forkserver: the server's start and the first child's take a spawn. */
      gint64 ready = m == 0 ? boot : MAX (boot, p->process_start_cost[IL_START_SPAWN]);
      guint processes = 0;

      for (guint l = 0; l < il_trace_get_n_lanes (t); l++)
        if (il_trace_get_lane (t, l)->kind == IL_LANE_PROCESS)
          processes++;
      /* Two submits, two workers (not max_workers = 3) plus the parent. */
      g_assert_cmpuint (processes, ==, 3);
      /* Both items wait for their worker's start-up (and the forkserver's),
       * then run side by side. */
      g_assert_cmpint (t->end_time, >=, ready + MS (50));
      g_assert_cmpint (t->end_time, <, ready + MS (50) + boot);
    }
}

static void
test_asyncio_order_and_iterations (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":1},{\"yield\":true},{\"cpu\":1}]},"
    "{\"name\":\"b\",\"steps\":[{\"cpu\":1}]},"
    "{\"name\":\"c\",\"steps\":[{\"cpu\":1}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint32 loop = IL_NO_LANE;
  GString *order = g_string_new (NULL);
  guint iteration = 0;

  for (guint l = 0; l < il_trace_get_n_lanes (t); l++)
    if (il_trace_get_lane (t, l)->kind == IL_LANE_LOOP)
      loop = l;
  g_assert_cmpuint (loop, !=, IL_NO_LANE);

  /* Record which task steps run in which iteration. */
  for (gsize i = 0; i < t->n_events; i++)
    {
      if (il_trace_event_lane (t, i) != loop)
        continue;
      if (t->kind[i] == IL_EVENT_LOOP_ITER)
        {
          iteration = t->arg[i];
          g_string_append_printf (order, "|%u:", iteration);
        }
      else if (t->kind[i] == IL_EVENT_LOOP_CALLBACK && t->value[i] == IL_CALLBACK_TASK_STEP)
        g_string_append (order, il_trace_get_lane (t, t->arg[i])->name);
    }
  /* Iteration 1 runs main (creates the tasks), 2 runs them in creation
   * order, and a's yield puts its rest into iteration 3. */
  g_assert_cmpstr (order->str, ==, "|1:|2:abc|3:a");
  g_string_free (order, TRUE);
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 1);
}

/* A blocking call inside a coroutine starves the loop: timers fire late. */
static void
test_asyncio_blocking_starves_loop (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":["
    "{\"name\":\"ticker\",\"steps\":[{\"sleep\":10},{\"cpu\":0.1}]},"
    "{\"name\":\"blocker\",\"steps\":[{\"sleep\":1},{\"sleep\":100,\"blocking\":true}]}]}");
  g_autoptr(IlScenario) ok = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":["
    "{\"name\":\"ticker\",\"steps\":[{\"sleep\":10},{\"cpu\":0.1}]},"
    "{\"name\":\"blocker\",\"steps\":[{\"sleep\":1},{\"sleep\":100}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  g_autoptr(IlTrace) tok = run (ok, -1);

  g_assert_cmpint (finish_time (t, "ticker"), >=, MS (101));
  /* Awaited: the ticker wakes on time (10 ms rounded to epoll's ms + slack). */
  g_assert_cmpint (finish_time (tok, "ticker"), <, MS (11.5));
}

/* asyncio.sleep(d): the timer fires in iteration k, the task runs in k+1. */
static void
test_asyncio_sleep_resumes_next_iteration (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":[{\"name\":\"a\",\"steps\":[{\"sleep\":5},{\"cpu\":1}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint32 loop = lane_named (t, "Event loop");
  guint32 a = lane_named (t, "a");
  guint timer_iter = 0, step_iter = 0, iteration = 0, steps = 0;

  for (gsize i = 0; i < t->n_events; i++)
    {
      if (il_trace_event_lane (t, i) != loop)
        continue;
      if (t->kind[i] == IL_EVENT_LOOP_ITER)
        iteration = t->arg[i];
      else if (t->kind[i] == IL_EVENT_LOOP_CALLBACK && t->arg[i] == a)
        {
          if (t->value[i] == IL_CALLBACK_TIMER)
            timer_iter = iteration;
          else if (t->value[i] == IL_CALLBACK_TASK_STEP && ++steps == 2)
            step_iter = iteration;
        }
    }
  g_assert_cmpuint (timer_iter, >, 0);
  g_assert_cmpuint (step_iter, ==, timer_iter + 1);
  g_assert_cmpint (tu_first_state (t, a, IL_STATE_SLEEPING), <, MS (0.1));
  g_assert_cmpint (finish_time (t, "a"), >=, MS (6));
}

static void
test_asyncio_semaphore_limit (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"limits\":{\"conn\":2},\"tasks\":["
    "{\"name\":\"r1\",\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"io\":10}]}]},"
    "{\"name\":\"r2\",\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"io\":10}]}]},"
    "{\"name\":\"r3\",\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"io\":10}]}]},"
    "{\"name\":\"r4\",\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"io\":10}]}]},"
    "{\"name\":\"r5\",\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"io\":10}]}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);

  g_assert_cmpuint (max_concurrent (t, IL_STATE_WAIT_IO), ==, 2);
  g_assert_cmpint (t->end_time, >=, MS (30));
  g_assert_cmpint (t->end_time, <, MS (31));
  /* FIFO: r3 gets the first slot released, r5 the last. */
  g_assert_cmpint (finish_time (t, "r3"), <=, finish_time (t, "r5"));
  g_assert_cmpint (tu_first_state (t, lane_named (t, "r3"), IL_STATE_BLOCKED), <, MS (1));
}

static void
test_asyncio_workers_semaphore (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"workers\":1,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"io\":10}]},{\"name\":\"b\",\"steps\":[{\"io\":10}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);

  g_assert_cmpuint (max_concurrent (t, IL_STATE_WAIT_IO), ==, 1);
  g_assert_cmpint (finish_time (t, "b"), >=, MS (20));
}

/* TaskGroup: the first failure cancels the siblings at their current await. */
static void
test_task_group_cancels (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":["
    "{\"name\":\"bad\",\"group\":\"g\",\"steps\":[{\"sleep\":10},{\"fail\":\"boom\"}]},"
    "{\"name\":\"slow\",\"group\":\"g\",\"steps\":[{\"io\":100}]},"
    "{\"name\":\"later\",\"group\":\"g\",\"start\":50,\"steps\":[{\"cpu\":1}]},"
    "{\"name\":\"other\",\"steps\":[{\"io\":30}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);

  g_assert_cmpint (outcome (t, "bad"), ==, IL_CAUSE_FAILED);
  g_assert_cmpint (outcome (t, "slow"), ==, IL_CAUSE_CANCELLED);
  g_assert_cmpint (outcome (t, "later"), ==, IL_CAUSE_CANCELLED);
  g_assert_cmpint (outcome (t, "other"), ==, IL_CAUSE_RETURNED);
  g_assert_cmpint (finish_time (t, "slow"), <, MS (12));
  g_assert_cmpint (finish_time (t, "other"), >=, MS (30));
  g_assert_cmpuint (count_events (t, IL_EVENT_MARK, IL_MARK_CANCEL_REQUEST), ==, 2);
}

static void
test_await_and_deadlock (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"consumer\",\"steps\":[{\"await\":\"producer\"},{\"cpu\":1}]},"
    "{\"name\":\"producer\",\"steps\":[{\"io\":20}]}]}");
  g_autoptr(IlScenario) dl = tu_load (
    "{\"mode\":\"asyncio\",\"tasks\":["
    "{\"name\":\"x\",\"steps\":[{\"await\":\"y\"}]},"
    "{\"name\":\"y\",\"steps\":[{\"await\":\"x\"}]}]}");
  IlRunConfig cfg;
  GError *error = NULL;
  IlTrace *bad;

  for (int mode = 0; mode < IL_N_MODES; mode++)
    {
      g_autoptr(IlTrace) t = run (sc, mode);
      g_assert_cmpint (finish_time (t, "consumer"), >=, finish_time (t, "producer"));
    }

  il_run_config_from_scenario (&cfg, dl);
  bad = il_simulate (dl, &cfg, &error);
  g_assert_null (bad);
  g_assert_error (error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_DEADLOCK);
  g_assert_nonnull (strstr (error->message, "x"));
  g_clear_error (&error);
}

/* The first submitter to a process pool pays for launching every worker;
 * a second submitter's hand-out meanwhile runs the first one's job too, so
 * its result is back before the first submitter begins to wait.  It must
 * then go on without waiting (the engine once woke it while it was still
 * running, put it on a second core and never finished). */
static void
test_pool_result_before_wait (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"free-threading\",\"cores\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"to_process\":[{\"cpu\":1}]},{\"cpu\":1}]},"
    "{\"name\":\"b\",\"steps\":[{\"to_process\":[{\"cpu\":1}]},{\"cpu\":1}]},"
    "{\"name\":\"c\",\"steps\":[{\"to_process\":[{\"cpu\":1}]},{\"cpu\":1}]}]}");

  for (int mode = IL_MODE_THREADS; mode <= IL_MODE_FREE_THREADING; mode++)
    {
      g_autoptr(IlTrace) t = run (sc, mode);

      g_assert_cmpint (outcome (t, "a"), ==, IL_CAUSE_RETURNED);
      g_assert_cmpint (outcome (t, "b"), ==, IL_CAUSE_RETURNED);
      g_assert_cmpint (outcome (t, "c"), ==, IL_CAUSE_RETURNED);
      /* a paid for the launch of the pool's two workers before anything else. */
      g_assert_cmpint (finish_time (t, "a"), >, 2 * sc->params.process_start_cost[IL_START_FORK]);
    }
}

static void
test_lock_serialises (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"threads\",\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"lock\":\"L\",\"steps\":[{\"sleep\":10}]}]},"
    "{\"name\":\"b\",\"steps\":[{\"lock\":\"L\",\"steps\":[{\"sleep\":10}]}]}]}");

  for (int mode = 0; mode < IL_N_MODES; mode++)
    {
      g_autoptr(IlTrace) t = run (sc, mode);
      g_assert_cmpint (t->end_time, >=, MS (20));
      g_assert_cmpuint (max_concurrent (t, IL_STATE_SLEEPING), ==, 1);
    }
}

/* Offloading from asyncio: to a thread still needs the GIL; to a process
 * runs in parallel. */
static void
test_offload (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"cores\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"to_thread\":[{\"cpu\":100}]}]},"
    "{\"name\":\"b\",\"steps\":[{\"to_thread\":[{\"cpu\":100}]}]}]}");
  g_autoptr(IlScenario) sp = tu_load (
    "{\"mode\":\"asyncio\",\"cores\":2,\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"to_process\":[{\"cpu\":100}]}]},"
    "{\"name\":\"b\",\"steps\":[{\"to_process\":[{\"cpu\":100}]}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  g_autoptr(IlTrace) tp = run (sp, -1);
  const IlParams *p = &sc->params;

  g_assert_cmpint (t->end_time, >=, MS (200));
  g_assert_cmpint (time_in_state (t, lane_named (t, "a"), IL_STATE_BLOCKED), >=, MS (100));
  g_assert_cmpint (tp->end_time, <, 2 * p->process_start_cost[IL_START_FORK] + MS (100) + MS (2));
  g_assert_cmpint (tp->end_time, >=, MS (100));
}

static void
test_os_scheduler_round_robin (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"processes\",\"cores\":1,\"params\":{\"fork_ms\":0},\"tasks\":["
    "{\"name\":\"a\",\"steps\":[{\"cpu\":30}]},{\"name\":\"b\",\"steps\":[{\"cpu\":30}]}]}");
  g_autoptr(IlTrace) t = run (sc, -1);
  guint32 a = lane_named (t, "a");
  guint runs = 0;
  const IlLaneIndex *ev = il_trace_get_lane_events (t, a);

  for (guint i = 0; i < ev->len; i++)
    {
      guint32 e = ev->data[i];
      runs += t->kind[e] == IL_EVENT_STATE && t->value[e] == IL_STATE_RUNNING;
    }
  /* One core shared in 3 ms slices: 60 ms total, a runs ~10 times. */
  g_assert_cmpint (t->end_time, ==, MS (60));
  g_assert_cmpuint (runs, >=, 9);
  g_assert_cmpuint (max_concurrent (t, IL_STATE_RUNNING), ==, 1);
}

/* ------------------------------------------------------------------ */
/* Queues: queue.Queue, asyncio.Queue, multiprocessing.Queue           */

typedef struct {
  gint64    t;
  guint32   lane;
  IlQueueOp op;
  guint     what;
  guint32   arg;
} QEv;

/* The events of the scenario's queue `index`, in order. */
static GArray *
queue_events (const IlTrace *trace,
              guint          index)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (QEv));

  for (gsize i = 0; i < trace->n_events; i++)
    if (trace->kind[i] == IL_EVENT_QUEUE && trace->aux[i] == (IL_QUEUE_USER | index))
      {
        QEv q = { trace->time[i], il_trace_event_lane (trace, i), (IlQueueOp) (trace->value[i] & 3), trace->value[i] >> 2, trace->arg[i] };
        g_array_append_val (out, q);
      }
  return out;
}

static guint
count_ops (const GArray *evs,
           IlQueueOp     op,
           guint32       lane)
{
  guint n = 0;

  for (guint i = 0; i < evs->len; i++)
    {
      const QEv *q = &g_array_index (evs, QEv, i);
      if (q->op == op && (lane == IL_NO_LANE || q->lane == lane))
        n++;
    }
  return n;
}

/* The most items the queue held at once. */
static guint
peak_depth (const GArray *evs)
{
  gint n = 0, best = 0;

  for (guint i = 0; i < evs->len; i++)
    {
      const QEv *q = &g_array_index (evs, QEv, i);
      n += q->op == IL_QUEUE_PUSH ? 1 : q->op == IL_QUEUE_POP ? -1 : 0;
      g_assert_cmpint (n, >=, 0);
      best = MAX (best, n);
    }
  return (guint) best;
}

static const int queue_modes[] = { IL_MODE_ASYNCIO, IL_MODE_THREADS, IL_MODE_FREE_THREADING, IL_MODE_PROCESSES };

/* Items leave in the order they came, whoever put them, in every mode. */
static void
test_queue_fifo (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"queues\":{\"q\":0},\"tasks\":["
    "{\"name\":\"p1\",\"steps\":[{\"put\":\"q\"},{\"cpu\":1},{\"put\":\"q\"}]},"
    "{\"name\":\"p2\",\"start\":0.5,\"steps\":[{\"put\":\"q\"},{\"put\":\"q\"}]},"
    "{\"name\":\"c\",\"start\":10,\"steps\":[{\"repeat\":4,\"steps\":[{\"get\":\"q\"}]}]}]}");

  for (guint m = 0; m < G_N_ELEMENTS (queue_modes); m++)
    {
      g_autoptr(IlTrace) t = run (sc, queue_modes[m]);
      g_autoptr(GArray) evs = queue_events (t, 0);
      g_autoptr(GArray) pushed = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) popped = g_array_new (FALSE, FALSE, sizeof (guint32));

      for (guint i = 0; i < evs->len; i++)
        {
          const QEv *q = &g_array_index (evs, QEv, i);
          if (q->op == IL_QUEUE_PUSH)
            {
              g_assert_cmpuint (q->arg, ==, q->lane);   /* an item has its producer's colour */
              g_array_append_val (pushed, q->arg);
            }
          else if (q->op == IL_QUEUE_POP)
            {
              g_assert_cmpuint (q->lane, ==, lane_named (t, "c"));
              g_array_append_val (popped, q->arg);
            }
        }
      g_assert_cmpuint (pushed->len, ==, 4);
      g_assert_cmpuint (popped->len, ==, 4);
      for (guint i = 0; i < 4; i++)
        g_assert_cmpuint (g_array_index (popped, guint32, i), ==, g_array_index (pushed, guint32, i));
      /* Unbounded, and the consumer starts late: nobody ever waits. */
      g_assert_cmpuint (count_ops (evs, IL_QUEUE_WAIT, IL_NO_LANE), ==, 0);
      g_assert_cmpuint (peak_depth (evs), ==, 4);
    }
}

/* A bounded queue and a slow consumer: the queue fills to maxsize and no
 * further, the producer waits on put (BLOCKED, cause QUEUE) and is woken
 * by the consumer's get. */
static void
test_queue_back_pressure (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"queues\":{\"q\":2},\"tasks\":["
    "{\"name\":\"producer\",\"steps\":[{\"repeat\":6,\"steps\":[{\"cpu\":0.5},{\"put\":\"q\"}]}]},"
    "{\"name\":\"consumer\",\"steps\":[{\"repeat\":6,\"steps\":[{\"get\":\"q\"},{\"io\":5}]}]}]}");

  for (guint m = 0; m < G_N_ELEMENTS (queue_modes); m++)
    {
      g_autoptr(IlTrace) t = run (sc, queue_modes[m]);
      g_autoptr(GArray) evs = queue_events (t, 0);
      guint32 producer = lane_named (t, "producer"), consumer = lane_named (t, "consumer");
      guint waits = count_ops (evs, IL_QUEUE_WAIT, producer), woken = 0;
      const IlLaneIndex *idx = il_trace_get_lane_events (t, producer);

      g_assert_cmpuint (peak_depth (evs), ==, 2);
      g_assert_cmpuint (count_ops (evs, IL_QUEUE_PUSH, producer), ==, 6);
      g_assert_cmpuint (count_ops (evs, IL_QUEUE_POP, consumer), ==, 6);
      /* 6 items, room for 2, one taken at once, then one per 5 ms: the
       * producer waits for the 4th, 5th and 6th slot at least. */
      g_assert_cmpuint (waits, >=, 3);
      g_assert_cmpint (time_in_state (t, producer, IL_STATE_BLOCKED), >, IL_MSEC (9));
      for (guint i = 0; i < idx->len; i++)
        {
          guint32 e = idx->data[i];
          if (t->kind[e] != IL_EVENT_STATE || t->aux[e] != IL_CAUSE_QUEUE)
            continue;
          if (t->value[e] == IL_STATE_BLOCKED)
            g_assert_cmpuint (t->arg[e], ==, IL_NO_LANE);
          else
            {
              g_assert_cmpuint (t->arg[e], ==, consumer);   /* woken by the consumer's get */
              woken++;
            }
        }
      g_assert_cmpuint (woken, ==, waits);
      /* The producer's last put needs the consumer's 4th get. */
      g_assert_cmpint (finish_time (t, "producer"), >=, IL_MSEC (15));
    }
}

/* Waiters are woken first come, first served: two consumers wait on an
 * empty queue; the first item goes to the one that waited first. */
static void
test_queue_fifo_wakeups (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"queues\":{\"q\":0},\"tasks\":["
    "{\"name\":\"c1\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"c2\",\"start\":0.5,\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"p\",\"steps\":[{\"sleep\":2},{\"put\":\"q\"},{\"sleep\":2},{\"put\":\"q\"}]}]}");

  for (guint m = 0; m < G_N_ELEMENTS (queue_modes); m++)
    {
      g_autoptr(IlTrace) t = run (sc, queue_modes[m]);
      g_autoptr(GArray) evs = queue_events (t, 0);
      guint32 c1 = lane_named (t, "c1"), c2 = lane_named (t, "c2"), p = lane_named (t, "p");
      guint pops = 0;

      g_assert_cmpuint (count_ops (evs, IL_QUEUE_WAIT, c1), ==, 1);
      g_assert_cmpuint (count_ops (evs, IL_QUEUE_WAIT, c2), ==, 1);
      for (guint i = 0; i < evs->len; i++)
        {
          const QEv *q = &g_array_index (evs, QEv, i);
          if (q->op == IL_QUEUE_WAIT)
            g_assert_cmpuint (q->what, ==, 1);   /* waiting to get */
          if (q->op != IL_QUEUE_POP)
            continue;
          g_assert_cmpuint (q->lane, ==, pops == 0 ? c1 : c2);
          g_assert_cmpuint (q->arg, ==, p);
          pops++;
        }
      g_assert_cmpuint (pops, ==, 2);
      g_assert_cmpint (finish_time (t, "c1"), <, finish_time (t, "c2"));
    }
}

/* asyncio: the put resolves the getter's future, whose callback runs with
 * call_soon: the consumer takes the item one loop iteration later.
 * Threads: the woken consumer takes the GIL back before it takes the item. */
static void
test_queue_wakeup_paths (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"queues\":{\"q\":1},\"tasks\":["
    "{\"name\":\"c\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"p\",\"steps\":[{\"cpu\":1},{\"put\":\"q\"},{\"cpu\":1}]}]}");
  g_autoptr(IlTrace) a = run (sc, IL_MODE_ASYNCIO);
  g_autoptr(IlTrace) th = run (sc, IL_MODE_THREADS);
  g_autoptr(GArray) ea = queue_events (a, 0);
  g_autoptr(GArray) et = queue_events (th, 0);
  const QEv *push, *pop;
  guint iters = 0, takes = 0;
  guint32 c = lane_named (th, "c");

  g_assert_cmpuint (ea->len, ==, 3);   /* wait, push, pop */
  push = &g_array_index (ea, QEv, 1);
  pop = &g_array_index (ea, QEv, 2);
  g_assert_cmpint (push->op, ==, IL_QUEUE_PUSH);
  g_assert_cmpint (pop->op, ==, IL_QUEUE_POP);
  for (gsize i = 0; i < a->n_events; i++)
    if (a->kind[i] == IL_EVENT_LOOP_ITER && a->time[i] > push->t && a->time[i] < pop->t)
      iters++;
  g_assert_cmpuint (iters, >=, 1);
  /* p's step does not yield at the put: its second cpu ms runs first. */
  g_assert_cmpint (pop->t, >=, push->t + IL_MSEC (1));

  g_assert_cmpuint (et->len, ==, 3);
  push = &g_array_index (et, QEv, 1);
  pop = &g_array_index (et, QEv, 2);
  for (gsize i = 0; i < th->n_events; i++)
    if (th->kind[i] == IL_EVENT_GIL_TAKE && th->arg[i] == c && th->time[i] > push->t && th->time[i] <= pop->t)
      takes++;
  g_assert_cmpuint (takes, ==, 1);
}

/* asyncio.Queue hands nothing over: a task that asks while the woken one
 * is still only ready takes the item, and the woken one waits again. */
static void
test_queue_asyncio_barging (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"queues\":{\"q\":0},\"tasks\":["
    "{\"name\":\"c1\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"p\",\"steps\":[{\"sleep\":1},{\"put\":\"q\"},{\"sleep\":1},{\"put\":\"q\"}]},"
    "{\"name\":\"c2\",\"steps\":[{\"sleep\":1},{\"get\":\"q\"}]}]}");
  g_autoptr(IlTrace) t = run (sc, IL_MODE_ASYNCIO);
  g_autoptr(GArray) evs = queue_events (t, 0);
  guint32 c1 = lane_named (t, "c1"), c2 = lane_named (t, "c2");
  guint first_pop = G_MAXUINT;

  for (guint i = 0; i < evs->len && first_pop == G_MAXUINT; i++)
    if (g_array_index (evs, QEv, i).op == IL_QUEUE_POP)
      first_pop = i;
  g_assert_cmpuint (first_pop, <, evs->len);
  g_assert_cmpuint (g_array_index (evs, QEv, first_pop).lane, ==, c2);
  g_assert_cmpuint (count_ops (evs, IL_QUEUE_WAIT, c1), ==, 2);
  g_assert_cmpuint (count_ops (evs, IL_QUEUE_POP, c1), ==, 1);
  g_assert_cmpint (finish_time (t, "c1"), >, finish_time (t, "c2"));
}

static GError *
run_error (const char *json,
           int         mode)
{
  g_autoptr(IlScenario) sc = tu_load (json);
  IlRunConfig cfg;
  GError *error = NULL;
  IlTrace *trace;

  il_run_config_from_scenario (&cfg, sc);
  if (mode >= 0)
    cfg.mode = (IlMode) mode;
  trace = il_simulate (sc, &cfg, &error);
  g_assert_null (trace);
  g_assert_nonnull (error);
  return error;
}

/* A get nobody serves blocks for ever, as in Python: the run ends with a
 * deadlock report naming the queue, never hangs.  Sequential code runs one
 * task at a time: a producer that outruns maxsize deadlocks there, an
 * unbounded queue does not. */
static void
test_queue_deadlock (void)
{
  static const char *lonely =
    "{\"queues\":{\"q\":1},\"tasks\":[{\"name\":\"c\",\"steps\":[{\"cpu\":1},{\"get\":\"q\"}]}]}";
  static const char *overfull =
    "{\"queues\":{\"q\":2},\"tasks\":["
    "{\"name\":\"producer\",\"steps\":[{\"repeat\":3,\"steps\":[{\"put\":\"q\"},{\"cpu\":1}]}]},"
    "{\"name\":\"consumer\",\"steps\":[{\"repeat\":3,\"steps\":[{\"get\":\"q\"}]}]}]}";
  g_autoptr(IlScenario) unbounded = tu_load (
    "{\"queues\":{\"q\":0},\"tasks\":["
    "{\"name\":\"producer\",\"steps\":[{\"repeat\":3,\"steps\":[{\"put\":\"q\"},{\"cpu\":1}]}]},"
    "{\"name\":\"consumer\",\"steps\":[{\"repeat\":3,\"steps\":[{\"get\":\"q\"}]}]}]}");
  g_autoptr(IlTrace) fine = run (unbounded, IL_MODE_SEQUENTIAL);

  for (int mode = 0; mode < IL_N_MODES; mode++)
    {
      g_autoptr(GError) error = run_error (lonely, mode);
      g_assert_error (error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_DEADLOCK);
      g_assert_nonnull (strstr (error->message, "c (waits to get from q, which is empty)"));
    }
  {
    g_autoptr(GError) error = run_error (overfull, IL_MODE_SEQUENTIAL);
    g_assert_error (error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_DEADLOCK);
    g_assert_nonnull (strstr (error->message, "producer (waits to put on q, full at 2/2)"));
    g_assert_nonnull (strstr (error->message, "sequential code runs one task at a time"));
  }
  /* The producer fills the queue, then the consumer empties it (gets cost no time). */
  {
    g_autoptr(GArray) evs = queue_events (fine, 0);
    g_assert_cmpuint (peak_depth (evs), ==, 3);
    g_assert_cmpuint (count_ops (evs, IL_QUEUE_POP, lane_named (fine, "consumer")), ==, 3);
    g_assert_cmpint (finish_time (fine, "consumer"), ==, finish_time (fine, "producer"));
  }
}

/* What Python refuses is refused with a message, not simulated. */
static void
test_queue_refused (void)
{
  g_autoptr(GError) pool = run_error (
    "{\"mode\":\"processes\",\"workers\":2,\"queues\":{\"q\":1},\"tasks\":["
    "{\"name\":\"p\",\"steps\":[{\"put\":\"q\"}]},{\"name\":\"c\",\"steps\":[{\"get\":\"q\"}]}]}", -1);
  g_autoptr(GError) to_thread = run_error (
    "{\"mode\":\"asyncio\",\"queues\":{\"q\":1},\"tasks\":["
    "{\"name\":\"p\",\"steps\":[{\"to_thread\":[{\"put\":\"q\"}]}]},{\"name\":\"c\",\"steps\":[{\"get\":\"q\"}]}]}", -1);
  g_autoptr(GError) to_process = run_error (
    "{\"mode\":\"threads\",\"queues\":{\"q\":1},\"tasks\":["
    "{\"name\":\"p\",\"steps\":[{\"to_process\":[{\"cpu\":1},{\"put\":\"q\"}]}]},"
    "{\"name\":\"c\",\"steps\":[{\"get\":\"q\"}]}]}", -1);

  g_assert_error (pool, IL_ENGINE_ERROR, IL_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (pool->message, "ProcessPoolExecutor"));
  g_assert_error (to_thread, IL_ENGINE_ERROR, IL_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (to_thread->message, "not thread-safe"));
  g_assert_error (to_process, IL_ENGINE_ERROR, IL_ENGINE_ERROR_UNSUPPORTED);
}

/* A task cancelled while it waits on a queue leaves the waiters: the put
 * after it goes to the getter queued behind it, c2.  Were c still queued,
 * the put would wake c, which is gone, and c2 would wait for ever. */
static void
test_queue_cancelled_waiter (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"queues\":{\"q\":2},\"tasks\":["
    "{\"name\":\"c\",\"group\":\"g\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"c2\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"bad\",\"group\":\"g\",\"steps\":[{\"sleep\":1},{\"fail\":\"ValueError\"}]},"
    "{\"name\":\"p\",\"steps\":[{\"sleep\":3},{\"put\":\"q\"},{\"cpu\":1}]}]}");
  g_autoptr(IlTrace) t = run (sc, IL_MODE_ASYNCIO);
  g_autoptr(GArray) evs = queue_events (t, 0);
  guint32 c = lane_named (t, "c"), c2 = lane_named (t, "c2"), p = lane_named (t, "p");
  /* Every event of q, in order: both wait to get (before the cancel at
   * 1 ms), p puts at 3 ms (an asyncio put on a queue with room never
   * yields), and c2 takes the item once p's 1 ms cpu step gives the loop
   * back.  The times within a ms are left to the loop's costs. */
  const QEv want[] = {
    { 0, c, IL_QUEUE_WAIT, 1, c },
    { 0, c2, IL_QUEUE_WAIT, 1, c2 },
    { MS (3), p, IL_QUEUE_PUSH, 0, p },
    { MS (4), c2, IL_QUEUE_POP, 0, p },
  };

  g_assert_cmpint (outcome (t, "c"), ==, IL_CAUSE_CANCELLED);
  g_assert_cmpint (outcome (t, "c2"), ==, IL_CAUSE_RETURNED);
  g_assert_cmpuint (evs->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < evs->len; i++)
    {
      const QEv *q = &g_array_index (evs, QEv, i);

      g_assert_cmpint (q->t, >=, want[i].t);
      g_assert_cmpint (q->t, <, want[i].t + MS (1));
      g_assert_cmpuint (q->lane, ==, want[i].lane);
      g_assert_cmpint (q->op, ==, want[i].op);
      g_assert_cmpuint (q->what, ==, want[i].what);
      g_assert_cmpuint (q->arg, ==, want[i].arg);
    }
}

/* asyncio.Queue.get's except clause: a getter cancelled after a put woke
 * it, before it ran, passes the wake-up on to the next getter while the
 * item is still there.  Without that, c2 would wait for ever. */
static void
test_queue_cancel_passes_wakeup_on (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"mode\":\"asyncio\",\"queues\":{\"q\":0},\"tasks\":["
    "{\"name\":\"c1\",\"group\":\"g\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"c2\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"p\",\"steps\":[{\"sleep\":1},{\"put\":\"q\"}]},"
    "{\"name\":\"bad\",\"group\":\"g\",\"steps\":[{\"sleep\":1},{\"fail\":\"ValueError\"}]}]}");
  g_autoptr(IlTrace) t = run (sc, IL_MODE_ASYNCIO);
  g_autoptr(GArray) evs = queue_events (t, 0);
  guint32 c1 = lane_named (t, "c1"), c2 = lane_named (t, "c2"), p = lane_named (t, "p");
  const IlLaneIndex *idx = il_trace_get_lane_events (t, c2);
  guint32 woken_by = IL_NO_LANE;

  g_assert_cmpint (outcome (t, "c1"), ==, IL_CAUSE_CANCELLED);
  g_assert_cmpint (outcome (t, "c2"), ==, IL_CAUSE_RETURNED);
  g_assert_cmpuint (count_ops (evs, IL_QUEUE_POP, c1), ==, 0);
  g_assert_cmpuint (count_ops (evs, IL_QUEUE_POP, c2), ==, 1);
  /* c1 was woken by p's put; c2 by c1 passing it on */
  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (t->kind[e] == IL_EVENT_STATE && t->aux[e] == IL_CAUSE_QUEUE && t->arg[e] != IL_NO_LANE)
        woken_by = t->arg[e];
    }
  g_assert_cmpuint (woken_by, ==, c1);
  g_assert_cmpuint (count_ops (evs, IL_QUEUE_PUSH, p), ==, 1);
}

/* Neither queue hands the item to the waiter it wakes: a task that puts
 * and at once gets takes its own item back, in every mode, before the woken
 * consumer has run (asyncio: a loop iteration later; threads: after the
 * wake latency and the GIL).  The consumer finds the queue empty again and
 * waits at the back until the next put. */
static void
test_queue_no_hand_off (void)
{
  g_autoptr(IlScenario) sc = tu_load (
    "{\"queues\":{\"q\":0},\"tasks\":["
    "{\"name\":\"c\",\"steps\":[{\"get\":\"q\"}]},"
    "{\"name\":\"p\",\"steps\":[{\"sleep\":1},{\"put\":\"q\"},{\"get\":\"q\"}]},"
    "{\"name\":\"late\",\"start\":10,\"steps\":[{\"put\":\"q\"}]}]}");

  for (guint m = 0; m < G_N_ELEMENTS (queue_modes); m++)
    {
      g_autoptr(IlTrace) t = run (sc, queue_modes[m]);
      g_autoptr(GArray) evs = queue_events (t, 0);
      guint32 c = lane_named (t, "c"), p = lane_named (t, "p"), late = lane_named (t, "late");
      guint pops = 0;

      for (guint i = 0; i < evs->len; i++)
        {
          const QEv *q = &g_array_index (evs, QEv, i);
          if (q->op != IL_QUEUE_POP)
            continue;
          /* p takes its own item; c gets the late one */
          g_assert_cmpuint (q->lane, ==, pops == 0 ? p : c);
          g_assert_cmpuint (q->arg, ==, pops == 0 ? p : late);
          pops++;
        }
      g_assert_cmpuint (pops, ==, 2);
      g_assert_cmpuint (count_ops (evs, IL_QUEUE_WAIT, c), ==, 2);
      g_assert_cmpint (finish_time (t, "c"), >=, IL_MSEC (10));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/determinism", test_determinism);
  g_test_add_func ("/engine/steppable", test_steppable);
  g_test_add_func ("/engine/sequential", test_sequential);
  g_test_add_func ("/engine/gil/cpu-bound-no-speedup", test_threads_cpu_bound_no_speedup);
  g_test_add_func ("/engine/gil/drop-request-after-timeout", test_drop_request_after_timeout);
  g_test_add_func ("/engine/gil/convoy", test_convoy);
  g_test_add_func ("/engine/gil/barging", test_barging);
  g_test_add_func ("/engine/gil/c-call", test_c_call_holds_gil);
  g_test_add_func ("/engine/gil/awake-waiter-race", test_gil_awake_waiter_race);
  g_test_add_func ("/engine/free-threading", test_free_threading);
  g_test_add_func ("/engine/processes", test_processes);
  g_test_add_func ("/engine/pool/threads", test_thread_pool);
  g_test_add_func ("/engine/pool/processes", test_process_pool);
  g_test_add_func ("/engine/pool/start-methods", test_process_pool_start_methods);
  g_test_add_func ("/engine/asyncio/order", test_asyncio_order_and_iterations);
  g_test_add_func ("/engine/asyncio/blocking-starves-loop", test_asyncio_blocking_starves_loop);
  g_test_add_func ("/engine/asyncio/sleep-next-iteration", test_asyncio_sleep_resumes_next_iteration);
  g_test_add_func ("/engine/asyncio/semaphore", test_asyncio_semaphore_limit);
  g_test_add_func ("/engine/asyncio/workers", test_asyncio_workers_semaphore);
  g_test_add_func ("/engine/asyncio/task-group", test_task_group_cancels);
  g_test_add_func ("/engine/await-and-deadlock", test_await_and_deadlock);
  g_test_add_func ("/engine/pool/result-before-wait", test_pool_result_before_wait);
  g_test_add_func ("/engine/lock", test_lock_serialises);
  g_test_add_func ("/engine/offload", test_offload);
  g_test_add_func ("/engine/os/round-robin", test_os_scheduler_round_robin);
  g_test_add_func ("/engine/queue/fifo", test_queue_fifo);
  g_test_add_func ("/engine/queue/back-pressure", test_queue_back_pressure);
  g_test_add_func ("/engine/queue/fifo-wakeups", test_queue_fifo_wakeups);
  g_test_add_func ("/engine/queue/wakeup-paths", test_queue_wakeup_paths);
  g_test_add_func ("/engine/queue/asyncio-barging", test_queue_asyncio_barging);
  g_test_add_func ("/engine/queue/no-hand-off", test_queue_no_hand_off);
  g_test_add_func ("/engine/queue/deadlock", test_queue_deadlock);
  g_test_add_func ("/engine/queue/refused", test_queue_refused);
  g_test_add_func ("/engine/queue/cancelled-waiter", test_queue_cancelled_waiter);
  g_test_add_func ("/engine/queue/cancel-passes-wakeup-on", test_queue_cancel_passes_wakeup_on);

  return g_test_run ();
}
