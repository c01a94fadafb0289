/* bench-import.c — how fast Chrome Trace Event JSON imports, and how compact
 * the result is
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes a synthetic VizTracer-like trace to /tmp (X events written when a
 * function returns, so children come before their parents and the file is
 * not time-sorted; two of the eight threads use B/E pairs instead), then
 * times il_chrome_import on it against YAJL parsing the same file with no
 * callbacks, each in a child process of its own for its peak RSS.  Prints
 * numbers; never fails on them.
 *
 * Peak memory is the child's VmHWM: the importer reads the file with
 * read(), so the file's pages are not part of it; the program's own
 * mapped binary and libraries (about 4 MB) are.  The trace's own size
 * (il_trace_get_memory_size: columns and lane indices) is printed beside.
 * Usage:
 *   bench-import [MEGABYTES…]    (default 300 1024, and 300 gzip)
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

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

/* The same file through YAJL with no callbacks: the speed of parsing
 * alone, which the importer is measured against. */
static double
yajl_parse_seconds (const char *path,
                    gboolean    gzip)
{
  static const yajl_callbacks none = { 0 };
  yajl_handle h = yajl_alloc (&none, NULL, NULL);
  g_autofree guint8 *buf = g_malloc (1 << 20);
  gzFile gz = gzip ? gzopen (path, "rb") : NULL;
  FILE *f = gzip ? NULL : fopen (path, "rb");
  gint64 t0 = g_get_monotonic_time ();
  gssize n;

  if (gz != NULL)
    gzbuffer (gz, 256 * 1024);
  yajl_config (h, yajl_allow_partial_values, 1);
  while ((n = gz ? gzread (gz, buf, 1 << 20) : (gssize) fread (buf, 1, 1 << 20, f)) > 0)
    if (yajl_parse (h, buf, (size_t) n) != yajl_status_ok)
      break;
  yajl_complete_parse (h);
  yajl_free (h);
  if (gz != NULL)
    gzclose (gz);
  if (f != NULL)
    fclose (f);
  return (g_get_monotonic_time () - t0) / 1e6;
}

static gsize trace_bytes;   /* of the last import measured */

/* Runs one measurement in a child process, so each has its own peak RSS:
 * what = 0 for YAJL alone, 1 for the import.  Writes seconds and peak KB. */
static gboolean
measure (const char *path,
         gboolean    gzip,
         int         what,
         double     *cpu,
         double     *secs,
         gsize      *hwm_kb,
         IlChromeImportInfo *info_out)
{
  int fds[2];
  pid_t pid;
  struct { double secs, cpu; gsize hwm, trace_bytes; guint64 events, slices; gboolean ok; } r = { 0 };

  if (pipe (fds) != 0)
    return FALSE;
  pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      if (what == 0)
        {
          r.secs = yajl_parse_seconds (path, gzip);
          r.ok = TRUE;
        }
      else
        {
          IlChromeImportInfo info = { 0 };
          g_autoptr(GError) error = NULL;
          gint64 t0 = g_get_monotonic_time ();
          IlTrace *trace = il_chrome_import (path, &info, NULL, NULL, NULL, &error);
          r.secs = (g_get_monotonic_time () - t0) / 1e6;
          r.ok = trace != NULL && !info.truncated;
          if (!r.ok)
            g_printerr ("import failed: %s\n", error ? error->message : info.warning);
          r.events = info.n_events_read;
          r.slices = info.n_slices;
          r.trace_bytes = trace != NULL ? il_trace_get_memory_size (trace) : 0;
        }
      r.hwm = read_vm_hwm_kb ();
      {
        struct rusage ru;
        getrusage (RUSAGE_SELF, &ru);
        r.cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
      }
      if (write (fds[1], &r, sizeof r) != sizeof r)
        _exit (1);
      _exit (0);
    }
  close (fds[1]);
  if (pid < 0 || read (fds[0], &r, sizeof r) != sizeof r)
    r.ok = FALSE;
  close (fds[0]);
  waitpid (pid, NULL, 0);
  *secs = r.secs;
  *cpu = r.cpu;
  *hwm_kb = r.hwm;
  trace_bytes = r.trace_bytes;
  if (info_out != NULL)
    {
      info_out->n_events_read = r.events;
      info_out->n_slices = r.slices;
    }
  return r.ok;
}

