/* test-trace.c — the trace container: lanes, events, look-ups, interning
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "il-engine.h"
#include "il-trace.h"

static void
test_lanes (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 proc, gil, a, b;
  const IlLane *lane;

  g_assert_cmpuint (il_trace_get_n_lanes (t), ==, 0);
  g_assert_cmpuint (t->n_events, ==, 0);
  proc = il_trace_add_lane (t, IL_LANE_PROCESS, "main", IL_NO_LANE, 0);
  gil = il_trace_add_lane (t, IL_LANE_GIL, "GIL", proc, 0);
  a = il_trace_add_lane (t, IL_LANE_TASK, "a", proc, 0);
  b = il_trace_add_lane (t, IL_LANE_TASK, "b", proc, 1);
  g_assert_cmpuint (proc, ==, 0);
  g_assert_cmpuint (gil, ==, 1);
  g_assert_cmpuint (a, ==, 2);
  g_assert_cmpuint (b, ==, 3);
  g_assert_cmpuint (il_trace_get_n_lanes (t), ==, 4);

  lane = il_trace_get_lane (t, b);
  g_assert_cmpint (lane->kind, ==, IL_LANE_TASK);
  g_assert_cmpstr (lane->name, ==, "b");
  g_assert_cmpuint (lane->parent, ==, proc);
  g_assert_cmpuint (lane->index, ==, 1);
  lane = il_trace_get_lane (t, proc);
  g_assert_cmpint (lane->kind, ==, IL_LANE_PROCESS);
  g_assert_cmpuint (lane->parent, ==, IL_NO_LANE);
  for (guint32 l = 0; l < 4; l++)
    g_assert_cmpuint (il_trace_get_lane_events (t, l)->len, ==, 0);
}

static void
test_append (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  guint32 b = il_trace_add_lane (t, IL_LANE_TASK, "b", IL_NO_LANE, 1);
  const IlLaneIndex *ea, *eb;

  il_trace_append (t, 0, a, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_START, IL_NO_LANE);
  il_trace_append (t, 0, b, IL_EVENT_STATE, IL_STATE_READY, IL_CAUSE_START, a);
  il_trace_append (t, 10, a, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_RETURNED, IL_NO_LANE);
  il_trace_append (t, 10, b, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_FUTURE, a);
  il_trace_append (t, 25, b, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_FAILED, IL_NO_LANE);

  g_assert_cmpuint (t->n_events, ==, 5);
  g_assert_cmpuint (t->capacity, >=, 5);
  g_assert_cmpint (t->time[0], ==, 0);
  g_assert_cmpint (t->time[4], ==, 25);
  g_assert_cmpuint (il_trace_event_lane (t, 1), ==, b);
  g_assert_cmpuint (t->kind[3], ==, IL_EVENT_STATE);
  g_assert_cmpuint (t->value[3], ==, IL_STATE_RUNNING);
  g_assert_cmpuint (t->aux[3], ==, IL_CAUSE_FUTURE);
  g_assert_cmpuint (t->arg[3], ==, a);
  g_assert_cmpuint (t->aux[4], ==, IL_CAUSE_FAILED);
  g_assert_cmpuint (t->arg[0], ==, IL_NO_LANE);

  ea = il_trace_get_lane_events (t, a);
  eb = il_trace_get_lane_events (t, b);
  g_assert_cmpuint (ea->len, ==, 2);
  g_assert_cmpuint (eb->len, ==, 3);
  g_assert_cmpuint (ea->data[0], ==, 0);
  g_assert_cmpuint (ea->data[1], ==, 2);
  g_assert_cmpuint (eb->data[0], ==, 1);
  g_assert_cmpuint (eb->data[1], ==, 3);
  g_assert_cmpuint (eb->data[2], ==, 4);
}

/* Bulk appends give the same lane indices as appending one by one, exactly
 * sized, also when the bulk part follows events already indexed and when
 * lanes are added between (the lane pointers stay valid). */
static void
test_bulk (void)
{
  g_autoptr(IlTrace) one = il_trace_new ();
  g_autoptr(IlTrace) bulk = il_trace_new ();
  IlTrace *both[2] = { one, bulk };
  const IlLaneIndex *first_lane;

  for (int k = 0; k < 2; k++)
    {
      for (guint l = 0; l < 5; l++)
        il_trace_add_lane (both[k], IL_LANE_THREAD, "t", IL_NO_LANE, l);
      for (guint i = 0; i < 100; i++)
        il_trace_append (both[k], i, (i * 7) % 3, IL_EVENT_INSTANT, 0, 0, i);
    }
  first_lane = il_trace_get_lane_events (bulk, 0);
  il_trace_begin_bulk (bulk);
  for (int k = 0; k < 2; k++)
    for (guint i = 100; i < 5000; i++)
      il_trace_append (both[k], i, (i * i) % 5, IL_EVENT_INSTANT, 0, 0, i);
  g_assert_cmpuint (il_trace_get_lane_events (bulk, 4)->len, ==, 0);   /* not yet indexed */
  il_trace_end_bulk (bulk);
  for (int k = 0; k < 2; k++)
    il_trace_add_lane (both[k], IL_LANE_THREAD, "late", IL_NO_LANE, 5);
  g_assert_true (first_lane == il_trace_get_lane_events (bulk, 0));
  g_assert_cmpuint (il_trace_get_lane_events (bulk, 4)->alloc, ==, il_trace_get_lane_events (bulk, 4)->len);
  il_trace_reserve (one, 0);
  il_trace_reserve (bulk, 0);
  for (guint l = 0; l < 6; l++)
    {
      const IlLaneIndex *a = il_trace_get_lane_events (one, l), *b = il_trace_get_lane_events (bulk, l);
      g_assert_cmpuint (a->len, ==, b->len);
      g_assert_cmpuint (a->alloc, ==, a->len);   /* trimmed */
      g_assert_cmpuint (b->alloc, ==, b->len);
      if (a->len > 0)
        g_assert_cmpmem (a->data, a->len * 4, b->data, b->len * 4);
    }
  g_assert_cmpuint (il_trace_get_memory_size (one), ==, il_trace_get_memory_size (bulk));
}

