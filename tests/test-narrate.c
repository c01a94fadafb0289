/* test-narrate.c — what the narration says at chosen instants of small
 * runs, and how stepping moves through a run
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-narrate.h"
#include "test-util.h"

/* Time of the first event of a kind (on a lane, or any lane for
 * IL_NO_LANE). */
static gint64
first_event (const IlTrace *trace,
             IlEventKind    kind,
             guint32        lane)
{
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == kind && (lane == IL_NO_LANE || il_trace_event_lane (trace, e) == lane))
      return trace->time[e];
  g_error ("no event of kind %d", kind);
  return -1;
}

static char *
text_at (const IlTrace *trace,
         gint64         t)
{
  g_auto(IlNarration) n = { 0 };

  g_assert_true (il_narrate_at (trace, t, &n));
  g_assert_cmpint (n.time, ==, t);
  g_assert_cmpint (n.zoom_start, <=, t);
  g_assert_cmpint (n.zoom_end, >, t);
  return g_steal_pointer (&n.text);
}

static const char *two_threads =
  "{\"mode\":\"threads\",\"switch_interval_ms\":5,\"tasks\":["
  "{\"name\":\"t1\",\"steps\":[{\"cpu\":20}]},{\"name\":\"t2\",\"steps\":[{\"cpu\":20}]}]}";

static void
test_gil (void)
{
  g_autoptr(IlScenario) sc = tu_load (two_threads);
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_THREADS);
  guint32 gil = tu_lane (trace, IL_LANE_GIL, "GIL (MainProcess)");
  gint64 request = first_event (trace, IL_EVENT_GIL_REQUEST, gil);
  g_autofree char *at_request = text_at (trace, request);
  g_auto(IlNarration) next = { 0 };
  gint64 dropped;

  /* t2 took the GIL first (it was free when t2 started; t1 was still
   * waking up): t1 is the one that waits an interval and asks */
  g_assert_cmpstr (at_request, ==, "t1 has waited 5 ms without the GIL changing hands: it sets a drop request on t2.");

  /* the next instant: t2 lets go, and waits for the switch */
  g_assert_true (il_narrate_step (trace, request, FALSE, &next));
  g_assert_cmpint (next.time, >, request);
  g_assert_cmpstr (next.text, ==, "t2 honours the drop request: it releases the GIL and waits until another thread has taken it.");
  dropped = next.time;
  il_narration_clear (&next);

  /* then t1 takes it */
  g_assert_true (il_narrate_step (trace, dropped, FALSE, &next));
  g_assert_cmpstr (next.text, ==, "t1 takes the GIL from t2.");
  /* after the signalled waiter's wake-up: 0.5–1.5 × the wake latency */
  g_assert_cmpint (next.time - dropped, >=, sc->params.wake_latency / 2);
  g_assert_cmpint (next.time - dropped, <=, sc->params.wake_latency * 3 / 2);
}

static void
test_gil_asks (void)
{
  /* t1 computes with the GIL; the main thread wakes at 5 ms to start t2
   * and must ask for it */
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"threads\",\"switch_interval_ms\":5,\"tasks\":["
                                      "{\"name\":\"t1\",\"steps\":[{\"cpu\":20}]},"
                                      "{\"name\":\"t2\",\"start\":5,\"steps\":[{\"cpu\":1}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_THREADS);
  guint32 main_thread = tu_lane (trace, IL_LANE_THREAD, "MainThread");
  gint64 asks = -1;
  g_autofree char *text = NULL;
  g_autofree char *sleeps = text_at (trace, tu_first_state (trace, main_thread, IL_STATE_SLEEPING));
  g_auto(IlNarration) n = { 0 };

  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_STATE && il_trace_event_lane (trace, e) == main_thread && trace->value[e] == IL_STATE_WAIT_GIL
        && trace->time[e] >= IL_MSEC (5))
      {
        asks = trace->time[e];
        break;
      }
  g_assert_cmpint (asks, ==, IL_MSEC (5));
  text = text_at (trace, asks);
  g_assert_cmpstr (text, ==, "MainThread asks for the GIL; t1 holds it; MainThread waits up to 5 ms, then sets a drop request.");
  g_assert_cmpstr (sleeps, ==, "MainThread releases the GIL. MainThread sleeps. t1 takes the GIL from MainThread.");
  g_assert_true (il_narrate_at (trace, asks, &n));
  /* the zoom shows the wait to come */
  g_assert_cmpint (n.zoom_end, >=, asks + IL_MSEC (5));
  g_assert_cmpint (n.zoom_end, <=, asks + IL_MSEC (12));
}

