/* il-timeline.h — the timeline widget: lanes of a session's trace
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "il-render.h"
#include "il-session.h"

G_BEGIN_DECLS

#define IL_TYPE_TIMELINE (il_timeline_get_type ())
G_DECLARE_FINAL_TYPE (IlTimeline, il_timeline, IL, TIMELINE, GtkWidget)

GtkWidget        *il_timeline_new               (IlSession        *session);

void              il_timeline_zoom              (IlTimeline       *self,
                                                 double            factor);
void              il_timeline_fit               (IlTimeline       *self);
void              il_timeline_pan               (IlTimeline       *self,
                                                 double            fraction);
/* The visible time range; "viewport-changed" is emitted when it moves. */
const IlViewport *il_timeline_get_viewport      (IlTimeline       *self);
void              il_timeline_set_time_range    (IlTimeline       *self,
                                                 gint64            start,
                                                 gint64            span);
/* The view follows the playhead unless the person moved it away. */
void              il_timeline_set_follow        (IlTimeline       *self,
                                                 gboolean          follow);
void              il_timeline_set_presenter     (IlTimeline       *self,
                                                 gboolean          presenter);
/* Asks for the height of all lanes, for timelines stacked in a scroller. */
void              il_timeline_set_full_height   (IlTimeline       *self,
                                                 gboolean          full_height);
void              il_timeline_set_show_ruler    (IlTimeline       *self,
                                                 gboolean          show);
IlSession        *il_timeline_get_session       (IlTimeline       *self);
/* Lanes without cores and headings, fitted into whatever height is given. */
void              il_timeline_set_compact       (IlTimeline       *self,
                                                 gboolean          compact);
/* Said in the ruler's gutter instead of "time" (NULL: "time"). */
void              il_timeline_set_ruler_label   (IlTimeline       *self,
                                                 const char       *label);
/* The selected interval, or FALSE when none. */
gboolean          il_timeline_get_selection     (IlTimeline       *self,
                                                 IlTraceInterval  *hit);
/* Selects an interval as a click on it would (the Code tab's clicks). */
void              il_timeline_select            (IlTimeline       *self,
                                                 const IlTraceInterval *interval);
/* Describes what is under (x, y) in widget coordinates, or NULL. */
char             *il_timeline_describe_at       (IlTimeline       *self,
                                                 double            x,
                                                 double            y);
/* Widget coordinates of lane's centre at time t (tests, tutorials). */
gboolean          il_timeline_lane_point        (IlTimeline       *self,
                                                 guint32           lane,
                                                 gint64            t,
                                                 double           *x,
                                                 double           *y);
/* How many lanes the "↑ N more lanes" and "↓ N more lanes" tags count. */
void              il_timeline_get_lanes_out_of_view (IlTimeline *self,
                                                     guint      *above,
                                                     guint      *below);
const IlTheme    *il_timeline_get_theme         (IlTimeline       *self);
/* The level of detail of the slices it draws, whose names' ranking the
 * window's legend shares (il_slice_lod_top_names). */
IlSliceLod       *il_timeline_get_slice_lod     (IlTimeline       *self);

G_END_DECLS
