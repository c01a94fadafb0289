/* test-trace-intervals.c — a lane's events as intervals
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-engine.h"
#include "il-stats.h"
#include "il-trace-intervals.h"

/* A thread lane: ready at 10, running at 20 (a slice inside), done at 50;
 * a core lane busy 20–50; a GIL taken at 20 and dropped at 50. */
static IlTrace *
small_trace (guint32 *thread,
             guint32 *core,
             guint32 *gil)
{
  IlTrace *t = il_trace_new ();

  *core = il_trace_add_lane (t, IL_LANE_CORE, "core 0", IL_NO_LANE, 0);
  *gil = il_trace_add_lane (t, IL_LANE_GIL, "GIL", IL_NO_LANE, 0);
  *thread = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  il_trace_append (t, 10, *thread, IL_EVENT_STATE, IL_STATE_READY, IL_CAUSE_START, IL_NO_LANE);
  il_trace_append (t, 20, *thread, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_GIL_HANDOFF, IL_NO_LANE);
  il_trace_append (t, 20, *core, IL_EVENT_CORE, 0, 0, *thread);
  il_trace_append (t, 20, *gil, IL_EVENT_GIL_TAKE, 0, 0, *thread);
  il_trace_append (t, 30, *thread, IL_EVENT_SLICE_BEGIN, 0, 0, il_trace_intern (t, "work"));
  il_trace_append (t, 35, *gil, IL_EVENT_GIL_REQUEST, 0, 0, *thread);
  il_trace_append (t, 40, *thread, IL_EVENT_SLICE_END, 0, 0, il_trace_intern (t, "work"));
  il_trace_append (t, 50, *thread, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_RETURNED, IL_NO_LANE);
  il_trace_append (t, 50, *core, IL_EVENT_CORE, 0, 0, IL_NO_LANE);
  il_trace_append (t, 50, *gil, IL_EVENT_GIL_DROP, IL_GIL_DROP_VOLUNTARY, 0, *thread);
  il_trace_set_end_time (t, 60);
  return t;
}

static void
test_thread_lane (void)
{
  guint32 thread, core, gil;
  g_autoptr(IlTrace) t = small_trace (&thread, &core, &gil);
  IlIntervalIter iter;
  IlInterval iv;

  il_interval_iter_init (&iter, t, thread, G_MAXINT64);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (t->value[iv.event], ==, IL_STATE_READY);
  g_assert_cmpint (iv.start, ==, 10);
  g_assert_cmpint (iv.end, ==, 20);
  g_assert_false (iv.open);
  /* The slice inside the running interval does not split it. */
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (t->value[iv.event], ==, IL_STATE_RUNNING);
  g_assert_cmpint (iv.start, ==, 20);
  g_assert_cmpint (iv.end, ==, 50);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (t->value[iv.event], ==, IL_STATE_DONE);
  g_assert_cmpint (iv.start, ==, 50);
  g_assert_cmpint (iv.end, ==, 60);   /* closed at the end of the trace */
  g_assert_true (iv.open);
  g_assert_false (il_interval_iter_next (&iter, &iv));
  g_assert_false (il_interval_iter_next (&iter, &iv));
}

static void
test_upto (void)
{
  guint32 thread, core, gil;
  g_autoptr(IlTrace) t = small_trace (&thread, &core, &gil);
  IlIntervalIter iter;
  IlInterval iv;
  guint n = 0;

  /* At 35 the run is going on: the running interval is open and ends there. */
  il_interval_iter_init (&iter, t, thread, 35);
  while (il_interval_iter_next (&iter, &iv))
    n++;
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (iv.start, ==, 20);
  g_assert_cmpint (iv.end, ==, 35);
  g_assert_true (iv.open);

  /* Before the first event: nothing. */
  il_interval_iter_init (&iter, t, thread, 5);
  g_assert_false (il_interval_iter_next (&iter, &iv));
}

static void
test_other_lanes (void)
{
  guint32 thread, core, gil;
  g_autoptr(IlTrace) t = small_trace (&thread, &core, &gil);
  IlIntervalIter iter;
  IlInterval iv;

  il_interval_iter_init (&iter, t, core, G_MAXINT64);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpuint (t->arg[iv.event], ==, thread);
  g_assert_cmpint (iv.end - iv.start, ==, 30);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpuint (t->arg[iv.event], ==, IL_NO_LANE);
  g_assert_false (il_interval_iter_next (&iter, &iv));

  /* The drop request inside the held interval is no boundary. */
  il_interval_iter_init (&iter, t, gil, G_MAXINT64);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (t->kind[iv.event], ==, IL_EVENT_GIL_TAKE);
  g_assert_cmpint (iv.start, ==, 20);
  g_assert_cmpint (iv.end, ==, 50);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (t->kind[iv.event], ==, IL_EVENT_GIL_DROP);
  g_assert_false (il_interval_iter_next (&iter, &iv));

  g_assert_true (il_event_kind_is_boundary (IL_EVENT_LOOP_SELECT));
  g_assert_false (il_event_kind_is_boundary (IL_EVENT_SLICE_BEGIN));
  g_assert_false (il_event_kind_is_boundary (IL_EVENT_GIL_REQUEST));
}

