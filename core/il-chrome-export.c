/* il-chrome-export.c — a run as Chrome Trace Event JSON
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What Perfetto and chrome://tracing open: one process per simulated
 * process, a thread track per lane, states as X slices, causes as s/f flow
 * arrows, metadata names and sort indexes.
 */
#include <stdarg.h>
#include <stdio.h>

#include "il-chrome.h"
#include "il-json.h"

typedef struct {
  FILE       *f;
  gboolean    first;
  gboolean    failed;
  guint64     flow_id;
  GHashTable *slice_args;   /* an imported trace's args: SLICE_BEGIN event → JSON object text */
} Out;

static void
out_event (Out        *o,
           const char *fmt,
           ...) G_GNUC_PRINTF (2, 3);

static void
out_event (Out        *o,
           const char *fmt,
           ...)
{
  va_list ap;

  if (o->failed)
    return;
  if (fputs (o->first ? "\n" : ",\n", o->f) < 0)
    o->failed = TRUE;
  o->first = FALSE;
  va_start (ap, fmt);
  if (vfprintf (o->f, fmt, ap) < 0)
    o->failed = TRUE;
  va_end (ap);
}

/* Chrome ids: a pid per process lane (0 for the machine's cores) and a
 * tid per lane. */
static guint32
pid_of (const IlTrace *t,
        guint32        lane)
{
  const IlLane *l = il_trace_get_lane (t, lane);
  if (l->kind == IL_LANE_PROCESS)
    return lane + 1;
  return l->parent == IL_NO_LANE ? 0 : l->parent + 1;
}

static const char *
lane_name (const IlTrace *t,
           guint32        lane)
{
  return lane < il_trace_get_n_lanes (t) ? il_trace_get_lane (t, lane)->name : "nothing";
}

static void
export_interval (Out           *o,
                 const IlTrace *t,
                 guint32        lane,
                 gint64         start,
                 gint64         end,
                 const char    *name,
                 const char    *cause)
{
  g_autofree char *jn = il_json_escape (name);

  if (end <= start)
    return;
  if (cause != NULL)
    out_event (o, "{\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"name\":%s,\"args\":{\"cause\":\"%s\"}}",
               pid_of (t, lane), lane + 1, start / 1e3, (end - start) / 1e3, jn, cause);
  else
    out_event (o, "{\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"name\":%s}",
               pid_of (t, lane), lane + 1, start / 1e3, (end - start) / 1e3, jn);
}

