/* il-session.h — what is being watched: a scenario run live, or a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session owns the engine and its trace, the playhead ("now", virtual
 * time), play/pause and speed, and the run configuration (mode, cores,
 * workers, switch interval).  Widgets observe it; none of them owns time.
 *
 * Playing moves "now" by speed × elapsed real time and steps the engine
 * with il_engine_run_until (now), so the trace grows as it plays.  Changing
 * the configuration re-simulates at once up to the same "now".  Scrubbing
 * backwards just moves "now": everything after it is hidden, not lost.
 *
 * Alongside, a complete run of the same configuration is computed off the
 * main thread to learn the run's extent (so the time axis can fit the
 * whole run before it has been played) and its final statistics.
 */
#pragma once

#include <gio/gio.h>

#include "il-engine.h"
#include "il-stats.h"

G_BEGIN_DECLS

#define IL_TYPE_SESSION (il_session_get_type ())
G_DECLARE_FINAL_TYPE (IlSession, il_session, IL, SESSION, GObject)

IlSession         *il_session_new               (void);

/* Takes a copy.  Resets the playhead to 0 and pauses. */
void               il_session_set_scenario      (IlSession          *self,
                                                 const IlScenario   *scenario);
const IlScenario  *il_session_get_scenario      (IlSession          *self);
/* Changes whenever another scenario or trace is shown (not on re-runs). */
guint              il_session_get_serial        (IlSession          *self);
/* Shows a recorded or imported trace (no engine; playback only). */
void               il_session_set_trace         (IlSession          *self,
                                                 IlTrace            *trace,
                                                 const IlRunConfig  *config);

IlTrace           *il_session_get_trace         (IlSession          *self);
const IlRunConfig *il_session_get_config        (IlSession          *self);
gboolean           il_session_is_live           (IlSession          *self);
/* The last engine error (deadlock, limit), or NULL. */
const GError      *il_session_get_error         (IlSession          *self);

/* Re-simulate with another configuration, keeping the playhead. */
/* All of it at once (mode, cores, workers, interval, params). */
void               il_session_set_config        (IlSession          *self,
                                                 const IlRunConfig  *config);
void               il_session_set_mode          (IlSession          *self,
                                                 IlMode              mode);
void               il_session_set_cores         (IlSession          *self,
                                                 guint               cores);
void               il_session_set_workers       (IlSession          *self,
                                                 guint               workers);
void               il_session_set_switch_interval (IlSession        *self,
                                                 gint64              interval);

gint64             il_session_get_now           (IlSession          *self);
void               il_session_seek              (IlSession          *self,
                                                 gint64              now);
/* End of the whole run: known once the background run finished, else the
 * end simulated so far.  *known tells which. */
gint64             il_session_get_extent        (IlSession          *self,
                                                 gboolean           *known);
gboolean           il_session_is_at_end         (IlSession          *self);

gboolean           il_session_get_playing       (IlSession          *self);
void               il_session_set_playing       (IlSession          *self,
                                                 gboolean            playing);
/* Virtual seconds per real second (0.0001 … 10). */
double             il_session_get_speed         (IlSession          *self);
void               il_session_set_speed         (IlSession          *self,
                                                 double              speed);
/* Advances "now" by the real time since the last tick (µs, monotonic):
 * called by the session's own playback clock while playing. */
void               il_session_tick              (IlSession          *self,
                                                 gint64              frame_time_us);
/* Moves to the next (or previous) scheduling event and pauses; with
 * gil_only, to the next GIL hand-off.  FALSE if there is none. */
gboolean           il_session_step              (IlSession          *self,
                                                 gboolean            backwards,
                                                 gboolean            gil_only);
void               il_session_restart           (IlSession          *self);
/* Simulates the rest of a live run without moving the playhead, so that
 * saves and images hold all of it. */
void               il_session_complete          (IlSession          *self);
/* TRUE while the complete run is being simulated in the background. */
gboolean           il_session_get_simulating    (IlSession          *self);
/* Stops it: the run plays on, simulated as the playhead advances. */
void               il_session_cancel_simulation (IlSession          *self);

/* Statistics up to now (cached per now). */
const IlStats     *il_session_get_stats         (IlSession          *self);
/* Statistics of the complete run, or NULL until it is known. */
const IlStats     *il_session_get_final_stats   (IlSession          *self);

G_END_DECLS
