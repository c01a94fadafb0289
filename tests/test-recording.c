/* test-recording.c — the recording reader and converter on hand-made records
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Real programs are recorded in test-recorder.py; here the records are
 * written by hand so that every rule of the replay can be checked exactly,
 * and damaged input can be fed without a Python interpreter.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "il-derive.h"
#include "il-recording.h"
#include "il-scenario.h"
#include "il-trace-io.h"
#include "../recorder/interleave-recorder.h"

static void
put (GByteArray *b,
     guint8      kind,
     guint32     thread,
     gint64      t_us,
     gint64      a,
     gint64      bb,
     const char *text)
{
  IlRecHeader h = { kind, 0, text ? (guint16) strlen (text) : 0, thread, t_us * 1000, a, bb };
  g_byte_array_append (b, (const guint8 *) &h, sizeof h);
  if (text)
    g_byte_array_append (b, (const guint8 *) text, (guint) strlen (text));
}

/* Two threads trading the GIL, one sleeping in between. */
static GByteArray *
two_threads (void)
{
  GByteArray *b = g_byte_array_new ();

  g_byte_array_append (b, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (b, IL_REC_PROCESS, 0, 1000, 100, 1, "3.11.2 main");
  put (b, IL_REC_INTERVAL, 0, 1000, 5000, 0, NULL);
  put (b, IL_REC_THREAD_START, 1, 1000, 1, 100, "MainThread");
  put (b, IL_REC_THREAD_START, 2, 1100, 2, 101, "worker\nThread");
  put (b, IL_REC_GIL, 1, 1200, 3, 1, NULL);          /* main takes it back, asked for */
  put (b, IL_REC_GIL, 2, 6200, 3, 2, NULL);          /* forced: drop request seen */
  put (b, IL_REC_CALL_BEGIN, 2, 7000, IL_REC_CALL_SLEEP, 2000000, NULL); /* sleeps 2 ms */
  put (b, IL_REC_GIL, 1, 7010, 1, 3, NULL);
  put (b, IL_REC_GIL, 2, 11000, 1, 4, NULL);
  put (b, IL_REC_CALL_END, 2, 11010, IL_REC_CALL_SLEEP, 0, NULL);
  put (b, IL_REC_THREAD_END, 2, 12000, 3000000, 0, NULL);
  put (b, IL_REC_EXIT, 1, 13000, 0, 0, NULL);
  return b;
}

static guint32
find_lane (const IlTrace *t,
           const char    *name)
{
  for (guint32 i = 0; i < il_trace_get_n_lanes (t); i++)
    if (g_str_equal (il_trace_get_lane (t, i)->name, name))
      return i;
  return IL_NO_LANE;
}

static void
test_replay (void)
{
  g_autoptr(GByteArray) b = two_threads ();
  g_autoptr(IlRecording) rec = il_recording_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) t = NULL;
  g_autofree char *switches = NULL, *python = NULL;
  guint32 worker, main_thread, gil;

  /* Fed in two pieces cut inside a record: the reader waits for the rest. */
  g_assert_true (il_recording_feed (rec, "proc-100.rec", b->data, 50, &error));
  g_assert_true (il_recording_feed (rec, "proc-100.rec", b->data + 50, b->len - 50, &error));
  g_assert_no_error (error);
  il_recording_set_program (rec, "prog.py", 0);
  t = il_recording_build (rec, &error);
  g_assert_no_error (error);

  worker = find_lane (t, "worker");
  main_thread = find_lane (t, "MainThread");
  gil = find_lane (t, "GIL (MainProcess)");
  g_assert_cmpuint (worker, !=, IL_NO_LANE);
  g_assert_cmpuint (main_thread, !=, IL_NO_LANE);
  g_assert_cmpuint (gil, !=, IL_NO_LANE);
  g_assert_cmpint (il_trace_get_lane (t, worker)->kind, ==, IL_LANE_TASK);
  g_assert_cmpint (il_trace_get_lane (t, main_thread)->kind, ==, IL_LANE_THREAD);

  /* Times are from the first record. */
  g_assert_cmpint (il_trace_state_at (t, worker, IL_USEC (5500), NULL), ==, IL_STATE_RUNNING);
  g_assert_cmpint (il_trace_gil_holder_at (t, gil, IL_USEC (5500)), ==, worker);
  /* The main thread lost the GIL to a drop request: it waits for it. */
  g_assert_cmpint (il_trace_state_at (t, main_thread, IL_USEC (5500), NULL), ==, IL_STATE_WAIT_GIL);
  /* Asleep for its 2 ms, then waiting for the GIL until it has it. */
  g_assert_cmpint (il_trace_state_at (t, worker, IL_USEC (6500), NULL), ==, IL_STATE_SLEEPING);
  g_assert_cmpint (il_trace_state_at (t, worker, IL_USEC (9500), NULL), ==, IL_STATE_WAIT_GIL);
  g_assert_cmpint (il_trace_state_at (t, worker, IL_USEC (10500), NULL), ==, IL_STATE_RUNNING);
  g_assert_cmpint (il_trace_state_at (t, worker, IL_USEC (11500), NULL), ==, IL_STATE_DONE);
  g_assert_cmpint (t->end_time, ==, IL_USEC (12000));
  g_assert_true (t->finished);

  switches = il_recording_meta_get (t, "gil_switches");
  python = il_recording_meta_get (t, "python");
  g_assert_cmpstr (python, ==, "3.11.2");
  g_assert_cmpstr (switches, ==, "5");  /* main→worker at its start, then 4 sampled */

  /* It survives a save and load, facts included. */
  {
    g_autofree char *path = g_build_filename (g_get_tmp_dir (), "test-recording.itrace", NULL);
    g_autoptr(IlTrace) back = NULL;
    g_autofree char *again = NULL;
    g_assert_true (il_trace_save (t, NULL, path, &error));
    back = il_trace_load (path, NULL, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    again = il_recording_meta_get (back, "gil_switches");
    g_assert_cmpstr (again, ==, "5");
    g_assert_cmpuint (back->n_events, ==, t->n_events);
    g_unlink (path);
  }

  /* The derived scenario: the worker's sleep and its CPU, in threads mode. */
  {
    g_autofree char *json = il_derive_scenario_json (t, NULL, &error);
    g_autoptr(IlScenario) sc = NULL;
    g_assert_no_error (error);
    sc = il_scenario_load_data (json, -1, "derived", &error);
    g_assert_no_error (error);
    g_assert_cmpint (sc->mode, ==, IL_MODE_THREADS);
    gint32 w;
    /* The main thread computes beside the worker, so it is a task too. */
    g_assert_cmpuint (sc->n_tasks, ==, 2);
    w = il_scenario_find_task (sc, "worker");
    g_assert_cmpint (w, >=, 0);
    g_assert_cmpint (il_scenario_find_task (sc, "MainThread"), >=, 0);
    g_assert_cmpint (sc->tasks[w].steps[0].kind, ==, IL_STEP_CPU);
    g_assert_cmpint (sc->tasks[w].steps[1].kind, ==, IL_STEP_SLEEP);
    g_assert_cmpint (sc->tasks[w].steps[1].duration, ==, IL_MSEC (2));
  }
}

/* The lane for threads the recorder does not know (a pool's helper that
 * exits, a thread torn down while holding the GIL) is there only when such
 * a thread held the GIL: a release by one left it empty in the window. */
static void
test_unknown_threads (void)
{
  for (guint take = 0; take < 2; take++)
    {
      g_autoptr(GByteArray) b = g_byte_array_new ();
      g_autoptr(IlRecording) rec = il_recording_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(IlTrace) t = NULL;
      guint32 unknown, main_thread, gil;

      g_byte_array_append (b, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
      put (b, IL_REC_PROCESS, 0, 1000, 100, 1, "3.11.2 main");
      put (b, IL_REC_THREAD_START, 1, 1000, 1, 100, "MainThread");
      put (b, IL_REC_GIL, 1, 1200, 1, 1, NULL);
      /* A thread without a thread state (at shutdown) lets go of the GIL,
       * or takes it. */
      put (b, IL_REC_GIL, 0, 2000, take, 2, NULL);
      put (b, IL_REC_GIL, 1, 3000, 1, 3, NULL);
      put (b, IL_REC_EXIT, 1, 4000, 0, 0, NULL);
      g_assert_true (il_recording_feed (rec, "proc-100.rec", b->data, b->len, &error));
      t = il_recording_build (rec, &error);
      g_assert_no_error (error);
      unknown = find_lane (t, "Unregistered or exiting threads");
      main_thread = find_lane (t, "MainThread");
      gil = find_lane (t, "GIL (MainProcess)");
      g_assert_cmpuint (main_thread, !=, IL_NO_LANE);
      /* Times are from the first record (1 ms). */
      g_assert_cmpint (il_trace_state_at (t, main_thread, IL_USEC (500), NULL), ==, IL_STATE_RUNNING);
      g_assert_cmpint (il_trace_state_at (t, main_thread, IL_USEC (1500), NULL), !=, IL_STATE_RUNNING);
      if (!take)
        {
          g_assert_cmpuint (unknown, ==, IL_NO_LANE);
          g_assert_cmpuint (il_trace_gil_holder_at (t, gil, IL_USEC (1500)), ==, IL_NO_LANE);
        }
      else
        {
          g_assert_cmpuint (unknown, !=, IL_NO_LANE);
          g_assert_cmpuint (il_trace_gil_holder_at (t, gil, IL_USEC (1500)), ==, unknown);
          g_assert_cmpint (il_trace_state_at (t, unknown, IL_USEC (1500), NULL), ==, IL_STATE_RUNNING);
        }
    }

  {
    /* A thread that ends while it holds the GIL hands it to the lane, which
     * shows it running until the next take. */
    g_autoptr(GByteArray) b = two_threads ();
    g_autoptr(IlRecording) rec = il_recording_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(IlTrace) t = NULL;
    guint32 unknown;

    /* two_threads() ends the worker at 11 ms while it holds the GIL. */
    g_assert_true (il_recording_feed (rec, "proc-100.rec", b->data, b->len, &error));
    t = il_recording_build (rec, &error);
    g_assert_no_error (error);
    unknown = find_lane (t, "Unregistered or exiting threads");
    g_assert_cmpuint (unknown, !=, IL_NO_LANE);
    g_assert_cmpint (il_trace_state_at (t, unknown, IL_USEC (11500), NULL), ==, IL_STATE_RUNNING);
  }
}

static void
test_bad_input (void)
{
  g_autoptr(GByteArray) b = two_threads ();
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(IlRecording) rec = il_recording_new ();
    g_assert_false (il_recording_feed (rec, "junk.rec", (const guint8 *) "not a recording", 15, &error));
    g_assert_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "junk.rec"));
    g_clear_error (&error);
  }
  {
    /* A damaged kind names the byte where the record starts. */
    g_autoptr(IlRecording) rec = il_recording_new ();
    b->data[IL_REC_MAGIC_LEN + 2 * 32 + 11] = 200;
    g_assert_false (il_recording_feed (rec, "proc-1.rec", b->data, b->len, &error));
    g_assert_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "proc-1.rec: byte "));
    g_clear_error (&error);
  }
  {
    g_autoptr(IlRecording) rec = il_recording_new ();
    g_assert_true (il_recording_feed (rec, "proc-1.rec", (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN, &error));
    g_assert_null (il_recording_build (rec, &error));
    g_assert_error (error, IL_RECORDING_ERROR, IL_RECORDING_ERROR_EMPTY);
    g_clear_error (&error);
  }
  {
    /* Records in any order, with nonsense values, never crash the replay:
     * every prefix of random bytes after a good header is tried. */
    GRand *rand = g_rand_new_with_seed (42);
    for (guint round = 0; round < 200; round++)
      {
        g_autoptr(IlRecording) rec = il_recording_new ();
        g_autoptr(GByteArray) junk = two_threads ();
        g_autoptr(IlTrace) t = NULL;
        for (guint i = 0; i < 40; i++)
          put (junk, (guint8) g_rand_int_range (rand, 1, IL_REC_N_KINDS), (guint32) g_rand_int_range (rand, 0, 5),
               g_rand_int_range (rand, 0, 20000), g_rand_int_range (rand, -3, 6),
               (gint64) g_rand_int (rand) - G_MAXINT32, g_rand_boolean (rand) ? "x\ny" : NULL);
        if (il_recording_feed (rec, "proc-2.rec", junk->data, junk->len, NULL))
          {
            t = il_recording_build (rec, NULL);
            g_assert_nonnull (t);
            for (gsize e = 1; e < t->n_events; e++)
              g_assert_cmpint (t->time[e], >=, t->time[e - 1]);
          }
      }
    g_rand_free (rand);
  }
}

