/* il-window-record.c — recording real programs, Simulate This, calibration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Kept apart from the rest of the window (its state hangs off
 * IlWindow.record) so the window's own files need only a few hooks: the
 * init and dispose calls, the menu section and the accelerators.
 *
 * Live recording: the program's recording is rebuilt as it grows
 * (il-live-recording.c) and shown with il_session_set_trace(), so it draws
 * with the lanes a simulation has; the view follows "now" as a simulation
 * playing at 1× does: the whole run while it is short, then its last ten
 * seconds.  When the program ends the recording is saved at once to the
 * user's data folder (atomically, as every save) and stays open; Save
 * (Ctrl+S) writes it elsewhere.
 */
#include <string.h>

#include "il-derive.h"
#include "il-record-dialog.h"
#include "il-record-run.h"
#include "il-recording.h"
#include "il-trace-io.h"
#include "il-window-private.h"
#include "il-window-record.h"

#define FOLLOW_SPAN     IL_MSEC (10000)
#define CALIBRATE_S     8.0

typedef struct _IlWindowRecord IlWindowRecord;

struct _IlWindowRecord
{
  IlWindow        *window;
  IlLiveRecording *live;
  GtkWidget       *revealer;
  GtkWidget       *spinner;
  GtkWidget       *label;
  GtkWidget       *stop_button;
  GtkWidget       *output;        /* GtkTextView */
  guint            clock_id;
  guint            shown_serial;  /* the session's serial when it last showed the recording */
  char            *saved_path;

  IlCalibration   *calibration;
  gboolean         reference;     /* the user chose the reference values */
  GCancellable    *calibrating;
  guint            calibrate_pulse_id;
  gint64           calibrate_started;
};

static IlWindowRecord *
get_record (IlWindow *self)
{
  g_assert (self->record != NULL);
  return self->record;
}

static void
set_enabled (IlWindow   *self,
             const char *name,
             gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);
  if (action != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static gboolean
showing_recording (IlWindow *self)
{
  IlTrace *trace = il_session_get_trace (self->session);
  return !il_session_is_live (self->session) && trace != NULL && trace->recording != NULL;
}

/* ------------------------------------------------------------ parameters */

static void
update_params_source (IlWindow *self)
{
  IlWindowRecord *rec = get_record (self);
  g_autofree char *text = NULL;

  if (showing_recording (self))
    {
      g_autofree char *version = il_recording_meta_get (il_session_get_trace (self->session), "python");
      text = g_strdup_printf ("A real run, recorded with CPython %s", version != NULL ? version : "(unknown)");
    }
  else if (rec->calibration != NULL && !rec->reference)
    {
      g_autofree char *how = il_calibration_describe (rec->calibration);
      text = g_strdup_printf ("Model costs: %s", how);
    }
  else
    text = g_strdup ("Model costs: reference values");
  il_stats_panel_set_params_source (IL_STATS_PANEL (self->stats_panel), text);
}

/* The parameters a simulation in the window uses: the scenario's own, with
 * the calibration in place of the reference values unless turned off. */
static void
params_for (IlWindow         *self,
            const IlScenario *scenario,
            IlParams         *params)
{
  IlWindowRecord *rec = get_record (self);
  IlRunConfig fresh;

  memset (&fresh, 0, sizeof fresh);
  il_run_config_from_scenario (&fresh, scenario);
  *params = fresh.params;
  if (rec->calibration != NULL && !rec->reference)
    il_calibration_apply (rec->calibration, params);
}

/* Sets the calibrated parameters on the session's run when they differ
 * from what it uses; only they are compared, so this settles at once. */
static void
apply_params (IlWindow *self)
{
  const IlScenario *scenario = il_session_get_scenario (self->session);
  const IlCalibratedParam *ps;
  IlRunConfig config;
  IlParams want;
  gboolean differ = FALSE;
  guint n;

  update_params_source (self);
  if (scenario == NULL || !il_session_is_live (self->session))
    return;
  config = *il_session_get_config (self->session);
  params_for (self, scenario, &want);
  ps = il_calibration_params (&n);
  for (guint i = 0; i < n; i++)
    {
      gint64 *have = (gint64 *) (gpointer) ((guint8 *) &config.params + ps[i].offset);
      gint64 wanted = *(const gint64 *) (gconstpointer) ((const guint8 *) &want + ps[i].offset);
      if (*have != wanted)
        {
          *have = wanted;
          differ = TRUE;
        }
    }
  if (differ)
    il_session_set_config (self->session, &config);
}

const char *
il_window_get_params_source (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return il_stats_panel_get_value (IL_STATS_PANEL (self->stats_panel), "params-source");
}

void
il_window_set_calibration (IlWindow      *self,
                           IlCalibration *calibration)
{
  IlWindowRecord *rec;

  g_return_if_fail (IL_IS_WINDOW (self));
  rec = get_record (self);
  g_clear_pointer (&rec->calibration, il_calibration_free);
  rec->calibration = calibration;
  apply_params (self);
  if (_il_window_comparing (self) && il_session_is_live (self->session))
    _il_window_refresh_compare (self);
}

static void
action_reference_params (GSimpleAction *action,
                         GVariant      *state,
                         gpointer       data)
{
  IlWindow *self = data;

  g_simple_action_set_state (action, state);
  get_record (self)->reference = g_variant_get_boolean (state);
  il_window_set_calibration (self, g_steal_pointer (&get_record (self)->calibration));
}

/* ----------------------------------------------------------- calibration */

static gboolean
calibrate_pulse_cb (gpointer data)
{
  IlWindow *self = data;
  IlWindowRecord *rec = get_record (self);
  double s = (g_get_monotonic_time () - rec->calibrate_started) / 1e6;

  /* The probes do not report progress; their time budget is known. */
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->loading_bar), MIN (s / CALIBRATE_S, 0.99));
  return G_SOURCE_CONTINUE;
}

