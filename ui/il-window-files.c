/* il-window-files.c — opening scenarios and traces, saving traces, exporting images
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <stdio.h>

#include "il-file-type.h"
#include "il-window-private.h"
#ifdef IL_HAVE_TRACE_FORMATS
# include "il-chrome.h"
# include "il-trace-io.h"
#endif

/* ---------------------------------------------------------- open files */

#ifdef IL_HAVE_TRACE_FORMATS
typedef struct {
  GFile       *file;
  IlRunConfig  config;
  gboolean     has_config;
  IlWindow    *window;   /* weak: only touched on the main thread */
  double       fraction;
  guint        progress_id;
  char        *warning;
  char        *explanation;   /* why events were skipped, in words, or NULL */
  guint64      n_skipped;
} LoadJob;

static void
load_job_free (LoadJob *job)
{
  g_clear_handle_id (&job->progress_id, g_source_remove);
  g_object_unref (job->file);
  g_free (job->warning);
  g_free (job->explanation);
  g_free (job);
}

static void
load_progress (double   fraction,
               gpointer data)
{
  LoadJob *job = data;
  /* Written by the loading thread, read by the main thread's timer: a
   * stale value only shows the bar a frame late. */
  job->fraction = fraction;
}

static gboolean
load_progress_tick (gpointer data)
{
  LoadJob *job = data;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (job->window->loading_bar), CLAMP (job->fraction, 0, 1));
  return G_SOURCE_CONTINUE;
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  LoadJob *job = data;
  g_autofree char *path = g_file_get_path (job->file);
  GError *error = NULL;
  IlTrace *trace = NULL;

  /* A file that cannot be read goes to the Chrome importer, whose message
   * names the file. */
  if (il_file_type_sniff_path (path, NULL) == IL_FILE_TYPE_TRACE)
    {
      trace = il_trace_load (path, &job->config, load_progress, job, cancellable, &error);
      job->has_config = trace != NULL;
    }
  else
    {
      IlChromeImportInfo info = { 0 };
      trace = il_chrome_import (path, &info, load_progress, job, cancellable, &error);
      if (trace != NULL && info.warning != NULL)
        job->warning = g_strdup (info.warning);
      if (trace != NULL)
        {
          job->explanation = il_chrome_import_info_explain (&info);
          job->n_skipped = info.n_skipped + info.n_unmatched;
        }
      il_chrome_import_info_clear (&info);
    }
  if (trace == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, trace, (GDestroyNotify) il_trace_unref);
}

static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  IlWindow *self = IL_WINDOW (source);
  LoadJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(IlTrace) trace = g_task_propagate_pointer (G_TASK (result), &error);

  gtk_revealer_set_reveal_child (GTK_REVEALER (self->loading_revealer), FALSE);
  g_clear_object (&self->loading_cancellable);
  if (trace == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          && !g_error_matches (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CANCELLED)
          && !g_error_matches (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_CANCELLED))
        _il_window_show_error (self, "Cannot open the trace", error->message);
      return;
    }
  il_session_set_trace (self->session, trace, job->has_config ? &job->config : NULL);
  g_clear_pointer (&self->trace_file, g_free);
  if (job->has_config)
    {
      /* A native trace: its subtitle names this file. */
      self->trace_file = g_file_get_path (job->file);
      self->trace_file_serial = il_session_get_serial (self->session);
      _il_window_sync_controls (self);
    }
  il_timeline_fit (IL_TIMELINE (self->timeline));
  g_clear_pointer (&self->import_explanation, g_free);
  if (job->explanation != NULL)
    {
      /* Say that events were left out, and why in words behind Details. */
      g_autofree char *title = NULL;
      AdwToast *toast;

      if (job->warning != NULL)
        title = g_markup_escape_text (job->warning, -1);
      else
        title = job->n_skipped == 1 ? g_strdup ("1 event is not shown")
                                    : g_strdup_printf ("%" G_GUINT64_FORMAT " events are not shown", job->n_skipped);
      toast = adw_toast_new (title);
      adw_toast_set_button_label (toast, "_Details");
      adw_toast_set_action_name (toast, "win.import-details");
      adw_toast_set_timeout (toast, 10);
      self->import_explanation = g_steal_pointer (&job->explanation);
      adw_toast_overlay_add_toast (self->toasts, toast);
    }
  else if (job->warning != NULL)
    {
      g_autofree char *title = g_markup_escape_text (job->warning, -1);
      adw_toast_overlay_add_toast (self->toasts, adw_toast_new (title));
    }
}

