/* il-session.c — what is being watched: a scenario run live, or a trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-session.h"

struct _IlSession
{
  GObject       parent_instance;

  IlScenario   *scenario;     /* NULL for a loaded trace */
  IlRunConfig   config;
  IlEngine     *engine;       /* NULL for a loaded trace */
  IlTrace      *trace;
  GError       *error;

  guint         serial;
  gboolean      playback_only;  /* a recording: no scenario to run again */
  gint64        now;
  gboolean      playing;
  double        speed;
  gint64        last_frame_us;
  guint         clock_id;     /* the playback clock while playing */

  IlStats      *stats;        /* cached for stats_now */
  gint64        stats_now;
  gsize         stats_events;

  /* The complete run, computed in a thread.  Being deterministic, it is
   * the live run's future: a jump past what the live engine has simulated
   * adopts it instead of simulating again on the main thread. */
  GCancellable *full_cancellable;
  guint         full_serial;    /* which rebuild the run in flight belongs to */
  IlTrace      *full_trace;
  gboolean      simulating;
  IlStats      *final_stats;
  gint64        extent;
  gboolean      extent_known;
};

G_DEFINE_FINAL_TYPE (IlSession, il_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PLAYING,
  PROP_SPEED,
  PROP_SIMULATING,
  N_PROPS
};

enum {
  TRACE_CHANGED,   /* a new trace: lanes may differ, rebuild layouts */
  PROGRESSED,      /* now moved or the trace grew */
  EXTENT_KNOWN,    /* the complete run's length and statistics are known */
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
set_simulating (IlSession *self,
                gboolean   simulating)
{
  if (self->simulating == simulating)
    return;
  self->simulating = simulating;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIMULATING]);
}

static void
clear_run (IlSession *self)
{
  if (self->full_cancellable != NULL)
    g_cancellable_cancel (self->full_cancellable);
  g_clear_object (&self->full_cancellable);
  g_clear_pointer (&self->full_trace, il_trace_unref);
  self->full_serial++;
  set_simulating (self, FALSE);
  g_clear_pointer (&self->engine, il_engine_free);
  g_clear_pointer (&self->trace, il_trace_unref);
  g_clear_pointer (&self->stats, il_stats_free);
  g_clear_pointer (&self->final_stats, il_stats_free);
  g_clear_error (&self->error);
  self->extent = 0;
  self->extent_known = FALSE;
}

static void
il_session_dispose (GObject *object)
{
  IlSession *self = IL_SESSION (object);

  g_clear_handle_id (&self->clock_id, g_source_remove);
  clear_run (self);
  g_clear_pointer (&self->scenario, il_scenario_unref);
  G_OBJECT_CLASS (il_session_parent_class)->dispose (object);
}

