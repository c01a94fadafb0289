/* il-window.c — the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Header bar (lessons, open, menu), a transport bar (mode, play/step,
 * speed, cores/workers/switch interval), the timeline with its legend, and
 * a side panel with the lesson, live statistics and the selection's story.
 * Every control is also a window action with a keyboard shortcut.
 */
#include <math.h>

#include "il-chrome.h"
#include "il-slice-legend.h"
#include "il-trace-intervals.h"
#include "il-window-private.h"

G_DEFINE_FINAL_TYPE (IlWindow, il_window, ADW_TYPE_APPLICATION_WINDOW)

/* ------------------------------------------------------------- helpers */

void
_il_window_show_error (IlWindow   *self,
                       const char *heading,
                       const char *message)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

/* "Saved run.itrace", "Exported timeline.png". */
void
_il_window_toast_file (IlWindow   *self,
                       const char *verb,
                       const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *msg = g_strdup_printf ("%s %s", verb, base);

  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (msg));
}

static void
update_time_label (IlWindow *self)
{
  gboolean known;
  gint64 extent = il_session_get_extent (self->session, &known);
  g_autofree char *now = il_format_duration (il_session_get_now (self->session));
  g_autofree char *end = il_format_duration (extent);
  g_autofree char *text = g_strdup_printf ("%s / %s%s", now, end, known ? "" : "…");

  gtk_label_set_text (GTK_LABEL (self->time_label), text);
  gtk_label_set_text (GTK_LABEL (self->clock_label), text);
}

static void
update_error (IlWindow *self)
{
  const GError *error = il_session_get_error (self->session);

  if (error != NULL)
    gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->error_revealer), error != NULL);
}

/* Every value the window applies, from a control, an action or the saved
 * session, passes the one validator first: a configuration the engine
 * cannot run (a zero time slice would never advance) gets a message, not
 * a run.  FALSE when it was refused. */
gboolean
_il_window_apply_config (IlWindow          *self,
                         const IlRunConfig *config)
{
  g_autoptr(GError) error = NULL;

  if (!il_run_config_validate (config, IL_PARAM_KEYS_JSON, &error))
    {
      _il_window_show_error (self, "Cannot use these settings", error->message);
      _il_window_sync_controls (self);
      return FALSE;
    }
  il_session_set_config (self->session, config);
  _il_window_sync_controls (self);
  return TRUE;
}

/* A spin button's limits and tooltip come from the parameter table, the
 * same the scenario reader and the CLI check against (times in
 * milliseconds, the table's unit and the spin button's). */
static void
setup_param_spin (GtkWidget  *spin,
                  const char *key,
                  const char *shortcut)
{
  const IlParamInfo *param = il_param_find (key);
  g_autofree char *tooltip = NULL;
  GList *labels;

  g_assert (param != NULL);
  tooltip = shortcut != NULL ? g_strdup_printf ("%s (%s)", param->description, shortcut)
                             : g_strdup (param->description);
  if (param->type == IL_PARAM_TIME)
    /* Enough digits to show the smallest value allowed. */
    gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin),
                                (guint) CLAMP (ceil (-log10 (MAX (param->min, 1e-9)) - 1e-9), 1, 3));
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (spin), param->min, param->max);
  gtk_widget_set_tooltip_text (spin, tooltip);
  labels = gtk_widget_list_mnemonic_labels (spin);
  for (GList *l = labels; l != NULL; l = l->next)
    gtk_widget_set_tooltip_text (l->data, tooltip);
  g_list_free (labels);
}

