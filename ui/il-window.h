/* il-window.h — the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "il-compare-view.h"
#include "il-session.h"
#include "il-lesson-panel.h"
#include "il-timeline.h"

G_BEGIN_DECLS

#define IL_TYPE_WINDOW (il_window_get_type ())
G_DECLARE_FINAL_TYPE (IlWindow, il_window, IL, WINDOW, AdwApplicationWindow)

IlWindow   *il_window_new            (AdwApplication *app);
IlSession  *il_window_get_session    (IlWindow       *self);
IlTimeline *il_window_get_timeline   (IlWindow       *self);
/* Opens a scenario or a trace file; errors are shown in a dialog. */
void        il_window_open_file      (IlWindow       *self,
                                      GFile          *file);
/* Shows a built-in lesson by file name ("07-convoy-effect.json"). */
gboolean    il_window_show_lesson    (IlWindow       *self,
                                      const char     *name);
void        il_window_set_presenter  (IlWindow       *self,
                                      gboolean        presenter);
/* Reopens what the last window showed (lesson or file, mode, cores,
 * workers, interval, playhead), saved on every change.  FALSE if there was
 * nothing to restore. */
gboolean    il_window_restore_session (IlWindow      *self);
/* Shows every mode stacked (the compare view) or the live timeline. */
void        il_window_set_comparing  (IlWindow       *self,
                                      gboolean        compare);
IlCompareView *il_window_get_compare_view (IlWindow  *self);
IlLessonPanel *il_window_get_lesson_panel (IlWindow  *self);
/* The Code tab, and the words the last step wrote (NULL when none). */
GtkWidget  *il_window_get_code_view  (IlWindow       *self);
const char *il_window_get_narration  (IlWindow       *self);
/* The built-in lessons, loaded from resources (IlScenario*). */
GPtrArray  *il_window_get_lessons    (IlWindow       *self);

G_END_DECLS
