/* interleave-cli.c — headless Interleave: simulate, compare, record, inspect
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The text output is for people; the --json output is a contract that
 * scripts depend on: fields are only ever added.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "il-compare.h"
#include "il-engine.h"
#include "il-json.h"
#include "il-stats.h"

static const IlCliCommand commands[] = {
  { "simulate", "run a scenario in one mode or all, print a summary or JSON", il_cli_simulate },
  { "render", "draw a scenario's timeline (or every mode's) as PNG, SVG or PDF", il_cli_render },
  { "calibrate", "measure this machine with a real CPython; later runs use the numbers", il_cli_calibrate },
  { "record", "run a scenario and save its trace (.itrace, or Chrome JSON for .json)", il_cli_record },
  { "info", "say what a trace file holds (native or Chrome JSON)", il_cli_info },
  { "convert", "save a trace (native or Chrome JSON) as .itrace, or as Chrome JSON", il_cli_convert },
  { "record-python", "run a real Python program and record its GIL, threads, loop and processes", il_cli_record_python },
  { "derive", "write a scenario of the workload a recording shows", il_cli_derive },
  { "code", "print the Python a scenario stands for (and where each task is at a time)", il_cli_code },
  { "narrate", "tell a run step by step, in words", il_cli_narrate },
};

/* ------------------------------------------------------------------ */
/* simulate                                                            */

/* A tiny JSON writer: numbers are printed with up to 6 decimals (nanosecond
 * times in milliseconds), so scripts see 0.05 rather than 0.050000000000000003. */
typedef struct {
  GString *out;
  guint    depth;
  gboolean first;
} JsonOut;

static void
jo_sep (JsonOut *j)
{
  if (!j->first)
    g_string_append_c (j->out, ',');
  g_string_append_c (j->out, '\n');
  for (guint i = 0; i < j->depth; i++)
    g_string_append (j->out, "  ");
  j->first = FALSE;
}

static void
jo_key (JsonOut    *j,
        const char *key)
{
  jo_sep (j);
  if (key != NULL)
    {
      il_json_append_string (j->out, key);
      g_string_append (j->out, ": ");
    }
}

static void
jo_open (JsonOut    *j,
         const char *key,
         char        bracket)
{
  if (j->depth > 0 || key != NULL)
    jo_key (j, key);
  g_string_append_c (j->out, bracket);
  j->depth++;
  j->first = TRUE;
}

static void
jo_close (JsonOut *j,
          char     bracket)
{
  j->depth--;
  if (!j->first)
    {
      g_string_append_c (j->out, '\n');
      for (guint i = 0; i < j->depth; i++)
        g_string_append (j->out, "  ");
    }
  g_string_append_c (j->out, bracket);
  j->first = FALSE;
}

static void
jo_num (JsonOut    *j,
        const char *key,
        double      v)
{
  char buf[64];
  int len;

  jo_key (j, key);
  g_snprintf (buf, sizeof buf, "%.6f", v);
  /* Trim trailing zeros, keep at least one digit after the point. */
  len = (int) strlen (buf);
  while (len > 2 && buf[len - 1] == '0' && buf[len - 2] != '.')
    buf[--len] = '\0';
  g_string_append (j->out, buf);
}

static void
jo_int (JsonOut    *j,
        const char *key,
        gint64      v)
{
  jo_key (j, key);
  g_string_append_printf (j->out, "%" G_GINT64_FORMAT, v);
}

static void
jo_str (JsonOut    *j,
        const char *key,
        const char *v)
{
  jo_key (j, key);
  il_json_append_string (j->out, v);
}

