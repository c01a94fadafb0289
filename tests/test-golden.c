/* test-golden.c — golden traces: the exact event sequence of small scenarios
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every tests/golden/NAME.json is simulated in each mode its "modes" lists,
 * and the trace is dumped as text (one line per lane, then one line per
 * event: time in ns, lane, kind, value, aux, arg — decoded where the column
 * names a state, a cause or a lane) and compared byte for byte with
 * tests/golden/NAME.MODE.trace.  A change to the model, intended or not,
 * shows up as a readable diff of the first lines that differ.
 *
 * After an intended model change, regenerate the files and review the diff
 * before committing it:
 *
 *   IL_GOLDEN_UPDATE=1 meson test -C build test-golden
 *   git diff tests/golden
 *
 * A mismatch also leaves the produced dump next to the test binary
 * (build/tests/golden-out/NAME.MODE.trace) for `diff -u`.
 */
#include <string.h>

#include "il-engine.h"

static const char *const event_kinds[IL_N_EVENT_KINDS] = {
  [IL_EVENT_STATE] = "state",
  [IL_EVENT_CORE] = "core",
  [IL_EVENT_GIL_TAKE] = "gil-take",
  [IL_EVENT_GIL_DROP] = "gil-drop",
  [IL_EVENT_GIL_REQUEST] = "gil-request",
  [IL_EVENT_GIL_WAITERS] = "gil-waiters",
  [IL_EVENT_LOOP_ITER] = "loop-iter",
  [IL_EVENT_LOOP_SELECT] = "loop-select",
  [IL_EVENT_LOOP_SELECT_END] = "loop-select-end",
  [IL_EVENT_LOOP_CALLBACK] = "loop-callback",
  [IL_EVENT_LOOP_CALLBACK_END] = "loop-callback-end",
  [IL_EVENT_MARK] = "mark",
  [IL_EVENT_SLICE_BEGIN] = "slice-begin",
  [IL_EVENT_SLICE_END] = "slice-end",
  [IL_EVENT_INSTANT] = "instant",
  [IL_EVENT_COUNTER] = "counter",
  [IL_EVENT_FLOW] = "flow",
  [IL_EVENT_STEP] = "step",
  [IL_EVENT_QUEUE] = "queue",
};

