/* il-compare-view.h — one workload in every mode, stacked on one time axis
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "il-engine.h"
#include "il-timeline.h"

G_BEGIN_DECLS

#define IL_TYPE_COMPARE_VIEW (il_compare_view_get_type ())
G_DECLARE_FINAL_TYPE (IlCompareView, il_compare_view, IL, COMPARE_VIEW, GtkWidget)

GtkWidget *il_compare_view_new          (void);
/* Runs scenario with base (cores, workers, interval) in every mode of
 * modes_mask, each to completion, on threads (il_compare_run_async); a
 * newer call cancels the run in flight. */
void       il_compare_view_set_scenario (IlCompareView     *self,
                                         const IlScenario  *scenario,
                                         const IlRunConfig *base,
                                         guint32            modes_mask);
/* Puts a recorded run (Simulate This) above the modes, labelled title;
 * call after il_compare_view_set_scenario, which removes it. */
void       il_compare_view_set_real_run (IlCompareView     *self,
                                         IlTrace           *trace,
                                         const char        *title);
/* TRUE while the modes are being run (on threads); the makespans and
 * timelines fill in when it ends. */
gboolean   il_compare_view_is_running   (IlCompareView     *self);
/* Makespan of a mode's complete run (IL_N_MODES: the recorded run), or -1
 * when not shown (yet). */
gint64     il_compare_view_get_makespan (IlCompareView     *self,
                                         IlMode             mode);
/* What the bar chart shows per mode: the makespan, or the finish time of
 * the scenario's compare_task; -1 until known.  And its heading. */
gint64     il_compare_view_get_chart_value (IlCompareView  *self,
                                            IlMode          mode);
char      *il_compare_view_get_chart_title (IlCompareView  *self);
/* Hides the chart, makespans and speed-ups (until a lesson's answer is
 * revealed). */
void       il_compare_view_set_numbers_hidden (IlCompareView *self,
                                               gboolean       hidden);
gboolean   il_compare_view_get_numbers_hidden (IlCompareView *self);
/* A mode's heading as shown, or NULL. */
const char *il_compare_view_get_label   (IlCompareView     *self,
                                         IlMode             mode);
/* The timeline of a mode (IL_N_MODES: the recorded run), or NULL. */
IlTimeline *il_compare_view_get_timeline (IlCompareView    *self,
                                          IlMode            mode);
void       il_compare_view_set_presenter (IlCompareView    *self,
                                          gboolean          presenter);
/* Exports the stacked timelines (visible range) as one image. */
gboolean   il_compare_view_export       (IlCompareView     *self,
                                         const char        *path,
                                         double             width,
                                         double             scale,
                                         gboolean           visible_range,
                                         GError           **error);

G_END_DECLS
