/* test-chrome.c — Chrome Trace Event JSON in and out
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The expected counts for the real traces in ../shared/traces were
 * computed independently with Python's json module (X events plus
 * matched B/E pairs, (pid, tid) pairs carrying slices, pids, span).
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "test-util.h"
#include "il-chrome.h"
#include "il-engine.h"
#include "il-trace-io.h"

static char *
shared_trace (const char *name)
{
  const char *dir = g_getenv ("INTERLEAVE_SHARED_TRACES");
  g_autofree char *fallback = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "..", "shared", "traces", NULL);
  return g_build_filename (dir ? dir : fallback, name, NULL);
}

static const struct {
  const char *file;
  guint64 slices;
  guint threads;
  guint processes;
  double span_ms;
  guint64 instants, flows;
} real[] = {
  { "catapult_flow_simple.json", 5, 5, 5, 3.731, 0, 5 },
  { "viztracer_async_simple.json", 656, 7, 1, 12.251098, 0, 0 },
  { "viztracer_function_args_return.json", 25, 1, 1, 0.037175, 0, 0 },
  { "viztracer_logging_integration.json", 43, 1, 1, 2.221409, 41, 0 },
  { "viztracer_multi_process_pool.json", 12533, 9, 6, 15.018357, 0, 0 },
  { "viztracer_multithread.json", 582, 5, 1, 2.440922, 0, 0 },
};

static void
test_real_traces (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (real); i++)
    {
      g_autofree char *path = shared_trace (real[i].file);
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) trace = NULL;
      guint processes = 0;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_test_skip ("../shared/traces is not here");
          return;
        }
      trace = il_chrome_import (path, &info, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (trace);
      g_assert_cmpuint (info.n_slices, ==, real[i].slices);
      g_assert_cmpuint (info.n_threads, ==, real[i].threads);
      g_assert_cmpuint (info.n_processes, ==, real[i].processes);
      g_assert_cmpuint (info.n_instants, ==, real[i].instants);
      g_assert_cmpuint (info.n_flows, ==, real[i].flows);
      g_assert_cmpfloat (fabs ((info.last_ts_ns - info.first_ts_ns) / 1e6 - real[i].span_ms), <, 1e-5);
      g_assert_false (info.truncated);
      for (guint32 l = 0; l < il_trace_get_n_lanes (trace); l++)
        processes += il_trace_get_lane (trace, l)->kind == IL_LANE_PROCESS;
      g_assert_cmpuint (processes, ==, real[i].processes);
      /* Times start at zero and never go backwards. */
      g_assert_cmpint (trace->time[0], ==, 0);
      for (gsize e = 1; e < trace->n_events; e++)
        g_assert_cmpint (trace->time[e], >=, trace->time[e - 1]);
      il_chrome_import_info_clear (&info);
    }
}

static gint64
trace_first_time (const IlTrace *t)
{
  return t->n_events > 0 ? t->time[0] : -1;
}

static IlTrace *
import_text (const char         *text,
             IlChromeImportInfo *info,
             GError            **error)
{
  return il_chrome_import_data ((const guint8 *) text, strlen (text), "test.json", info, error);
}

static void
test_forms_and_phases (void)
{
  const char *array_form =
    "[{\"ph\":\"M\",\"pid\":1,\"tid\":2,\"name\":\"thread_name\",\"args\":{\"name\":\"worker\"}},"
    " {\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"python\"}},"
    " {\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":10,\"name\":\"outer\"},"
    " {\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":12,\"name\":\"inner\"},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":15},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":20},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":21},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":5,\"dur\":30,\"name\":\"parse\",\"args\":{\"deep\":{\"x\":[1,2,{\"y\":3}]}}},"
    " {\"ph\":\"i\",\"pid\":1,\"tid\":3,\"ts\":7,\"name\":\"mark\",\"s\":\"t\"},"
    " {\"ph\":\"C\",\"pid\":1,\"ts\":8,\"name\":\"mem\",\"args\":{\"rss\":10,\"heap\":4}},"
    " {\"ph\":\"s\",\"pid\":1,\"tid\":2,\"ts\":11,\"name\":\"f\",\"id\":\"0x1\"},"
    " {\"ph\":\"f\",\"pid\":1,\"tid\":3,\"ts\":13,\"name\":\"f\",\"id\":\"0x1\",\"bp\":\"e\"},"
    " {\"ph\":\"b\",\"pid\":1,\"ts\":6,\"name\":\"task-1\",\"cat\":\"asyncio\",\"id\":\"7\"},"
    " {\"ph\":\"e\",\"pid\":1,\"ts\":9,\"name\":\"task-1\",\"cat\":\"asyncio\",\"id\":\"7\"},"
    " {\"ph\":\"P\",\"pid\":1,\"ts\":9},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":\"soon\",\"dur\":1,\"name\":\"bad\"},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":1,\"dur\":-4,\"name\":\"negative\"}]";
  g_autofree char *object_form = g_strdup_printf ("{\"otherData\":{\"a\":{\"b\":{}}},\"traceEvents\":%s,\"x\":[{}]}", array_form);
  const char *texts[] = { array_form, object_form };

  for (guint f = 0; f < G_N_ELEMENTS (texts); f++)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = import_text (texts[f], &info, &error);
      guint32 worker = IL_NO_LANE, async_lane = IL_NO_LANE, counters = 0;
      guint max_depth = 0;

      g_assert_no_error (error);
      g_assert_cmpuint (info.n_events_read, ==, 17);
      g_assert_cmpuint (info.n_slices, ==, 3);          /* X + two matched B/E */
      g_assert_cmpuint (info.n_unmatched, ==, 1);       /* the third E */
      g_assert_cmpuint (info.n_instants, ==, 1);
      g_assert_cmpuint (info.n_counters, ==, 2);
      g_assert_cmpuint (info.n_flows, ==, 2);
      g_assert_cmpuint (info.n_async, ==, 2);
      g_assert_cmpuint (info.n_skipped, ==, 3);         /* P, a text ts, a negative dur */
      g_assert_nonnull (g_hash_table_lookup (info.skipped_phases, "P"));
      g_assert_cmpuint (info.n_processes, ==, 1);
      g_assert_cmpint (info.first_ts_ns, ==, 5000);
      g_assert_cmpint (info.last_ts_ns, ==, 35000);

      for (guint32 l = 0; l < il_trace_get_n_lanes (t); l++)
        {
          const IlLane *lane = il_trace_get_lane (t, l);
          if (g_str_equal (lane->name, "worker"))
            worker = l;
          if (lane->kind == IL_LANE_TASK)
            async_lane = l;
          if (lane->kind == IL_LANE_COUNTER)
            counters++;
          if (lane->kind == IL_LANE_PROCESS)
            g_assert_cmpstr (lane->name, ==, "python (pid 1)");
        }
      g_assert_cmpuint (worker, !=, IL_NO_LANE);
      g_assert_cmpuint (async_lane, !=, IL_NO_LANE);
      g_assert_cmpstr (il_trace_get_lane (t, async_lane)->name, ==, "task-1");
      g_assert_cmpuint (counters, ==, 2);

      /* Nesting: inner is at depth 1 inside outer. */
      {
        const IlLaneIndex *idx = il_trace_get_lane_events (t, worker);
        for (guint k = 0; k < idx->len; k++)
          {
            guint32 e = idx->data[k];
            if (t->kind[e] == IL_EVENT_SLICE_BEGIN)
              {
                max_depth = MAX (max_depth, t->aux[e]);
                if (t->aux[e] == 1)
                  g_assert_cmpstr (il_trace_get_string (t, t->arg[e]), ==, "inner");
              }
          }
      }
      g_assert_cmpuint (max_depth, ==, 1);
      il_chrome_import_info_clear (&info);
    }
}

static void
test_unsorted_and_ties (void)
{
  /* Back-to-back slices listed in reverse order, and a parent sharing its
   * child's start: ends come before begins, parents before children. */
  const char *text =
    "[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":20,\"dur\":10,\"name\":\"second\"},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":10,\"dur\":10,\"name\":\"first\"},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":20,\"dur\":2,\"name\":\"child\"}]";
  g_autoptr(IlTrace) t = import_text (text, NULL, NULL);
  const char *expect[] = { "B first 0", "E first 0", "B second 0", "B child 1", "E child 1", "E second 0" };

  g_assert_nonnull (t);
  g_assert_cmpuint (t->n_events, ==, G_N_ELEMENTS (expect));
  for (gsize e = 0; e < t->n_events; e++)
    {
      g_autofree char *got = g_strdup_printf ("%s %s %u", t->kind[e] == IL_EVENT_SLICE_BEGIN ? "B" : "E",
                                              il_trace_get_string (t, t->arg[e]), t->aux[e]);
      g_assert_cmpstr (got, ==, expect[e]);
    }
}