static void
calibrate_thread (GTask        *task,
                  gpointer      source,
                  gpointer      data,
                  GCancellable *cancellable)
{
  GError *error = NULL;
  IlCalibration *cal = il_calibration_measure (data, CALIBRATE_S, cancellable, &error);

  if (cal == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, cal, (GDestroyNotify) il_calibration_free);
}

static void
calibrate_done (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  IlWindow *self = IL_WINDOW (source);
  IlWindowRecord *rec = self->record;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlCalibration) cal = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *path = il_calibration_default_path ();

  if (rec == NULL)  /* the window was closed meanwhile */
    return;

  g_clear_handle_id (&rec->calibrate_pulse_id, g_source_remove);
  if (self->loading_cancellable == rec->calibrating)
    {
      g_clear_object (&self->loading_cancellable);
      gtk_revealer_set_reveal_child (GTK_REVEALER (self->loading_revealer), FALSE);
    }
  g_clear_object (&rec->calibrating);
  set_enabled (self, "calibrate", TRUE);

  if (cal == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _il_window_show_error (self, "Cannot calibrate this machine", error->message);
      return;
    }
  if (!il_calibration_save (cal, path, &error))
    {
      _il_window_show_error (self, "Cannot save the calibration", error->message);
      return;
    }
  {
    g_autofree char *how = il_calibration_describe (cal);
    g_autofree char *text = g_strdup_printf ("Simulations now use this machine's costs (%s)", how);
    adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
  }
  rec->reference = FALSE;
  g_action_change_state (g_action_map_lookup_action (G_ACTION_MAP (self), "reference-params"),
                         g_variant_new_boolean (FALSE));
  il_window_set_calibration (self, g_steal_pointer (&cal));
}

