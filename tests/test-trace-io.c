/* test-trace-io.c — the native trace file: exact round trips, atomic saves,
 * damaged files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "il-engine.h"
#include "il-trace-io.h"

static char *tmpdir;

static IlTrace *
run_lesson (const char  *name,
            IlMode       mode,
            IlRunConfig *config)
{
  g_autofree char *path = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "data", "lessons", name, NULL);
  g_autoptr(IlScenario) s = il_scenario_load_file (path, NULL);
  IlTrace *trace;

  g_assert_nonnull (s);
  il_run_config_from_scenario (config, s);
  config->mode = mode;
  trace = il_simulate (s, config, NULL);
  g_assert_nonnull (trace);
  return trace;
}

static void
assert_traces_equal (const IlTrace *a,
                     const IlTrace *b)
{
  g_assert_cmpuint (a->n_events, ==, b->n_events);
  g_assert_cmpmem (a->time, a->n_events * 8, b->time, b->n_events * 8);
  g_assert_cmpmem (a->lane, a->n_events * 4, b->lane, b->n_events * 4);
  g_assert_cmpmem (a->kind, a->n_events, b->kind, b->n_events);
  g_assert_cmpmem (a->value, a->n_events, b->value, b->n_events);
  g_assert_cmpmem (a->aux, a->n_events * 2, b->aux, b->n_events * 2);
  g_assert_cmpmem (a->arg, a->n_events * 4, b->arg, b->n_events * 4);
  g_assert_cmpuint (il_trace_get_n_lanes (a), ==, il_trace_get_n_lanes (b));
  for (guint i = 0; i < il_trace_get_n_lanes (a); i++)
    {
      const IlLane *la = il_trace_get_lane (a, i), *lb = il_trace_get_lane (b, i);
      const GArray *ia = il_trace_get_lane_events (a, i), *ib = il_trace_get_lane_events (b, i);
      g_assert_cmpint (la->kind, ==, lb->kind);
      g_assert_cmpstr (la->name, ==, lb->name);
      g_assert_cmpuint (la->parent, ==, lb->parent);
      g_assert_cmpuint (la->index, ==, lb->index);
      g_assert_cmpmem (ia->data, ia->len * 4, ib->data, ib->len * 4);
    }
  g_assert_cmpuint (a->strings->len, ==, b->strings->len);
  for (guint i = 0; i < a->strings->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a->strings, i), ==, g_ptr_array_index (b->strings, i));
  g_assert_cmpint (a->end_time, ==, b->end_time);
  g_assert_cmpint (a->finished, ==, b->finished);
  g_assert_cmpint (a->mode, ==, b->mode);
  g_assert_cmpstr (a->source, ==, b->source);
  g_assert_true ((a->scenario == NULL) == (b->scenario == NULL));
  if (a->scenario != NULL)
    {
      g_autofree char *ja = il_scenario_to_json (a->scenario);
      g_autofree char *jb = il_scenario_to_json (b->scenario);
      g_assert_cmpstr (ja, ==, jb);
    }
}

static void
assert_configs_equal (const IlRunConfig *a,
                      const IlRunConfig *b)
{
  g_assert_cmpint (a->mode, ==, b->mode);
  g_assert_cmpuint (a->cores, ==, b->cores);
  g_assert_cmpuint (a->workers, ==, b->workers);
  g_assert_cmpint (a->switch_interval, ==, b->switch_interval);
  g_assert_cmpint (a->params.wake_latency, ==, b->params.wake_latency);
  g_assert_cmpint (a->params.timer_slack, ==, b->params.timer_slack);
  g_assert_cmpint (a->params.breaker_latency, ==, b->params.breaker_latency);
  g_assert_cmpint (a->params.os_slice, ==, b->params.os_slice);
  g_assert_cmpint (a->params.loop_iteration_cost, ==, b->params.loop_iteration_cost);
  g_assert_cmpint (a->params.task_step_cost, ==, b->params.task_step_cost);
  g_assert_cmpint (a->params.task_create_cost, ==, b->params.task_create_cost);
  g_assert_cmpint (a->params.thread_start_cost, ==, b->params.thread_start_cost);
  g_assert_cmpint (a->params.pool_item_cost, ==, b->params.pool_item_cost);
  g_assert_cmpmem (a->params.process_start_cost, sizeof a->params.process_start_cost,
                   b->params.process_start_cost, sizeof b->params.process_start_cost);
  g_assert_cmpint (a->params.ipc_item_cost, ==, b->params.ipc_item_cost);
  g_assert_cmpfloat (a->params.free_threading_overhead, ==, b->params.free_threading_overhead);
  g_assert_cmpint (a->params.start_method, ==, b->params.start_method);
  g_assert_cmpuint (a->params.seed, ==, b->params.seed);
}

static void
test_round_trip (void)
{
  static const struct { const char *lesson; IlMode mode; } runs[] = {
    { "07-convoy-effect.json", IL_MODE_THREADS },
    { "10-event-loop.json", IL_MODE_ASYNCIO },
    { "05-process-startup-cost.json", IL_MODE_PROCESSES },
    { "15-task-group.json", IL_MODE_ASYNCIO },
    { "06-thread-pool.json", IL_MODE_THREADS },
    { "17-cpython-free-threading.json", IL_MODE_FREE_THREADING },
  };

  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      IlRunConfig config, loaded_config;
      g_autoptr(IlTrace) trace = run_lesson (runs[i].lesson, runs[i].mode, &config);
      g_autofree char *path = g_build_filename (tmpdir, "run.itrace", NULL);
      g_autofree char *path2 = g_build_filename (tmpdir, "again.itrace", NULL);
      g_autofree char *bytes1 = NULL, *bytes2 = NULL;
      gsize len1, len2;
      g_autoptr(IlTrace) loaded = NULL;
      g_autoptr(GError) error = NULL;

      config.workers = 3;    /* not the scenario's own value: must come from the file */
      config.params.seed = 4242;
      g_assert_true (il_trace_save (trace, &config, path, &error));
      g_assert_no_error (error);
      loaded = il_trace_load (path, &loaded_config, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      assert_traces_equal (trace, loaded);
      assert_configs_equal (&config, &loaded_config);

      /* save → open → save gives the same bytes. */
      g_assert_true (il_trace_save (loaded, &loaded_config, path2, &error));
      g_assert_true (g_file_get_contents (path, &bytes1, &len1, NULL));
      g_assert_true (g_file_get_contents (path2, &bytes2, &len2, NULL));
      g_assert_cmpmem (bytes1, len1, bytes2, len2);
      g_assert_true (il_trace_is_native ((const guint8 *) bytes1, len1));
      g_unlink (path);
      g_unlink (path2);
    }
}

