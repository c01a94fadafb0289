/* test-scenario.c — the scenario format: what is read, defaults, exact errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-scenario.h"
#include "il-trace.h"

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
  g_assert_cmpstr (s->description, ==, "…");
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
  g_assert_cmpint (s->tasks[0].steps[1].duration, ==, IL_MSEC (100));
  g_assert_cmpstr (s->tasks[1].name, ==, "ticker");
  g_assert_cmpuint (s->tasks[1].n_steps, ==, 1);
  g_assert_cmpuint (s->n_locks, ==, 0);
  g_assert_cmpuint (s->n_limits, ==, 0);
  rep = &s->tasks[1].steps[0];
  g_assert_cmpint (rep->kind, ==, IL_STEP_REPEAT);
  g_assert_cmpuint (rep->count, ==, 50);
  g_assert_cmpuint (rep->n_children, ==, 2);
  g_assert_cmpint (rep->children[0].kind, ==, IL_STEP_SLEEP);
  g_assert_cmpint (rep->children[0].duration, ==, IL_MSEC (10));
  g_assert_cmpint (rep->children[1].kind, ==, IL_STEP_CPU);
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
  g_assert_cmpint (s->correct, ==, -1);
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
    "to_thread, to_process, await, fail, put, get" },
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
  { "{\"queues\": {\"q\": 2}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"r\"}]}]}",
    "bad.json:1:64: $.tasks[0].steps[0].put: no queue named \"r\": declare it in \"queues\": {\"r\": maxsize}" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"get\": \"q\"}]}]}",
    "bad.json:1:44: $.tasks[0].steps[0].get: no queue named \"q\": declare it in \"queues\": {\"q\": maxsize}" },
  { "{\"queues\": {\"q\": -1}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"q\"}]}]}",
    "bad.json:1:18: $.queues.q: expected a whole number from 0 to 1000000, got -1" },
  { "{\"queues\": {\"q\": 1.5}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"q\"}]}]}",
    "bad.json:1:18: $.queues.q: expected a whole number from 0 to 1000000, got a fraction" },
  { "{\"queues\": [\"q\"], \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"q\"}]}]}",
    "bad.json:1:12: $.queues: expected an object of {\"name\": maxsize} (0: unbounded), got a list" },
  { "{\"queues\": {\"q\": 1}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": 1}]}]}",
    "bad.json:1:64: $.tasks[0].steps[0].put: expected the name of a queue, got a number" },
  { "{\"queues\": {\"q\": 1}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"q\", \"item\": 3}]}]}",
    "bad.json:1:77: $.tasks[0].steps[0].item: unknown key \"item\" (expected one of: put)" },
};

/* Queues and their steps survive writing and reading back. */
static void
test_queue_round_trip (void)
{
  static const char *text =
    "{\"mode\": \"asyncio\", \"queues\": {\"jobs\": 2, \"log\": 0},\n"
    " \"tasks\": [{\"name\": \"p\", \"steps\": [{\"repeat\": 3, \"steps\": [{\"put\": \"jobs\"}, {\"put\": \"log\"}]}]},\n"
    "           {\"name\": \"c\", \"steps\": [{\"get\": \"jobs\"}, {\"get\": \"log\"}]}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) a = il_scenario_load_data (text, -1, "q.json", &error);
  g_autofree char *json = NULL, *json2 = NULL;
  g_autoptr(IlScenario) b = NULL;
  g_autoptr(IlScenario) copy = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (a->n_queues, ==, 2);
  g_assert_cmpstr (a->queues[0].name, ==, "jobs");
  g_assert_cmpuint (a->queues[0].maxsize, ==, 2);
  g_assert_cmpuint (a->queues[1].maxsize, ==, 0);
  g_assert_cmpint (a->tasks[0].steps[0].children[0].kind, ==, IL_STEP_PUT);
  g_assert_cmpuint (a->tasks[0].steps[0].children[1].ref, ==, 1);
  g_assert_cmpint (a->tasks[1].steps[0].kind, ==, IL_STEP_GET);
  g_assert_cmpuint (a->tasks[1].steps[1].ref, ==, 1);

  json = il_scenario_to_json (a);
  g_assert_nonnull (strstr (json, "\"queues\": { \"jobs\": 2, \"log\": 0 }"));
  g_assert_nonnull (strstr (json, "{\"put\": \"jobs\"}"));
  b = il_scenario_load_data (json, -1, "again.json", &error);
  g_assert_no_error (error);
  json2 = il_scenario_to_json (b);
  g_assert_cmpstr (json, ==, json2);

  copy = il_scenario_copy (a);
  g_assert_cmpuint (copy->n_queues, ==, 2);
  g_assert_cmpstr (copy->queues[1].name, ==, "log");
  g_assert_true (copy->queues != a->queues);
}

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

