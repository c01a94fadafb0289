/* il-code.h — the Python a scenario stands for, line by line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The code view shows each task as the Python it models, in the mode it
 * runs in: `async def` with `await asyncio.sleep(0.2)` for asyncio,
 * `threading.Thread` and `crunch(200)` for threads, `multiprocessing` for
 * processes.  Every line says which task and which scenario step (numbered
 * as in il-steps.h) it stands for, so the view can highlight the line each
 * task is on at the playhead — the step running or awaited, recorded by the
 * engine as IL_EVENT_STEP — and a click on a line can jump to when it ran.
 *
 * The helper names (crunch, blocking_io, async_io) are the ones
 * tools/validate.py runs for real.
 */
#pragma once

#include <glib.h>

#include "il-scenario.h"
#include "il-trace.h"

G_BEGIN_DECLS

typedef struct {
  char    *text;    /* the line without its indentation */
  guint    indent;  /* in levels of four spaces */
  gint32   task;    /* scenario task index, or -1 for lines of no task (imports, helpers, main) */
  gint32   step;    /* step number within the task (il-steps.h), or -1 for the task's `def` line and
                     * lines the model has no step for */
} IlCodeLine;

typedef struct {
  gint64  start;
  gint64  end;
  gint32  task;
} IlCodeSpan;

typedef struct _IlCode IlCode;

IlCode           *il_code_new            (const IlScenario *scenario,
                                          IlMode            mode);
void              il_code_free           (IlCode           *code);

IlMode            il_code_get_mode       (const IlCode     *code);
guint             il_code_get_n_lines    (const IlCode     *code);
const IlCodeLine *il_code_get_line       (const IlCode     *code,
                                          guint             line);
/* The whole program, four spaces per indent, one '\n' per line. */
char             *il_code_to_string      (const IlCode     *code);

/* The line a task's step is shown on (a step without a line of its own,
 * such as the body of `asyncio.to_thread(crunch, 200)`, shares its
 * parent's).  step -1 gives the task's `def` line.  -1 if out of range. */
gint              il_code_line_of_step   (const IlCode     *code,
                                          guint32           task,
                                          gint32            step);

/* For every task of the scenario (out has n_tasks entries): the line it is
 * on at time t in `trace` — its current step, running or awaited; its
 * `def` line while it starts; -1 before it starts and after it finished. */
void              il_code_lines_at       (const IlCode     *code,
                                          const IlTrace    *trace,
                                          gint64            t,
                                          gint             *out);

/* When a line ran: the time spans in which its task's current step was
 * the line's step or a step inside its body (a `for` or `async with` line
 * covers its whole body, a `def` line the whole task), merged, in time
 * order.  Empty for lines of no task. */
GArray           *il_code_line_spans     (const IlCode     *code,
                                          const IlTrace    *trace,
                                          guint             line);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlCode, il_code_free)

G_END_DECLS