static void
test_imported_shape (void)
{
  /* Traces without a scenario (imported ones) keep names, slices, counters. */
  g_autoptr(IlTrace) t = il_trace_new ();
  g_autoptr(IlTrace) loaded = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "imported.itrace", NULL);
  g_autoptr(GError) error = NULL;
  guint32 p = il_trace_add_lane (t, IL_LANE_PROCESS, "python (pid 7)", IL_NO_LANE, 7);
  guint32 th = il_trace_add_lane (t, IL_LANE_THREAD, "MainThread ✓", p, 7);
  guint32 c = il_trace_add_lane (t, IL_LANE_COUNTER, "memory", p, 0);
  guint32 name = il_trace_intern (t, "parse()");

  il_trace_append (t, 10, th, IL_EVENT_SLICE_BEGIN, 0, 0, name);
  il_trace_append (t, 15, c, IL_EVENT_COUNTER, 0, 0, il_trace_float_bits (2.5f));
  il_trace_append (t, 20, th, IL_EVENT_SLICE_END, 0, 0, name);
  il_trace_set_end_time (t, 30);
  t->source = g_strdup ("Chrome trace: x.json");
  g_assert_true (il_trace_save (t, NULL, path, &error));
  loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_traces_equal (t, loaded);
  g_unlink (path);
}

