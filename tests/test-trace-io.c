/* test-trace-io.c — the native trace file: exact round trips, atomic saves,
 * damaged files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "il-chrome.h"
#include "il-engine.h"
#include "il-stats.h"
#include "il-trace-io.h"

static char *tmpdir;

static IlTrace *
run_lesson (const char  *name,
            IlMode       mode,
            IlRunConfig *config)
{
  const char *root = g_getenv ("INTERLEAVE_SOURCE_DIR");
  g_autofree char *path = root != NULL ? g_build_filename (root, "data", "lessons", name, NULL)
                                       : g_test_build_filename (G_TEST_DIST, "..", "data", "lessons", name, NULL);
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
  for (gsize i = 0; i < a->n_events; i++)
    g_assert_cmpuint (il_trace_event_lane (a, i), ==, il_trace_event_lane (b, i));
  g_assert_cmpmem (a->kind, a->n_events, b->kind, b->n_events);
  g_assert_cmpmem (a->value, a->n_events, b->value, b->n_events);
  g_assert_cmpmem (a->aux, a->n_events * 2, b->aux, b->n_events * 2);
  g_assert_cmpmem (a->arg, a->n_events * 4, b->arg, b->n_events * 4);
  g_assert_cmpuint (il_trace_get_n_lanes (a), ==, il_trace_get_n_lanes (b));
  for (guint i = 0; i < il_trace_get_n_lanes (a); i++)
    {
      const IlLane *la = il_trace_get_lane (a, i), *lb = il_trace_get_lane (b, i);
      const IlLaneIndex *ia = il_trace_get_lane_events (a, i), *ib = il_trace_get_lane_events (b, i);
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
    { "19-producer-consumer.json", IL_MODE_ASYNCIO },
    { "19-producer-consumer.json", IL_MODE_THREADS },
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
      /* Version 3 only for what a version-2 reader cannot read: queues. */
      g_assert_cmpuint (len1, >, 12);
      g_assert_cmpuint ((guint8) bytes1[8], ==, trace->scenario->n_queues > 0 ? 3 : 2);
      g_unlink (path);
      g_unlink (path2);
    }
}

/* A configuration no engine can run is refused by the loader, naming the
 * file, the byte and the field: with os_slice_ns=0 the window used to hang
 * when the mode changed and the run was simulated again. */