static void
test_range (void)
{
  guint32 thread, core, gil;
  g_autoptr(IlTrace) t = small_trace (&thread, &core, &gil);
  IlIntervalIter iter;
  IlInterval iv;

  /* From 30 on: the running interval (opened at 20) comes first. */
  il_interval_iter_init_range (&iter, t, thread, 30, G_MAXINT64);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (iv.start, ==, 20);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (iv.start, ==, 50);
  g_assert_false (il_interval_iter_next (&iter, &iv));

  /* From before the first event: all of them. */
  il_interval_iter_init_range (&iter, t, thread, 0, G_MAXINT64);
  g_assert_true (il_interval_iter_next (&iter, &iv));
  g_assert_cmpint (iv.start, ==, 10);
}

/* The intervals add up to what the statistics say, on a real run. */
static void
test_sums_match_stats (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (
    "{\"mode\": \"threads\", \"tasks\": ["
    "{\"name\": \"a\", \"steps\": [{\"cpu\": 12}, {\"io\": 3}, {\"cpu\": 4}]},"
    "{\"name\": \"b\", \"steps\": [{\"cpu\": 9}, {\"sleep\": 2}, {\"cpu\": 6}]}]}", -1, "s.json", NULL);
  IlRunConfig config;
  g_autoptr(IlTrace) t = NULL;
  g_autoptr(IlStats) st = NULL;

  il_run_config_from_scenario (&config, sc);
  t = il_simulate (sc, &config, NULL);
  g_assert_nonnull (t);
  st = il_stats_compute (t, t->end_time);
  for (guint i = 0; i < st->n_tasks; i++)
    {
      gint64 in_state[IL_N_STATES] = { 0 };
      IlIntervalIter iter;
      IlInterval iv;
      gint64 covered = 0, first = -1;

      il_interval_iter_init (&iter, t, st->tasks[i].lane, t->end_time);
      while (il_interval_iter_next (&iter, &iv))
        {
          if (first < 0)
            first = iv.start;
          g_assert_cmpint (iv.start, ==, first + covered);   /* no gaps, no overlaps */
          covered += iv.end - iv.start;
          if (t->value[iv.event] != IL_STATE_DONE)
            in_state[t->value[iv.event]] += iv.end - iv.start;
        }
      g_assert_cmpint (first + covered, ==, t->end_time);
      g_assert_cmpint (in_state[IL_STATE_RUNNING], ==, st->tasks[i].in_state[IL_STATE_RUNNING]);
      g_assert_cmpint (in_state[IL_STATE_WAIT_GIL], ==, st->tasks[i].in_state[IL_STATE_WAIT_GIL]);
      g_assert_cmpint (in_state[IL_STATE_WAIT_IO], ==, st->tasks[i].in_state[IL_STATE_WAIT_IO]);
      g_assert_cmpint (in_state[IL_STATE_RUNNING], ==, IL_MSEC (i == 0 ? 16 : 15));
    }
}

typedef struct {
  guint32    lane;
  IlInterval iv;
} LaneInterval;

static void
collect_interval (guint32           lane,
                  const IlInterval *interval,
                  gpointer          data)
{
  LaneInterval li = { lane, *interval };

  g_array_append_val ((GArray *) data, li);
}

/* il_interval_sweep_foreach hands out what il_interval_sweep_next gives,
 * in the same order, and counts the same events. */
static void
test_sweep_foreach (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (
    "{\"mode\": \"threads\", \"cores\": 1, \"tasks\": ["
    "{\"name\": \"a\", \"steps\": [{\"repeat\": 3, \"steps\": [{\"cpu\": 7}, {\"io\": 2}]}]},"
    "{\"name\": \"b\", \"steps\": [{\"cpu\": 12}, {\"sleep\": 2}, {\"cpu\": 6}]}]}", -1, "f.json", NULL);
  g_autoptr(IlTrace) t = NULL;

  g_assert_nonnull (sc);
  t = il_simulate (sc, NULL, NULL);
  g_assert_nonnull (t);
  for (guint u = 0; u < 3; u++)
    {
      gint64 upto = u == 0 ? t->end_time / 2 : (u == 1 ? t->end_time : G_MAXINT64);
      g_autoptr(GArray) got = g_array_new (FALSE, TRUE, sizeof (LaneInterval));
      IlIntervalSweep a, b;
      IlInterval iv;
      guint32 lane;
      guint i = 0;

      il_interval_sweep_init (&a, t, upto);
      il_interval_sweep_foreach (&a, collect_interval, got);
      il_interval_sweep_init (&b, t, upto);
      while (il_interval_sweep_next (&b, &lane, &iv))
        {
          const LaneInterval *want;

          g_assert_cmpuint (i, <, got->len);
          want = &g_array_index (got, LaneInterval, i++);
          g_assert_cmpuint (want->lane, ==, lane);
          g_assert_cmpuint (iv.event, ==, want->iv.event);
          g_assert_cmpint (iv.start, ==, want->iv.start);
          g_assert_cmpint (iv.end, ==, want->iv.end);
          g_assert_cmpint (iv.open, ==, want->iv.open);
          g_assert_cmpuint (iv.kind, ==, want->iv.kind);
          g_assert_cmpuint (iv.value, ==, want->iv.value);
          g_assert_cmpuint (iv.aux, ==, want->iv.aux);
          g_assert_cmpuint (iv.arg, ==, want->iv.arg);
        }
      g_assert_cmpuint (i, ==, got->len);
      g_assert_cmpuint (i, >, 10);
      for (guint k = 0; k < IL_N_EVENT_KINDS; k++)
        g_assert_cmpuint (il_interval_sweep_count (&a, k), ==, il_interval_sweep_count (&b, k));
      il_interval_sweep_clear (&a);
      il_interval_sweep_clear (&b);
    }
}

