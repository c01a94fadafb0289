/* fuzz-trace.c — libFuzzer target for the native trace loader
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The loader reads files (it maps them), so each input goes through a
 * temporary file.  Inputs that load get their statistics computed, are
 * saved again and must load equal, slice args included.
 */
#include <glib/gstdio.h>
#include <unistd.h>

#include "il-chrome.h"
#include "il-stats.h"
#include "il-trace-io.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static char *path, *again;

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = NULL;

  if (path == NULL)
    {
      path = g_strdup_printf ("%s/interleave-fuzz-%d.itrace", g_get_tmp_dir (), (int) getpid ());
      again = g_strdup_printf ("%s/interleave-fuzz-%d-again.itrace", g_get_tmp_dir (), (int) getpid ());
    }
  if (!g_file_set_contents (path, (const char *) data, (gssize) size, NULL))
    return 0;
  trace = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
  if (trace == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  /* What the window shows first: the statistics read every interval of
   * every lane, whatever kind of event a file put on it. */
  il_stats_free (il_stats_compute (trace, G_MAXINT64));
  il_stats_free (il_stats_compute (trace, trace->end_time / 2));
  g_assert (il_trace_save (trace, NULL, again, NULL));
  {
    g_autoptr(IlTrace) back = il_trace_load (again, NULL, NULL, NULL, NULL, NULL);
    g_assert (back != NULL);
    g_assert (back->n_events == trace->n_events);
    /* Slice args (the ARGS section) come back the same, as the window
     * reads them. */
    g_assert (il_chrome_slice_args_count (back, NULL) == il_chrome_slice_args_count (trace, NULL));
    for (gsize e = 0; e < trace->n_events; e++)
      if (trace->kind[e] == IL_EVENT_SLICE_BEGIN)
        {
          g_autofree char *a = il_chrome_slice_args (trace, e, NULL);
          g_autofree char *b = il_chrome_slice_args (back, e, NULL);
          g_autofree char *lines = il_chrome_args_describe (a, NULL);
          g_assert (g_strcmp0 (a, b) == 0);
          /* What the window shows: nothing only when there is no args text. */
          g_assert (lines == NULL || a != NULL);
        }
  }
  g_unlink (again);
  g_unlink (path);
  return 0;
}
