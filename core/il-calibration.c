/* il-calibration.c — model parameters measured on the user's own machine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The probes are a small Python program run with the interpreter the user
 * names.  Where a cost is CPU that the model charges to a thread, the
 * probes measure CPU time (thread_time / process_time), which holds on a
 * busy machine; latencies (wake-up, timer slack, round trips) are wall
 * time and take the median of many samples.
 */
#include "il-calibration.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "il-time.h"

G_DEFINE_QUARK (il-calibration-error-quark, il_calibration_error)

#define FORMAT_VERSION 1

static const IlCalibratedParam calibrated[] = {
  { "wake_latency_ms", "a thread blocked on a pipe, woken by a write (wall, median)",
    G_STRUCT_OFFSET (IlParams, wake_latency) },
  { "timer_slack_ms", "how late time.sleep(1 ms) returns (wall, median)",
    G_STRUCT_OFFSET (IlParams, timer_slack) },
  { "loop_iteration_ms", "one asyncio _run_once without callbacks",
    G_STRUCT_OFFSET (IlParams, loop_iteration_cost) },
  { "task_step_ms", "one Task.__step (eight tasks vs one yielding)",
    G_STRUCT_OFFSET (IlParams, task_step_cost) },
  { "task_create_ms", "create_task + finishing, beyond its step",
    G_STRUCT_OFFSET (IlParams, task_create_cost) },
  { "thread_start_ms", "Thread.start(): the starter's CPU and two wake-ups",
    G_STRUCT_OFFSET (IlParams, thread_start_cost) },
  { "pool_item_ms", "ThreadPoolExecutor submit -> result of a no-op",
    G_STRUCT_OFFSET (IlParams, pool_item_cost) },
  { "fork_ms", "fork: parent + child CPU for one ProcessPoolExecutor worker",
    G_STRUCT_OFFSET (IlParams, process_start_cost[IL_START_FORK]) },
  { "forkserver_ms", "forkserver: child CPU before its first item",
    G_STRUCT_OFFSET (IlParams, process_start_cost[IL_START_FORKSERVER]) },
  { "spawn_ms", "spawn: child CPU before its first item",
    G_STRUCT_OFFSET (IlParams, process_start_cost[IL_START_SPAWN]) },
  { "ipc_item_ms", "half a no-op item's round trip through a process pool",
    G_STRUCT_OFFSET (IlParams, ipc_item_cost) },
};

/* Measured values outside these bounds mean a broken probe or file. */
#define MAX_PARAM_MS 60000.0