void
_il_window_action_import_details (GtkWidget  *widget,
                                  const char *name,
                                  GVariant   *param)
{
  IlWindow *self = IL_WINDOW (widget);

  if (self->import_explanation != NULL)
    _il_window_show_error (self, "Events Not Shown", self->import_explanation);
}

static void
open_trace (IlWindow *self,
            GFile    *file)
{
  g_autoptr(GTask) task = NULL;
  LoadJob *job = g_new0 (LoadJob, 1);
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *text = g_strdup_printf ("Loading %s…", name);

  if (self->loading_cancellable != NULL)
    g_cancellable_cancel (self->loading_cancellable);
  g_clear_object (&self->loading_cancellable);
  self->loading_cancellable = g_cancellable_new ();

  job->file = g_object_ref (file);
  job->window = self;
  job->progress_id = g_timeout_add (50, load_progress_tick, job);
  gtk_label_set_text (GTK_LABEL (self->loading_label), text);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->loading_bar), 0);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->loading_revealer), TRUE);

  task = g_task_new (self, self->loading_cancellable, load_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) load_job_free);
  g_task_run_in_thread (task, load_thread);
}
#endif

void
il_window_open_file (IlWindow *self,
                     GFile    *file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(IlScenario) scenario = NULL;

  g_return_if_fail (IL_IS_WINDOW (self));

  if (path == NULL)
    {
      _il_window_show_error (self, "Cannot open the file", "Only local files can be opened.");
      return;
    }

  /* Scenarios are small: read them here and try them first.  Anything
   * else (native traces, Chrome JSON, big files) loads off the main thread. */
  {
    GStatBuf st;
    if (g_stat (path, &st) == 0 && st.st_size < 4 * 1024 * 1024)
      {
        if (!g_file_get_contents (path, &contents, &len, &error))
          {
            _il_window_show_error (self, "Cannot open the file", error->message);
            return;
          }
        if (il_file_type_sniff ((const guint8 *) contents, len) == IL_FILE_TYPE_SCENARIO)
          {
            scenario = il_scenario_load_data (contents, len, path, &error);
            if (scenario == NULL)
              {
                _il_window_show_error (self, "This scenario has a mistake", error->message);
                return;
              }
            _il_window_set_source (self, NULL, path);
            _il_window_show_scenario (self, scenario);
            return;
          }
      }
  }
#ifdef IL_HAVE_TRACE_FORMATS
  _il_window_set_source (self, NULL, path);
  open_trace (self, file);
#else
  _il_window_show_error (self, "Cannot open the file", "This build of Interleave reads scenario files only.");
#endif
}

static void
on_open_response (GtkNativeDialog *dialog,
                  int              response,
                  IlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      il_window_open_file (self, file);
    }
  g_object_unref (dialog);
}

