/* test-lessons.c — every built-in lesson loads, runs in each mode it
 * declares, and what it claims is what the simulation shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-engine.h"
#include "il-lesson.h"

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static char *
lessons_dir (void)
{
  const char *root = g_getenv ("INTERLEAVE_SOURCE_DIR");

  if (root == NULL)
    root = "..";
  return g_build_filename (root, "data", "lessons", NULL);
}

static void
test_lesson (gconstpointer data)
{
  const char *path = data;
  GError *error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_file (path, &error);
  g_autoptr(IlLessonCheck) check = NULL;
  IlTrace *traces[IL_N_MODES] = { NULL };
  g_autofree char *report = NULL;
  gboolean ok = FALSE;

  g_assert_no_error (error);

  /* What a lesson needs to be a lesson. */
  g_assert_nonnull (sc->title);
  g_assert_nonnull (sc->description);
  g_assert_nonnull (sc->lesson_group);
  g_assert_nonnull (sc->concepts);
  g_assert_nonnull (sc->concepts[0]);
  g_assert_nonnull (sc->question);
  g_assert_nonnull (sc->answer);
  g_assert_nonnull (sc->look_at);
  g_assert_nonnull (sc->check);
  /* The window marks the right choice on reveal: every lesson names it. */
  g_assert_nonnull (sc->choices);
  g_assert_cmpint (sc->correct, >=, 0);
  g_assert_cmpint (sc->correct, <, (gint) g_strv_length (sc->choices));
  g_assert_true (sc->modes_mask & IL_MODE_MASK (sc->mode));

  for (guint m = 0; m < IL_N_MODES; m++)
    {
      IlRunConfig cfg;

      if (!(sc->modes_mask & IL_MODE_MASK (m)))
        continue;
      il_run_config_from_scenario (&cfg, sc);
      cfg.mode = (IlMode) m;
      traces[m] = il_simulate (sc, &cfg, &error);
      g_assert_no_error (error);
      g_assert_true (traces[m]->finished);
    }

  check = il_lesson_check_parse (sc->check, sc, &error);
  g_assert_no_error (error);
  g_assert_true (il_lesson_check_evaluate (check, traces, &ok, &report, &error));
  g_assert_no_error (error);
  g_test_message ("%s", report);
  if (!ok)
    g_error ("%s: the lesson's check does not hold:\n%s", path, report);

  for (guint m = 0; m < IL_N_MODES; m++)
    g_clear_pointer (&traces[m], il_trace_unref);
}

/* The concepts the lessons must cover between them (issue 5). */
static void
test_concepts_covered (void)
{
  static const char *required[] = {
    "synchronous code", "asynchronous code", "the GIL", "CPython", "processes", "threads",
    "thread pools", "threading", "multithreading", "multiprocessing", "parallelisation",
    "concurrency versus parallelism", "coroutines", "asyncio", "awaitables", "the event loop",
    "tasks", "futures", "AnyIO task groups", "aiohttp-style concurrent requests",
    "convoy effect", "blocking calls", "process start-up cost", "asyncio.Queue", "queue.Queue",
    "back-pressure",
  };
  g_autofree char *dir = lessons_dir ();
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(IlScenario) sc = NULL;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      path = g_build_filename (dir, name, NULL);
      sc = il_scenario_load_file (path, NULL);
      g_assert_nonnull (sc);
      for (guint i = 0; sc->concepts && sc->concepts[i]; i++)
        g_hash_table_add (seen, g_strdup (sc->concepts[i]));
    }

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!g_hash_table_contains (seen, required[i]))
      g_error ("no lesson teaches \"%s\"", required[i]);
}

