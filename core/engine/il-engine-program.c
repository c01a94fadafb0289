/* il-engine-program.c — walking a task's step tree
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

/* Frames number their steps as they go (il-steps.h: pre-order, a step,
 * then its body, then its next sibling): a body's first step comes right
 * after the step that owns it, and the step after a compound one skips its
 * body's count.  No table from step to number to build for every step of
 * every task, nor a cache miss into it for every step a task starts.
 *
 * Nor is the body counted each time its step starts (a loop in a loop
 * counted its body on every turn of the outer one): a frame that walks a
 * body ends with `next` one past the body's last number, which is the
 * parent's next number (prog_pop).  A step whose body the caller may push
 * (an acquire's, to_thread's, to_process's) marks its frame's `next`
 * BODY_PENDING; the body's frame ending overwrites the mark, and only a
 * body this program did not walk — its acquire failed, or asyncio ran
 * to_thread's body on a worker — is counted, when the frame moves on with
 * the mark still there (body_skip).  One test per step, as before. */
#define BODY_PENDING 0x80000000u
/* Step numbers stay far below the mark: a scenario is at most 64 MB of
 * JSON (il_scenario_load_data refuses more), and a step takes at least 8
 * bytes of it (`{"c":1}` and a comma), so a task has under 2^24 steps. */

/* The frame's last step has a body that was not walked: number past it. */
static inline void
body_skip (Frame *f)
{
  const IlStep *last = &f->steps[f->pos - 1];

  f->next = (f->next & ~BODY_PENDING) + il_steps_count (last->children, last->n_children);
}

static void
prog_push_at (Prog         *prog,
              const IlStep *steps,
              guint32       n,
              guint32       left,
              gint32        release,
              guint32       first)
{
  g_assert (prog->depth < MAX_FRAMES);
  if (prog->depth > 0)
    {
      /* The frame on top moves below the new one. */
      if (G_UNLIKELY (prog->depth - 1u == prog->cap))
        {
          Frame *below = g_new (Frame, MAX_FRAMES - 1);

          memcpy (below, prog->below, prog->cap * sizeof (Frame));
          prog->below = below;
          prog->cap = MAX_FRAMES - 1;
        }
      prog->below[prog->depth - 1] = prog->top;
    }
  prog->depth++;
  prog->top = (Frame) { steps, n, 0, left, release, first, first };
}

/* Pushes the task's own steps, or the body of the step prog_next started
 * last (a lock's, to_thread's or to_process's). */
void
prog_push (Prog         *prog,
           const IlStep *steps,
           guint32       n,
           guint32       left,
           gint32        release)
{
  prog_push_at (prog, steps, n, left, release, steps == prog->steps ? 0 : prog->number + 1);
}

/* The frame on top is done with (its mark resolved): the one below, whose
 * last step owned its body, numbers on after the body. */
static void
prog_pop (Prog *prog)
{
  g_assert (prog->depth > 0);
  prog->depth--;
  if (prog->depth > 0)
    {
      guint32 next = prog->top.next;

      prog->top = prog->below[prog->depth - 1];
      prog->top.next = next;
    }
}

void
prog_clear (Prog *prog)
{
  if (prog->below != prog->inline_below)
    g_free (prog->below);
  prog->below = NULL;
  prog->cap = 0;
  prog->depth = 0;
}

void
prog_init (Prog         *prog,
           const IlStep *steps,
           guint32       n,
           guint32       limit_base,
           gint32        wrap,
           guint32       lane)
{
  if (prog->below == NULL)
    {
      prog->below = prog->inline_below;
      prog->cap = G_N_ELEMENTS (prog->inline_below);
    }
  prog->depth = 0;
  prog->limit_base = limit_base;
  prog->wrap = wrap;
  prog->lane = lane;
  prog->steps = steps;
  prog->n_steps = n;
  if (wrap < 0)
    prog_push (prog, steps, n, 1, -1);
}

