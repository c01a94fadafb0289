/* test-code.c — step numbering, the step events the engine records, the
 * Python the code view shows, and which line each task is on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <string.h>

#include "il-code.h"
#include "il-engine.h"
#include <glib/gstdio.h>

#include "il-steps.h"
#include "il-trace-io.h"
#include "test-util.h"

/* The STEP events of a lane as "number@time" (time in µs). */
static char *
steps_of (const IlTrace *trace,
          guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (trace->kind[e] == IL_EVENT_STEP)
        g_string_append_printf (s, "%s%u", s->len ? " " : "", trace->arg[e]);
    }
  return g_string_free (s, FALSE);
}

static void
test_numbering (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"tasks\":[{\"name\":\"a\",\"steps\":["
                                   "{\"cpu\":1},"
                                   "{\"repeat\":2,\"steps\":[{\"io\":1},{\"lock\":\"l\",\"steps\":[{\"cpu\":1}]}]},"
                                   "{\"sleep\":1}]}]}");
  g_autoptr(GPtrArray) flat = il_steps_flatten (&sc->tasks[0]);
  const IlStep *s = sc->tasks[0].steps;

  /* cpu, repeat, io, lock, cpu, sleep: a step, then its body, then the next */
  g_assert_cmpuint (il_steps_count (s, sc->tasks[0].n_steps), ==, 6);
  g_assert_cmpuint (flat->len, ==, 6);
  g_assert_true (flat->pdata[0] == &s[0]);
  g_assert_true (flat->pdata[1] == &s[1]);
  g_assert_true (flat->pdata[2] == &s[1].children[0]);
  g_assert_true (flat->pdata[3] == &s[1].children[1]);
  g_assert_true (flat->pdata[4] == &s[1].children[1].children[0]);
  g_assert_true (flat->pdata[5] == &s[2]);
}

/* Runs json in every mode: task a's STEP events, but for the numbers in
 * left_out (NULL-terminated, may be NULL), must be want. */
static void
assert_steps_every_mode (const char        *json,
                         const char *const *left_out,
                         const char        *want)
{
  g_autoptr(IlScenario) sc = tu_load (json);

  for (IlMode m = 0; m < IL_N_MODES; m++)
    {
      g_autoptr(IlTrace) trace = tu_run (sc, m);
      g_autofree char *steps = steps_of (trace, tu_lane (trace, IL_LANE_TASK, "a"));
      g_auto(GStrv) numbers = g_strsplit (steps, " ", -1);
      g_autoptr(GString) kept = g_string_new (NULL);

      for (guint i = 0; numbers[i] != NULL; i++)
        if (left_out == NULL || !g_strv_contains (left_out, numbers[i]))
          g_string_append_printf (kept, "%s%s", kept->len ? " " : "", numbers[i]);
      g_assert_cmpstr (kept->str, ==, want);
    }
}

/* Every mode records the step each task starts, the same numbers: the
 * repeat is not an operation of its own; the lock step is recorded when
 * it is acquired, then its body. */
static void
test_step_events (void)
{
  assert_steps_every_mode ("{\"tasks\":[{\"name\":\"a\",\"steps\":["
                           "{\"cpu\":1},"
                           "{\"repeat\":2,\"steps\":[{\"io\":1},{\"lock\":\"l\",\"steps\":[{\"cpu\":1}]}]},"
                           "{\"sleep\":1}]}]}",
                           NULL, "0 2 3 4 2 3 4 5");
}

/* A body the task's own program does not walk (asyncio runs to_thread's
 * on a worker thread, to_process's in a process) is still numbered: the
 * steps after it number on past it, on every turn of the loops around it,
 * in every mode.  The bodies' own steps (5, 6 and 9) are left out: some
 * modes record them on the task's lane, others on the worker's. */