static void
test_truncated (void)
{
  g_autofree char *path = shared_trace ("viztracer_multithread.json");
  g_autofree char *data = NULL;
  gsize len;
  guint kept = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      g_test_skip ("../shared/traces is not here");
      return;
    }
  /* Cut anywhere: either a clear error or a prefix with a warning. */
  for (guint i = 1; i < 80; i++)
    {
      gsize cut = len * i / 80;
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = il_chrome_import_data ((const guint8 *) data, cut, "cut.json", &info, &error);

      if (t == NULL)
        {
          g_assert_nonnull (error);
          g_assert_true (strstr (error->message, "cut.json") != NULL);
        }
      else
        {
          g_assert_true (info.truncated);
          g_assert_nonnull (info.warning);
          g_assert_true (strstr (info.warning, "cut.json") != NULL);
          g_assert_cmpuint (info.n_slices, <=, 582);
          kept++;
        }
      il_chrome_import_info_clear (&info);
    }
  g_assert_cmpuint (kept, >, 70);
}

static void
test_junk (void)
{
  const char *bad[] = {
    "", "   ", "not json", "{", "[", "[1, 2, 3]", "{\"traceEvents\": 5}", "\x89PNG\r\n\x1a\n",
    "{\"traceEvents\": [{\"ph\": \"X\"}]}", "[{\"ph\":\"X\",\"ts\":1e300,\"dur\":1}]",
    "[{\"ph\":\"X\",\"ts\":NaN,\"dur\":1}]", "{\"a\":\"\xff\xfe\"}",
  };
  GString *deep = g_string_new ("[");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = il_chrome_import_data ((const guint8 *) bad[i], strlen (bad[i]), "junk.json", NULL, &error);
      g_assert_null (t);
      g_assert_nonnull (error);
      g_assert_true (strstr (error->message, "junk.json") != NULL);
    }
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(IlTrace) t = il_chrome_import_data ((const guint8 *) deep->str, deep->len, "deep.json", NULL, &error);
    g_assert_null (t);
    g_assert_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_PARSE);
  }
  g_string_free (deep, TRUE);
}

static void
test_begin_end_ties (void)
{
  /* Each thread's events in order, the threads not: at ts 5 "a" ends, "z"
   * is a zero-length pair and "b" begins, with the X "c" inside "b" from
   * its start.  B and E at one time keep their file order, X comes after
   * them. */
  const char *text =
    "[{\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":20,\"name\":\"q\"},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":30},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":5,\"dur\":2,\"name\":\"c\"},"
    " {\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":0,\"name\":\"a\"},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":5},"
    " {\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":5,\"name\":\"z\"},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":5},"
    " {\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":5,\"name\":\"b\"},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":10}]";
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) t = NULL;
  GString *got = g_string_new (NULL);

  t = import_text (text, &info, NULL);
  g_assert_nonnull (t);
  for (gsize e = 0; e < t->n_events; e++)
    g_string_append_printf (got, "%s%s%u@%" G_GINT64_FORMAT " ",
                            t->kind[e] == IL_EVENT_SLICE_BEGIN ? "B" : "E",
                            il_trace_get_string (t, t->arg[e]), t->aux[e], t->time[e] / 1000);
  g_assert_cmpstr (got->str, ==, "Ba0@0 Ea0@5 Bz0@5 Ez0@5 Bb0@5 Bc1@5 Ec1@7 Eb0@10 Bq0@20 Eq0@30 ");
  g_assert_cmpuint (info.n_slices, ==, 5);
  g_assert_cmpuint (info.n_unmatched, ==, 0);
  g_assert_cmpuint (info.n_threads, ==, 2);
  g_string_free (got, TRUE);
  il_chrome_import_info_clear (&info);
}

static void
test_overlap_and_unmatched (void)
{
  /* "b" overlaps "a" without nesting: it is cut at a's end.  A B is left
   * open (closed at the last time, counted), an E comes without a B. */
  const char *text =
    "{\"traceEvents\":["
    " {\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":0,\"dur\":10,\"name\":\"a\"},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":5,\"dur\":10,\"name\":\"b\"},"
    " {\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":1},"
    " {\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":3,\"name\":\"open\"},"
    " {\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":4,\"dur\":30,\"name\":\"last\"}]}";
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) t = import_text (text, &info, NULL);
  int depth[8] = { 0 };

  g_assert_nonnull (t);
  g_assert_cmpuint (info.n_slices, ==, 3);     /* the two X on tid 1 plus "last"; "open" is unmatched */
  g_assert_cmpuint (info.n_unmatched, ==, 2);
  for (gsize e = 0; e < t->n_events; e++)
    {
      guint32 l = il_trace_event_lane (t, e);
      g_assert_cmpuint (l, <, G_N_ELEMENTS (depth));
      if (e > 0)
        g_assert_cmpint (t->time[e], >=, t->time[e - 1]);
      if (t->kind[e] == IL_EVENT_SLICE_BEGIN)
        g_assert_cmpint (t->aux[e], ==, depth[l]++);
      else if (t->kind[e] == IL_EVENT_SLICE_END)
        g_assert_cmpint (t->aux[e], ==, --depth[l]);
    }
  for (guint l = 0; l < G_N_ELEMENTS (depth); l++)
    g_assert_cmpint (depth[l], ==, 0);
  g_assert_cmpint (t->end_time, ==, 34000);
  il_chrome_import_info_clear (&info);
}

static void
test_counters_ids_order (void)
{
  /* Keys in any order (args before ph), id2, string pids, numbers in many spellings. */
  const char *text =
    "[{\"args\":{\"rss\":1.5e3,\"heap\":-2},\"name\":\"mem\",\"ts\":1,\"ph\":\"C\",\"pid\":\"7\"},"
    " {\"ph\":\"C\",\"name\":\"q\",\"ts\":2,\"pid\":7,\"args\":{\"value\":3}},"
    " {\"ph\":\"s\",\"pid\":7,\"tid\":1,\"ts\":3,\"id2\":{\"local\":\"0x2\"}},"
    " {\"ph\":\"f\",\"bp\":\"e\",\"pid\":7,\"tid\":2,\"ts\":4,\"id2\":{\"local\":\"0x2\"}},"
    " {\"ph\":\"X\",\"pid\":7,\"tid\":\"main\",\"ts\":0.0015,\"dur\":2E0,\"name\":\"n\"},"
    " {\"ph\":\"M\",\"pid\":7,\"name\":\"process_sort_index\",\"args\":{\"sort_index\":-1}},"
    " {\"ph\":\"X\",\"pid\":7,\"tid\":1,\"ts\":true,\"dur\":1,\"name\":\"bad\"},"
    " {\"ph\":\"X\",\"pid\":7,\"tid\":1,\"ts\":null,\"dur\":1,\"name\":\"bad\"}]";
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) t = import_text (text, &info, NULL);
  g_autoptr(GHashTable) counters = g_hash_table_new (g_str_hash, g_str_equal);
  guint32 flow_ids[2];
  guint n_flows = 0;

  g_assert_nonnull (t);
  g_assert_cmpuint (info.n_counters, ==, 3);
  g_assert_cmpuint (info.n_flows, ==, 2);
  g_assert_cmpuint (info.n_slices, ==, 1);
  g_assert_cmpuint (info.n_skipped, ==, 2);
  g_assert_cmpuint (info.n_processes, ==, 1);
  g_assert_cmpint (info.first_ts_ns, ==, 2);   /* 0.0015 µs rounds to 2 ns */
  for (guint32 l = 0; l < il_trace_get_n_lanes (t); l++)
    if (il_trace_get_lane (t, l)->kind == IL_LANE_COUNTER)
      g_hash_table_add (counters, il_trace_get_lane (t, l)->name);
  g_assert_cmpuint (g_hash_table_size (counters), ==, 3);
  g_assert_true (g_hash_table_contains (counters, "mem.rss"));
  g_assert_true (g_hash_table_contains (counters, "mem.heap"));
  g_assert_true (g_hash_table_contains (counters, "q"));
  for (gsize e = 0; e < t->n_events; e++)
    {
      if (t->kind[e] == IL_EVENT_COUNTER && g_str_equal (il_trace_get_lane (t, il_trace_event_lane (t, e))->name, "mem.rss"))
        g_assert_cmpfloat (il_trace_bits_float (t->arg[e]), ==, 1500.0f);
      if (t->kind[e] == IL_EVENT_FLOW)
        flow_ids[n_flows++] = t->arg[e];
    }
  g_assert_cmpuint (n_flows, ==, 2);
  g_assert_cmpuint (flow_ids[0], ==, flow_ids[1]);
  il_chrome_import_info_clear (&info);
}

static void
test_every_cut (void)
{
  /* A small trace cut at every byte: never a crash, a prefix or an error. */
  const char *text =
    "{\"traceEvents\":[{\"ph\":\"M\",\"pid\":1,\"tid\":2,\"name\":\"thread_name\",\"args\":{\"name\":\"w\"}},"
    "{\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":10,\"name\":\"outer\"},"
    "{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":11,\"dur\":2.5,\"name\":\"x\",\"args\":{\"a\":[1,{\"b\":2}]}},"
    "{\"ph\":\"C\",\"pid\":1,\"ts\":12,\"name\":\"c\",\"args\":{\"v\":1}},"
    "{\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":20}],\"meta\":{\"k\":\"v\"}}";
  gsize len = strlen (text);
  guint kept = 0;

  for (gsize cut = 0; cut <= len; cut++)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = il_chrome_import_data ((const guint8 *) text, cut, "cut.json", &info, &error);
      if (t == NULL)
        g_assert_nonnull (error);
      else
        {
          kept++;
          g_assert_no_error (error);
          g_assert_cmpuint (info.n_slices, <=, 2);
          g_assert_true (info.truncated == (cut < len));
          for (gsize e = 1; e < t->n_events; e++)
            g_assert_cmpint (t->time[e], >=, t->time[e - 1]);
        }
      il_chrome_import_info_clear (&info);
    }
  g_assert_cmpuint (kept, >, 0);
}