/* The lane column is 16 bits wide until lane 65536 exists; then it widens
 * and keeps every event's lane. */
static void
test_wide_lanes (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();

  for (guint l = 0; l < 65536; l++)
    il_trace_add_lane (t, IL_LANE_THREAD, NULL, IL_NO_LANE, l);
  il_trace_append (t, 1, 65535, IL_EVENT_INSTANT, 0, 0, 0);
  il_trace_append (t, 2, 7, IL_EVENT_INSTANT, 0, 0, 0);
  g_assert_null (t->lane32);
  g_assert_cmpuint (il_trace_get_memory_size (t), ==, t->capacity * 18 + 2 * 16 * 4);
  il_trace_add_lane (t, IL_LANE_THREAD, NULL, IL_NO_LANE, 65536);
  g_assert_null (t->lane16);
  il_trace_append (t, 3, 65536, IL_EVENT_INSTANT, 0, 0, 0);
  g_assert_cmpuint (il_trace_event_lane (t, 0), ==, 65535);
  g_assert_cmpuint (il_trace_event_lane (t, 1), ==, 7);
  g_assert_cmpuint (il_trace_event_lane (t, 2), ==, 65536);
  g_assert_cmpuint (il_trace_get_lane_events (t, 65536)->data[0], ==, 2);
}

static void
test_many_events (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  guint32 c = il_trace_add_lane (t, IL_LANE_CORE, "core 0", IL_NO_LANE, 0);
  const gsize n = 100000;

  for (gsize i = 0; i < n; i++)
    il_trace_append (t, (gint64) i * 3, (i % 2) ? c : a,
                     (i % 2) ? IL_EVENT_CORE : IL_EVENT_STATE,
                     (i % 2) ? 0 : (guint8) (i % 4 == 0 ? IL_STATE_RUNNING : IL_STATE_READY),
                     0, (guint32) i);
  g_assert_cmpuint (t->n_events, ==, n);
  g_assert_cmpuint (il_trace_get_lane_events (t, a)->len, ==, n / 2);
  g_assert_cmpuint (il_trace_get_lane_events (t, c)->len, ==, n / 2);
  for (gsize i = 0; i < n; i += 997)
    {
      g_assert_cmpint (t->time[i], ==, (gint64) i * 3);
      g_assert_cmpuint (t->arg[i], ==, i);
    }
  /* lower_bound over the big array */
  g_assert_cmpuint (il_trace_lower_bound (t, 0), ==, 0);
  g_assert_cmpuint (il_trace_lower_bound (t, 30000), ==, 10000);
  g_assert_cmpuint (il_trace_lower_bound (t, 30001), ==, 10001);
  g_assert_cmpuint (il_trace_lower_bound (t, (gint64) n * 3), ==, n);
  /* in lane a the events are at times 0, 6, 12, … */
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 6000), ==, 1000);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 6001), ==, 1001);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, c, 3), ==, 0);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, c, 4), ==, 1);

  /* reserve(0) trims to exactly n_events and keeps the data */
  il_trace_reserve (t, 0);
  g_assert_cmpuint (t->capacity, ==, n);
  g_assert_cmpint (t->time[n - 1], ==, (gint64) (n - 1) * 3);
}

/* Big traces keep their columns in mappings of their own (il-trace.c):
 * the data must survive growing into one, widening the lane column there,
 * trimming, and going back to the heap. */
