/* il-code-view.h — the Python a scenario stands for, the lines each task is on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "il-session.h"

G_BEGIN_DECLS

#define IL_TYPE_CODE_VIEW (il_code_view_get_type ())
G_DECLARE_FINAL_TYPE (IlCodeView, il_code_view, IL, CODE_VIEW, GtkWidget)

GtkWidget  *il_code_view_new                  (IlSession  *session);
/* FALSE for traces without a scenario (imported or recorded): there is no
 * code to show, and the view says why. */
gboolean    il_code_view_has_code             (IlCodeView *self);
/* The line highlighted for a scenario task (its line at the playhead), or
 * -1 when it is on none. */
int         il_code_view_get_highlighted_line (IlCodeView *self,
                                               guint       task);
/* What clicking a line does: the playhead moves to when it (next) ran,
 * and "line-activated" (guint lane, gint64 time) is emitted for the
 * task's lane.  Returns the task of the line, or -1 when it never ran. */
int         il_code_view_activate_line        (IlCodeView *self,
                                               guint       line);

G_END_DECLS
