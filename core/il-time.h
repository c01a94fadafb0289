/* il-time.h — virtual time: integer nanoseconds, never floats
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every time in the engine, the trace and the views is a gint64 count of
 * nanoseconds since the start of the run.  Integers keep a 10-second run
 * exact when zoomed in to nanoseconds; doubles appear only at the edges
 * (parsing milliseconds from JSON, printing, pixels).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define IL_NSEC_PER_USEC G_GINT64_CONSTANT (1000)
#define IL_NSEC_PER_MSEC G_GINT64_CONSTANT (1000000)
#define IL_NSEC_PER_SEC  G_GINT64_CONSTANT (1000000000)
#define IL_TIME_FOREVER  G_MAXINT64

#define IL_USEC(x) ((gint64) ((x) * IL_NSEC_PER_USEC))
#define IL_MSEC(x) ((gint64) ((x) * IL_NSEC_PER_MSEC))

static inline double
il_time_to_ms (gint64 t)
{
  return (double) t / (double) IL_NSEC_PER_MSEC;
}

/* Rounds to the nearest nanosecond; callers validate the range first. */
static inline gint64
il_time_from_ms (double ms)
{
  double ns = ms * (double) IL_NSEC_PER_MSEC;
  return (gint64) (ns < 0 ? ns - 0.5 : ns + 0.5);
}

G_END_DECLS