static void
test_big_columns (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  g_autoptr(IlTrace) small = il_trace_new ();
  const gsize n = 300000;
  guint32 far;

  for (guint l = 0; l < 3; l++)
    il_trace_add_lane (t, IL_LANE_THREAD, NULL, IL_NO_LANE, l);
  il_trace_begin_bulk (t);
  for (gsize i = 0; i < n; i++)
    il_trace_append (t, (gint64) i, (guint32) (i % 3), (IlEventKind) (i % IL_N_EVENT_KINDS),
                     (guint8) i, (guint16) (i * 7), (guint32) (i * 13));
  il_trace_end_bulk (t);
  g_assert_cmpuint (t->capacity, >=, n);
  g_assert_cmpint (t->end_time, ==, (gint64) n - 1);   /* brought up to date by end_bulk */

  /* Lane 65536 widens the lane column of a mapped trace. */
  for (guint l = 3; l <= 65536; l++)
    far = il_trace_add_lane (t, IL_LANE_THREAD, NULL, IL_NO_LANE, l);
  g_assert_null (t->lane16);
  il_trace_append (t, (gint64) n, far, IL_EVENT_INSTANT, 1, 2, 3);
  il_trace_reserve (t, 0);
  g_assert_cmpuint (t->capacity, ==, n + 1);
  for (gsize i = 0; i < n; i += 7)
    {
      g_assert_cmpint (t->time[i], ==, (gint64) i);
      g_assert_cmpuint (il_trace_event_lane (t, i), ==, i % 3);
      g_assert_cmpuint (t->kind[i], ==, i % IL_N_EVENT_KINDS);
      g_assert_cmpuint (t->value[i], ==, (guint8) i);
      g_assert_cmpuint (t->aux[i], ==, (guint16) (i * 7));
      g_assert_cmpuint (t->arg[i], ==, (guint32) (i * 13));
    }
  g_assert_cmpuint (il_trace_event_lane (t, n), ==, far);
  g_assert_cmpuint (il_trace_get_lane_events (t, 1)->len, ==, n / 3);
  g_assert_cmpuint (il_trace_get_lane_events (t, far)->data[0], ==, n);

  /* Room reserved up front, then trimmed back to a few events. */
  il_trace_add_lane (small, IL_LANE_THREAD, NULL, IL_NO_LANE, 0);
  il_trace_reserve (small, 2 * n);
  for (guint i = 0; i < 10; i++)
    il_trace_append (small, i, 0, IL_EVENT_INSTANT, 0, 0, i);
  il_trace_reserve (small, 0);
  g_assert_cmpuint (small->capacity, ==, 10);
  g_assert_cmpuint (small->arg[9], ==, 9);
  il_trace_append (small, 10, 0, IL_EVENT_INSTANT, 0, 0, 10);
  g_assert_cmpuint (small->arg[10], ==, 10);
  g_assert_cmpuint (il_trace_get_lane_events (small, 0)->len, ==, 11);
}

/* Appends into mapped columns fault their pages in a stretch ahead
 * (il-trace.c): the events must come out the same whatever the room was
 * when they were appended — reserved up front and partly used, trimmed
 * below what was filled ahead, grown again from there. */
static void
test_columns_filled_ahead (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  const gsize n = 250000;

  il_trace_add_lane (t, IL_LANE_THREAD, NULL, IL_NO_LANE, 0);
  il_trace_add_lane (t, IL_LANE_THREAD, NULL, IL_NO_LANE, 1);
  il_trace_reserve (t, 2 * n);
  for (gsize i = 0; i < n / 2; i++)
    il_trace_append (t, (gint64) i, (guint32) (i & 1), IL_EVENT_INSTANT, (guint8) i, (guint16) i, (guint32) i);
  il_trace_reserve (t, 0);
  g_assert_cmpuint (t->capacity, ==, n / 2);
  il_trace_begin_bulk (t);
  for (gsize i = n / 2; i < n; i++)
    il_trace_append (t, (gint64) i, (guint32) (i & 1), IL_EVENT_INSTANT, (guint8) i, (guint16) i, (guint32) i);
  g_assert_cmpint (t->end_time, ==, (gint64) n / 2 - 1);   /* as of begin_bulk */
  il_trace_end_bulk (t);
  g_assert_cmpint (t->end_time, ==, (gint64) n - 1);
  for (guint32 a = 0; a < 3; a++)
    il_trace_append (t, (gint64) (n + a), 0, IL_EVENT_INSTANT, 0, 0, 0);
  g_assert_cmpint (t->end_time, ==, (gint64) n + 2);
  g_assert_cmpuint (t->n_events, ==, n + 3);
  for (gsize i = 0; i < n; i++)
    if (t->time[i] != (gint64) i || il_trace_event_lane (t, i) != (i & 1) || t->kind[i] != IL_EVENT_INSTANT
        || t->value[i] != (guint8) i || t->aux[i] != (guint16) i || t->arg[i] != (guint32) i)
      g_error ("event %" G_GSIZE_FORMAT " changed", i);
  g_assert_cmpuint (il_trace_get_lane_events (t, 0)->len, ==, n / 2 + 3);
  g_assert_cmpuint (il_trace_get_lane_events (t, 1)->len, ==, n / 2);
  g_assert_cmpuint (il_trace_get_lane_events (t, 1)->data[n / 2 - 1], ==, n - 1);
}