/* Every step kind and every optional field, read exactly. */
static const char *every_kind =
  "{\"title\": \"All\", \"description\": \"every kind\", \"mode\": \"asyncio\", \"cores\": 3, \"workers\": 2,\n"
  " \"switch_interval_ms\": 0.5, \"start_method\": \"forkserver\", \"seed\": 7,\n"
  " \"params\": {\"wake_latency_ms\": 0.03, \"fork_ms\": 12, \"free_threading_overhead\": 0.25},\n"
  " \"limits\": {\"db\": 3},\n"
  " \"tasks\": [\n"
  "  {\"name\": \"main\", \"group\": \"g\", \"steps\": [\n"
  "    {\"cpu\": 0.0005}, {\"io\": 2, \"blocking\": true}, {\"sleep\": 1.25}, {\"c\": 3, \"gil\": \"release\"},\n"
  "    {\"c\": 4, \"gil\": \"hold\"}, {\"yield\": true},\n"
  "    {\"lock\": \"L\", \"steps\": [{\"cpu\": 1}]}, {\"limit\": \"db\", \"steps\": [{\"io\": 1}]},\n"
  "    {\"to_thread\": [{\"cpu\": 2}, {\"io\": 3}]}, {\"to_process\": [{\"cpu\": 5}]},\n"
  "    {\"await\": \"other\"}, {\"fail\": \"boom\"}]},\n"
  "  {\"name\": \"other\", \"start\": 2.5, \"group\": \"g\", \"steps\": [{\"lock\": \"M\", \"steps\": [{\"lock\": \"L\", \"steps\": [{\"sleep\": 1}]}]}]},\n"
  "  {\"name\": \"third\", \"steps\": [{\"cpu\": 0.000001}]}\n"
  " ]}\n";

