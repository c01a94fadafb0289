/* il-stats.h — numbers computed from a trace (CLI summary, stats panel, compare)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is derived from the trace up to a time, so the live stats panel,
 * the CLI and the compare view cannot disagree.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;       /* borrowed from the trace's lane */
  guint32     lane;
  gint64      start;      /* first time it began executing (any state but not-started, ready and starting), or -1 */
  gint64      finish;     /* time DONE, or -1 */
  IlCause     outcome;    /* IL_CAUSE_RETURNED / FAILED / CANCELLED, or NONE while unfinished */
  gint64      in_state[IL_N_STATES]; /* time spent in each state up to `upto` */
} IlTaskStats;

typedef struct {
  gint64       upto;
  gint64       makespan;         /* finish of the last task (or upto while unfinished) */
  guint        n_tasks;
  IlTaskStats *tasks;            /* task lanes in lane order */
  guint        n_cores;
  gint64      *core_busy;        /* per core: time with a thread on it */
  double       utilisation;      /* sum(core_busy) / (n_cores × makespan) */
  guint64      gil_switches;     /* GIL_TAKE events with value 1, all GILs */
  guint64      gil_takes;
  guint64      drop_requests;
  guint64      forced_switches;  /* GIL_DROP with IL_GIL_DROP_FORCED */
  guint64      loop_iterations;
  gint64       total_gil_wait;   /* sum over task lanes of in_state[WAIT_GIL] */
  /* Thread-time spent wanting a GIL another thread held, every thread
   * counted once (GIL_WAITERS × time, all GILs): unlike total_gil_wait it
   * sees the threads that run no task of their own, such as the workers
   * behind asyncio.to_thread and the event loop's thread. */
  gint64       threads_gil_wait;
} IlStats;

IlStats *il_stats_compute (const IlTrace *trace,
                           gint64         upto);
void     il_stats_free    (IlStats       *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlStats, il_stats_free)

G_END_DECLS
