/* test-queues.c — the loop's ready queue and timers and a pool's work
 * queue, item by item, at chosen moments of small runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-queues.h"
#include "test-util.h"

/* The items as "name/kind name/kind …" (kind: s step, m main, i I/O,
 * t timer, x threadsafe). */
static char *
items_at (const IlTrace *trace,
          guint16        queue,
          gint64         t)
{
  g_autoptr(GArray) items = il_queue_items_at (trace, queue, t);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      const IlQueueItem *it = &g_array_index (items, IlQueueItem, i);
      g_string_append_printf (s, "%s%s/%c", i ? " " : "",
                              it->lane == IL_NO_LANE ? "-" : il_trace_get_lane (trace, it->lane)->name,
                              "sitxm"[it->what]);
      g_assert_cmpint (it->since, <=, t);
    }
  return g_string_free (s, FALSE);
}

/* Time of the n-th (from 0) loop callback that steps `task`. */
static gint64
nth_step (const IlTrace *trace,
          const char    *task,
          guint          n)
{
  guint32 lane = tu_lane (trace, IL_LANE_TASK, task);

  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_LOOP_CALLBACK && trace->value[e] == IL_CALLBACK_TASK_STEP
        && trace->arg[e] == lane && n-- == 0)
      return trace->time[e];
  g_error ("no step %u of %s", n, task);
  return -1;
}

static void
test_ready_queue (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"asyncio\",\"tasks\":["
                                      "{\"name\":\"alpha\",\"steps\":[{\"cpu\":1},{\"yield\":true}]},"
                                      "{\"name\":\"beta\",\"steps\":[{\"cpu\":1},{\"yield\":true}]},"
                                      "{\"name\":\"gamma\",\"steps\":[{\"cpu\":1},{\"yield\":true}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  g_autoptr(GArray) ids = il_queues_list (trace);
  gint64 a0 = nth_step (trace, "alpha", 0), b0 = nth_step (trace, "beta", 0), a1 = nth_step (trace, "alpha", 1);
  g_autofree char *at0 = items_at (trace, IL_QUEUE_READY, 0);
  g_autofree char *before = items_at (trace, IL_QUEUE_READY, a0 - 1);
  g_autofree char *during = items_at (trace, IL_QUEUE_READY, a0);
  g_autofree char *after = items_at (trace, IL_QUEUE_READY, b0);
  g_autofree char *second = items_at (trace, IL_QUEUE_READY, a1);
  g_autofree char *end = items_at (trace, IL_QUEUE_READY, trace->end_time);
  g_autofree char *name = il_queue_name (IL_QUEUE_READY);

  /* only the loop's queues; no timers were ever set */
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpuint (g_array_index (ids, guint16, 0), ==, IL_QUEUE_READY);
  g_assert_cmpstr (name, ==, "ready queue");

  /* main first; then the three first steps in creation order; alpha is
   * taken to run, and its sleep(0) puts it back at the end */
  g_assert_cmpstr (at0, ==, "-/m");
  g_assert_cmpstr (before, ==, "alpha/s beta/s gamma/s");
  g_assert_cmpstr (during, ==, "beta/s gamma/s");
  g_assert_cmpstr (after, ==, "gamma/s alpha/s");
  g_assert_cmpstr (second, ==, "beta/s gamma/s");
  g_assert_cmpstr (end, ==, "");
}