static void
test_step_events_skipped_body (void)
{
  const char *const bodies[] = { "5", "6", "9", NULL };

  assert_steps_every_mode ("{\"tasks\":[{\"name\":\"a\",\"steps\":["
                           "{\"cpu\":1},"
                           "{\"repeat\":2,\"steps\":["
                           "{\"repeat\":2,\"steps\":[{\"cpu\":1},{\"to_thread\":[{\"cpu\":1},{\"io\":1}]}]},"
                           "{\"io\":1}]},"
                           "{\"to_process\":[{\"cpu\":1}]},"
                           "{\"sleep\":1}]}]}",
                           bodies, "0 3 4 3 4 7 3 4 3 4 7 8 10");
}

/* Bodies nested deeper than the frames a program keeps inline (the rest
 * move to the heap): the steps are numbered and walked the same, every
 * lock is released on the way out (the sleep after them runs). */
static void
test_step_events_deep (void)
{
  assert_steps_every_mode ("{\"tasks\":[{\"name\":\"a\",\"steps\":["
                           "{\"repeat\":2,\"steps\":[{\"lock\":\"l\",\"steps\":["
                           "{\"repeat\":2,\"steps\":[{\"repeat\":1,\"steps\":[{\"lock\":\"m\",\"steps\":["
                           "{\"repeat\":2,\"steps\":[{\"cpu\":1},{\"io\":1}]}]}]}]}]}]},"
                           "{\"sleep\":1}]}]}",
                           NULL, "1 4 6 7 6 7 4 6 7 6 7 1 4 6 7 6 7 4 6 7 6 7 8");
}

/* After an I/O completes or a timer expires the task is ready until its
 * step runs, however long the loop is busy. */
static void
test_ready_after_wait (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"asyncio\",\"tasks\":["
                                   "{\"name\":\"io\",\"steps\":[{\"io\":10},{\"cpu\":1}]},"
                                   "{\"name\":\"timer\",\"steps\":[{\"sleep\":10},{\"cpu\":1}]},"
                                   "{\"name\":\"busy\",\"steps\":[{\"cpu\":40}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  guint32 io = tu_lane (trace, IL_LANE_TASK, "io"), timer = tu_lane (trace, IL_LANE_TASK, "timer");

  g_assert_cmpint (tu_time_in (trace, io, IL_STATE_WAIT_IO), ==, IL_MSEC (10));
  g_assert_cmpint (tu_time_in (trace, timer, IL_STATE_SLEEPING), ==, IL_MSEC (10));
  /* both wait for busy's 40 ms step, ready */
  g_assert_cmpint (tu_time_in (trace, io, IL_STATE_READY), >, IL_MSEC (29));
  g_assert_cmpint (tu_time_in (trace, timer, IL_STATE_READY), >, IL_MSEC (29));
  g_assert_cmpint (tu_first_state (trace, io, IL_STATE_RUNNING), <, IL_MSEC (1));
}

/* A spawned process starts its interpreter in a state of its own; a forked
 * one has nothing to start. */
static void
test_process_starting (void)
{
  g_autoptr(IlScenario) spawn = tu_load ("{\"mode\":\"processes\",\"start_method\":\"spawn\","
                                      "\"tasks\":[{\"name\":\"a\",\"steps\":[{\"cpu\":10}]}]}");
  g_autoptr(IlScenario) fork = tu_load ("{\"mode\":\"processes\",\"start_method\":\"fork\","
                                     "\"tasks\":[{\"name\":\"a\",\"steps\":[{\"cpu\":10}]}]}");
  g_autoptr(IlTrace) ts = tu_run (spawn, IL_MODE_PROCESSES);
  g_autoptr(IlTrace) tf = tu_run (fork, IL_MODE_PROCESSES);
  guint32 a = tu_lane (ts, IL_LANE_TASK, "a");

  g_assert_cmpint (tu_time_in (ts, a, IL_STATE_STARTING), ==, spawn->params.process_start_cost[IL_START_SPAWN]);
  g_assert_cmpint (tu_time_in (ts, a, IL_STATE_RUNNING), ==, IL_MSEC (10));
  g_assert_cmpint (tu_first_state (ts, a, IL_STATE_RUNNING), ==,
                   tu_first_state (ts, a, IL_STATE_STARTING) + spawn->params.process_start_cost[IL_START_SPAWN]);
  g_assert_cmpint (tu_time_in (tf, tu_lane (tf, IL_LANE_TASK, "a"), IL_STATE_STARTING), ==, 0);
  g_assert_cmpstr (il_state_to_nick (IL_STATE_STARTING), ==, "starting");
}