static void
il_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  IlSession *self = IL_SESSION (object);

  switch (prop_id)
    {
    case PROP_PLAYING:
      g_value_set_boolean (value, self->playing);
      break;
    case PROP_SPEED:
      g_value_set_double (value, self->speed);
      break;
    case PROP_SIMULATING:
      g_value_set_boolean (value, self->simulating);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
il_session_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  IlSession *self = IL_SESSION (object);

  switch (prop_id)
    {
    case PROP_PLAYING:
      il_session_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_SPEED:
      il_session_set_speed (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
il_session_class_init (IlSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = il_session_dispose;
  object_class->get_property = il_session_get_property;
  object_class->set_property = il_session_set_property;

  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPEED] =
    g_param_spec_double ("speed", NULL, NULL, 0.0001, 10, 0.05,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIMULATING] =
    g_param_spec_boolean ("simulating", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[TRACE_CHANGED] = g_signal_new ("trace-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[PROGRESSED] = g_signal_new ("progressed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[EXTENT_KNOWN] = g_signal_new ("extent-known", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
il_session_init (IlSession *self)
{
  self->speed = 0.05;
  self->last_frame_us = -1;
  self->stats_now = -1;
}

IlSession *
il_session_new (void)
{
  return g_object_new (IL_TYPE_SESSION, NULL);
}

/* ----------------------------------------------------- the complete run */

typedef struct {
  IlScenario  *scenario;
  IlRunConfig  config;
  guint        serial;
} FullRun;

static void
full_run_free (FullRun *run)
{
  il_scenario_unref (run->scenario);
  g_free (run);
}

static void
full_run_thread (GTask        *task,
                 gpointer      source,
                 gpointer      data,
                 GCancellable *cancellable)
{
  FullRun *run = data;
  g_autoptr(IlEngine) engine = il_engine_new (run->scenario, &run->config);
  GError *error = NULL;
  gint64 t = 0;

  /* In slices of virtual time so that a cancelled run stops quickly. */
  while (!il_engine_is_finished (engine))
    {
      gint64 next = il_engine_peek_next_time (engine);
      if (g_task_return_error_if_cancelled (task))
        return;
      t = MAX (t + IL_MSEC (50), next);
      if (!il_engine_run_until (engine, t, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  g_task_return_pointer (task, il_trace_ref (il_engine_get_trace (engine)),
                         (GDestroyNotify) il_trace_unref);
}

static void
full_run_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(IlSession) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = g_task_propagate_pointer (G_TASK (result), &error);

  FullRun *run = g_task_get_task_data (G_TASK (result));

  if (run->serial != self->full_serial)
    return;   /* a newer run replaced it */
  set_simulating (self, FALSE);
  if (trace == NULL)
    return;   /* cancelled; or failed, and the live engine will say why */
  self->full_trace = il_trace_ref (trace);
  self->extent = trace->end_time;
  self->extent_known = TRUE;
  g_clear_pointer (&self->final_stats, il_stats_free);
  self->final_stats = il_stats_compute (trace, G_MAXINT64);
  g_signal_emit (self, signals[EXTENT_KNOWN], 0);
  if (self->now > self->extent)
    {
      self->now = self->extent;
      g_signal_emit (self, signals[PROGRESSED], 0);
    }
}

static void
start_full_run (IlSession *self)
{
  g_autoptr(GTask) task = NULL;
  FullRun *run = g_new0 (FullRun, 1);

  run->scenario = il_scenario_ref (self->scenario);
  run->config = self->config;
  run->serial = self->full_serial;
  self->full_cancellable = g_cancellable_new ();
  set_simulating (self, TRUE);
  task = g_task_new (NULL, self->full_cancellable, full_run_done, g_object_ref (self));
  g_task_set_task_data (task, run, (GDestroyNotify) full_run_free);
  g_task_run_in_thread (task, full_run_thread);
}

/* ------------------------------------------------------------- running */

static void
advance_engine (IlSession *self)
{
  if (self->engine == NULL || self->error != NULL)
    return;
  if (!il_engine_run_until (self->engine, self->now, &self->error))
    self->playing = FALSE;
}

static void
rebuild (IlSession *self,
         gboolean   keep_now)
{
  gint64 now = keep_now ? self->now : 0;

  clear_run (self);
  if (self->scenario == NULL)
    return;
  /* Never an engine on a configuration it cannot run (a zero time slice
   * would never advance): the error is shown instead of a run. */
  if (!il_run_config_validate (&self->config, IL_PARAM_KEYS_JSON, &self->error))
    {
      g_signal_emit (self, signals[TRACE_CHANGED], 0);
      g_signal_emit (self, signals[PROGRESSED], 0);
      return;
    }
  /* A recording's own scenario run again becomes a live run. */
  self->playback_only = FALSE;
  self->engine = il_engine_new (self->scenario, &self->config);
  self->trace = il_trace_ref (il_engine_get_trace (self->engine));
  self->now = now;
  advance_engine (self);
  /* A what-if change can make the run shorter than where the playhead
   * was: "100.630 ms / 55.275 ms" is no time at all.  Stop at the end. */
  if (self->engine != NULL && (il_engine_is_finished (self->engine) || self->error != NULL))
    self->now = MIN (self->now, self->trace->end_time);
  start_full_run (self);
  g_signal_emit (self, signals[TRACE_CHANGED], 0);
  g_signal_emit (self, signals[PROGRESSED], 0);
}

void
il_session_set_scenario (IlSession        *self,
                         const IlScenario *scenario)
{
  g_return_if_fail (IL_IS_SESSION (self));
  g_return_if_fail (scenario != NULL);

  {
    /* Referenced before the old one is let go: it may be the same. */
    IlScenario *old = g_steal_pointer (&self->scenario);
    self->scenario = il_scenario_ref (scenario);
    il_scenario_unref (old);
  }
  self->serial++;
  self->playback_only = FALSE;
  il_run_config_from_scenario (&self->config, scenario);
  il_session_set_playing (self, FALSE);
  rebuild (self, FALSE);
}

const IlScenario *
il_session_get_scenario (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), NULL);
  return self->scenario;
}

void
il_session_set_trace (IlSession         *self,
                      IlTrace           *trace,
                      const IlRunConfig *config)
{
  g_return_if_fail (IL_IS_SESSION (self));
  g_return_if_fail (trace != NULL);

  il_session_set_playing (self, FALSE);
  clear_run (self);
  {
    IlScenario *old = g_steal_pointer (&self->scenario);
    if (trace->scenario != NULL)
      self->scenario = il_scenario_ref (trace->scenario);
    il_scenario_unref (old);
  }
  if (config != NULL)
    self->config = *config;
  else
    memset (&self->config, 0, sizeof self->config);
  self->trace = il_trace_ref (trace);
  self->serial++;
  self->playback_only = TRUE;
  /* A recording opens showing all of it; Play starts it over. */
  self->now = trace->end_time;
  self->extent = trace->end_time;
  self->extent_known = TRUE;
  self->final_stats = il_stats_compute (trace, G_MAXINT64);
  g_signal_emit (self, signals[TRACE_CHANGED], 0);
  g_signal_emit (self, signals[EXTENT_KNOWN], 0);
  g_signal_emit (self, signals[PROGRESSED], 0);
}

IlTrace *
il_session_get_trace (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), NULL);
  return self->trace;
}

const IlRunConfig *
il_session_get_config (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), NULL);
  return &self->config;
}

guint
il_session_get_serial (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), 0);
  return self->serial;
}