static void
record_progress (double   fraction,
                 gpointer data)
{
  GArray *a = data;
  g_array_append_val (a, fraction);
}

static void
test_progress_and_cancel (void)
{
  g_autofree char *dir = g_dir_make_tmp ("interleave-chrome-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "big.json", NULL);
  GString *text = g_string_new ("[");
  g_autoptr(GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  IlChromeImportInfo info = { 0 };
  IlTrace *t;

  /* About 3 MB: several 1 MB chunks. */
  for (guint i = 0; i < 40000; i++)
    g_string_append_printf (text, "%s{\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":%u.25,\"dur\":1,\"name\":\"work item number %u\"}",
                            i ? "," : "", i % 4, 40000 - i, i % 100);
  g_string_append (text, "]");
  g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));

  t = il_chrome_import (path, &info, record_progress, fractions, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpuint (info.n_slices, ==, 40000);
  g_assert_cmpuint (info.n_threads, ==, 4);
  g_assert_cmpuint (fractions->len, >=, 3);
  for (guint i = 1; i < fractions->len; i++)
    g_assert_cmpfloat (g_array_index (fractions, double, i), >=, g_array_index (fractions, double, i - 1));
  g_assert_cmpfloat (g_array_index (fractions, double, fractions->len - 1), ==, 1.0);
  il_trace_unref (t);
  il_chrome_import_info_clear (&info);

  g_cancellable_cancel (cancel);
  t = il_chrome_import (path, &info, NULL, NULL, cancel, &error);
  g_assert_null (t);
  g_assert_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CANCELLED);
  il_chrome_import_info_clear (&info);
  g_clear_error (&error);

  t = il_chrome_import ("/nonexistent/trace.json", &info, NULL, NULL, NULL, &error);
  g_assert_null (t);
  g_assert_nonnull (error);

  g_string_free (text, TRUE);
  g_unlink (path);
  g_rmdir (dir);
}

/* Small files in the shapes real producers write (tests/traces). */
static IlTrace *
import_shape (const char         *name,
              IlChromeImportInfo *info)
{
  g_autofree char *path = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "tests", "traces", name, NULL);
  g_autoptr(GError) error = NULL;
  IlTrace *t = il_chrome_import (path, info, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_false (info->truncated);
  return t;
}

/* visited[0] counts the slices whose args could not be read, [1] the others. */
static gboolean
count_args (guint32     event,
            const char *json,
            gpointer    user_data)
{
  guint *visited = user_data;

  (void) event;
  visited[json != NULL]++;
  return TRUE;
}

static guint32
lane_named (const IlTrace *t,
            const char    *name)
{
  for (guint32 l = 0; l < il_trace_get_n_lanes (t); l++)
    if (g_str_equal (il_trace_get_lane (t, l)->name, name))
      return l;
  return IL_NO_LANE;
}

/* Writes `len` bytes gzip-compressed to `path`. */
static void
write_gzip (const char *path,
            const char *data,
            gsize       len)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (z));

  g_assert_true (g_output_stream_write_all (out, data, len, NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  g_assert_true (g_file_set_contents (path, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (mem)),
                                      (gssize) g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (mem)),
                                      NULL));
}

/* VizTracer's args and return values, read again from the file, from
 * memory and from gzip, and told in lines. */
static void
test_slice_args (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "tests", "traces", "viztracer-args.json", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_dir_make_tmp ("interleave-args-XXXXXX", NULL);
  g_autofree char *copy = g_build_filename (dir, "copy.json", NULL);
  g_autofree char *gz_path = g_build_filename (dir, "copy.json.gz", NULL);
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (copy, contents, (gssize) len, NULL));
  write_gzip (gz_path, contents, len);

  for (int how = 0; how < 3; how++)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = how == 0 ? il_chrome_import (copy, &info, NULL, NULL, NULL, &error)
                             : how == 1 ? il_chrome_import_data ((const guint8 *) contents, len, "mem", &info, &error)
                             : il_chrome_import (gz_path, &info, NULL, NULL, NULL, &error);
      guint with = 0, fibs = 0;

      g_assert_no_error (error);
      for (gsize e = 0; e < t->n_events; e++)
        {
          g_autofree char *json = NULL, *lines = NULL, *ret = NULL;
          const char *name = il_trace_get_string (t, t->arg[e]);

          if (t->kind[e] != IL_EVENT_SLICE_BEGIN)
            {
              /* Instants (and zero-length X, kept as instants) have none. */
              g_assert_null (il_chrome_slice_args (t, e, &error));
              g_assert_no_error (error);
              continue;
            }
          json = il_chrome_slice_args (t, e, &error);
          g_assert_no_error (error);
          if (g_str_equal (name, "main (demo.py:10)"))
            {
              g_assert_null (json);   /* "args": {} */
              continue;
            }
          g_assert_nonnull (json);
          with++;
          lines = il_chrome_args_describe (json, &ret);
          if (g_str_has_prefix (name, "fib"))
            {
              /* fib(0) = fib(1) = 1: each return value belongs with its n. */
              guint n = (guint) strtoul (lines + 3, NULL, 10);
              g_assert_true (g_str_has_prefix (lines, "n: "));
              g_assert_cmpstr (ret, ==, n < 2 ? "1" : "2");
              fibs++;
            }
          else if (g_str_equal (name, "fetch"))
            {
              g_assert_cmpstr (lines, ==, "url: https://example.org/a b\nretries: 3\nheaders: {\"Accept\":\"*/*\"}\n");
              g_assert_null (ret);
            }
          else
            g_assert_cmpstr (lines, ==, "text: line one line two\n");
        }
      g_assert_cmpuint (with, ==, 5);
      g_assert_cmpuint (fibs, ==, 3);
      il_chrome_import_info_clear (&info);

      /* The file changes: its args are no longer read, and it says so. */
      if (how == 0)
        {
          /* main, then fib (2) on the main thread. */
          gsize e = il_trace_get_lane_events (t, lane_named (t, "MainThread"))->data[1];
          g_autofree char *json = NULL;
          guint before[2] = { 0, 0 };

          g_assert_cmpstr (il_trace_get_string (t, t->arg[e]), ==, "fib (demo.py:6)");
          g_assert_cmpuint (il_chrome_slice_args_foreach (t, count_args, before), ==, 5);
          g_assert_cmpuint (before[0], ==, 0);
          g_assert_cmpuint (before[1], ==, 5);
          g_assert_true (g_file_set_contents (copy, "{}", -1, NULL));
          json = il_chrome_slice_args (t, e, &error);
          g_assert_null (json);
          g_assert_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CHANGED);
          g_assert_nonnull (strstr (error->message, "copy.json"));
          /* Saving still visits every slice with args, each without them. */
          {
            guint visited[2] = { 0, 0 };

            g_assert_cmpuint (il_chrome_slice_args_foreach (t, count_args, visited), ==, 5);
            g_assert_cmpuint (visited[0], ==, 5);
            g_assert_cmpuint (visited[1], ==, 0);
          }
        }
    }
  /* A real VizTracer trace (log_func_args, log_func_retval) of fib: every
   * return value must be fib of its own n. */
  {
    g_autofree char *fib_path = shared_trace ("viztracer_function_args_return.json");
    g_autoptr(GError) error = NULL;
    g_autoptr(IlTrace) t = g_file_test (fib_path, G_FILE_TEST_EXISTS)
                           ? il_chrome_import (fib_path, NULL, NULL, NULL, NULL, &error) : NULL;
    guint checked = 0;

    g_assert_no_error (error);
    for (gsize e = 0; t != NULL && e < t->n_events; e++)
      {
        g_autofree char *json = t->kind[e] == IL_EVENT_SLICE_BEGIN ? il_chrome_slice_args (t, e, NULL) : NULL;
        g_autofree char *lines = NULL, *ret = NULL;
        guint n, fib[2] = { 1, 1 };

        if (json == NULL)
          continue;
        lines = il_chrome_args_describe (json, &ret);
        g_assert_true (g_str_has_prefix (lines, "n: "));
        n = (guint) strtoul (lines + 3, NULL, 10);
        for (guint k = 2; k <= n; k++)
          {
            guint next = fib[0] + fib[1];
            fib[0] = fib[1];
            fib[1] = next;
          }
        g_assert_cmpuint ((guint) strtoul (ret, NULL, 10), ==, fib[1]);
        checked++;
      }
    g_assert_true (t == NULL || checked == 25);
  }
  g_assert_null (il_chrome_args_describe ("[1]", NULL));
  g_assert_null (il_chrome_args_describe ("not json", NULL));
  g_unlink (copy);
  g_unlink (gz_path);
  g_rmdir (dir);
}