static const char *consumer_json =
  "{\"mode\":\"asyncio\",\"tasks\":["
  "{\"name\":\"producer\",\"steps\":[{\"io\":30},{\"cpu\":5}]},"
  "{\"name\":\"consumer\",\"steps\":[{\"cpu\":1},{\"await\":\"producer\"},{\"cpu\":2}]},"
  "{\"name\":\"hasher\",\"steps\":[{\"to_thread\":[{\"c\":20,\"gil\":\"release\"}]},{\"cpu\":1}]}]}";

static void
test_asyncio_code (void)
{
  g_autoptr(IlScenario) sc = tu_load (consumer_json);
  g_autoptr(IlCode) code = il_code_new (sc, IL_MODE_ASYNCIO);
  g_autofree char *text = il_code_to_string (code);
  const char *expected =
    "# asyncio: one thread, one event loop; tasks take turns at each await\n"
    "import asyncio\n"
    "import hashlib\n"
    "import time\n"
    "\n"
    "def crunch(ms):\n"
    "    \"\"\"Pure-Python arithmetic for ms milliseconds of CPU: needs the GIL.\"\"\"\n"
    "    end = time.thread_time() + ms / 1000\n"
    "    while time.thread_time() < end:\n"
    "        pass\n"
    "\n"
    "def c_call_nogil(ms):\n"
    "    \"\"\"C code that releases the GIL for ms milliseconds.\"\"\"\n"
    "    hashlib.sha256(bytes(int(ms * 1_000_000))).digest()\n"
    "\n"
    "async def async_io(seconds):\n"
    "    \"\"\"Stands for awaiting a socket: the loop runs other tasks meanwhile.\"\"\"\n"
    "    await asyncio.sleep(seconds)\n"
    "\n"
    "tasks = {}\n"
    "\n"
    "async def producer():\n"
    "    await async_io(0.03)\n"
    "    crunch(5)\n"
    "\n"
    "async def consumer():\n"
    "    crunch(1)\n"
    "    await tasks[\"producer\"]\n"
    "    crunch(2)\n"
    "\n"
    "async def hasher():\n"
    "    await asyncio.to_thread(c_call_nogil, 20)\n"
    "    crunch(1)\n"
    "\n"
    "async def main():\n"
    "    for task in (producer, consumer, hasher):\n"
    "        tasks[task.__name__] = asyncio.create_task(task())\n"
    "    await asyncio.gather(*tasks.values())\n"
    "\n"
    "if __name__ == \"__main__\":\n"
    "    asyncio.run(main())\n";
  gint def = il_code_line_of_step (code, 2, -1);

  g_assert_cmpstr (text, ==, expected);
  g_assert_cmpint (il_code_get_mode (code), ==, IL_MODE_ASYNCIO);

  /* lines know their task and step; the to_thread body shares its line */
  g_assert_cmpstr (il_code_get_line (code, def)->text, ==, "async def hasher():");
  g_assert_cmpint (il_code_get_line (code, def)->step, ==, -1);
  g_assert_cmpint (il_code_line_of_step (code, 2, 0), ==, def + 1);
  g_assert_cmpint (il_code_line_of_step (code, 2, 1), ==, def + 1);
  g_assert_cmpint (il_code_line_of_step (code, 2, 2), ==, def + 2);
  g_assert_cmpint (il_code_line_of_step (code, 2, 3), ==, -1);
  g_assert_cmpint (il_code_line_of_step (code, 3, 0), ==, -1);
  g_assert_cmpint (il_code_get_line (code, def + 1)->task, ==, 2);
  g_assert_cmpint (il_code_get_line (code, def + 1)->step, ==, 0);
  g_assert_cmpint (il_code_get_line (code, def + 1)->indent, ==, 1);
  g_assert_cmpint (il_code_get_line (code, 0)->task, ==, -1);
}