void
_il_window_action_open (GtkWidget  *widget,
                        const char *name,
                        GVariant   *param)
{
  IlWindow *self = IL_WINDOW (widget);
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new ("Open a Scenario or Trace", GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Scenarios and traces");
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_filter_add_pattern (filter, "*.itrace");
  gtk_file_filter_add_pattern (filter, "*.json.gz");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

gboolean
_il_window_on_drop (GtkDropTarget *target,
                    const GValue  *value,
                    double         x,
                    double         y,
                    IlWindow      *self)
{
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;
  il_window_open_file (self, files->data);
  return TRUE;
}

/* --------------------------------------------------------- save, export */

#ifdef IL_HAVE_TRACE_FORMATS
static void
on_save_response (GtkNativeDialog *dialog,
                  int              response,
                  IlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      IlTrace *trace = il_session_get_trace (self->session);
      gboolean ok;

      if (g_str_has_suffix (path, ".json"))
        ok = il_chrome_export (trace, path, &error);
      else
        ok = il_trace_save (trace, il_session_is_live (self->session) ? il_session_get_config (self->session) : NULL,
                            path, &error);
      if (!ok)
        _il_window_show_error (self, "Cannot save the trace", error->message);
      else
        _il_window_toast_file (self, "Saved", path);
    }
  g_object_unref (dialog);
}

void
_il_window_action_save (GtkWidget  *widget,
                        const char *name,
                        GVariant   *param)
{
  IlWindow *self = IL_WINDOW (widget);
  GtkFileChooserNative *dialog;

  if (il_session_get_trace (self->session) == NULL)
    return;
  /* Save what exists: a live run is saved as far as it has been simulated;
   * run it to the end first so the file holds the whole run. */
  il_session_complete (self->session);
  dialog = gtk_file_chooser_native_new ("Save the Trace", GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "run.itrace");
  g_signal_connect (dialog, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}
#endif

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    IlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      const char *size = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "size");
      const char *range = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "range");
      IlTrace *trace = il_session_get_trace (self->session);
      const IlScenario *scenario = il_session_get_scenario (self->session);
      const IlViewport *vp = il_timeline_get_viewport (IL_TIMELINE (self->timeline));
      g_autofree char *title = g_strdup_printf ("%s — %s", scenario && scenario->title ? scenario->title : "Trace",
                                                il_mode_to_label (il_session_get_config (self->session)->mode));
      IlExportOptions options;
      IlExportFormat format;

      if (!il_export_format_from_path (path, &format))
        {
          g_autofree char *with_ext = g_strconcat (path, ".png", NULL);
          g_free (path);
          path = g_steal_pointer (&with_ext);
          format = IL_EXPORT_PNG;
        }
      il_export_options_init (&options);
      options.title = title;
      if (g_strcmp0 (range, "visible") == 0)
        {
          options.from = MAX (0, vp->start);
          options.to = vp->start + vp->span;
        }
      else
        options.to = il_session_get_extent (self->session, NULL);
      if (g_strcmp0 (size, "1920") == 0)
        options.width = 1920;
      else if (g_strcmp0 (size, "1280") == 0)
        options.width = 1280;
      else if (g_strcmp0 (size, "2x") == 0)
        {
          options.width = 1920;
          options.scale = 2;
        }
      else
        options.width = MAX (400, gtk_widget_get_width (self->timeline));
      if (self->presenter)
        options.theme = IL_THEME_PRESENTER;

      if (_il_window_comparing (self))
        {
          if (!il_compare_view_export (IL_COMPARE_VIEW (self->compare_view), path, options.width, options.scale,
                                       g_strcmp0 (range, "visible") == 0, &error))
            _il_window_show_error (self, "Cannot export the image", error->message);
          else
            adw_toast_overlay_add_toast (self->toasts, adw_toast_new ("Exported the comparison"));
          g_object_unref (dialog);
          return;
        }
      /* Images show the whole run, played or not. */
      il_session_complete (self->session);
      if (!il_export_timelines (path, format, &trace, NULL, 1, &options, &error))
        _il_window_show_error (self, "Cannot export the image", error->message);
      else
        _il_window_toast_file (self, "Exported", path);
    }
  g_object_unref (dialog);
}

void
_il_window_action_export (GtkWidget  *widget,
                          const char *name,
                          GVariant   *param)
{
  IlWindow *self = IL_WINDOW (widget);
  GtkFileChooserNative *dialog;
  static const char *size_ids[] = { "window", "1280", "1920", "2x", NULL };
  static const char *size_labels[] = { "As in the window", "1280 px wide", "1920 px wide", "1920 px at 2× (HiDPI)", NULL };
  static const char *range_ids[] = { "visible", "all", NULL };
  static const char *range_labels[] = { "Visible range", "Whole run", NULL };

  if (il_session_get_trace (self->session) == NULL)
    return;
  dialog = gtk_file_chooser_native_new ("Export Image (PNG, SVG or PDF)", GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "timeline.png");
  gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (dialog), "size", "Size", size_ids, size_labels);
  gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (dialog), "size", "window");
  gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (dialog), "range", "Range", range_ids, range_labels);
  gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (dialog), "range", "visible");
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}