static void
test_epoch_and_gzip (void)
{
  /* PyTorch profiler (Kineto): µs since 1970, plain and gzip. */
  const char *names[] = { "pytorch-epoch.json", "pytorch-epoch.json.gz" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(IlTrace) t = import_shape (names[i], &info);
      guint32 kernel = IL_NO_LANE;

      g_assert_cmpint (info.gzip, ==, i == 1);
      g_assert_cmpuint (info.n_slices, ==, 5);
      g_assert_cmpuint (info.n_flows, ==, 2);
      g_assert_cmpuint (info.n_instants, ==, 3);
      /* Every digit kept: 1700000000123456.789 µs. */
      g_assert_cmpint (info.first_ts_ns, ==, G_GINT64_CONSTANT (1700000000123456789));
      g_assert_cmpint (info.last_ts_ns, ==, G_GINT64_CONSTANT (1700000000127457100));
      g_assert_cmpuint (info.n_processes, ==, 4);           /* python, GPU 0, and the two text pids */
      g_assert_cmpuint (info.n_metadata_processes, ==, 1);  /* GPU 1: a name, no events */
      g_assert_cmpuint (lane_named (t, "GPU 1 (pid 1)"), ==, IL_NO_LANE);
      /* Text pids and tids are named by their text. */
      g_assert_cmpuint (lane_named (t, "Process Traces"), !=, IL_NO_LANE);
      g_assert_cmpuint (lane_named (t, "Thread Trace PyTorch Profiler"), !=, IL_NO_LANE);
      g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_METADATA], ==, 1);   /* process_labels */
      /* Rebased to the first event, nanoseconds intact. */
      g_assert_cmpint (trace_first_time (t), ==, 0);
      for (gsize e = 0; e < t->n_events; e++)
        if (t->kind[e] == IL_EVENT_SLICE_BEGIN
            && g_str_equal (il_trace_get_string (t, t->arg[e]), "ampere_sgemm_32x32_sliced1x4_tn"))
          {
            g_assert_cmpint (t->time[e], ==, 113215);   /* 123570.004 - 123456.789 µs */
            kernel = il_trace_event_lane (t, e);
          }
      g_assert_cmpuint (kernel, ==, lane_named (t, "stream 7"));
      il_chrome_import_info_clear (&info);
    }
}

static void
test_string_numbers (void)
{
  /* Hermes and converters write numbers as strings. */
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) t = import_shape ("string-numbers.json", &info);
  g_autoptr(GHashTable) counters = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (info.n_slices, ==, 2);
  g_assert_cmpuint (info.n_instants, ==, 1);
  g_assert_cmpint (info.first_ts_ns, ==, 10000);
  g_assert_cmpint (info.last_ts_ns, ==, 16000);   /* "1.6e1" */
  g_assert_cmpuint (info.n_counters, ==, 2);      /* "1024" and "+10.5"; "1.5e" is not a number */
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_NO_TIME], ==, 1);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_DURATION], ==, 1);
  for (gsize e = 0; e < t->n_events; e++)
    if (t->kind[e] == IL_EVENT_COUNTER)
      g_hash_table_insert (counters, il_trace_get_lane (t, il_trace_event_lane (t, e))->name, GUINT_TO_POINTER (t->arg[e]));
  g_assert_cmpfloat (il_trace_bits_float (GPOINTER_TO_UINT (g_hash_table_lookup (counters, "heap.free"))), ==, 10.5f);
  g_assert_cmpfloat (il_trace_bits_float (GPOINTER_TO_UINT (g_hash_table_lookup (counters, "heap.used"))), ==, 1024.0f);
  g_assert_cmpuint (lane_named (t, "Thread 2"), !=, IL_NO_LANE);
  il_chrome_import_info_clear (&info);
}

/* "name@depth" of each slice begin on a lane, in order. */
static char *
lane_slices (const IlTrace *t,
             guint32        lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  GString *out = g_string_new (NULL);

  for (guint k = 0; k < idx->len; k++)
    {
      guint32 e = idx->data[k];
      if (t->kind[e] == IL_EVENT_SLICE_BEGIN)
        g_string_append_printf (out, "%s%s@%u", out->len ? " " : "", il_trace_get_string (t, t->arg[e]), t->aux[e]);
      else if (t->kind[e] == IL_EVENT_INSTANT)
        g_string_append_printf (out, "%s%s!", out->len ? " " : "", il_trace_get_string (t, t->arg[e]));
    }
  return g_string_free (out, FALSE);
}

static void
test_async (void)
{
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) legacy = import_shape ("legacy-async.json", &info);
  guint tasks = 0;

  /* S … T/p … F: one lane per id, steps as marks; an S without id is skipped. */
  g_assert_cmpuint (info.n_async, ==, 6);
  g_assert_cmpuint (info.n_unmatched, ==, 0);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_NO_ID], ==, 1);
  for (guint32 l = 0; l < il_trace_get_n_lanes (legacy); l++)
    if (il_trace_get_lane (legacy, l)->kind == IL_LANE_TASK)
      {
        g_autofree char *got = lane_slices (legacy, l);
        tasks++;
        g_assert_true (g_str_equal (got, "fetch@0 fetch! fetch!") || g_str_equal (got, "fetch@0"));
      }
  g_assert_cmpuint (tasks, ==, 2);
  il_chrome_import_info_clear (&info);

  {
    /* Nestable b/e/n: id2.local is per process, id2.global and scope are
     * namespaces of their own; nested pairs nest. */
    g_autoptr(IlTrace) t = import_shape ("nestable-async.json", &info);
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func (g_free);

    g_assert_cmpuint (info.n_async, ==, 11);
    g_assert_cmpuint (info.n_unmatched, ==, 0);
    g_assert_cmpuint (info.n_processes, ==, 2);
    for (guint32 l = 0; l < il_trace_get_n_lanes (t); l++)
      if (il_trace_get_lane (t, l)->kind == IL_LANE_TASK)
        g_ptr_array_add (got, lane_slices (t, l));
    g_assert_cmpuint (got->len, ==, 4);
    g_assert_true (g_ptr_array_find_with_equal_func (got, "request@0 parse@1 chunk!", g_str_equal, NULL));
    g_assert_true (g_ptr_array_find_with_equal_func (got, "request@0", g_str_equal, NULL));
    g_assert_true (g_ptr_array_find_with_equal_func (got, "job@0", g_str_equal, NULL));
    g_assert_true (g_ptr_array_find_with_equal_func (got, "scoped@0", g_str_equal, NULL));
    il_chrome_import_info_clear (&info);
  }
}

static void
test_flows_v2 (void)
{
  /* bind_id + flow_out starts, flow_in ends, both: a step (Perfetto's test data). */
  const char *text =
    "[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":0,\"dur\":10,\"name\":\"send\",\"bind_id\":\"0x402\",\"flow_out\":true},"
    " {\"ph\":\"X\",\"pid\":2,\"tid\":2,\"ts\":20,\"dur\":10,\"name\":\"relay\",\"bind_id\":\"0x402\",\"flow_in\":true,\"flow_out\":true},"
    " {\"ph\":\"B\",\"pid\":3,\"tid\":3,\"ts\":40,\"name\":\"receive\",\"bind_id\":\"0x402\",\"flow_in\":true},"
    " {\"ph\":\"E\",\"pid\":3,\"tid\":3,\"ts\":50},"
    " {\"ph\":\"X\",\"pid\":3,\"tid\":3,\"ts\":60,\"dur\":1,\"name\":\"no flow\",\"bind_id\":\"0x9\",\"flow_in\":false},"
    " {\"ph\":\"s\",\"pid\":1,\"tid\":1,\"ts\":5,\"id\":\"0x402\",\"cat\":\"v1\"},"
    " {\"ph\":\"f\",\"pid\":3,\"tid\":3,\"ts\":45,\"id\":\"0x402\",\"cat\":\"v1\",\"bp\":\"e\"}]";
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) t = import_text (text, &info, NULL);
  GString *got = g_string_new (NULL);

  g_assert_nonnull (t);
  g_assert_cmpuint (info.n_flows, ==, 5);
  for (gsize e = 0; e < t->n_events; e++)
    if (t->kind[e] == IL_EVENT_FLOW)
      g_string_append_printf (got, "%c%u@%" G_GINT64_FORMAT " ", "stf"[t->value[e] == IL_FLOW_START ? 0 : t->value[e] == IL_FLOW_STEP ? 1 : 2],
                              t->arg[e], t->time[e] / 1000);
  /* v1 and v2 ids are apart even when they are spelled alike. */
  g_assert_cmpstr (got->str, ==, "s0@0 s1@5 t0@20 f0@40 f1@45 ");
  g_string_free (got, TRUE);
  il_chrome_import_info_clear (&info);
}