static void
add_task_json (JsonOut           *j,
               const IlTaskStats *ts)
{
  jo_open (j, NULL, '{');
  jo_str (j, "name", ts->name);
  jo_num (j, "start_ms", ts->start >= 0 ? il_time_to_ms (ts->start) : -1);
  jo_num (j, "finish_ms", ts->finish >= 0 ? il_time_to_ms (ts->finish) : -1);
  jo_num (j, "cpu_ms", il_time_to_ms (ts->in_state[IL_STATE_RUNNING]));
  jo_num (j, "gil_wait_ms", il_time_to_ms (ts->in_state[IL_STATE_WAIT_GIL]));
  jo_num (j, "io_ms", il_time_to_ms (ts->in_state[IL_STATE_WAIT_IO]));
  jo_num (j, "sleep_ms", il_time_to_ms (ts->in_state[IL_STATE_SLEEPING]));
  jo_num (j, "ready_ms", il_time_to_ms (ts->in_state[IL_STATE_READY]));
  jo_num (j, "blocked_ms", il_time_to_ms (ts->in_state[IL_STATE_BLOCKED]));
  jo_num (j, "starting_ms", il_time_to_ms (ts->in_state[IL_STATE_STARTING]));
  jo_str (j, "outcome", ts->outcome == IL_CAUSE_FAILED ? "failed"
                        : ts->outcome == IL_CAUSE_CANCELLED ? "cancelled"
                        : ts->outcome == IL_CAUSE_RETURNED ? "returned" : "unfinished");
  jo_close (j, '}');
}

/* The members of one mode's result object. */
static void
add_mode_json (JsonOut           *j,
               const IlRunConfig *cfg,
               const IlStats     *st,
               double             speedup)
{
  guint n_params;
  const IlParamInfo *table = il_param_table (&n_params);

  jo_str (j, "mode", il_mode_to_string (cfg->mode));
  /* The configuration the command line can set, as the table names it. */
  for (guint i = 0; i < n_params; i++)
    if (table[i].flags & IL_PARAM_FLAG_CLI)
      {
        if (table[i].type == IL_PARAM_COUNT)
          jo_int (j, table[i].json_key, (gint64) il_param_get (&table[i], cfg));
        else
          jo_num (j, table[i].json_key, il_param_get (&table[i], cfg));
      }
  jo_str (j, "parameters", il_cli_params_source ());
  jo_num (j, "makespan_ms", il_time_to_ms (st->makespan));
  if (speedup > 0)
    jo_num (j, "speedup", speedup);
  jo_num (j, "utilisation", st->utilisation);
  jo_open (j, "core_utilisation", '[');
  for (guint c = 0; c < st->n_cores; c++)
    jo_num (j, NULL, st->makespan > 0 ? (double) st->core_busy[c] / (double) st->makespan : 0.0);
  jo_close (j, ']');
  jo_int (j, "gil_switches", (gint64) st->gil_switches);
  jo_int (j, "drop_requests", (gint64) st->drop_requests);
  jo_int (j, "forced_switches", (gint64) st->forced_switches);
  jo_int (j, "loop_iterations", (gint64) st->loop_iterations);
  jo_num (j, "total_gil_wait_ms", il_time_to_ms (st->total_gil_wait));
  jo_num (j, "threads_gil_wait_ms", il_time_to_ms (st->threads_gil_wait));
  jo_open (j, "tasks", '[');
  for (guint i = 0; i < st->n_tasks; i++)
    add_task_json (j, &st->tasks[i]);
  jo_close (j, ']');
}

static void
print_mode_text (const IlScenario  *sc,
                 const IlRunConfig *cfg,
                 const IlStats     *st)
{
  guint width = 4;

  printf ("%s — %s, %u core%s, switch interval %.3g ms", sc->title, il_mode_to_label (cfg->mode),
          cfg->cores, cfg->cores == 1 ? "" : "s", il_time_to_ms (cfg->switch_interval));
  if (cfg->workers)
    printf (", %u workers", cfg->workers);
  printf ("\nparameters: %s\n", il_cli_params_source ());
  printf ("makespan: %.3f ms\n\n", il_time_to_ms (st->makespan));

  for (guint i = 0; i < st->n_tasks; i++)
    width = MAX (width, (guint) g_utf8_strlen (st->tasks[i].name, -1));
  width = MIN (width, 40);
  printf ("%-*s %10s %10s %10s %10s %10s %10s %10s %10s  %s\n", width, "task", "start", "finish", "cpu",
          "gil wait", "i/o", "sleep", "ready", "blocked", "outcome");
  for (guint i = 0; i < st->n_tasks; i++)
    {
      const IlTaskStats *ts = &st->tasks[i];
      printf ("%-*.*s %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f  %s\n", width, width, ts->name,
              il_time_to_ms (ts->start), il_time_to_ms (ts->finish),
              il_time_to_ms (ts->in_state[IL_STATE_RUNNING]), il_time_to_ms (ts->in_state[IL_STATE_WAIT_GIL]),
              il_time_to_ms (ts->in_state[IL_STATE_WAIT_IO]), il_time_to_ms (ts->in_state[IL_STATE_SLEEPING]),
              il_time_to_ms (ts->in_state[IL_STATE_READY]), il_time_to_ms (ts->in_state[IL_STATE_BLOCKED]),
              il_cause_to_string (ts->outcome));
    }
  printf ("%*s (all times in ms)\n\n", width, "");
  printf ("GIL switches %" G_GUINT64_FORMAT ", drop requests %" G_GUINT64_FORMAT ", forced switches %" G_GUINT64_FORMAT
          ", total GIL wait %.3f ms, loop iterations %" G_GUINT64_FORMAT "\n",
          st->gil_switches, st->drop_requests, st->forced_switches, il_time_to_ms (st->total_gil_wait),
          st->loop_iterations);
  printf ("core utilisation:");
  for (guint c = 0; c < st->n_cores; c++)
    printf (" core %u %.1f%%", c, st->makespan > 0 ? 100.0 * (double) st->core_busy[c] / (double) st->makespan : 0.0);
  printf (" (overall %.1f%%)\n", 100.0 * st->utilisation);
}

