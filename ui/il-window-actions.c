/* il-window-actions.c — the window actions: transport, zoom, mode, compare
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-window-private.h"

/* ------------------------------------------------------------ transport */

static void
action_transport (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  IlWindow *self = IL_WINDOW (widget);

  if (g_str_equal (name, "win.play-pause"))
    il_session_set_playing (self->session, !il_session_get_playing (self->session));
  else if (g_str_equal (name, "win.step-forward"))
    _il_window_step (self, FALSE, FALSE);
  else if (g_str_equal (name, "win.step-back"))
    _il_window_step (self, TRUE, FALSE);
  else if (g_str_equal (name, "win.step-gil-forward"))
    _il_window_step (self, FALSE, TRUE);
  else if (g_str_equal (name, "win.step-gil-back"))
    _il_window_step (self, TRUE, TRUE);
  else if (g_str_equal (name, "win.restart"))
    il_session_restart (self->session);
  else if (g_str_equal (name, "win.go-to-end"))
    il_session_seek (self->session, IL_ENGINE_MAX_TIME);
  else if (g_str_equal (name, "win.faster"))
    il_session_set_speed (self->session, il_session_get_speed (self->session) * 2);
  else if (g_str_equal (name, "win.slower"))
    il_session_set_speed (self->session, il_session_get_speed (self->session) / 2);
  else if (g_str_equal (name, "win.zoom-in"))
    il_timeline_zoom (IL_TIMELINE (self->timeline), 1 / 1.5);
  else if (g_str_equal (name, "win.zoom-out"))
    il_timeline_zoom (IL_TIMELINE (self->timeline), 1.5);
  else if (g_str_equal (name, "win.zoom-fit"))
    il_timeline_fit (IL_TIMELINE (self->timeline));
  else if (g_str_equal (name, "win.reveal-answer"))
    il_lesson_panel_reveal (IL_LESSON_PANEL (self->lesson_panel));
  else if (g_str_equal (name, "win.lessons"))
    gtk_menu_button_popup (GTK_MENU_BUTTON (self->lessons_button));
  else if (g_str_equal (name, "win.presenter"))
    il_window_set_presenter (self, !self->presenter);
  else if (g_str_equal (name, "win.leave-presenter"))
    il_window_set_presenter (self, FALSE);
  else if (g_str_equal (name, "win.more-cores") || g_str_equal (name, "win.fewer-cores"))
    gtk_spin_button_spin (GTK_SPIN_BUTTON (self->cores_spin),
                          g_str_equal (name, "win.more-cores") ? GTK_SPIN_STEP_FORWARD : GTK_SPIN_STEP_BACKWARD, 1);
  else if (g_str_equal (name, "win.compare"))
    il_window_set_comparing (self, !_il_window_comparing (self));
  else if (g_str_equal (name, "win.cancel-loading"))
    {
      if (self->loading_cancellable != NULL)
        g_cancellable_cancel (self->loading_cancellable);
      else if (il_session_get_simulating (self->session))
        il_session_cancel_simulation (self->session);
    }
  else if (g_str_equal (name, "win.side-panel"))
    adw_flap_set_reveal_flap (ADW_FLAP (self->flap), !adw_flap_get_reveal_flap (ADW_FLAP (self->flap)));
}

static void
action_mode (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  IlWindow *self = IL_WINDOW (widget);
  IlMode mode;

  if (param != NULL && il_mode_from_string (g_variant_get_string (param, NULL), &mode))
    {
      IlRunConfig config = *il_session_get_config (self->session);
      config.mode = mode;
      _il_window_apply_config (self, &config);
    }
}

gboolean
_il_window_comparing (IlWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->main_stack)), "compare") == 0;
}

void
_il_window_refresh_compare (IlWindow *self)
{
  const IlScenario *scenario = il_session_get_scenario (self->session);
  guint32 modes;

  if (scenario == NULL || !il_session_is_live (self->session))
    return;
  /* The lesson's own modes when it names several, else all five. */
  modes = scenario->modes_mask;
  if ((modes & (modes - 1)) == 0)
    modes = IL_MODE_MASK_ALL;
  _il_window_update_compare_numbers (self);
  il_compare_view_set_scenario (IL_COMPARE_VIEW (self->compare_view), scenario,
                                il_session_get_config (self->session), modes);
}

/* A lesson's question is answered by the numbers: they wait for the reveal. */
void
_il_window_update_compare_numbers (IlWindow *self)
{
  const IlScenario *scenario = il_session_get_scenario (self->session);
  gboolean hidden = scenario != NULL && scenario->question != NULL && scenario->answer != NULL
                    && !il_lesson_panel_get_revealed (IL_LESSON_PANEL (self->lesson_panel));

  il_compare_view_set_numbers_hidden (IL_COMPARE_VIEW (self->compare_view), hidden);
}

void
il_window_set_comparing (IlWindow *self,
                         gboolean  compare)
{
  g_return_if_fail (IL_IS_WINDOW (self));
  if (compare && !il_session_is_live (self->session))
    compare = FALSE;
  if (compare)
    _il_window_refresh_compare (self);
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), compare ? "compare" : "timeline");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->compare_button), compare);
}

IlCompareView *
il_window_get_compare_view (IlWindow *self)
{
  return IL_COMPARE_VIEW (self->compare_view);
}

IlLessonPanel *
il_window_get_lesson_panel (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return IL_LESSON_PANEL (self->lesson_panel);
}

void
_il_window_class_actions_init (IlWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char *transport[] = {
    "win.play-pause", "win.step-forward", "win.step-back", "win.step-gil-forward", "win.step-gil-back",
    "win.restart", "win.go-to-end", "win.faster", "win.slower", "win.zoom-in", "win.zoom-out",
    "win.zoom-fit", "win.reveal-answer", "win.lessons", "win.presenter", "win.leave-presenter",
    "win.more-cores", "win.fewer-cores", "win.side-panel", "win.cancel-loading", "win.compare",
  };
  for (guint i = 0; i < G_N_ELEMENTS (transport); i++)
    gtk_widget_class_install_action (widget_class, transport[i], NULL, action_transport);
  gtk_widget_class_install_action (widget_class, "win.open", NULL, _il_window_action_open);
#ifdef IL_HAVE_TRACE_FORMATS
  gtk_widget_class_install_action (widget_class, "win.save", NULL, _il_window_action_save);
  gtk_widget_class_install_action (widget_class, "win.import-details", NULL, _il_window_action_import_details);
#endif
  gtk_widget_class_install_action (widget_class, "win.export", NULL, _il_window_action_export);
  gtk_widget_class_install_action (widget_class, "win.set-mode", "s", action_mode);
}