/* The window streams a recording in while the program runs: feed what is
 * new, build, and again; each build shows everything fed so far. */
static void
test_incremental_dir (void)
{
  g_autoptr(GByteArray) b = two_threads ();
  g_autoptr(IlRecording) rec = il_recording_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-recording-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "proc-100.rec", NULL);
  gsize half = IL_REC_MAGIC_LEN + 5 * 32 + 10 + 4 + 6;   /* inside the sixth record */
  g_autoptr(IlTrace) first = NULL;
  g_autoptr(IlTrace) second = NULL;
  FILE *f;

  g_assert_no_error (error);
  f = fopen (path, "wb");
  g_assert_nonnull (f);
  g_assert_cmpuint (fwrite (b->data, 1, half, f), ==, half);
  fflush (f);
  g_assert_true (il_recording_feed_dir (rec, dir, &error));
  first = il_recording_build (rec, &error);
  g_assert_no_error (error);
  g_assert_false (first->finished);
  g_assert_cmpint (first->end_time, <, IL_USEC (12000));

  g_assert_cmpuint (fwrite (b->data + half, 1, b->len - half, f), ==, b->len - half);
  fclose (f);
  g_assert_true (il_recording_feed_dir (rec, dir, &error));
  second = il_recording_build (rec, &error);
  g_assert_no_error (error);
  g_assert_true (second->finished);
  g_assert_cmpint (second->end_time, ==, IL_USEC (12000));
  g_assert_cmpuint (second->n_events, >, first->n_events);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recording/replay", test_replay);
  g_test_add_func ("/recording/bad-input", test_bad_input);
  g_test_add_func ("/recording/unknown-threads", test_unknown_threads);
  g_test_add_func ("/recording/incremental", test_incremental_dir);
  return g_test_run ();
}
