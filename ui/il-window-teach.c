/* il-window-teach.c — the window's teaching aids: the Code tab and narrated steps
 *
 * Each step (`.` / `,`, ←/→ in presenter mode) goes to the next instant
 * il_narrate_step has words for, writes those words in a line under the
 * timeline, and zooms to the range it returns when that range is not on
 * screen, so what the sentence talks about is in view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-window-private.h"
#include "il-code-view.h"
#include "il-narrate.h"

/* Steps of the engine to run ahead looking for an instant with words,
 * when a live run has not simulated that far yet. */
#define MAX_SIMULATED_STEPS 256

static void
set_narration (IlWindow   *self,
               const char *text)
{
  gtk_label_set_text (GTK_LABEL (self->narration_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->narration_label, text != NULL && *text != '\0');
}

/* Zooms to what the narration is about unless all of it is on screen
 * already (then the view stays put: a step should not jump needlessly). */
static void
show_range (IlWindow          *self,
            const IlNarration *n)
{
  const IlViewport *vp = il_timeline_get_viewport (IL_TIMELINE (self->timeline));

  if (n->zoom_start >= vp->start && n->zoom_end <= vp->start + vp->span)
    return;
  il_timeline_set_time_range (IL_TIMELINE (self->timeline), n->zoom_start, n->zoom_end - n->zoom_start);
}

gboolean
_il_window_step (IlWindow *self,
                 gboolean  backwards,
                 gboolean  gil_only)
{
  g_auto(IlNarration) n = { 0 };
  gint64 from = il_session_get_now (self->session);
  IlTrace *trace;
  gboolean found = FALSE;

  if (gil_only)
    {
      /* A GIL hand-off step: tell what happened at the hand-off. */
      if (!il_session_step (self->session, backwards, TRUE))
        return FALSE;
      trace = il_session_get_trace (self->session);
      found = trace != NULL && il_narrate_at (trace, il_session_get_now (self->session), &n);
    }
  else
    {
      /* il_session_step simulates a live run ahead as far as the next
       * event; the next instant with words may lie a little further. */
      for (guint i = 0; i < MAX_SIMULATED_STEPS && !found; i++)
        {
          trace = il_session_get_trace (self->session);
          if (trace == NULL)
            return FALSE;
          found = il_narrate_step (trace, from, backwards, &n);
          if (found || backwards || !il_session_step (self->session, FALSE, FALSE))
            break;
        }
      if (found)
        il_session_seek (self->session, n.time);
      else if (!il_session_step (self->session, backwards, FALSE))
        return FALSE;
    }
  set_narration (self, found ? n.text : NULL);
  if (found)
    show_range (self, &n);
  return TRUE;
}

GtkWidget *
il_window_get_code_view (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return self->code_view;
}

const char *
il_window_get_narration (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return gtk_widget_get_visible (self->narration_label)
         ? gtk_label_get_text (GTK_LABEL (self->narration_label)) : NULL;
}

/* A click on a line of code selects its task where the playhead went,
 * and the Code tab stays in front (a selection would show Selection). */
static void
on_line_activated (IlCodeView *view,
                   guint       lane,
                   gint64      t,
                   IlWindow   *self)
{
  IlTrace *trace = il_session_get_trace (self->session);
  IlTraceInterval hit;

  if (trace == NULL || !il_trace_interval_at (trace, lane, t, il_session_get_now (self->session), &hit))
    return;
  il_timeline_select (IL_TIMELINE (self->timeline), &hit);
  gtk_stack_set_visible_child (GTK_STACK (self->side_stack), self->code_view);
}

static void
on_trace_changed (IlWindow *self)
{
  GtkStackPage *page = gtk_stack_get_page (GTK_STACK (self->side_stack), self->code_view);

  set_narration (self, NULL);
  /* Imported traces and recordings without a scenario have no code to
   * show: no tab for it, and the panel goes back to the lesson if the
   * code was on view. */
  if (il_session_get_scenario (self->session) == NULL
      && gtk_stack_get_visible_child (GTK_STACK (self->side_stack)) == self->code_view)
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "lesson");
  gtk_stack_page_set_visible (page, il_session_get_scenario (self->session) != NULL);
}

void
_il_window_teach_init (IlWindow *self)
{
  self->narration_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->narration_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->narration_label), 0.0f);
  gtk_widget_add_css_class (self->narration_label, "narration");
  gtk_widget_set_visible (self->narration_label, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->narration_label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "What the last step did", -1);
  gtk_widget_insert_after (self->narration_label, self->timeline_box, self->timeline);

  self->code_view = il_code_view_new (self->session);
  gtk_stack_add_titled (GTK_STACK (self->side_stack), self->code_view, "code", "Code");
  g_signal_connect_object (self->session, "trace-changed", G_CALLBACK (on_trace_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->code_view, "line-activated", G_CALLBACK (on_line_activated), self, 0);
}
