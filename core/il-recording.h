/* il-recording.h — turn a recording of a real CPython program into a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The recorder (recorder/) writes one file of records per process into a
 * recording directory.  An IlRecording collects those bytes — all at once
 * after the run, or piece by piece while the program still runs (feed what
 * is new, build again) — and builds an IlTrace with the lanes and states a
 * simulation has: cores, per process its GIL with the real holder, event
 * loops, one lane per thread, asyncio task and pool work item.
 *
 * The facts of the run (interpreter version, counts, exit code) go into
 * trace->recording as "name=value" lines, saved in the .itrace RECM
 * section; il_recording_meta_get() reads one back.
 */
#pragma once

#include <glib.h>

#include "il-trace.h"

G_BEGIN_DECLS

#define IL_RECORDING_ERROR (il_recording_error_quark ())

typedef enum {
  IL_RECORDING_ERROR_IO,      /* cannot read the directory or a file */
  IL_RECORDING_ERROR_FORMAT,  /* a file that is not a recording, or a damaged record */
  IL_RECORDING_ERROR_EMPTY,   /* nothing was recorded */
} IlRecordingError;

GQuark        il_recording_error_quark (void);

typedef struct _IlRecording IlRecording;

IlRecording  *il_recording_new         (void);
void          il_recording_free        (IlRecording   *rec);

/* Appends bytes of the process file named `file` (any stable name).  A
 * record cut off at the end waits for the next call.  Errors name the file
 * and the byte offset. */
gboolean      il_recording_feed        (IlRecording   *rec,
                                        const char    *file,
                                        const guint8  *data,
                                        gsize          len,
                                        GError       **error);
/* Reads what is new in every proc-*.rec file of dir since the last call. */
gboolean      il_recording_feed_dir    (IlRecording   *rec,
                                        const char    *dir,
                                        GError       **error);
/* What the program was ("prog.py arg…"), stored with the facts. */
void          il_recording_set_program (IlRecording   *rec,
                                        const char    *program,
                                        int            exit_code);
/* Builds a trace of everything fed so far.  NULL with an error when
 * nothing was recorded. */
IlTrace      *il_recording_build       (IlRecording   *rec,
                                        GError       **error);

/* Convenience: feed a whole directory and build. */
IlTrace      *il_recording_load_dir    (const char    *dir,
                                        const char    *program,
                                        int            exit_code,
                                        GError       **error);

/* Value of `name` in trace->recording, or NULL (newly allocated). */
char         *il_recording_meta_get    (const IlTrace *trace,
                                        const char    *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlRecording, il_recording_free)

G_END_DECLS