static void
test_lower_bound (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  guint32 b = il_trace_add_lane (t, IL_LANE_TASK, "b", IL_NO_LANE, 1);
  guint32 empty = il_trace_add_lane (t, IL_LANE_TASK, "empty", IL_NO_LANE, 2);

  g_assert_cmpuint (il_trace_lower_bound (t, 0), ==, 0);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 0), ==, 0);

  /* times: 0(a) 10(b) 10(a) 10(b) 20(a) 30(b) */
  il_trace_append (t, 0, a, IL_EVENT_STATE, IL_STATE_RUNNING, 0, IL_NO_LANE);
  il_trace_append (t, 10, b, IL_EVENT_STATE, IL_STATE_RUNNING, 0, IL_NO_LANE);
  il_trace_append (t, 10, a, IL_EVENT_STATE, IL_STATE_READY, 0, IL_NO_LANE);
  il_trace_append (t, 10, b, IL_EVENT_STATE, IL_STATE_WAIT_IO, 0, IL_NO_LANE);
  il_trace_append (t, 20, a, IL_EVENT_STATE, IL_STATE_DONE, 0, IL_NO_LANE);
  il_trace_append (t, 30, b, IL_EVENT_STATE, IL_STATE_DONE, 0, IL_NO_LANE);

  g_assert_cmpuint (il_trace_lower_bound (t, -5), ==, 0);
  g_assert_cmpuint (il_trace_lower_bound (t, 0), ==, 0);
  g_assert_cmpuint (il_trace_lower_bound (t, 1), ==, 1);
  g_assert_cmpuint (il_trace_lower_bound (t, 10), ==, 1);   /* the first of equal times */
  g_assert_cmpuint (il_trace_lower_bound (t, 11), ==, 4);
  g_assert_cmpuint (il_trace_lower_bound (t, 20), ==, 4);
  g_assert_cmpuint (il_trace_lower_bound (t, 30), ==, 5);
  g_assert_cmpuint (il_trace_lower_bound (t, 31), ==, 6);
  g_assert_cmpuint (il_trace_lower_bound (t, IL_TIME_FOREVER), ==, 6);

  /* lane a: 0, 10, 20; lane b: 10, 10, 30 */
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 0), ==, 0);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 5), ==, 1);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 10), ==, 1);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 11), ==, 2);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, a, 21), ==, 3);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, b, 0), ==, 0);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, b, 10), ==, 0);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, b, 11), ==, 2);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, b, 30), ==, 2);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, b, 31), ==, 3);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, empty, 0), ==, 0);
  g_assert_cmpuint (il_trace_lane_lower_bound (t, empty, 100), ==, 0);
}

static void
test_state_at (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  guint32 b = il_trace_add_lane (t, IL_LANE_TASK, "b", IL_NO_LANE, 1);
  gsize idx = 12345;

  il_trace_append (t, 5, a, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_START, IL_NO_LANE);   /* 0 */
  il_trace_append (t, 5, b, IL_EVENT_STATE, IL_STATE_WAIT_GIL, IL_CAUSE_START, IL_NO_LANE);  /* 1 */
  il_trace_append (t, 15, a, IL_EVENT_STATE, IL_STATE_WAIT_IO, 0, IL_NO_LANE);              /* 2 */
  il_trace_append (t, 15, b, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_GIL_HANDOFF, a);    /* 3 */
  il_trace_append (t, 15, b, IL_EVENT_MARK, IL_MARK_EXCEPTION, 0, IL_NO_LANE);              /* 4: not a state */
  il_trace_append (t, 40, a, IL_EVENT_STATE, IL_STATE_SLEEPING, 0, IL_NO_LANE);             /* 5 */
  il_trace_append (t, 50, a, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_RETURNED, IL_NO_LANE); /* 6 */

  g_assert_cmpint (il_trace_state_at (t, a, 0, NULL), ==, IL_STATE_NOT_STARTED);
  g_assert_cmpint (il_trace_state_at (t, a, 4, NULL), ==, IL_STATE_NOT_STARTED);
  g_assert_cmpint (il_trace_state_at (t, a, 5, &idx), ==, IL_STATE_RUNNING);
  g_assert_cmpuint (idx, ==, 0);
  g_assert_cmpint (il_trace_state_at (t, a, 14, &idx), ==, IL_STATE_RUNNING);
  g_assert_cmpuint (idx, ==, 0);
  g_assert_cmpint (il_trace_state_at (t, a, 15, &idx), ==, IL_STATE_WAIT_IO);
  g_assert_cmpuint (idx, ==, 2);
  g_assert_cmpint (il_trace_state_at (t, a, 45, &idx), ==, IL_STATE_SLEEPING);
  g_assert_cmpuint (idx, ==, 5);
  g_assert_cmpint (il_trace_state_at (t, a, 50, &idx), ==, IL_STATE_DONE);
  g_assert_cmpuint (idx, ==, 6);
  g_assert_cmpint (il_trace_state_at (t, a, IL_TIME_FOREVER, NULL), ==, IL_STATE_DONE);

  g_assert_cmpint (il_trace_state_at (t, b, 5, &idx), ==, IL_STATE_WAIT_GIL);
  g_assert_cmpuint (idx, ==, 1);
  /* the MARK on b at 15 does not change its state */
  g_assert_cmpint (il_trace_state_at (t, b, 15, &idx), ==, IL_STATE_RUNNING);
  g_assert_cmpuint (idx, ==, 3);
  g_assert_cmpint (il_trace_state_at (t, b, 1000, &idx), ==, IL_STATE_RUNNING);
  g_assert_cmpuint (idx, ==, 3);
}