static const char probe_source[] =
  "# Interleave's calibration probes: short measurements of this CPython on\n"
  "# this machine, printed as one JSON object.  argv[1] = budget in seconds.\n"
  "import asyncio, json, os, platform, statistics, sys, threading, time\n"
  "\n"
  "def noop(*args):\n"
  "    return None\n"
  "\n"
  "def child_info(_=None):\n"
  "    return time.process_time(), time.perf_counter()\n"
  "\n"
  "def summary(values):\n"
  "    values = sorted(values)\n"
  "    return {\"median_ms\": statistics.median(values), \"min_ms\": values[0],\n"
  "            \"max_ms\": values[-1], \"n\": len(values)}\n"
  "\n"
  "def main():\n"
  "    budget = max(0.0, float(sys.argv[1]))\n"
  "    scale = min(1.0, budget / 8.0)\n"
  "    def reps(n):\n"
  "        return max(3, int(n * scale))\n"
  "    pc = time.perf_counter_ns\n"
  "    samples = {}\n"
  "    params = {}\n"
  "    def keep(name, ms_values):\n"
  "        samples[name] = summary(ms_values)\n"
  "        return samples[name][\"median_ms\"]\n"
  "\n"
  "    # Timer slack: how late time.sleep(1 ms) returns.\n"
  "    late = []\n"
  "    for _ in range(reps(200)):\n"
  "        t = pc()\n"
  "        time.sleep(0.001)\n"
  "        late.append((pc() - t) / 1e6 - 1.0)\n"
  "    params[\"timer_slack_ms\"] = max(0.0, keep(\"sleep_1ms_late\", late))\n"
  "\n"
  "    # Wake-up: a thread blocked reading a pipe, woken by a one-byte write.\n"
  "    r, w = os.pipe()\n"
  "    woke = []\n"
  "    def reader(n):\n"
  "        for _ in range(n):\n"
  "            os.read(r, 1)\n"
  "            woke.append(pc())\n"
  "    n = reps(200)\n"
  "    th = threading.Thread(target=reader, args=(n,))\n"
  "    th.start()\n"
  "    sent = []\n"
  "    for _ in range(n):\n"
  "        time.sleep(0.0005)\n"
  "        sent.append(pc())\n"
  "        os.write(w, b\"x\")\n"
  "    th.join()\n"
  "    os.close(r)\n"
  "    os.close(w)\n"
  "    params[\"wake_latency_ms\"] = keep(\"pipe_wake\", [(b - a) / 1e6 for a, b in zip(sent, woke)])\n"
  "\n"
  "    # Thread start: the CPU the starting thread spends in Thread.start(),\n"
  "    # plus the two wake-ups it waits for (the new thread's, then its own\n"
  "    # when the new thread says it runs).  Its wall time would also count\n"
  "    # however long other work on a busy machine keeps the cores.\n"
  "    starts = []\n"
  "    for _ in range(reps(100)):\n"
  "        t = time.thread_time_ns()\n"
  "        th = threading.Thread(target=noop)\n"
  "        th.start()\n"
  "        starts.append((time.thread_time_ns() - t) / 1e6)\n"
  "        th.join()\n"
  "    params[\"thread_start_ms\"] = keep(\"thread_start_cpu\", starts) + 2 * params[\"wake_latency_ms\"]\n"
  "\n"
  "    # ThreadPoolExecutor: submit -> result of a no-op on a warm worker.\n"
  "    from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor\n"
  "    with ThreadPoolExecutor(max_workers=1) as ex:\n"
  "        ex.submit(noop).result()\n"
  "        rt = []\n"
  "        for _ in range(reps(400)):\n"
  "            t = pc()\n"
  "            ex.submit(noop).result()\n"
  "            rt.append((pc() - t) / 1e6)\n"
  "    params[\"pool_item_ms\"] = keep(\"thread_pool_item\", rt)\n"
  "\n"
  "    # asyncio: one task yielding (one iteration + one step per round) and\n"
  "    # eight tasks yielding (one iteration + eight steps per round).\n"
  "    async def spin(rounds):\n"
  "        for _ in range(rounds):\n"
  "            await asyncio.sleep(0)\n"
  "    async def rounds_of(k, rounds):\n"
  "        t = pc()\n"
  "        await asyncio.gather(*(spin(rounds) for _ in range(k)))\n"
  "        return (pc() - t) / 1e6 / rounds\n"
  "    async def create_many(m):\n"
  "        t = pc()\n"
  "        await asyncio.gather(*(asyncio.ensure_future(spin(0)) for _ in range(m)))\n"
  "        return (pc() - t) / 1e6 / m\n"
  "    async def to_thread_rt(m):\n"
  "        out = []\n"
  "        for _ in range(m):\n"
  "            t = pc()\n"
  "            await asyncio.to_thread(noop)\n"
  "            out.append((pc() - t) / 1e6)\n"
  "        return out\n"
  "    one, eight, created = [], [], []\n"
  "    for _ in range(3):\n"
  "        one.append(asyncio.run(rounds_of(1, reps(3000))))\n"
  "        eight.append(asyncio.run(rounds_of(8, reps(3000))))\n"
  "        created.append(asyncio.run(create_many(reps(2000))))\n"
  "    t1 = keep(\"loop_round_1_task\", one)\n"
  "    t8 = keep(\"loop_round_8_tasks\", eight)\n"
  "    step = max(0.0005, (t8 - t1) / 7.0)\n"
  "    params[\"task_step_ms\"] = step\n"
  "    params[\"loop_iteration_ms\"] = max(0.001, t1 - step)\n"
  "    params[\"task_create_ms\"] = max(0.001, keep(\"task_create_gather\", created) - step)\n"
  "    keep(\"to_thread_round_trip\", asyncio.run(to_thread_rt(reps(200))))\n"
  "\n"
  "    # Process start per start method: the CPU the parent spends starting\n"
  "    # one worker and the child spends before its first item; then the IPC\n"
  "    # round trip of a no-op item on the warm worker.\n"
  "    import multiprocessing as mp\n"
  "    ipc = []\n"
  "    for method, runs in ((\"fork\", 3), (\"forkserver\", 2), (\"spawn\", 2)):\n"
  "        if method not in mp.get_all_start_methods():\n"
  "            continue\n"
  "        costs = []\n"
  "        for _ in range(max(1, int(runs * max(scale, 0.34)))):\n"
  "            ctx = mp.get_context(method)\n"
  "            c0 = time.thread_time()\n"
  "            ex = ProcessPoolExecutor(max_workers=1, mp_context=ctx)\n"
  "            fut = ex.submit(child_info)\n"
  "            parent = (time.thread_time() - c0) * 1000.0\n"
  "            child_cpu, _ = fut.result()\n"
  "            child = child_cpu * 1000.0\n"
  "            if method == \"fork\":\n"
  "                costs.append(parent + child)\n"
  "                for _ in range(reps(60)):\n"
  "                    t = pc()\n"
  "                    ex.submit(noop).result()\n"
  "                    ipc.append((pc() - t) / 1e6)\n"
  "            else:\n"
  "                costs.append(child)\n"
  "            ex.shutdown()\n"
  "        params[method + \"_ms\"] = keep(method + \"_start\", costs)\n"
  "    if ipc:\n"
  "        params[\"ipc_item_ms\"] = keep(\"process_pool_round_trip\", ipc) / 2.0\n"
  "\n"
  "    print(json.dumps({\"python\": platform.python_version(),\n"
  "                      \"implementation\": platform.python_implementation(),\n"
  "                      \"executable\": sys.executable, \"cores\": os.cpu_count(),\n"
  "                      \"params\": params, \"samples\": samples}))\n"
  "\n"
  "if __name__ == \"__main__\":\n"
  "    main()\n";

