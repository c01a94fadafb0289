/* test-util.h — small helpers the model tests share: load a scenario from
 * JSON, simulate it, find lanes and times in the trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "il-engine.h"

static inline IlScenario *
tu_load (const char *json)
{
  GError *error = NULL;
  IlScenario *sc = il_scenario_load_data (json, -1, "test.json", &error);

  g_assert_no_error (error);
  g_assert_nonnull (sc);
  return sc;
}

static inline IlTrace *
tu_run (const IlScenario *sc,
        IlMode            mode)
{
  IlRunConfig cfg;
  GError *error = NULL;
  IlTrace *trace;

  il_run_config_from_scenario (&cfg, sc);
  cfg.mode = mode;
  trace = il_simulate (sc, &cfg, &error);
  g_assert_no_error (error);
  g_assert_true (trace->finished);
  return trace;
}

/* A built-in lesson (data/lessons/NAME) simulated in a mode. */
static inline IlTrace *
tu_run_lesson (const char *name,
               IlMode      mode)
{
  g_autofree char *path = g_build_filename (g_getenv ("INTERLEAVE_SOURCE_DIR"), "data", "lessons", name, NULL);
  g_autoptr(IlScenario) sc = il_scenario_load_file (path, NULL);

  g_assert_nonnull (sc);
  return tu_run (sc, mode);
}

/* The lane of that name and kind (fails the test if there is none). */
static inline guint32
tu_lane (const IlTrace *trace,
         IlLaneKind     kind,
         const char    *name)
{
  for (guint l = 0; l < il_trace_get_n_lanes (trace); l++)
    if (il_trace_get_lane (trace, l)->kind == kind && g_strcmp0 (il_trace_get_lane (trace, l)->name, name) == 0)
      return l;
  g_error ("no %s lane %s", il_lane_kind_to_string (kind), name);
  return IL_NO_LANE;
}

/* First time a lane entered a state, or -1. */
static inline gint64
tu_first_state (const IlTrace *trace,
                guint32        lane,
                IlState        state)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (trace->kind[e] == IL_EVENT_STATE && trace->value[e] == state)
        return trace->time[e];
    }
  return -1;
}

/* Time a lane spent in a state before its last state change. */
static inline gint64
tu_time_in (const IlTrace *trace,
            guint32        lane,
            IlState        state)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);
  gint64 total = 0, since = 0;
  int cur = IL_STATE_NOT_STARTED;

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (trace->kind[e] != IL_EVENT_STATE)
        continue;
      if (cur == (int) state)
        total += trace->time[e] - since;
      cur = trace->value[e];
      since = trace->time[e];
    }
  return total;
}
