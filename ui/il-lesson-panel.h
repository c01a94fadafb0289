/* il-lesson-panel.h — the lesson beside the timeline: explanation, the
 * "predict first" question, and its answer once revealed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "il-session.h"

G_BEGIN_DECLS

#define IL_TYPE_LESSON_PANEL (il_lesson_panel_get_type ())
G_DECLARE_FINAL_TYPE (IlLessonPanel, il_lesson_panel, IL, LESSON_PANEL, GtkWidget)

GtkWidget *il_lesson_panel_new          (IlSession     *session);
/* Shows the answer (the run's end reveals it too). */
void       il_lesson_panel_reveal       (IlLessonPanel *self);

G_END_DECLS