static void
test_threads_code (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"limits\":{\"conn\":2},\"workers\":2,\"tasks\":["
                                   "{\"name\":\"get-1\",\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"io\":50}]},"
                                   "{\"to_process\":[{\"cpu\":10},{\"cpu\":5}]},{\"fail\":\"bad reply\"}]},"
                                   "{\"name\":\"late\",\"start\":100,\"steps\":[{\"yield\":true}]}]}");
  g_autoptr(IlCode) code = il_code_new (sc, IL_MODE_THREADS);
  g_autofree char *text = il_code_to_string (code);

  /* names become identifiers, bodies for pools become functions */
  g_assert_nonnull (strstr (text, "conn = threading.Semaphore(2)\n"));
  g_assert_nonnull (strstr (text, "process_pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context(\"fork\"))\n"));
  g_assert_nonnull (strstr (text, "def get_1_job_1():\n    crunch(10)\n    crunch(5)\n"));
  g_assert_nonnull (strstr (text, "def get_1():\n    with conn:\n        blocking_io(0.05)\n"
                                  "    process_pool.submit(get_1_job_1).result()\n"
                                  "    raise RuntimeError(\"bad reply\")\n"));
  g_assert_nonnull (strstr (text, "    with ThreadPoolExecutor(max_workers=2) as pool:\n"
                                  "        for task in (get_1,):\n"
                                  "            futures[task.__name__] = pool.submit(task)\n"
                                  "        time.sleep(0.1)\n"
                                  "        for task in (late,):\n"));
  g_assert_nonnull (strstr (text, "def late():\n    time.sleep(0)\n"));

  /* the helper's body lines stand for the steps inside to_process */
  {
    gint l = il_code_line_of_step (code, 0, 4);
    g_assert_cmpstr (il_code_get_line (code, l)->text, ==, "crunch(5)");
    g_assert_cmpint (il_code_get_line (code, l - 2)->step, ==, 2);
    g_assert_cmpstr (il_code_get_line (code, l - 2)->text, ==, "def get_1_job_1():");
  }
}

/* Runs python -c script with text on its stdin; its stderr in *err. */
static gboolean
python_on (const char  *python,
           const char  *script,
           const char  *text,
           char       **err)
{
  const char *argv[] = { python, "-c", script, NULL };
  g_autoptr(GSubprocess) proc = NULL;
  GError *error = NULL;

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                            | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, text, NULL, NULL, err, &error));
  g_assert_no_error (error);
  return g_subprocess_get_successful (proc);
}

/* Every mode of every scenario shape gives Python that compiles. */
static void
test_code_compiles (void)
{
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autoptr(IlScenario) sc = tu_load ("{\"limits\":{\"conn\":2},\"workers\":0,\"tasks\":["
                                   "{\"name\":\"a\",\"group\":\"g\",\"steps\":[{\"repeat\":3,\"steps\":[{\"yield\":true}]},"
                                   "{\"lock\":\"l\",\"steps\":[{\"sleep\":1,\"blocking\":true},{\"io\":2,\"blocking\":true}]},"
                                   "{\"to_thread\":[{\"cpu\":1},{\"to_process\":[{\"c\":2}]}]},"
                                   "{\"to_process\":[{\"repeat\":2,\"steps\":[{\"cpu\":1}]}]},"
                                   "{\"await\":\"b\"},{\"fail\":\"ValueError\"}]},"
                                   "{\"name\":\"b\",\"start\":5,\"steps\":[{\"limit\":\"conn\",\"steps\":[{\"c\":1,\"gil\":\"release\"}]}]}]}");

  if (python == NULL)
    {
      g_test_skip ("no python3");
      return;
    }
  for (IlMode m = 0; m < IL_N_MODES; m++)
    {
      g_autoptr(IlCode) code = il_code_new (sc, m);
      g_autofree char *text = il_code_to_string (code);
      g_autofree char *err = NULL;

      if (!python_on (python, "import ast, sys; ast.parse(sys.stdin.read())", text, &err))
        g_error ("%s code does not parse:\n%s\n%s", il_mode_to_string (m), err, text);
    }
}