void
il_cli_run_options_add (GOptionContext  *context,
                        IlCliRunOptions *o,
                        gboolean         allow_all)
{
  GOptionEntry entries[IL_N_PARAMS + 3] = { { NULL } };
  guint n_params, n = 0;
  const IlParamInfo *table = il_param_table (&n_params);

  o->help = g_ptr_array_new_with_free_func (g_free);
  entries[n++] = (GOptionEntry) {
    "mode", 'm', 0, G_OPTION_ARG_STRING, &o->mode,
    allow_all ? "Mode: sequential, asyncio, threads, free-threading, processes, or all"
              : "Mode: sequential, asyncio, threads, free-threading or processes", "MODE" };
  for (guint i = 0; i < n_params; i++)
    {
      const IlParamInfo *p = &table[i];
      char *help;

      if (!(p->flags & IL_PARAM_FLAG_CLI))
        continue;
      help = g_strdup_printf ("%s (%g–%g%s)", p->description, p->min, p->max,
                              p->type == IL_PARAM_TIME ? " ms" : "");
      g_ptr_array_add (o->help, help);
      entries[n++] = (GOptionEntry) { p->cli_option, p->cli_short, 0, G_OPTION_ARG_STRING, &o->values[i], help,
                                      p->type == IL_PARAM_TIME ? "MS" : "N" };
    }
  entries[n++] = (GOptionEntry) {
    "param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &o->params,
    "Any model parameter as a scenario names it, e.g. os_slice_ms=1 or start_method=spawn (repeatable)",
    "KEY=VALUE" };
  entries[n++] = (GOptionEntry) {
    "reference", 0, 0, G_OPTION_ARG_NONE, &o->reference, "Built-in parameters, not the calibration", NULL };
  g_option_context_add_main_entries (context, entries, NULL);
}

/* A value as written on the command line, for one table entry. */
static gboolean
parse_param_value (const IlParamInfo *p,
                   const char        *text,
                   double            *out)
{
  char *end = NULL;

  if (p->type == IL_PARAM_CHOICE)
    {
      const char * const *names = il_param_choices (p);
      for (guint i = 0; names[i] != NULL; i++)
        if (g_str_equal (text, names[i]))
          {
            *out = i;
            return TRUE;
          }
      *out = NAN;   /* il_param_check () says which names it takes */
      return TRUE;
    }
  if (p->type == IL_PARAM_COUNT)
    {
      guint64 n = 0;
      if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &n, NULL))
        return FALSE;
      *out = (double) n;
      return TRUE;
    }
  *out = g_ascii_strtod (text, &end);
  return end != text && *end == '\0';
}