static void
test_skip_reasons (void)
{
  IlChromeImportInfo info = { 0 };
  g_autoptr(IlTrace) t = import_shape ("skipped-reasons.json", &info);
  g_autofree char *why = il_chrome_import_info_explain (&info);

  g_assert_nonnull (t);
  g_assert_cmpuint (info.n_slices, ==, 1);
  g_assert_cmpuint (info.n_skipped, ==, 10);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_TIME_RANGE], ==, 2);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_NO_TIME], ==, 1);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_DURATION], ==, 1);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_PHASE], ==, 3);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_VALUE], ==, 1);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_NO_ID], ==, 1);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_METADATA], ==, 1);
  g_assert_nonnull (why);
  g_assert_nonnull (strstr (why, "2 events had timestamps beyond ±146 years"));
  g_assert_nonnull (strstr (why, "1 complete (X) event had a missing"));
  g_assert_nonnull (strstr (why, "2 \"P\" (samples)"));
  il_chrome_import_info_clear (&info);

  /* Thousands are grouped. */
  {
    GString *text = g_string_new ("[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":1,\"dur\":1,\"name\":\"a\"}");
    g_autoptr(IlTrace) big = NULL;
    g_autofree char *words = NULL;
    for (guint i = 0; i < 71000; i++)
      g_string_append (text, ",{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":2e16,\"dur\":1}");
    g_string_append (text, "]");
    big = il_chrome_import_data ((const guint8 *) text->str, text->len, "big.json", &info, NULL);
    g_assert_nonnull (big);
    words = il_chrome_import_info_explain (&info);
    g_assert_cmpstr (words, ==, "71,000 events had timestamps beyond ±146 years (4.6e15 µs), or NaN or infinite ones");
    g_string_free (text, TRUE);
    il_chrome_import_info_clear (&info);
  }
  g_assert_null (il_chrome_import_info_explain (&info));
}

static void
test_gzip_damage (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "tests", "traces", "pytorch-epoch.json.gz", NULL);
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  /* Cut anywhere, or with a flipped byte: an error or a prefix, and the
   * message says gzip. */
  for (gsize cut = 2; cut < len; cut += 7)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = il_chrome_import_data ((const guint8 *) data, cut, "cut.json.gz", &info, &error);
      if (t == NULL)
        g_assert_nonnull (strstr (error->message, "gzip"));
      else
        g_assert_nonnull (strstr (info.warning, "gzip"));
      il_chrome_import_info_clear (&info);
    }
  for (gsize at = 10; at < len; at += 13)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = NULL;
      data[at] ^= 0x5a;
      t = il_chrome_import_data ((const guint8 *) data, len, "flip.json.gz", &info, &error);
      data[at] ^= 0x5a;
      if (t == NULL)
        g_assert_nonnull (strstr (error->message, "gzip"));
      il_chrome_import_info_clear (&info);
    }
}

static void
assert_same_trace (const IlTrace *a,
                   const IlTrace *b)
{
  g_assert_cmpuint (a->n_events, ==, b->n_events);
  g_assert_cmpuint (il_trace_get_n_lanes (a), ==, il_trace_get_n_lanes (b));
  for (guint32 l = 0; l < il_trace_get_n_lanes (a); l++)
    {
      const IlLane *x = il_trace_get_lane (a, l), *y = il_trace_get_lane (b, l);
      g_assert_cmpstr (x->name, ==, y->name);
      g_assert_cmpint (x->kind, ==, y->kind);
      g_assert_cmpuint (x->parent, ==, y->parent);
    }
  for (gsize e = 0; e < a->n_events; e++)
    {
      g_assert_cmpint (a->time[e], ==, b->time[e]);
      g_assert_cmpuint (il_trace_event_lane (a, e), ==, il_trace_event_lane (b, e));
      g_assert_cmpuint (a->kind[e], ==, b->kind[e]);
      g_assert_cmpuint (a->value[e], ==, b->value[e]);
      g_assert_cmpuint (a->aux[e], ==, b->aux[e]);
      if (a->kind[e] == IL_EVENT_SLICE_BEGIN || a->kind[e] == IL_EVENT_SLICE_END || a->kind[e] == IL_EVENT_INSTANT)
        g_assert_cmpstr (il_trace_get_string (a, a->arg[e]), ==, il_trace_get_string (b, b->arg[e]));
      else if (a->kind[e] == IL_EVENT_COUNTER)
        g_assert_cmpuint (a->arg[e], ==, b->arg[e]);
    }
  g_assert_cmpint (a->end_time, ==, b->end_time);
}

/* The args of the slice named name on the lane named lane, in lines
 * (NULL: none). */
static char *
args_of (const IlTrace *t,
         const char    *lane,
         const char    *name)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane_named (t, lane));

  for (guint k = 0; k < idx->len; k++)
    {
      gsize e = idx->data[k];
      if (t->kind[e] == IL_EVENT_SLICE_BEGIN && g_str_equal (il_trace_get_string (t, t->arg[e]), name))
        {
          g_autoptr(GError) error = NULL;
          g_autofree char *json = il_chrome_slice_args (t, e, &error);
          g_assert_no_error (error);
          return json != NULL ? il_chrome_args_describe (json, NULL) : NULL;
        }
    }
  g_assert_not_reached ();
}

static int
compare_strings_indirect (gconstpointer a,
                          gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every slice's args text, sorted, with the name of its slice. */
static GPtrArray *
all_slice_args (const IlTrace *t)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (gsize e = 0; e < t->n_events; e++)
    if (t->kind[e] == IL_EVENT_SLICE_BEGIN)
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *json = il_chrome_slice_args (t, e, &error);

        g_assert_no_error (error);
        if (json != NULL)
          g_ptr_array_add (out, g_strdup_printf ("%s %s", il_trace_get_string (t, t->arg[e]), json));
      }
  g_ptr_array_sort (out, compare_strings_indirect);
  return out;
}

/* Exporting an imported trace to Chrome JSON keeps each slice's args, an
 * E's merged over its B's, so importing the export shows the same. */
static void
test_export_keeps_args (void)
{
  const char *files[] = { "viztracer-args.json", "begin-end-args.json", "pytorch-epoch.json.gz" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      IlChromeImportInfo info = { 0 }, info_back = { 0 };
      g_autoptr(IlTrace) t = import_shape (files[i], &info);
      g_autofree char *dir = g_dir_make_tmp ("interleave-chrome-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "export.json", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) back = NULL;
      g_autoptr(GPtrArray) before = NULL;
      g_autoptr(GPtrArray) after = NULL;

      g_assert_true (il_chrome_export (t, path, &error));
      g_assert_no_error (error);
      back = il_chrome_import (path, &info_back, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      before = all_slice_args (t);
      after = all_slice_args (back);
      g_assert_cmpuint (before->len, >, 0);
      g_assert_cmpuint (after->len, ==, before->len);
      for (guint k = 0; k < before->len; k++)
        g_assert_cmpstr (g_ptr_array_index (after, k), ==, g_ptr_array_index (before, k));
      il_chrome_import_info_clear (&info);
      il_chrome_import_info_clear (&info_back);
      g_unlink (path);
      g_rmdir (dir);
    }
}

/* Perfetto merges an E event's args into its slice's: the E's keys are
 * added, or replace the B's.  An unmatched E's args go nowhere and do not
 * shift the args of the slices after it. */
static void
test_end_args (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "tests", "traces", "begin-end-args.json", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  for (int how = 0; how < 2; how++)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = how == 0 ? il_chrome_import (path, &info, NULL, NULL, NULL, &error)
                             : il_chrome_import_data ((const guint8 *) contents, len, "mem", &info, &error);
      struct { const char *lane, *name, *lines; } want[] = {
        { "main", "request", "url: /a\nstatus: 200\nsize: 512\n" },
        { "main", "parse", "bytes: 120\n" },
        { "main", "query", "rows: 2\n" },
        { "main", "fetch", "row: 2\n" },
        { "worker", "tie", "at: end\n" },
        { "worker", "after", "after: 1\n" },
        { "worker", "plain", NULL },
      };
      guint64 not_kept = 1;

      g_assert_no_error (error);
      g_assert_cmpuint (info.n_unmatched, ==, 1);   /* the orphan E */
      g_assert_cmpuint (info.n_slices, ==, 7);
      for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
        {
          g_autofree char *lines = args_of (t, want[i].lane, want[i].name);
          g_assert_cmpstr (lines, ==, want[i].lines);
        }
      g_assert_cmpuint (il_chrome_slice_args_count (t, &not_kept), ==, 6);
      g_assert_cmpuint (not_kept, ==, 0);
      il_chrome_import_info_clear (&info);
    }
}

/* A gzip trace keeps 32 MB of args: beyond, a slice's args are not kept.
 * How many slices lost theirs is one count, whether a slice lost its B's
 * args, its E's or both, and an orphan E's lost args are nobody's: the
 * same right after import, in the message of a slice that lost them and
 * once the trace is saved and loaded again. */
static void
test_args_not_kept (void)
{
  g_autofree char *dir = g_dir_make_tmp ("interleave-not-kept-XXXXXX", NULL);
  g_autofree char *gz_path = g_build_filename (dir, "big.json.gz", NULL);
  g_autofree char *saved = g_build_filename (dir, "big.itrace", NULL);
  g_autoptr(GString) json = g_string_new ("[");
  g_autofree char *pad = g_strnfill (1000, 'x');
  const guint n = 20000;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (json, "{\"ph\": \"B\", \"pid\": 1, \"tid\": 1, \"ts\": %u, \"name\": \"s\", "
                            "\"args\": {\"i\": %u, \"pad\": \"%s\"}},\n"
                            "{\"ph\": \"E\", \"pid\": 1, \"tid\": 1, \"ts\": %u, "
                            "\"args\": {\"end\": %u, \"pad\": \"%s\"}},\n", 2 * i, i, pad, 2 * i + 1, i, pad);
  g_string_append_printf (json, "{\"ph\": \"E\", \"pid\": 1, \"tid\": 2, \"ts\": %u, "
                          "\"args\": {\"orphan\": \"%s\"}}]", 2 * n, pad);
  write_gzip (gz_path, json->str, json->len);

  for (int how = 0; how < 2; how++)
    {
      IlChromeImportInfo info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) imported = il_chrome_import (gz_path, &info, NULL, NULL, NULL, &error);
      g_autoptr(IlTrace) loaded = NULL;
      IlTrace *t;
      guint64 not_kept = 0, failing = 0;
      g_autofree char *message = NULL;

      g_assert_no_error (error);
      if (how == 1)
        {
          g_assert_true (il_trace_save (imported, NULL, saved, &error));
          loaded = il_trace_load (saved, NULL, NULL, NULL, NULL, &error);
          g_assert_no_error (error);
        }
      t = how == 0 ? imported : loaded;
      g_assert_cmpuint (il_chrome_slice_args_count (t, &not_kept), ==, n);
      for (gsize e = 0; e < t->n_events; e++)
        {
          g_autoptr(GError) why = NULL;
          g_autofree char *args = t->kind[e] == IL_EVENT_SLICE_BEGIN ? il_chrome_slice_args (t, e, &why) : NULL;
          if (why != NULL)
            {
              failing++;
              g_assert_null (args);
              g_free (message);
              message = g_strdup (why->message);
            }
        }
      /* Some kept, some not: about 16 000 slices of 2 KB fit. */
      g_assert_cmpuint (failing, >, 1000);
      g_assert_cmpuint (failing, <, n - 1000);
      g_assert_cmpuint (not_kept, ==, failing);
      {
        g_autofree char *count = g_strdup_printf ("the args of %" G_GUINT64_FORMAT " slices were not kept", failing);
        g_assert_nonnull (strstr (message, count));
      }
      il_chrome_import_info_clear (&info);
    }
  g_unlink (saved);
  g_unlink (gz_path);
  g_rmdir (dir);
}

