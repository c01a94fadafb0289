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

/* A producer and a consumer on a queue.Queue of maxsize 1 (id 0x5000):
 * the consumer's first get waits for the producer's first put, the
 * producer's third put waits for the consumer's second get, and the
 * consumer's last get times out after 2 ms.  `producer` names the
 * producing thread. */
static GByteArray *
producer_consumer (const char *producer)
{
  GByteArray *b = g_byte_array_new ();
  const gint64 q = 0x5000, put_done = IL_REC_QUEUE_PUT | IL_REC_QUEUE_DONE | (1 << IL_REC_QUEUE_MAXSIZE_SHIFT);
  const gint64 get_done = IL_REC_QUEUE_DONE | (1 << IL_REC_QUEUE_MAXSIZE_SHIFT);

  g_byte_array_append (b, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (b, IL_REC_PROCESS, 0, 1000, 100, 1, "3.11.2 main");
  put (b, IL_REC_INTERVAL, 0, 1000, 5000, 0, NULL);
  put (b, IL_REC_THREAD_START, 1, 1000, 1, 100, "MainThread");
  put (b, IL_REC_CALL_BEGIN, 1, 1050, IL_REC_CALL_JOIN, 2, NULL);
  put (b, IL_REC_THREAD_START, 2, 1100, 2, 101, producer);
  put (b, IL_REC_THREAD_START, 3, 1150, 3, 102, "consumer\nThread");
  put (b, IL_REC_CALL_BEGIN, 3, 1200, IL_REC_CALL_QUEUE, q, NULL);      /* get: empty */
  put (b, IL_REC_GIL, 2, 1210, 1, 1, NULL);
  put (b, IL_REC_QUEUE, 2, 2200, q, put_done, NULL);                    /* serves the consumer */
  put (b, IL_REC_GIL, 3, 2250, 1, 2, NULL);
  put (b, IL_REC_CALL_END, 3, 2260, IL_REC_CALL_QUEUE, 0, NULL);
  put (b, IL_REC_QUEUE, 3, 2261, q, get_done, NULL);
  put (b, IL_REC_CALL_BEGIN, 3, 2270, IL_REC_CALL_SLEEP, 5000000, NULL);
  put (b, IL_REC_GIL, 2, 2280, 1, 3, NULL);
  put (b, IL_REC_QUEUE, 2, 3000, q, put_done, NULL);
  put (b, IL_REC_CALL_BEGIN, 2, 3010, IL_REC_CALL_QUEUE_PUT, q, NULL);  /* put: full */
  put (b, IL_REC_GIL, 3, 7275, 1, 4, NULL);
  put (b, IL_REC_CALL_END, 3, 7280, IL_REC_CALL_SLEEP, 0, NULL);
  put (b, IL_REC_QUEUE, 3, 7290, q, get_done, NULL);                    /* makes room for the producer */
  put (b, IL_REC_CALL_BEGIN, 3, 7300, IL_REC_CALL_SLEEP, 5000000, NULL);
  put (b, IL_REC_GIL, 2, 7305, 1, 5, NULL);
  put (b, IL_REC_CALL_END, 2, 7310, IL_REC_CALL_QUEUE_PUT, 0, NULL);
  put (b, IL_REC_QUEUE, 2, 7311, q, put_done, NULL);
  put (b, IL_REC_THREAD_END, 2, 7400, 2000000, 0, NULL);
  put (b, IL_REC_GIL, 3, 12295, 1, 6, NULL);
  put (b, IL_REC_CALL_END, 3, 12300, IL_REC_CALL_SLEEP, 0, NULL);
  put (b, IL_REC_QUEUE, 3, 12310, q, get_done, NULL);
  put (b, IL_REC_CALL_BEGIN, 3, 12320, IL_REC_CALL_QUEUE, q, NULL);     /* get(timeout=0.002) */
  put (b, IL_REC_GIL, 3, 14315, 1, 7, NULL);
  put (b, IL_REC_CALL_END, 3, 14320, IL_REC_CALL_QUEUE, 0, NULL);
  put (b, IL_REC_QUEUE, 3, 14321, q, 1 << IL_REC_QUEUE_MAXSIZE_SHIFT, NULL);  /* raised Empty */
  put (b, IL_REC_THREAD_END, 3, 14400, 1000000, 0, NULL);
  put (b, IL_REC_GIL, 1, 14450, 1, 8, NULL);
  put (b, IL_REC_CALL_END, 1, 14460, IL_REC_CALL_JOIN, 0, NULL);
  put (b, IL_REC_EXIT, 1, 14500, 0, 0, NULL);
  return b;
}

static IlTrace *
build (GByteArray *b)
{
  g_autoptr(IlRecording) rec = il_recording_new ();
  g_autoptr(GError) error = NULL;
  IlTrace *t;

  g_assert_true (il_recording_feed (rec, "proc-100.rec", b->data, b->len, &error));
  il_recording_set_program (rec, "prog.py", 0);
  t = il_recording_build (rec, &error);
  g_assert_no_error (error);
  return t;
}

/* The state event at or before `at` on the lane (its index), or -1. */
static gssize
state_event_at (const IlTrace *t,
                guint32        lane,
                gint64         at)
{
  gsize e = t->n_events;
  il_trace_state_at (t, lane, at, &e);
  return e < t->n_events ? (gssize) e : -1;
}

/* Every put and get is marked; a waiter wakes with an arrow from the
 * thread whose put or get served it; derive writes the queue with its
 * maxsize and the calls as put / get steps, the waits left to the
 * simulation and the timed-out get as a sleep of its length. */
static void
test_queues (void)
{
  g_autoptr(GByteArray) b = producer_consumer ("producer\nThread");
  g_autoptr(IlTrace) t = build (b);
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autofree char *json = NULL, *ops = NULL, *handoffs = NULL, *list = NULL;
  guint32 producer = find_lane (t, "producer"), consumer = find_lane (t, "consumer");
  guint puts = 0, gets = 0, failed = 0;
  gssize e;
  gint32 p, c;

  g_assert_cmpuint (producer, !=, IL_NO_LANE);
  g_assert_cmpuint (consumer, !=, IL_NO_LANE);
  for (gsize i = 0; i < t->n_events; i++)
    if (t->kind[i] == IL_EVENT_MARK && t->aux[i] == IL_SYNC_QUEUE)
      {
        puts += t->value[i] == IL_MARK_QUEUE_PUT;
        gets += t->value[i] == IL_MARK_QUEUE_GET;
        failed += t->value[i] == IL_MARK_QUEUE_FAILED;
      }
  g_assert_cmpuint (puts, ==, 3);
  g_assert_cmpuint (gets, ==, 3);
  g_assert_cmpuint (failed, ==, 1);
  ops = il_recording_meta_get (t, "queue_ops");
  handoffs = il_recording_meta_get (t, "queue_handoffs");
  list = il_recording_meta_get (t, "queue_list");
  g_assert_cmpstr (ops, ==, "6");
  g_assert_cmpstr (handoffs, ==, "2");
  g_assert_cmpstr (list, ==, "1:1:6");

  /* Blocked on the empty queue, then woken by the producer's put. */
  g_assert_cmpint (il_trace_state_at (t, consumer, IL_USEC (700), NULL), ==, IL_STATE_BLOCKED);
  e = state_event_at (t, consumer, IL_USEC (1250));
  g_assert_cmpint (e, >=, 0);
  g_assert_cmpint (t->time[e], ==, IL_USEC (1250));
  g_assert_cmpint (t->aux[e], ==, IL_CAUSE_QUEUE);
  g_assert_cmpuint (t->arg[e], ==, producer);
  /* The producer blocked on the full queue, woken by the consumer's get. */
  g_assert_cmpint (il_trace_state_at (t, producer, IL_USEC (4000), NULL), ==, IL_STATE_BLOCKED);
  e = state_event_at (t, producer, IL_USEC (6305));
  g_assert_cmpint (e, >=, 0);
  g_assert_cmpint (t->time[e], ==, IL_USEC (6305));
  g_assert_cmpint (t->aux[e], ==, IL_CAUSE_QUEUE);
  g_assert_cmpuint (t->arg[e], ==, consumer);

  json = il_derive_scenario_json (t, NULL, &error);
  g_assert_no_error (error);
  sc = il_scenario_load_data (json, -1, "derived", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc->n_queues, ==, 1);
  g_assert_cmpstr (sc->queues[0].name, ==, "queue-1");
  g_assert_cmpuint (sc->queues[0].maxsize, ==, 1);
  p = il_scenario_find_task (sc, "producer");
  c = il_scenario_find_task (sc, "consumer");
  g_assert_cmpint (p, >=, 0);
  g_assert_cmpint (c, >=, 0);
  {
    /* producer: cpu 1 ms, put, cpu 0.72 ms, put, put: the 4.3 ms its
     * last put waited are left out (the I/O left is the GIL it lost when
     * the consumer started and took it: no call the recorder saw) */
    const IlStep *s = sc->tasks[p].steps;
    guint n = sc->tasks[p].n_steps, n_put = 0;
    gint64 io = 0;
    for (guint i = 0; i < n; i++)
      {
        io += s[i].kind == IL_STEP_IO ? s[i].duration : 0;
        n_put += s[i].kind == IL_STEP_PUT;
      }
    g_assert_cmpuint (n_put, ==, 3);
    g_assert_cmpint (io, <, IL_USEC (100));
    g_assert_cmpuint (n, >=, 5);
    g_assert_cmpint (s[n - 2].kind, ==, IL_STEP_PUT);
    g_assert_cmpint (s[n - 3].kind, ==, IL_STEP_CPU);
    g_assert_cmpint (s[n - 3].duration, <, IL_USEC (20));
    g_assert_cmpint (s[n - 4].kind, ==, IL_STEP_PUT);
    g_assert_cmpint (s[n - 5].kind, ==, IL_STEP_CPU);
    g_assert_cmpint (s[n - 5].duration, ==, IL_USEC (720));
  }
  {
    /* consumer: get, sleep 5, get, sleep 5, get, sleep 2 (the timeout) */
    const IlStep *s = sc->tasks[c].steps;
    guint n = sc->tasks[c].n_steps, n_get = 0;
    gint64 slept = 0;
    for (guint i = 0; i < n; i++)
      {
        g_assert_cmpint (s[i].kind, !=, IL_STEP_IO);
        n_get += s[i].kind == IL_STEP_GET;
        slept += s[i].kind == IL_STEP_SLEEP ? s[i].duration : 0;
      }
    g_assert_cmpuint (n_get, ==, 3);
    g_assert_cmpint (s[1].kind, ==, IL_STEP_GET);
    g_assert_cmpint (slept, >=, IL_USEC (11900));
    g_assert_cmpint (slept, <=, IL_USEC (12100));
  }
}

/* A queue that a thread outside the scenario (an interpreter helper)
 * puts on keeps its waits as I/O of their length: a get step would wait
 * for puts nobody makes. */
static void
test_queue_outside (void)
{
  g_autoptr(GByteArray) b = producer_consumer ("QueueFeederThread\nThread");
  g_autoptr(IlTrace) t = build (b);
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = NULL;
  g_autofree char *json = il_derive_scenario_json (t, NULL, &error);
  gint32 c;
  gint64 io = 0;

  g_assert_no_error (error);
  sc = il_scenario_load_data (json, -1, "derived", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc->n_queues, ==, 0);
  c = il_scenario_find_task (sc, "consumer");
  g_assert_cmpint (c, >=, 0);
  for (guint i = 0; i < sc->tasks[c].n_steps; i++)
    io += sc->tasks[c].steps[i].kind == IL_STEP_IO ? sc->tasks[c].steps[i].duration : 0;
  /* The first get's wait (1.05 ms) and the timed-out one (2 ms), as I/O. */
  g_assert_cmpint (io, >=, IL_USEC (3000));
}

/* A thread whose sleep ended wants the GIL; it takes it 4.1 ms later
 * (a full interval of 5 ms, less the 0.8 margin, waited) from a holder
 * the sampler saw take it late (3.7 ms before), with the drop request
 * missed between two samples: the holder was forced out and waits for
 * the GIL, it did not block (which derive would write as I/O). */
static void
test_forced_after_waiting (void)
{
  GByteArray *b = g_byte_array_new ();
  g_autoptr(IlTrace) t = NULL;
  guint32 holder;

  g_byte_array_append (b, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (b, IL_REC_PROCESS, 0, 1000, 100, 1, "3.11.2 main");
  put (b, IL_REC_INTERVAL, 0, 1000, 5000, 0, NULL);
  put (b, IL_REC_THREAD_START, 1, 1000, 1, 100, "MainThread");
  put (b, IL_REC_THREAD_START, 2, 1050, 2, 101, "cruncher\nThread");
  put (b, IL_REC_THREAD_START, 3, 1080, 3, 102, "other\nThread");
  put (b, IL_REC_THREAD_START, 4, 1090, 4, 103, "sleeper\nThread");
  put (b, IL_REC_CALL_BEGIN, 4, 1100, IL_REC_CALL_SLEEP, 2000000, NULL);  /* until 3100 */
  put (b, IL_REC_GIL, 3, 1200, 1, 1, NULL);
  put (b, IL_REC_GIL, 2, 3500, 1, 3, NULL);   /* taken around 3050, seen at 3500 */
  put (b, IL_REC_GIL, 4, 7200, 1, 4, NULL);   /* the sleeper, 4.1 ms after its sleep ended */
  put (b, IL_REC_CALL_END, 4, 7210, IL_REC_CALL_SLEEP, 0, NULL);
  put (b, IL_REC_THREAD_END, 4, 7300, 0, 0, NULL);
  put (b, IL_REC_GIL, 2, 7400, 1, 5, NULL);
  put (b, IL_REC_THREAD_END, 2, 8000, 0, 0, NULL);
  put (b, IL_REC_EXIT, 1, 8100, 0, 0, NULL);
  t = build (b);
  g_byte_array_unref (b);
  holder = find_lane (t, "cruncher");
  g_assert_cmpuint (holder, !=, IL_NO_LANE);
  g_assert_cmpint (il_trace_state_at (t, holder, IL_USEC (6250), NULL), ==, IL_STATE_WAIT_GIL);
}

static guint
count_in (const char *haystack,
          const char *needle)
{
  guint n = 0;
  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* Two threads each hand one item to a process pool and wait for it.  The
 * second, forced off the GIL right after its submit, begins its wait 6 ms
 * after a worker picked its item up; the first is woken late, after both
 * items ended.  Each item is still the one its own thread waited for. */
static void
test_process_item_owner (void)
{
  g_autoptr(GByteArray) m = g_byte_array_new ();
  g_autoptr(GByteArray) w1 = g_byte_array_new ();
  g_autoptr(GByteArray) w2 = g_byte_array_new ();
  g_autoptr(IlRecording) rec = il_recording_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) t = NULL;
  g_autofree char *json = NULL;
  g_autoptr(IlScenario) sc = NULL;
  gint32 j0, j1;

  g_byte_array_append (m, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (m, IL_REC_PROCESS, 0, 1000, 100, 1, "3.11.2 main");
  put (m, IL_REC_INTERVAL, 0, 1000, 5000, 0, NULL);
  put (m, IL_REC_THREAD_START, 1, 1000, 1, 100, "MainThread");
  put (m, IL_REC_POOL, 1, 1010, 2, 2, "fork");
  put (m, IL_REC_THREAD_START, 2, 1020, 2, 101, "job-0\nThread");
  put (m, IL_REC_THREAD_START, 3, 1030, 3, 102, "job-1\nThread");
  put (m, IL_REC_GIL, 2, 1040, 1, 1, NULL);
  put (m, IL_REC_CALL_BEGIN, 2, 2000, IL_REC_CALL_CONDITION, 0x7000, NULL);  /* job-0 waits for its result */
  put (m, IL_REC_GIL, 3, 2010, 1, 2, NULL);
  put (m, IL_REC_GIL, 0, 4000, 3, 3, NULL);    /* job-1 forced out after its submit */
  put (m, IL_REC_GIL, 3, 10000, 1, 4, NULL);
  put (m, IL_REC_CALL_BEGIN, 3, 10050, IL_REC_CALL_CONDITION, 0x7100, NULL); /* job-1 waits */
  put (m, IL_REC_GIL, 2, 22000, 1, 5, NULL);   /* job-0 woken late */
  put (m, IL_REC_CALL_END, 2, 22010, IL_REC_CALL_CONDITION, 0, NULL);
  put (m, IL_REC_THREAD_END, 2, 22100, 0, 0, NULL);
  put (m, IL_REC_GIL, 3, 23000, 1, 6, NULL);
  put (m, IL_REC_CALL_END, 3, 23010, IL_REC_CALL_CONDITION, 0, NULL);
  put (m, IL_REC_THREAD_END, 3, 23100, 0, 0, NULL);
  put (m, IL_REC_EXIT, 1, 24000, 0, 0, NULL);

  g_byte_array_append (w1, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (w1, IL_REC_PROCESS, 0, 1500, 200, 100, "3.11.2 fork");
  put (w1, IL_REC_THREAD_START, 1, 1500, 1, 200, "MainThread");
  put (w1, IL_REC_WORK_BEGIN, 1, 2100, 0xA, 2, "crunch");
  put (w1, IL_REC_WORK_END, 1, 12000, 0xA, 0, NULL);
  put (w1, IL_REC_EXIT, 1, 23500, 0, 0, NULL);

  g_byte_array_append (w2, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (w2, IL_REC_PROCESS, 0, 1600, 300, 100, "3.11.2 fork");
  put (w2, IL_REC_THREAD_START, 1, 1600, 1, 300, "MainThread");
  put (w2, IL_REC_WORK_BEGIN, 1, 4200, 0xB, 2, "crunch");
  put (w2, IL_REC_WORK_END, 1, 20000, 0xB, 0, NULL);
  put (w2, IL_REC_EXIT, 1, 23500, 0, 0, NULL);

  g_assert_true (il_recording_feed (rec, "proc-100.rec", m->data, m->len, &error));
  g_assert_true (il_recording_feed (rec, "proc-200.rec", w1->data, w1->len, &error));
  g_assert_true (il_recording_feed (rec, "proc-300.rec", w2->data, w2->len, &error));
  t = il_recording_build (rec, &error);
  g_assert_no_error (error);
  json = il_derive_scenario_json (t, NULL, &error);
  g_assert_no_error (error);
  sc = il_scenario_load_data (json, -1, "derived", &error);
  g_assert_no_error (error);
  j0 = il_scenario_find_task (sc, "job-0");
  j1 = il_scenario_find_task (sc, "job-1");
  g_assert_cmpint (j0, >=, 0);
  g_assert_cmpint (j1, >=, 0);
  g_assert_cmpint (sc->mode, ==, IL_MODE_THREADS);
  /* One to_process each: job-0's is 9.9 ms of the first worker, job-1's 15.8 ms of the second. */
  g_assert_cmpuint (count_in (json, "to_process"), ==, 2);
  {
    guint n0 = 0, n1 = 0;
    for (guint i = 0; i < sc->tasks[j0].n_steps; i++)
      n0 += sc->tasks[j0].steps[i].kind == IL_STEP_TO_PROCESS;
    for (guint i = 0; i < sc->tasks[j1].n_steps; i++)
      n1 += sc->tasks[j1].steps[i].kind == IL_STEP_TO_PROCESS;
    g_assert_cmpuint (n0, ==, 1);
    g_assert_cmpuint (n1, ==, 1);
  }
}

/* The scenario derived for a worker that waits for a lock the main thread
 * holds, then holds it over `n_sleeps` sleeps. */
static char *
derive_held_sleeps (guint n_sleeps)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(IlRecording) rec = il_recording_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) t = NULL;
  char *json;
  gint64 at = 1700;

  g_byte_array_append (b, (const guint8 *) IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  put (b, IL_REC_PROCESS, 0, 1000, 100, 1, "3.11.2 main");
  put (b, IL_REC_INTERVAL, 0, 1000, 5000, 0, NULL);
  put (b, IL_REC_THREAD_START, 1, 1000, 1, 100, "MainThread");
  put (b, IL_REC_THREAD_START, 2, 1050, 2, 101, "worker\nThread");
  put (b, IL_REC_GIL, 1, 1100, 1, 1, NULL);
  put (b, IL_REC_ACQUIRED, 1, 1200, 0x11, IL_REC_CALL_LOCK, NULL);
  put (b, IL_REC_GIL, 2, 1300, 1, 2, NULL);
  put (b, IL_REC_CALL_BEGIN, 2, 1310, IL_REC_CALL_LOCK, 0x11, NULL);  /* the worker waits */
  put (b, IL_REC_GIL, 1, 1400, 1, 3, NULL);
  put (b, IL_REC_RELEASED, 1, 1500, 0x11, IL_REC_CALL_LOCK, NULL);
  put (b, IL_REC_GIL, 2, 1600, 1, 4, NULL);
  put (b, IL_REC_CALL_END, 2, 1610, IL_REC_CALL_LOCK, 0, NULL);
  put (b, IL_REC_ACQUIRED, 2, 1620, 0x11, IL_REC_CALL_LOCK, NULL);
  for (guint i = 0; i < n_sleeps; i++, at += 30)
    {
      put (b, IL_REC_CALL_BEGIN, 2, at, IL_REC_CALL_SLEEP, 10000, NULL);
      put (b, IL_REC_CALL_END, 2, at + 20, IL_REC_CALL_SLEEP, 0, NULL);
    }
  put (b, IL_REC_RELEASED, 2, at, 0x11, IL_REC_CALL_LOCK, NULL);
  put (b, IL_REC_THREAD_END, 2, at + 100, 0, 0, NULL);
  put (b, IL_REC_EXIT, 1, at + 200, 0, 0, NULL);

  g_assert_true (il_recording_feed (rec, "proc-100.rec", b->data, b->len, &error));
  g_assert_no_error (error);
  t = il_recording_build (rec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (il_trace_get_lane_events (t, find_lane (t, "worker"))->len, >, 2 * n_sleeps);
  json = il_derive_scenario_json (t, NULL, &error);
  g_assert_no_error (error);
  return json;
}

/* A hold over more than 100 000 events of its lane (60 000 sleeps) is a
 * "lock" step around them, and the wait before it the simulation's to
 * make, as for a short hold: the scenario differs only in the count. */
static void
test_long_hold (void)
{
  g_autofree char *short_hold = derive_held_sleeps (10);
  g_autofree char *long_hold = derive_held_sleeps (60000);
  g_autoptr(GString) expected = g_string_new (short_hold);
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(GError) error = NULL;
  guint n_lock = 0;
  gint32 w;

  sc = il_scenario_load_data (long_hold, -1, "derived", &error);
  g_assert_no_error (error);
  w = il_scenario_find_task (sc, "worker");
  g_assert_cmpint (w, >=, 0);
  for (guint i = 0; i < sc->tasks[w].n_steps; i++)
    n_lock += sc->tasks[w].steps[i].kind == IL_STEP_LOCK;
  g_assert_cmpuint (n_lock, ==, 1);
  g_assert_cmpuint (g_string_replace (expected, "\"repeat\": 10,", "\"repeat\": 60000,", 0), ==, 1);
  g_assert_cmpstr (long_hold, ==, expected->str);
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
  g_test_add_func ("/recording/queues", test_queues);
  g_test_add_func ("/recording/queue-outside", test_queue_outside);
  g_test_add_func ("/recording/forced-after-waiting", test_forced_after_waiting);
  g_test_add_func ("/recording/process-item-owner", test_process_item_owner);
  g_test_add_func ("/recording/long-hold", test_long_hold);
  return g_test_run ();
}