void
_il_window_sync_controls (IlWindow *self)
{
  const IlRunConfig *config = il_session_get_config (self->session);
  const IlScenario *scenario = il_session_get_scenario (self->session);
  gboolean live = il_session_is_live (self->session);
  g_autofree char *subtitle = NULL;

  self->updating = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->mode_dropdown), config->mode);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->cores_spin), config->cores);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->workers_spin), config->workers);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->interval_spin), config->switch_interval / 1e6);
  self->updating = FALSE;

  /* A recording has no simulated mode or machine: showing "Sequential"
   * for it would be untrue. */
  gtk_widget_set_visible (self->mode_label, live);
  gtk_widget_set_visible (self->mode_dropdown, live);
  gtk_widget_set_visible (self->machine_button, live);
  if (live)
    {
      /* The popover's button says what is set: "2 cores · 3 workers". */
      g_autofree char *machine = NULL;
      if (config->workers > 0)
        machine = g_strdup_printf ("%u %s · %u %s", config->cores, config->cores == 1 ? "core" : "cores",
                                   config->workers, config->workers == 1 ? "worker" : "workers");
      else
        machine = g_strdup_printf ("%u %s", config->cores, config->cores == 1 ? "core" : "cores");
      gtk_menu_button_set_label (GTK_MENU_BUTTON (self->machine_button), machine);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.compare", live);

  if (live)
    subtitle = g_strdup_printf ("%s · %u cores", il_mode_to_label (config->mode), config->cores);
  else if (self->trace_file != NULL && self->trace_file_serial == il_session_get_serial (self->session))
    subtitle = g_strdup (self->trace_file);
  else
    {
      IlTrace *trace = il_session_get_trace (self->session);
      subtitle = g_strdup (trace != NULL && trace->source != NULL ? trace->source : "Recorded trace");
    }
  adw_window_title_set_title (self->title, scenario != NULL && scenario->title != NULL
                                           ? scenario->title : "Interleave");
  adw_window_title_set_subtitle (self->title, subtitle);
}

/* ----------------------------------------------------------- the story */

/* A recorded slice's call stack: the slices open on its lane when it
 * began, outermost first (what a profiler's flame graph stacks). */
static void
append_slice_stack (GString               *text,
                    IlTrace               *trace,
                    const IlTraceInterval *hit)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, hit->lane);
  const guint32 *v = idx->data;
  guint32 stack[64];
  guint depth = 0;

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = v[i];

      if (trace->kind[e] == IL_EVENT_SLICE_BEGIN)
        {
          guint d = MIN (trace->aux[e], G_N_ELEMENTS (stack) - 1);
          stack[d] = trace->arg[e];
          depth = d + 1;
        }
      else if (trace->kind[e] == IL_EVENT_SLICE_END)
        depth = MIN (depth, (guint) trace->aux[e]);
      if (e == hit->event)
        break;
    }
  if (depth == 0)
    return;
  g_string_append (text, "Stack, outermost first:\n");
  for (guint d = 0; d < depth; d++)
    g_string_append_printf (text, "%*s%s\n", (int) (2 * d + 2), "", il_trace_get_string (trace, stack[d]));
  g_string_append_c (text, '\n');
}

/* An imported slice's args (what a profiler such as VizTracer recorded
 * for the call) and its return value, read again from the file. */
static void
append_slice_args (GString               *text,
                   IlTrace               *trace,
                   const IlTraceInterval *hit)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = il_chrome_slice_args (trace, hit->event, &error);
  g_autofree char *lines = NULL, *returned = NULL;

  if (error != NULL)
    {
      g_string_append_printf (text, "Arguments: not available (%s)\n\n", error->message);
      return;
    }
  if (json == NULL)
    return;
  lines = il_chrome_args_describe (json, &returned);
  if (lines == NULL)
    return;
  if (lines[0] != '\0')
    {
      g_auto(GStrv) each = g_strsplit (lines, "\n", -1);
      g_string_append (text, "Arguments:\n");
      for (guint i = 0; each[i] != NULL; i++)
        if (each[i][0] != '\0')
          g_string_append_printf (text, "  %s\n", each[i]);
    }
  if (returned != NULL)
    g_string_append_printf (text, "Returned: %s\n", returned);
  g_string_append_c (text, '\n');
}