gboolean
il_cli_run_options_apply (const IlCliRunOptions *o,
                          const char            *command,
                          const IlScenario      *scenario,
                          IlRunConfig           *base,
                          guint32               *modes)
{
  g_autoptr(GError) error = NULL;
  guint n_params;
  const IlParamInfo *table = il_param_table (&n_params);
  IlMode only;

  il_run_config_from_scenario (base, scenario);
  il_cli_params_apply (base, o->reference);
  *modes = IL_MODE_MASK (base->mode);
  if (o->mode != NULL)
    {
      if (g_str_equal (o->mode, "all") && modes != NULL)
        *modes = IL_MODE_MASK_ALL;
      else if (il_mode_from_string (o->mode, &only))
        {
          *modes = IL_MODE_MASK (only);
          base->mode = only;
        }
      else
        {
          g_printerr ("interleave-cli %s: unknown mode \"%s\": expected sequential, asyncio, threads, "
                      "free-threading, processes or all\n", command, o->mode);
          return FALSE;
        }
    }
  for (guint i = 0; i < n_params; i++)
    {
      const IlParamInfo *p = &table[i];
      const char *text = o->values[i];
      double v;
      gboolean ok;

      if (text == NULL)
        continue;
      if (p->type == IL_PARAM_COUNT)
        {
          guint64 n = 0;
          ok = g_ascii_string_to_unsigned (text, 10, (guint64) p->min, (guint64) p->max, &n, NULL);
          v = (double) n;
        }
      else
        {
          char *end = NULL;
          v = g_ascii_strtod (text, &end);
          ok = end != text && *end == '\0';
        }
      if (!ok || !il_param_check (p, v, NULL))
        {
          g_printerr ("interleave-cli %s: --%s takes %s from %g to %g, not \"%s\"\n", command, p->cli_option,
                      p->type == IL_PARAM_TIME ? "milliseconds" : "a whole number", p->min, p->max, text);
          return FALSE;
        }
      il_param_set (p, base, v);
    }
  for (guint i = 0; o->params != NULL && o->params[i] != NULL; i++)
    {
      g_autofree char *key = g_strdup (o->params[i]);
      char *eq = strchr (key, '=');
      const IlParamInfo *p = NULL;
      g_autoptr(GError) local = NULL;
      double v = 0;

      if (eq != NULL)
        {
          *eq = '\0';
          p = il_param_find (key);
        }
      if (p == NULL || !g_str_equal (key, p->json_key))
        {
          g_autoptr(GString) keys = g_string_new (NULL);
          for (guint k = 0; k < n_params; k++)
            g_string_append_printf (keys, "%s%s", k ? ", " : "", table[k].json_key);
          g_printerr ("interleave-cli %s: --param \"%s\": expected KEY=VALUE with KEY one of %s\n",
                      command, o->params[i], keys->str);
          return FALSE;
        }
      if (!parse_param_value (p, eq + 1, &v))
        {
          g_printerr ("interleave-cli %s: --param %s: \"%s\" is not a %snumber\n", command, o->params[i], eq + 1,
                      p->type == IL_PARAM_COUNT ? "whole " : "");
          return FALSE;
        }
      if (!il_param_check (p, v, &local))
        {
          g_printerr ("interleave-cli %s: --param %s: %s\n", command, o->params[i], local->message);
          return FALSE;
        }
      il_param_set (p, base, v);
    }
  /* The scenario's own values passed the same checks when it was read;
   * this is the validator every configuration passes. */
  if (!il_run_config_validate (base, IL_PARAM_KEYS_CLI, &error))
    {
      g_printerr ("interleave-cli %s: %s\n", command, error->message);
      return FALSE;
    }
  return TRUE;
}

void
il_cli_run_options_clear (IlCliRunOptions *o)
{
  g_clear_pointer (&o->mode, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (o->values); i++)
    g_clear_pointer (&o->values[i], g_free);
  g_clear_pointer (&o->help, g_ptr_array_unref);
  g_clear_pointer (&o->params, g_strfreev);
}

