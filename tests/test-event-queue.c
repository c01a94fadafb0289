/* test-event-queue.c — the engine's event queue against a plain model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue (il-engine-queue.c) keeps events in a heap and in FIFO lanes
 * whose rings grow, wrap around and hold cancelled entries in place.  The
 * golden traces check it only through whole runs; here random schedules,
 * cancellations and pops are checked one by one against a list of the
 * events that should wait: every pop must be the earliest by (time,
 * sequence), with its kind, id, generation and thread.
 */
#include "engine/il-engine-private.h"

#define N_THREADS 64
#define N_CORES   4

/* What should wait: an Ev without its thread. */
typedef Ev Expect;

typedef struct {
  IlEngine *e;
  Thread   *threads;
  GArray   *expect;     /* Expect, unordered */
} Fixture;

static gint
expect_find (Fixture *f,
             guint32  kind,
             guint32  id)
{
  for (guint i = 0; i < f->expect->len; i++)
    {
      const Expect *x = &g_array_index (f->expect, Expect, i);

      if (x->kind == kind && x->id == id)
        return (gint) i;
    }
  return -1;
}

static void
expect_add (Fixture *f,
            gint64   t,
            guint64  seq,
            guint32  kind,
            guint32  id,
            guint32  gen)
{
  Expect x = { t, seq, kind, id, gen, NULL };

  g_array_append_val (f->expect, x);
}

static void
pop_one (Fixture *f)
{
  Ev ev;
  guint best = 0;
  const Expect *x;

  g_assert_cmpuint (f->expect->len, >, 0);
  for (guint i = 1; i < f->expect->len; i++)
    {
      const Expect *a = &g_array_index (f->expect, Expect, i);
      const Expect *b = &g_array_index (f->expect, Expect, best);

      if (a->t < b->t || (a->t == b->t && a->seq < b->seq))
        best = i;
    }
  x = &g_array_index (f->expect, Expect, best);
  g_assert_cmpint (queue_next_time (f->e), ==, x->t);
  /* Nothing is due before the earliest. */
  g_assert_false (queue_pop (f->e, x->t - 1, &ev));
  g_assert_true (queue_pop (f->e, x->t, &ev));
  g_assert_cmpint (ev.t, ==, x->t);
  g_assert_cmpuint (ev.seq, ==, x->seq);
  g_assert_cmpuint (ev.kind, ==, x->kind);
  g_assert_cmpuint (ev.id, ==, x->id);
  g_assert_cmpuint (ev.gen, ==, x->gen);
  if (ev.kind < N_THREAD_EVENTS)
    {
      Thread *th = &f->threads[ev.id];

      g_assert_true (ev.th == th);
      g_assert_cmpuint (th->pending_ev & (1u << ev.kind), ==, 0);
      g_assert_cmpuint (th->ev[ev.kind].pos | th->ev[ev.kind].fifo, ==, 0);
    }
  else
    {
      g_assert_null (ev.th);
      g_assert_cmpuint (f->e->cores[ev.id].slice_ev.pos | f->e->cores[ev.id].slice_ev.fifo, ==, 0);
    }
  g_array_remove_index_fast (f->expect, best);
  f->e->now = ev.t;
}

static void
schedule_random (Fixture *f,
                 GRand   *rand)
{
  IlEngine *e = f->e;
  const IlParams *p = &e->config.params;
  /* The fixed delays (lanes 0-3), two step-like ones that take the free
   * lanes, and odd ones that go to the heap or to a lane of their own. */
  gint64 delays[] = { 0, p->wake_latency, p->breaker_latency, e->config.switch_interval + p->timer_slack,
                      1000000, 50000, g_rand_int_range (rand, 1, 3000000) };
  gint64 t = e->now + delays[g_rand_int_range (rand, 0, G_N_ELEMENTS (delays))];
  guint32 id;

  if (g_rand_int_range (rand, 0, 8) == 0)
    {
      /* A core's slice: the slot lives outside any thread. */
      id = (guint32) g_rand_int_range (rand, 0, N_CORES);
      if (expect_find (f, EV_SLICE, id) >= 0)
        return;
      expect_add (f, t, e->seq, EV_SLICE, id, e->cores[id].slice_gen);
      schedule (e, t, EV_SLICE, id, e->cores[id].slice_gen);
    }
  else
    {
      EvKind kind = (EvKind) g_rand_int_range (rand, 0, N_THREAD_EVENTS);
      Thread *th;
      gint old;

      id = (guint32) g_rand_int_range (rand, 0, N_THREADS);
      th = &f->threads[id];
      old = expect_find (f, kind, id);
      if (old >= 0)
        {
          Expect *x = &g_array_index (f->expect, Expect, old);

          /* Only the eval breaker is asked for again while pending: the
           * earlier of the two requests stays. */
          if (kind != EV_BREAKER)
            return;
          if (t < x->t)
            {
              x->t = t;
              x->seq = e->seq;
            }
        }
      else
        expect_add (f, t, e->seq, kind, id, th->gen);
      schedule_thread (e, th, t, kind);
      g_assert_cmpuint (th->pending_ev & (1u << kind), !=, 0);
    }
}