static void
update_details (IlWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->details_view));
  IlTrace *trace = il_session_get_trace (self->session);
  g_autoptr(GString) text = g_string_new (NULL);
  IlTraceInterval hit;

  if (trace == NULL || !il_timeline_get_selection (IL_TIMELINE (self->timeline), &hit))
    {
      gtk_text_buffer_set_text (buffer, "Click an interval in the timeline to see what happened there, "
                                        "and the whole story of its lane.", -1);
      return;
    }

  {
    g_autofree char *what = il_format_interval (trace, &hit);
    g_string_append (text, what);
    g_string_append (text, "\n\n");
  }

  if (il_trace_lane_has_slices (trace, hit.lane) && hit.event < trace->n_events
      && trace->kind[hit.event] == IL_EVENT_SLICE_BEGIN)
    {
      append_slice_args (text, trace, &hit);
      append_slice_stack (text, trace, &hit);
    }

  if (!il_trace_lane_has_slices (trace, hit.lane)
      && (il_trace_get_lane (trace, hit.lane)->kind == IL_LANE_TASK
          || il_trace_get_lane (trace, hit.lane)->kind == IL_LANE_THREAD))
    {
      IlIntervalIter iter;
      IlInterval iv;
      guint shown = 0;

      g_string_append_printf (text, "The story of %s:\n", il_trace_get_lane (trace, hit.lane)->name);
      /* A thread's or task's intervals are its states, up to now. */
      il_interval_iter_init (&iter, trace, hit.lane, il_session_get_now (self->session));
      while (shown < 400 && il_interval_iter_next (&iter, &iv))
        {
          g_autofree char *at = NULL, *length = NULL;

          at = il_format_duration (iv.start);
          length = il_format_duration (iv.end - iv.start);
          g_string_append_printf (text, "%10s  %-22s %s", at, il_state_to_string (iv.value),
                                  iv.value == IL_STATE_DONE ? "" : length);
          if (iv.aux != IL_CAUSE_NONE)
            {
              g_string_append_printf (text, "  (%s", il_cause_to_string (iv.aux));
              if (iv.arg != IL_NO_LANE && iv.arg != hit.lane && iv.arg < il_trace_get_n_lanes (trace))
                g_string_append_printf (text, ": %s", il_trace_get_lane (trace, iv.arg)->name);
              g_string_append_c (text, ')');
            }
          g_string_append_c (text, '\n');
          shown++;
        }
      if (shown == 400)
        g_string_append (text, "…\n");
    }
  gtk_text_buffer_set_text (buffer, text->str, -1);
}

/* A click on a slice asks what happened there: show the answer. */
static void
on_selection_changed (IlWindow *self)
{
  IlTraceInterval hit;

  if (il_timeline_get_selection (IL_TIMELINE (self->timeline), &hit))
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "details");
}

/* ------------------------------------------------------------- session */

static void update_legend (IlWindow *self);

static void
on_session_progressed (IlWindow *self)
{
  update_time_label (self);
  update_error (self);
  update_legend (self);
}

/* The legend explains the simulation's states and marks; a recording of
 * slices (a Chrome or VizTracer trace) has none of them, even on lanes
 * with no slices (a GPU stream of instants and flows). */
static gboolean
trace_has_states (IlTrace *trace)
{
  for (guint32 i = 0; trace != NULL && i < il_trace_get_n_lanes (trace); i++)
    {
      IlLaneKind kind = il_trace_get_lane (trace, i)->kind;
      const IlLaneIndex *idx = il_trace_get_lane_events (trace, i);

      if (kind != IL_LANE_TASK && kind != IL_LANE_THREAD)
        continue;
      for (guint p = 0; p < idx->len; p++)
        if (trace->kind[idx->data[p]] == IL_EVENT_STATE)
          return TRUE;
    }
  return FALSE;
}

static void
on_session_trace_changed (IlWindow *self)
{
  if (_il_window_comparing (self))
    {
      if (il_session_is_live (self->session))
        _il_window_refresh_compare (self);
      else
        il_window_set_comparing (self, FALSE);
    }
  _il_window_sync_controls (self);
  update_time_label (self);
  update_error (self);
  update_legend (self);
}