static void
test_check_language (void)
{
  GError *error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_data (
    "{\"mode\":\"threads\",\"tasks\":[{\"name\":\"a\",\"steps\":[{\"cpu\":10}]},"
    "{\"name\":\"b\",\"steps\":[{\"cpu\":10}]}]}", -1, "check.json", &error);
  g_autoptr(IlLessonCheck) check = NULL;
  g_autofree char *report = NULL;
  gboolean ok = FALSE;

  g_assert_no_error (error);

  /* Arithmetic, comparison and per-task metrics, across two modes. */
  check = il_lesson_check_parse ("makespan(sequential) == 20 && cpu(a) == 10 && (finish(b, sequential) - 5) / 3 == 5"
                                 " && speedup(free_threading) > 1.5 && outcome(a) == returned", sc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (il_lesson_check_modes (check), ==,
                    IL_MODE_MASK (IL_MODE_SEQUENTIAL) | IL_MODE_MASK (IL_MODE_THREADS) | IL_MODE_MASK (IL_MODE_FREE_THREADING));
  g_assert_true (il_lesson_check_evaluate (check, NULL, &ok, &report, &error));
  g_assert_no_error (error);
  g_assert_true (ok);
  g_clear_pointer (&check, il_lesson_check_free);
  g_clear_pointer (&report, g_free);

  /* A false claim is reported as false, with its numbers. */
  check = il_lesson_check_parse ("makespan(threads) < 15", sc, &error);
  g_assert_no_error (error);
  g_assert_true (il_lesson_check_evaluate (check, NULL, &ok, &report, &error));
  g_assert_false (ok);
  g_assert_nonnull (strstr (report, "false"));

  /* Mistakes name their column. */
  g_assert_null (il_lesson_check_parse ("makespan(threads) < ", sc, &error));
  g_assert_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "column 21"));
  g_clear_error (&error);
  g_assert_null (il_lesson_check_parse ("finish(nobody) > 1", sc, &error));
  g_assert_nonnull (strstr (error->message, "no task"));
  g_clear_error (&error);
  g_assert_null (il_lesson_check_parse ("makespan(turbo) > 1", sc, &error));
  g_assert_nonnull (strstr (error->message, "unknown mode"));
  g_clear_error (&error);
}

static gboolean
holds (const char       *text,
       const IlScenario *sc)
{
  GError *error = NULL;
  g_autoptr(IlLessonCheck) check = il_lesson_check_parse (text, sc, &error);
  g_autofree char *report = NULL;
  gboolean ok = FALSE;

  g_assert_no_error (error);
  g_assert_true (il_lesson_check_evaluate (check, NULL, &ok, &report, &error));
  g_assert_no_error (error);
  if (!ok)
    g_test_message ("%s", report);
  return ok;
}

/* The measures that go beyond IlStats, on runs small enough to know. */
static void
test_check_measures (void)
{
  GError *error = NULL;
  g_autoptr(IlScenario) threads = il_scenario_load_data (
    "{\"mode\":\"threads\",\"tasks\":[{\"name\":\"a\",\"steps\":[{\"cpu\":20}]},"
    "{\"name\":\"b\",\"steps\":[{\"cpu\":20}]}]}", -1, "threads.json", &error);
  g_autoptr(IlScenario) loop = il_scenario_load_data (
    "{\"mode\":\"asyncio\",\"tasks\":[{\"name\":\"x\",\"steps\":[{\"io\":10}]},"
    "{\"name\":\"y\",\"steps\":[{\"io\":10}]},{\"name\":\"z\",\"steps\":[{\"cpu\":5}]}]}",
    -1, "loop.json", &error);

  g_assert_no_error (error);

  /* one GIL: never two cores busy, one thread running (both wait while the
   * main thread starts them), and they hand the GIL to each other every
   * interval */
  g_assert_true (holds ("parallel(threads) == 0 && peak(running) == 1 && peak(wait_gil) == 2"
                        " && handoffs(a, b) >= 4 && forced_switches() == drop_requests() && slices(a) >= 2", threads));
  /* no GIL: both compute at once */
  g_assert_true (holds ("parallel(free_threading) > 15 && peak(running, free_threading) == 2"
                        " && handoffs(a, b, free_threading) == 0", threads));
  /* sequential: one slice each, 40 ms of running in all, nothing starting */
  g_assert_true (holds ("slices(a, sequential) == 1 && total(running, sequential) == 40"
                        " && starting(a, processes) == 0 && total(starting, sequential) == 0", threads));
  g_assert_false (holds ("peak(running) == 2", threads));

  /* the first iteration after main has three steps ready; x and y wait for
   * I/O together; the loop sleeps in select() while they do */
  g_assert_true (holds ("max_queue_depth() == 3 && peak(wait_io) == 2 && total(wait_io) == 20"
                        " && in_select() > 0 && in_select() < 10 && max_callback() >= 5 && max_callback() < 6", loop));

  /* queues: a producer of 4 items, room for 2, a consumer that starts late;
   * the woken producer needs the GIL the consumer holds for its 1 ms of
   * work, so the consumer empties the queue and waits once */
  {
    g_autoptr(IlScenario) queue = il_scenario_load_data (
      "{\"mode\":\"threads\",\"queues\":{\"q\":2},\"tasks\":["
      "{\"name\":\"p\",\"steps\":[{\"repeat\":4,\"steps\":[{\"put\":\"q\"}]}]},"
      "{\"name\":\"c\",\"start\":10,\"steps\":[{\"repeat\":4,\"steps\":[{\"get\":\"q\"},{\"cpu\":1}]}]}]}",
      -1, "queue.json", &error);

    g_assert_no_error (error);
    g_assert_true (holds ("queue_peak(q) == 2 && queue_peak(q, asyncio) == 2 && put_waits(p) >= 1"
                          " && get_waits(c) == 1 && put_waits(c) == 0 && blocked(p) >= 9", queue));
    g_assert_null (il_lesson_check_parse ("queue_peak(r) > 1", queue, &error));
    g_assert_nonnull (strstr (error->message, "no queue"));
    g_clear_error (&error);
  }

  /* Mistakes name their column. */
  g_assert_null (il_lesson_check_parse ("peak(nothing) > 1", threads, &error));
  g_assert_nonnull (strstr (error->message, "column 6"));
  g_assert_nonnull (strstr (error->message, "unknown state"));
  g_clear_error (&error);
  g_assert_null (il_lesson_check_parse ("peak(done) > 1", threads, &error));
  g_clear_error (&error);
  g_assert_null (il_lesson_check_parse ("handoffs(a) > 1", threads, &error));
  g_assert_nonnull (strstr (error->message, "no task"));
  g_clear_error (&error);
}