const IlCalibratedParam *
il_calibration_params (guint *n_params)
{
  if (n_params != NULL)
    *n_params = G_N_ELEMENTS (calibrated);
  return calibrated;
}

static gint64 *
param_field (IlParams                *params,
             const IlCalibratedParam *p)
{
  return (gint64 *) (gpointer) ((guint8 *) params + p->offset);
}

void
il_calibration_free (IlCalibration *calibration)
{
  if (calibration == NULL)
    return;
  g_free (calibration->python_version);
  g_free (calibration->python_path);
  g_free (calibration->measured_at);
  g_free (calibration->samples_json);
  g_free (calibration);
}

/* Reads what the probes print and what il_calibration_save writes: an
 * object with "python", "executable", "cores", "params" and optional
 * "samples" and "measured_at".  `where` names the source in messages. */
static IlCalibration *
calibration_from_json (const char  *text,
                       const char  *where,
                       GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(IlCalibration) cal = g_new0 (IlCalibration, 1);
  JsonObject *root, *params;
  JsonNode *node;

  if (!json_parser_load_from_data (parser, text, -1, &local))
    {
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                   "%s: %s", where, local->message);
      return NULL;
    }
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                   "%s: $: expected an object", where);
      return NULL;
    }
  root = json_node_get_object (node);

  node = json_object_get_member (root, "python");
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                   "%s: $.python: expected the Python version as a string", where);
      return NULL;
    }
  cal->python_version = g_strdup (json_node_get_string (node));
  node = json_object_get_member (root, "executable");
  cal->python_path = g_strdup (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING
                               ? json_node_get_string (node) : "");
  node = json_object_get_member (root, "measured_at");
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING)
    cal->measured_at = g_strdup (json_node_get_string (node));
  node = json_object_get_member (root, "cores");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    cal->cores = (guint) CLAMP (json_node_get_int (node), 0, 4096);
  node = json_object_get_member (root, "samples");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    cal->samples_json = json_to_string (node, FALSE);

  node = json_object_get_member (root, "params");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                   "%s: $.params: expected an object of measured parameters", where);
      return NULL;
    }
  params = json_node_get_object (node);
  il_params_init_defaults (&cal->params);
  for (guint i = 0; i < G_N_ELEMENTS (calibrated); i++)
    {
      JsonNode *v = json_object_get_member (params, calibrated[i].name);
      GType type;
      double ms;

      if (v == NULL)
        continue;   /* not measured here (a start method the platform lacks) */
      type = JSON_NODE_HOLDS_VALUE (v) ? json_node_get_value_type (v) : G_TYPE_INVALID;
      if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
        {
          g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                       "%s: $.params.%s: expected milliseconds as a number", where, calibrated[i].name);
          return NULL;
        }
      ms = json_node_get_double (v);
      if (!(ms >= 0 && ms <= MAX_PARAM_MS))
        {
          g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                       "%s: $.params.%s: %g ms is out of range (0 to %g)", where, calibrated[i].name,
                       ms, MAX_PARAM_MS);
          return NULL;
        }
      *param_field (&cal->params, &calibrated[i]) = il_time_from_ms (ms);
    }
  return g_steal_pointer (&cal);
}

