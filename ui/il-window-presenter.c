/* il-window-presenter.c — presenter mode: full screen, high contrast, clicker keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-window-private.h"

void
il_window_set_presenter (IlWindow *self,
                         gboolean  presenter)
{
  g_return_if_fail (IL_IS_WINDOW (self));
  if (self->presenter == presenter)
    return;
  self->presenter = presenter;
  il_timeline_set_presenter (IL_TIMELINE (self->timeline), presenter);
  il_compare_view_set_presenter (IL_COMPARE_VIEW (self->compare_view), presenter);
  gtk_widget_set_visible (self->toolbar, !presenter);
  gtk_widget_set_visible (gtk_widget_get_parent (self->scrubber), !presenter);
  gtk_widget_set_visible (self->header, !presenter);
  gtk_widget_set_visible (self->clock_label, presenter);
  /* Wider, for projector-size type: the question, its choices and the
   * answer fit 1280×720 without scrolling. */
  gtk_widget_set_size_request (self->side_box, presenter ? 440 : 320, -1);
  /* …and stays beside the timeline down to 1024 px wide, where the
   * window's own fold (560 + 320 px) would hide the question. */
  gtk_widget_set_size_request (self->main_stack, presenter ? 500 : 560, -1);
  il_lesson_panel_set_presenter (IL_LESSON_PANEL (self->lesson_panel), presenter);
  /* High contrast for the projector: the whole window goes dark, and back
   * to the system's choice afterwards. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      presenter ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_DEFAULT);
  if (presenter)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "presenter");
      gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "lesson");
      /* Where the screen is too narrow even so, the question slides over
       * the lanes rather than hide behind a button nobody sees. */
      adw_flap_set_reveal_flap (ADW_FLAP (self->flap), TRUE);
      gtk_window_fullscreen (GTK_WINDOW (self));
      gtk_widget_grab_focus (self->timeline);
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self), "presenter");
      gtk_window_unfullscreen (GTK_WINDOW (self));
    }
  gtk_widget_queue_draw (self->legend);
}

/* In presenter mode the arrows step through the run instead of panning:
 * a lecturer with a clicker presses left/right. */
gboolean
_il_window_on_presenter_key (GtkEventControllerKey *controller,
                             guint                  keyval,
                             guint                  keycode,
                             GdkModifierType        state,
                             IlWindow              *self)
{
  gboolean shift = (state & GDK_SHIFT_MASK) != 0;

  if (!self->presenter)
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_Right:
    case GDK_KEY_Page_Down:
      _il_window_step (self, FALSE, shift);
      return TRUE;
    case GDK_KEY_Left:
    case GDK_KEY_Page_Up:
      _il_window_step (self, TRUE, shift);
      return TRUE;
    case GDK_KEY_p:
    case GDK_KEY_P:
      il_lesson_panel_reveal (IL_LESSON_PANEL (self->lesson_panel));
      return TRUE;
    case GDK_KEY_a:
    case GDK_KEY_b:
    case GDK_KEY_c:
    case GDK_KEY_d:
      /* The class calls out its prediction; the lecturer marks it. */
      il_lesson_panel_pick (IL_LESSON_PANEL (self->lesson_panel), (int) (keyval - GDK_KEY_a));
      return TRUE;
    case GDK_KEY_space:
      il_session_set_playing (self->session, !il_session_get_playing (self->session));
      return TRUE;
    case GDK_KEY_Escape:
      il_window_set_presenter (self, FALSE);
      return TRUE;
    default:
      return FALSE;
    }
}