/* The arg column holds a lane for these kinds. */
static gboolean
arg_is_lane (IlEventKind kind)
{
  switch (kind)
    {
    case IL_EVENT_STATE:
    case IL_EVENT_CORE:
    case IL_EVENT_GIL_TAKE:
    case IL_EVENT_GIL_DROP:
    case IL_EVENT_GIL_REQUEST:
    case IL_EVENT_LOOP_CALLBACK:
    case IL_EVENT_LOOP_CALLBACK_END:
    case IL_EVENT_MARK:
    case IL_EVENT_QUEUE:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
append_lane (GString       *out,
             const IlTrace *trace,
             guint32        lane)
{
  if (lane == IL_NO_LANE)
    g_string_append (out, "-");
  else if (lane < il_trace_get_n_lanes (trace))
    g_string_append_printf (out, "[%s]", il_trace_get_lane (trace, lane)->name);
  else
    g_string_append_printf (out, "#%u", lane);
}

static char *
dump_trace (const IlTrace *trace,
            const char    *name,
            IlMode         mode)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "# golden trace of %s in mode %s\n", name, il_mode_to_string (mode));
  g_string_append_printf (out, "lanes %u\n", il_trace_get_n_lanes (trace));
  for (guint32 l = 0; l < il_trace_get_n_lanes (trace); l++)
    {
      const IlLane *lane = il_trace_get_lane (trace, l);

      g_string_append_printf (out, "lane %u %s index %u parent ", l, il_lane_kind_to_string (lane->kind),
                              lane->index);
      append_lane (out, trace, lane->parent);
      g_string_append_printf (out, " [%s]\n", lane->name);
    }
  g_string_append_printf (out, "events %zu end %" G_GINT64_FORMAT " finished %d\n",
                          trace->n_events, trace->end_time, trace->finished ? 1 : 0);
  for (gsize i = 0; i < trace->n_events; i++)
    {
      IlEventKind kind = trace->kind[i];

      g_string_append_printf (out, "%" G_GINT64_FORMAT " ", trace->time[i]);
      append_lane (out, trace, il_trace_event_lane (trace, i));
      g_string_append_printf (out, " %s ", kind < IL_N_EVENT_KINDS ? event_kinds[kind] : "?");
      if (kind == IL_EVENT_STATE)
        g_string_append_printf (out, "%s (%s)", il_state_to_nick (trace->value[i]),
                                il_cause_to_string (trace->aux[i]));
      else
        g_string_append_printf (out, "%u %u", trace->value[i], trace->aux[i]);
      g_string_append_c (out, ' ');
      if (arg_is_lane (kind))
        append_lane (out, trace, trace->arg[i]);
      else
        g_string_append_printf (out, "%u", trace->arg[i]);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

/* Prints the first difference with a few lines of context on each side. */
static void
print_diff (const char *expected_path,
            const char *expected,
            const char *actual)
{
  g_auto(GStrv) exp = g_strsplit (expected, "\n", -1);
  g_auto(GStrv) act = g_strsplit (actual, "\n", -1);
  guint ne = g_strv_length (exp), na = g_strv_length (act), first = 0;
  guint shown = 0;

  while (first < ne && first < na && strcmp (exp[first], act[first]) == 0)
    first++;
  g_printerr ("--- %s (expected, %u lines)\n+++ produced (%u lines)\n", expected_path, ne, na);
  g_printerr ("@@ first difference at line %u @@\n", first + 1);
  for (guint i = first >= 3 ? first - 3 : 0; i < first; i++)
    g_printerr ("  %s\n", exp[i]);
  for (guint i = first; i < ne && shown < 12; i++, shown++)
    g_printerr ("- %s\n", exp[i]);
  shown = 0;
  for (guint i = first; i < na && shown < 12; i++, shown++)
    g_printerr ("+ %s\n", act[i]);
}

typedef struct {
  char  *json;     /* path of the scenario */
  char  *name;     /* its base name without .json */
  IlMode mode;
} GoldenCase;

static void
golden_case_free (gpointer data)
{
  GoldenCase *gc = data;

  g_free (gc->json);
  g_free (gc->name);
  g_free (gc);
}

static void
test_golden (gconstpointer data)
{
  const GoldenCase *gc = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_file (gc->json, &error);
  g_autoptr(IlTrace) trace = NULL;
  g_autofree char *dump = NULL;
  g_autofree char *file = g_strdup_printf ("%s.%s.trace", gc->name, il_mode_to_string (gc->mode));
  g_autofree char *expected_path = g_test_build_filename (G_TEST_DIST, "golden", file, NULL);
  g_autofree char *expected = NULL;
  IlRunConfig cfg;

  g_assert_no_error (error);
  il_run_config_from_scenario (&cfg, sc);
  cfg.mode = gc->mode;
  trace = il_simulate (sc, &cfg, &error);
  g_assert_no_error (error);
  g_assert_true (trace->finished);
  dump = dump_trace (trace, gc->name, gc->mode);

  if (g_getenv ("IL_GOLDEN_UPDATE") != NULL)
    {
      g_file_set_contents (expected_path, dump, -1, &error);
      g_assert_no_error (error);
      g_test_message ("wrote %s", expected_path);
      return;
    }

  if (!g_file_get_contents (expected_path, &expected, NULL, &error))
    {
      g_test_message ("%s; run with IL_GOLDEN_UPDATE=1 to create it", error->message);
      g_test_fail ();
      return;
    }
  if (strcmp (expected, dump) != 0)
    {
      g_autofree char *out_dir = g_test_build_filename (G_TEST_BUILT, "golden-out", NULL);
      g_autofree char *out_path = g_build_filename (out_dir, file, NULL);

      print_diff (expected_path, expected, dump);
      if (g_mkdir_with_parents (out_dir, 0755) == 0 && g_file_set_contents (out_path, dump, -1, NULL))
        g_printerr ("produced dump saved as %s\n", out_path);
      g_test_fail ();
    }
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (golden_case_free);
  g_autoptr(GError) error = NULL;
  const char *entry;
  int ret;

  g_test_init (&argc, &argv, NULL);

  dir_path = g_test_build_filename (G_TEST_DIST, "golden", NULL);
  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".json"))
      g_ptr_array_add (files, g_strdup (entry));
  g_ptr_array_sort (files, compare_names);
  g_assert_cmpuint (files->len, >, 0);

  for (guint i = 0; i < files->len; i++)
    {
      const char *base = g_ptr_array_index (files, i);
      g_autofree char *json = g_build_filename (dir_path, base, NULL);
      g_autoptr(IlScenario) sc = il_scenario_load_file (json, &error);

      g_assert_no_error (error);
      for (IlMode m = 0; m < IL_N_MODES; m++)
        if (sc->modes_mask & IL_MODE_MASK (m))
          {
            GoldenCase *gc = g_new0 (GoldenCase, 1);
            g_autofree char *path = NULL;

            gc->json = g_strdup (json);
            gc->name = g_strndup (base, strlen (base) - strlen (".json"));
            gc->mode = m;
            path = g_strdup_printf ("/golden/%s/%s", gc->name, il_mode_to_string (m));
            g_ptr_array_add (cases, gc);
            g_test_add_data_func (path, gc, test_golden);
          }
    }

  ret = g_test_run ();
  return ret;
}