static void
test_bad_config (void)
{
  static const struct { const char *what; const char *expect; } cases[] = {
    { "os_slice", "os_slice_ns=0: the OS time slice must be at least 0.001 ms" },
    { "cores", "cores=300: expected a whole number from 1 to 256, got 300" },
    { "switch_interval", "switch_interval_ns=0: the switch interval must be at least 0.001 ms" },
    { "overhead", "free_threading_overhead=11: expected a fraction from 0 to 10" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      IlRunConfig config, untouched;
      g_autoptr(IlTrace) trace = run_lesson ("07-convoy-effect.json", IL_MODE_THREADS, &config);
      g_autofree char *path = g_build_filename (tmpdir, "bad-config.itrace", NULL);
      g_autoptr(IlTrace) loaded = NULL;
      g_autoptr(GError) error = NULL;

      if (g_str_equal (cases[i].what, "os_slice"))
        config.params.os_slice = 0;
      else if (g_str_equal (cases[i].what, "cores"))
        config.cores = 300;
      else if (g_str_equal (cases[i].what, "switch_interval"))
        config.switch_interval = 0;
      else
        config.params.free_threading_overhead = 11;
      /* The writer trusts its caller; the loader trusts nothing. */
      g_assert_true (il_trace_save (trace, &config, path, &error));
      g_assert_no_error (error);

      memset (&untouched, 0x5a, sizeof untouched);
      config = untouched;
      loaded = il_trace_load (path, &config, NULL, NULL, NULL, &error);
      g_assert_null (loaded);
      g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
      g_assert_true (g_str_has_prefix (error->message, path));
      g_assert_nonnull (strstr (error->message, ": byte "));
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_assert_cmpmem (&config, sizeof config, &untouched, sizeof untouched);   /* only filled on success */

      /* Also when the caller does not ask for the configuration. */
      g_clear_error (&error);
      g_assert_null (il_trace_load (path, NULL, NULL, NULL, NULL, &error));
      g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
      g_unlink (path);
    }
}

/* A trace without a config, saved and loaded back the same. */
static void
assert_saves_and_loads (const IlTrace *t,
                        const char    *name)
{
  g_autoptr(IlTrace) loaded = NULL;
  g_autofree char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (il_trace_save (t, NULL, path, &error));
  loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_traces_equal (t, loaded);
  g_unlink (path);
}

static void
test_imported_shape (void)
{
  /* Traces without a scenario (imported ones) keep names, slices, counters. */
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 p = il_trace_add_lane (t, IL_LANE_PROCESS, "python (pid 7)", IL_NO_LANE, 7);
  guint32 th = il_trace_add_lane (t, IL_LANE_THREAD, "MainThread ✓", p, 7);
  guint32 c = il_trace_add_lane (t, IL_LANE_COUNTER, "memory", p, 0);
  guint32 name = il_trace_intern (t, "parse()");

  il_trace_append (t, 10, th, IL_EVENT_SLICE_BEGIN, 0, 0, name);
  il_trace_append (t, 15, c, IL_EVENT_COUNTER, 0, 0, il_trace_float_bits (2.5f));
  il_trace_append (t, 20, th, IL_EVENT_SLICE_END, 0, 0, name);
  il_trace_set_end_time (t, 30);
  t->source = g_strdup ("Chrome trace: x.json");
  assert_saves_and_loads (t, "imported.itrace");
}

/* A trace is written as version 2 when nothing in it needs 3, so that
 * older builds open it: a queue's cause needs 3 whether or not the trace
 * carries a scenario with queues.  A version-3 file without one (made by
 * hand or by a fuzzer) loaded, and was saved as version 2, which the same
 * build then refused: "state event with an unknown state or cause". */
static void
test_queue_cause_without_scenario (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "consumer", IL_NO_LANE, 0);
  guint32 b = il_trace_add_lane (t, IL_LANE_TASK, "producer", IL_NO_LANE, 1);

  il_trace_append (t, 0, a, IL_EVENT_STATE, IL_STATE_BLOCKED, IL_CAUSE_QUEUE, IL_NO_LANE);
  il_trace_append (t, 10, a, IL_EVENT_STATE, IL_STATE_READY, IL_CAUSE_QUEUE, b);
  il_trace_set_end_time (t, 20);
  assert_saves_and_loads (t, "queue-cause.itrace");
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

/* ------------------------------------------------ editing saved files */

static guint32
test_crc32 (const guint8 *data,
            gsize         len)
{
  guint32 crc = 0xFFFFFFFFu;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
  return ~crc;
}

/* Rewrites the checksum in the END section (the last 4 bytes), so that the
 * loader's own checks, not the checksum, must catch a damaged field. */
static void
reseal (guint8 *data,
        gsize   len)
{
  guint32 crc = GUINT32_TO_LE (test_crc32 (data, len - 4));
  memcpy (data + len - 4, &crc, 4);
}

#define TEST_TAG(s) ((guint32) (s)[0] | (guint32) (s)[1] << 8 | (guint32) (s)[2] << 16 | (guint32) (s)[3] << 24)

/* Offset of the payload of the section with this tag, and its length. */
static gboolean
find_section (const guint8 *data,
              gsize         len,
              const char   *tag,
              gsize        *payload,
              gsize        *payload_len)
{
  gsize off = 12;

  while (off + 12 <= len)
    {
      guint32 t;
      guint64 l;
      memcpy (&t, data + off, 4);
      memcpy (&l, data + off + 4, 8);
      t = GUINT32_FROM_LE (t);
      l = GUINT64_FROM_LE (l);
      if (t == TEST_TAG (tag))
        {
          *payload = off + 12;
          *payload_len = (gsize) l;
          return TRUE;
        }
      off += 12 + (gsize) l;
    }
  return FALSE;
}

/* What every loaded trace must satisfy, however damaged its file was. */
static void
assert_trace_valid (const IlTrace *t)
{
  guint n_lanes = il_trace_get_n_lanes (t);
  gsize indexed = 0;

  for (gsize i = 0; i < t->n_events; i++)
    {
      g_assert_cmpuint (il_trace_event_lane (t, i), <, n_lanes);
      g_assert_cmpuint (t->kind[i], <, IL_N_EVENT_KINDS);
      g_assert_cmpint (t->time[i], >=, 0);
      if (i > 0)
        g_assert_cmpint (t->time[i], >=, t->time[i - 1]);
      if (t->kind[i] == IL_EVENT_STATE)
        {
          g_assert_cmpuint (t->value[i], <, IL_N_STATES);
          g_assert_cmpuint (t->aux[i], <, IL_N_CAUSES);
        }
    }
  if (t->n_events > 0)
    g_assert_cmpint (t->end_time, >=, t->time[t->n_events - 1]);
  for (guint l = 0; l < n_lanes; l++)
    {
      const IlLane *lane = il_trace_get_lane (t, l);
      const IlLaneIndex *idx = il_trace_get_lane_events (t, l);
      g_assert_cmpuint (lane->kind, <, IL_N_LANE_KINDS);
      g_assert_true (lane->parent == IL_NO_LANE || lane->parent < n_lanes);
      g_assert_true (g_utf8_validate (lane->name, -1, NULL));
      for (guint k = 0; k < idx->len; k++)
        g_assert_cmpuint (il_trace_event_lane (t, idx->data[k]), ==, l);
      indexed += idx->len;
    }
  g_assert_cmpuint (indexed, ==, t->n_events);
  for (guint i = 0; i < t->strings->len; i++)
    g_assert_true (g_utf8_validate (g_ptr_array_index (t->strings, i), -1, NULL));
  g_assert_cmpint (t->mode, <, IL_N_MODES);

  /* And the consumers of a trace must cope with it. */
  {
    IlStats *st = il_stats_compute (t, t->end_time);
    il_stats_free (st);
  }
}

static GError *
load_bytes (const char   *path,
            const guint8 *data,
            gsize         len,
            IlTrace     **out)
{
  GError *error = NULL;

  g_assert_true (g_file_set_contents (path, (const char *) data, len, NULL));
  *out = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_true ((*out == NULL) != (error == NULL));
  return error;
}

/* Changes one field inside a saved file, reseals it, and expects a format
 * error whose message names the file and a byte offset. */
static void
expect_format_error (const char   *path,
                     const guint8 *good,
                     gsize         len,
                     gsize         at,
                     const void   *bytes,
                     gsize         n,
                     const char   *what)
{
  g_autofree guint8 *copy = g_memdup2 (good, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) t = NULL;

  g_test_message ("damaging %s at byte %" G_GSIZE_FORMAT, what, at);
  g_assert_cmpuint (at + n, <=, len - 4);
  memcpy (copy + at, bytes, n);
  reseal (copy, len);
  error = load_bytes (path, copy, len, &t);
  g_assert_null (t);
  g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
  g_assert_true (strstr (error->message, path) != NULL);
  g_assert_true (strstr (error->message, "byte ") != NULL);
}

static void
test_validation (void)
{
  IlRunConfig config;
  g_autoptr(IlTrace) trace = run_lesson ("10-event-loop.json", IL_MODE_ASYNCIO, &config);
  g_autofree char *path = g_build_filename (tmpdir, "valid.itrace", NULL);
  g_autofree char *bad = g_build_filename (tmpdir, "invalid.itrace", NULL);
  g_autofree guint8 *data = NULL;
  gsize len, head = 0, head_len = 0, lanes = 0, lanes_len = 0, evts = 0, evts_len = 0, scen = 0, scen_len = 0;
  guint64 n;
  guint32 n_lanes;

  g_assert_cmpuint (trace->n_events, >, 10);
  g_assert_true (il_trace_save (trace, &config, path, NULL));
  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  g_assert_true (find_section (data, len, "HEAD", &head, &head_len));
  g_assert_true (find_section (data, len, "LANE", &lanes, &lanes_len));
  g_assert_true (find_section (data, len, "EVTS", &evts, &evts_len));
  g_assert_true (find_section (data, len, "SCEN", &scen, &scen_len));
  n = trace->n_events;
  n_lanes = il_trace_get_n_lanes (trace);

  {
    guint32 v = GUINT32_TO_LE (n_lanes);
    expect_format_error (bad, data, len, evts + n * 8 + 4 * 3, &v, 4, "an event's lane");
  }
  {
    guint8 k = IL_N_EVENT_KINDS;
    expect_format_error (bad, data, len, evts + n * 12 + 5, &k, 1, "an event's kind");
  }
  {
    gint64 t = GINT64_TO_LE (trace->time[n - 1] + 1000);
    expect_format_error (bad, data, len, evts + 8 * (n / 2), &t, 8, "an event's time (goes backwards)");
  }
  {
    gint64 t = GINT64_TO_LE (-5);
    expect_format_error (bad, data, len, evts, &t, 8, "the first time (negative)");
  }
  {
    /* A STATE event with a state past the last one. */
    gsize e = 0;
    guint8 v = IL_N_STATES;
    while (e < n && trace->kind[e] != IL_EVENT_STATE)
      e++;
    g_assert_cmpuint (e, <, n);
    expect_format_error (bad, data, len, evts + n * 13 + e, &v, 1, "a state");
  }
  {
    guint32 k = GUINT32_TO_LE (IL_N_LANE_KINDS);
    expect_format_error (bad, data, len, lanes, &k, 4, "a lane kind");
  }
  {
    guint32 p = GUINT32_TO_LE (n_lanes + 3);
    expect_format_error (bad, data, len, lanes + 4, &p, 4, "a lane parent");
  }
  {
    guint8 ff = 0xff;
    expect_format_error (bad, data, len, lanes + 16, &ff, 1, "a lane name (not UTF-8)");
  }
  {
    guint32 nl = GUINT32_TO_LE (G_MAXUINT32);
    expect_format_error (bad, data, len, lanes + 12, &nl, 4, "a lane name length");
  }
  {
    /* Counts far beyond the file: refused before anything is allocated. */
    guint64 big = GUINT64_TO_LE (G_GUINT64_CONSTANT (1) << 40);
    guint32 big32 = GUINT32_TO_LE (G_MAXUINT32);
    expect_format_error (bad, data, len, head + 16, &big, 8, "the event count");
    expect_format_error (bad, data, len, head + 24, &big32, 4, "the lane count");
    expect_format_error (bad, data, len, head + 28, &big32, 4, "the string count");
  }
  {
    guint32 m = GUINT32_TO_LE (IL_N_MODES);
    expect_format_error (bad, data, len, head + 12, &m, 4, "the mode");
  }
  {
    gint64 end = GINT64_TO_LE (trace->time[n - 1] - 1);
    expect_format_error (bad, data, len, head, &end, 8, "the end time");
  }
  {
    expect_format_error (bad, data, len, scen, "[", 1, "the scenario JSON");
  }
  {
    /* A damaged byte without a fresh checksum is caught by the checksum. */
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr(GError) error = NULL;
    g_autoptr(IlTrace) t = NULL;
    copy[scen + 1] ^= 0x20;
    error = load_bytes (bad, copy, len, &t);
    g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
    g_assert_true (strstr (error->message, "checksum") != NULL);
  }
  g_unlink (bad);
  g_unlink (path);
}

static void
test_fuzz_resealed (void)
{
  /* Random damage with the checksum made to match again: every outcome is
   * either an error or a trace that keeps every invariant.  Meant to be run
   * under AddressSanitizer too. */
  IlRunConfig config;
  g_autoptr(IlTrace) trace = run_lesson ("15-task-group.json", IL_MODE_ASYNCIO, &config);
  g_autofree char *path = g_build_filename (tmpdir, "fuzz.itrace", NULL);
  g_autofree guint8 *data = NULL;
  gsize len, evts = 0, evts_len = 0;
  GRand *rand = g_rand_new_with_seed (12345);
  guint n_ok = 0, n_err = 0;
  guint rounds;

  g_assert_true (il_trace_save (trace, &config, path, NULL));
  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  g_assert_true (find_section (data, len, "EVTS", &evts, &evts_len));

  rounds = g_test_slow () ? 20000 : 600;

  for (guint i = 0; i < rounds; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = NULL;
      guint flips = 1 + g_rand_int_range (rand, 0, 4);

      for (guint f = 0; f < flips; f++)
        {
          /* Half the time aim at the small sections, where most fields are. */
          gsize at = i % 2 == 0 && evts > 12 ? (gsize) g_rand_int_range (rand, 8, (gint32) evts)
                                             : (gsize) g_rand_int_range (rand, 8, (gint32) (len - 4));
          copy[at] ^= (guint8) (1 + g_rand_int_range (rand, 0, 255));
        }
      reseal (copy, len);
      error = load_bytes (path, copy, len, &t);
      if (t != NULL)
        {
          assert_trace_valid (t);
          n_ok++;
        }
      else
        {
          g_assert_true (error->domain == IL_TRACE_IO_ERROR);
          n_err++;
        }
    }
  g_test_message ("resealed fuzz: %u loaded, %u refused", n_ok, n_err);
  g_assert_cmpuint (n_err, >, 0);
  g_rand_free (rand);
  g_unlink (path);
}

static void
test_forward_compatible (void)
{
  /* A newer writer's unknown section, and unknown configuration names, are
   * skipped by this reader. */
  IlRunConfig config, loaded_config;
  g_autoptr(IlTrace) trace = run_lesson ("02-gil-cpu-threads.json", IL_MODE_THREADS, &config);
  g_autofree char *path = g_build_filename (tmpdir, "future.itrace", NULL);
  g_autofree guint8 *data = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(IlTrace) loaded = NULL;
  g_autoptr(GError) error = NULL;
  gsize len, conf = 0, conf_len = 0;
  static const char extra[] = "future payload";
  static const char new_param[] = "\nsome_future_param_ns=77\nseed=not-a-number-but-ignored-gracefully";
  guint32 tag = GUINT32_TO_LE (TEST_TAG ("ZZZZ"));
  guint64 l = GUINT64_TO_LE (sizeof extra);
  guint64 new_conf_len;

  g_assert_true (il_trace_save (trace, &config, path, NULL));
  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  g_assert_true (find_section (data, len, "CONF", &conf, &conf_len));

  /* Copy up to the CONF payload's end, append a new name, then an unknown
   * section, then the rest (which ends with END). */
  new_conf_len = GUINT64_TO_LE (conf_len + 26);
  g_byte_array_append (out, data, conf - 8);
  g_byte_array_append (out, (const guint8 *) &new_conf_len, 8);
  g_byte_array_append (out, data + conf, conf_len);
  g_byte_array_append (out, (const guint8 *) new_param, 26);   /* just "\nsome_future_param_ns=77\n" */
  g_byte_array_append (out, (const guint8 *) &tag, 4);
  g_byte_array_append (out, (const guint8 *) &l, 8);
  g_byte_array_append (out, (const guint8 *) extra, sizeof extra);
  g_byte_array_append (out, data + conf + conf_len, len - conf - conf_len);
  reseal (out->data, out->len);
  g_assert_true (g_file_set_contents (path, (const char *) out->data, out->len, NULL));

  loaded = il_trace_load (path, &loaded_config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_traces_equal (trace, loaded);
  assert_configs_equal (&config, &loaded_config);
  g_unlink (path);
}

/* The trace a version-1 writer could have made of the same run: no step or
 * queue events, and a starting interpreter drawn as running. */
static IlTrace *
as_version_1 (const IlTrace *trace)
{
  IlTrace *old = il_trace_new ();

  for (guint32 l = 0; l < il_trace_get_n_lanes (trace); l++)
    {
      const IlLane *lane = il_trace_get_lane (trace, l);
      il_trace_add_lane (old, lane->kind, lane->name, lane->parent, lane->index);
    }
  for (gsize i = 0; i < trace->n_events; i++)
    {
      guint8 value = trace->value[i];

      if (trace->kind[i] == IL_EVENT_STEP || trace->kind[i] == IL_EVENT_QUEUE)
        continue;
      if (trace->kind[i] == IL_EVENT_STATE && value == IL_STATE_STARTING)
        value = IL_STATE_RUNNING;
      il_trace_append (old, trace->time[i], il_trace_event_lane (trace, i), trace->kind[i], value, trace->aux[i], trace->arg[i]);
    }
  old->end_time = trace->end_time;
  old->finished = trace->finished;
  old->mode = trace->mode;
  old->scenario = il_scenario_ref (trace->scenario);
  return old;
}

static void
test_version_1 (void)
{
  /* Version-1 files keep loading, recorded facts (RECM) included; a file
   * that says version 1 but holds what only version 2 has is refused. */
  IlRunConfig config, loaded_config;
  g_autoptr(IlTrace) trace = run_lesson ("05-process-startup-cost.json", IL_MODE_PROCESSES, &config);
  g_autoptr(IlTrace) old = as_version_1 (trace);
  g_autofree char *path = g_build_filename (tmpdir, "version-1.itrace", NULL);
  g_autoptr(IlTrace) loaded = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *data = NULL;
  gsize len, n_new = 0;

  for (gsize i = 0; i < trace->n_events; i++)
    n_new += trace->kind[i] == IL_EVENT_STEP || trace->kind[i] == IL_EVENT_QUEUE
             || (trace->kind[i] == IL_EVENT_STATE && trace->value[i] == IL_STATE_STARTING);
  g_assert_cmpuint (n_new, >, 0);

  old->recording = g_strdup ("python=3.11.7\nthreads=2\n");
  g_assert_true (il_trace_save (old, &config, path, NULL));
  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  data[8] = 1;
  reseal (data, len);
  g_assert_true (g_file_set_contents (path, (const char *) data, len, NULL));
  g_free (data);
  loaded = il_trace_load (path, &loaded_config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_traces_equal (old, loaded);
  g_assert_cmpstr (loaded->recording, ==, old->recording);

  g_assert_true (il_trace_save (trace, &config, path, NULL));
  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  data[8] = 1;
  reseal (data, len);
  g_assert_true (g_file_set_contents (path, (const char *) data, len, NULL));
  g_free (data);
  g_assert_null (il_trace_load (path, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
  g_assert_true (strstr (error->message, path) != NULL);
  g_unlink (path);
}

static void
test_replace_existing (void)
{
  IlRunConfig config;
  g_autoptr(IlTrace) trace = run_lesson ("01-sync-vs-async.json", IL_MODE_THREADS, &config);
  g_autofree char *path = g_build_filename (tmpdir, "existing.itrace", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) loaded = NULL;
  g_autoptr(GDir) dir = NULL;
  char *tmp_path = NULL;
  FILE *f;
  guint n = 0;

  /* A successful save replaces what was there. */
  g_assert_true (g_file_set_contents (path, "old contents", -1, NULL));
  g_assert_true (il_trace_save (trace, &config, path, &error));
  g_assert_no_error (error);
  loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_traces_equal (trace, loaded);

  /* A writer that gives up half-way leaves the previous file as it was,
   * and no temporary file behind. */
  f = il_atomic_file_begin (path, &tmp_path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f);
  g_assert_true (g_str_has_prefix (tmp_path, tmpdir));
  fputs ("half a file", f);
  g_assert_false (il_atomic_file_commit (f, tmp_path, path, TRUE, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_clear_pointer (&loaded, il_trace_unref);
  loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_traces_equal (trace, loaded);

  /* In a directory we may not write to, saving fails and changes nothing
   * (root may write anywhere, so that part only runs for other users). */
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (tmpdir, "readonly", NULL);
      g_autofree char *inside = g_build_filename (ro, "keep.itrace", NULL);
      g_autofree char *before = NULL, *after = NULL;
      gsize before_len, after_len;

      g_assert_cmpint (g_mkdir (ro, 0755), ==, 0);
      g_assert_true (il_trace_save (trace, &config, inside, NULL));
      g_assert_true (g_file_get_contents (inside, &before, &before_len, NULL));
      g_assert_cmpint (g_chmod (ro, 0555), ==, 0);
      g_assert_false (il_trace_save (loaded, NULL, inside, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_true (g_file_get_contents (inside, &after, &after_len, NULL));
      g_assert_cmpmem (before, before_len, after, after_len);
      g_assert_cmpint (g_chmod (ro, 0755), ==, 0);
      g_unlink (inside);
      g_rmdir (ro);
    }

  g_unlink (path);
  dir = g_dir_open (tmpdir, 0, NULL);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 0);
  (void) contents;
}

/* A synthetic trace of n events over a few lanes, shaped like an engine run. */
static IlTrace *
make_big_trace (gsize n)
{
  IlTrace *t = il_trace_new ();
  guint32 gil, lanes[8];

  il_trace_add_lane (t, IL_LANE_CORE, "core 0", IL_NO_LANE, 0);
  gil = il_trace_add_lane (t, IL_LANE_GIL, "GIL", IL_NO_LANE, 0);
  for (guint i = 0; i < G_N_ELEMENTS (lanes); i++)
    {
      g_autofree char *name = g_strdup_printf ("task %u", i);
      lanes[i] = il_trace_add_lane (t, IL_LANE_TASK, name, IL_NO_LANE, i);
    }
  il_trace_reserve (t, n);
  for (gsize i = 0; i < n; i++)
    {
      if (i % 4 == 0)
        il_trace_append (t, (gint64) i * 50, gil, IL_EVENT_GIL_TAKE, 1, 0, lanes[i % 8]);
      else
        il_trace_append (t, (gint64) i * 50, lanes[i % 8], IL_EVENT_STATE,
                         (guint8) (i % IL_N_STATES), IL_CAUSE_GIL_HANDOFF, lanes[(i + 1) % 8]);
    }
  il_trace_set_end_time (t, (gint64) n * 50);
  t->finished = TRUE;
  return t;
}

typedef struct {
  guint  calls;
  double last;
  GCancellable *cancel_at_half;
} Progress;

static void
on_progress_count (double   fraction,
                   gpointer data)
{
  Progress *p = data;
  g_assert_cmpfloat (fraction, >=, p->last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  p->last = fraction;
  p->calls++;
  if (p->cancel_at_half != NULL && fraction >= 0.5)
    g_cancellable_cancel (p->cancel_at_half);
}

static void
test_big (void)
{
  /* Past 64 MB the checksum runs on a second thread: cover that path. */
  gsize n = g_test_perf () ? 20000000 : 3600000;
  g_autoptr(IlTrace) trace = make_big_trace (n);
  g_autoptr(IlTrace) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autofree char *path = g_build_filename (tmpdir, "big.itrace", NULL);
  Progress p = { 0 };
  GStatBuf st;
  double t0, save_s, load_s;

  t0 = g_get_monotonic_time () / 1e6;
  g_assert_true (il_trace_save (trace, NULL, path, &error));
  save_s = g_get_monotonic_time () / 1e6 - t0;
  g_assert_cmpint (g_stat (path, &st), ==, 0);

  t0 = g_get_monotonic_time () / 1e6;
  loaded = il_trace_load (path, NULL, on_progress_count, &p, NULL, &error);
  load_s = g_get_monotonic_time () / 1e6 - t0;
  g_assert_no_error (error);
  assert_traces_equal (trace, loaded);

  /* About every 1%, and a last call at 1. */
  g_assert_cmpuint (p.calls, >=, 50);
  g_assert_cmpuint (p.calls, <=, 202);
  g_assert_cmpfloat (p.last, ==, 1.0);

  g_test_message ("%" G_GSIZE_FORMAT " events, %.2f bytes/event on disk; save %.0f MB/s (%.3f s), load %.0f MB/s (%.3f s)",
                  n, (double) st.st_size / n, st.st_size / 1e6 / save_s, save_s, st.st_size / 1e6 / load_s, load_s);
  if (g_test_perf ())
    g_test_minimized_result (load_s, "load %.3f s", load_s);

  /* Cancelled half-way through: an error, no trace. */
  g_clear_pointer (&loaded, il_trace_unref);
  p = (Progress) { .cancel_at_half = cancel };
  loaded = il_trace_load (path, NULL, on_progress_count, &p, cancel, &error);
  g_assert_null (loaded);
  g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (p.last, <, 0.6);
  g_clear_error (&error);

  /* One damaged byte deep in the events of a big file: the checksum thread
   * catches it, whatever else the loader made of the events. */
  {
    int fd = g_open (path, O_RDWR, 0);
    guint8 b;
    goffset at = st.st_size / 2;
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (pread (fd, &b, 1, at), ==, 1);
    b ^= 0x40;
    g_assert_cmpint (pwrite (fd, &b, 1, at), ==, 1);
    close (fd);
    loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
    g_assert_null (loaded);
    g_assert_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT);
    g_assert_true (strstr (error->message, "checksum") != NULL);
  }
  g_unlink (path);
}

static void
test_all_lessons (void)
{
  /* Every lesson in every mode it declares: exact round trip, same bytes
   * when saved again. */
  const char *root = g_getenv ("INTERLEAVE_SOURCE_DIR");
  g_autofree char *dir_path = root != NULL ? g_build_filename (root, "data", "lessons", NULL)
                                           : g_test_build_filename (G_TEST_DIST, "..", "data", "lessons", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autofree char *path = g_build_filename (tmpdir, "lesson.itrace", NULL);
  g_autofree char *path2 = g_build_filename (tmpdir, "lesson2.itrace", NULL);
  const char *name;
  guint64 bytes = 0, events = 0;
  guint runs = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = NULL;
      g_autoptr(IlScenario) s = NULL;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      file = g_build_filename (dir_path, name, NULL);
      s = il_scenario_load_file (file, NULL);
      g_assert_nonnull (s);
      for (int m = 0; m < IL_N_MODES; m++)
        {
          IlRunConfig config, loaded_config;
          g_autoptr(IlTrace) trace = NULL;
          g_autoptr(IlTrace) loaded = NULL;
          g_autoptr(GError) error = NULL;
          g_autofree char *b1 = NULL, *b2 = NULL;
          gsize l1, l2;

          if (!(s->modes_mask & IL_MODE_MASK (m)))
            continue;
          il_run_config_from_scenario (&config, s);
          config.mode = (IlMode) m;
          trace = il_simulate (s, &config, NULL);
          if (trace == NULL)
            continue;   /* a lesson may show a run that hits a limit */
          g_assert_true (il_trace_save (trace, &config, path, &error));
          g_assert_no_error (error);
          loaded = il_trace_load (path, &loaded_config, NULL, NULL, NULL, &error);
          g_assert_no_error (error);
          assert_traces_equal (trace, loaded);
          assert_configs_equal (&config, &loaded_config);
          g_assert_true (il_trace_save (loaded, &loaded_config, path2, &error));
          g_assert_true (g_file_get_contents (path, &b1, &l1, NULL));
          g_assert_true (g_file_get_contents (path2, &b2, &l2, NULL));
          g_assert_cmpmem (b1, l1, b2, l2);
          bytes += l1;
          events += trace->n_events;
          runs++;
        }
    }
  g_test_message ("%u lesson runs, %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " bytes: %.1f bytes/event with scenario and config",
                  runs, events, bytes, (double) bytes / MAX (events, 1));
  g_assert_cmpuint (runs, >=, 18);
  g_unlink (path);
  g_unlink (path2);
}

/* ------------------------------------------------ imported slices' args */

/* Every slice shows the same args in both traces; returns how many have. */
static guint
assert_same_args (const IlTrace *a,
                  const IlTrace *b)
{
  guint n = 0;

  for (gsize e = 0; e < a->n_events; e++)
    {
      g_autoptr(GError) ea = NULL;
      g_autoptr(GError) eb = NULL;
      g_autofree char *ja = il_chrome_slice_args (a, e, &ea);
      g_autofree char *jb = il_chrome_slice_args (b, e, &eb);

      g_assert_cmpstr (ja, ==, jb);
      g_assert_true ((ea == NULL) == (eb == NULL));
      n += ja != NULL;
    }
  return n;
}

static IlTrace *
import_test_trace (const char *dir,
                   const char *name)
{
  /* The real traces beside the tree, or where INTERLEAVE_SHARED_TRACES says. */
  const char *shared = g_strcmp0 (dir, "../shared/traces") == 0 ? g_getenv ("INTERLEAVE_SHARED_TRACES") : NULL;
  g_autofree char *path = shared != NULL ? g_build_filename (shared, name, NULL)
                          : g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), dir, name, NULL);
  g_autoptr(GError) error = NULL;
  IlTrace *t;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  t = il_chrome_import (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return t;
}

/* Saving an imported trace keeps each slice's args (the ARGS section):
 * they read back the same, a second save gives the same bytes, and a
 * trace without args gets no section and no memory for them. */
static void
test_slice_args_saved (void)
{
  static const char *const files[][2] = {
    { "tests/traces", "viztracer-args.json" },
    { "tests/traces", "begin-end-args.json" },
    { "tests/traces", "pytorch-epoch.json.gz" },
    { "../shared/traces", "viztracer_function_args_return.json" },
  };
  g_autofree char *path = g_build_filename (tmpdir, "args.itrace", NULL);
  g_autofree char *path2 = g_build_filename (tmpdir, "args-again.itrace", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr(IlTrace) t = import_test_trace (files[i][0], files[i][1]);
      g_autoptr(IlTrace) loaded = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *b1 = NULL, *b2 = NULL;
      gsize l1, l2, at = 0, at_len = 0, plain_len;
      guint n;

      if (t == NULL)
        continue;
      g_assert_true (il_trace_save (t, NULL, path, &error));
      loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      assert_traces_equal (t, loaded);
      n = assert_same_args (t, loaded);
      g_assert_cmpuint (n, >, 0);
      g_assert_cmpuint (il_chrome_slice_args_count (loaded, NULL), ==, il_chrome_slice_args_count (t, NULL));
      g_assert_true (il_trace_save (loaded, NULL, path2, &error));
      g_assert_true (g_file_get_contents (path, (char **) &b1, &l1, NULL));
      g_assert_true (g_file_get_contents (path2, (char **) &b2, &l2, NULL));
      g_assert_cmpmem (b1, l1, b2, l2);
      g_assert_true (find_section (b1, l1, "ARGS", &at, &at_len));

      plain_len = l1 - 12 - at_len;
      g_test_message ("%s: %u slices with args, ARGS section %" G_GSIZE_FORMAT " bytes (%.1f per slice), "
                      "file %" G_GSIZE_FORMAT " bytes without it",
                      files[i][1], n, at_len + 12, (at_len + 12.0) / n, plain_len);
    }

  /* No args: no section, nothing kept. */
  {
    g_autoptr(IlTrace) t = import_test_trace ("tests/traces", "nestable-async.json");
    g_autoptr(IlTrace) loaded = NULL;
    g_autofree guint8 *data = NULL;
    gsize len, at, at_len;

    g_assert_null (t->slice_args);
    g_assert_true (il_trace_save (t, NULL, path, NULL));
    g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
    g_assert_false (find_section (data, len, "ARGS", &at, &at_len));
    loaded = il_trace_load (path, NULL, NULL, NULL, NULL, NULL);
    g_assert_null (loaded->slice_args);
  }
  g_unlink (path);
  g_unlink (path2);
}

/* The JSON a trace was imported from changed before saving: the args that
 * cannot be read any more are saved as "not kept", and say so once loaded. */
static void
test_slice_args_source_changed (void)
{
  g_autofree char *src = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "tests", "traces", "viztracer-args.json", NULL);
  g_autofree char *copy = g_build_filename (tmpdir, "changed.json", NULL);
  g_autofree char *path = g_build_filename (tmpdir, "changed.itrace", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(IlTrace) t = NULL;
  g_autoptr(IlTrace) loaded = NULL;
  g_autoptr(GError) error = NULL;
  guint64 not_kept = 0, n;
  guint errors = 0;

  g_assert_true (g_file_get_contents (src, &contents, NULL, NULL));
  g_assert_true (g_file_set_contents (copy, contents, -1, NULL));
  t = il_chrome_import (copy, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (copy, "{}", -1, NULL));
  g_assert_true (il_trace_save (t, NULL, path, &error));
  loaded = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  n = il_chrome_slice_args_count (loaded, &not_kept);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpuint (not_kept, ==, 5);
  for (gsize e = 0; e < loaded->n_events; e++)
    {
      g_autoptr(GError) local = NULL;
      g_autofree char *json = il_chrome_slice_args (loaded, e, &local);
      g_assert_null (json);
      if (local != NULL)
        {
          g_assert_error (local, IL_CHROME_ERROR, IL_CHROME_ERROR_TOO_LARGE);
          g_assert_nonnull (strstr (local->message, "not kept when this trace was saved"));
          errors++;
        }
    }
  g_assert_cmpuint (errors, ==, 5);
  g_unlink (copy);
  g_unlink (path);
}

/* Damaged ARGS sections are refused naming the file and the byte; a slice
 * marked "not kept" loads and says so. */
static void
test_slice_args_damaged (void)
{
  g_autoptr(IlTrace) t = import_test_trace ("tests/traces", "begin-end-args.json");
  g_autofree char *path = g_build_filename (tmpdir, "args-damaged.itrace", NULL);
  g_autofree guint8 *data = NULL;
  gsize len, at = 0, at_len = 0, refs;
  guint32 n_refs, n_texts, v, first_event, end_event = 0;

  g_assert_true (il_trace_save (t, NULL, path, NULL));
  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  g_assert_true (find_section (data, len, "ARGS", &at, &at_len));
  memcpy (&n_refs, data + at, 4);
  memcpy (&n_texts, data + at + 4, 4);
  n_refs = GUINT32_FROM_LE (n_refs);
  n_texts = GUINT32_FROM_LE (n_texts);
  g_assert_cmpuint (n_refs, ==, 6);
  g_assert_cmpuint (n_texts, ==, 6);
  refs = at + at_len - n_refs * 8;
  memcpy (&first_event, data + refs, 4);
  first_event = GUINT32_FROM_LE (first_event);
  for (gsize e = 0; e < t->n_events && end_event == 0; e++)
    if (t->kind[e] == IL_EVENT_SLICE_END)
      end_event = GUINT32_TO_LE ((guint32) e);

  v = GUINT32_TO_LE (G_MAXUINT32);
  expect_format_error (path, data, len, at, &v, 4, "the slice count");
  expect_format_error (path, data, len, at + 4, &v, 4, "the text count");
  expect_format_error (path, data, len, at + 8, &v, 4, "the first text's length");
  v = GUINT32_TO_LE (1);
  expect_format_error (path, data, len, at, &v, 4, "a smaller slice count");
  expect_format_error (path, data, len, at + 12, "\xff", 1, "a text's first byte");
  expect_format_error (path, data, len, at + 12, "\0", 1, "a text's first byte, as NUL");
  v = GUINT32_TO_LE (G_MAXUINT32 - 1);
  expect_format_error (path, data, len, refs, &v, 4, "the first slice's event");
  expect_format_error (path, data, len, refs, &end_event, 4, "the first slice's event, a slice end");
  v = GUINT32_TO_LE (first_event);
  expect_format_error (path, data, len, refs + 8, &v, 4, "the second slice's event, the same as the first");
  v = GUINT32_TO_LE (n_texts);
  expect_format_error (path, data, len, refs + 4, &v, 4, "the first slice's text");

  /* "Not kept": loads, and says so for that slice only. */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr(IlTrace) loaded = NULL;
    g_autoptr(GError) error = NULL;
    guint64 not_kept = 0;

    v = GUINT32_TO_LE (G_MAXUINT32);
    memcpy (copy + refs + 4, &v, 4);
    reseal (copy, len);
    error = load_bytes (path, copy, len, &loaded);
    g_assert_no_error (error);
    g_assert_cmpuint (il_chrome_slice_args_count (loaded, &not_kept), ==, 6);
    g_assert_cmpuint (not_kept, ==, 1);
    g_assert_null (il_chrome_slice_args (loaded, first_event, &error));
    g_assert_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_TOO_LARGE);
  }

  /* Random damage inside the section, resealed: an error, or a trace
   * whose every slice's args read as UTF-8 (or say they were not kept). */
  {
    GRand *rand = g_rand_new_with_seed (4242);
    guint n_ok = 0, n_err = 0;

    for (guint i = 0; i < 400; i++)
      {
        g_autofree guint8 *copy = g_memdup2 (data, len);
        g_autoptr(GError) error = NULL;
        g_autoptr(IlTrace) loaded = NULL;

        for (guint f = 0, flips = 1 + g_rand_int_range (rand, 0, 3); f < flips; f++)
          copy[at + g_rand_int_range (rand, 0, (gint32) at_len)] ^= (guint8) (1 + g_rand_int_range (rand, 0, 255));
        reseal (copy, len);
        error = load_bytes (path, copy, len, &loaded);
        if (loaded == NULL)
          {
            g_assert_true (error->domain == IL_TRACE_IO_ERROR && strstr (error->message, "byte ") != NULL);
            n_err++;
            continue;
          }
        for (gsize e = 0; e < loaded->n_events; e++)
          {
            g_autoptr(GError) local = NULL;
            g_autofree char *json = il_chrome_slice_args (loaded, e, &local);
            g_assert_true (json == NULL || (loaded->kind[e] == IL_EVENT_SLICE_BEGIN && g_utf8_validate (json, -1, NULL)));
            g_free (il_chrome_args_describe (json, NULL));
          }
        n_ok++;
      }
    g_test_message ("resealed ARGS damage: %u loaded, %u refused", n_ok, n_err);
    g_assert_cmpuint (n_err, >, 0);
    g_rand_free (rand);
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
  g_test_add_func ("/trace-io/all-lessons", test_all_lessons);
  g_test_add_func ("/trace-io/imported-shape", test_imported_shape);
  g_test_add_func ("/trace-io/bad-config", test_bad_config);
  g_test_add_func ("/trace-io/damaged", test_damaged);
  g_test_add_func ("/trace-io/queue-cause-without-scenario", test_queue_cause_without_scenario);
  g_test_add_func ("/trace-io/atomic-save", test_atomic_save);
  g_test_add_func ("/trace-io/progress-cancel", test_progress_cancel);
  g_test_add_func ("/trace-io/validation", test_validation);
  g_test_add_func ("/trace-io/fuzz-resealed", test_fuzz_resealed);
  g_test_add_func ("/trace-io/forward-compatible", test_forward_compatible);
  g_test_add_func ("/trace-io/version-1", test_version_1);
  g_test_add_func ("/trace-io/replace-existing", test_replace_existing);
  g_test_add_func ("/trace-io/big", test_big);
  g_test_add_func ("/trace-io/slice-args-saved", test_slice_args_saved);
  g_test_add_func ("/trace-io/slice-args-source-changed", test_slice_args_source_changed);
  g_test_add_func ("/trace-io/slice-args-damaged", test_slice_args_damaged);
  status = g_test_run ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return status;
}