static void
test_loop (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"asyncio\",\"tasks\":["
                                      "{\"name\":\"alpha\",\"steps\":[{\"cpu\":1},{\"yield\":true}]},"
                                      "{\"name\":\"beta\",\"steps\":[{\"cpu\":1},{\"yield\":true}]},"
                                      "{\"name\":\"gamma\",\"steps\":[{\"io\":3}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  guint32 loop = tu_lane (trace, IL_LANE_LOOP, "Event loop");
  g_autofree char *first = text_at (trace, first_event (trace, IL_EVENT_LOOP_ITER, loop));
  g_autofree char *second = NULL;
  g_autofree char *step = NULL;
  g_autofree char *io = NULL;
  gint64 t = -1;

  g_assert_cmpstr (first, ==, "MainThread takes the GIL. The event loop starts iteration 1 and runs the 1 callback ready now: main().");

  /* iteration 2 runs the three first steps, in creation order */
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_LOOP_ITER && trace->arg[e] == 2)
      t = trace->time[e];
  second = text_at (trace, t);
  g_assert_cmpstr (second, ==, "The event loop starts iteration 2 and runs the 3 callbacks ready now: alpha, beta, gamma.");

  /* the first callback of that iteration: a step of alpha, said as its operations */
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_LOOP_CALLBACK && trace->time[e] > t)
      {
        step = text_at (trace, trace->time[e]);
        break;
      }
  g_assert_cmpstr (step, ==, "The event loop runs a step of alpha: 1 ms of Python, then asyncio.sleep(0).");

  /* gamma's I/O completes while the loop is busy: it is ready from then */
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_STATE && trace->value[e] == IL_STATE_READY && trace->aux[e] == IL_CAUSE_IO)
      {
        io = text_at (trace, trace->time[e]);
        break;
      }
  g_assert_cmpstr (io, ==, "gamma's I/O completes; it is ready until the event loop runs its step.");
}

static void
test_pool (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"threads\",\"workers\":1,\"tasks\":["
                                      "{\"name\":\"x\",\"steps\":[{\"io\":5}]},{\"name\":\"y\",\"steps\":[{\"io\":5}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_THREADS);
  gint64 t = -1;
  g_autofree char *text = NULL;

  /* y's job is taken when x's is done */
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_QUEUE && (trace->value[e] & 3) == IL_QUEUE_POP
        && trace->arg[e] == tu_lane (trace, IL_LANE_TASK, "y"))
      t = trace->time[e];
  g_assert_cmpint (t, >, IL_MSEC (5));
  text = text_at (trace, t);
  g_assert_nonnull (strstr (text, "x returns. Worker ThreadPoolExecutor-"));
  g_assert_nonnull (strstr (text, " takes y from the thread pool's work queue."));
}

