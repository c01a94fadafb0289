/* fuzz-chrome.c — libFuzzer target for the Chrome Trace Event importer,
 * for the timeline's layout and hit-testing of whatever it produced, and
 * for saving it as .itrace: its slices' args must come back the same
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <unistd.h>

#include "il-chrome.h"
#include "il-view.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static char *saved;

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  static const IlLayoutMetrics metrics = { 20, 10, 8, 2 };
  IlChromeImportInfo info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = il_chrome_import_data (data, size, "fuzz.json", &info, &error);

  if (trace == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      il_chrome_import_info_clear (&info);
      return 0;
    }
  /* Whatever loads must be drawable: times in order, lanes valid. */
  for (gsize i = 1; i < trace->n_events; i++)
    g_assert (trace->time[i] >= trace->time[i - 1]);
  /* Every slice's args are an object the window can describe. */
  for (gsize i = 0; i < trace->n_events; i++)
    {
      g_autofree char *args = il_chrome_slice_args (trace, i, NULL);
      g_autofree char *returned = NULL;
      g_assert (args == NULL || trace->kind[i] == IL_EVENT_SLICE_BEGIN);
      g_assert (args == NULL || args[0] == '{');
      g_free (il_chrome_args_describe (args, &returned));
    }
  {
    g_autoptr(IlLayout) layout = il_layout_new (trace, &metrics);
    for (guint32 lane = 0; lane < il_trace_get_n_lanes (trace); lane++)
      for (int k = 0; k <= 4; k++)
        {
          IlTraceInterval hit;
          if (il_trace_interval_at (trace, lane, trace->end_time / 4 * k, trace->end_time, &hit))
            g_free (il_format_interval (trace, &hit));
        }
    il_layout_row_at (layout, layout->height / 2);
  }
  /* Saved and loaded again, every slice shows the same args. */
  if (trace->slice_args != NULL)
    {
      g_autoptr(IlTrace) back = NULL;

      if (saved == NULL)
        saved = g_strdup_printf ("%s/interleave-fuzz-chrome-%d.itrace", g_get_tmp_dir (), (int) getpid ());
      g_assert (il_trace_save (trace, NULL, saved, NULL));
      back = il_trace_load (saved, NULL, NULL, NULL, NULL, NULL);
      g_assert (back != NULL);
      for (gsize i = 0; i < trace->n_events; i++)
        {
          g_autofree char *a = il_chrome_slice_args (trace, i, NULL);
          g_autofree char *b = il_chrome_slice_args (back, i, NULL);
          g_assert (g_strcmp0 (a, b) == 0 || (a != NULL && !g_utf8_validate (a, -1, NULL)));
        }
      g_unlink (saved);
    }
  il_chrome_import_info_clear (&info);
  return 0;
}