gboolean
il_session_is_live (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), FALSE);
  return self->scenario != NULL && !self->playback_only;
}

const GError *
il_session_get_error (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), NULL);
  return self->error;
}

#define DEFINE_CONFIG_SETTER(func, type, field)        \
  void                                                 \
  func (IlSession *self,                               \
        type       value)                              \
  {                                                    \
    g_return_if_fail (IL_IS_SESSION (self));           \
    if (self->config.field == value || self->scenario == NULL) \
      return;                                          \
    self->config.field = value;                        \
    rebuild (self, TRUE);                              \
  }

void
il_session_set_config (IlSession         *self,
                       const IlRunConfig *config)
{
  g_return_if_fail (IL_IS_SESSION (self));
  g_return_if_fail (config != NULL);
  if (self->scenario == NULL || memcmp (&self->config, config, sizeof *config) == 0)
    return;
  self->config = *config;
  rebuild (self, TRUE);
}

DEFINE_CONFIG_SETTER (il_session_set_mode, IlMode, mode)
DEFINE_CONFIG_SETTER (il_session_set_cores, guint, cores)
DEFINE_CONFIG_SETTER (il_session_set_workers, guint, workers)
DEFINE_CONFIG_SETTER (il_session_set_switch_interval, gint64, switch_interval)

gint64
il_session_get_now (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), 0);
  return self->now;
}

gint64
il_session_get_extent (IlSession *self,
                       gboolean  *known)
{
  g_return_val_if_fail (IL_IS_SESSION (self), 0);
  if (known != NULL)
    *known = self->extent_known;
  if (self->extent_known)
    return self->extent;
  return self->trace != NULL ? self->trace->end_time : 0;
}

gboolean
il_session_is_at_end (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), TRUE);
  if (self->trace == NULL)
    return TRUE;
  if (self->error != NULL)
    return self->now >= self->trace->end_time;
  if (self->engine != NULL && !il_engine_is_finished (self->engine))
    return FALSE;
  return self->now >= self->trace->end_time;
}

void
il_session_seek (IlSession *self,
                 gint64     now)
{
  gint64 limit;

  g_return_if_fail (IL_IS_SESSION (self));
  if (self->trace == NULL)
    return;
  limit = il_session_get_extent (self, NULL);
  if (self->engine != NULL && !self->extent_known)
    limit = IL_ENGINE_MAX_TIME;
  now = CLAMP (now, 0, MAX (limit, 0));
  self->now = now;
  if (self->engine != NULL && self->full_trace != NULL && self->error == NULL
      && now > il_engine_get_now (self->engine) + IL_MSEC (50))
    {
      /* The complete run is this run's future, bit for bit: take it
       * rather than simulate the rest here. */
      g_clear_pointer (&self->engine, il_engine_free);
      g_clear_pointer (&self->trace, il_trace_unref);
      self->trace = il_trace_ref (self->full_trace);
      g_signal_emit (self, signals[TRACE_CHANGED], 0);
    }
  advance_engine (self);
  if (self->engine == NULL || il_engine_is_finished (self->engine) || self->error != NULL)
    self->now = MIN (self->now, self->trace->end_time);
  g_signal_emit (self, signals[PROGRESSED], 0);
}

gboolean
il_session_get_playing (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), FALSE);
  return self->playing;
}

/* The playback clock belongs to the session, not to a widget: whichever
 * widgets show the session (timeline, compare view, scrubber) only redraw
 * on "progressed", and a session shown by none still plays.  It is a plain
 * GLib timer at about the display's frame rate rather than GTK's frame
 * clock so that this library needs no GTK; "now" advances by the real time
 * elapsed (g_get_monotonic_time, the same clock GdkFrameClock reports), so
 * a late timer never changes the speed, and GTK coalesces the redraws it
 * queues into its next frame.  The timer only runs while playing. */
#define CLOCK_INTERVAL_MS 16