static void
export_lane (Out           *o,
             const IlTrace *t,
             guint32        lane)
{
  const IlLane *l = il_trace_get_lane (t, lane);
  const IlLaneIndex *idx = il_trace_get_lane_events (t, lane);
  const guint32 *v = idx->data;
  gint64 since = -1;
  guint32 open_e = G_MAXUINT32;

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = v[i];
      gint64 time = t->time[e];
      IlEventKind kind = t->kind[e];

      switch (kind)
        {
        case IL_EVENT_STATE:
        case IL_EVENT_CORE:
        case IL_EVENT_GIL_TAKE:
        case IL_EVENT_GIL_DROP:
        case IL_EVENT_LOOP_CALLBACK:
        case IL_EVENT_LOOP_CALLBACK_END:
        case IL_EVENT_LOOP_SELECT:
        case IL_EVENT_LOOP_SELECT_END:
          /* Close the interval that was going on. */
          if (open_e != G_MAXUINT32)
            {
              IlEventKind ok = t->kind[open_e];
              if (ok == IL_EVENT_STATE && t->value[open_e] != IL_STATE_NOT_STARTED && t->value[open_e] != IL_STATE_DONE)
                export_interval (o, t, lane, since, time, il_state_to_string (t->value[open_e]),
                                 il_cause_to_string (t->aux[open_e]));
              else if (ok == IL_EVENT_CORE && t->arg[open_e] != IL_NO_LANE)
                export_interval (o, t, lane, since, time, lane_name (t, t->arg[open_e]), NULL);
              else if (ok == IL_EVENT_GIL_TAKE)
                {
                  g_autofree char *n = g_strdup_printf ("held by %s", lane_name (t, t->arg[open_e]));
                  export_interval (o, t, lane, since, time, n, NULL);
                }
              else if (ok == IL_EVENT_LOOP_CALLBACK)
                {
                  g_autofree char *n = t->arg[open_e] != IL_NO_LANE
                                       ? g_strdup_printf ("step %s", lane_name (t, t->arg[open_e]))
                                       : g_strdup ("callback");
                  export_interval (o, t, lane, since, time, n, NULL);
                }
              else if (ok == IL_EVENT_LOOP_SELECT)
                export_interval (o, t, lane, since, time, "select()", NULL);
            }
          open_e = e;
          since = time;
          break;
        case IL_EVENT_GIL_REQUEST:
          out_event (o, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"drop request\"}",
                     pid_of (t, lane), lane + 1, time / 1e3);
          break;
        case IL_EVENT_LOOP_ITER:
          out_event (o, "{\"ph\":\"C\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"ready queue\",\"args\":{\"depth\":%u}}",
                     pid_of (t, lane), lane + 1, time / 1e3, t->aux[e]);
          break;
        case IL_EVENT_SLICE_BEGIN:
        case IL_EVENT_SLICE_END:
          {
            g_autofree char *jn = il_json_escape (il_trace_get_string (t, t->arg[e]));
            const char *args = kind == IL_EVENT_SLICE_BEGIN && o->slice_args != NULL
                               ? g_hash_table_lookup (o->slice_args, GUINT_TO_POINTER (e)) : NULL;

            if (args != NULL)
              out_event (o, "{\"ph\":\"B\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s,\"args\":%s}",
                         pid_of (t, lane), lane + 1, time / 1e3, jn, args);
            else
              out_event (o, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s}",
                         kind == IL_EVENT_SLICE_BEGIN ? "B" : "E", pid_of (t, lane), lane + 1, time / 1e3, jn);
          }
          break;
        case IL_EVENT_INSTANT:
          {
            g_autofree char *jn = il_json_escape (il_trace_get_string (t, t->arg[e]));
            out_event (o, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s}",
                       pid_of (t, lane), lane + 1, time / 1e3, jn);
          }
          break;
        case IL_EVENT_COUNTER:
          {
            g_autofree char *jn = il_json_escape (l->name);
            out_event (o, "{\"ph\":\"C\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s,\"args\":{\"value\":%.9g}}",
                       pid_of (t, lane), lane + 1, time / 1e3, jn, il_trace_bits_float (t->arg[e]));
          }
          break;
        case IL_EVENT_FLOW:
          out_event (o, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"flow\",\"cat\":\"flow\",\"id\":%u%s}",
                     t->value[e] == IL_FLOW_START ? "s" : t->value[e] == IL_FLOW_STEP ? "t" : "f",
                     pid_of (t, lane), lane + 1, time / 1e3, t->arg[e],
                     t->value[e] == IL_FLOW_END ? ",\"bp\":\"e\"" : "");
          break;
        case IL_EVENT_GIL_WAITERS:
        case IL_EVENT_MARK:
        case IL_N_EVENT_KINDS:
        default:
          break;
        }

      /* A forced drop is worth a mark of its own. */
      if (kind == IL_EVENT_GIL_DROP && t->value[e] == IL_GIL_DROP_FORCED)
        out_event (o, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"forced switch\"}",
                   pid_of (t, lane), lane + 1, time / 1e3);

      /* Cause and effect as a flow arrow from the causing lane. */
      if (kind == IL_EVENT_STATE && t->arg[e] != IL_NO_LANE && t->arg[e] != lane
          && t->arg[e] < il_trace_get_n_lanes (t))
        {
          guint64 id = ++o->flow_id;
          out_event (o, "{\"ph\":\"s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"%s\",\"cat\":\"cause\",\"id\":%" G_GUINT64_FORMAT "}",
                     pid_of (t, t->arg[e]), t->arg[e] + 1, time / 1e3, il_cause_to_string (t->aux[e]), id);
          out_event (o, "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"%s\",\"cat\":\"cause\",\"id\":%" G_GUINT64_FORMAT "}",
                     pid_of (t, lane), lane + 1, time / 1e3, il_cause_to_string (t->aux[e]), id);
        }
    }

  /* What is still going on at the end of the recording. */
  if (open_e != G_MAXUINT32 && t->end_time > since)
    {
      IlEventKind ok = t->kind[open_e];
      if (ok == IL_EVENT_STATE && t->value[open_e] != IL_STATE_NOT_STARTED && t->value[open_e] != IL_STATE_DONE)
        export_interval (o, t, lane, since, t->end_time, il_state_to_string (t->value[open_e]),
                         il_cause_to_string (t->aux[open_e]));
      else if (ok == IL_EVENT_CORE && t->arg[open_e] != IL_NO_LANE)
        export_interval (o, t, lane, since, t->end_time, lane_name (t, t->arg[open_e]), NULL);
      else if (ok == IL_EVENT_GIL_TAKE)
        {
          g_autofree char *n = g_strdup_printf ("held by %s", lane_name (t, t->arg[open_e]));
          export_interval (o, t, lane, since, t->end_time, n, NULL);
        }
    }
}

