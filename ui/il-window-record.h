/* il-window-record.h — recording real programs, Simulate This, calibration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window's side of recording (issue 10) and calibration (issue 11):
 * the actions win.record-python, win.stop-recording, win.simulate-this,
 * win.calibrate and win.reference-params (stateful), the recording bar
 * above the timeline, and the model parameters every simulation in the
 * window uses.
 */
#pragma once

#include "il-calibration.h"
#include "il-live-recording.h"
#include "il-window.h"

G_BEGIN_DECLS

/* Record a Python Program…: shows the dialog (il-record-dialog.h), whose
 * Record calls il_window_record_python(). */
GtkWidget       *il_window_open_record_dialog    (IlWindow            *self);
/* What Record in the dialog does: starts program_argv (PROGRAM.py ARGS…)
 * with python in cwd, and shows the recording growing in the timeline. */
gboolean         il_window_record_python         (IlWindow            *self,
                                                  const char          *python,
                                                  const char *const   *program_argv,
                                                  const char          *cwd,
                                                  GError             **error);
/* The recording in progress or last finished, or NULL. */
IlLiveRecording *il_window_get_live_recording    (IlWindow            *self);
/* Where the last finished recording was saved, or NULL. */
const char      *il_window_get_recording_path    (IlWindow            *self);
/* Simulate This: the shown recording's derived scenario in every mode
 * below the real run.  FALSE with an error when no recording is shown. */
gboolean         il_window_simulate_this         (IlWindow            *self,
                                                  GError             **error);
/* What the statistics panel says the model's numbers are ("reference
 * values", "calibrated on …", a recording's interpreter). */
const char      *il_window_get_params_source     (IlWindow            *self);
/* Uses calibration (taken; NULL: none) for simulations from now on and
 * re-simulates what is shown. */
void             il_window_set_calibration       (IlWindow            *self,
                                                  IlCalibration       *calibration);

G_END_DECLS
