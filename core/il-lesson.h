/* il-lesson.h — checking what a lesson claims against the simulation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A lesson's "check" is a small expression over numbers the simulation
 * computes, for example
 *
 *   makespan(threads) >= 0.95 * makespan(sequential) && speedup(processes) > 1.6
 *
 * Clauses joined by "&&" compare sums and products of numbers and metric
 * calls.  A metric takes an optional task name and an optional mode; the
 * mode defaults to the scenario's own:
 *
 *   makespan([mode])            ms until the last task finished
 *   speedup([mode])             makespan(sequential) / makespan(mode)
 *   utilisation([mode])         busy core time / (cores × makespan), 0…1
 *   switches([mode])            GIL hand-overs between threads
 *   drop_requests([mode])       drop requests posted by GIL waiters
 *   iterations([mode])          event-loop iterations
 *   start(task[, mode])         ms at which the task began executing
 *   finish(task[, mode])        ms at which it finished
 *   cpu(task[, mode])           ms it ran
 *   gil_wait(task[, mode])      ms it waited for the GIL
 *   io_wait(task[, mode])       ms it waited for I/O
 *   sleeping(task[, mode])      ms it slept
 *   ready(task[, mode])         ms it was ready but not running
 *   blocked(task[, mode])       ms it was blocked (lock, semaphore, await)
 *   starting(task[, mode])      ms its process spent starting (spawn / forkserver)
 *   slices(task[, mode])        times it started running
 *   outcome(task[, mode])       returned, failed or cancelled (constants)
 *   forced_switches([mode])     GIL releases forced by a drop request
 *   parallel([mode])            ms during which two or more cores were busy
 *   in_select([mode])           ms the event loop slept in select()
 *   max_queue_depth([mode])     largest ready-queue snapshot of an iteration
 *   max_callback([mode])        ms of the longest event-loop callback
 *   peak(state[, mode])         most tasks in that state at one instant
 *   total(state[, mode])        ms in that state, summed over the tasks
 *   handoffs(a, b[, mode])      GIL hand-overs from task a's thread straight to b's or back
 *
 * States are written as their nicks with '_' or '-': running, ready,
 * wait_gil, wait_io, sleeping, blocked, idle, starting.
 *
 * Modes are written as in scenarios (free-threading may be written
 * free_threading).
 */
#pragma once

#include <glib.h>

#include "il-scenario.h"
#include "il-trace.h"

G_BEGIN_DECLS

typedef struct _IlLessonCheck IlLessonCheck;

/* Parses; the error names the column of the problem. */
IlLessonCheck *il_lesson_check_parse    (const char          *text,
                                         const IlScenario    *scenario,
                                         GError             **error);
void           il_lesson_check_free     (IlLessonCheck       *check);
/* Modes the check needs simulated (IL_MODE_MASK bits). */
guint32        il_lesson_check_modes    (const IlLessonCheck *check);

/* Simulates what it needs (or uses `traces`, indexed by IlMode, where
 * non-NULL) and evaluates.  `report` gets one line per clause with the
 * numbers, e.g. "makespan(threads) = 803.6 >= 0.95 × 800.0 = 760.0: true". */
gboolean       il_lesson_check_evaluate (IlLessonCheck       *check,
                                         IlTrace *const      *traces,
                                         gboolean            *result,
                                         char               **report,
                                         GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlLessonCheck, il_lesson_check_free)

G_END_DECLS
