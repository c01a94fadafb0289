/* cli-render.c — `interleave-cli render`: a timeline image for slides
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <gio/gio.h>

#include "cli-commands.h"
#include "il-compare.h"
#include "il-engine.h"
#include "il-export.h"
#include "il-stats.h"

gboolean
il_cli_parse_ms (const char *text,
                 gint64     *out)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);

  if (end == text || *end != '\0' || !(v >= 0) || v > 86400000.0)
    return FALSE;
  *out = (gint64) (v * IL_NSEC_PER_MSEC);
  return TRUE;
}

int
il_cli_render (int    argc,
               char **argv)
{
  g_auto(IlCliRunOptions) run = { 0 };
  g_autofree char *output = NULL, *from_text = NULL, *to_text = NULL;
  g_autofree char *theme_text = NULL, *title = NULL;
  g_auto(GStrv) files = NULL;
  int width = 1600, height = 0;
  double scale = 1;
  gboolean no_legend = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Image to write (.png, .svg or .pdf)", "FILE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from_text, "Start of the time range in ms (default 0)", "MS" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to_text, "End of the time range in ms (default: the end)", "MS" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Image width in px (default 1600)", "PX" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Image height in px (default: what the lanes need)", "PX" },
    { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "Pixel density of PNG images (default 1)", "N" },
    { "theme", 0, 0, G_OPTION_ARG_STRING, &theme_text, "light, dark or presenter (default light)", "THEME" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Title (default: the scenario's title and mode)", "TEXT" },
    { "no-legend", 0, 0, G_OPTION_ARG_NONE, &no_legend, "Leave out the legend", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("SCENARIO -o IMAGE — draw the timeline as PNG, SVG or PDF");
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) scenario = NULL;
  g_autoptr(IlComparison) comparison = NULL;
  g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func ((GDestroyNotify) il_trace_unref);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  IlExportOptions options;
  IlExportFormat format;
  IlRunConfig base;
  guint32 modes = 0;

  il_cli_run_options_add (context, &run, TRUE);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "interleave-cli render: %s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      fprintf (stderr, "interleave-cli render: expected one scenario file\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (output == NULL)
    {
      fprintf (stderr, "interleave-cli render: missing -o IMAGE (.png, .svg or .pdf)\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!il_export_format_from_path (output, &format))
    {
      fprintf (stderr, "interleave-cli render: %s: the image must end in .png, .svg or .pdf\n", output);
      return IL_CLI_EXIT_BAD_INPUT;
    }

  il_export_options_init (&options);
  options.width = width;
  options.height = height;
  options.scale = scale;
  options.legend = !no_legend;
  if (from_text != NULL && !il_cli_parse_ms (from_text, &options.from))
    {
      fprintf (stderr, "interleave-cli render: --from: \"%s\" is not a time in ms\n", from_text);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (to_text != NULL && !il_cli_parse_ms (to_text, &options.to))
    {
      fprintf (stderr, "interleave-cli render: --to: \"%s\" is not a time in ms\n", to_text);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (to_text != NULL && options.to <= options.from)
    {
      fprintf (stderr, "interleave-cli render: --to must be later than --from\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (theme_text != NULL)
    {
      if (g_str_equal (theme_text, "light"))
        options.theme = IL_THEME_LIGHT;
      else if (g_str_equal (theme_text, "dark"))
        options.theme = IL_THEME_DARK;
      else if (g_str_equal (theme_text, "presenter"))
        options.theme = IL_THEME_PRESENTER;
      else
        {
          fprintf (stderr, "interleave-cli render: --theme: unknown theme \"%s\" (light, dark, presenter)\n", theme_text);
          return IL_CLI_EXIT_BAD_INPUT;
        }
    }

  scenario = il_scenario_load_file (files[0], &error);
  if (scenario == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }

  if (!il_cli_run_options_apply (&run, "render", scenario, &base, &modes))
    return IL_CLI_EXIT_BAD_INPUT;

  comparison = il_compare_run (scenario, &base, modes, NULL, &error);
  if (comparison == NULL)
    {
      fprintf (stderr, "%s: %s\n", files[0], error->message);
      return IL_CLI_EXIT_BAD_INPUT;
    }
  if (!il_comparison_check (comparison, &error))
    {
      fprintf (stderr, "%s: %s\n", files[0], error->message);
      return IL_CLI_EXIT_FAILED;
    }
  {
    const IlTrace *seq = comparison->traces[IL_MODE_SEQUENTIAL];
    gint64 sequential = seq != NULL ? seq->end_time : -1;

    for (IlMode m = 0; m < IL_N_MODES; m++)
      {
        IlTrace *trace = comparison->traces[m];

        if (trace == NULL)
          continue;
        g_ptr_array_add (traces, il_trace_ref (trace));
        if (sequential > 0 && m != IL_MODE_SEQUENTIAL)
          g_ptr_array_add (labels, g_strdup_printf ("%s — %.1f ms, %.2f× sequential",
                                                    il_mode_to_label (m), trace->end_time / 1e6,
                                                    (double) sequential / MAX (1, trace->end_time)));
        else
          g_ptr_array_add (labels, g_strdup_printf ("%s — %.1f ms", il_mode_to_label (m), trace->end_time / 1e6));
      }
  }

  {
    g_autofree char *default_title = NULL;
    if (title == NULL)
      default_title = traces->len == 1
        ? g_strdup_printf ("%s — %s", scenario->title ? scenario->title : files[0], (char *) labels->pdata[0])
        : g_strdup (scenario->title ? scenario->title : files[0]);
    options.title = title != NULL ? title : default_title;
    if (!il_export_timelines (output, format, (IlTrace * const *) traces->pdata,
                              (const char * const *) labels->pdata, traces->len, &options, &error))
      {
        fprintf (stderr, "%s\n", error->message);
        return error->domain == G_IO_ERROR && error->code == G_IO_ERROR_INVALID_ARGUMENT
               ? IL_CLI_EXIT_BAD_INPUT : IL_CLI_EXIT_FAILED;
      }
  }
  return IL_CLI_EXIT_OK;
}