static void
test_gil_holder_at (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 gil = il_trace_add_lane (t, IL_LANE_GIL, "GIL", IL_NO_LANE, 0);
  guint32 a = il_trace_add_lane (t, IL_LANE_THREAD, "a", IL_NO_LANE, 0);
  guint32 b = il_trace_add_lane (t, IL_LANE_THREAD, "b", IL_NO_LANE, 1);

  il_trace_append (t, 10, gil, IL_EVENT_GIL_TAKE, 0, 0, a);
  il_trace_append (t, 20, gil, IL_EVENT_GIL_REQUEST, 0, 0, b);
  il_trace_append (t, 20, gil, IL_EVENT_GIL_WAITERS, 0, 0, 1);
  il_trace_append (t, 25, gil, IL_EVENT_GIL_DROP, IL_GIL_DROP_FORCED, 0, a);
  il_trace_append (t, 30, gil, IL_EVENT_GIL_TAKE, 1, 0, b);
  il_trace_append (t, 40, gil, IL_EVENT_GIL_DROP, IL_GIL_DROP_VOLUNTARY, 0, b);

  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 0), ==, IL_NO_LANE);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 9), ==, IL_NO_LANE);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 10), ==, a);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 20), ==, a);   /* a request does not move it */
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 24), ==, a);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 25), ==, IL_NO_LANE);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 29), ==, IL_NO_LANE);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 30), ==, b);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 39), ==, b);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 40), ==, IL_NO_LANE);
  g_assert_cmpuint (il_trace_gil_holder_at (t, gil, 1000), ==, IL_NO_LANE);
}

static void
test_interval_at_gil (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 proc = il_trace_add_lane (t, IL_LANE_PROCESS, "p", IL_NO_LANE, 1);
  guint32 gil = il_trace_add_lane (t, IL_LANE_GIL, "GIL", proc, 0);
  guint32 a = il_trace_add_lane (t, IL_LANE_THREAD, "a", proc, 0);
  guint32 b = il_trace_add_lane (t, IL_LANE_THREAD, "b", proc, 1);
  IlTraceInterval in;

  il_trace_append (t, 10, gil, IL_EVENT_GIL_TAKE, 0, 0, a);
  il_trace_append (t, 20, gil, IL_EVENT_GIL_REQUEST, 0, 0, b);
  il_trace_append (t, 20, gil, IL_EVENT_GIL_WAITERS, 0, 0, 1);
  il_trace_append (t, 25, gil, IL_EVENT_GIL_DROP, IL_GIL_DROP_FORCED, 0, a);
  il_trace_append (t, 30, gil, IL_EVENT_GIL_TAKE, 1, 0, b);
  il_trace_append (t, 30, gil, IL_EVENT_GIL_WAITERS, 0, 0, 0);
  il_trace_set_end_time (t, 50);

  g_assert_false (il_trace_interval_at (t, gil, 5, G_MAXINT64, &in));  /* before anyone took it */
  g_assert_cmpuint (in.event, ==, G_MAXSIZE);
  g_assert_true (il_trace_interval_at (t, gil, 22, G_MAXINT64, &in));
  g_assert_cmpuint (in.lane, ==, gil);
  g_assert_cmpuint (in.other, ==, a);
  g_assert_cmpint (in.start, ==, 10);
  g_assert_cmpint (in.end, ==, 25);
  g_assert_false (in.open);
  g_assert_cmpuint (in.waiters, ==, 1);
  g_assert_cmpuint (in.event, ==, 0);
  g_assert_false (il_trace_interval_at (t, gil, 27, G_MAXINT64, &in));  /* dropped, not yet taken */
  /* Still held at the end: open, up to the end of the run. */
  g_assert_true (il_trace_interval_at (t, gil, 45, G_MAXINT64, &in));
  g_assert_cmpuint (in.other, ==, b);
  g_assert_cmpint (in.end, ==, 50);
  g_assert_true (in.open);
  g_assert_cmpuint (in.waiters, ==, 0);

  /* Out of range: no crash, nothing found. */
  g_assert_false (il_trace_interval_at (t, 99, 22, G_MAXINT64, &in));
  g_assert_false (il_trace_interval_at (t, gil, -1, G_MAXINT64, &in));
  g_assert_false (il_trace_interval_at (t, gil, 22, 21, &in));
  g_assert_false (il_trace_interval_at (t, proc, 22, G_MAXINT64, &in));
}