/* Names shared by a task, a queue, a lock and a semaphore, two tasks whose
 * names differ only in what Python cannot spell, a task named like another's
 * helper, a semaphore named like a builtin: `q = queue.Queue()` was shadowed
 * by `def q():`.  Every mode's program parses and defines each top-level
 * name once, and runs to the end under CPython. */
static void
test_code_name_clashes (void)
{
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autoptr(IlScenario) sc = tu_load ("{\"queues\":{\"q\":0},\"limits\":{\"range\":1},\"tasks\":["
                                      "{\"name\":\"q\",\"steps\":[{\"repeat\":3,\"steps\":[{\"cpu\":1},{\"put\":\"q\"}]}]},"
                                      "{\"name\":\"producer\",\"steps\":[{\"lock\":\"q\",\"steps\":[{\"cpu\":1}]},{\"await\":\"q\"}]},"
                                      "{\"name\":\"a-b\",\"steps\":[{\"repeat\":3,\"steps\":[{\"get\":\"q\"},{\"io\":1}]}]},"
                                      "{\"name\":\"a_b\",\"steps\":[{\"limit\":\"range\",\"steps\":[{\"sleep\":1}]},"
                                      "{\"to_thread\":[{\"cpu\":1},{\"io\":1}]}]},"
                                      "{\"name\":\"a_b_job_1\",\"steps\":[{\"await\":\"a-b\"},{\"await\":\"a_b\"}]}]}");
  static const char *check =
    "import ast, sys\n"
    "tree = ast.parse(sys.stdin.read())\n"
    "names = []\n"
    "for node in tree.body:\n"
    "    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):\n"
    "        names.append(node.name)\n"
    "    elif isinstance(node, ast.Assign):\n"
    "        names += [t.id for t in node.targets if isinstance(t, ast.Name)]\n"
    "twice = sorted({n for n in names if names.count(n) > 1})\n"
    "sys.exit('defined twice: %s' % twice if twice else 0)\n";

  if (python == NULL)
    {
      g_test_skip ("no python3");
      return;
    }
  for (IlMode m = 0; m < IL_N_MODES; m++)
    {
      g_autoptr(IlCode) code = il_code_new (sc, m);
      g_autofree char *text = il_code_to_string (code);

      /* The task keeps its name; the queue and the lock step aside. */
      g_assert_nonnull (strstr (text, "def q():"));
      g_assert_nonnull (strstr (text, "q_queue = "));
      g_assert_nonnull (strstr (text, "q_lock = "));
      g_assert_nonnull (strstr (text, "q_queue.put(item)"));
      g_assert_nonnull (strstr (text, "with q_lock:"));
      g_assert_null (strstr (text, "range = "));
      /* A process cannot join a sibling (the model's await between
       * processes has no Python of its own): processes code only parses. */
      for (guint run = 0; run < (m == IL_MODE_PROCESSES ? 1u : 2u); run++)
        {
          g_autofree char *err = NULL;

          if (!python_on (python, run == 0 ? check : "import sys; exec(sys.stdin.read())", text, &err))
            g_error ("%s code %s:\n%s\n%s", il_mode_to_string (m), run == 0 ? "does not parse" : "fails", err, text);
        }
    }
}

static const char *queue_json =
  "{\"queues\":{\"jobs\":2},\"tasks\":["
  "{\"name\":\"producer\",\"steps\":[{\"repeat\":4,\"steps\":[{\"cpu\":1},{\"put\":\"jobs\"}]}]},"
  "{\"name\":\"consumer\",\"steps\":[{\"repeat\":4,\"steps\":[{\"get\":\"jobs\"},{\"io\":2}]}]}]}";

/* The queue, its steps as Python, per mode; and the program really runs
 * to the end under CPython (the item counts match, nobody waits for ever). */