IlCalibration *
il_calibration_measure (const char    *python,
                        double         budget_s,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autofree char *exe = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *script = NULL;
  g_autofree char *budget = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDateTime) now = NULL;
  IlCalibration *cal;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (python != NULL, NULL);

  exe = strchr (python, G_DIR_SEPARATOR) != NULL ? g_strdup (python) : g_find_program_in_path (python);
  if (exe == NULL || !g_file_test (exe, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_PROBE,
                   "%s: no such Python interpreter", python);
      return NULL;
    }

  /* The probes run from a file: spawn and forkserver children import the
   * main module again, which "python -c" would not give them. */
  dir = g_dir_make_tmp ("interleave-calibrate-XXXXXX", error);
  if (dir == NULL)
    return NULL;
  script = g_build_filename (dir, "interleave_probes.py", NULL);
  if (!g_file_set_contents (script, probe_source, -1, error))
    {
      g_rmdir (dir);
      return NULL;
    }
  budget = g_strdup (g_ascii_dtostr (buf, sizeof buf, MAX (0.0, budget_s)));
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                           exe, "-I", script, budget, NULL);
  if (proc != NULL)
    g_subprocess_communicate_utf8 (proc, NULL, cancellable, &out, &err, error);
  g_unlink (script);
  g_rmdir (dir);
  if (proc == NULL || out == NULL)
    return NULL;
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *tail = g_strdup (err != NULL ? g_strstrip (err) : "");
      const char *last = strrchr (tail, '\n');
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_PROBE,
                   "%s: the probes failed: %s", exe, last != NULL ? last + 1 : tail);
      return NULL;
    }

  cal = calibration_from_json (out, exe, error);
  if (cal == NULL)
    return NULL;
  now = g_date_time_new_now_utc ();
  g_free (cal->measured_at);
  cal->measured_at = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  return cal;
}

char *
il_calibration_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "interleave", "calibration.json", NULL);
}

char *
il_calibration_to_json (const IlCalibration *calibration)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (calibration != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_int_value (b, FORMAT_VERSION);
  json_builder_set_member_name (b, "measured_at");
  json_builder_add_string_value (b, calibration->measured_at != NULL ? calibration->measured_at : "");
  json_builder_set_member_name (b, "python");
  json_builder_add_string_value (b, calibration->python_version);
  json_builder_set_member_name (b, "executable");
  json_builder_add_string_value (b, calibration->python_path != NULL ? calibration->python_path : "");
  json_builder_set_member_name (b, "cores");
  json_builder_add_int_value (b, calibration->cores);
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  for (guint i = 0; i < G_N_ELEMENTS (calibrated); i++)
    {
      json_builder_set_member_name (b, calibrated[i].name);
      json_builder_add_double_value (b, il_time_to_ms (*param_field ((IlParams *) &calibration->params,
                                                                     &calibrated[i])));
    }
  json_builder_end_object (b);
  if (calibration->samples_json != NULL)
    {
      g_autoptr(JsonNode) samples = json_from_string (calibration->samples_json, NULL);
      if (samples != NULL)
        {
          json_builder_set_member_name (b, "samples");
          json_builder_add_value (b, g_steal_pointer (&samples));
        }
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

gboolean
il_calibration_save (const IlCalibration  *calibration,
                     const char           *path,
                     GError              **error)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (calibration != NULL && path != NULL, FALSE);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "%s: cannot create the folder: %s", dir, g_strerror (saved));
      return FALSE;
    }
  text = il_calibration_to_json (calibration);
  return g_file_set_contents_full (path, text, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

IlCalibration *
il_calibration_load (const char  *path,
                     GError     **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (strlen (text) != len)
    {
      g_set_error (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_INVALID,
                   "%s: not a calibration file (it holds a NUL byte)", path);
      return NULL;
    }
  return calibration_from_json (text, path, error);
}

IlCalibration *
il_calibration_load_default (GError **error)
{
  g_autofree char *path = il_calibration_default_path ();

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  return il_calibration_load (path, error);
}

void
il_calibration_apply (const IlCalibration *calibration,
                      IlParams            *params)
{
  IlParams reference;

  g_return_if_fail (params != NULL);
  if (calibration == NULL)
    return;
  il_params_init_defaults (&reference);
  for (guint i = 0; i < G_N_ELEMENTS (calibrated); i++)
    {
      gint64 *field = param_field (params, &calibrated[i]);
      if (*field == *param_field (&reference, &calibrated[i]))
        *field = *param_field ((IlParams *) &calibration->params, &calibrated[i]);
    }
}

char *
il_calibration_describe (const IlCalibration *calibration)
{
  g_autofree char *day = NULL;

  if (calibration == NULL)
    return g_strdup ("reference");
  day = g_strndup (calibration->measured_at != NULL ? calibration->measured_at : "", 10);
  return g_strdup_printf ("calibrated on %s with Python %s", *day ? day : "an unknown date",
                          calibration->python_version);
}