/* Each slice with args in test_split_and_blocks' file says which event
 * made it ("i"): its slice must have that event's time and name. */
static void
check_split_args (const IlTrace *t)
{
  guint n = 0;

  for (gsize e = 0; e < t->n_events; e++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *json = NULL, *lines = NULL, *name = NULL;
      const char *at;
      guint i, ts;

      if (t->kind[e] != IL_EVENT_SLICE_BEGIN)
        continue;
      json = il_chrome_slice_args (t, e, &error);
      g_assert_no_error (error);
      if (json == NULL)
        continue;
      lines = il_chrome_args_describe (json, NULL);
      g_assert_nonnull (lines);
      at = strstr (lines, "i: ");
      g_assert_nonnull (at);
      i = (guint) strtoul (at + 3, NULL, 10);
      ts = i % 11 == 10 ? 5 : 1000000 - (i % 500000);
      g_assert_cmpint (t->time[e], ==, (gint64) ts * 1000 - 5000);   /* rebased to the first, 5 µs */
      name = i % 11 == 0 ? g_strdup_printf ("b%u", i % 300) : g_strdup_printf ("x\u00e9%u", i % 1000);
      g_assert_cmpstr (il_trace_get_string (t, t->arg[e]), ==, name);
      n++;
    }
  g_assert_cmpuint (n, >, 100000);
}

/* Big files are read by two threads and many blocks are merged: the
 * result must be what one thread reading it all in one go makes.  Events
 * of every kind on both sides of the middle, unsorted, with metadata,
 * text pids, flows and counters that span the split, and ties at one
 * time across blocks. */
static void
test_split_and_blocks (void)
{
  g_autofree char *dir = g_dir_make_tmp ("interleave-chrome-XXXXXX", NULL);
  GString *text = g_string_new ("{\"otherData\":{\"v\":1},\"traceEvents\":[\n");
  const char *kinds[] = { "A", "B" };

  for (guint i = 0; text->len < (40u << 20); i++)
    {
      guint tid = i % 7, ts = 1000000 - (i % 500000);
      if (i > 0)
        g_string_append (text, ",\n");
      switch (i % 11)
        {
        case 0:
          g_string_append_printf (text, "{\"ph\":\"B\",\"pid\":\"%s\",\"tid\":%u,\"ts\":%u,\"name\":\"b%u\",\"args\":{\"i\":%u}}",
                                  kinds[i % 2], tid, ts, i % 300, i);
          break;
        case 1:
          g_string_append_printf (text, "{\"ph\":\"E\",\"pid\":\"%s\",\"tid\":%u,\"ts\":%u.5}", kinds[i % 2], tid, ts + 3);
          break;
        case 2:
          g_string_append_printf (text, "{\"ph\":\"C\",\"pid\":1,\"ts\":%u,\"name\":\"mem\",\"args\":{\"rss\":%u,\"heap\":\"%u\"}}",
                                  ts, i % 1000, i % 77);
          break;
        case 3:
          g_string_append_printf (text, "{\"ph\":\"%s\",\"pid\":1,\"tid\":%u,\"ts\":%u,\"id\":\"f%u\",\"cat\":\"c\"}",
                                  i % 2 ? "s" : "f", tid, ts, (i / 22) % 5000);
          break;
        case 4:
          g_string_append_printf (text, "{\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"t%u-%u\"}}",
                                  tid, tid, i % 13);
          break;
        case 5:
          g_string_append_printf (text, "{\"ph\":\"i\",\"pid\":1,\"tid\":%u,\"ts\":7,\"name\":\"tie %u\"}", tid, i);
          break;
        case 6:
          g_string_append_printf (text, "{\"ph\":\"b\",\"pid\":1,\"ts\":%u,\"cat\":\"a\",\"id2\":{\"local\":\"%u\"},\"name\":\"job %u\"}",
                                  ts, i % 40, i % 40);
          break;
        case 7:
          g_string_append_printf (text, "{\"ph\":\"e\",\"pid\":1,\"ts\":%u,\"cat\":\"a\",\"id2\":{\"local\":\"%u\"}}",
                                  ts + 2, (i - 1) % 40);
          break;
        case 8:
          g_string_append_printf (text, "{\"ph\":\"P\",\"pid\":2,\"tid\":1,\"ts\":%u}", ts);
          break;
        default:
          /* Every other one at one time, many with equal durations: their
           * args must still land on their own slices. */
          g_string_append_printf (text, "{\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%u,\"dur\":%u,\"name\":\"x\\u00e9%u\",\"args\":{\"a\":[1,{\"b\":null}],\"i\":%u}}",
                                  1 + i % 3, tid, i % 11 == 10 ? 5 : ts, 1 + i % 9, i % 1000, i);
          break;
        }
    }
  g_string_append (text, "\n],\"metadata\":{\"k\":\"v\"}}\n");

  for (guint cut = 0; cut < 2; cut++)
    {
      g_autofree char *path = g_build_filename (dir, "big.json", NULL);
      /* Whole, and cut off in the second half. */
      gsize len = cut ? text->len - text->len / 5 : text->len;
      IlChromeImportInfo a_info = { 0 }, b_info = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) a = NULL, b = NULL;

      g_assert_true (g_file_set_contents (path, text->str, (gssize) len, NULL));
      a = il_chrome_import (path, &a_info, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      b = il_chrome_import_data ((const guint8 *) text->str, len, path, &b_info, &error);
      g_assert_no_error (error);
      check_split_args (a);
      check_split_args (b);
      g_assert_cmpuint (a_info.n_events_read, ==, b_info.n_events_read);
      g_assert_cmpuint (a_info.n_slices, ==, b_info.n_slices);
      g_assert_cmpuint (a_info.n_counters, ==, b_info.n_counters);
      g_assert_cmpuint (a_info.n_flows, ==, b_info.n_flows);
      g_assert_cmpuint (a_info.n_async, ==, b_info.n_async);
      g_assert_cmpuint (a_info.n_skipped, ==, b_info.n_skipped);
      g_assert_cmpuint (a_info.n_unmatched, ==, b_info.n_unmatched);
      g_assert_cmpuint (a_info.n_processes, ==, b_info.n_processes);
      g_assert_cmpuint (a_info.n_threads, ==, b_info.n_threads);
      g_assert_cmpint (a_info.truncated, ==, cut);
      g_assert_cmpstr (a_info.warning, ==, b_info.warning);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (a_info.skipped_phases, "P")), ==,
                        GPOINTER_TO_UINT (g_hash_table_lookup (b_info.skipped_phases, "P")));
      assert_same_trace (a, b);
      /* Ties at one time keep file order across blocks and halves. */
      {
        guint64 last = 0, n_ties = 0;
        for (gsize e = 0; e < a->n_events; e++)
          if (a->kind[e] == IL_EVENT_INSTANT && g_str_has_prefix (il_trace_get_string (a, a->arg[e]), "tie "))
            {
              guint64 i = g_ascii_strtoull (il_trace_get_string (a, a->arg[e]) + 4, NULL, 10);
              g_assert_cmpuint (i, >, last);
              last = i;
              n_ties++;
            }
        g_assert_cmpuint (n_ties, >, 40000);   /* over many blocks */
      }
      il_chrome_import_info_clear (&a_info);
      il_chrome_import_info_clear (&b_info);
      g_unlink (path);
    }
  g_string_free (text, TRUE);
  g_rmdir (dir);
}

