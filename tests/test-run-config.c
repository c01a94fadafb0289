/* test-run-config.c — the parameter table and the one run-config validator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-engine.h"
#include "il-run-config.h"

static void
test_table_shape (void)
{
  guint n;
  const IlParamInfo *table = il_param_table (&n);
  g_autoptr(GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (n, ==, IL_N_PARAMS);
  for (guint i = 0; i < n; i++)
    {
      const IlParamInfo *p = &table[i];

      /* Every name is unique in each vocabulary, and found again. */
      g_assert_true (g_hash_table_add (keys, (gpointer) p->trace_key));
      g_assert_true (il_param_find (p->name) == p);
      g_assert_true (il_param_find (p->json_key) == p);
      g_assert_true (il_param_find (p->trace_key) == p);
      g_assert_cmpfloat (p->min, <=, p->def);
      g_assert_cmpfloat (p->def, <=, p->max);
      g_assert_nonnull (p->label);
      g_assert_nonnull (p->description);
      g_assert_true ((p->cli_option != NULL) == ((p->flags & IL_PARAM_FLAG_CLI) != 0));
      if (p->type == IL_PARAM_TIME)
        {
          g_assert_true (g_str_has_suffix (p->json_key, "_ms"));
          g_assert_true (g_str_has_suffix (p->trace_key, "_ns"));
        }
      /* Every default is a valid value. */
      g_assert_true (il_param_check (p, p->def, NULL));
    }
  g_assert_null (il_param_find ("no_such_param"));
}

/* One limit per parameter: the scenario reader uses the table's. */
static void
test_one_limit (void)
{
  const IlParamInfo *cores = il_param_find ("cores");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) ok = NULL, bad = NULL;
  g_autofree char *at_max = g_strdup_printf ("{\"cores\": %.0f, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
                                             cores->max);
  g_autofree char *above = g_strdup_printf ("{\"cores\": %.0f, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
                                            cores->max + 1);

  g_assert_cmpfloat (cores->max, ==, IL_SCENARIO_MAX_CORES);
  ok = il_scenario_load_data (at_max, -1, "max.json", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ok->cores, ==, (guint) cores->max);
  bad = il_scenario_load_data (above, -1, "above.json", &error);
  g_assert_null (bad);
  g_assert_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_TOO_LARGE);
  g_assert_cmpstr (error->message, ==, "above.json:1:11: $.cores: expected a whole number from 1 to 256, got 257");
}

static void
test_defaults (void)
{
  IlRunConfig config;
  IlParams params;
  g_autoptr(IlScenario) sc = il_scenario_load_data ("{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
                                                    -1, "d.json", NULL);
  IlRunConfig from_scenario;
  guint n;
  const IlParamInfo *table = il_param_table (&n);

  il_run_config_init_defaults (&config);
  g_assert_cmpint (config.mode, ==, IL_MODE_THREADS);
  g_assert_cmpuint (config.cores, ==, 2);
  g_assert_cmpuint (config.workers, ==, 0);
  g_assert_cmpint (config.switch_interval, ==, IL_MSEC (5));
  g_assert_cmpint (config.params.wake_latency, ==, IL_USEC (20));
  g_assert_cmpint (config.params.os_slice, ==, IL_MSEC (3));
  g_assert_cmpint (config.params.process_start_cost[IL_START_SPAWN], ==, IL_MSEC (110));
  g_assert_cmpfloat (config.params.free_threading_overhead, ==, 0.10);
  g_assert_cmpint (config.params.start_method, ==, IL_START_FORK);
  g_assert_true (il_run_config_validate (&config, IL_PARAM_KEYS_JSON, NULL));

  il_params_init_defaults (&params);
  g_assert_cmpmem (&params, sizeof params, &config.params, sizeof config.params);

  /* A scenario that says nothing runs with the table's defaults. */
  il_run_config_from_scenario (&from_scenario, sc);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat (il_param_get (&table[i], &from_scenario), ==, il_param_get (&table[i], &config));
}

static void
test_get_set (void)
{
  IlRunConfig config;
  const IlParamInfo *slice = il_param_find ("os_slice_ms");
  const IlParamInfo *method = il_param_find ("start_method");
  const IlParamInfo *seed = il_param_find ("seed");

  il_run_config_init_defaults (&config);
  il_param_set (slice, &config, 0.75);
  g_assert_cmpint (config.params.os_slice, ==, IL_USEC (750));
  g_assert_cmpfloat (il_param_get (slice, &config), ==, 0.75);
  il_param_set_ns (slice, &config, 1234567);
  g_assert_cmpint (il_param_get_ns (slice, &config), ==, 1234567);
  il_param_set (method, &config, IL_START_SPAWN);
  g_assert_cmpint (config.params.start_method, ==, IL_START_SPAWN);
  g_assert_cmpstr (il_param_choices (method)[IL_START_SPAWN], ==, "spawn");
  il_param_set (seed, &config, G_MAXUINT32);
  g_assert_cmpuint (config.params.seed, ==, G_MAXUINT32);
}