static void
test_queue_code (void)
{
  g_autoptr(IlScenario) sc = tu_load (queue_json);
  g_autofree char *python = g_find_program_in_path ("python3");
  static const struct {
    IlMode      mode;
    const char *decl, *put, *get;
  } want[] = {
    { IL_MODE_ASYNCIO, "jobs = asyncio.Queue(maxsize=2)\n", "        await jobs.put(item)\n", "        item = await jobs.get()\n" },
    { IL_MODE_THREADS, "jobs = queue.Queue(maxsize=2)\n", "        jobs.put(item)\n", "        item = jobs.get()\n" },
    { IL_MODE_FREE_THREADING, "jobs = queue.Queue(maxsize=2)\n", "        jobs.put(item)\n", "        item = jobs.get()\n" },
    { IL_MODE_SEQUENTIAL, "jobs = queue.Queue(maxsize=2)\n", "        jobs.put(item)\n", "        item = jobs.get()\n" },
    { IL_MODE_PROCESSES, "jobs = multiprocessing.get_context(\"fork\").Queue(maxsize=2)\n", "        jobs.put(item)\n", "        item = jobs.get()\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autoptr(IlCode) code = il_code_new (sc, want[i].mode);
      g_autofree char *text = il_code_to_string (code);
      gint put_line = il_code_line_of_step (code, 0, 2), get_line = il_code_line_of_step (code, 1, 1);

      g_assert_nonnull (strstr (text, want[i].decl));
      g_assert_nonnull (strstr (text, want[i].put));
      g_assert_nonnull (strstr (text, want[i].get));
      g_assert_nonnull (strstr (text, "    item = \"producer\"\n"));
      g_assert_cmpint (put_line, >=, 0);
      g_assert_cmpint (get_line, >=, 0);
      g_assert_nonnull (strstr (il_code_get_line (code, put_line)->text, "put(item)"));
      g_assert_nonnull (strstr (il_code_get_line (code, get_line)->text, "get()"));
      if (want[i].mode == IL_MODE_THREADS || want[i].mode == IL_MODE_SEQUENTIAL)
        g_assert_nonnull (strstr (text, "import queue\n"));

      /* Sequential code would block at the third put, as the engine
       * reports; the others run to the end. */
      if (python != NULL && want[i].mode != IL_MODE_SEQUENTIAL)
        {
          const char *argv[] = { python, "-c", text, NULL };
          g_autofree char *err = NULL;
          int status = 0;
          GError *error = NULL;

          g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                                       &err, &status, &error));
          g_assert_no_error (error);
          if (!g_spawn_check_wait_status (status, NULL))
            g_error ("%s code fails:\n%s\n%s", il_mode_to_string (want[i].mode), err, text);
        }
    }
}

static void
test_lines_at_and_spans (void)
{
  g_autoptr(IlScenario) sc = tu_load (consumer_json);
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  g_autoptr(IlCode) code = il_code_new (sc, IL_MODE_ASYNCIO);
  guint32 consumer = tu_lane (trace, IL_LANE_TASK, "consumer");
  gint64 blocked = tu_first_state (trace, consumer, IL_STATE_BLOCKED);
  gint64 done = tu_first_state (trace, consumer, IL_STATE_DONE);
  gint at[3];
  gint await_line = il_code_line_of_step (code, 1, 1);
  g_autoptr(GArray) spans = il_code_line_spans (code, trace, (guint) await_line);
  g_autoptr(GArray) def_spans = il_code_line_spans (code, trace, (guint) il_code_line_of_step (code, 1, -1));
  g_autoptr(GArray) none = il_code_line_spans (code, trace, 0);
  const IlCodeSpan *span;

  g_assert_cmpint (blocked, >, 0);

  /* before anything ran, no task is on a line */
  il_code_lines_at (code, trace, -1, at);
  g_assert_cmpint (at[0], ==, -1);
  g_assert_cmpint (at[1], ==, -1);

  /* while consumer awaits the producer: producer on its I/O, consumer on
   * the await, hasher on the to_thread line */
  il_code_lines_at (code, trace, blocked + IL_MSEC (5), at);
  g_assert_cmpint (at[0], ==, il_code_line_of_step (code, 0, 0));
  g_assert_cmpint (at[1], ==, await_line);
  g_assert_cmpint (at[2], ==, il_code_line_of_step (code, 2, 0));

  /* done: off the code */
  il_code_lines_at (code, trace, done, at);
  g_assert_cmpint (at[1], ==, -1);
  il_code_lines_at (code, trace, G_MAXINT64, at);
  g_assert_cmpint (at[0], ==, -1);

  /* the await line ran from when consumer reached it until it resumed */
  g_assert_cmpuint (spans->len, ==, 1);
  span = &g_array_index (spans, IlCodeSpan, 0);
  g_assert_cmpint (span->task, ==, 1);
  g_assert_cmpint (span->start, <=, blocked);
  g_assert_cmpint (span->end, >, tu_first_state (trace, tu_lane (trace, IL_LANE_TASK, "producer"), IL_STATE_DONE));
  g_assert_cmpint (span->end, <, done);
  il_code_lines_at (code, trace, span->end, at);
  g_assert_cmpint (at[1], ==, il_code_line_of_step (code, 1, 2));
  il_code_lines_at (code, trace, span->end - 1, at);
  g_assert_cmpint (at[1], ==, await_line);

  /* the def line covers the whole task; main's lines have no spans */
  g_assert_cmpuint (def_spans->len, ==, 1);
  g_assert_cmpint (g_array_index (def_spans, IlCodeSpan, 0).end, ==, done);
  g_assert_cmpuint (none->len, ==, 0);
}