/* Fetches the step after the one a short computation just started: the
 * prog_next after it comes a few events later, when the line is then in
 * the cache instead of a miss (with thousands of threads each task's
 * steps are long gone from it).  Past the end of the frame the loop goes
 * back to its first step; after the last turn the guess is wasted. */
static inline void
frame_prefetch_next (const Frame *f)
{
  __builtin_prefetch (&f->steps[f->pos < f->n ? f->pos : 0]);
}

void
prog_next (Prog *prog,
           Op   *op)
{
  memset (op, 0, sizeof *op);
  prog->stepped = FALSE;

  if (prog->wrap >= 0)
    {
      op->kind = OP_ACQUIRE;
      op->ref = (guint32) prog->wrap;
      op->body = prog->steps;
      op->n_body = prog->n_steps;
      prog->wrap = -1;
      return;
    }

  while (prog->depth > 0)
    {
      Frame *f = &prog->top;
      const IlStep *s;

      prog->stepped = FALSE;
      if (G_UNLIKELY (f->next & BODY_PENDING))
        body_skip (f);
      if (f->pos >= f->n)
        {
          gint32 release = f->release;

          if (f->left > 1)
            {
              f->left--;
              f->pos = 0;
              f->next = f->first;
              continue;
            }
          prog_pop (prog);
          if (release >= 0)
            {
              op->kind = OP_RELEASE;
              op->ref = (guint32) release;
              return;
            }
          continue;
        }

      s = &f->steps[f->pos++];
      prog->stepped = TRUE;
      prog->number = f->next;
      /* Past the body when the frame that walks it ends, or when
       * body_skip finds it was not walked. */
      f->next++;
      switch (s->kind)
        {
        case IL_STEP_CPU:
          op->kind = OP_CPU;
          op->dur = s->duration;
          frame_prefetch_next (f);
          return;
        case IL_STEP_IO:
        case IL_STEP_SLEEP:
          op->kind = s->kind == IL_STEP_IO ? OP_IO : OP_SLEEP;
          op->dur = s->duration;
          op->blocking = (s->flags & IL_STEP_FLAG_BLOCKING) != 0;
          return;
        case IL_STEP_C:
          op->kind = (s->flags & IL_STEP_FLAG_RELEASE_GIL) ? OP_C_FREE : OP_C_HOLD;
          op->dur = s->duration;
          frame_prefetch_next (f);
          return;
        case IL_STEP_YIELD:
          op->kind = OP_YIELD;
          return;
        case IL_STEP_REPEAT:
          if (s->n_children > 0 && s->count > 0)
            prog_push_at (prog, s->children, s->n_children, s->count, -1, prog->number + 1);
          else
            f->next += il_steps_count (s->children, s->n_children);
          continue;
        case IL_STEP_LOCK:
        case IL_STEP_LIMIT:
          op->kind = OP_ACQUIRE;
          op->ref = s->kind == IL_STEP_LIMIT ? prog->limit_base + s->ref : s->ref;
          op->body = s->children;
          op->n_body = s->n_children;
          if (s->n_children > 0)
            f->next |= BODY_PENDING;
          return;
        case IL_STEP_TO_THREAD:
        case IL_STEP_TO_PROCESS:
          op->kind = s->kind == IL_STEP_TO_THREAD ? OP_TO_THREAD : OP_TO_PROCESS;
          op->body = s->children;
          op->n_body = s->n_children;
          if (s->n_children > 0)
            f->next |= BODY_PENDING;
          return;
        case IL_STEP_AWAIT:
          op->kind = OP_AWAIT;
          op->ref = s->ref;
          return;
        case IL_STEP_FAIL:
          op->kind = OP_FAIL;
          return;
        case IL_STEP_PUT:
        case IL_STEP_GET:
          op->kind = s->kind == IL_STEP_PUT ? OP_PUT : OP_GET;
          op->ref = s->ref;
          return;
        case IL_N_STEP_KINDS:
        default:
          g_assert_not_reached ();
        }
    }

  op->kind = OP_END;
}