/* Times, durations, pids and tids written as plain numbers are read
 * while lexing (the common case); the same numbers given as strings go
 * the general way.  Both must agree on every spelling, and malformed
 * numbers must fail as they do under any other key. */
/* Times are kept relative to the earliest one: the widest span the
 * range allows (an X ending at its top, a B at its bottom) must fit
 * without overflow, and one µs beyond it is skipped with its reason. */
static void
test_widest_span (void)
{
  const char *text =
    "[{\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":-4600000000000000,\"name\":\"low\"},"
    "{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":4599999999999999,\"dur\":1,\"name\":\"high\"},"
    "{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":4599999999999999,\"dur\":2,\"name\":\"beyond\"},"
    "{\"ph\":\"i\",\"pid\":1,\"tid\":2,\"ts\":4600000000000001,\"name\":\"far\"}]";
  IlChromeImportInfo info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) t = import_text (text, &info, &error);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpint (info.first_ts_ns, ==, -G_GINT64_CONSTANT (4600000000000000000));
  g_assert_cmpint (info.last_ts_ns, ==, G_GINT64_CONSTANT (4600000000000000000));
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_DURATION], ==, 1);
  g_assert_cmpuint (info.n_skipped_why[IL_CHROME_SKIP_TIME_RANGE], ==, 1);
  /* The whole span, in ns from the first event. */
  g_assert_cmpint (t->time[t->n_events - 1], ==, G_GINT64_CONSTANT (9200000000000000000));
  il_chrome_import_info_clear (&info);
}

static void
test_number_spellings (void)
{
  const char *good[] = {
    "0", "-0", "7", "10.5", "0.0001", "0.0004", "0.0005", "1.2345", "1.2344999", "-7.25", "0.9995", "3.99999",
    "123456789012.3456", "1600000000000000.123", "9199999999999999", "9200000000000001", "12345678901234567",
    "4599999999999999", "4600000000000001", "-4600000000000000",
    "1e3", "1.5E+2", "-2e-1", "0.1e1", "100000000000000000000", "4242", "-5",
    /* Eight digits at a time: runs of 8, 16 and more, cut anywhere. */
    "12345678", "123456789", "1234567890123456", "12345678.12345678", "0.12345678901", "99999999.9999",
    "87654321.0005", "5.00049", "5.99951", "-12345678.123456789",
  };
  const char *bad[] = { "01", "-", "1.", "-x", "1.e3", "00", "1e", "-01", "2.5.1" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      IlChromeImportInfo info[2] = { { 0 }, { 0 } };
      IlTrace *t[2] = { NULL, NULL };
      gboolean integer = strspn (good[i], "-0123456789") == strlen (good[i]) && strlen (good[i]) < 16;

      for (guint f = 0; f < 2; f++)
        {
          /* Integers for pid and tid: other text makes a text id. */
          const char *id = integer ? good[i] : "3";
          g_autofree char *ev = f == 0
            ? g_strdup_printf ("{\"ph\":\"X\",\"pid\":%s,\"tid\":%s,\"ts\":%s,\"dur\":%s,\"name\":\"a\"}",
                               id, id, good[i], good[i])
            : g_strdup_printf ("{\"ph\":\"X\",\"pid\":\"%s\",\"tid\":\"%s\",\"ts\":\"%s\",\"dur\":\"%s\",\"name\":\"a\"}",
                               id, id, good[i], good[i]);
          g_autofree char *text = g_strdup_printf ("[%s,{\"ph\":\"i\",\"pid\":1,\"ts\":%s,\"name\":\"b\"}]", ev, good[i]);
          g_autoptr(GError) error = NULL;
          t[f] = import_text (text, &info[f], &error);
          g_assert_true (t[f] != NULL || error != NULL);
        }
      g_test_message ("%s", good[i]);
      g_assert_cmpint (info[0].first_ts_ns, ==, info[1].first_ts_ns);
      g_assert_cmpint (info[0].last_ts_ns, ==, info[1].last_ts_ns);
      g_assert_cmpuint (info[0].n_slices, ==, info[1].n_slices);
      g_assert_cmpuint (info[0].n_instants, ==, info[1].n_instants);
      for (guint w = 0; w < IL_CHROME_N_SKIPS; w++)
        g_assert_cmpuint (info[0].n_skipped_why[w], ==, info[1].n_skipped_why[w]);
      g_assert_true ((t[0] == NULL) == (t[1] == NULL));
      if (t[0] != NULL)
        assert_same_trace (t[0], t[1]);
      g_clear_pointer (&t[0], il_trace_unref);
      g_clear_pointer (&t[1], il_trace_unref);
      il_chrome_import_info_clear (&info[0]);
      il_chrome_import_info_clear (&info[1]);
    }
  /* Exact values, rounded to the nanosecond on the fourth decimal. */
  {
    const struct { const char *ts; gint64 ns; } exact[] = {
      { "1.2345", 1235 }, { "1.2344999", 1234 }, { "0.0005", 1 }, { "-7.25", -7250 },
      { "1600000000000000.123", G_GINT64_CONSTANT (1600000000000000123) },
      { "12345678.12345678", G_GINT64_CONSTANT (12345678123) }, { "99999999.9999", G_GINT64_CONSTANT (100000000000) },
      { "5.00049", 5000 }, { "5.99951", 6000 }, { "1234567890123456", G_GINT64_CONSTANT (1234567890123456000) },
    };
    for (guint i = 0; i < G_N_ELEMENTS (exact); i++)
      {
        IlChromeImportInfo info = { 0 };
        g_autofree char *text = g_strdup_printf ("[{\"ph\":\"i\",\"pid\":1,\"ts\":%s,\"name\":\"b\"}]", exact[i].ts);
        g_autoptr(GError) error = NULL;
        g_autoptr(IlTrace) t = import_text (text, &info, &error);
        g_assert_no_error (error);
        g_assert_nonnull (t);
        g_assert_cmpint (info.first_ts_ns, ==, exact[i].ns);
        il_chrome_import_info_clear (&info);
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *keys[] = { "ts", "zz", "pid", "zzz", "dur", "tid" };
      g_autofree char *first = NULL;

      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          g_autofree char *text = g_strdup_printf ("[{\"ph\":\"i\",\"%s\":%s,\"name\":\"b\"}]", keys[k], bad[i]);
          g_autoptr(GError) error = NULL;
          g_autoptr(IlTrace) t = import_text (text, NULL, &error);
          g_assert_null (t);
          g_assert_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_PARSE);
          /* Keys of one length fail at one place, with one message. */
          if (k % 2 == 0)
            {
              g_free (first);
              first = g_strdup (error->message);
            }
          else
            g_assert_cmpstr (error->message, ==, first);
        }
    }
}

static int
compare_times (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* Blocks are sorted by time with a radix sort over the bits their times
 * span, then by rec_cmp within one time.  Records whose order rec_cmp
 * decides alone (no two X slices with one time and duration, no two
 * instants at one time) must come out the same whatever the file's order:
 * times far apart (negative, epoch-sized), many X slices at one time
 * with different durations, in runs short and long, over many blocks. */
static void
test_sort_order (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (13);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) used = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  const gint64 centres[] = { G_GINT64_CONSTANT (-5000000000000), 0, 123456789, G_GINT64_CONSTANT (1600000000000000) };
  /* Lanes in a fixed order, not that of their first events. */
  const char *lanes = "[{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":1}},"
                      "{\"ph\":\"M\",\"pid\":1,\"tid\":2,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":2}},"
                      "{\"ph\":\"M\",\"pid\":1,\"tid\":3,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":3}},\n";
  GString *forward = g_string_new (lanes), *backward = g_string_new (lanes);
  g_autoptr(IlTrace) a = NULL, b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 first = G_MAXINT64;
  guint k = 0;

  while (events->len < 200000)
    {
      gint64 t = centres[g_rand_int_range (rand, 0, G_N_ELEMENTS (centres))] + g_rand_int_range (rand, 0, 50000);
      guint tid = g_rand_int_range (rand, 1, 4);
      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          /* One instant per time (over all lanes). */
          gint64 key = t * 2;
          if (g_hash_table_contains (used, &key))
            continue;
          g_hash_table_add (used, g_memdup2 (&key, sizeof key));
          g_ptr_array_add (events, g_strdup_printf ("{\"ph\":\"i\",\"pid\":1,\"tid\":%u,\"ts\":%" G_GINT64_FORMAT ".5,\"name\":\"i\"}",
                                                    tid, t));
          first = MIN (first, t * 1000 + (t < 0 ? -500 : 500));   /* "-4.5" is -4.5 */
        }
      else
        {
          /* One X per time and duration: runs of one time up to a few hundred long. */
          guint dur = g_rand_int_range (rand, 1, t % 7 == 0 ? 400 : 6);
          gint64 key = (t * 400 + dur) * 2 + 1;
          if (g_hash_table_contains (used, &key))
            continue;
          g_hash_table_add (used, g_memdup2 (&key, sizeof key));
          g_ptr_array_add (events, g_strdup_printf ("{\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":%" G_GINT64_FORMAT ",\"dur\":%u,\"name\":\"d%u\"}",
                                                    tid, t, dur, dur));
          t *= 1000;
          g_array_append_val (starts, t);
          first = MIN (first, t);
        }
    }
  for (guint i = 0; i < events->len; i++)
    {
      g_string_append_printf (forward, "%s%s", i ? ",\n" : "", (char *) events->pdata[i]);
      g_string_append_printf (backward, "%s%s", i ? ",\n" : "", (char *) events->pdata[events->len - 1 - i]);
    }
  g_string_append (forward, "]");
  g_string_append (backward, "]");
  a = il_chrome_import_data ((const guint8 *) forward->str, forward->len, "forward.json", NULL, &error);
  g_assert_no_error (error);
  b = il_chrome_import_data ((const guint8 *) backward->str, backward->len, "backward.json", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->n_events, >, 300000);
  assert_same_trace (a, b);
  /* Every slice begins at its own time: out of order, it would have been
   * moved up to the time before it. */
  g_array_sort (starts, compare_times);
  for (gsize e = 0; e < a->n_events; e++)
    if (a->kind[e] == IL_EVENT_SLICE_BEGIN)
      g_assert_cmpint (a->time[e], ==, g_array_index (starts, gint64, k++) - first);
  g_assert_cmpuint (k, ==, starts->len);
  g_string_free (forward, TRUE);
  g_string_free (backward, TRUE);
}