/* The sweep gives every lane's intervals, as the per-lane iterator does,
 * each lane's in order, and counts the events it passed. */
static void
test_sweep (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (
    "{\"mode\": \"asyncio\", \"workers\": 1, \"tasks\": ["
    "{\"name\": \"a\", \"steps\": [{\"cpu\": 2}, {\"io\": 3}, {\"to_thread\": [{\"cpu\": 4}]}]},"
    "{\"name\": \"b\", \"steps\": [{\"cpu\": 1}, {\"sleep\": 2}, {\"cpu\": 6}]}]}", -1, "s.json", NULL);
  IlRunConfig config;
  g_autoptr(IlTrace) t = NULL;
  gint64 uptos[3];

  g_assert_nonnull (sc);
  il_run_config_from_scenario (&config, sc);
  t = il_simulate (sc, &config, NULL);
  g_assert_nonnull (t);
  uptos[0] = t->end_time / 3;
  uptos[1] = t->end_time;
  uptos[2] = G_MAXINT64;
  for (guint u = 0; u < G_N_ELEMENTS (uptos); u++)
    {
      guint n_lanes = il_trace_get_n_lanes (t);
      g_autoptr(GPtrArray) per_lane = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      g_autofree guint *next = g_new0 (guint, n_lanes);
      IlIntervalSweep sweep;
      IlInterval iv;
      guint32 lane;
      guint64 requests = 0, iterations = 0;

      for (guint l = 0; l < n_lanes; l++)
        {
          GArray *a = g_array_new (FALSE, FALSE, sizeof (IlInterval));
          IlIntervalIter iter;
          il_interval_iter_init (&iter, t, l, uptos[u]);
          while (il_interval_iter_next (&iter, &iv))
            g_array_append_val (a, iv);
          g_ptr_array_add (per_lane, a);
        }
      il_interval_sweep_init (&sweep, t, uptos[u]);
      while (il_interval_sweep_next (&sweep, &lane, &iv))
        {
          GArray *a = g_ptr_array_index (per_lane, lane);
          const IlInterval *want;

          g_assert_cmpuint (next[lane], <, a->len);
          want = &g_array_index (a, IlInterval, next[lane]);
          next[lane]++;
          g_assert_cmpuint (iv.event, ==, want->event);
          g_assert_cmpint (iv.start, ==, want->start);
          g_assert_cmpint (iv.end, ==, want->end);
          g_assert_cmpint (iv.open, ==, want->open);
          g_assert_cmpuint (iv.kind, ==, t->kind[iv.event]);
          g_assert_cmpuint (iv.value, ==, t->value[iv.event]);
          g_assert_cmpuint (iv.aux, ==, t->aux[iv.event]);
          g_assert_cmpuint (iv.arg, ==, t->arg[iv.event]);
        }
      for (guint l = 0; l < n_lanes; l++)
        g_assert_cmpuint (next[l], ==, ((GArray *) g_ptr_array_index (per_lane, l))->len);
      for (gsize i = 0; i < t->n_events && t->time[i] <= uptos[u]; i++)
        {
          requests += t->kind[i] == IL_EVENT_GIL_REQUEST;
          iterations += t->kind[i] == IL_EVENT_LOOP_ITER;
        }
      g_assert_cmpuint (il_interval_sweep_count (&sweep, IL_EVENT_GIL_REQUEST), ==, requests);
      g_assert_cmpuint (il_interval_sweep_count (&sweep, IL_EVENT_LOOP_ITER), ==, iterations);
      if (u == 1)
        g_assert_cmpuint (iterations, >, 0);
      il_interval_sweep_clear (&sweep);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace-intervals/thread-lane", test_thread_lane);
  g_test_add_func ("/trace-intervals/upto", test_upto);
  g_test_add_func ("/trace-intervals/other-lanes", test_other_lanes);
  g_test_add_func ("/trace-intervals/range", test_range);
  g_test_add_func ("/trace-intervals/sums-match-stats", test_sums_match_stats);
  g_test_add_func ("/trace-intervals/sweep", test_sweep);
  g_test_add_func ("/trace-intervals/sweep-foreach", test_sweep_foreach);
  return g_test_run ();
}
