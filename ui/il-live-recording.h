/* il-live-recording.h — a real Python program recorded while it runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts the program with the recorder (core/il-record-run.h), reads the
 * recording directory every 50 ms while it runs and rebuilds the trace
 * when the files grew (less often when rebuilding gets costly), so a
 * window can draw the run as it happens.  Its
 * output (stdout and stderr) arrives as "output" signals.  Stop asks the
 * program to end with SIGINT, then SIGTERM two seconds later.  When it has
 * ended, the last bytes are read, the trace is built with the exit code,
 * and "finished" is emitted.
 */
#pragma once

#include <gio/gio.h>

#include "il-trace.h"

G_BEGIN_DECLS

#define IL_TYPE_LIVE_RECORDING (il_live_recording_get_type ())
G_DECLARE_FINAL_TYPE (IlLiveRecording, il_live_recording, IL, LIVE_RECORDING, GObject)

/* Starts `python` (NULL: python3) on program_argv (PROGRAM.py ARGS…) in cwd. */
IlLiveRecording *il_live_recording_new          (const char         *python,
                                                 const char *const  *program_argv,
                                                 const char         *cwd,
                                                 GError            **error);
/* The trace of what was recorded so far, or NULL before the first record. */
IlTrace         *il_live_recording_get_trace    (IlLiveRecording    *self);
const char      *il_live_recording_get_program  (IlLiveRecording    *self);
/* Seconds since the start (until the end once finished). */
double           il_live_recording_get_elapsed  (IlLiveRecording    *self);
gboolean         il_live_recording_get_running  (IlLiveRecording    *self);
/* As a shell reports it; -1 while running. */
int              il_live_recording_get_exit_code (IlLiveRecording   *self);
/* Why the finished recording has no trace, or NULL. */
const GError    *il_live_recording_get_error    (IlLiveRecording    *self);
void             il_live_recording_stop         (IlLiveRecording    *self);

G_END_DECLS