static void
action_calibrate (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       data)
{
  IlWindow *self = data;
  IlWindowRecord *rec = get_record (self);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) pythons = NULL;
  g_autofree char *recorder = il_record_find_recorder_dir ();
  char *python;

  if (rec->calibrating != NULL)
    return;
  /* The interpreter the user records with: the recorder's default. */
  pythons = il_record_list_interpreters (recorder);
  python = g_strdup (pythons->len > 0 ? g_ptr_array_index (pythons, 0) : "python3");

  if (self->loading_cancellable != NULL)
    g_cancellable_cancel (self->loading_cancellable);
  g_clear_object (&self->loading_cancellable);
  rec->calibrating = g_cancellable_new ();
  /* The window's progress bar and its Cancel (Escape) stop the probes. */
  self->loading_cancellable = g_object_ref (rec->calibrating);
  {
    g_autofree char *text = g_strdup_printf ("Calibrating this machine with %s (about %.0f s)…", python, CALIBRATE_S);
    gtk_label_set_text (GTK_LABEL (self->loading_label), text);
  }
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->loading_bar), 0);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->loading_revealer), TRUE);
  rec->calibrate_started = g_get_monotonic_time ();
  rec->calibrate_pulse_id = g_timeout_add (100, calibrate_pulse_cb, self);
  set_enabled (self, "calibrate", FALSE);

  task = g_task_new (self, rec->calibrating, calibrate_done, NULL);
  g_task_set_task_data (task, python, g_free);
  g_task_run_in_thread (task, calibrate_thread);
}

/* --------------------------------------------------------- simulate this */

gboolean
il_window_simulate_this (IlWindow  *self,
                         GError   **error)
{
  IlTrace *trace;
  g_autofree char *json = NULL;
  g_autofree char *version = NULL;
  g_autofree char *title = NULL;
  g_autofree char *program = NULL;
  g_autoptr(IlScenario) scenario = NULL;
  IlRunConfig config;
  guint32 modes;

  g_return_val_if_fail (IL_IS_WINDOW (self), FALSE);
  if (!showing_recording (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No recording of a real run is open.");
      return FALSE;
    }
  trace = il_session_get_trace (self->session);
  program = il_recording_meta_get (trace, "program");
  json = il_derive_scenario_json (trace, program != NULL ? program : "Recorded run", error);
  if (json == NULL)
    return FALSE;
  scenario = il_scenario_load_data (json, strlen (json), "the derived scenario", error);
  if (scenario == NULL)
    return FALSE;

  memset (&config, 0, sizeof config);
  il_run_config_from_scenario (&config, scenario);
  params_for (self, scenario, &config.params);
  modes = scenario->modes_mask;
  if ((modes & (modes - 1)) == 0)
    modes = IL_MODE_MASK_ALL;
  version = il_recording_meta_get (trace, "python");
  title = g_strdup_printf ("Recorded run (CPython %s)", version != NULL ? version : "?");
  il_compare_view_set_scenario (IL_COMPARE_VIEW (self->compare_view), scenario, &config, modes);
  /* No lesson's question waits for these numbers. */
  il_compare_view_set_numbers_hidden (IL_COMPARE_VIEW (self->compare_view), FALSE);
  il_compare_view_set_real_run (IL_COMPARE_VIEW (self->compare_view), trace, title);
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "compare");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->compare_button), TRUE);
  return TRUE;
}

static void
action_simulate_this (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       data)
{
  IlWindow *self = data;
  g_autoptr(GError) error = NULL;

  /* Compare (Ctrl+M) is for simulations; on a recording this action is
   * the way into the comparison and back out to the recording. */
  if (_il_window_comparing (self) && showing_recording (self))
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "timeline");
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->compare_button), FALSE);
      return;
    }
  if (!il_window_simulate_this (self, &error))
    _il_window_show_error (self, "Cannot simulate this recording", error->message);
}

/* ------------------------------------------------------------- recording */