static void
test_interval_at_loop (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 loop = il_trace_add_lane (t, IL_LANE_LOOP, "loop", IL_NO_LANE, 0);
  guint32 task = il_trace_add_lane (t, IL_LANE_TASK, "task", IL_NO_LANE, 0);
  IlTraceInterval in;

  il_trace_append (t, 0, loop, IL_EVENT_LOOP_ITER, 0, 0, 1);
  il_trace_append (t, 10, loop, IL_EVENT_LOOP_SELECT, 0, 0, 1000);
  il_trace_append (t, 20, loop, IL_EVENT_LOOP_SELECT_END, 0, 0, 1);
  il_trace_append (t, 25, loop, IL_EVENT_LOOP_CALLBACK, IL_CALLBACK_TASK_STEP, 0, task);
  il_trace_append (t, 40, loop, IL_EVENT_LOOP_CALLBACK_END, 0, 0, task);
  il_trace_set_end_time (t, 60);

  g_assert_true (il_trace_interval_at (t, loop, 5, G_MAXINT64, &in));
  g_assert_cmpint (in.state, ==, IL_STATE_READY);   /* the loop's bookkeeping */
  g_assert_cmpint (in.end, ==, 10);
  g_assert_true (il_trace_interval_at (t, loop, 15, G_MAXINT64, &in));
  g_assert_cmpint (in.state, ==, IL_STATE_IDLE);
  g_assert_cmpint (in.start, ==, 10);
  g_assert_cmpint (in.end, ==, 20);
  g_assert_true (il_trace_interval_at (t, loop, 30, G_MAXINT64, &in));
  g_assert_cmpint (in.state, ==, IL_STATE_RUNNING);
  g_assert_cmpuint (in.other, ==, task);
  g_assert_cmpint (in.start, ==, 25);
  g_assert_cmpint (in.end, ==, 40);
  /* The playhead at 35 hides the callback's end. */
  g_assert_true (il_trace_interval_at (t, loop, 30, 35, &in));
  g_assert_cmpint (in.end, ==, 35);
  g_assert_true (in.open);
}

static void
test_interval_at_slices (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 th = il_trace_add_lane (t, IL_LANE_THREAD, "main", IL_NO_LANE, 0);
  guint32 st = il_trace_add_lane (t, IL_LANE_TASK, "task", IL_NO_LANE, 0);
  guint32 empty = il_trace_add_lane (t, IL_LANE_THREAD, "empty", IL_NO_LANE, 1);
  guint32 outer = il_trace_intern (t, "outer"), inner = il_trace_intern (t, "inner");
  IlTraceInterval in;

  il_trace_append (t, 100, th, IL_EVENT_SLICE_BEGIN, 0, 0, outer);
  il_trace_append (t, 110, st, IL_EVENT_STATE, IL_STATE_RUNNING, IL_CAUSE_START, IL_NO_LANE);
  il_trace_append (t, 120, th, IL_EVENT_SLICE_BEGIN, 0, 1, inner);
  il_trace_append (t, 150, th, IL_EVENT_SLICE_END, 0, 1, inner);
  il_trace_append (t, 200, th, IL_EVENT_SLICE_END, 0, 0, outer);
  il_trace_append (t, 210, st, IL_EVENT_STATE, IL_STATE_DONE, IL_CAUSE_RETURNED, IL_NO_LANE);
  il_trace_set_end_time (t, 300);

  g_assert_true (il_trace_lane_has_slices (t, th));
  g_assert_false (il_trace_lane_has_slices (t, st));
  g_assert_false (il_trace_lane_has_slices (t, empty));

  /* The innermost slice open at t. */
  g_assert_true (il_trace_interval_at (t, th, 130, G_MAXINT64, &in));
  g_assert_cmpint (in.start, ==, 120);
  g_assert_cmpint (in.end, ==, 150);
  g_assert_cmpuint (in.event, ==, 2);
  g_assert_cmpstr (il_trace_get_string (t, t->arg[in.event]), ==, "inner");
  /* After the inner one closed, the outer one again. */
  g_assert_true (il_trace_interval_at (t, th, 160, G_MAXINT64, &in));
  g_assert_cmpint (in.start, ==, 100);
  g_assert_cmpint (in.end, ==, 200);
  g_assert_false (in.open);
  g_assert_false (il_trace_interval_at (t, th, 250, G_MAXINT64, &in));
  g_assert_false (il_trace_interval_at (t, th, 50, G_MAXINT64, &in));
  /* Cut at the playhead. */
  g_assert_true (il_trace_interval_at (t, th, 130, 140, &in));
  g_assert_cmpint (in.end, ==, 140);
  g_assert_true (in.open);

  /* A state lane: a task that is done is not an interval to show. */
  g_assert_true (il_trace_interval_at (t, st, 150, G_MAXINT64, &in));
  g_assert_cmpint (in.state, ==, IL_STATE_RUNNING);
  g_assert_cmpint (in.cause, ==, IL_CAUSE_START);
  g_assert_cmpint (in.end, ==, 210);
  g_assert_true (il_trace_interval_at (t, st, 250, G_MAXINT64, &in));
  g_assert_cmpint (in.state, ==, IL_STATE_DONE);
  g_assert_false (il_trace_interval_at (t, st, 50, G_MAXINT64, &in));

  /* Stepping counts slice boundaries as well as state changes. */
  g_assert_cmpint (il_trace_next_event_time (t, 100, FALSE, FALSE), ==, 110);
  g_assert_cmpint (il_trace_next_event_time (t, 120, FALSE, FALSE), ==, 150);
  g_assert_cmpint (il_trace_next_event_time (t, 150, TRUE, FALSE), ==, 120);
  g_assert_cmpint (il_trace_next_event_time (t, 0, FALSE, TRUE), ==, -1);   /* no GIL at all */
  g_assert_cmpint (il_trace_next_event_time (t, G_MAXINT64, FALSE, FALSE), ==, -1);
  g_assert_cmpint (il_trace_next_event_time (t, G_MAXINT64, TRUE, FALSE), ==, 210);
}

