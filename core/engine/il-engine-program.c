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
 * every task, nor a cache miss into it for every step a task starts. */
static void
prog_push_at (Prog         *prog,
              const IlStep *steps,
              guint32       n,
              guint32       left,
              gint32        release,
              guint32       first)
{
  g_assert (prog->depth < MAX_FRAMES);
  if (G_UNLIKELY (prog->depth == prog->cap))
    {
      Frame *frames = g_new (Frame, MAX_FRAMES);

      memcpy (frames, prog->frames, prog->depth * sizeof (Frame));
      prog->frames = frames;
      prog->cap = MAX_FRAMES;
    }
  prog->frames[prog->depth++] = (Frame) { steps, n, 0, left, release, first, first };
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

void
prog_clear (Prog *prog)
{
  if (prog->frames != prog->inline_frames)
    g_free (prog->frames);
  prog->frames = NULL;
  prog->cap = 0;
  prog->depth = 0;
}

void
prog_init (Prog         *prog,
           const IlStep *steps,
           guint32       n,
           guint32       limit_base,
           gint32        wrap)
{
  if (prog->frames == NULL)
    {
      prog->frames = prog->inline_frames;
      prog->cap = INLINE_FRAMES;
    }
  prog->depth = 0;
  prog->limit_base = limit_base;
  prog->wrap = wrap;
  prog->steps = steps;
  prog->n_steps = n;
  if (wrap < 0)
    prog_push (prog, steps, n, 1, -1);
}

void
prog_next (Prog *prog,
           Op   *op)
{
  memset (op, 0, sizeof *op);
  prog->step = NULL;

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
      Frame *f = &prog->frames[prog->depth - 1];
      const IlStep *s;

      prog->step = NULL;
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
          prog->depth--;
          if (release >= 0)
            {
              op->kind = OP_RELEASE;
              op->ref = (guint32) release;
              return;
            }
          continue;
        }

      s = &f->steps[f->pos++];
      prog->step = s;
      prog->number = f->next;
      f->next += 1 + (s->n_children > 0 ? il_steps_count (s->children, s->n_children) : 0);
      switch (s->kind)
        {
        case IL_STEP_CPU:
          op->kind = OP_CPU;
          op->dur = s->duration;
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
          return;
        case IL_STEP_YIELD:
          op->kind = OP_YIELD;
          return;
        case IL_STEP_REPEAT:
          if (s->n_children > 0 && s->count > 0)
            prog_push_at (prog, s->children, s->n_children, s->count, -1, prog->number + 1);
          continue;
        case IL_STEP_LOCK:
        case IL_STEP_LIMIT:
          op->kind = OP_ACQUIRE;
          op->ref = s->kind == IL_STEP_LIMIT ? prog->limit_base + s->ref : s->ref;
          op->body = s->children;
          op->n_body = s->n_children;
          return;
        case IL_STEP_TO_THREAD:
        case IL_STEP_TO_PROCESS:
          op->kind = s->kind == IL_STEP_TO_THREAD ? OP_TO_THREAD : OP_TO_PROCESS;
          op->body = s->children;
          op->n_body = s->n_children;
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

