/* il-trace-io.h — Interleave's own trace file: save and load a recorded run
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The native format (".itrace") keeps everything the timeline shows: lanes,
 * every event column, interned strings, end time, and the scenario plus the
 * run configuration it came from, so a saved run plays back exactly as it
 * ran live.  The layout is documented in docs/trace-format.md.
 *
 * Saving is atomic (write to a temporary file beside the target, fsync,
 * rename), so a crash or a full disk never destroys an existing file.
 * Loading validates every field and never trusts counts from the file
 * before checking them against the file's size.
 */
#pragma once

#include <gio/gio.h>
#include <stdio.h>

#include "il-run-config.h"
#include "il-trace.h"

G_BEGIN_DECLS

#define IL_TRACE_IO_ERROR (il_trace_io_error_quark ())

typedef enum {
  IL_TRACE_IO_ERROR_FORMAT,     /* not a trace file, or a damaged one */
  IL_TRACE_IO_ERROR_VERSION,    /* written by a newer Interleave */
  IL_TRACE_IO_ERROR_TRUNCATED,  /* cut off; what came before may have been loaded */
  IL_TRACE_IO_ERROR_TOO_LARGE,  /* more than memory limits allow */
  IL_TRACE_IO_ERROR_CANCELLED,
} IlTraceIoError;

GQuark    il_trace_io_error_quark  (void);

/* Progress callback: fraction in [0, 1].  Called from the loading thread. */
typedef void (*IlProgressFunc) (double fraction, gpointer user_data);

/* Saves atomically.  config may be NULL (imported traces). */
gboolean  il_trace_save            (const IlTrace      *trace,
                                    const IlRunConfig  *config,
                                    const char         *path,
                                    GError            **error);

/* Loads a native trace.  On success returns a new trace and fills *config
 * (if not NULL) with the run configuration it was recorded with. */
IlTrace  *il_trace_load            (const char         *path,
                                    IlRunConfig        *config,
                                    IlProgressFunc      progress,
                                    gpointer            progress_data,
                                    GCancellable       *cancellable,
                                    GError            **error);

/* Atomic replacement of a file, for every writer of big files: write to
 * the FILE returned by begin (a temporary file beside path), then commit,
 * which flushes, fsyncs and renames it over path — or, when failed is TRUE
 * or anything goes wrong, deletes it and leaves path untouched. */
FILE     *il_atomic_file_begin     (const char         *path,
                                    char              **tmp_path,
                                    GError            **error);
gboolean  il_atomic_file_commit    (FILE               *f,
                                    char               *tmp_path,  /* freed */
                                    const char         *path,
                                    gboolean            failed,
                                    GError            **error);

/* Memory the kernel says could be had without swapping (MemAvailable), or
 * 0 if unknown: loaders refuse what cannot fit instead of being killed. */
guint64   il_available_memory      (void);

/* TRUE if the first bytes look like a native trace (magic number). */
gboolean  il_trace_is_native       (const guint8       *head,
                                    gsize               len);

G_END_DECLS
