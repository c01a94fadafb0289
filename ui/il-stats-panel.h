/* il-stats-panel.h — live numbers of the run: makespan, cores, GIL, loop, tasks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "il-session.h"

G_BEGIN_DECLS

#define IL_TYPE_STATS_PANEL (il_stats_panel_get_type ())
G_DECLARE_FINAL_TYPE (IlStatsPanel, il_stats_panel, IL, STATS_PANEL, GtkWidget)

GtkWidget *il_stats_panel_new    (IlSession    *session);
/* Refreshes now (otherwise it refreshes at most 10 times a second). */
void       il_stats_panel_update (IlStatsPanel *self);
/* Where the model's numbers came from ("reference values", "calibrated on
 * DATE with Python X", "recorded with CPython X"), shown under the run's
 * numbers and as the value of "params-source". */
void       il_stats_panel_set_params_source (IlStatsPanel *self,
                                             const char   *text);
/* The text shown for a statistic, by key ("makespan", "gil-switches", …),
 * for tests. */
const char *il_stats_panel_get_value (IlStatsPanel *self,
                                      const char   *key);

G_END_DECLS