static void
on_playing_changed (IlWindow *self)
{
  gboolean playing = il_session_get_playing (self->session);

  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (self->play_button, playing ? "Pause (Space)" : "Play (Space)");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  playing ? "Pause" : "Play", -1);
  if (playing)
    il_timeline_set_follow (IL_TIMELINE (self->timeline), TRUE);
}

/* ---------------------------------------------------------------- speed */

/* The speed scale is logarithmic: -4 … 0 → 0.0001× … 1×. */
static void
on_speed_scale_changed (IlWindow *self)
{
  if (self->updating)
    return;
  il_session_set_speed (self->session, pow (10, gtk_range_get_value (GTK_RANGE (self->speed_scale))));
}

static void
on_speed_changed (IlWindow *self)
{
  double speed = il_session_get_speed (self->session);
  g_autofree char *text = speed >= 0.01 ? g_strdup_printf ("%.2g×", speed) : g_strdup_printf ("%.1g×", speed);

  self->updating = TRUE;
  gtk_range_set_value (GTK_RANGE (self->speed_scale), log10 (speed));
  self->updating = FALSE;
  gtk_label_set_text (GTK_LABEL (self->speed_label), text);
}

/* ------------------------------------------------------------- controls */

static void
on_mode_selected (IlWindow *self)
{
  guint mode = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->mode_dropdown));

  IlRunConfig config;

  if (self->updating || mode >= IL_N_MODES)
    return;
  config = *il_session_get_config (self->session);
  config.mode = (IlMode) mode;
  _il_window_apply_config (self, &config);
}

static void
on_spin_changed (GtkSpinButton *spin,
                 IlWindow      *self)
{
  IlRunConfig config;

  if (self->updating)
    return;
  config = *il_session_get_config (self->session);
  if (GTK_WIDGET (spin) == self->cores_spin)
    config.cores = (guint) gtk_spin_button_get_value_as_int (spin);
  else if (GTK_WIDGET (spin) == self->workers_spin)
    config.workers = (guint) gtk_spin_button_get_value_as_int (spin);
  else
    config.switch_interval = (gint64) llround (gtk_spin_button_get_value (spin) * 1e6);
  _il_window_apply_config (self, &config);
}


/* --------------------------------------------------------------- legend */

/* The legend's type: the timeline's in presenter mode (fitted to the
 * screen), else the plain theme's, not the grown lanes' (grow_lanes in
 * il-timeline.c): a legend in 15 px type took five rows of a 720 px
 * screen from the lanes it explains. */
static const IlTheme *
legend_theme (IlWindow *self)
{
  const IlTheme *theme = il_timeline_get_theme (IL_TIMELINE (self->timeline));

  return theme->kind == IL_THEME_PRESENTER ? theme : il_theme_get (theme->kind);
}

/* The legend's height for width, drawn on cr (NULL: only measured). A
 * simulation or recording lists the states and marks it shows; an imported
 * trace, which has no states, the names its time goes to. */
static double
legend_draw (IlWindow *self,
             cairo_t  *cr,
             int       width)
{
  if (self->n_legend_names > 0)
    return il_slice_legend_draw (cr, legend_theme (self), il_session_get_trace (self->session),
                                 self->legend_names, self->n_legend_names, 12, 4, width - 24);
  return il_render_legend (cr, legend_theme (self), 12, 4, width - 24, &self->legend_items);
}

/* The legend lists what the trace in view shows, nothing else (an asyncio
 * lesson has no process start-up), and grows as a live run adds more: it
 * is redrawn and resized only when its items change, never on every step
 * of the run, so it does not flicker.  The one place that decides what the
 * legend says for a trace. */