int
il_cli_simulate (int    argc,
                 char **argv)
{
  g_auto(IlCliRunOptions) run = { 0 };
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print one JSON object instead of text", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("FILE — simulate a scenario");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(IlComparison) cmp = NULL;
  IlRunConfig base;
  gboolean all = FALSE;
  gboolean failed = FALSE;
  IlMode only = IL_MODE_THREADS;
  IlStats **stats;
  guint32 modes = 0;

  il_cli_run_options_add (ctx, &run, TRUE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Runs the scenario in virtual time and prints the makespan, each task's "
                                     "start, finish, CPU and waiting times, GIL switches and core utilisation.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("interleave-cli simulate: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (argc != 2)
    {
      g_printerr ("interleave-cli simulate: expected one scenario FILE (see --help)\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }

  sc = il_scenario_load_file (argv[1], &error);
  if (sc == NULL)
    {
      g_printerr ("%s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }

  if (!il_cli_run_options_apply (&run, "simulate", sc, &base, &modes))
    return IL_CLI_EXIT_BAD_INPUT;
  all = modes == IL_MODE_MASK_ALL;
  only = base.mode;

  /* One mode or all of them, on threads of their own. */
  cmp = il_compare_run (sc, &base, modes, NULL, &error);
  if (cmp == NULL)
    {
      g_printerr ("%s: %s\n", argv[1], error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  /* One mode alone must run; with every mode, a mode that fails (a
   * deadlock that only sequential code hits, say) is reported in its row
   * and the others still print, with exit status 1. */
  if (!il_comparison_check (cmp, &error))
    {
      g_printerr ("%s: %s\n", argv[1], error->message);
      if (!all)
        return IL_CLI_EXIT_FAILED;
      failed = TRUE;
    }
  stats = cmp->stats;

  if (json)
    {
      JsonOut j = { g_string_new (NULL), 0, TRUE };

      jo_open (&j, NULL, '{');
      jo_str (&j, "scenario", sc->title);
      if (all)
        {
          jo_open (&j, "modes", '{');
          for (guint m = 0; m < IL_N_MODES; m++)
            {
              jo_open (&j, il_mode_to_string (m), '{');
              if (cmp->errors[m] != NULL)
                {
                  jo_str (&j, "mode", il_mode_to_string (m));
                  jo_str (&j, "error", cmp->errors[m]->message);
                }
              else
                add_mode_json (&j, &cmp->configs[m], stats[m], il_comparison_speedup (cmp, m));
              jo_close (&j, '}');
            }
          jo_close (&j, '}');
        }
      else
        add_mode_json (&j, &cmp->configs[only], stats[only], -1);
      jo_close (&j, '}');
      printf ("%s\n", j.out->str);
      g_string_free (j.out, TRUE);
    }
  else if (all)
    {
      printf ("%s — every mode, %u core%s, workers %u, switch interval %.3g ms\n\n", sc->title, base.cores,
              base.cores == 1 ? "" : "s", base.workers, il_time_to_ms (base.switch_interval));
      printf ("%-15s %12s %9s %12s %13s %14s %11s\n", "mode", "makespan ms", "speed-up", "utilisation",
              "GIL switches", "GIL wait ms", "loop iters");
      for (guint m = 0; m < IL_N_MODES; m++)
        {
          double speedup = il_comparison_speedup (cmp, m);
          g_autofree char *speedup_text = speedup > 0 ? g_strdup_printf ("%.2f×", speedup) : g_strdup ("—");

          if (cmp->errors[m] != NULL)
            {
              printf ("%-15s failed: %s\n", il_mode_to_string (m), cmp->errors[m]->message);
              continue;
            }
          /* printf pads bytes, not characters: "×" and "—" are wider in bytes. */
          printf ("%-15s %12.3f %*s %11.1f%% %13" G_GUINT64_FORMAT " %14.3f %11" G_GUINT64_FORMAT "\n",
                  il_mode_to_string (m), il_time_to_ms (stats[m]->makespan),
                  9 + (int) (strlen (speedup_text) - g_utf8_strlen (speedup_text, -1)), speedup_text,
                  100.0 * stats[m]->utilisation, stats[m]->gil_switches,
                  il_time_to_ms (stats[m]->total_gil_wait), stats[m]->loop_iterations);
        }
    }
  else
    print_mode_text (sc, &cmp->configs[only], stats[only]);

  return failed ? IL_CLI_EXIT_FAILED : IL_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */

static void
usage (FILE *out)
{
  fprintf (out, "Usage: interleave-cli COMMAND [OPTIONS…]\n\nSee how Python runs concurrent work, headless.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'interleave-cli COMMAND --help' for its options.\n"
                "Exit status: 0 success, 1 the run failed, 2 bad input.\n");
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  /* Numbers are printed for scripts: always with a '.' decimal point. */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    {
      usage (stderr);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return IL_CLI_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("interleave-cli %s\n", PACKAGE_VERSION);
      return IL_CLI_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        /* The subcommand sees itself as argv[0], e.g. "simulate". */
        return commands[i].run (argc - 1, argv + 1);
      }

  g_printerr ("interleave-cli: unknown command \"%s\"\n\n", argv[1]);
  usage (stderr);
  return IL_CLI_EXIT_BAD_INPUT;
}