/* "compare": {"task": …} names the task the compare chart shows. */
static void
test_compare_task (void)
{
  GError *error = NULL;
  g_autofree char *dir = lessons_dir ();
  g_autofree char *path = g_build_filename (dir, "07-convoy-effect.json", NULL);
  g_autoptr(IlScenario) sc = il_scenario_load_file (path, &error);
  g_autoptr(IlScenario) copy = NULL;
  g_autoptr(IlScenario) again = NULL;
  g_autofree char *json = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (sc->compare_task, ==, "io_thread");
  copy = il_scenario_copy (sc);
  g_assert_cmpstr (copy->compare_task, ==, "io_thread");
  json = il_scenario_to_json (sc);
  again = il_scenario_load_data (json, -1, "again.json", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->compare_task, ==, "io_thread");
  /* "correct" round-trips through the writer and the copy. */
  g_assert_cmpint (sc->correct, ==, 2);
  g_assert_cmpint (copy->correct, ==, 2);
  g_assert_cmpint (again->correct, ==, 2);

  g_assert_null (il_scenario_load_data ("{\"tasks\":[{\"name\":\"a\",\"steps\":[{\"cpu\":1}]}],"
                                        "\"lesson\":{\"compare\":{\"task\":\"b\"}}}", -1, "c.json", &error));
  g_assert_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "$.lesson.compare.task: no task called \"b\""));
  g_clear_error (&error);
  g_assert_null (il_scenario_load_data ("{\"tasks\":[{\"name\":\"a\",\"steps\":[{\"cpu\":1}]}],"
                                        "\"lesson\":{\"compare\":\"a\"}}", -1, "c.json", &error));
  g_assert_nonnull (strstr (error->message, "$.lesson.compare"));
  g_clear_error (&error);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir = NULL;
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_test_init (&argc, &argv, NULL);

  dir = lessons_dir ();
  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *test_path = g_strdup_printf ("/lessons/%s", file);
      g_test_add_data_func_full (test_path, g_build_filename (dir, file, NULL), test_lesson, g_free);
    }
  g_test_add_func ("/lessons/concepts-covered", test_concepts_covered);
  g_test_add_func ("/lessons/check-language", test_check_language);
  g_test_add_func ("/lessons/check-measures", test_check_measures);
  g_test_add_func ("/lessons/compare-task", test_compare_task);

  return g_test_run ();
}