static void
test_timers (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"asyncio\",\"tasks\":["
                                      "{\"name\":\"slow\",\"steps\":[{\"sleep\":10}]},"
                                      "{\"name\":\"fast\",\"steps\":[{\"sleep\":5}]},"
                                      "{\"name\":\"late\",\"start\":20,\"steps\":[{\"cpu\":1}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  g_autofree char *start = items_at (trace, IL_QUEUE_TIMERS, 0);
  g_autofree char *first = items_at (trace, IL_QUEUE_TIMERS, nth_step (trace, "fast", 0));
  g_autofree char *set = items_at (trace, IL_QUEUE_TIMERS, IL_MSEC (1));
  g_autofree char *mid = items_at (trace, IL_QUEUE_TIMERS, IL_MSEC (7));
  g_autofree char *ready = items_at (trace, IL_QUEUE_READY, nth_step (trace, "fast", 1) - 1);
  g_autofree char *end = items_at (trace, IL_QUEUE_TIMERS, trace->end_time);
  g_autoptr(GArray) ids = il_queues_list (trace);

  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpuint (g_array_index (ids, guint16, 1), ==, IL_QUEUE_TIMERS);
  /* the delayed task's start is a timer set by main */
  g_assert_cmpstr (start, ==, "");
  g_assert_cmpstr (first, ==, "late/t slow/t");
  g_assert_cmpstr (set, ==, "late/t slow/t fast/t");
  /* fast's timer fired and left; its wake-up went through the ready queue */
  g_assert_cmpstr (mid, ==, "late/t slow/t");
  g_assert_cmpstr (ready, ==, "fast/s");
  g_assert_cmpstr (end, ==, "");
}

static void
test_pool_queue (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"threads\",\"workers\":1,\"tasks\":["
                                      "{\"name\":\"x\",\"steps\":[{\"cpu\":5}]},"
                                      "{\"name\":\"y\",\"steps\":[{\"cpu\":5}]},"
                                      "{\"name\":\"z\",\"steps\":[{\"cpu\":5}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_THREADS);
  g_autoptr(GArray) ids = il_queues_list (trace);
  guint16 q;
  guint32 x = tu_lane (trace, IL_LANE_TASK, "x"), y = tu_lane (trace, IL_LANE_TASK, "y");
  gint64 x_done = tu_first_state (trace, x, IL_STATE_DONE);
  g_autofree char *name = NULL;
  g_autofree char *early = NULL;
  g_autofree char *later = NULL;
  g_autofree char *end = NULL;
  guint32 worker;

  g_assert_cmpuint (ids->len, ==, 1);
  q = g_array_index (ids, guint16, 0);
  g_assert_cmpuint (q & IL_QUEUE_PROCESS_POOL, ==, 0);
  name = il_queue_name (q);
  g_assert_true (g_str_has_prefix (name, "thread pool "));

  /* one worker: x is taken at once, y and z wait in order */
  early = items_at (trace, q, tu_first_state (trace, x, IL_STATE_RUNNING));
  later = items_at (trace, q, x_done);
  end = items_at (trace, q, trace->end_time);
  g_assert_cmpstr (early, ==, "y/s z/s");
  g_assert_cmpstr (later, ==, "z/s");
  g_assert_cmpstr (end, ==, "");

  worker = il_queue_taken_by (trace, x, trace->end_time);
  g_assert_cmpuint (worker, !=, IL_NO_LANE);
  g_assert_cmpint (il_trace_get_lane (trace, worker)->kind, ==, IL_LANE_THREAD);
  g_assert_cmpuint (il_queue_taken_by (trace, y, trace->end_time), ==, worker);
  g_assert_cmpuint (il_queue_taken_by (trace, y, 0), ==, IL_NO_LANE);
}

/* A trace with no queue events has no queues. */
static void
test_no_queues (void)
{
  g_autoptr(IlTrace) trace = il_trace_new ();
  g_autoptr(GArray) ids = il_queues_list (trace);
  g_autoptr(GArray) items = il_queue_items_at (trace, IL_QUEUE_READY, 100);
  g_autofree char *name = il_queue_name (IL_QUEUE_POOL + 3 + IL_QUEUE_PROCESS_POOL);

  g_assert_cmpuint (ids->len, ==, 0);
  g_assert_cmpuint (items->len, ==, 0);
  g_assert_cmpstr (name, ==, "process pool 3 work queue");
}