static void
update_bar (IlWindow *self)
{
  IlWindowRecord *rec = get_record (self);
  IlTrace *trace;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;

  if (rec->live == NULL)
    return;
  trace = il_live_recording_get_trace (rec->live);
  name = g_path_get_basename (il_live_recording_get_program (rec->live));
  if (il_live_recording_get_running (rec->live))
    text = g_strdup_printf ("Recording %s — %.1f s, %" G_GSIZE_FORMAT " events", name,
                            il_live_recording_get_elapsed (rec->live), trace != NULL ? trace->n_events : 0);
  else if (rec->saved_path != NULL)
    text = g_strdup_printf ("%s ended (exit code %d) after %.1f s, %" G_GSIZE_FORMAT " events — saved as %s",
                            name, il_live_recording_get_exit_code (rec->live),
                            il_live_recording_get_elapsed (rec->live), trace != NULL ? trace->n_events : 0,
                            rec->saved_path);
  else
    text = g_strdup_printf ("%s ended (exit code %d) after %.1f s", name,
                            il_live_recording_get_exit_code (rec->live), il_live_recording_get_elapsed (rec->live));
  gtk_label_set_text (GTK_LABEL (rec->label), text);
}

static gboolean
clock_cb (gpointer data)
{
  update_bar (data);
  return G_SOURCE_CONTINUE;
}

/* Shows the trace so far, the view following its end. */
static void
show_live_trace (IlWindow *self)
{
  IlWindowRecord *rec = get_record (self);
  IlTrace *trace = il_live_recording_get_trace (rec->live);
  gint64 end, span;

  if (trace == NULL)
    return;
  /* The user opened something else meanwhile: leave it (the recording
   * still runs, and is saved and shown again when it ends). */
  if (rec->shown_serial != 0 && il_session_get_serial (self->session) != rec->shown_serial)
    {
      update_bar (self);
      return;
    }
  il_session_set_trace (self->session, trace, NULL);
  rec->shown_serial = il_session_get_serial (self->session);
  end = trace->end_time;
  span = end < FOLLOW_SPAN ? MAX (end + end / 20, IL_MSEC (100)) : FOLLOW_SPAN;
  il_timeline_set_time_range (IL_TIMELINE (self->timeline), MAX (0, end - span + span / 20), span);
  update_bar (self);
}

static void
on_live_output (IlLiveRecording *live,
                const char      *text,
                IlWindow        *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (get_record (self)->output));
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, text, -1);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_place_cursor (buffer, &end);
  gtk_text_view_scroll_to_mark (GTK_TEXT_VIEW (get_record (self)->output), gtk_text_buffer_get_insert (buffer),
                                0, FALSE, 0, 0);
}

/* $XDG_DATA_HOME/interleave/recordings/PROGRAM-YYYYMMDD-HHMMSS.itrace */
static char *
default_recording_path (const char *program)
{
  g_autofree char *base = g_path_get_basename (program);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "interleave", "recordings", NULL);
  g_autofree char *name = NULL;
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  name = g_strdup_printf ("%s-%s.itrace", base, stamp);
  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

static void
on_live_finished (IlLiveRecording *live,
                  IlWindow        *self)
{
  IlWindowRecord *rec = get_record (self);
  IlTrace *trace = il_live_recording_get_trace (live);
  const GError *failure = il_live_recording_get_error (live);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *first = NULL;

  g_clear_handle_id (&rec->clock_id, g_source_remove);
  gtk_spinner_stop (GTK_SPINNER (rec->spinner));
  gtk_widget_set_visible (rec->stop_button, FALSE);
  set_enabled (self, "record-python", TRUE);
  set_enabled (self, "stop-recording", FALSE);
  g_clear_pointer (&rec->saved_path, g_free);

  if (trace == NULL)
    {
      g_autofree char *message = g_strdup_printf ("%s: %s", il_live_recording_get_program (live),
                                                  failure != NULL ? failure->message : "nothing was recorded");
      update_bar (self);
      _il_window_show_error (self, "No recording", message);
      return;
    }
  rec->shown_serial = 0;
  show_live_trace (self);
  il_timeline_fit (IL_TIMELINE (self->timeline));
  first = g_strdup (il_live_recording_get_program (live));
  if (strchr (first, ' ') != NULL)
    *strchr (first, ' ') = '\0';
  path = default_recording_path (first);
  if (!il_trace_save (trace, NULL, path, &error))
    {
      _il_window_show_error (self, "Cannot save the recording", error->message);
    }
  else
    {
      AdwToast *toast = adw_toast_new ("Recording saved");
      adw_toast_set_button_label (toast, "Save _As…");
      adw_toast_set_action_name (toast, "win.save");
      adw_toast_overlay_add_toast (self->toasts, toast);
      rec->saved_path = g_steal_pointer (&path);
      _il_window_set_source (self, NULL, rec->saved_path);
      _il_window_queue_save_session (self);
    }
  if (failure != NULL)
    adw_toast_overlay_add_toast (self->toasts, adw_toast_new (failure->message));
  update_bar (self);
  update_params_source (self);
}