static void
check_every_kind (const IlScenario *s)
{
  const IlStep *st;
  const IlTask *t;

  g_assert_cmpstr (s->title, ==, "All");
  g_assert_cmpstr (s->description, ==, "every kind");
  g_assert_cmpint (s->mode, ==, IL_MODE_ASYNCIO);
  g_assert_cmpuint (s->cores, ==, 3);
  g_assert_cmpuint (s->workers, ==, 2);
  g_assert_cmpint (s->switch_interval, ==, IL_USEC (500));
  g_assert_cmpint (s->params.start_method, ==, IL_START_FORKSERVER);
  g_assert_cmpuint (s->params.seed, ==, 7);
  g_assert_cmpint (s->params.wake_latency, ==, IL_USEC (30));
  g_assert_cmpint (s->params.process_start_cost[IL_START_FORK], ==, IL_MSEC (12));
  g_assert_cmpfloat (s->params.free_threading_overhead, ==, 0.25);
  g_assert_cmpuint (s->n_limits, ==, 1);
  g_assert_cmpstr (s->limits[0].name, ==, "db");
  g_assert_cmpuint (s->limits[0].capacity, ==, 3);
  g_assert_cmpuint (s->n_locks, ==, 2);   /* in first-use order */
  g_assert_cmpstr (s->locks[0], ==, "L");
  g_assert_cmpstr (s->locks[1], ==, "M");
  g_assert_cmpuint (s->n_groups, ==, 1);
  g_assert_cmpstr (s->groups[0], ==, "g");

  g_assert_cmpuint (s->n_tasks, ==, 3);
  t = &s->tasks[0];
  g_assert_cmpstr (t->name, ==, "main");
  g_assert_cmpint (t->start, ==, 0);
  g_assert_cmpint (t->group, ==, 0);
  g_assert_cmpuint (t->n_steps, ==, 12);
  st = t->steps;
  g_assert_cmpint (st[0].kind, ==, IL_STEP_CPU);
  g_assert_cmpint (st[0].duration, ==, 500);          /* 0.0005 ms = 500 ns */
  g_assert_cmpint (st[0].flags, ==, IL_STEP_FLAG_NONE);
  g_assert_cmpint (st[1].kind, ==, IL_STEP_IO);
  g_assert_cmpint (st[1].duration, ==, IL_MSEC (2));
  g_assert_cmpint (st[1].flags, ==, IL_STEP_FLAG_BLOCKING);
  g_assert_cmpint (st[2].kind, ==, IL_STEP_SLEEP);
  g_assert_cmpint (st[2].duration, ==, IL_USEC (1250));
  g_assert_cmpint (st[3].kind, ==, IL_STEP_C);
  g_assert_cmpint (st[3].duration, ==, IL_MSEC (3));
  g_assert_cmpint (st[3].flags, ==, IL_STEP_FLAG_RELEASE_GIL);
  g_assert_cmpint (st[4].kind, ==, IL_STEP_C);
  g_assert_cmpint (st[4].flags, ==, IL_STEP_FLAG_NONE);
  g_assert_cmpint (st[5].kind, ==, IL_STEP_YIELD);
  g_assert_cmpint (st[6].kind, ==, IL_STEP_LOCK);
  g_assert_cmpuint (st[6].ref, ==, 0);
  g_assert_cmpuint (st[6].n_children, ==, 1);
  g_assert_cmpint (st[6].children[0].duration, ==, IL_MSEC (1));
  g_assert_cmpint (st[7].kind, ==, IL_STEP_LIMIT);
  g_assert_cmpuint (st[7].ref, ==, 0);
  g_assert_cmpint (st[7].children[0].kind, ==, IL_STEP_IO);
  g_assert_cmpint (st[8].kind, ==, IL_STEP_TO_THREAD);
  g_assert_cmpuint (st[8].n_children, ==, 2);
  g_assert_cmpint (st[8].children[1].kind, ==, IL_STEP_IO);
  g_assert_cmpint (st[8].children[1].duration, ==, IL_MSEC (3));
  g_assert_cmpint (st[9].kind, ==, IL_STEP_TO_PROCESS);
  g_assert_cmpuint (st[9].n_children, ==, 1);
  g_assert_cmpint (st[9].children[0].duration, ==, IL_MSEC (5));
  g_assert_cmpint (st[10].kind, ==, IL_STEP_AWAIT);
  g_assert_cmpuint (st[10].ref, ==, 1);               /* task "other" */
  g_assert_cmpint (st[11].kind, ==, IL_STEP_FAIL);
  g_assert_cmpstr (st[11].message, ==, "boom");

  t = &s->tasks[1];
  g_assert_cmpstr (t->name, ==, "other");
  g_assert_cmpint (t->start, ==, IL_USEC (2500));
  g_assert_cmpint (t->group, ==, 0);
  g_assert_cmpint (t->steps[0].kind, ==, IL_STEP_LOCK);
  g_assert_cmpuint (t->steps[0].ref, ==, 1);          /* M */
  g_assert_cmpuint (t->steps[0].children[0].ref, ==, 0); /* L */
  g_assert_cmpint (t->steps[0].children[0].children[0].kind, ==, IL_STEP_SLEEP);

  t = &s->tasks[2];
  g_assert_cmpint (t->group, ==, -1);
  g_assert_cmpint (t->steps[0].duration, ==, 1);      /* 1e-6 ms = 1 ns */
}

static void
test_every_kind (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) s = il_scenario_load_data (every_kind, -1, "all.json", &error);

  g_assert_no_error (error);
  check_every_kind (s);
}

static void
test_every_kind_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) a = il_scenario_load_data (every_kind, -1, "all.json", &error);
  g_autofree char *json = NULL;
  g_autoptr(IlScenario) b = NULL;
  g_autoptr(IlScenario) c = NULL;
  g_autofree char *json2 = NULL;

  g_assert_no_error (error);
  json = il_scenario_to_json (a);
  b = il_scenario_load_data (json, -1, "again.json", &error);
  g_assert_no_error (error);
  check_every_kind (b);
  json2 = il_scenario_to_json (b);
  g_assert_cmpstr (json, ==, json2);

  c = il_scenario_copy (a);
  check_every_kind (c);
  g_assert_true (c->tasks != a->tasks);
}

static void
test_lesson_file (void)
{
  const char *src = g_getenv ("INTERLEAVE_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) s = NULL;

  if (src == NULL)
    {
      g_test_skip ("INTERLEAVE_SOURCE_DIR is not set");
      return;
    }
  path = g_build_filename (src, "data", "lessons", "07-convoy-effect.json", NULL);
  s = il_scenario_load_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->filename, ==, path);
  g_assert_nonnull (s->title);
  g_assert_nonnull (s->lesson_group);
  g_assert_nonnull (s->question);
  g_assert_nonnull (s->answer);
  g_assert_nonnull (s->check);
  g_assert_nonnull (s->concepts);
  g_assert_nonnull (s->concepts[0]);
  g_assert_cmpuint (s->modes_mask & IL_MODE_MASK (s->mode), !=, 0);
  g_assert_cmpint (il_scenario_find_task (s, "io_thread"), >=, 0);
}

