/* il-narrate.h — what just happened, in words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stepping through a run (the window's `.` and `,`, ← and → in presenter
 * mode) lands on an instant where the scheduler did something.  The
 * narration says it in a sentence or a few — "thread_b asks for the GIL;
 * thread_a holds it; thread_b waits up to 5 ms, then sets a drop request",
 * "the event loop runs 3 ready callbacks: alpha, beta, gamma", "worker
 * ThreadPoolExecutor-0_0 takes req_02 from the pool's work queue" — and
 * gives the time range that shows it, for the view to zoom to.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

typedef struct {
  gint64  time;        /* the instant narrated */
  gint64  zoom_start;  /* a range that shows what happened and what it leads to */
  gint64  zoom_end;
  char   *text;        /* sentences, each ending in a full stop */
} IlNarration;

/* Narrates the events at exactly `t`.  FALSE (and out->text NULL) when
 * nothing there is worth a word. */
gboolean    il_narrate_at      (const IlTrace *trace,
                                gint64         t,
                                IlNarration   *out);

/* Narrates the next instant after `t` (or the previous one before it,
 * backwards) that has something to say.  FALSE at the ends. */
gboolean    il_narrate_step    (const IlTrace *trace,
                                gint64         t,
                                gboolean       backwards,
                                IlNarration   *out);

void        il_narration_clear (IlNarration   *narration);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IlNarration, il_narration_clear)

G_END_DECLS