/* Stepping forwards and back visits the same instants, each with words. */
static void
test_step_both_ways (void)
{
  g_autoptr(IlScenario) sc = tu_load (two_threads);
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_THREADS);
  g_autoptr(GArray) forward = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_auto(IlNarration) n = { 0 };
  gint64 t = -1;
  guint i;

  while (il_narrate_step (trace, t, FALSE, &n))
    {
      g_assert_cmpint (n.time, >, t);
      g_assert_nonnull (n.text);
      g_assert_true (g_str_has_suffix (n.text, "."));
      g_assert_cmpint (n.zoom_start, <=, n.time);
      g_assert_cmpint (n.zoom_end, >, n.time);
      t = n.time;
      g_array_append_val (forward, t);
      il_narration_clear (&n);
    }
  g_assert_cmpuint (forward->len, >, 5);
  g_assert_null (n.text);

  i = forward->len;
  t = G_MAXINT64;
  while (il_narrate_step (trace, t, TRUE, &n))
    {
      g_assert_cmpuint (i, >, 0);
      g_assert_cmpint (n.time, ==, g_array_index (forward, gint64, --i));
      t = n.time;
      il_narration_clear (&n);
    }
  g_assert_cmpuint (i, ==, 0);

  /* nothing happens between the instants */
  g_assert_false (il_narrate_at (trace, g_array_index (forward, gint64, 1) + 1, &n));
  g_assert_null (n.text);
}

/* Time of the n-th (from 0) QUEUE event of this op on a user queue. */
static gint64
queue_event (const IlTrace *trace,
             IlQueueOp      op,
             guint          n)
{
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_QUEUE && (trace->aux[e] & IL_QUEUE_USER) && (trace->value[e] & 3) == op && n-- == 0)
      return trace->time[e];
  g_error ("no queue event %d", op);
  return -1;
}

static const char *producer_consumer =
  "{\"queues\":{\"q\":2},\"tasks\":["
  "{\"name\":\"producer\",\"steps\":[{\"repeat\":4,\"steps\":[{\"cpu\":1},{\"put\":\"q\"}]}]},"
  "{\"name\":\"consumer\",\"steps\":[{\"repeat\":4,\"steps\":[{\"get\":\"q\"},{\"io\":5}]}]}]}";

static void
test_queue (void)
{
  g_autoptr(IlScenario) sc = tu_load (producer_consumer);

  for (int m = 0; m < 2; m++)
    {
      IlMode mode = m == 0 ? IL_MODE_ASYNCIO : IL_MODE_THREADS;
      g_autoptr(IlTrace) trace = tu_run (sc, mode);
      g_autofree char *first_put = text_at (trace, queue_event (trace, IL_QUEUE_PUSH, 0));
      g_autofree char *full = NULL, *taken = NULL;
      gint64 wait_t = -1;

      /* The producer's wait, not the consumer's first one (the queue is
       * empty when the consumer starts). */
      for (guint i = 0; wait_t < 0; i++)
        {
          g_autofree char *s = text_at (trace, queue_event (trace, IL_QUEUE_WAIT, i));
          if (strstr (s, "producer puts item") != NULL)
            {
              wait_t = queue_event (trace, IL_QUEUE_WAIT, i);
              full = g_steal_pointer (&s);
            }
        }
      taken = text_at (trace, queue_event (trace, IL_QUEUE_POP, 0));

      g_assert_nonnull (strstr (first_put, "producer puts item 1 on q (1/2 now)."));
      g_assert_nonnull (strstr (full, "producer puts item 3; q is full (2/2), so it waits until consumer takes one."));
      g_assert_nonnull (strstr (taken, "consumer takes item 1 (from producer) off q"));
      if (mode == IL_MODE_THREADS)
        {
          /* the consumer waited first, on the empty queue */
          g_autofree char *empty = text_at (trace, queue_event (trace, IL_QUEUE_WAIT, 0));
          g_assert_nonnull (strstr (empty, "consumer wants an item from q, but it is empty, so it waits until producer puts one."));
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/narrate/gil", test_gil);
  g_test_add_func ("/narrate/gil-asks", test_gil_asks);
  g_test_add_func ("/narrate/loop", test_loop);
  g_test_add_func ("/narrate/pool", test_pool);
  g_test_add_func ("/narrate/step-both-ways", test_step_both_ways);
  g_test_add_func ("/narrate/queue", test_queue);

  return g_test_run ();
}
