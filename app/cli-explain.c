/* cli-explain.c — `interleave-cli code` and `interleave-cli narrate`: the
 * code view and the narration of the window, as text
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>

#include "cli-commands.h"
#include "il-code.h"
#include "il-narrate.h"

/* Loads the scenario and simulates it in the mode the options pick. */
static int
load_and_run (const char             *command,
              const char             *path,
              const IlCliRunOptions  *run,
              IlScenario            **sc_out,
              IlTrace               **trace_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_file (path, &error);
  IlRunConfig cfg;
  guint32 modes = 0;

  if (sc == NULL)
    {
      g_printerr ("%s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!il_cli_run_options_apply (run, command, sc, &cfg, &modes))
    return IL_CLI_EXIT_BAD_INPUT;
  if (modes != IL_MODE_MASK (cfg.mode))
    {
      g_printerr ("interleave-cli %s: --mode takes one mode here, not all\n", command);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (trace_out != NULL)
    {
      *trace_out = il_simulate (sc, &cfg, &error);
      if (*trace_out == NULL)
        {
          g_printerr ("%s: %s mode: %s\n", path, il_mode_to_string (cfg.mode), error->message);
          return IL_CLI_EXIT_FAILED;
        }
    }
  sc->mode = cfg.mode;
  *sc_out = g_steal_pointer (&sc);
  return IL_CLI_EXIT_OK;
}

static gboolean
parse_ms (const char *command,
          const char *option,
          const char *text,
          gint64     *out)
{
  if (text == NULL || il_cli_parse_ms (text, out))
    return TRUE;
  g_printerr ("interleave-cli %s: %s expects a time in ms, not \"%s\"\n", command, option, text);
  return FALSE;
}

int
il_cli_code (int    argc,
             char **argv)
{
  g_auto(IlCliRunOptions) run = { 0 };
  g_autofree char *at_text = NULL;
  const GOptionEntry entries[] = {
    { "at", 't', 0, G_OPTION_ARG_STRING, &at_text, "Mark the line each task is on at this time", "MS" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("FILE — the Python a scenario stands for");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(IlTrace) trace = NULL;
  g_autoptr(IlCode) code = NULL;
  g_autofree gint *at = NULL;
  gint64 t = -1;
  int status;

  il_cli_run_options_add (ctx, &run, FALSE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Prints each task as the Python it models, in the mode it runs in. With "
                                     "--at, marks the line every task is on at that moment of the run.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("interleave-cli code: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (argc != 2)
    {
      g_printerr ("interleave-cli code: expected one scenario FILE (see --help)\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!parse_ms ("code", "--at", at_text, &t))
    return IL_CLI_EXIT_BAD_INPUT;
  status = load_and_run ("code", argv[1], &run, &sc, at_text != NULL ? &trace : NULL);
  if (status != IL_CLI_EXIT_OK)
    return status;

  code = il_code_new (sc, sc->mode);
  if (trace != NULL)
    {
      at = g_new (gint, MAX (1, sc->n_tasks));
      il_code_lines_at (code, trace, t, at);
    }
  for (guint i = 0; i < il_code_get_n_lines (code); i++)
    {
      const IlCodeLine *l = il_code_get_line (code, i);
      g_autoptr(GString) here = g_string_new (NULL);

      for (guint32 k = 0; at != NULL && k < sc->n_tasks; k++)
        if (at[k] == (gint) i)
          g_string_append_printf (here, "%s%s", here->len ? ", " : "", sc->tasks[k].name);
      if (at != NULL && (here->len || *l->text != '\0'))
        fputs (here->len ? "> " : "  ", stdout);
      for (guint k = 0; *l->text != '\0' && k < l->indent; k++)
        fputs ("    ", stdout);
      fputs (l->text, stdout);
      if (here->len)
        printf ("    # <- %s", here->str);
      fputc ('\n', stdout);
    }
  return IL_CLI_EXIT_OK;
}

int
il_cli_narrate (int    argc,
                char **argv)
{
  g_auto(IlCliRunOptions) run = { 0 };
  g_autofree char *from_text = NULL;
  int steps = 20;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from_text, "Start after this time (default: the beginning)", "MS" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, "How many steps to tell (default 20)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("FILE — what happens, step by step, in words");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(IlTrace) trace = NULL;
  gint64 t = -1;
  int status;

  il_cli_run_options_add (ctx, &run, FALSE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Tells the run one scheduling step at a time, as the window's . key does: "
                                     "the time, the range the window would zoom to, and what happened.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("interleave-cli narrate: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (argc != 2)
    {
      g_printerr ("interleave-cli narrate: expected one scenario FILE (see --help)\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (steps < 1 || steps > 1000000)
    {
      g_printerr ("interleave-cli narrate: --steps must be from 1 to 1000000\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!parse_ms ("narrate", "--from", from_text, &t))
    return IL_CLI_EXIT_BAD_INPUT;
  status = load_and_run ("narrate", argv[1], &run, &sc, &trace);
  if (status != IL_CLI_EXIT_OK)
    return status;

  for (int i = 0; i < steps; i++)
    {
      g_auto(IlNarration) n = { 0 };

      if (!il_narrate_step (trace, t, FALSE, &n))
        break;
      printf ("%10.3f ms  [%.3f … %.3f]  %s\n", il_time_to_ms (n.time), il_time_to_ms (n.zoom_start),
              il_time_to_ms (n.zoom_end), n.text);
      t = n.time;
    }
  return IL_CLI_EXIT_OK;
}