/* "3:p 4:p": the numbered items of a user queue and who put them. */
static char *
user_items_at (const IlTrace *trace,
               guint16        queue,
               gint64         t)
{
  g_autoptr(GArray) items = il_queue_items_at (trace, queue, t);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      const IlQueueItem *it = &g_array_index (items, IlQueueItem, i);
      g_string_append_printf (s, "%s%u:%s", i ? " " : "", it->number, il_trace_get_lane (trace, it->lane)->name);
    }
  return g_string_free (s, FALSE);
}

/* Time of the n-th (from 0) event of op on a user queue. */
static gint64
nth_queue_op (const IlTrace *trace,
              IlQueueOp      op,
              guint          n)
{
  for (gsize e = 0; e < trace->n_events; e++)
    if (trace->kind[e] == IL_EVENT_QUEUE && il_queue_is_user (trace->aux[e]) && (trace->value[e] & 3) == op
        && n-- == 0)
      return trace->time[e];
  g_error ("no queue op %d", op);
  return -1;
}

/* A scenario's queue: listed, named from the scenario, its maxsize known,
 * items numbered in put order and taken oldest first; waits move nothing. */
static void
test_user_queue (void)
{
  g_autoptr(IlScenario) sc = tu_load ("{\"mode\":\"asyncio\",\"queues\":{\"jobs\":2},\"tasks\":["
                                      "{\"name\":\"p\",\"steps\":[{\"repeat\":3,\"steps\":[{\"cpu\":1},{\"put\":\"jobs\"}]}]},"
                                      "{\"name\":\"c\",\"steps\":[{\"repeat\":3,\"steps\":[{\"get\":\"jobs\"},{\"io\":5}]}]}]}");
  g_autoptr(IlTrace) trace = tu_run (sc, IL_MODE_ASYNCIO);
  g_autoptr(GArray) ids = il_queues_list (trace);
  guint16 jobs = IL_QUEUE_USER | 0;
  g_autofree char *label = il_queue_label (trace, jobs);
  g_autofree char *plain = il_queue_name (jobs);
  g_autofree char *ready = il_queue_label (trace, IL_QUEUE_READY);
  gint64 second = nth_queue_op (trace, IL_QUEUE_PUSH, 1), wait = nth_queue_op (trace, IL_QUEUE_WAIT, 0);
  gint64 first_pop = nth_queue_op (trace, IL_QUEUE_POP, 0);
  g_autofree char *full = user_items_at (trace, jobs, second);
  g_autofree char *waiting = user_items_at (trace, jobs, wait);
  g_autofree char *after = user_items_at (trace, jobs, first_pop);
  g_autofree char *end = user_items_at (trace, jobs, trace->end_time);
  gboolean listed = FALSE;

  for (guint i = 0; i < ids->len; i++)
    listed |= g_array_index (ids, guint16, i) == jobs;
  g_assert_true (listed);
  g_assert_true (il_queue_is_user (jobs));
  g_assert_false (il_queue_is_user (IL_QUEUE_POOL + 1 + IL_QUEUE_PROCESS_POOL));
  g_assert_cmpstr (label, ==, "jobs");
  g_assert_cmpstr (plain, ==, "queue 0");
  g_assert_cmpstr (ready, ==, "ready queue");
  g_assert_cmpint (il_queue_maxsize (trace, jobs), ==, 2);
  g_assert_cmpint (il_queue_maxsize (trace, IL_QUEUE_READY), ==, -1);

  /* p never yields while the queue has room: it fills it, then waits at
   * its third put; the consumer's first get takes item 1. */
  g_assert_cmpstr (full, ==, "1:p 2:p");
  g_assert_cmpstr (waiting, ==, "1:p 2:p");
  g_assert_cmpstr (after, ==, "2:p");
  g_assert_cmpstr (end, ==, "");
  g_assert_cmpint (wait, <, first_pop);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/queues/ready", test_ready_queue);
  g_test_add_func ("/queues/timers", test_timers);
  g_test_add_func ("/queues/pool", test_pool_queue);
  g_test_add_func ("/queues/none", test_no_queues);
  g_test_add_func ("/queues/user", test_user_queue);

  return g_test_run ();
}
