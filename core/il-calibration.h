/* il-calibration.h — model parameters measured on the user's own machine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reference parameters (il-params.c) were measured on the project's
 * machines.  A calibration runs short probes with a real CPython (wake-up
 * latency, timer slack, thread and pool costs, asyncio's loop, process
 * start per start method), keeps the results in
 * $XDG_CONFIG_HOME/interleave/calibration.json, and replaces the reference
 * values that a scenario did not set itself.
 */
#pragma once

#include <gio/gio.h>

#include "il-params.h"

G_BEGIN_DECLS

#define IL_CALIBRATION_ERROR (il_calibration_error_quark ())
typedef enum {
  IL_CALIBRATION_ERROR_PROBE,    /* the Python probes failed or printed nonsense */
  IL_CALIBRATION_ERROR_INVALID,  /* the calibration file is not what we wrote */
} IlCalibrationError;
GQuark il_calibration_error_quark (void);

typedef struct {
  IlParams  params;          /* the reference values with the measured ones in place */
  char     *python_version;  /* "3.11.7" */
  char     *python_path;     /* the interpreter that was measured */
  char     *measured_at;     /* ISO 8601, UTC */
  guint     cores;           /* os.cpu_count() on the measured machine */
  char     *samples_json;    /* per-probe medians and spreads, as the probes printed them (may be NULL) */
} IlCalibration;

/* The parameters a calibration measures, by their scenario "params" names. */
typedef struct {
  const char *name;          /* "wake_latency_ms" */
  const char *what;          /* one line for people */
  gsize       offset;        /* of the gint64 field in IlParams */
} IlCalibratedParam;

const IlCalibratedParam *il_calibration_params (guint *n_params);

/* Runs the probes with `python` (a path or a name looked up in PATH) for
 * about `budget_s` seconds (at least one sample of each probe, however
 * small the budget).  Blocks: the window runs it in a worker thread
 * (g_task_run_in_thread) and may cancel it. */
IlCalibration *il_calibration_measure      (const char           *python,
                                            double                budget_s,
                                            GCancellable         *cancellable,
                                            GError              **error);

/* $XDG_CONFIG_HOME/interleave/calibration.json */
char          *il_calibration_default_path (void);
/* Atomic: a temporary file beside the target, flushed, then renamed. */
gboolean       il_calibration_save         (const IlCalibration  *calibration,
                                            const char           *path,
                                            GError              **error);
IlCalibration *il_calibration_load         (const char           *path,
                                            GError              **error);
/* The user's calibration, or NULL (no error) when there is none. */
IlCalibration *il_calibration_load_default (GError              **error);

/* Replaces, in params, every measured value that is still at its reference
 * value (a scenario's own "params" win over the calibration). */
void           il_calibration_apply        (const IlCalibration  *calibration,
                                            IlParams             *params);
/* "calibrated on 2026-11-30 with Python 3.11.7", or "reference" for NULL. */
char          *il_calibration_describe     (const IlCalibration  *calibration);
/* The calibration as JSON text (what il_calibration_save writes). */
char          *il_calibration_to_json      (const IlCalibration  *calibration);

void           il_calibration_free         (IlCalibration        *calibration);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlCalibration, il_calibration_free)

G_END_DECLS
