/* cli-calibrate.c — interleave-cli calibrate, and the parameters every run uses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `calibrate` measures this machine with a real CPython and keeps the
 * numbers in the user's configuration; simulate, render and record then use
 * them in place of the reference values unless given --reference.  A broken
 * calibration file is reported and ignored, never fatal: the reference
 * values still make a good simulation.
 */
#include <stdio.h>

#include "cli-commands.h"
#include "il-calibration.h"
#include "il-time.h"

static char *params_source;

const char *
il_cli_params_source (void)
{
  return params_source != NULL ? params_source : "reference";
}

void
il_cli_params_apply (IlRunConfig *config,
                     gboolean     reference)
{
  static gboolean loaded;
  static IlCalibration *calibration;

  if (!loaded && !reference)
    {
      g_autoptr(GError) error = NULL;

      loaded = TRUE;
      calibration = il_calibration_load_default (&error);
      if (error != NULL)
        g_printerr ("interleave-cli: ignoring the calibration: %s; using the reference parameters "
                    "(run 'interleave-cli calibrate' again)\n", error->message);
    }
  g_clear_pointer (&params_source, g_free);
  if (reference || calibration == NULL)
    return;
  il_calibration_apply (calibration, &config->params);
  params_source = il_calibration_describe (calibration);
}

static void
print_text (const IlCalibration *cal,
            const char          *path)
{
  const IlCalibratedParam *ps;
  IlParams reference;
  guint n = 0;

  il_params_init_defaults (&reference);
  ps = il_calibration_params (&n);
  printf ("Measured with Python %s (%s), %u cores, %s\n\n", cal->python_version, cal->python_path,
          cal->cores, cal->measured_at);
  printf ("%-19s %12s %12s  %s\n", "parameter", "reference", "measured", "how");
  for (guint i = 0; i < n; i++)
    {
      gint64 ref = *(const gint64 *) (gconstpointer) ((const guint8 *) &reference + ps[i].offset);
      gint64 val = *(const gint64 *) (gconstpointer) ((const guint8 *) &cal->params + ps[i].offset);
      printf ("%-19s %9.3f ms %9.3f ms  %s\n", ps[i].name, il_time_to_ms (ref), il_time_to_ms (val), ps[i].what);
    }
  if (path != NULL)
    printf ("\nSaved to %s: simulate, render and record use these values (--reference for the "
            "built-in ones).\n", path);
}

int
il_cli_calibrate (int    argc,
                  char **argv)
{
  g_autofree char *python = NULL;
  g_autofree char *output = NULL;
  g_autofree char *path = NULL;
  double budget = 5.0;
  gboolean json = FALSE;
  gboolean dry = FALSE;
  const GOptionEntry entries[] = {
    { "python", 'p', 0, G_OPTION_ARG_FILENAME, &python, "The Python interpreter to measure (default: python3)",
      "PATH" },
    { "budget", 'b', 0, G_OPTION_ARG_DOUBLE, &budget, "About how many seconds the probes may take (default 5)",
      "SECONDS" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Where to keep the result (default: the user's configuration)", "FILE" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry, "Measure and print, but keep nothing", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the calibration as JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— measure this machine with a real CPython");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlCalibration) cal = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Runs short probes with a real CPython (wake-up latency, timer slack, "
                                     "thread and pool costs, asyncio's loop, process start per start method) "
                                     "and keeps the measured parameters; later simulations use them.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("interleave-cli calibrate: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (argc != 1)
    {
      g_printerr ("interleave-cli calibrate: takes no FILE (see --help)\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!(budget >= 0 && budget <= 600))
    {
      g_printerr ("interleave-cli calibrate: --budget takes seconds from 0 to 600\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }

  cal = il_calibration_measure (python != NULL ? python : "python3", budget, NULL, &error);
  if (cal == NULL)
    {
      g_printerr ("interleave-cli calibrate: %s\n", error->message);
      return g_error_matches (error, IL_CALIBRATION_ERROR, IL_CALIBRATION_ERROR_PROBE)
             && python != NULL && !g_file_test (python, G_FILE_TEST_IS_EXECUTABLE)
             ? IL_CLI_EXIT_BAD_INPUT : IL_CLI_EXIT_FAILED;
    }
  if (!dry)
    {
      path = output != NULL ? g_strdup (output) : il_calibration_default_path ();
      if (!il_calibration_save (cal, path, &error))
        {
          g_printerr ("interleave-cli calibrate: %s\n", error->message);
          return IL_CLI_EXIT_FAILED;
        }
    }
  if (json)
    {
      g_autofree char *text = il_calibration_to_json (cal);
      printf ("%s\n", text);
    }
  else
    print_text (cal, path);
  return IL_CLI_EXIT_OK;
}