static void
update_legend (IlWindow *self)
{
  IlTrace *trace = il_session_get_trace (self->session);
  int width = gtk_widget_get_width (self->legend);
  /* The items say nothing of an imported trace's slices (it has no
   * states): a new trace always gets its names ranked anew. */
  gboolean new_trace = self->legend_items.trace != trace;
  gboolean has_states;

  if (!il_legend_update (&self->legend_items, trace) && !new_trace && trace != NULL)
    return;
  has_states = trace_has_states (trace);
  self->n_legend_names = 0;
  if (trace != NULL && !has_states)
    self->n_legend_names = il_slice_lod_top_names (il_timeline_get_slice_lod (IL_TIMELINE (self->timeline)), trace,
                                                   self->legend_names, G_N_ELEMENTS (self->legend_names));
  gtk_widget_set_visible (self->legend,
                          (has_states && self->legend_items.items != 0) || self->n_legend_names > 0);
  if (width > 24)
    {
      /* The height before the first draw, not a frame after it. */
      double needed = legend_draw (self, NULL, width);
      gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->legend), (int) needed + 8);
    }
  gtk_widget_queue_draw (self->legend);
}

static void
draw_legend (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  IlWindow *self = data;
  double needed;

  il_theme_set_source (cr, &legend_theme (self)->background);
  cairo_paint (cr);
  needed = legend_draw (self, cr, width);
  if ((int) needed + 8 != gtk_drawing_area_get_content_height (area))
    gtk_drawing_area_set_content_height (area, (int) needed + 8);
}

/* A long simulation in the background: after half a second, say so, with a
 * pulsing bar and Cancel (the run then plays on, simulated as it goes). */
static gboolean
busy_pulse_cb (gpointer data)
{
  IlWindow *self = data;

  if (!il_session_get_simulating (self->session) || self->loading_cancellable != NULL)
    {
      self->busy_id = 0;
      if (self->loading_cancellable == NULL)
        gtk_revealer_set_reveal_child (GTK_REVEALER (self->loading_revealer), FALSE);
      return G_SOURCE_REMOVE;
    }
  if (!gtk_revealer_get_reveal_child (GTK_REVEALER (self->loading_revealer)))
    {
      gtk_label_set_text (GTK_LABEL (self->loading_label), "Simulating the whole run…");
      gtk_revealer_set_reveal_child (GTK_REVEALER (self->loading_revealer), TRUE);
    }
  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->loading_bar));
  return G_SOURCE_CONTINUE;
}

static gboolean
busy_start_cb (gpointer data)
{
  IlWindow *self = data;

  self->busy_id = g_timeout_add (100, busy_pulse_cb, self);
  return G_SOURCE_REMOVE;
}

static void
on_simulating_changed (IlWindow *self)
{
  if (il_session_get_simulating (self->session))
    {
      if (self->busy_id == 0)
        self->busy_id = g_timeout_add (500, busy_start_cb, self);
    }
  else if (self->busy_id != 0)
    {
      /* Let the pulse callback tidy up on its next turn. */
    }
}

/* ------------------------------------------------------------- scrubber */

static void
update_scrubber (IlWindow *self)
{
  gint64 extent = il_session_get_extent (self->session, NULL);

  self->updating = TRUE;
  gtk_range_set_range (GTK_RANGE (self->scrubber), 0, MAX (extent, 1) / 1e6);
  gtk_range_set_value (GTK_RANGE (self->scrubber), il_session_get_now (self->session) / 1e6);
  self->updating = FALSE;
}

static void
on_scrubbed (IlWindow *self)
{
  if (self->updating)
    return;
  il_session_seek (self->session, (gint64) (gtk_range_get_value (GTK_RANGE (self->scrubber)) * 1e6));
}


/* ------------------------------------------------------------ shortcuts */

static gboolean
forward_to_timeline (GtkWidget *widget,
                     GVariant  *args,
                     gpointer   data)
{
  IlWindow *self = IL_WINDOW (widget);

  if (_il_window_comparing (self))
    return FALSE;
  return gtk_widget_activate_action (self->timeline, data, NULL);
}

