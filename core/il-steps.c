/* il-steps.c — pre-order numbering of a task's steps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-steps.h"

guint32
il_steps_count (const IlStep *steps,
                guint32       n_steps)
{
  guint32 n = 0;

  for (guint32 i = 0; i < n_steps; i++)
    n += 1 + il_steps_count (steps[i].children, steps[i].n_children);
  return n;
}

static void
flatten (const IlStep *steps,
         guint32       n_steps,
         GPtrArray    *out)
{
  for (guint32 i = 0; i < n_steps; i++)
    {
      g_ptr_array_add (out, (gpointer) &steps[i]);
      flatten (steps[i].children, steps[i].n_children, out);
    }
}

GPtrArray *
il_steps_flatten (const IlTask *task)
{
  GPtrArray *out;

  g_return_val_if_fail (task != NULL, NULL);

  out = g_ptr_array_sized_new (il_steps_count (task->steps, task->n_steps));
  flatten (task->steps, task->n_steps, out);
  return out;
}
