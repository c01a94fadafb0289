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
gboolean   il_lesson_panel_get_revealed (IlLessonPanel *self);
/* The person's prediction: highlighted now, judged when the answer shows. */
void       il_lesson_panel_pick         (IlLessonPanel *self,
                                         int            choice);
int        il_lesson_panel_get_picked   (IlLessonPanel *self);
/* The choice the answer names, or -1. */
int        il_lesson_panel_get_right_choice (IlLessonPanel *self);
/* Whether the question, its choices and (once revealed) the answer are
 * wholly in view without scrolling. */
gboolean   il_lesson_panel_question_in_view (IlLessonPanel *self);
/* Question first and projector-size type. */
void       il_lesson_panel_set_presenter (IlLessonPanel *self,
                                          gboolean       presenter);

G_END_DECLS