/* Each slice's args as the Selection panel shows them (an E's merged
 * over its B's), written on the slice's B: exporting an imported trace
 * keeps what importing it read.  Texts that cannot be read any more (the
 * source changed) are left out. */
static gboolean
collect_args (guint32     event,
              const char *json,
              gpointer    user_data)
{
  if (json != NULL)
    g_hash_table_insert (user_data, GUINT_TO_POINTER (event), g_strdup (json));
  return TRUE;
}

gboolean
il_chrome_export (const IlTrace  *trace,
                  const char     *path,
                  GError        **error)
{
  char *tmp = NULL;
  Out o = { .first = TRUE };
  gboolean any_core = FALSE;

  g_return_val_if_fail (trace != NULL && path != NULL, FALSE);

  o.f = il_atomic_file_begin (path, &tmp, error);
  if (o.f == NULL)
    return FALSE;
  if (trace->slice_args != NULL)
    {
      o.slice_args = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      il_chrome_slice_args_foreach (trace, collect_args, o.slice_args);
    }
  if (fputs ("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"Interleave\"},\"traceEvents\":[", o.f) < 0)
    o.failed = TRUE;

  /* Names and order first: processes, then a track per lane. */
  for (guint32 i = 0; i < il_trace_get_n_lanes (trace); i++)
    {
      const IlLane *l = il_trace_get_lane (trace, i);
      g_autofree char *jn = il_json_escape (l->name);

      if (l->kind == IL_LANE_PROCESS)
        {
          out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":%s}}", i + 1, jn);
          out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_sort_index\",\"args\":{\"sort_index\":%u}}", i + 1, i + 1);
          continue;
        }
      if (l->kind == IL_LANE_CORE && !any_core)
        {
          any_core = TRUE;
          out_event (&o, "{\"ph\":\"M\",\"pid\":0,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"Machine (CPU cores)\"}}");
        }
      out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":%s}}",
                 pid_of (trace, i), i + 1, jn);
      out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%u}}",
                 pid_of (trace, i), i + 1, i);
    }

  for (guint32 i = 0; i < il_trace_get_n_lanes (trace) && !o.failed; i++)
    if (il_trace_get_lane (trace, i)->kind != IL_LANE_PROCESS)
      export_lane (&o, trace, i);

  if (!o.failed && fputs ("\n]}\n", o.f) < 0)
    o.failed = TRUE;
  g_clear_pointer (&o.slice_args, g_hash_table_unref);
  return il_atomic_file_commit (o.f, tmp, path, o.failed, error);
}