static void
test_append_value (void)
{
  IlRunConfig config;
  g_autoptr(GString) out = g_string_new (NULL);

  il_run_config_init_defaults (&config);
  config.params.wake_latency = 1500;
  il_param_append_value (out, il_param_find ("wake_latency"), &config, IL_PARAM_KEYS_JSON);
  g_string_append_c (out, ' ');
  il_param_append_value (out, il_param_find ("wake_latency"), &config, IL_PARAM_KEYS_TRACE);
  g_string_append_c (out, ' ');
  il_param_append_value (out, il_param_find ("start_method"), &config, IL_PARAM_KEYS_JSON);
  g_string_append_c (out, ' ');
  il_param_append_value (out, il_param_find ("start_method"), &config, IL_PARAM_KEYS_TRACE);
  g_string_append_c (out, ' ');
  il_param_append_value (out, il_param_find ("cores"), &config, IL_PARAM_KEYS_TRACE);
  g_assert_cmpstr (out->str, ==, "0.0015 1500 \"fork\" fork 2");
}

static void
test_check_messages (void)
{
  static const struct { const char *key; double value; int code; const char *message; } cases[] = {
    { "cores", 0, IL_RUN_CONFIG_ERROR_INVALID, "expected a whole number from 1 to 256, got 0" },
    { "cores", 2.5, IL_RUN_CONFIG_ERROR_INVALID, "expected a whole number from 1 to 256, got a fraction" },
    { "workers", 5000, IL_RUN_CONFIG_ERROR_TOO_LARGE, "expected a whole number from 0 to 4096, got 5000" },
    { "switch_interval", 0, IL_RUN_CONFIG_ERROR_INVALID, "the switch interval must be at least 0.001 ms" },
    { "os_slice", 0, IL_RUN_CONFIG_ERROR_INVALID, "the OS time slice must be at least 0.001 ms" },
    { "os_slice", 1000.5, IL_RUN_CONFIG_ERROR_TOO_LARGE, "1000.5 ms is more than the limit of 1000 ms" },
    { "wake_latency", -1, IL_RUN_CONFIG_ERROR_INVALID, "expected a non-negative number of milliseconds, got -1" },
    { "free_threading_overhead", 11, IL_RUN_CONFIG_ERROR_INVALID, "expected a fraction from 0 to 10 (0.1 = 10% slower)" },
    { "start_method", 3, IL_RUN_CONFIG_ERROR_INVALID, "expected \"fork\", \"forkserver\" or \"spawn\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (il_param_check (il_param_find (cases[i].key), cases[i].value, &error));
      g_assert_error (error, IL_RUN_CONFIG_ERROR, cases[i].code);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
  g_assert_true (il_param_check (il_param_find ("os_slice"), 0.001, NULL));
  g_assert_true (il_param_check (il_param_find ("os_slice"), 1000, NULL));
  g_assert_true (il_param_check (il_param_find ("workers"), 0, NULL));
}

/* The validator names the field in each caller's words. */
static void
test_validate (void)
{
  IlRunConfig config;
  g_autoptr(GError) error = NULL;

  il_run_config_init_defaults (&config);
  config.params.os_slice = 0;
  g_assert_false (il_run_config_validate (&config, IL_PARAM_KEYS_TRACE, &error));
  g_assert_cmpstr (error->message, ==, "os_slice_ns: the OS time slice must be at least 0.001 ms");
  g_clear_error (&error);
  g_assert_false (il_run_config_validate (&config, IL_PARAM_KEYS_JSON, &error));
  g_assert_cmpstr (error->message, ==, "params.os_slice_ms: the OS time slice must be at least 0.001 ms");
  g_clear_error (&error);

  il_run_config_init_defaults (&config);
  config.cores = 0;
  g_assert_false (il_run_config_validate (&config, IL_PARAM_KEYS_CLI, &error));
  g_assert_cmpstr (error->message, ==, "--cores: expected a whole number from 1 to 256, got 0");
  g_clear_error (&error);

  il_run_config_init_defaults (&config);
  config.mode = IL_N_MODES;
  g_assert_false (il_run_config_validate (&config, IL_PARAM_KEYS_TRACE, &error));
  g_assert_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID);
  g_clear_error (&error);

  il_run_config_init_defaults (&config);
  config.params.seed = G_MAXUINT32;
  config.workers = 4096;
  config.switch_interval = IL_USEC (1);
  g_assert_true (il_run_config_validate (&config, IL_PARAM_KEYS_JSON, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/run-config/table-shape", test_table_shape);
  g_test_add_func ("/run-config/one-limit", test_one_limit);
  g_test_add_func ("/run-config/defaults", test_defaults);
  g_test_add_func ("/run-config/get-set", test_get_set);
  g_test_add_func ("/run-config/append-value", test_append_value);
  g_test_add_func ("/run-config/check-messages", test_check_messages);
  g_test_add_func ("/run-config/validate", test_validate);
  return g_test_run ();
}
