/* test-calibration.c — the calibration file: save, load, apply, refuse
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Measuring needs a real Python and takes seconds: tests/test-cli.py does
 * that end to end.  These tests cover the file and its use, exactly.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "il-calibration.h"
#include "il-time.h"

static char *
temp_path (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("interleave-calibration-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
remove_with_dir (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static IlCalibration *
sample (void)
{
  IlCalibration *cal = g_new0 (IlCalibration, 1);

  il_params_init_defaults (&cal->params);
  cal->params.wake_latency = IL_USEC (35);
  cal->params.process_start_cost[IL_START_FORK] = IL_USEC (7500);
  cal->params.process_start_cost[IL_START_SPAWN] = IL_MSEC (250);
  cal->python_version = g_strdup ("3.12.1");
  cal->python_path = g_strdup ("/usr/bin/python3.12");
  cal->measured_at = g_strdup ("2026-11-30T04:00:00Z");
  cal->cores = 8;
  cal->samples_json = g_strdup ("{\"pipe_wake\": {\"median_ms\": 0.035, \"n\": 3}}");
  return cal;
}

static void
test_round_trip (void)
{
  g_autoptr(IlCalibration) cal = sample ();
  g_autoptr(IlCalibration) back = NULL;
  g_autofree char *path = temp_path ("sub/dir/calibration.json");
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GError) error = NULL;

  /* The folder is created; the file comes back equal, byte for byte. */
  g_assert_true (il_calibration_save (cal, path, &error));
  g_assert_no_error (error);
  back = il_calibration_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->python_version, ==, "3.12.1");
  g_assert_cmpstr (back->python_path, ==, "/usr/bin/python3.12");
  g_assert_cmpstr (back->measured_at, ==, "2026-11-30T04:00:00Z");
  g_assert_cmpuint (back->cores, ==, 8);
  g_assert_cmpint (back->params.wake_latency, ==, IL_USEC (35));
  g_assert_cmpint (back->params.process_start_cost[IL_START_FORK], ==, IL_USEC (7500));
  g_assert_cmpint (back->params.process_start_cost[IL_START_SPAWN], ==, IL_MSEC (250));
  first = il_calibration_to_json (cal);
  second = il_calibration_to_json (back);
  g_assert_cmpstr (first, ==, second);

  g_unlink (path);
  {
    g_autofree char *sub = g_path_get_dirname (path);
    g_autofree char *top = g_path_get_dirname (sub);
    g_autofree char *tmp = g_path_get_dirname (top);
    g_rmdir (sub);
    g_rmdir (top);
    g_rmdir (tmp);
  }
}

static void
test_apply (void)
{
  g_autoptr(IlCalibration) cal = sample ();
  IlParams reference, params;
  g_autofree char *described = il_calibration_describe (cal);
  g_autofree char *none = il_calibration_describe (NULL);

  il_params_init_defaults (&reference);
  params = reference;
  params.process_start_cost[IL_START_SPAWN] = IL_MSEC (3);   /* the scenario's own value */
  il_calibration_apply (cal, &params);
  g_assert_cmpint (params.wake_latency, ==, IL_USEC (35));
  g_assert_cmpint (params.process_start_cost[IL_START_FORK], ==, IL_USEC (7500));
  g_assert_cmpint (params.process_start_cost[IL_START_SPAWN], ==, IL_MSEC (3));
  /* Not measured: untouched. */
  g_assert_cmpint (params.os_slice, ==, reference.os_slice);
  g_assert_cmpfloat (params.free_threading_overhead, ==, reference.free_threading_overhead);

  params = reference;
  il_calibration_apply (NULL, &params);
  g_assert_cmpmem (&params, sizeof params, &reference, sizeof reference);

  g_assert_cmpstr (described, ==, "calibrated on 2026-11-30 with Python 3.12.1");
  g_assert_cmpstr (none, ==, "reference");
}

static void
test_bad_files (void)
{
  static const struct { const char *text; const char *place; } cases[] = {
    { "not json", "calibration.json" },
    { "[1, 2]", "$: expected an object" },
    { "{\"params\": {}}", "$.python" },
    { "{\"python\": \"3.11\"}", "$.params" },
    { "{\"python\": \"3.11\", \"params\": {\"fork_ms\": \"fast\"}}", "$.params.fork_ms" },
    { "{\"python\": \"3.11\", \"params\": {\"spawn_ms\": -1}}", "$.params.spawn_ms" },
    { "{\"python\": \"3.11\", \"params\": {\"spawn_ms\": 1e300}}", "$.params.spawn_ms" },
    { "{\"python\": \"3.11\", \"params\": {\"wake_latency_ms\": null}}", "$.params.wake_latency_ms" },
  };
  g_autofree char *path = temp_path ("calibration.json");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IlCalibration) cal = NULL;

      g_assert_true (g_file_set_contents (path, cases[i].text, -1, NULL));
      cal = il_calibration_load (path, &error);
      g_assert_null (cal);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, "calibration.json"));
      g_assert_nonnull (strstr (error->message, cases[i].place));
    }

  /* A NUL byte inside is refused, not read as a shorter file. */
  {
    g_autoptr(GError) error = NULL;
    g_assert_true (g_file_set_contents (path, "{\"python\": \"3.11\", \"params\": {}}\0junk", 37, NULL));
    g_assert_null (il_calibration_load (path, &error));
    g_assert_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID);
  }
  remove_with_dir (path);
}

static void
test_default_path (void)
{
  g_autofree char *path = il_calibration_default_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(IlCalibration) cal = NULL;

  g_assert_true (g_str_has_suffix (path, "/interleave/calibration.json"));
  g_assert_true (g_str_has_prefix (path, g_get_user_config_dir ()));
  /* The tests run with an empty configuration: no calibration, no error. */
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      cal = il_calibration_load_default (&error);
      g_assert_null (cal);
      g_assert_no_error (error);
    }
}

static void
test_missing_python (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlCalibration) cal = il_calibration_measure ("/nonexistent/python3", 0, NULL, &error);

  g_assert_null (cal);
  g_assert_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_PROBE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/python3"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calibration/round-trip", test_round_trip);
  g_test_add_func ("/calibration/apply", test_apply);
  g_test_add_func ("/calibration/bad-files", test_bad_files);
  g_test_add_func ("/calibration/default-path", test_default_path);
  g_test_add_func ("/calibration/missing-python", test_missing_python);
  return g_test_run ();
}
