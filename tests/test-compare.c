/* test-compare.c — one scenario in every mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-compare.h"
#include "il-engine.h"

static const char *scenario_text =
  "{\"mode\": \"threads\", \"cores\": 2, \"tasks\": ["
  "{\"name\": \"a\", \"steps\": [{\"cpu\": 20}, {\"io\": 5}, {\"cpu\": 10}]},"
  "{\"name\": \"b\", \"steps\": [{\"cpu\": 20}, {\"sleep\": 5}, {\"cpu\": 10}]}]}";

/* The same traces, bit for bit, as il_simulate one mode after another. */
static void
test_matches_simulate (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (scenario_text, -1, "c.json", NULL);
  g_autoptr(IlComparison) c = NULL;
  g_autoptr(GError) error = NULL;
  IlRunConfig base;

  il_run_config_from_scenario (&base, sc);
  c = il_compare_run (sc, &base, IL_MODE_MASK_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (il_comparison_check (c, NULL));
  g_assert_cmpuint (c->modes, ==, IL_MODE_MASK_ALL);
  for (guint m = 0; m < IL_N_MODES; m++)
    {
      IlRunConfig config = base;
      g_autoptr(IlTrace) t = NULL;

      config.mode = (IlMode) m;
      t = il_simulate (sc, &config, NULL);
      g_assert_nonnull (c->traces[m]);
      g_assert_cmpint (c->configs[m].mode, ==, m);
      g_assert_cmpuint (c->traces[m]->n_events, ==, t->n_events);
      g_assert_cmpmem (c->traces[m]->time, t->n_events * 8, t->time, t->n_events * 8);
      for (gsize i = 0; i < t->n_events; i++)
        g_assert_cmpuint (il_trace_event_lane (c->traces[m], i), ==, il_trace_event_lane (t, i));
      g_assert_cmpmem (c->traces[m]->kind, t->n_events, t->kind, t->n_events);
      g_assert_cmpint (c->traces[m]->end_time, ==, t->end_time);
      g_assert_cmpint (c->makespans[m], ==, c->stats[m]->makespan);
      g_assert_null (c->errors[m]);
    }
  /* 60 ms of CPU in all; two cores make processes faster than sequential. */
  g_assert_cmpfloat (il_comparison_speedup (c, IL_MODE_SEQUENTIAL), ==, 1.0);
  g_assert_cmpfloat (il_comparison_speedup (c, IL_MODE_PROCESSES), >, 1.0);
  g_assert_cmpfloat (il_comparison_speedup (c, IL_MODE_THREADS), <, 1.2);
}

static void
test_some_modes (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (scenario_text, -1, "c.json", NULL);
  g_autoptr(IlComparison) c = NULL;
  IlRunConfig base;

  il_run_config_from_scenario (&base, sc);
  c = il_compare_run (sc, &base, IL_MODE_MASK (IL_MODE_ASYNCIO), NULL, NULL);
  g_assert_nonnull (c->traces[IL_MODE_ASYNCIO]);
  g_assert_null (c->traces[IL_MODE_THREADS]);
  g_assert_cmpint (c->makespans[IL_MODE_THREADS], ==, -1);
  g_assert_cmpfloat (il_comparison_speedup (c, IL_MODE_ASYNCIO), ==, -1);
}

static void
test_bad_config (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (scenario_text, -1, "c.json", NULL);
  g_autoptr(GError) error = NULL;
  IlRunConfig base;

  il_run_config_from_scenario (&base, sc);
  base.params.os_slice = 0;
  g_assert_null (il_compare_run (sc, &base, IL_MODE_MASK_ALL, NULL, &error));
  g_assert_error (error, IL_RUN_CONFIG_ERROR, IL_RUN_CONFIG_ERROR_INVALID);
}

static void
test_failed_mode (void)
{
  /* An await cycle deadlocks in every mode; the first one names its mode. */
  g_autoptr(IlScenario) sc = il_scenario_load_data (
    "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"await\": \"b\"}]},"
    "{\"name\": \"b\", \"steps\": [{\"await\": \"a\"}]}]}", -1, "d.json", NULL);
  g_autoptr(IlComparison) c = NULL;
  g_autoptr(GError) error = NULL;
  IlRunConfig base;

  g_assert_nonnull (sc);
  il_run_config_from_scenario (&base, sc);
  c = il_compare_run (sc, &base, IL_MODE_MASK (IL_MODE_THREADS) | IL_MODE_MASK (IL_MODE_ASYNCIO), NULL, NULL);
  g_assert_nonnull (c);
  g_assert_nonnull (c->errors[IL_MODE_ASYNCIO]);
  g_assert_null (c->traces[IL_MODE_ASYNCIO]);
  g_assert_false (il_comparison_check (c, &error));
  g_assert_true (g_str_has_prefix (error->message, "asyncio mode: "));
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  IlComparison **out = data;
  g_autoptr(GError) error = NULL;

  *out = il_compare_run_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_async (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (scenario_text, -1, "c.json", NULL);
  g_autoptr(IlComparison) c = NULL;
  IlRunConfig base;

  il_run_config_from_scenario (&base, sc);
  il_compare_run_async (sc, &base, IL_MODE_MASK_ALL, NULL, on_done, &c);
  /* The job holds its own reference: the caller may drop the scenario now. */
  g_clear_pointer (&sc, il_scenario_unref);
  while (c == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (il_comparison_check (c, NULL));
  for (guint m = 0; m < IL_N_MODES; m++)
    g_assert_nonnull (c->traces[m]);
}

static void
test_cancelled (void)
{
  g_autoptr(IlScenario) sc = il_scenario_load_data (scenario_text, -1, "c.json", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  IlRunConfig base;

  il_run_config_from_scenario (&base, sc);
  g_cancellable_cancel (cancellable);
  g_assert_null (il_compare_run (sc, &base, IL_MODE_MASK_ALL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/compare/matches-simulate", test_matches_simulate);
  g_test_add_func ("/compare/some-modes", test_some_modes);
  g_test_add_func ("/compare/bad-config", test_bad_config);
  g_test_add_func ("/compare/failed-mode", test_failed_mode);
  g_test_add_func ("/compare/async", test_async);
  g_test_add_func ("/compare/cancelled", test_cancelled);
  return g_test_run ();
}