/* Deeper places: the path and LINE:COL point into the second task or step. */
static const struct {
  const char *text;
  int         code;
  const char *message;
} deep_errors[] = {
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}, {\"io\": -0.5}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:55: $.tasks[0].steps[1].io: expected a non-negative number of milliseconds, got -0.5" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]},\n  {\"name\": \"b\", \"steps\": [{\"cpu\": 1}, {\"sleep\": true}]}]}",
    IL_SCENARIO_ERROR_INVALID, "bad.json:2:49: $.tasks[1].steps[1].sleep: expected a number of milliseconds, got true/false" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"repeat\": 2, \"steps\": [{\"cpu\": 1}, {\"jump\": 1}]}]}]}",
    IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:72: $.tasks[0].steps[0].steps[1]: unknown step: expected one of cpu, io, sleep, c, yield, repeat, lock, limit, "
    "to_thread, to_process, await, fail, put, get" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1e400}]}]}", IL_SCENARIO_ERROR_SYNTAX,
    "bad.json:1:44: number out of range '1e400'" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"c\": 1, \"gil\": \"maybe\"}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:52: $.tasks[0].steps[0].gil: expected \"hold\" or \"release\"" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"await\": \"zz\"}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:46: $.tasks[0].steps[0].await: no task called \"zz\"" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1, \"io\": 2}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:36: $.tasks[0].steps[0]: a step has one kind, but this one has both \"cpu\" and \"io\"" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": []}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:35: $.tasks[0].steps: the list of steps is empty" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]},]}", IL_SCENARIO_ERROR_SYNTAX,
    "bad.json:1:49: expected a value (object, list, string, number, true, false or null)" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"limit\": \"db\", \"steps\": [{\"cpu\": 1}]}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:46: $.tasks[0].steps[0].limit: no limit named \"db\": declare it in \"limits\": {\"db\": N}" },
  { "{\"tasks\": [{\"steps\": [{\"cpu\": 1}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:12: $.tasks[0]: a task needs a \"name\"" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}, {\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
    IL_SCENARIO_ERROR_INVALID, "bad.json:1:59: $.tasks[1].name: another task is already called \"a\"" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]} x", IL_SCENARIO_ERROR_SYNTAX,
    "bad.json:1:51: unexpected text after the end of the scenario" },
  { "{\"tasks\": \"many\"}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:11: $.tasks: expected a list of tasks, got a string" },
  { "{\"workers\": -1, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:13: $.workers: expected a whole number from 0 to 4096, got -1" },
  { "{\"switch_interval_ms\": 0, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}", IL_SCENARIO_ERROR_INVALID,
    "bad.json:1:24: $.switch_interval_ms: the switch interval must be at least 0.001 ms" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}],\n \"lesson\": {\"choices\": [\"x\", \"y\"], \"correct\": 2}}",
    IL_SCENARIO_ERROR_INVALID, "bad.json:2:47: $.lesson.correct: expected the index of a choice, 0 to 1, got a number outside that range" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}],\n \"lesson\": {\"correct\": 0}}",
    IL_SCENARIO_ERROR_INVALID, "bad.json:2:24: $.lesson.correct: \"correct\" needs a \"choices\" list to point into" },
  { "{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}],\n \"lesson\": {\"choices\": [\"x\"], \"correct\": \"x\"}}",
    IL_SCENARIO_ERROR_INVALID, "bad.json:2:42: $.lesson.correct: expected the index of a choice, 0 to 0, got a string" },
};

static void
test_deep_errors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (deep_errors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IlScenario) s = il_scenario_load_data (deep_errors[i].text, -1, "bad.json", &error);

      g_assert_null (s);
      g_assert_error (error, IL_SCENARIO_ERROR, deep_errors[i].code);
      g_assert_cmpstr (error->message, ==, deep_errors[i].message);
    }
}

