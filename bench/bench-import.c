/* bench-import.c — how fast Chrome Trace Event JSON imports, and how compact
 * the result is
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes a synthetic VizTracer-like trace to /tmp (X events written when a
 * function returns, so children come before their parents and the file is
 * not time-sorted; two of the eight threads use B/E pairs instead), then
 * times il_chrome_import on it.  Prints numbers; never fails on them.
 * Usage:
 *   bench-import [MEGABYTES]    (default 200)
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il-chrome.h"

#define N_THREADS 8
#define MAX_STACK 12
#define N_NAMES   512

typedef struct {
  int     tid;
  gboolean use_be;
  int     depth;
  double  now;                      /* µs */
  double  start[MAX_STACK];
  int     name[MAX_STACK];
} Thread;

static gsize
read_vm_hwm_kb (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "VmHWM:");
  return p ? strtoull (p + 6, NULL, 10) : 0;
}

/* One step of one thread: call a function, or return from one. */
static void
step (FILE   *f,
      Thread *th,
      GRand  *rand,
      char  **names,
      gboolean closing)
{
  gboolean call = !closing && (th->depth == 0 || (th->depth < MAX_STACK && g_rand_int_range (rand, 0, 100) < 48));

  th->now += g_rand_double_range (rand, 0.05, 3.0);
  if (call)
    {
      int n = g_rand_int_range (rand, 0, N_NAMES);
      th->start[th->depth] = th->now;
      th->name[th->depth] = n;
      th->depth++;
      if (th->use_be)
        fprintf (f, "{\"pid\":4242,\"tid\":%d,\"ts\":%.3f,\"ph\":\"B\",\"cat\":\"FEE\",\"name\":\"%s\"},\n",
                 th->tid, th->now, names[n]);
    }
  else
    {
      th->depth--;
      if (th->use_be)
        fprintf (f, "{\"pid\":4242,\"tid\":%d,\"ts\":%.3f,\"ph\":\"E\",\"cat\":\"FEE\",\"name\":\"%s\"},\n",
                 th->tid, th->now, names[th->name[th->depth]]);
      else
        fprintf (f, "{\"pid\":4242,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"ph\":\"X\",\"cat\":\"FEE\",\"name\":\"%s\"},\n",
                 th->tid, th->start[th->depth], th->now - th->start[th->depth], names[th->name[th->depth]]);
    }
}

static guint64
generate (const char *path,
          gsize       target_bytes)
{
  FILE *f = fopen (path, "w");
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  char *names[N_NAMES];
  Thread threads[N_THREADS] = { { 0 } };
  guint64 steps = 0;
  char *buf = g_malloc (1 << 20);

  if (f == NULL)
    {
      g_printerr ("cannot write %s\n", path);
      exit (1);
    }
  setvbuf (f, buf, _IOFBF, 1 << 20);
  for (int i = 0; i < N_NAMES; i++)
    names[i] = g_strdup_printf ("handler_%d (/srv/app/module_%d.py:%d)", i, i % 37, 10 + i * 7);
  for (int t = 0; t < N_THREADS; t++)
    {
      threads[t].tid = 1000 + t;
      threads[t].use_be = t >= N_THREADS - 2;
    }

  fputs ("{\"traceEvents\":[\n", f);
  for (int t = 0; t < N_THREADS; t++)
    fprintf (f, "{\"ph\":\"M\",\"pid\":4242,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":\"worker-%d\"}},\n",
             threads[t].tid, t);
  while ((gsize) ftell (f) < target_bytes)
    {
      for (int k = 0; k < 1024; k++, steps++)
        step (f, &threads[g_rand_int_range (rand, 0, N_THREADS)], rand, names, FALSE);
    }
  /* Close every open call so all slices are complete. */
  for (int t = 0; t < N_THREADS; t++)
    while (threads[t].depth > 0)
      step (f, &threads[t], rand, names, TRUE);
  fputs ("{\"ph\":\"M\",\"pid\":4242,\"name\":\"process_name\",\"args\":{\"name\":\"python bench.py\"}}\n"
         "],\"displayTimeUnit\":\"ns\",\"viztracer_metadata\":{\"version\":\"0.16\"}}\n", f);
  fclose (f);
  g_free (buf);
  for (int i = 0; i < N_NAMES; i++)
    g_free (names[i]);
  return steps;
}

int
main (int    argc,
      char **argv)
{
  gsize mb = argc > 1 ? strtoull (argv[1], NULL, 10) : 200;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "interleave-bench-import.json", NULL);
  IlChromeImportInfo info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = NULL;
  GStatBuf st;
  gint64 t0, t1;
  double secs, file_mb;
  gsize hwm_before, hwm_after, mem;

  if (mb == 0)
    mb = 200;
  t0 = g_get_monotonic_time ();
  generate (path, mb << 20);
  t1 = g_get_monotonic_time ();
  if (g_stat (path, &st) != 0)
    return 1;
  file_mb = st.st_size / 1048576.0;
  g_print ("generated %s: %.1f MB in %.2f s\n", path, file_mb, (t1 - t0) / 1e6);

  hwm_before = read_vm_hwm_kb ();
  t0 = g_get_monotonic_time ();
  trace = il_chrome_import (path, &info, NULL, NULL, NULL, &error);
  t1 = g_get_monotonic_time ();
  hwm_after = read_vm_hwm_kb ();
  if (trace == NULL)
    {
      g_printerr ("import failed: %s\n", error->message);
      g_unlink (path);
      return 1;
    }
  secs = (t1 - t0) / 1e6;
  mem = il_trace_get_memory_size (trace);
  g_print ("imported %" G_GUINT64_FORMAT " events -> %" G_GUINT64_FORMAT " slices, %zu trace events, %u lanes, %u threads\n",
           info.n_events_read, info.n_slices, trace->n_events, il_trace_get_n_lanes (trace), info.n_threads);
  g_print ("unmatched %" G_GUINT64_FORMAT ", skipped %" G_GUINT64_FORMAT ", truncated %d\n",
           info.n_unmatched, info.n_skipped, info.truncated);
  g_print ("import: %.2f s, %.0f MB/s\n", secs, file_mb / secs);
  g_print ("trace columns: %.1f MB = %.3f of the file size (%.1f bytes per file event)\n",
           mem / 1048576.0, mem / (double) st.st_size, mem / (double) MAX (info.n_events_read, 1));
  g_print ("peak RSS: %.1f MB before import, %.1f MB after (%.3f of the file size)\n",
           hwm_before / 1024.0, hwm_after / 1024.0, hwm_after * 1024.0 / st.st_size);
  il_chrome_import_info_clear (&info);
  g_unlink (path);
  return 0;
}
