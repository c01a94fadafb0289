/* il-steps.h — one numbering of a task's steps, shared by the engine, the
 * code view and the narration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A task's steps form a tree (repeat, lock, limit, to_thread and to_process
 * have bodies).  Steps are numbered in pre-order from 0: a step, then its
 * body, then its next sibling.  The engine records the number of the step
 * each task starts as an IL_EVENT_STEP (il-trace.h); the code view maps the
 * same numbers to lines of Python.
 */
#pragma once

#include <glib.h>

#include "il-scenario.h"

G_BEGIN_DECLS

/* Number of steps in a body, counting every nested step once. */
guint32     il_steps_count       (const IlStep      *steps,
                                  guint32            n_steps);

/* The steps of `task` in pre-order: out[i] is step number i.  The
 * pointers are borrowed from the scenario. */
GPtrArray  *il_steps_flatten     (const IlTask      *task);

G_END_DECLS