static void
cancel_random (Fixture *f,
               GRand   *rand)
{
  guint32 id = (guint32) g_rand_int_range (rand, 0, N_THREADS + N_CORES);

  if (id >= N_THREADS)
    {
      Core *core = &f->e->cores[id - N_THREADS];
      gint i = expect_find (f, EV_SLICE, id - N_THREADS);

      core_new_slice_gen (f->e, core);
      if (i >= 0)
        g_array_remove_index_fast (f->expect, (guint) i);
      return;
    }
  thread_new_gen (f->e, &f->threads[id]);
  g_assert_cmpuint (f->threads[id].pending_ev, ==, 0);
  for (guint kind = 0; kind < N_THREAD_EVENTS; kind++)
    {
      gint i = expect_find (f, kind, id);

      g_assert_cmpuint (f->threads[id].ev[kind].pos | f->threads[id].ev[kind].fifo, ==, 0);
      if (i >= 0)
        g_array_remove_index_fast (f->expect, (guint) i);
    }
}

static void
run_random (guint32 seed,
            guint   rounds,
            guint   schedules,
            guint   cancels,
            guint   pops)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  Fixture f = { 0 };

  f.e = g_new0 (IlEngine, 1);
  f.e->config.switch_interval = 5000000;
  il_params_init_defaults (&f.e->config.params);
  f.e->cores = g_new0 (Core, N_CORES);
  f.threads = g_new0 (Thread, N_THREADS);
  for (guint32 i = 0; i < N_THREADS; i++)
    f.threads[i].id = i;
  f.expect = g_array_new (FALSE, FALSE, sizeof (Expect));
  queue_init (f.e);
  g_assert_cmpint (queue_next_time (f.e), ==, IL_TIME_FOREVER);

  for (guint r = 0; r < rounds; r++)
    {
      /* Bursts of each, so lanes grow long (their rings wrap and grow)
       * and cancellations hit their middles. */
      guint n = (guint) g_rand_int_range (rand, 0, (gint) schedules + 1);

      for (guint i = 0; i < n; i++)
        schedule_random (&f, rand);
      n = (guint) g_rand_int_range (rand, 0, (gint) cancels + 1);
      for (guint i = 0; i < n; i++)
        cancel_random (&f, rand);
      n = (guint) g_rand_int_range (rand, 0, (gint) pops + 1);
      for (guint i = 0; i < n && f.expect->len > 0; i++)
        pop_one (&f);
    }
  while (f.expect->len > 0)
    pop_one (&f);
  g_assert_cmpint (queue_next_time (f.e), ==, IL_TIME_FOREVER);
  for (guint k = 0; k < N_FIFOS; k++)
    g_assert_cmpuint (f.e->fifos[k].head, ==, f.e->fifos[k].tail);
  g_assert_cmpuint (f.e->heap_len, ==, 0);

  queue_free (f.e);
  g_array_unref (f.expect);
  g_free (f.threads);
  g_free (f.e->cores);
  g_free (f.e);
}

/* Pops keep up with schedules: short lanes, the usual case. */
static void
test_steady (void)
{
  for (guint32 seed = 1; seed <= 20; seed++)
    run_random (seed, 400, 8, 2, 8);
}

/* Schedules outrun pops and cancellations: every thread holds several
 * events, lanes hold hundreds of entries, many of them dead. */
static void
test_crowded (void)
{
  for (guint32 seed = 100; seed <= 110; seed++)
    run_random (seed, 300, 40, 6, 30);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/event-queue/steady", test_steady);
  g_test_add_func ("/event-queue/crowded", test_crowded);
  return g_test_run ();
}