/* Names are looked up in a cache keyed by a hash of their length and
 * three 8-byte samples; names that differ only outside the samples share
 * a hash and must still come out as themselves, whatever their length. */
static void
test_name_cache (void)
{
  GString *text = g_string_new ("[");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) t = NULL;
  guint k = 0;

  for (gsize len = 1; len <= 40; len++)
    for (guint v = 0; v < 3; v++)
      {
        /* Differ at byte 8 and len - 9 (outside the samples from 30 on), or not at all. */
        char *name = g_strnfill (len, 'a');
        if (v > 0 && len > 8)
          name[8] = v == 1 ? 'b' : 'c';
        if (v == 2 && len > 9)
          name[len - 9] = 'd';
        g_ptr_array_add (names, name);
      }
  for (guint i = 0; i < 3 * names->len; i++)
    g_string_append_printf (text, "%s{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%u,\"dur\":1,\"name\":\"%s\"}",
                            i ? "," : "", i * 2, (char *) names->pdata[i % names->len]);
  g_string_append (text, "]");
  t = il_chrome_import_data ((const guint8 *) text->str, text->len, "names.json", NULL, &error);
  g_assert_no_error (error);
  for (gsize e = 0; e < t->n_events; e++)
    if (t->kind[e] == IL_EVENT_SLICE_BEGIN)
      g_assert_cmpstr (il_trace_get_string (t, t->arg[e]), ==, names->pdata[k++ % names->len]);
  g_assert_cmpuint (k, ==, 3 * names->len);
  g_string_free (text, TRUE);
}

static void
test_export (void)
{
  static const struct { const char *lesson; IlMode mode; } runs[] = {
    { "07-convoy-effect.json", IL_MODE_THREADS },
    { "10-event-loop.json", IL_MODE_ASYNCIO },
  };

  for (guint r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      g_autoptr(IlTrace) trace = tu_run_lesson (runs[r].lesson, runs[r].mode);
      g_autofree char *dir = g_dir_make_tmp ("interleave-chrome-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "run.json", NULL);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) back = NULL;
      IlChromeImportInfo info = { 0 };
      JsonArray *events;
      guint x = 0, state_x = 0, names = 0, starts = 0, finishes = 0, state_intervals = 0;
      GHashTable *flow_ids = g_hash_table_new (g_int64_hash, g_int64_equal);
      g_autofree gint64 *ids = NULL;

      g_assert_true (il_chrome_export (trace, path, &error));
      g_assert_no_error (error);
      g_assert_true (json_parser_load_from_file (parser, path, &error));
      events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traceEvents");
      ids = g_new0 (gint64, json_array_get_length (events));
      for (guint i = 0; i < json_array_get_length (events); i++)
        {
          JsonObject *ev = json_array_get_object_element (events, i);
          const char *ph = json_object_get_string_member (ev, "ph");
          if (g_str_equal (ph, "X"))
            {
              x++;
              /* State intervals of task/thread lanes carry their cause. */
              if (json_object_has_member (ev, "args")
                  && json_object_has_member (json_object_get_object_member (ev, "args"), "cause"))
                state_x++;
            }
          else if (g_str_equal (ph, "M") && g_str_equal (json_object_get_string_member (ev, "name"), "thread_name"))
            names++;
          else if (g_str_equal (ph, "s"))
            {
              ids[i] = json_object_get_int_member (ev, "id");
              g_hash_table_add (flow_ids, &ids[i]);
              starts++;
            }
          else if (g_str_equal (ph, "f"))
            {
              gint64 id = json_object_get_int_member (ev, "id");
              g_assert_true (g_hash_table_contains (flow_ids, &id));
              g_assert_cmpstr (json_object_get_string_member (ev, "bp"), ==, "e");
              finishes++;
            }
        }
      g_hash_table_unref (flow_ids);
      g_assert_cmpuint (starts, ==, finishes);
      g_assert_cmpuint (starts, >, 0);
      g_assert_cmpuint (names, ==, il_trace_get_n_lanes (trace) - 1);   /* all but the one process lane */

      /* X slices of task lanes = state intervals (not-started and done excluded). */
      for (guint32 l = 0; l < il_trace_get_n_lanes (trace); l++)
        {
          const IlLaneIndex *idx = il_trace_get_lane_events (trace, l);
          gint64 prev_t = -1;
          int prev_state = -1;
          if (il_trace_get_lane (trace, l)->kind != IL_LANE_TASK && il_trace_get_lane (trace, l)->kind != IL_LANE_THREAD)
            continue;
          for (guint k = 0; k <= idx->len; k++)
            {
              guint32 e = k < idx->len ? idx->data[k] : 0;
              gint64 t = k < idx->len ? trace->time[e] : trace->end_time;
              if (k < idx->len && trace->kind[e] != IL_EVENT_STATE)
                continue;
              if (prev_state >= 0 && prev_state != IL_STATE_NOT_STARTED && prev_state != IL_STATE_DONE && t > prev_t)
                state_intervals++;
              if (k < idx->len)
                {
                  prev_t = t;
                  prev_state = trace->value[e];
                }
            }
        }
      g_assert_cmpuint (state_intervals, >, 0);
      g_assert_cmpuint (state_x, ==, state_intervals);
      g_assert_cmpuint (x, >, state_intervals);   /* plus cores, GIL, loop */

      /* And back in: every X becomes a slice. */
      back = il_chrome_import (path, &info, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (info.n_slices, ==, x);
      g_assert_cmpuint (info.n_flows, ==, starts + finishes);
      g_assert_cmpuint (info.n_skipped, ==, 0);
      il_chrome_import_info_clear (&info);
      g_unlink (path);
      g_rmdir (dir);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chrome/real-traces", test_real_traces);
  g_test_add_func ("/chrome/forms-and-phases", test_forms_and_phases);
  g_test_add_func ("/chrome/unsorted-and-ties", test_unsorted_and_ties);
  g_test_add_func ("/chrome/begin-end-ties", test_begin_end_ties);
  g_test_add_func ("/chrome/overlap-and-unmatched", test_overlap_and_unmatched);
  g_test_add_func ("/chrome/counters-ids-order", test_counters_ids_order);
  g_test_add_func ("/chrome/truncated", test_truncated);
  g_test_add_func ("/chrome/every-cut", test_every_cut);
  g_test_add_func ("/chrome/progress-and-cancel", test_progress_and_cancel);
  g_test_add_func ("/chrome/junk", test_junk);
  g_test_add_func ("/chrome/export", test_export);
  g_test_add_func ("/chrome/epoch-and-gzip", test_epoch_and_gzip);
  g_test_add_func ("/chrome/widest-span", test_widest_span);
  g_test_add_func ("/chrome/export-keeps-args", test_export_keeps_args);
  g_test_add_func ("/chrome/string-numbers", test_string_numbers);
  g_test_add_func ("/chrome/async", test_async);
  g_test_add_func ("/chrome/flows-v2", test_flows_v2);
  g_test_add_func ("/chrome/skip-reasons", test_skip_reasons);
  g_test_add_func ("/chrome/gzip-damage", test_gzip_damage);
  g_test_add_func ("/chrome/split-and-blocks", test_split_and_blocks);
  g_test_add_func ("/chrome/number-spellings", test_number_spellings);
  g_test_add_func ("/chrome/sort-order", test_sort_order);
  g_test_add_func ("/chrome/name-cache", test_name_cache);
  g_test_add_func ("/chrome/slice-args", test_slice_args);
  g_test_add_func ("/chrome/end-args", test_end_args);
  g_test_add_func ("/chrome/args-not-kept", test_args_not_kept);
  return g_test_run ();
}