/* The timeline's keys (+ − 0 and the arrows) work wherever the focus is,
 * not only after a click on the timeline: the controller sits on the window
 * in the bubble phase, so a focused entry or spin button still gets its
 * digits and arrows first. */
static void
add_timeline_shortcuts (IlWindow *self)
{
  static const struct {
    guint       key;
    const char *action;
  } keys[] = {
    { GDK_KEY_plus, "timeline.zoom-in" }, { GDK_KEY_equal, "timeline.zoom-in" },
    { GDK_KEY_KP_Add, "timeline.zoom-in" }, { GDK_KEY_minus, "timeline.zoom-out" },
    { GDK_KEY_KP_Subtract, "timeline.zoom-out" }, { GDK_KEY_0, "timeline.zoom-fit" },
    { GDK_KEY_KP_0, "timeline.zoom-fit" },
    { GDK_KEY_Left, "timeline.pan-left" }, { GDK_KEY_Right, "timeline.pan-right" },
    { GDK_KEY_Up, "timeline.scroll-up" }, { GDK_KEY_Down, "timeline.scroll-down" },
  };
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_BUBBLE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].key, 0),
                                                            gtk_callback_action_new (forward_to_timeline,
                                                                                     (gpointer) keys[i].action,
                                                                                     NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

/* ----------------------------------------------------------- construction */

static GMenuModel *
build_primary_menu (void)
{
  GMenu *menu = g_menu_new ();
  GMenu *file = g_menu_new ();
  GMenu *view = g_menu_new ();
  GMenu *help = g_menu_new ();
  g_autoptr(GMenuModel) record = _il_window_record_menu_section ();

  g_menu_append (file, "_Open…", "win.open");
#ifdef IL_HAVE_TRACE_FORMATS
  g_menu_append (file, "_Save Trace…", "win.save");
#endif
  g_menu_append (file, "_Export Image…", "win.export");
  g_menu_append (view, "_Presenter Mode", "win.presenter");
  g_menu_append (view, "Side _Panel", "win.side-panel");
  g_menu_append (help, "_Keyboard Shortcuts", "win.show-help-overlay");
  g_menu_append (help, "_About Interleave", "app.about");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (file));
  g_menu_append_section (menu, NULL, record);
  g_menu_append_section (menu, NULL, G_MENU_MODEL (view));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (help));
  g_object_unref (file);
  g_object_unref (view);
  g_object_unref (help);
  return G_MENU_MODEL (menu);
}

static void
il_window_dispose (GObject *object)
{
  IlWindow *self = IL_WINDOW (object);

  if (self->loading_cancellable != NULL)
    g_cancellable_cancel (self->loading_cancellable);
  g_clear_object (&self->loading_cancellable);
  g_clear_handle_id (&self->busy_id, g_source_remove);
  if (self->save_id != 0)
    {
      /* Closing saves at once what would have been saved a moment later. */
      g_clear_handle_id (&self->save_id, g_source_remove);
      _il_window_save_session_cb (self);
    }
  if (self->session != NULL)
    il_session_set_playing (self->session, FALSE);
  _il_window_record_dispose (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), IL_TYPE_WINDOW);
  G_OBJECT_CLASS (il_window_parent_class)->dispose (object);
}

static void
il_window_finalize (GObject *object)
{
  IlWindow *self = IL_WINDOW (object);

  g_clear_object (&self->session);
  il_legend_clear (&self->legend_items);
  g_clear_pointer (&self->lessons, g_ptr_array_unref);
  g_clear_pointer (&self->lesson_names, g_ptr_array_unref);
  g_free (self->source_lesson);
  g_free (self->source_file);
  g_free (self->import_explanation);
  g_free (self->trace_file);
  G_OBJECT_CLASS (il_window_parent_class)->finalize (object);
}