static void
test_intern (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  char buf[16];
  guint32 foo, bar, foo2, empty;

  foo = il_trace_intern (t, "foo");
  bar = il_trace_intern (t, "bar");
  g_strlcpy (buf, "foo", sizeof buf);   /* a different pointer, same text */
  foo2 = il_trace_intern (t, buf);
  empty = il_trace_intern (t, "");

  g_assert_cmpuint (foo, ==, foo2);
  g_assert_cmpuint (foo, !=, bar);
  g_assert_cmpuint (empty, !=, foo);
  g_assert_cmpuint (empty, !=, bar);
  g_assert_cmpuint (t->strings->len, ==, 3);
  g_assert_cmpstr (il_trace_get_string (t, foo), ==, "foo");
  g_assert_cmpstr (il_trace_get_string (t, bar), ==, "bar");
  g_assert_cmpstr (il_trace_get_string (t, empty), ==, "");
  /* the trace keeps its own copy */
  g_strlcpy (buf, "xyz", sizeof buf);
  g_assert_cmpstr (il_trace_get_string (t, foo), ==, "foo");
  g_assert_cmpuint (il_trace_intern (t, "foo"), ==, foo);
  /* an id out of range reads as "" */
  g_assert_cmpstr (il_trace_get_string (t, 1000), ==, "");
  g_assert_cmpstr (il_trace_get_string (t, G_MAXUINT32), ==, "");
}

static void
test_float_bits (void)
{
  const float values[] = { 0.0f, -0.0f, 1.0f, -1.5f, 3.14159f, 1e-30f, 1e30f, 123456.789f,
                           G_MINFLOAT, G_MAXFLOAT, INFINITY, -INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      guint32 bits = il_trace_float_bits (values[i]);
      float back = il_trace_bits_float (bits);

      g_assert_cmpmem (&back, sizeof back, &values[i], sizeof values[i]);
      g_assert_cmpuint (il_trace_float_bits (back), ==, bits);
    }
  g_assert_cmpuint (il_trace_float_bits (1.0f), ==, 0x3f800000u);
  g_assert_cmpuint (il_trace_float_bits (-2.0f), ==, 0xc0000000u);
  g_assert_cmpuint (il_trace_float_bits (0.0f), ==, 0u);
  g_assert_cmpuint (il_trace_float_bits (-0.0f), ==, 0x80000000u);
  g_assert_true (isnan (il_trace_bits_float (il_trace_float_bits (NAN))));
  g_assert_cmpfloat (il_trace_bits_float (0x40490fdbu), ==, 3.14159265f);

  /* a COUNTER event carries the bits through the arg column */
  {
    g_autoptr(IlTrace) t = il_trace_new ();
    guint32 c = il_trace_add_lane (t, IL_LANE_COUNTER, "queue", IL_NO_LANE, 0);

    il_trace_append (t, 7, c, IL_EVENT_COUNTER, 0, 0, il_trace_float_bits (42.25f));
    g_assert_cmpfloat (il_trace_bits_float (t->arg[0]), ==, 42.25f);
  }
}

static void
test_memory_size (void)
{
  g_autoptr(IlTrace) t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);
  gsize before, after_small, after_big;

  before = il_trace_get_memory_size (t);
  for (int i = 0; i < 10; i++)
    il_trace_append (t, i, a, IL_EVENT_STATE, IL_STATE_RUNNING, 0, 0);
  after_small = il_trace_get_memory_size (t);
  for (int i = 10; i < 100000; i++)
    il_trace_append (t, i, a, IL_EVENT_STATE, IL_STATE_RUNNING, 0, 0);
  after_big = il_trace_get_memory_size (t);

  g_assert_cmpuint (after_small, >=, before);
  g_assert_cmpuint (after_big, >, after_small);
  /* 20 bytes per event in the columns plus 4 in the lane index */
  g_assert_cmpuint (after_big, >=, 100000 * 24);
  /* growing by half leaves at most about half again unused (plus the lane index's own slack) */
  g_assert_cmpuint (after_big, <=, 100000 * 24 * 3);
}

static void
test_end_time_and_ref (void)
{
  IlTrace *t = il_trace_new ();
  guint32 a = il_trace_add_lane (t, IL_LANE_TASK, "a", IL_NO_LANE, 0);

  il_trace_append (t, 100, a, IL_EVENT_STATE, IL_STATE_RUNNING, 0, 0);
  il_trace_set_end_time (t, 500);
  g_assert_cmpint (t->end_time, ==, 500);
  g_assert_true (il_trace_ref (t) == t);
  g_assert_cmpint (t->ref_count, ==, 2);
  il_trace_unref (t);
  g_assert_cmpint (t->ref_count, ==, 1);
  g_assert_cmpuint (t->n_events, ==, 1);
  il_trace_unref (t);
}

