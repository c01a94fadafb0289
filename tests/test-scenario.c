/* test-scenario.c — the scenario format: what is read, defaults, exact errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-scenario.h"

static const char *example =
  "{ \"title\": \"Fetch then parse\", \"description\": \"…\", \"mode\": \"threads\", \"cores\": 2,\n"
  "  \"workers\": 4, \"switch_interval_ms\": 5,\n"
  "  \"tasks\": [ { \"name\": \"p0\", \"steps\": [ {\"io\": 150}, {\"cpu\": 100} ] },\n"
  "             { \"name\": \"ticker\", \"steps\": [ {\"repeat\": 50, \"steps\": [ {\"sleep\": 10}, {\"cpu\": 0.05} ]} ] } ] }\n";

static void
test_example (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) s = il_scenario_load_data (example, -1, "example.json", &error);
  const IlStep *rep;

  g_assert_no_error (error);
  g_assert_cmpstr (s->title, ==, "Fetch then parse");
  g_assert_cmpint (s->mode, ==, IL_MODE_THREADS);
  g_assert_cmpuint (s->cores, ==, 2);
  g_assert_cmpuint (s->workers, ==, 4);
  g_assert_cmpint (s->switch_interval, ==, IL_MSEC (5));
  g_assert_cmpuint (s->n_tasks, ==, 2);
  g_assert_cmpstr (s->tasks[0].name, ==, "p0");
  g_assert_cmpuint (s->tasks[0].n_steps, ==, 2);
  g_assert_cmpint (s->tasks[0].steps[0].kind, ==, IL_STEP_IO);
  g_assert_cmpint (s->tasks[0].steps[0].duration, ==, IL_MSEC (150));
  g_assert_cmpint (s->tasks[0].steps[1].kind, ==, IL_STEP_CPU);
  rep = &s->tasks[1].steps[0];
  g_assert_cmpint (rep->kind, ==, IL_STEP_REPEAT);
  g_assert_cmpuint (rep->count, ==, 50);
  g_assert_cmpuint (rep->n_children, ==, 2);
  g_assert_cmpint (rep->children[0].kind, ==, IL_STEP_SLEEP);
  g_assert_cmpint (rep->children[1].duration, ==, 50000);   /* 0.05 ms is 50 µs */
  g_assert_cmpint (il_scenario_find_task (s, "ticker"), ==, 1);
  g_assert_cmpint (il_scenario_find_task (s, "nobody"), ==, -1);
}

static void
test_defaults (void)
{
  g_autoptr(IlScenario) s = il_scenario_load_data ("{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
                                                   -1, "min.json", NULL);
  IlParams defaults;

  g_assert_nonnull (s);
  il_params_init_defaults (&defaults);
  g_assert_cmpuint (s->cores, ==, 2);
  g_assert_cmpuint (s->workers, ==, 0);
  g_assert_cmpint (s->switch_interval, ==, IL_MSEC (5));
  g_assert_cmpint (s->params.wake_latency, ==, defaults.wake_latency);
  g_assert_cmpint (s->params.process_start_cost[IL_START_FORK], ==, defaults.process_start_cost[IL_START_FORK]);
  g_assert_cmpuint (s->modes_mask, ==, IL_MODE_MASK (s->mode));
  g_assert_null (s->question);
}

static void
test_round_trip (void)
{
  g_autoptr(IlScenario) a = il_scenario_load_data (example, -1, "example.json", NULL);
  g_autofree char *json = il_scenario_to_json (a);
  g_autoptr(IlScenario) b = il_scenario_load_data (json, -1, "again.json", NULL);
  g_autofree char *json2 = il_scenario_to_json (b);

  g_assert_nonnull (b);
  g_assert_cmpstr (json, ==, json2);
  g_assert_cmpint (b->tasks[1].steps[0].children[1].duration, ==, 50000);
}

/* Each bad input and the exact one-line message it must get. */
static const struct {
  const char *text;
  const char *message;
} errors[] = {
  { "", "bad.json:1:1: the file is empty" },
  { "{\"tasks\": [\n  {\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}", "bad.json:2:39: the file ends inside a list (truncated?)" },
  { "{\"mode\": \"threads\",\n \"mode\": \"asyncio\", \"tasks\": []}", "bad.json:2:2: duplicate key \"mode\"" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": -3}]}]}",
    "bad.json:1:44: $.tasks[0].steps[0].cpu: expected a non-negative number of milliseconds, got -3" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": NaN}]}]}", "bad.json:1:44: NaN is not a number JSON allows" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": \"10\"}]}]}",
    "bad.json:1:44: $.tasks[0].steps[0].cpu: expected a number of milliseconds, got a string" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"think\": 1}]}]}",
    "bad.json:1:36: $.tasks[0].steps[0]: unknown step: expected one of cpu, io, sleep, c, yield, repeat, lock, limit, "
    "to_thread, to_process, await, fail" },
  { "{\"mode\": \"greenlets\", \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
    "bad.json:1:10: $.mode: unknown mode \"greenlets\": expected sequential, asyncio, threads, free-threading or processes" },
  { "{\"tasks\": []}", "bad.json:1:11: $.tasks: the list of tasks is empty: nothing to run" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"repeat\": 1000000000, \"steps\": [{\"cpu\": 1}]}]}]}",
    "bad.json:1:47: $.tasks[0].steps[0].repeat: expected a whole number from 0 to 1000000, got 1000000000" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"repeat\": 100000, \"steps\": [{\"cpu\": 0}]}]}]}",
    "bad.json:1:36: $.tasks[0].steps[0]: repeats 100000 times a body that takes no time: it would spin without end" },
  { "{\"cores\": 0, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
    "bad.json:1:11: $.cores: expected a whole number from 1 to 256, got 0" },
  { "[1, 2]", "bad.json:1:1: $: expected a scenario object { \"tasks\": [...] }, got a list" },
};

static void
test_errors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IlScenario) s = il_scenario_load_data (errors[i].text, -1, "bad.json", &error);

      g_assert_null (s);
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, errors[i].message);
      g_assert_null (strchr (error->message, '\n'));
    }
}

static void
test_deep_nesting (void)
{
  GString *deep = g_string_new ("{\"tasks\": [{\"name\": \"a\", \"steps\": [");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) s = NULL;

  for (int i = 0; i < 100000; i++)
    g_string_append (deep, "{\"repeat\": 2, \"steps\": [");
  s = il_scenario_load_data (deep->str, deep->len, "deep.json", &error);
  g_assert_null (s);
  g_assert_nonnull (strstr (error->message, "nested more than 64 levels deep"));
  g_string_free (deep, TRUE);
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null (il_scenario_load_file ("/nonexistent/x.json", &error));
  g_assert_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/x.json"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scenario/example", test_example);
  g_test_add_func ("/scenario/defaults", test_defaults);
  g_test_add_func ("/scenario/round-trip", test_round_trip);
  g_test_add_func ("/scenario/errors", test_errors);
  g_test_add_func ("/scenario/deep-nesting", test_deep_nesting);
  g_test_add_func ("/scenario/missing-file", test_missing_file);
  return g_test_run ();
}