/* Size of the JSON inside a gzip file. */
static double
unpacked_mb (const char *path)
{
  gzFile gz = gzopen (path, "rb");
  g_autofree char *buf = g_malloc (1 << 20);
  double total = 0;
  int n;

  while (gz != NULL && (n = gzread (gz, buf, 1 << 20)) > 0)
    total += n;
  if (gz != NULL)
    gzclose (gz);
  return total / 1048576.0;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
gzip_file (const char *from,
           const char *to)
{
  FILE *in = fopen (from, "rb");
  gzFile out = gzopen (to, "wb6");
  g_autofree char *buf = g_malloc (1 << 20);
  size_t n;

  while (in != NULL && out != NULL && (n = fread (buf, 1, 1 << 20, in)) > 0)
    gzwrite (out, buf, (unsigned) n);
  if (in != NULL)
    fclose (in);
  if (out != NULL)
    gzclose (out);
}

#define RUNS 3

/* Times YAJL alone and the import, RUNS times each, interleaved so load
 * from elsewhere on the machine hits both alike. */
static void
bench_file (const char *path,
            gboolean    gzip)
{
  GStatBuf st;
  double yajl[RUNS], import[RUNS], yajl_cpu[RUNS], import_cpu[RUNS];
  gsize hwm[RUNS], yajl_hwm;
  double hwm_mb[RUNS];
  IlChromeImportInfo info = { 0 };
  double file_mb, ratio[RUNS];

  if (g_stat (path, &st) != 0)
    return;
  file_mb = st.st_size / 1048576.0;
  for (int i = 0; i < RUNS; i++)
    {
      if (!measure (path, gzip, 0, &yajl_cpu[i], &yajl[i], &yajl_hwm, NULL)
          || !measure (path, gzip, 1, &import_cpu[i], &import[i], &hwm[i], &info))
        {
          g_printerr ("%s: measuring failed\n", path);
          return;
        }
      ratio[i] = yajl[i] / import[i];
      hwm_mb[i] = hwm[i] / 1024.0;
    }
  qsort (hwm_mb, RUNS, sizeof (double), compare_doubles);
  qsort (yajl, RUNS, sizeof (double), compare_doubles);
  qsort (import, RUNS, sizeof (double), compare_doubles);
  qsort (ratio, RUNS, sizeof (double), compare_doubles);
  qsort (yajl_cpu, RUNS, sizeof (double), compare_doubles);
  qsort (import_cpu, RUNS, sizeof (double), compare_doubles);
  g_print ("%s: %.0f MB%s, %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " slices\n",
           path, file_mb, gzip ? " gzip" : "", info.n_events_read, info.n_slices);
  g_print ("  import     %.0f MB/s of file (median of %d; %.0f-%.0f)\n",
           file_mb / import[RUNS / 2], RUNS, file_mb / import[RUNS - 1], file_mb / import[0]);
  g_print ("  YAJL alone %.0f MB/s of file (%.0f-%.0f)\n",
           file_mb / yajl[RUNS / 2], file_mb / yajl[RUNS - 1], file_mb / yajl[0]);
  g_print ("  import speed / YAJL parse-only speed: %.2f (%.2f-%.2f, same runs)\n",
           ratio[RUNS / 2], ratio[0], ratio[RUNS - 1]);
  g_print ("  CPU time   import %.2f s (both threads), YAJL %.2f s (medians): the machine is shared, wall times vary\n",
           import_cpu[RUNS / 2], yajl_cpu[RUNS / 2]);
  if (gzip)
    g_print ("  unpacked   %.0f MB/s of JSON for the import\n", unpacked_mb (path) / import[RUNS / 2]);
  g_print ("  peak RSS   %.1f MB = %.3f of the file size (median; %.1f-%.1f MB); the trace itself %.1f MB = %.3f\n",
           hwm_mb[RUNS / 2], hwm_mb[RUNS / 2] * 1048576.0 / st.st_size, hwm_mb[0], hwm_mb[RUNS - 1],
           trace_bytes / 1048576.0, (double) trace_bytes / st.st_size);
  if (gzip)
    g_print ("             = %.3f of the unpacked JSON\n", hwm_mb[RUNS / 2] / unpacked_mb (path));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) sizes = g_ptr_array_new ();

  /* Usage: bench-import [MEGABYTES…]   (default 300 1024; the first size is
   * also measured gzip-compressed).  Files are kept in /tmp between runs. */
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (sizes, GSIZE_TO_POINTER (strtoull (argv[i], NULL, 10)));
  if (sizes->len == 0)
    {
      g_ptr_array_add (sizes, GSIZE_TO_POINTER (300));
      g_ptr_array_add (sizes, GSIZE_TO_POINTER (1024));
    }
  for (guint i = 0; i < sizes->len; i++)
    {
      gsize mb = GPOINTER_TO_SIZE (sizes->pdata[i]);
      g_autofree char *name = g_strdup_printf ("interleave-bench-import-%zu.json", mb);
      g_autofree char *path = g_build_filename (g_get_tmp_dir (), name, NULL);
      GStatBuf st;

      if (mb == 0)
        continue;
      if (g_stat (path, &st) != 0 || (gsize) st.st_size < (mb << 20))
        {
          gint64 t0 = g_get_monotonic_time ();
          guint64 steps = generate (path, mb << 20);
          g_print ("generated %s: %" G_GUINT64_FORMAT " steps in %.1f s\n", path, steps,
                   (g_get_monotonic_time () - t0) / 1e6);
        }
      bench_file (path, FALSE);
      if (i == 0)
        {
          g_autofree char *gz = g_strconcat (path, ".gz", NULL);
          if (!g_file_test (gz, G_FILE_TEST_EXISTS))
            gzip_file (path, gz);
          bench_file (gz, TRUE);
        }
    }
  return 0;
}