static gboolean
clock_cb (gpointer data)
{
  il_session_tick (IL_SESSION (data), g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

void
il_session_set_playing (IlSession *self,
                        gboolean   playing)
{
  g_return_if_fail (IL_IS_SESSION (self));
  playing = !!playing;
  if (playing && self->trace != NULL && il_session_is_at_end (self))
    {
      /* Play at the end starts over, as media players do. */
      self->now = 0;
    }
  if (self->playing == playing)
    return;
  self->playing = playing;
  self->last_frame_us = -1;
  g_clear_handle_id (&self->clock_id, g_source_remove);
  if (playing)
    self->clock_id = g_timeout_add_full (G_PRIORITY_DEFAULT, CLOCK_INTERVAL_MS, clock_cb, self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

double
il_session_get_speed (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), 1);
  return self->speed;
}

void
il_session_set_speed (IlSession *self,
                      double     speed)
{
  g_return_if_fail (IL_IS_SESSION (self));
  speed = CLAMP (speed, 0.0001, 10);
  if (self->speed == speed)
    return;
  self->speed = speed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
}

void
il_session_tick (IlSession *self,
                 gint64     frame_time_us)
{
  gint64 dt_us;

  g_return_if_fail (IL_IS_SESSION (self));
  if (!self->playing)
    return;
  if (self->last_frame_us < 0)
    {
      self->last_frame_us = frame_time_us;
      return;
    }
  /* A stalled frame (window hidden, machine busy) must not leap ahead. */
  dt_us = MIN (frame_time_us - self->last_frame_us, 100000);
  self->last_frame_us = frame_time_us;
  il_session_seek (self, self->now + (gint64) (dt_us * 1000.0 * self->speed));
  if (il_session_is_at_end (self))
    il_session_set_playing (self, FALSE);
}

gboolean
il_session_step (IlSession *self,
                 gboolean   backwards,
                 gboolean   gil_only)
{
  gint64 target;

  g_return_val_if_fail (IL_IS_SESSION (self), FALSE);
  if (self->trace == NULL)
    return FALSE;
  il_session_set_playing (self, FALSE);

  target = il_trace_next_event_time (self->trace, self->now, backwards, gil_only);
  /* Forwards past what is simulated: run the engine event by event until
   * something shows up in the trace. */
  while (!backwards && target < 0 && self->engine != NULL && self->error == NULL
         && !il_engine_is_finished (self->engine))
    {
      gint64 next = il_engine_peek_next_time (self->engine);
      if (next == IL_TIME_FOREVER)
        break;
      if (!il_engine_run_until (self->engine, next, &self->error))
        break;
      target = il_trace_next_event_time (self->trace, self->now, FALSE, gil_only);
    }
  if (target < 0)
    return FALSE;
  il_session_seek (self, target);
  return TRUE;
}

void
il_session_restart (IlSession *self)
{
  g_return_if_fail (IL_IS_SESSION (self));
  il_session_set_playing (self, FALSE);
  if (self->engine != NULL && self->error != NULL)
    rebuild (self, FALSE);
  il_session_seek (self, 0);
}

gboolean
il_session_get_simulating (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), FALSE);
  return self->simulating;
}

void
il_session_cancel_simulation (IlSession *self)
{
  g_return_if_fail (IL_IS_SESSION (self));
  if (self->full_cancellable != NULL)
    g_cancellable_cancel (self->full_cancellable);
  self->full_serial++;
  set_simulating (self, FALSE);
}

void
il_session_complete (IlSession *self)
{
  g_return_if_fail (IL_IS_SESSION (self));
  if (self->engine == NULL || self->error != NULL || il_engine_is_finished (self->engine))
    return;
  if (self->full_trace != NULL)
    {
      g_clear_pointer (&self->engine, il_engine_free);
      g_clear_pointer (&self->trace, il_trace_unref);
      self->trace = il_trace_ref (self->full_trace);
      g_signal_emit (self, signals[TRACE_CHANGED], 0);
      g_signal_emit (self, signals[PROGRESSED], 0);
      return;
    }
  if (!il_engine_run_until (self->engine, IL_TIME_FOREVER, &self->error))
    self->playing = FALSE;
  g_signal_emit (self, signals[PROGRESSED], 0);
}

const IlStats *
il_session_get_stats (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), NULL);
  if (self->trace == NULL)
    return NULL;
  if (self->stats == NULL || self->stats_now != self->now || self->stats_events != self->trace->n_events)
    {
      g_clear_pointer (&self->stats, il_stats_free);
      self->stats = il_stats_compute (self->trace, MIN (self->now, self->trace->end_time));
      self->stats_now = self->now;
      self->stats_events = self->trace->n_events;
    }
  return self->stats;
}

const IlStats *
il_session_get_final_stats (IlSession *self)
{
  g_return_val_if_fail (IL_IS_SESSION (self), NULL);
  return self->final_stats;
}