/* The new event kinds and the start-up state survive a save and a load
 * (trace format 2). */
static void
test_trace_file (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"asyncio\",\"start_method\":\"spawn\",\"tasks\":["
                                      "{\"name\":\"a\",\"steps\":[{\"to_process\":[{\"cpu\":2}]},{\"sleep\":1}]},"
                                      "{\"name\":\"b\",\"steps\":[{\"io\":1}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  g_autofree char *dir = g_dir_make_tmp ("test-code-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "run.itrace", NULL);
  g_autofree char *data = NULL;
  g_autoptr(IlTrace) back = NULL;
  GError *error = NULL;
  IlRunConfig cfg;
  gsize len = 0;
  guint kinds = 0;

  il_run_config_from_scenario (&cfg, sc);
  for (gsize e = 0; e < trace->n_events; e++)
    {
      if (trace->kind[e] == IL_EVENT_STEP)
        kinds |= 1;
      else if (trace->kind[e] == IL_EVENT_QUEUE)
        kinds |= 2;
      else if (trace->kind[e] == IL_EVENT_STATE && trace->value[e] == IL_STATE_STARTING)
        kinds |= 4;
    }
  g_assert_cmpuint (kinds, ==, 7);

  g_assert_true (il_trace_save (trace, &cfg, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, >, 12);
  g_assert_cmpuint ((guchar) data[8], ==, 2);
  back = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->n_events, ==, trace->n_events);
  g_assert_cmpmem (back->kind, back->n_events, trace->kind, trace->n_events);
  g_assert_cmpmem (back->value, back->n_events, trace->value, trace->n_events);
  g_assert_cmpmem (back->arg, back->n_events * 4, trace->arg, trace->n_events * 4);
  g_assert_cmpmem (back->aux, back->n_events * 2, trace->aux, trace->n_events * 2);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/steps/numbering", test_numbering);
  g_test_add_func ("/steps/events", test_step_events);
  g_test_add_func ("/steps/events-skipped-body", test_step_events_skipped_body);
  g_test_add_func ("/steps/events-deep", test_step_events_deep);
  g_test_add_func ("/engine/ready-after-wait", test_ready_after_wait);
  g_test_add_func ("/engine/process-starting", test_process_starting);
  g_test_add_func ("/steps/trace-file", test_trace_file);
  g_test_add_func ("/code/asyncio", test_asyncio_code);
  g_test_add_func ("/code/threads", test_threads_code);
  g_test_add_func ("/code/compiles", test_code_compiles);
  g_test_add_func ("/code/name-clashes", test_code_name_clashes);
  g_test_add_func ("/code/lines-at-and-spans", test_lines_at_and_spans);
  g_test_add_func ("/code/queue", test_queue_code);

  return g_test_run ();
}
