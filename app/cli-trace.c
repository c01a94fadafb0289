/* cli-trace.c — `interleave-cli record`, `convert` and `info`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "il-chrome.h"
#include "il-json.h"
#include "il-engine.h"
#include "il-file-type.h"
#include "il-recording.h"
#include "il-trace-io.h"

/* Writes trace as .itrace, or as Chrome JSON for a .json name. */
static int
write_trace (const IlTrace     *trace,
             const IlRunConfig *config,
             const char        *output)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_str_has_suffix (output, ".json"))
    ok = il_chrome_export (trace, output, &error);
  else
    ok = il_trace_save (trace, config, output, &error);
  if (!ok)
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_FAILED;
    }
  return IL_CLI_EXIT_OK;
}

int
il_cli_record (int    argc,
               char **argv)
{
  g_auto(IlCliRunOptions) run = { 0 };
  g_autofree char *output = NULL;
  g_auto(GStrv) files = NULL;
  guint32 modes = 0;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Trace to write: .itrace (Interleave) or .json (Chrome Trace Event)", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "SCENARIO" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("SCENARIO -o FILE — run a scenario and save its trace");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) scenario = NULL;
  g_autoptr(IlTrace) trace = NULL;
  IlRunConfig config;

  il_cli_run_options_add (context, &run, FALSE);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "interleave-cli record: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (files == NULL || files[0] == NULL || files[1] != NULL || output == NULL)
    {
      fprintf (stderr, "interleave-cli record: expected SCENARIO -o FILE\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  scenario = il_scenario_load_file (files[0], &error);
  if (scenario == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!il_cli_run_options_apply (&run, "record", scenario, &config, &modes))
    return IL_CLI_EXIT_BAD_INPUT;
  if (modes == IL_MODE_MASK_ALL)
    {
      fprintf (stderr, "interleave-cli record: records one mode at a time; --mode all is for simulate and render\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }

  trace = il_simulate (scenario, &config, &error);
  if (trace == NULL)
    {
      fprintf (stderr, "%s: %s\n", files[0], error->message);
      return IL_CLI_EXIT_FAILED;
    }
  return write_trace (trace, &config, output);
}

/* Opens a trace file: native (with its run configuration, when `config`
 * is given) or Chrome JSON, plain or gzip (*info says what the import
 * read).  Says why on stderr and returns NULL when it cannot; an
 * import's warning is said too. */
static IlTrace *
open_trace (const char         *path,
            IlRunConfig        *config,
            gboolean           *native,
            IlChromeImportInfo *info)
{
  g_autoptr(GError) error = NULL;
  IlFileType type = il_file_type_sniff_path (path, &error);
  IlTrace *trace;

  if (error != NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return NULL;
    }
  *native = type == IL_FILE_TYPE_TRACE;
  trace = *native ? il_trace_load (path, config, NULL, NULL, NULL, &error)
                  : il_chrome_import (path, info, NULL, NULL, NULL, &error);
  if (trace == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      il_chrome_import_info_clear (info);
      return NULL;
    }
  if (info->warning != NULL)
    fprintf (stderr, "warning: %s\n", info->warning);
  return trace;
}

/* Opens a trace (native, or Chrome JSON plain or gzip) and writes it as
 * .itrace, or as Chrome JSON for a .json name: what the window's Save As
 * does, without the window. */
int
il_cli_convert (int    argc,
                char **argv)
{
  g_autofree char *output = NULL;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Trace to write: .itrace (Interleave) or .json (Chrome Trace Event)", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("TRACE -o FILE — save a trace (native or Chrome JSON) as .itrace or .json");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = NULL;
  IlChromeImportInfo info = { 0 };
  IlRunConfig config;
  gboolean native;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "interleave-cli convert: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (files == NULL || files[0] == NULL || files[1] != NULL || output == NULL)
    {
      fprintf (stderr, "interleave-cli convert: expected TRACE -o FILE\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  trace = open_trace (files[0], &config, &native, &info);
  if (trace == NULL)
    return IL_CLI_EXIT_BAD_INPUT;
  il_chrome_import_info_clear (&info);
  /* A simulated run keeps its configuration; imported and recorded
   * traces have none (no scenario), and are written without one. */
  return write_trace (trace, native && trace->scenario != NULL ? &config : NULL, output);
}

static guint
lanes_with_slices (const IlTrace *t)
{
  guint n = 0;

  for (guint32 i = 0; i < il_trace_get_n_lanes (t); i++)
    {
      const IlLaneIndex *idx = il_trace_get_lane_events (t, i);
      const guint32 *v = idx->data;
      IlLaneKind kind = il_trace_get_lane (t, i)->kind;
      if (kind != IL_LANE_THREAD && kind != IL_LANE_TASK)
        continue;
      for (guint k = 0; k < idx->len; k++)
        if (t->kind[v[k]] == IL_EVENT_SLICE_BEGIN || t->kind[v[k]] == IL_EVENT_STATE)
          {
            n++;
            break;
          }
    }
  return n;
}

static guint
count_lanes (const IlTrace *t,
             IlLaneKind     kind)
{
  guint n = 0;
  for (guint32 i = 0; i < il_trace_get_n_lanes (t); i++)
    n += il_trace_get_lane (t, i)->kind == kind;
  return n;
}

/* One line per slice with args, for info --args: where it is, its name,
 * its args as they were read (or why they cannot be). */
typedef struct {
  const IlTrace *trace;
  GString       *out;
} ArgsLines;

static gboolean
print_args_line (guint32     event,
                 const char *json,
                 gpointer    data)
{
  ArgsLines *l = data;
  const IlTrace *t = l->trace;
  const IlLane *lane = il_trace_get_lane (t, il_trace_event_lane (t, event));
  g_autofree char *flat = g_strdup (json != NULL ? json : "(not kept)");

  g_strdelimit (flat, "\n\r", ' ');
  g_string_append_printf (l->out, "  %.3f µs  %s  %s: %s\n", t->time[event] / 1e3,
                          lane->name != NULL ? lane->name : "", il_trace_get_string (t, t->arg[event]), flat);
  return TRUE;
}

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
il_cli_info (int    argc,
             char **argv)
{
  gboolean json = FALSE, show_args = FALSE;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { "args", 0, 0, G_OPTION_ARG_NONE, &show_args, "Also list every slice's args (imported traces)", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("TRACE — say what a trace file holds");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = NULL;
  IlChromeImportInfo info = { 0 };
  gboolean native = FALSE;
  guint64 slices = 0;
  guint threads, processes;
  double span_ms;
  g_autoptr(GString) skipped = g_string_new (NULL);
  g_autoptr(GString) skipped_json = g_string_new (NULL);
  g_autofree char *why = NULL;
  guint64 with_args, args_not_kept = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "interleave-cli info: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      fprintf (stderr, "interleave-cli info: expected one trace file\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }

  trace = open_trace (files[0], NULL, &native, &info);
  if (trace == NULL)
    return IL_CLI_EXIT_BAD_INPUT;

  if (native)
    {
      for (gsize i = 0; i < trace->n_events; i++)
        slices += trace->kind[i] == IL_EVENT_STATE || trace->kind[i] == IL_EVENT_SLICE_BEGIN;
      span_ms = trace->end_time / 1e6;
    }
  else
    {
      slices = info.n_slices;
      span_ms = (info.last_ts_ns - info.first_ts_ns) / 1e6;
      if (info.skipped_phases != NULL)
        {
          /* Sorted, so the output is the same from run to run. */
          g_autofree gpointer *keys = g_hash_table_get_keys_as_array (info.skipped_phases, NULL);
          guint n_keys = g_hash_table_size (info.skipped_phases);
          qsort (keys, n_keys, sizeof (gpointer), compare_keys);
          for (guint i = 0; i < n_keys; i++)
            {
              guint count = GPOINTER_TO_UINT (g_hash_table_lookup (info.skipped_phases, keys[i]));
              g_autofree char *quoted = il_json_escape (keys[i]);
              g_string_append_printf (skipped, "%s%s: %u", skipped->len ? ", " : "", (char *) keys[i], count);
              g_string_append_printf (skipped_json, "%s%s: %u", skipped_json->len ? ", " : "", quoted, count);
            }
        }
    }
  threads = lanes_with_slices (trace);
  with_args = il_chrome_slice_args_count (trace, &args_not_kept);
  processes = native ? count_lanes (trace, IL_LANE_PROCESS) : info.n_processes;
  why = native ? NULL : il_chrome_import_info_explain (&info);
  if (trace->recording != NULL)
    {
      /* A recorded program: its real threads, not lanes. */
      g_autofree char *n = il_recording_meta_get (trace, "threads");
      threads = n != NULL ? (guint) g_ascii_strtoull (n, NULL, 10) : threads;
    }

  if (json)
    {
      g_autofree char *file = il_json_escape (files[0]);
      printf ("{\n  \"file\": %s,\n  \"format\": \"%s\",\n", file, native ? "interleave" : "chrome");
      printf ("  \"slices\": %" G_GUINT64_FORMAT ",\n  \"threads\": %u,\n  \"processes\": %u,\n", slices, threads, processes);
      printf ("  \"span_ms\": %.6f,\n  \"events\": %" G_GSIZE_FORMAT ",\n", span_ms, trace->n_events);
      if (!native)
        {
          printf ("  \"compression\": %s,\n", info.gzip ? "\"gzip\"" : "null");
          printf ("  \"metadata_only_processes\": %u,\n", info.n_metadata_processes);
          printf ("  \"events_read\": %" G_GUINT64_FORMAT ",\n  \"instants\": %" G_GUINT64_FORMAT ",\n",
                  info.n_events_read, info.n_instants);
          printf ("  \"counters\": %" G_GUINT64_FORMAT ",\n  \"flows\": %" G_GUINT64_FORMAT ",\n  \"async\": %" G_GUINT64_FORMAT ",\n",
                  info.n_counters, info.n_flows, info.n_async);
          printf ("  \"unmatched\": %" G_GUINT64_FORMAT ",\n  \"truncated\": %s,\n", info.n_unmatched,
                  info.truncated ? "true" : "false");
          if (info.warning != NULL)
            {
              g_autofree char *warning = il_json_escape (info.warning);
              printf ("  \"warning\": %s,\n", warning);
            }
          printf ("  \"skipped_phases\": {%s},\n  \"skipped_reasons\": {", skipped_json->str);
          for (guint w = 0, first = 1; w < IL_CHROME_N_SKIPS; w++)
            if (info.n_skipped_why[w] > 0)
              {
                printf ("%s\"%s\": %" G_GUINT64_FORMAT, first ? "" : ", ", il_chrome_skip_to_nick (w), info.n_skipped_why[w]);
                first = 0;
              }
          printf ("},\n  \"skipped_why\": [");
          if (why != NULL)
            {
              g_auto(GStrv) lines = g_strsplit (why, "\n", -1);
              for (guint i = 0; lines[i] != NULL; i++)
                {
                  g_autofree char *line = il_json_escape (lines[i]);
                  printf ("%s%s", i ? ", " : "", line);
                }
            }
          printf ("],\n");
        }
      if (trace->recording != NULL)
        {
          /* Recordings of real programs (il-recording.h): their facts. */
          static const char *const strs[] = { "python", "program", "mode" };
          static const char *const nums[] = { "gil_switches", "loop_iterations", "tasks", "work_items", "exit_code",
                                              "switch_interval_us", "locks", "lock_waits", "lock_handoffs",
                                              "drop_requests", "file_calls", "c_calls", "queues", "queue_ops",
                                              "queue_handoffs" };
          printf ("  \"source\": \"cpython\",\n");
          for (gsize i = 0; i < G_N_ELEMENTS (strs); i++)
            {
              g_autofree char *v = il_recording_meta_get (trace, strs[i]);
              g_autofree char *quoted = il_json_escape (v);
              printf ("  \"%s\": %s,\n", strs[i], quoted);
            }
          for (gsize i = 0; i < G_N_ELEMENTS (nums); i++)
            {
              g_autofree char *v = il_recording_meta_get (trace, nums[i]);
              printf ("  \"%s\": %" G_GINT64_FORMAT ",\n", nums[i], v ? g_ascii_strtoll (v, NULL, 10) : 0);
            }
        }
      printf ("  \"slices_with_args\": %" G_GUINT64_FORMAT ",\n  \"slice_args_not_kept\": %" G_GUINT64_FORMAT ",\n",
              with_args, args_not_kept);
      printf ("  \"skipped\": %" G_GUINT64_FORMAT "\n}\n", native ? 0 : info.n_skipped);
    }
  else
    {
      printf ("%s (%s)\n", files[0], native ? "Interleave trace"
              : info.gzip ? "Chrome Trace Event JSON, gzip" : "Chrome Trace Event JSON");
      printf ("  slices:     %" G_GUINT64_FORMAT "%s\n", slices, native ? " (state intervals)" : " (X events and matched B/E pairs)");
      printf ("  threads:    %u lanes with slices\n", threads);
      printf ("  processes:  %u", processes);
      if (!native && info.n_metadata_processes > 0)
        printf (" (and %u named in metadata only, without events: not drawn)", info.n_metadata_processes);
      printf ("\n  time span:  %.3f ms\n", span_ms);
      if (trace->recording != NULL)
        {
          g_autofree char *python = il_recording_meta_get (trace, "python");
          g_autofree char *program = il_recording_meta_get (trace, "program");
          g_autofree char *sw = il_recording_meta_get (trace, "gil_switches");
          g_autofree char *iters = il_recording_meta_get (trace, "loop_iterations");
          g_autofree char *tasks = il_recording_meta_get (trace, "tasks");
          printf ("  recorded:   %s with CPython %s: %s GIL switches, %s loop iterations, %s asyncio tasks\n",
                  program ? program : "a program", python ? python : "?", sw ? sw : "0", iters ? iters : "0",
                  tasks ? tasks : "0");
        }
      if (!native)
        {
          printf ("  also:       %" G_GUINT64_FORMAT " instants, %" G_GUINT64_FORMAT " counter samples, %" G_GUINT64_FORMAT " flow events, %" G_GUINT64_FORMAT " async events\n",
                  info.n_instants, info.n_counters, info.n_flows, info.n_async);
          if (info.n_skipped > 0)
            {
              g_auto(GStrv) lines = g_strsplit (why, "\n", -1);
              printf ("  skipped:    %" G_GUINT64_FORMAT " events not shown (%s)\n", info.n_skipped, skipped->str);
              for (guint i = 0; lines[i] != NULL; i++)
                printf ("              %s\n", lines[i]);
            }
          if (info.n_unmatched > 0)
            printf ("  unmatched:  %" G_GUINT64_FORMAT " begin/end events without a partner\n", info.n_unmatched);
        }
      if (with_args > 0)
        {
          printf ("  args:       %" G_GUINT64_FORMAT " slices carry args", with_args);
          if (args_not_kept > 0)
            printf (" (those of %" G_GUINT64_FORMAT " were not kept)", args_not_kept);
          printf ("\n");
        }
      if (show_args && with_args > 0)
        {
          g_autoptr(GString) out = g_string_new (NULL);
          ArgsLines lines = { trace, out };
          il_chrome_slice_args_foreach (trace, print_args_line, &lines);
          fputs (out->str, stdout);
        }
    }
  il_chrome_import_info_clear (&info);
  return IL_CLI_EXIT_OK;
}
