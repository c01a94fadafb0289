/* il-engine.h — the deterministic discrete-event simulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An engine runs one scenario in one mode in virtual time and records an
 * IlTrace as it goes.  It is steppable: il_engine_run_until() advances to a
 * virtual time and returns, so a GLib main loop can drive it frame by frame;
 * running to completion is il_engine_run_until (engine, IL_TIME_FOREVER).
 * Same scenario and config → the same trace, bit for bit.
 */
#pragma once

#include <glib.h>

#include "il-run-config.h"
#include "il-scenario.h"
#include "il-trace.h"

G_BEGIN_DECLS

/* The scenario's own mode, cores, workers, interval and params. */
void      il_run_config_from_scenario (IlRunConfig       *config,
                                       const IlScenario  *scenario);

typedef struct _IlEngine IlEngine;

#define IL_ENGINE_ERROR (il_engine_error_quark ())
typedef enum {
  IL_ENGINE_ERROR_LIMIT,     /* would run without end: too many events or too much virtual time */
  IL_ENGINE_ERROR_DEADLOCK,  /* tasks wait for each other (await cycle, lock order, a queue nobody serves) */
  IL_ENGINE_ERROR_UNSUPPORTED, /* Python would refuse it in this mode (a queue sent to a process pool) */
} IlEngineError;
GQuark    il_engine_error_quark       (void);

/* Safety limits: a run stops with IL_ENGINE_ERROR_LIMIT past these. */
#define IL_ENGINE_MAX_EVENTS   G_GINT64_CONSTANT (400000000)
#define IL_ENGINE_MAX_TIME     (G_GINT64_CONSTANT (24) * 3600 * IL_NSEC_PER_SEC)

IlEngine *il_engine_new               (const IlScenario  *scenario,
                                       const IlRunConfig *config);
void      il_engine_free              (IlEngine          *engine);

/* Processes every event at or before t, then sets the trace's end time to t
 * (clamped to the finish time).  Returns FALSE with error set if the run
 * hit a limit or deadlocked; the trace keeps what happened before. */
gboolean  il_engine_run_until         (IlEngine          *engine,
                                       gint64             t,
                                       GError           **error);
/* Time of the next scheduling event, or IL_TIME_FOREVER when finished. */
gint64    il_engine_peek_next_time    (IlEngine          *engine);
gint64    il_engine_get_now           (IlEngine          *engine);
gboolean  il_engine_is_finished       (IlEngine          *engine);
/* Borrowed; stays valid until the engine is freed (take a ref to keep it). */
IlTrace  *il_engine_get_trace         (IlEngine          *engine);
const IlRunConfig *il_engine_get_config (IlEngine        *engine);

/* Convenience: run to completion and return the trace (full reference). */
IlTrace  *il_simulate                 (const IlScenario  *scenario,
                                       const IlRunConfig *config,
                                       GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlEngine, il_engine_free)

G_END_DECLS
