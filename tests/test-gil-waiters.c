/* test-gil-waiters.c — the GIL's condition-variable waiters against a
 * plain list: arrival order, leaving from anywhere, the seeded pick by
 * rank, and the ring growing, wrapping and renumbering
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine keeps the waiters in a ring by arrival ticket (il-engine-gil.c)
 * so that joining and leaving never touch another thread.  Here random
 * joins and leaves run on it and on a GPtrArray in arrival order side by
 * side, and after each step both must hold the same threads in the same
 * order: the oldest, the newest, and with a seed every rank.
 */
#include <string.h>

#include "engine/il-engine-private.h"

#define N_THREADS 64

typedef struct {
  IlEngine  e;
  Gil       gil;
  Thread    threads[N_THREADS];
  gboolean  waiting[N_THREADS];
  GPtrArray *ref;          /* Thread*, in arrival order */
} Fixture;

static void
fixture_init (Fixture *f,
              guint32  seed)
{
  memset (f, 0, sizeof *f);
  f->e.config.params.seed = seed;
  gil_init (&f->gil);
  for (guint i = 0; i < N_THREADS; i++)
    f->threads[i].id = i;
  f->ref = g_ptr_array_new ();
}

static void
fixture_clear (Fixture *f)
{
  gil_clear (&f->gil);
  g_ptr_array_unref (f->ref);
}

static void
join (Fixture *f,
      guint    i)
{
  g_assert_false (f->waiting[i]);
  f->e.now++;
  cond_add (&f->e, &f->gil, &f->threads[i]);
  f->waiting[i] = TRUE;
  g_ptr_array_add (f->ref, &f->threads[i]);
}

static void
leave (Fixture *f,
       guint    i)
{
  g_assert_true (f->waiting[i]);
  cond_remove (&f->e, &f->gil, &f->threads[i]);
  f->waiting[i] = FALSE;
  g_assert_true (g_ptr_array_remove (f->ref, &f->threads[i]));
}

/* The ring's live entries from the oldest to the newest must be the
 * reference list, and the ends must be live. */
static void
check (Fixture *f)
{
  Gil *gil = &f->gil;
  guint n = 0;

  g_assert_cmpuint (gil->n_waiters, ==, f->ref->len);
  g_assert_cmpuint (gil->waiter_next - gil->waiter_first, <=, gil->waiter_cap);
  for (guint32 t = gil->waiter_first; t != gil->waiter_next; t++)
    {
      const GilWaiter *w = &gil->waiters[t & (gil->waiter_cap - 1)];

      if (w->th == NULL)
        {
          g_assert_true (t != gil->waiter_first && t != gil->waiter_next - 1);
          continue;
        }
      g_assert_cmpuint (n, <, f->ref->len);
      g_assert_true (w->th == g_ptr_array_index (f->ref, n));
      g_assert_cmpuint (w->th->ticket, ==, t);
      n++;
    }
  g_assert_cmpuint (n, ==, f->ref->len);
  if (f->e.config.params.seed != 0)
    for (guint k = 0; k < f->ref->len; k++)
      g_assert_true (cond_waiter_at_rank (gil, k) == g_ptr_array_index (f->ref, k));
}

/* Random joins and leaves: the oldest, the newest or any one. */
static void
random_walk (guint32 seed)
{
  Fixture f;
  GRand *rand = g_rand_new_with_seed (seed + 1);

  fixture_init (&f, seed);
  for (guint step = 0; step < 20000; step++)
    {
      guint i = (guint) g_rand_int_range (rand, 0, N_THREADS);

      if (!f.waiting[i] && (g_rand_boolean (rand) || f.ref->len == 0))
        join (&f, i);
      else if (f.ref->len > 0)
        {
          guint r = (guint) g_rand_int_range (rand, 0, 4);
          Thread *th = r == 0 ? g_ptr_array_index (f.ref, 0)
                     : r == 1 ? g_ptr_array_index (f.ref, f.ref->len - 1)
                     : g_ptr_array_index (f.ref, (guint) g_rand_int_range (rand, 0, (gint32) f.ref->len));
          leave (&f, th->id);
        }
      check (&f);
    }
  fixture_clear (&f);
  g_rand_free (rand);
}

static void
test_random (void)
{
  random_walk (0);
  random_walk (7);
}

/* One waiter stays while thousands come and go behind it, each leaving
 * from the middle: the cleared entries dominate, and the ring renumbers
 * the live waiters instead of growing without bound. */
static void
bounded (guint32 seed)
{
  Fixture f;

  fixture_init (&f, seed);
  join (&f, 0);
  join (&f, 1);
  for (guint step = 0; step < 5000; step++)
    {
      guint fresh = 2 + step % (N_THREADS - 2);

      join (&f, fresh);
      /* The one before the newest leaves: always from the middle. */
      leave (&f, ((Thread *) g_ptr_array_index (f.ref, f.ref->len - 2))->id);
      check (&f);
      g_assert_cmpuint (f.gil.waiter_cap, <=, 64);
    }
  g_assert_true (g_ptr_array_index (f.ref, 0) == &f.threads[0]);
  fixture_clear (&f);
}

static void
test_bounded (void)
{
  bounded (0);
  bounded (3);
}

/* Many waiters at once, leaving oldest first while others join: the ring
 * grows, and wraps with live waiters on both sides of its end. */
static void
test_wrap (void)
{
  Fixture f;

  fixture_init (&f, 11);
  for (guint round = 0; round < 50; round++)
    for (guint i = 0; i < N_THREADS; i++)
      {
        if (f.waiting[i])
          leave (&f, i);
        join (&f, i);
        if (i % 3 == 0)
          leave (&f, ((Thread *) g_ptr_array_index (f.ref, 0))->id);
        check (&f);
      }
  fixture_clear (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/gil-waiters/random", test_random);
  g_test_add_func ("/engine/gil-waiters/bounded", test_bounded);
  g_test_add_func ("/engine/gil-waiters/wrap", test_wrap);
  return g_test_run ();
}
