/* il-compare.h — one scenario in every mode, side by side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The comparison the CLI's `--mode all`, `render --mode all`, the lesson
 * checks and the window's compare view show: the same scenario and
 * configuration run in each wanted mode, each with its trace, statistics
 * and makespan.  Runs are independent engines, so they go in parallel on
 * threads of their own; the result is the same, bit for bit, as running
 * them one after the other.  il_compare_run() may be called from any
 * thread; il_compare_run_async() runs it off the calling thread.
 */
#pragma once

#include <gio/gio.h>

#include "il-run-config.h"
#include "il-scenario.h"
#include "il-stats.h"
#include "il-trace.h"

G_BEGIN_DECLS

typedef struct {
  guint32     modes;                 /* IL_MODE_MASK bits that were asked for */
  IlRunConfig configs[IL_N_MODES];   /* the base configuration with each mode */
  IlTrace    *traces[IL_N_MODES];    /* NULL where not run or failed */
  IlStats    *stats[IL_N_MODES];     /* at the end of each trace; NULL likewise */
  gint64      makespans[IL_N_MODES]; /* -1 likewise */
  GError     *errors[IL_N_MODES];    /* why a mode failed (limit, deadlock), or NULL */
} IlComparison;

/* Runs every mode in `modes`.  Fails only when cancelled or when base is
 * not a valid configuration; a mode that fails keeps its error in
 * errors[] (see il_comparison_check()). */
IlComparison *il_compare_run           (const IlScenario    *scenario,
                                        const IlRunConfig   *base,
                                        guint32              modes,
                                        GCancellable        *cancellable,
                                        GError             **error);
void          il_compare_run_async     (const IlScenario    *scenario,
                                        const IlRunConfig   *base,
                                        guint32              modes,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
IlComparison *il_compare_run_finish    (GAsyncResult        *result,
                                        GError             **error);

/* FALSE with the first failed mode's error, as "threads mode: …". */
gboolean      il_comparison_check      (const IlComparison  *comparison,
                                        GError             **error);
/* makespan(sequential) / makespan(mode), or -1 when either was not run. */
double        il_comparison_speedup    (const IlComparison  *comparison,
                                        IlMode               mode);
void          il_comparison_free       (IlComparison        *comparison);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlComparison, il_comparison_free)

G_END_DECLS