static void
test_names (void)
{
  g_assert_cmpstr (il_state_to_nick (IL_STATE_WAIT_GIL), ==, "wait-gil");
  g_assert_cmpstr (il_state_to_nick (IL_STATE_NOT_STARTED), ==, "not-started");
  g_assert_cmpstr (il_state_to_nick (IL_STATE_DONE), ==, "done");
  g_assert_cmpstr (il_state_to_string (IL_STATE_RUNNING), ==, "running");
  g_assert_cmpstr (il_state_to_string (IL_STATE_WAIT_GIL), ==, "waiting for the GIL");
  for (int s = 0; s < IL_N_STATES; s++)
    {
      g_assert_nonnull (il_state_to_string ((IlState) s));
      g_assert_cmpuint (strlen (il_state_to_nick ((IlState) s)), >, 0);
    }
  for (int c = 0; c < IL_N_CAUSES; c++)
    g_assert_nonnull (il_cause_to_string ((IlCause) c));
  for (int k = 0; k < IL_N_LANE_KINDS; k++)
    g_assert_nonnull (il_lane_kind_to_string ((IlLaneKind) k));
}

/* The engine's own trace: times never go backwards, globally and per lane,
 * every lane index points at events of that lane, and the end is after the last event. */
static void
test_engine_trace_ordered (void)
{
  static const char *json =
    "{\"mode\": \"threads\", \"tasks\": ["
    " {\"name\": \"a\", \"steps\": [{\"cpu\": 30}, {\"io\": 10}, {\"cpu\": 20}]},"
    " {\"name\": \"b\", \"steps\": [{\"repeat\": 5, \"steps\": [{\"cpu\": 3}, {\"sleep\": 2}]}]},"
    " {\"name\": \"c\", \"start\": 7, \"steps\": [{\"c\": 12, \"gil\": \"release\"}, {\"cpu\": 4}]}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(IlScenario) sc = il_scenario_load_data (json, -1, "t.json", &error);
  g_autoptr(IlTrace) trace = NULL;
  IlRunConfig cfg;

  g_assert_no_error (error);
  for (int m = 0; m < IL_N_MODES; m++)
    {
      il_run_config_from_scenario (&cfg, sc);
      cfg.mode = (IlMode) m;
      g_clear_pointer (&trace, il_trace_unref);
      trace = il_simulate (sc, &cfg, &error);
      g_assert_no_error (error);
      g_assert_true (trace->finished);
      g_assert_cmpuint (trace->n_events, >, 0);
      g_assert_cmpint (trace->mode, ==, m);

      for (gsize i = 1; i < trace->n_events; i++)
        g_assert_cmpint (trace->time[i - 1], <=, trace->time[i]);
      g_assert_cmpint (trace->time[0], >=, 0);
      g_assert_cmpint (trace->end_time, >=, trace->time[trace->n_events - 1]);

      gsize total = 0;
      for (guint32 l = 0; l < il_trace_get_n_lanes (trace); l++)
        {
          const IlLaneIndex *ev = il_trace_get_lane_events (trace, l);

          total += ev->len;
          for (guint i = 0; i < ev->len; i++)
            {
              guint32 e = ev->data[i];

              g_assert_cmpuint (e, <, trace->n_events);
              g_assert_cmpuint (il_trace_event_lane (trace, e), ==, l);
              if (i > 0)
                {
                  guint32 p = ev->data[i - 1];
                  g_assert_cmpuint (p, <, e);
                  g_assert_cmpint (trace->time[p], <=, trace->time[e]);
                }
            }
        }
      g_assert_cmpuint (total, ==, trace->n_events);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace/lanes", test_lanes);
  g_test_add_func ("/trace/append", test_append);
  g_test_add_func ("/trace/many-events", test_many_events);
  g_test_add_func ("/trace/bulk", test_bulk);
  g_test_add_func ("/trace/wide-lanes", test_wide_lanes);
  g_test_add_func ("/trace/big-columns", test_big_columns);
  g_test_add_func ("/trace/columns-filled-ahead", test_columns_filled_ahead);
  g_test_add_func ("/trace/lower-bound", test_lower_bound);
  g_test_add_func ("/trace/state-at", test_state_at);
  g_test_add_func ("/trace/gil-holder-at", test_gil_holder_at);
  g_test_add_func ("/trace/interval-at/gil", test_interval_at_gil);
  g_test_add_func ("/trace/interval-at/loop", test_interval_at_loop);
  g_test_add_func ("/trace/interval-at/slices", test_interval_at_slices);
  g_test_add_func ("/trace/intern", test_intern);
  g_test_add_func ("/trace/float-bits", test_float_bits);
  g_test_add_func ("/trace/memory-size", test_memory_size);
  g_test_add_func ("/trace/end-time-and-ref", test_end_time_and_ref);
  g_test_add_func ("/trace/names", test_names);
  g_test_add_func ("/trace/engine-trace-ordered", test_engine_trace_ordered);
  return g_test_run ();
}