static void
test_too_large (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) s = NULL;

  /* one hour is allowed, a millisecond more is not */
  s = il_scenario_load_data ("{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 3600000}]}]}", -1, "big.json", &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->tasks[0].steps[0].duration, ==, IL_MSEC (3600000));
  g_clear_pointer (&s, il_scenario_unref);

  s = il_scenario_load_data ("{\"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 3600001}]}]}", -1, "big.json", &error);
  g_assert_null (s);
  g_assert_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_TOO_LARGE);
  g_assert_true (g_str_has_prefix (error->message, "big.json:1:44: $.tasks[0].steps[0].cpu: "));
}

/* A queue's id in the trace is IL_QUEUE_USER | its index: with 16385
 * queues the last one's id was queue 0's, so its items showed up in queue
 * 0's row, and ids of queues from 32768 on read as process pools.  A
 * scenario has at most IL_SCENARIO_MAX_QUEUES, which all fit. */
static void
test_too_many_queues (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) s = NULL;
  g_autoptr(GString) json = g_string_new ("{\"queues\": {");

  g_assert_cmpuint (IL_SCENARIO_MAX_QUEUES, <=, IL_QUEUE_USER);
  for (guint i = 0; i <= IL_QUEUE_USER; i++)
    g_string_append_printf (json, "%s\"q%u\": 1", i ? ", " : "", i);
  g_string_append_printf (json, "}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"q%u\"}]}]}",
                          (guint) IL_QUEUE_USER);
  s = il_scenario_load_data (json->str, -1, "q.json", &error);
  g_assert_null (s);
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "q.json:1:12: $.queues: 16385 queues: at most "));
  g_clear_error (&error);

  /* As many as allowed load. */
  g_string_assign (json, "{\"queues\": {");
  for (guint i = 0; i < IL_SCENARIO_MAX_QUEUES; i++)
    g_string_append_printf (json, "%s\"q%u\": 1", i ? ", " : "", i);
  g_string_append_printf (json, "}, \"tasks\": [{\"name\": \"a\", \"steps\": [{\"put\": \"q%u\"}]}]}",
                          (guint) IL_SCENARIO_MAX_QUEUES - 1);
  s = il_scenario_load_data (json->str, -1, "q.json", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->n_queues, ==, IL_SCENARIO_MAX_QUEUES);
  g_assert_cmpuint (s->tasks[0].steps[0].ref, ==, IL_SCENARIO_MAX_QUEUES - 1);
}

/* Shared, not copied: a reference is the same scenario, and it lives until
 * the last one is dropped, from any thread. */
static gpointer
ref_unref_many (gpointer data)
{
  for (guint i = 0; i < 10000; i++)
    il_scenario_unref (il_scenario_ref (data));
  return NULL;
}

static void
test_refcount (void)
{
  IlScenario *a = il_scenario_load_data ("{\"title\": \"shared\", \"tasks\": [{\"name\": \"a\", \"steps\": [{\"cpu\": 1}]}]}",
                                         -1, "r.json", NULL);
  const IlScenario *ro = a;
  IlScenario *b = il_scenario_ref (ro);
  GThread *threads[4];

  g_assert_true (a == b);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("ref", ref_unref_many, a);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  il_scenario_unref (a);
  /* Still alive through b. */
  g_assert_cmpstr (b->title, ==, "shared");
  g_assert_cmpstr (b->tasks[0].name, ==, "a");
  {
    /* A copy is a scenario of its own. */
    g_autoptr(IlScenario) c = il_scenario_copy (b);
    g_assert_true (c != b);
    il_scenario_unref (b);
    g_assert_cmpstr (c->title, ==, "shared");
  }
  il_scenario_unref (NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scenario/example", test_example);
  g_test_add_func ("/scenario/defaults", test_defaults);
  g_test_add_func ("/scenario/round-trip", test_round_trip);
  g_test_add_func ("/scenario/queue-round-trip", test_queue_round_trip);
  g_test_add_func ("/scenario/refcount", test_refcount);
  g_test_add_func ("/scenario/errors", test_errors);
  g_test_add_func ("/scenario/deep-nesting", test_deep_nesting);
  g_test_add_func ("/scenario/missing-file", test_missing_file);
  g_test_add_func ("/scenario/every-kind", test_every_kind);
  g_test_add_func ("/scenario/every-kind-round-trip", test_every_kind_round_trip);
  g_test_add_func ("/scenario/lesson-file", test_lesson_file);
  g_test_add_func ("/scenario/deep-errors", test_deep_errors);
  g_test_add_func ("/scenario/too-large", test_too_large);
  g_test_add_func ("/scenario/too-many-queues", test_too_many_queues);
  return g_test_run ();
}
