/* il-chrome.h — Chrome Trace Event JSON: export a run, import real traces
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export writes what Perfetto and chrome://tracing open: one process per
 * simulated process, a thread track per task/thread, the GIL, the event
 * loop and the cores as tracks of their own, states as "X" slices, causes
 * as s/f flow arrows, metadata names and sort indexes.
 *
 * Import streams (YAJL) both the array form and {"traceEvents": [...]} so
 * gigabyte files load at hundreds of MB/s into the compact trace columns:
 * X, B/E (nested), i/I, C, M (process_name, thread_name, *_sort_index),
 * s/t/f flows, async b/e/n.  Everything else is counted as skipped and
 * reported.  A truncated or damaged file keeps what came before the damage
 * (IlChromeImportInfo.truncated, and a warning message) when at least one
 * event was read.
 */
#pragma once

#include <gio/gio.h>

#include "il-trace.h"
#include "il-trace-io.h"

G_BEGIN_DECLS

#define IL_CHROME_ERROR (il_chrome_error_quark ())

typedef enum {
  IL_CHROME_ERROR_PARSE,      /* not JSON, or not a trace; message names the byte offset / line */
  IL_CHROME_ERROR_EMPTY,      /* valid JSON but no events we can show */
  IL_CHROME_ERROR_CANCELLED,
  IL_CHROME_ERROR_TOO_LARGE,
} IlChromeError;

GQuark    il_chrome_error_quark   (void);

typedef struct {
  guint64  n_events_read;    /* trace events seen in the file */
  guint64  n_slices;         /* X events plus matched B/E pairs */
  guint64  n_instants;
  guint64  n_counters;       /* C samples */
  guint64  n_flows;
  guint64  n_async;          /* async b/e/n */
  guint    n_processes;
  guint    n_threads;        /* thread/async lanes that carry slices */
  gint64   first_ts_ns;
  gint64   last_ts_ns;       /* end of the last slice */
  guint64  n_skipped;        /* events of phases we do not show, or invalid */
  GHashTable *skipped_phases;/* phase string → GUINT_TO_POINTER(count) */
  guint64  n_unmatched;      /* B without E or E without B */
  gboolean truncated;        /* file ended (or broke) early; events before the damage were kept */
  char    *warning;          /* human-readable note on truncation/damage, or NULL */
} IlChromeImportInfo;

void      il_chrome_import_info_clear (IlChromeImportInfo *info);

/* Writes trace as Chrome JSON ({"traceEvents": [...], "displayTimeUnit": "ns"}),
 * atomically. */
gboolean  il_chrome_export        (const IlTrace      *trace,
                                   const char         *path,
                                   GError            **error);

/* Reads a Chrome JSON trace from a file (streaming).  info may be NULL. */
IlTrace  *il_chrome_import        (const char         *path,
                                   IlChromeImportInfo *info,
                                   IlProgressFunc      progress,
                                   gpointer            progress_data,
                                   GCancellable       *cancellable,
                                   GError            **error);

/* Same, from memory (tests, fuzzing).  name is used in messages. */
IlTrace  *il_chrome_import_data   (const guint8       *data,
                                   gsize               len,
                                   const char         *name,
                                   IlChromeImportInfo *info,
                                   GError            **error);

G_END_DECLS