gboolean
il_window_record_python (IlWindow           *self,
                         const char         *python,
                         const char *const  *program_argv,
                         const char         *cwd,
                         GError            **error)
{
  IlWindowRecord *rec;
  IlLiveRecording *live;

  g_return_val_if_fail (IL_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (program_argv != NULL && program_argv[0] != NULL, FALSE);
  rec = get_record (self);
  if (rec->live != NULL && il_live_recording_get_running (rec->live))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "A program is being recorded already.");
      return FALSE;
    }
  live = il_live_recording_new (python, program_argv, cwd, error);
  if (live == NULL)
    return FALSE;
  if (rec->live != NULL)
    g_signal_handlers_disconnect_by_data (rec->live, self);
  g_clear_object (&rec->live);
  rec->live = live;
  g_clear_pointer (&rec->saved_path, g_free);
  rec->shown_serial = 0;
  g_signal_connect_object (live, "updated", G_CALLBACK (show_live_trace), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (live, "output", G_CALLBACK (on_live_output), self, 0);
  g_signal_connect_object (live, "finished", G_CALLBACK (on_live_finished), self, 0);

  il_window_set_comparing (self, FALSE);
  _il_window_set_source (self, NULL, NULL);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (rec->output)), "", 0);
  gtk_spinner_start (GTK_SPINNER (rec->spinner));
  gtk_widget_set_visible (rec->stop_button, TRUE);
  gtk_revealer_set_reveal_child (GTK_REVEALER (rec->revealer), TRUE);
  set_enabled (self, "record-python", FALSE);
  set_enabled (self, "stop-recording", TRUE);
  rec->clock_id = g_timeout_add (100, clock_cb, self);
  update_bar (self);
  return TRUE;
}

IlLiveRecording *
il_window_get_live_recording (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return get_record (self)->live;
}

const char *
il_window_get_recording_path (IlWindow *self)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  return get_record (self)->saved_path;
}

static void
on_dialog_start (IlRecordDialog *dialog,
                 const char     *python,
                 char          **argv,
                 const char     *cwd,
                 IlWindow       *self)
{
  g_autoptr(GError) error = NULL;

  if (!il_window_record_python (self, python, (const char *const *) argv, cwd, &error))
    _il_window_show_error (self, "Cannot record the program", error->message);
}