static void
il_window_class_init (IlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = il_window_dispose;
  object_class->finalize = il_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/interleave/Interleave/ui/il-window.ui");
  gtk_widget_class_bind_template_child (widget_class, IlWindow, title);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, header);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, toolbar);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, lessons_button);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, mode_label);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, mode_dropdown);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, time_label);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, clock_label);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, side_box);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, speed_scale);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, speed_label);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, cores_spin);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, workers_spin);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, interval_spin);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, scrubber);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, loading_revealer);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, loading_bar);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, side_button);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, machine_button);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, compare_button);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, timeline_box);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, legend);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, side_stack);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, lesson_bin);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, stats_scroller);
  gtk_widget_class_bind_template_child (widget_class, IlWindow, details_view);
  gtk_widget_class_bind_template_callback (widget_class, on_mode_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_speed_scale_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_spin_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_scrubbed);

  _il_window_class_actions_init (klass);
}

static void
il_window_init (IlWindow *self)
{
  GtkDropTarget *drop;
  GtkEventController *keys;
  g_autoptr(GMenuModel) menu = build_primary_menu ();

  /* Before the template: its signal handlers read the session. */
  self->session = il_session_new ();
  self->updating = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  setup_param_spin (self->cores_spin, "cores", "Ctrl+Up / Ctrl+Down");
  setup_param_spin (self->workers_spin, "workers", NULL);
  setup_param_spin (self->interval_spin, "switch_interval", NULL);
  self->updating = FALSE;

  self->lessons = g_ptr_array_new_with_free_func ((GDestroyNotify) il_scenario_unref);
  self->lesson_names = g_ptr_array_new_with_free_func (g_free);
  _il_window_load_lessons (self);

  gtk_menu_button_set_popover (GTK_MENU_BUTTON (self->lessons_button), _il_window_build_lessons_popover (self));
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->menu_button), menu);

  /* The widgets that show the session, in the places the template left. */
  self->timeline = il_timeline_new (self->session);
  gtk_box_prepend (GTK_BOX (self->timeline_box), self->timeline);
  g_object_bind_property (self->flap, "reveal-flap", self->side_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->legend), draw_legend, self, NULL);
  self->compare_view = il_compare_view_new ();
  gtk_stack_add_named (GTK_STACK (self->main_stack), self->compare_view, "compare");
  self->lesson_panel = il_lesson_panel_new (self->session);
  adw_bin_set_child (ADW_BIN (self->lesson_bin), self->lesson_panel);
  self->stats_panel = il_stats_panel_new (self->session);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->stats_scroller), self->stats_panel);
  _il_window_teach_init (self);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (_il_window_on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  add_timeline_shortcuts (self);
  gtk_window_set_focus (GTK_WINDOW (self), self->timeline);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (_il_window_on_presenter_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);

  g_signal_connect_object (self->session, "progressed", G_CALLBACK (on_session_progressed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "trace-changed", G_CALLBACK (on_session_trace_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "extent-known", G_CALLBACK (update_time_label), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::playing", G_CALLBACK (on_playing_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::speed", G_CALLBACK (on_speed_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::simulating", G_CALLBACK (on_simulating_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->timeline, "selection-changed", G_CALLBACK (update_details), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->timeline, "selection-changed", G_CALLBACK (on_selection_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->lesson_panel, "notify::revealed", G_CALLBACK (_il_window_update_compare_numbers),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progressed", G_CALLBACK (update_details), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progressed", G_CALLBACK (update_scrubber), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "extent-known", G_CALLBACK (update_scrubber), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progressed", G_CALLBACK (_il_window_queue_save_session), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "trace-changed", G_CALLBACK (_il_window_queue_save_session), self, G_CONNECT_SWAPPED);

  _il_window_record_init (self);
  on_speed_changed (self);
  update_details (self);
  if (self->lessons->len > 0)
    _il_window_show_scenario (self, g_ptr_array_index (self->lessons, 0));
}

IlWindow *
il_window_new (AdwApplication *app)
{
  return g_object_new (IL_TYPE_WINDOW, "application", app, NULL);
}

IlSession *
il_window_get_session (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return self->session;
}

IlTimeline *
il_window_get_timeline (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return IL_TIMELINE (self->timeline);
}