static void
test_damaged (void)
{
  IlRunConfig config;
  g_autoptr(IlTrace) trace = run_lesson ("07-convoy-effect.json", IL_MODE_THREADS, &config);
  g_autofree char *path = g_build_filename (tmpdir, "good.itrace", NULL);
  g_autofree char *bad = g_build_filename (tmpdir, "bad.itrace", NULL);
  g_autofree char *data = NULL;
  gsize len;
  GRand *rand = g_rand_new_with_seed (7);

  g_assert_true (il_trace_save (trace, &config, path, NULL));
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));

  /* Cut off at 60 places: always an error naming the file, never a crash. */
  for (guint i = 0; i < 60; i++)
    {
      gsize cut = len * i / 60;
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = NULL;
      g_assert_true (g_file_set_contents (bad, data, cut, NULL));
      t = il_trace_load (bad, NULL, NULL, NULL, NULL, &error);
      g_assert_null (t);
      g_assert_nonnull (error);
      g_assert_true (strstr (error->message, bad) != NULL);
      if (cut >= 12)
        g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_TRUNCATED);
    }

  /* Flipped bytes: the checksum or a check catches every one. */
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *copy = g_memdup2 (data, len);
      gsize at = g_rand_int_range (rand, 0, (gint32) len);
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = NULL;
      copy[at] ^= (char) (1 + g_rand_int_range (rand, 0, 255));
      g_assert_true (g_file_set_contents (bad, copy, len, NULL));
      t = il_trace_load (bad, NULL, NULL, NULL, NULL, &error);
      g_assert_null (t);
      g_assert_nonnull (error);
    }

  /* A newer format version. */
  {
    g_autofree char *copy = g_memdup2 (data, len);
    g_autoptr(GError) error = NULL;
    copy[8] = 9;
    g_assert_true (g_file_set_contents (bad, copy, len, NULL));
    g_assert_null (il_trace_load (bad, NULL, NULL, NULL, NULL, &error));
    g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_VERSION);
  }

  /* Not a trace at all. */
  {
    g_autoptr(GError) error = NULL;
    g_assert_true (g_file_set_contents (bad, "{\"tasks\": []}", -1, NULL));
    g_assert_null (il_trace_load (bad, NULL, NULL, NULL, NULL, &error));
    g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
  }
  g_rand_free (rand);
  g_unlink (bad);
  g_unlink (path);
}

static void
test_atomic_save (void)
{
  IlRunConfig config;
  g_autoptr(IlTrace) trace = run_lesson ("01-sync-vs-async.json", IL_MODE_ASYNCIO, &config);
  g_autofree char *target = g_build_filename (tmpdir, "occupied", NULL);
  g_autofree char *inside = g_build_filename (target, "keep.txt", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n = 0;

  /* The target is a non-empty directory: rename fails at the very end.
   * What was there survives and no temporary file is left behind. */
  g_assert_cmpint (g_mkdir (target, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "precious", -1, NULL));
  g_assert_false (il_trace_save (trace, &config, target, &error));
  g_assert_nonnull (error);
  g_assert_true (strstr (error->message, "unchanged") != NULL);
  g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
  dir = g_dir_open (tmpdir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 1);   /* just "occupied" */

  g_clear_error (&error);
  g_assert_false (il_trace_save (trace, &config, "/nonexistent-dir/run.itrace", &error));
  g_assert_nonnull (error);

  g_unlink (inside);
  g_rmdir (target);
}

static void
on_progress (double fraction, gpointer data)
{
  double *last = data;
  g_assert_cmpfloat (fraction, >=, *last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  *last = fraction;
}

static void
test_progress_cancel (void)
{
  IlRunConfig config;
  g_autoptr(IlTrace) trace = run_lesson ("07-convoy-effect.json", IL_MODE_THREADS, &config);
  g_autofree char *path = g_build_filename (tmpdir, "progress.itrace", NULL);
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) loaded = NULL;
  double last = 0;

  g_assert_true (il_trace_save (trace, &config, path, NULL));
  loaded = il_trace_load (path, NULL, on_progress, &last, NULL, &error);
  g_assert_nonnull (loaded);
  g_assert_cmpfloat (last, ==, 1.0);
  g_cancellable_cancel (cancel);
  if (trace->n_events > 65536)
    {
      g_assert_null (il_trace_load (path, NULL, NULL, NULL, cancel, &error));
      g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_CANCELLED);
    }
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("interleave-trace-io-XXXXXX", NULL);
  g_test_add_func ("/trace-io/round-trip", test_round_trip);
  g_test_add_func ("/trace-io/imported-shape", test_imported_shape);
  g_test_add_func ("/trace-io/damaged", test_damaged);
  g_test_add_func ("/trace-io/atomic-save", test_atomic_save);
  g_test_add_func ("/trace-io/progress-cancel", test_progress_cancel);
  status = g_test_run ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return status;
}
