/* fuzz-chrome.c — libFuzzer target for the Chrome Trace Event importer,
 * and for the timeline's layout and hit-testing of whatever it produced
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-chrome.h"
#include "il-view.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

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
  il_chrome_import_info_clear (&info);
  return 0;
}
