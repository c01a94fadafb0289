/* il-derive.h — a scenario of the workload a recording shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * From a recorded real run (il-recording.h) writes the scenario that
 * reproduces it: per thread, asyncio task or pool work item its CPU bursts
 * (time holding the GIL), sleeps, I/O and other waits, awaits of other
 * tasks and to_thread hand-offs, with start times, pool size and switch
 * interval.  Waiting for the GIL is not a step: the simulation makes it.
 * Steps shorter than IL_DERIVE_MIN_STEP are merged into their neighbours,
 * and a loop's steps that come back alike are written as one "repeat" of
 * their mean durations (totals are kept).
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

#define IL_DERIVE_MIN_STEP IL_USEC (2)

/* JSON text of the scenario (README "Scenario format"), checked by parsing
 * it back.  NULL with an error when the trace is no recording. */
char *il_derive_scenario_json (const IlTrace  *trace,
                               const char     *title,
                               GError        **error);

G_END_DECLS
