/* cli-derive.c — `interleave-cli derive`: a scenario of a recorded workload
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "il-derive.h"
#include "il-engine.h"
#include "il-stats.h"
#include "il-trace-io.h"

static void
print_run (const char    *key,
           const IlStats *st,
           gboolean       last)
{
  printf ("  \"%s\": {\n    \"makespan_ms\": %.3f,\n    \"gil_switches\": %" G_GUINT64_FORMAT ",\n    \"tasks\": [",
          key, st->makespan / 1e6, st->gil_switches);
  for (guint i = 0; i < st->n_tasks; i++)
    {
      const IlTaskStats *ts = &st->tasks[i];
      printf ("%s\n      {\"name\": \"", i ? "," : "");
      for (const char *p = ts->name; *p; p++)
        {
          if (*p == '"' || *p == '\\')
            putchar ('\\');
          if ((unsigned char) *p >= 0x20)
            putchar (*p);
        }
      printf ("\", \"start_ms\": %.3f, \"finish_ms\": %.3f}", ts->start / 1e6, ts->finish / 1e6);
    }
  printf ("\n    ]\n  }%s\n", last ? "" : ",");
}

/* Simulates the derived scenario in the program's mode and prints both
 * runs: how well the scenario reproduces what was recorded. */
static int
print_check (const IlTrace *trace,
             const char    *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_data (json, -1, "derived scenario", &error);
  g_autoptr(IlTrace) sim = NULL;
  g_autoptr(IlStats) rec_st = NULL;
  g_autoptr(IlStats) sim_st = NULL;
  IlRunConfig config;
  double worst = 0;

  if (sc == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_FAILED;
    }
  il_run_config_from_scenario (&config, sc);
  sim = il_simulate (sc, &config, &error);
  if (sim == NULL)
    {
      fprintf (stderr, "derived scenario: %s\n", error->message);
      return IL_CLI_EXIT_FAILED;
    }
  rec_st = il_stats_compute (trace, trace->end_time);
  sim_st = il_stats_compute (sim, sim->end_time);
  /* Error of each simulated task's finish against the recorded task of the
   * same name, relative to the recorded makespan. */
  for (guint i = 0; i < sim_st->n_tasks; i++)
    for (guint j = 0; j < rec_st->n_tasks; j++)
      if (g_str_equal (sim_st->tasks[i].name, rec_st->tasks[j].name) && rec_st->makespan > 0)
        worst = MAX (worst, ABS ((double) (sim_st->tasks[i].finish - rec_st->tasks[j].finish))
                            / (double) rec_st->makespan);
  printf ("{\n  \"mode\": \"%s\",\n", il_mode_to_string (sc->mode));
  print_run ("recorded", rec_st, FALSE);
  print_run ("simulated", sim_st, FALSE);
  printf ("  \"makespan_error\": %.4f,\n  \"worst_finish_error\": %.4f\n}\n",
          rec_st->makespan > 0 ? ABS ((double) (sim_st->makespan - rec_st->makespan)) / (double) rec_st->makespan : 0.0,
          worst);
  return IL_CLI_EXIT_OK;
}

int
il_cli_derive (int    argc,
               char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *title = NULL;
  gboolean json_out = FALSE;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Scenario to write (JSON); - for stdout", "FILE" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Title of the scenario", "TEXT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json_out, "Simulate the scenario in the program's mode and print both runs as JSON", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "RECORDING" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new ("RECORDING -o SCENARIO.json — write a scenario of the workload a recording shows");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = NULL;
  g_autofree char *json = NULL;
  g_autofree char *tmp = NULL;
  FILE *f;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "interleave-cli derive: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (files == NULL || files[0] == NULL || files[1] != NULL || output == NULL)
    {
      fprintf (stderr, "interleave-cli derive: expected RECORDING -o SCENARIO.json\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  trace = il_trace_load (files[0], NULL, NULL, NULL, NULL, &error);
  if (trace == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  json = il_derive_scenario_json (trace, title, &error);
  if (json == NULL)
    {
      fprintf (stderr, "%s: %s\n", files[0], error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (strcmp (output, "-") == 0)
    {
      fputs (json, stdout);
      return json_out ? print_check (trace, json) : IL_CLI_EXIT_OK;
    }
  f = il_atomic_file_begin (output, &tmp, &error);
  if (f == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_FAILED;
    }
  if (!il_atomic_file_commit (f, g_steal_pointer (&tmp), output, fputs (json, f) < 0, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_FAILED;
    }
  return json_out ? print_check (trace, json) : IL_CLI_EXIT_OK;
}