GtkWidget *
il_window_open_record_dialog (IlWindow *self)
{
  GtkWidget *dialog;

  g_return_val_if_fail (IL_IS_WINDOW (self), NULL);
  dialog = il_record_dialog_new (GTK_WINDOW (self));
  g_signal_connect_object (dialog, "start", G_CALLBACK (on_dialog_start), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
action_record_python (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       data)
{
  il_window_open_record_dialog (data);
}

static void
action_stop_recording (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       data)
{
  IlWindowRecord *rec = get_record (data);

  if (rec->live != NULL)
    il_live_recording_stop (rec->live);
}

static void
action_close_recording_bar (GSimpleAction *action,
                            GVariant      *param,
                            gpointer       data)
{
  gtk_revealer_set_reveal_child (GTK_REVEALER (get_record (data)->revealer), FALSE);
}

static void
on_trace_changed (IlWindow *self)
{
  set_enabled (self, "simulate-this", showing_recording (self));
  apply_params (self);
}

/* ----------------------------------------------------------------- hooks */

static GtkWidget *
build_bar (IlWindowRecord *rec)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");
  GtkWidget *expander = gtk_expander_new_with_mnemonic ("Program _output");
  GtkWidget *scroller = gtk_scrolled_window_new ();

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  rec->spinner = gtk_spinner_new ();
  rec->label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (rec->label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (rec->label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (rec->label, TRUE);
  gtk_widget_add_css_class (rec->label, "numeric");
  rec->stop_button = gtk_button_new_with_mnemonic ("_Stop");
  gtk_widget_add_css_class (rec->stop_button, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (rec->stop_button), "win.stop-recording");
  gtk_widget_set_tooltip_text (rec->stop_button, "Interrupt the program (SIGINT, then SIGTERM)");
  gtk_widget_add_css_class (close, "flat");
  gtk_widget_set_tooltip_text (close, "Hide");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (close), "win.close-recording-bar");
  gtk_box_append (GTK_BOX (row), rec->spinner);
  gtk_box_append (GTK_BOX (row), rec->label);
  gtk_box_append (GTK_BOX (row), rec->stop_button);
  gtk_box_append (GTK_BOX (row), close);
  gtk_box_append (GTK_BOX (box), row);

  rec->output = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (rec->output), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (rec->output), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (rec->output), GTK_WRAP_WORD_CHAR);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), rec->output);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 100);
  gtk_expander_set_child (GTK_EXPANDER (expander), scroller);
  gtk_box_append (GTK_BOX (box), expander);

  rec->revealer = gtk_revealer_new ();
  gtk_revealer_set_child (GTK_REVEALER (rec->revealer), box);
  return rec->revealer;
}

static const GActionEntry record_actions[] = {
  { "record-python", action_record_python },
  { "stop-recording", action_stop_recording },
  { "close-recording-bar", action_close_recording_bar },
  { "simulate-this", action_simulate_this },
  { "calibrate", action_calibrate },
  { "reference-params", NULL, NULL, "false", action_reference_params },
};

GMenuModel *
_il_window_record_menu_section (void)
{
  GMenu *menu = g_menu_new ();

  g_menu_append (menu, "_Record a Python Program…", "win.record-python");
  g_menu_append (menu, "Simulate _This", "win.simulate-this");
  g_menu_append (menu, "_Calibrate This Machine…", "win.calibrate");
  g_menu_append (menu, "Use _Reference Values", "win.reference-params");
  return G_MENU_MODEL (menu);
}

void
_il_window_record_init (IlWindow *self)
{
  IlWindowRecord *rec = g_new0 (IlWindowRecord, 1);
  g_autoptr(GError) error = NULL;

  rec->window = self;
  self->record = rec;
  g_action_map_add_action_entries (G_ACTION_MAP (self), record_actions, G_N_ELEMENTS (record_actions), self);
  set_enabled (self, "stop-recording", FALSE);
  gtk_box_prepend (GTK_BOX (self->timeline_box), build_bar (rec));

  /* Like the CLI: the saved calibration unless the user turns it off; a
   * broken file is reported once and the reference values used. */
  rec->calibration = il_calibration_load_default (&error);
  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf ("Ignoring the calibration: %s", error->message);
      adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
    }
  g_signal_connect_object (self->session, "trace-changed", G_CALLBACK (on_trace_changed), self, G_CONNECT_SWAPPED);
  on_trace_changed (self);
}

void
_il_window_record_dispose (IlWindow *self)
{
  IlWindowRecord *rec = self->record;

  if (rec == NULL)
    return;
  self->record = NULL;
  if (rec->calibrating != NULL)
    g_cancellable_cancel (rec->calibrating);
  g_clear_object (&rec->calibrating);
  g_clear_handle_id (&rec->calibrate_pulse_id, g_source_remove);
  g_clear_handle_id (&rec->clock_id, g_source_remove);
  if (rec->live != NULL)
    {
      /* Closing the window ends the program it records. */
      il_live_recording_stop (rec->live);
      g_signal_handlers_disconnect_by_data (rec->live, self);
      g_clear_object (&rec->live);
    }
  g_clear_pointer (&rec->calibration, il_calibration_free);
  g_free (rec->saved_path);
  g_free (rec);
}
