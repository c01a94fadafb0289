/* il-window.c — the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Header bar (lessons, open, menu), a transport bar (mode, play/step,
 * speed, cores/workers/switch interval), the timeline with its legend, and
 * a side panel with the lesson, live statistics and the selection's story.
 * Every control is also a window action with a keyboard shortcut.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "il-window.h"
#include "il-compare-view.h"
#include "il-export.h"
#include "il-lesson-panel.h"
#include "il-render.h"
#include "il-stats-panel.h"
#include "il-view.h"
#ifdef IL_HAVE_TRACE_FORMATS
# include "il-chrome.h"
# include "il-trace-io.h"
#endif

#define LESSONS_PATH "/io/github/interleave/Interleave/lessons"

struct _IlWindow
{
  AdwApplicationWindow parent_instance;

  IlSession   *session;
  GPtrArray   *lessons;          /* of IlScenario*, built-in, in file order */
  GPtrArray   *lesson_names;     /* their resource file names */

  AdwWindowTitle *title;
  GtkWidget   *header;
  GtkWidget   *toolbar;
  GtkWidget   *lessons_button;
  GtkWidget   *lessons_list;
  GtkWidget   *lessons_search;
  GtkWidget   *mode_dropdown;
  GtkWidget   *play_button;
  GtkWidget   *time_label;
  GtkWidget   *speed_scale;
  GtkWidget   *speed_label;
  GtkWidget   *cores_spin;
  GtkWidget   *workers_spin;
  GtkWidget   *interval_spin;
  GtkWidget   *error_revealer;
  GtkWidget   *error_label;
  GtkWidget   *loading_revealer;
  GtkWidget   *loading_bar;
  GtkWidget   *loading_label;
  GCancellable *loading_cancellable;
  GtkWidget   *paned;
  GtkWidget   *main_stack;       /* "timeline" or "compare" */
  GtkWidget   *compare_button;
  GtkWidget   *compare_view;
  GtkWidget   *timeline;
  GtkWidget   *legend;
  GtkWidget   *side_stack;
  GtkWidget   *lesson_panel;
  GtkWidget   *stats_panel;
  GtkWidget   *details_view;
  AdwToastOverlay *toasts;

  GtkWidget   *scrubber;

  /* What is shown, for the session saved on every change and restored on
   * the next start: a built-in lesson's file name or an opened file. */
  guint        busy_id;          /* shows the simulation's progress after a moment */
  char        *source_lesson;
  char        *source_file;
  guint        save_id;

  gboolean     presenter;
  gboolean     updating;         /* controls are being set from the session */
};

G_DEFINE_FINAL_TYPE (IlWindow, il_window, ADW_TYPE_APPLICATION_WINDOW)

static gboolean comparing       (IlWindow *self);
static void     refresh_compare (IlWindow *self);

static const char *mode_labels[] = { "Sequential", "asyncio", "Threads (GIL)", "Free-threading", "Processes", NULL };

/* ------------------------------------------------------------- helpers */

static void
show_error (IlWindow   *self,
            const char *heading,
            const char *message)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

/* "Saved run.itrace", "Exported timeline.png". */
static void
toast_file (IlWindow   *self,
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
}

static void
update_error (IlWindow *self)
{
  const GError *error = il_session_get_error (self->session);

  if (error != NULL)
    gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->error_revealer), error != NULL);
}

static void
sync_controls (IlWindow *self)
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

  gtk_widget_set_sensitive (self->mode_dropdown, live);
  gtk_widget_set_sensitive (self->cores_spin, live);
  gtk_widget_set_sensitive (self->workers_spin, live);
  gtk_widget_set_sensitive (self->interval_spin, live);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.compare", live);

  if (live)
    subtitle = g_strdup_printf ("%s · %u cores", il_mode_to_label (config->mode), config->cores);
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

  if (!il_trace_lane_has_slices (trace, hit.lane)
      && (il_trace_get_lane (trace, hit.lane)->kind == IL_LANE_TASK
          || il_trace_get_lane (trace, hit.lane)->kind == IL_LANE_THREAD))
    {
      const GArray *idx = il_trace_get_lane_events (trace, hit.lane);
      const guint32 *v = (const guint32 *) (gpointer) idx->data;
      gint64 upto = MIN (il_session_get_now (self->session), trace->end_time);
      guint shown = 0;

      g_string_append_printf (text, "The story of %s:\n", il_trace_get_lane (trace, hit.lane)->name);
      for (guint i = 0; i < idx->len && shown < 400; i++)
        {
          guint32 e = v[i], next = G_MAXUINT32;
          gint64 end;
          g_autofree char *at = NULL, *length = NULL;

          if (trace->kind[e] != IL_EVENT_STATE || trace->time[e] > upto)
            continue;
          for (guint j = i + 1; j < idx->len; j++)
            if (trace->kind[v[j]] == IL_EVENT_STATE)
              {
                next = v[j];
                break;
              }
          end = next != G_MAXUINT32 && trace->time[next] <= upto ? trace->time[next] : upto;
          at = il_format_duration (trace->time[e]);
          length = il_format_duration (end - trace->time[e]);
          g_string_append_printf (text, "%10s  %-22s %s", at, il_state_to_string (trace->value[e]),
                                  trace->value[e] == IL_STATE_DONE ? "" : length);
          if (trace->aux[e] != IL_CAUSE_NONE)
            {
              g_string_append_printf (text, "  (%s", il_cause_to_string (trace->aux[e]));
              if (trace->arg[e] != IL_NO_LANE && trace->arg[e] != hit.lane
                  && trace->arg[e] < il_trace_get_n_lanes (trace))
                g_string_append_printf (text, ": %s", il_trace_get_lane (trace, trace->arg[e])->name);
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

/* ------------------------------------------------------------- session */

static void
on_session_progressed (IlWindow *self)
{
  update_time_label (self);
  update_error (self);
}

static void
on_session_trace_changed (IlWindow *self)
{
  if (comparing (self))
    {
      if (il_session_is_live (self->session))
        refresh_compare (self);
      else
        il_window_set_comparing (self, FALSE);
    }
  sync_controls (self);
  update_time_label (self);
  update_error (self);
  gtk_widget_queue_draw (self->legend);
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

  if (self->updating || mode >= IL_N_MODES)
    return;
  il_session_set_mode (self->session, (IlMode) mode);
  sync_controls (self);
}

static void
on_spin_changed (GtkSpinButton *spin,
                 IlWindow      *self)
{
  if (self->updating)
    return;
  if (GTK_WIDGET (spin) == self->cores_spin)
    il_session_set_cores (self->session, (guint) gtk_spin_button_get_value_as_int (spin));
  else if (GTK_WIDGET (spin) == self->workers_spin)
    il_session_set_workers (self->session, (guint) gtk_spin_button_get_value_as_int (spin));
  else
    il_session_set_switch_interval (self->session, (gint64) llround (gtk_spin_button_get_value (spin) * 1e6));
  sync_controls (self);
}

/* -------------------------------------------------------------- lessons */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  /* g_ptr_array_sort passes pointers to the elements. */
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static void
load_lessons (IlWindow *self)
{
  g_auto(GStrv) names = g_resources_enumerate_children (LESSONS_PATH, 0, NULL);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_ptr_array_add (sorted, names[i]);
  g_ptr_array_sort (sorted, compare_names);

  for (guint i = 0; i < sorted->len; i++)
    {
      const char *name = g_ptr_array_index (sorted, i);
      g_autofree char *path = g_build_path ("/", LESSONS_PATH, name, NULL);
      g_autoptr(GBytes) bytes = g_resources_lookup_data (path, 0, NULL);
      g_autoptr(GError) error = NULL;
      IlScenario *scenario;
      gsize len;
      const char *data;

      if (bytes == NULL)
        continue;
      data = g_bytes_get_data (bytes, &len);
      scenario = il_scenario_load_data (data, len, name, &error);
      if (scenario == NULL)
        {
          g_warning ("Built-in lesson %s: %s", name, error->message);
          continue;
        }
      g_ptr_array_add (self->lessons, scenario);
      g_ptr_array_add (self->lesson_names, g_strdup (name));
    }
}

static GtkWidget *
lesson_row (IlWindow         *self,
            guint             index)
{
  const IlScenario *s = g_ptr_array_index (self->lessons, index);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (s->title ? s->title : g_ptr_array_index (self->lesson_names, index));
  g_autofree char *concepts = s->concepts ? g_strjoinv (", ", s->concepts) : g_strdup ("");
  GtkWidget *sub = gtk_label_new (concepts);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_label_set_ellipsize (GTK_LABEL (sub), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_widget_add_css_class (sub, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), sub);
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data (G_OBJECT (row), "lesson-index", GUINT_TO_POINTER (index));
  return row;
}

static const IlScenario *
row_lesson (IlWindow      *self,
            GtkListBoxRow *row)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "lesson-index"));
  return index < self->lessons->len ? g_ptr_array_index (self->lessons, index) : NULL;
}

static void
lesson_header (GtkListBoxRow *row,
               GtkListBoxRow *before,
               gpointer       data)
{
  IlWindow *self = data;
  const IlScenario *s = row_lesson (self, row);
  const IlScenario *b = before != NULL ? row_lesson (self, before) : NULL;
  const char *group = s && s->lesson_group ? s->lesson_group : "Other";

  if (b == NULL || g_strcmp0 (b->lesson_group ? b->lesson_group : "Other", group) != 0)
    {
      GtkWidget *label = gtk_label_new (group);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "heading");
      gtk_widget_set_margin_start (label, 8);
      gtk_widget_set_margin_top (label, 10);
      gtk_widget_set_margin_bottom (label, 4);
      gtk_list_box_row_set_header (row, label);
    }
  else
    gtk_list_box_row_set_header (row, NULL);
}

static gboolean
contains (const char *haystack,
          const char *needle)
{
  g_autofree char *h = NULL;
  if (haystack == NULL)
    return FALSE;
  h = g_utf8_casefold (haystack, -1);
  return strstr (h, needle) != NULL;
}

static gboolean
lesson_filter (GtkListBoxRow *row,
               gpointer       data)
{
  IlWindow *self = data;
  const IlScenario *s = row_lesson (self, row);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->lessons_search));
  g_autofree char *needle = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;
  needle = g_utf8_casefold (text, -1);
  if (contains (s->title, needle) || contains (s->lesson_group, needle) || contains (s->description, needle))
    return TRUE;
  for (guint i = 0; s->concepts != NULL && s->concepts[i] != NULL; i++)
    if (contains (s->concepts[i], needle))
      return TRUE;
  return FALSE;
}

static void
show_scenario (IlWindow         *self,
               const IlScenario *scenario)
{
  il_session_set_scenario (self->session, scenario);
  il_timeline_fit (IL_TIMELINE (self->timeline));
  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "lesson");
}

static void
set_source (IlWindow   *self,
            const char *lesson,
            const char *file)
{
  g_free (self->source_lesson);
  g_free (self->source_file);
  self->source_lesson = g_strdup (lesson);
  self->source_file = g_strdup (file);
}

static void
on_lesson_activated (GtkListBox    *list,
                     GtkListBoxRow *row,
                     IlWindow      *self)
{
  const IlScenario *s = row_lesson (self, row);
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "lesson-index"));

  if (s != NULL)
    {
      set_source (self, g_ptr_array_index (self->lesson_names, index), NULL);
      show_scenario (self, s);
    }
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->lessons_button));
}

gboolean
il_window_show_lesson (IlWindow   *self,
                       const char *name)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), FALSE);
  for (guint i = 0; i < self->lesson_names->len; i++)
    if (g_str_equal (g_ptr_array_index (self->lesson_names, i), name)
        || g_str_has_prefix (g_ptr_array_index (self->lesson_names, i), name))
      {
        set_source (self, g_ptr_array_index (self->lesson_names, i), NULL);
        show_scenario (self, g_ptr_array_index (self->lessons, i));
        return TRUE;
      }
  return FALSE;
}

GPtrArray *
il_window_get_lessons (IlWindow *self)
{
  return self->lessons;
}

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
} LoadJob;

static void
load_job_free (LoadJob *job)
{
  g_clear_handle_id (&job->progress_id, g_source_remove);
  g_object_unref (job->file);
  g_free (job->warning);
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
  guint8 head[16] = { 0 };
  FILE *f = path != NULL ? fopen (path, "rb") : NULL;
  gsize n = 0;

  if (f != NULL)
    {
      n = fread (head, 1, sizeof head, f);
      fclose (f);
    }
  if (il_trace_is_native (head, n))
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
        show_error (self, "Cannot open the trace", error->message);
      return;
    }
  il_session_set_trace (self->session, trace, job->has_config ? &job->config : NULL);
  il_timeline_fit (IL_TIMELINE (self->timeline));
  if (job->warning != NULL)
    adw_toast_overlay_add_toast (self->toasts, adw_toast_new (job->warning));
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
      show_error (self, "Cannot open the file", "Only local files can be opened.");
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
            show_error (self, "Cannot open the file", error->message);
            return;
          }
        if (len > 0 && (contents[0] == '{' || g_ascii_isspace (contents[0]))
            && strstr (contents, "\"tasks\"") != NULL && strstr (contents, "\"traceEvents\"") == NULL)
          {
            scenario = il_scenario_load_data (contents, len, path, &error);
            if (scenario == NULL)
              {
                show_error (self, "This scenario has a mistake", error->message);
                return;
              }
            set_source (self, NULL, path);
            show_scenario (self, scenario);
            return;
          }
      }
  }
#ifdef IL_HAVE_TRACE_FORMATS
  set_source (self, NULL, path);
  open_trace (self, file);
#else
  show_error (self, "Cannot open the file", "This build of Interleave reads scenario files only.");
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

static void
action_open (GtkWidget  *widget,
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
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static gboolean
on_drop (GtkDropTarget *target,
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
        show_error (self, "Cannot save the trace", error->message);
      else
        toast_file (self, "Saved", path);
    }
  g_object_unref (dialog);
}

static void
action_save (GtkWidget  *widget,
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

      if (comparing (self))
        {
          if (!il_compare_view_export (IL_COMPARE_VIEW (self->compare_view), path, options.width, options.scale,
                                       g_strcmp0 (range, "visible") == 0, &error))
            show_error (self, "Cannot export the image", error->message);
          else
            adw_toast_overlay_add_toast (self->toasts, adw_toast_new ("Exported the comparison"));
          g_object_unref (dialog);
          return;
        }
      /* Images show the whole run, played or not. */
      il_session_complete (self->session);
      if (!il_export_timelines (path, format, &trace, NULL, 1, &options, &error))
        show_error (self, "Cannot export the image", error->message);
      else
        toast_file (self, "Exported", path);
    }
  g_object_unref (dialog);
}

static void
action_export (GtkWidget  *widget,
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
    il_session_step (self->session, FALSE, FALSE);
  else if (g_str_equal (name, "win.step-back"))
    il_session_step (self->session, TRUE, FALSE);
  else if (g_str_equal (name, "win.step-gil-forward"))
    il_session_step (self->session, FALSE, TRUE);
  else if (g_str_equal (name, "win.step-gil-back"))
    il_session_step (self->session, TRUE, TRUE);
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
    il_window_set_comparing (self, !comparing (self));
  else if (g_str_equal (name, "win.cancel-loading"))
    {
      if (self->loading_cancellable != NULL)
        g_cancellable_cancel (self->loading_cancellable);
      else if (il_session_get_simulating (self->session))
        il_session_cancel_simulation (self->session);
    }
  else if (g_str_equal (name, "win.side-panel"))
    gtk_widget_set_visible (gtk_paned_get_end_child (GTK_PANED (self->paned)),
                            !gtk_widget_get_visible (gtk_paned_get_end_child (GTK_PANED (self->paned))));
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
      il_session_set_mode (self->session, mode);
      sync_controls (self);
    }
}

static gboolean
comparing (IlWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->main_stack)), "compare") == 0;
}

static void
refresh_compare (IlWindow *self)
{
  const IlScenario *scenario = il_session_get_scenario (self->session);
  guint32 modes;

  if (scenario == NULL || !il_session_is_live (self->session))
    return;
  /* The lesson's own modes when it names several, else all five. */
  modes = scenario->modes_mask;
  if ((modes & (modes - 1)) == 0)
    modes = IL_MODE_MASK_ALL;
  il_compare_view_set_scenario (IL_COMPARE_VIEW (self->compare_view), scenario,
                                il_session_get_config (self->session), modes);
}

void
il_window_set_comparing (IlWindow *self,
                         gboolean  compare)
{
  g_return_if_fail (IL_IS_WINDOW (self));
  if (compare && !il_session_is_live (self->session))
    compare = FALSE;
  if (compare)
    refresh_compare (self);
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), compare ? "compare" : "timeline");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->compare_button), compare);
}

IlCompareView *
il_window_get_compare_view (IlWindow *self)
{
  return IL_COMPARE_VIEW (self->compare_view);
}

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
  gtk_widget_set_visible (self->scrubber, !presenter);
  gtk_widget_set_visible (self->header, !presenter);
  /* High contrast for the projector: the whole window goes dark, and back
   * to the system's choice afterwards. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      presenter ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_DEFAULT);
  if (presenter)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "presenter");
      gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "lesson");
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
static gboolean
on_presenter_key (GtkEventControllerKey *controller,
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
      il_session_step (self->session, FALSE, shift);
      return TRUE;
    case GDK_KEY_Left:
    case GDK_KEY_Page_Up:
      il_session_step (self->session, TRUE, shift);
      return TRUE;
    case GDK_KEY_p:
    case GDK_KEY_P:
      il_lesson_panel_reveal (IL_LESSON_PANEL (self->lesson_panel));
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

/* --------------------------------------------------------------- legend */

static void
draw_legend (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  IlWindow *self = data;
  const IlTheme *theme = il_timeline_get_theme (IL_TIMELINE (self->timeline));
  const IlRunConfig *config = il_session_get_config (self->session);
  double needed;

  il_theme_set_source (cr, &theme->background);
  cairo_paint (cr);
  needed = il_render_legend (cr, theme, 12, 4, width - 24, config->mode == IL_MODE_ASYNCIO);
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

/* -------------------------------------------------------------- session */

static char *
session_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "interleave", "session.ini", NULL);
}

static gboolean
save_session_cb (gpointer data)
{
  IlWindow *self = data;
  const IlRunConfig *config = il_session_get_config (self->session);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = session_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = NULL;

  self->save_id = 0;
  if (self->source_lesson == NULL && self->source_file == NULL)
    return G_SOURCE_REMOVE;
  if (self->source_lesson != NULL)
    g_key_file_set_string (kf, "session", "lesson", self->source_lesson);
  if (self->source_file != NULL)
    g_key_file_set_string (kf, "session", "file", self->source_file);
  if (il_session_is_live (self->session))
    {
      g_key_file_set_string (kf, "session", "mode", il_mode_to_string (config->mode));
      g_key_file_set_integer (kf, "session", "cores", (int) config->cores);
      g_key_file_set_integer (kf, "session", "workers", (int) config->workers);
      g_key_file_set_int64 (kf, "session", "switch_interval_ns", config->switch_interval);
    }
  g_key_file_set_int64 (kf, "session", "now_ns", il_session_get_now (self->session));
  text = g_key_file_to_data (kf, NULL, NULL);
  /* g_file_set_contents writes a temporary file and renames it. */
  if (g_mkdir_with_parents (dir, 0700) == 0)
    g_file_set_contents (path, text, -1, NULL);
  return G_SOURCE_REMOVE;
}

static void
queue_save_session (IlWindow *self)
{
  if (self->save_id == 0)
    self->save_id = g_timeout_add_seconds (2, save_session_cb, self);
}

gboolean
il_window_restore_session (IlWindow *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = session_path ();
  g_autofree char *lesson = NULL, *file = NULL, *mode = NULL;
  IlRunConfig config;
  gint64 now;

  g_return_val_if_fail (IL_IS_WINDOW (self), FALSE);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  lesson = g_key_file_get_string (kf, "session", "lesson", NULL);
  file = g_key_file_get_string (kf, "session", "file", NULL);
  if (lesson != NULL)
    {
      if (!il_window_show_lesson (self, lesson))
        return FALSE;
    }
  else if (file != NULL && g_file_test (file, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(GFile) f = g_file_new_for_path (file);
      il_window_open_file (self, f);
      if (!il_session_is_live (self->session))
        return TRUE;   /* a trace loads in a thread; it opens showing all of it */
    }
  else
    return FALSE;

  config = *il_session_get_config (self->session);
  mode = g_key_file_get_string (kf, "session", "mode", NULL);
  if (mode != NULL)
    il_mode_from_string (mode, &config.mode);
  if (g_key_file_has_key (kf, "session", "cores", NULL))
    config.cores = CLAMP (g_key_file_get_integer (kf, "session", "cores", NULL), 1, 64);
  if (g_key_file_has_key (kf, "session", "workers", NULL))
    config.workers = CLAMP (g_key_file_get_integer (kf, "session", "workers", NULL), 0, 1000);
  if (g_key_file_has_key (kf, "session", "switch_interval_ns", NULL))
    config.switch_interval = CLAMP (g_key_file_get_int64 (kf, "session", "switch_interval_ns", NULL),
                                    IL_USEC (1), IL_MSEC (10000));
  il_session_set_config (self->session, &config);
  now = g_key_file_get_int64 (kf, "session", "now_ns", NULL);
  il_session_seek (self->session, MAX (now, 0));
  sync_controls (self);
  return TRUE;
}

/* ----------------------------------------------------------- construction */

static GtkWidget *
icon_button (const char *icon,
             const char *action,
             const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_widget_add_css_class (button, "flat");
  return button;
}

static GtkWidget *
labelled_spin (GtkWidget  *box,
               const char *mnemonic,
               const char *tooltip,
               double      min,
               double      max,
               double      step,
               guint       digits)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (mnemonic);
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);
  gtk_widget_set_tooltip_text (spin, tooltip);
  gtk_widget_set_tooltip_text (label, tooltip);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), spin);
  return spin;
}

static GtkWidget *
build_lessons_popover (IlWindow *self)
{
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();

  self->lessons_search = gtk_search_entry_new ();
  gtk_widget_set_tooltip_text (self->lessons_search, "Search lessons by title, concept or text");
  self->lessons_list = gtk_list_box_new ();
  gtk_list_box_set_header_func (GTK_LIST_BOX (self->lessons_list), lesson_header, self, NULL);
  gtk_list_box_set_filter_func (GTK_LIST_BOX (self->lessons_list), lesson_filter, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->lessons_list), GTK_ACCESSIBLE_PROPERTY_LABEL, "Lessons", -1);
  for (guint i = 0; i < self->lessons->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->lessons_list), lesson_row (self, i));
  g_signal_connect (self->lessons_list, "row-activated", G_CALLBACK (on_lesson_activated), self);
  g_signal_connect_swapped (self->lessons_search, "search-changed",
                            G_CALLBACK (gtk_list_box_invalidate_filter), self->lessons_list);
  gtk_search_entry_set_key_capture_widget (GTK_SEARCH_ENTRY (self->lessons_search), popover);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->lessons_list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 480);
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scroller), 380);
  gtk_box_append (GTK_BOX (box), self->lessons_search);
  gtk_box_append (GTK_BOX (box), scroller);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  return popover;
}

static GMenuModel *
build_primary_menu (void)
{
  GMenu *menu = g_menu_new ();
  GMenu *file = g_menu_new ();
  GMenu *view = g_menu_new ();
  GMenu *help = g_menu_new ();

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
      save_session_cb (self);
    }
  if (self->session != NULL)
    il_session_set_playing (self->session, FALSE);
  G_OBJECT_CLASS (il_window_parent_class)->dispose (object);
}

static void
il_window_finalize (GObject *object)
{
  IlWindow *self = IL_WINDOW (object);

  g_clear_object (&self->session);
  g_clear_pointer (&self->lessons, g_ptr_array_unref);
  g_clear_pointer (&self->lesson_names, g_ptr_array_unref);
  g_free (self->source_lesson);
  g_free (self->source_file);
  G_OBJECT_CLASS (il_window_parent_class)->finalize (object);
}

static void
il_window_class_init (IlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char *transport[] = {
    "win.play-pause", "win.step-forward", "win.step-back", "win.step-gil-forward", "win.step-gil-back",
    "win.restart", "win.go-to-end", "win.faster", "win.slower", "win.zoom-in", "win.zoom-out",
    "win.zoom-fit", "win.reveal-answer", "win.lessons", "win.presenter", "win.leave-presenter",
    "win.more-cores", "win.fewer-cores", "win.side-panel", "win.cancel-loading", "win.compare",
  };

  object_class->dispose = il_window_dispose;
  object_class->finalize = il_window_finalize;

  for (guint i = 0; i < G_N_ELEMENTS (transport); i++)
    gtk_widget_class_install_action (widget_class, transport[i], NULL, action_transport);
  gtk_widget_class_install_action (widget_class, "win.open", NULL, action_open);
#ifdef IL_HAVE_TRACE_FORMATS
  gtk_widget_class_install_action (widget_class, "win.save", NULL, action_save);
#endif
  gtk_widget_class_install_action (widget_class, "win.export", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "win.set-mode", "s", action_mode);
}

static void
il_window_init (IlWindow *self)
{
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *main_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *switcher;
  GtkWidget *menu_button;
  GtkWidget *open_button;
  GtkWidget *scroller;
  GtkDropTarget *drop;
  GtkEventController *keys;
  g_autoptr(GMenuModel) menu = build_primary_menu ();

  self->session = il_session_new ();
  self->lessons = g_ptr_array_new_with_free_func ((GDestroyNotify) il_scenario_free);
  self->lesson_names = g_ptr_array_new_with_free_func (g_free);
  load_lessons (self);

  gtk_window_set_title (GTK_WINDOW (self), "Interleave");
  gtk_window_set_default_size (GTK_WINDOW (self), 1440, 900);

  /* Header bar. */
  self->header = adw_header_bar_new ();
  self->title = ADW_WINDOW_TITLE (adw_window_title_new ("Interleave", NULL));
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (self->header), GTK_WIDGET (self->title));
  self->lessons_button = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (self->lessons_button), "_Lessons");
  gtk_menu_button_set_use_underline (GTK_MENU_BUTTON (self->lessons_button), TRUE);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (self->lessons_button), build_lessons_popover (self));
  gtk_widget_set_tooltip_text (self->lessons_button, "Choose a built-in lesson (F9)");
  adw_header_bar_pack_start (ADW_HEADER_BAR (self->header), self->lessons_button);
  open_button = gtk_button_new_with_mnemonic ("_Open");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (open_button), "win.open");
  gtk_widget_set_tooltip_text (open_button, "Open a scenario or a trace (Ctrl+O)");
  adw_header_bar_pack_start (ADW_HEADER_BAR (self->header), open_button);
  self->compare_button = gtk_toggle_button_new_with_mnemonic ("_Compare Modes");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->compare_button), "win.compare");
  gtk_widget_set_tooltip_text (self->compare_button, "The same workload in every mode on one time axis (Ctrl+M)");
  menu_button = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "open-menu-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), menu);
  gtk_menu_button_set_primary (GTK_MENU_BUTTON (menu_button), TRUE);
  gtk_widget_set_tooltip_text (menu_button, "Main menu (F10)");
  adw_header_bar_pack_end (ADW_HEADER_BAR (self->header), menu_button);
  adw_header_bar_pack_end (ADW_HEADER_BAR (self->header), self->compare_button);
  gtk_box_append (GTK_BOX (outer), self->header);

  /* Transport bar. */
  self->toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->toolbar, "toolbar");
  {
    GtkWidget *mode_label = gtk_label_new_with_mnemonic ("_Mode");
    self->mode_dropdown = gtk_drop_down_new_from_strings (mode_labels);
    gtk_label_set_mnemonic_widget (GTK_LABEL (mode_label), self->mode_dropdown);
    gtk_widget_set_tooltip_text (self->mode_dropdown, "How Python runs the tasks (Ctrl+1 … Ctrl+5)");
    gtk_box_append (GTK_BOX (self->toolbar), mode_label);
    gtk_box_append (GTK_BOX (self->toolbar), self->mode_dropdown);
    g_signal_connect_swapped (self->mode_dropdown, "notify::selected", G_CALLBACK (on_mode_selected), self);
  }
  gtk_box_append (GTK_BOX (self->toolbar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("media-skip-backward-symbolic", "win.restart", "Restart (Home)"));
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("go-previous-symbolic", "win.step-back", "Step back to the previous scheduling event (,)"));
  self->play_button = icon_button ("media-playback-start-symbolic", "win.play-pause", "Play (Space)");
  gtk_widget_remove_css_class (self->play_button, "flat");
  gtk_widget_add_css_class (self->play_button, "suggested-action");
  gtk_box_append (GTK_BOX (self->toolbar), self->play_button);
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("go-next-symbolic", "win.step-forward", "Step to the next scheduling event (.)"));
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("media-skip-forward-symbolic", "win.go-to-end", "Go to the end (End)"));
  self->time_label = gtk_label_new ("0");
  gtk_widget_add_css_class (self->time_label, "time-label");
  gtk_widget_add_css_class (self->time_label, "numeric");
  gtk_widget_set_tooltip_text (self->time_label, "Playhead / length of the run (virtual time)");
  gtk_box_append (GTK_BOX (self->toolbar), self->time_label);

  {
    GtkWidget *label = gtk_label_new_with_mnemonic ("Spee_d");
    self->speed_scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, -4, 0, 0.05);
    gtk_scale_set_draw_value (GTK_SCALE (self->speed_scale), FALSE);
    gtk_widget_set_size_request (self->speed_scale, 110, -1);
    gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->speed_scale);
    gtk_widget_set_tooltip_text (self->speed_scale, "Playback speed: virtual time per real second ([ slower, ] faster)");
    self->speed_label = gtk_label_new ("0.05×");
    gtk_widget_add_css_class (self->speed_label, "numeric");
    gtk_widget_set_size_request (self->speed_label, 56, -1);
    gtk_box_append (GTK_BOX (self->toolbar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
    gtk_box_append (GTK_BOX (self->toolbar), label);
    gtk_box_append (GTK_BOX (self->toolbar), self->speed_scale);
    gtk_box_append (GTK_BOX (self->toolbar), self->speed_label);
    g_signal_connect_swapped (self->speed_scale, "value-changed", G_CALLBACK (on_speed_scale_changed), self);
  }
  gtk_box_append (GTK_BOX (self->toolbar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  self->cores_spin = labelled_spin (self->toolbar, "_Cores", "CPU cores of the simulated machine (Ctrl+Up / Ctrl+Down)", 1, 64, 1, 0);
  self->workers_spin = labelled_spin (self->toolbar, "_Workers", "Pool size or concurrency limit (0: one thread/process/task each)", 0, 1000, 1, 0);
  self->interval_spin = labelled_spin (self->toolbar, "_Interval ms", "sys.setswitchinterval(): how long a thread may keep the GIL when others wait", 0.1, 100, 0.5, 1);
  g_signal_connect (self->cores_spin, "value-changed", G_CALLBACK (on_spin_changed), self);
  g_signal_connect (self->workers_spin, "value-changed", G_CALLBACK (on_spin_changed), self);
  g_signal_connect (self->interval_spin, "value-changed", G_CALLBACK (on_spin_changed), self);
  {
    GtkWidget *spacer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_widget_set_hexpand (spacer, TRUE);
    gtk_box_append (GTK_BOX (self->toolbar), spacer);
  }
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("zoom-out-symbolic", "win.zoom-out", "Zoom out (Ctrl+−)"));
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("zoom-fit-best-symbolic", "win.zoom-fit", "Fit the whole run (Ctrl+0)"));
  gtk_box_append (GTK_BOX (self->toolbar), icon_button ("zoom-in-symbolic", "win.zoom-in", "Zoom in (Ctrl+plus)"));
  gtk_box_append (GTK_BOX (outer), self->toolbar);

  /* The scrubber: jump anywhere in the run, backwards included. */
  self->scrubber = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.001);
  gtk_scale_set_draw_value (GTK_SCALE (self->scrubber), FALSE);
  gtk_widget_set_margin_start (self->scrubber, 8);
  gtk_widget_set_margin_end (self->scrubber, 8);
  gtk_widget_set_tooltip_text (self->scrubber, "Playhead: drag to jump anywhere in the run");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scrubber), GTK_ACCESSIBLE_PROPERTY_LABEL, "Playhead", -1);
  g_signal_connect_swapped (self->scrubber, "value-changed", G_CALLBACK (on_scrubbed), self);
  gtk_box_append (GTK_BOX (outer), self->scrubber);

  /* Messages: engine errors, loading progress. */
  self->error_revealer = gtk_revealer_new ();
  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_margin_top (self->error_label, 6);
  gtk_widget_set_margin_bottom (self->error_label, 6);
  gtk_revealer_set_child (GTK_REVEALER (self->error_revealer), self->error_label);
  gtk_box_append (GTK_BOX (outer), self->error_revealer);

  self->loading_revealer = gtk_revealer_new ();
  {
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *cancel = gtk_button_new_with_mnemonic ("_Cancel");
    self->loading_label = gtk_label_new (NULL);
    self->loading_bar = gtk_progress_bar_new ();
    gtk_widget_set_hexpand (self->loading_bar, TRUE);
    gtk_widget_set_valign (self->loading_bar, GTK_ALIGN_CENTER);
    gtk_widget_set_margin_start (box, 12);
    gtk_widget_set_margin_end (box, 12);
    gtk_widget_set_margin_top (box, 6);
    gtk_widget_set_margin_bottom (box, 6);
    gtk_actionable_set_action_name (GTK_ACTIONABLE (cancel), "win.cancel-loading");
    gtk_widget_set_tooltip_text (cancel, "Stop loading (Escape)");
    gtk_box_append (GTK_BOX (box), self->loading_label);
    gtk_box_append (GTK_BOX (box), self->loading_bar);
    gtk_box_append (GTK_BOX (box), cancel);
    gtk_revealer_set_child (GTK_REVEALER (self->loading_revealer), box);
  }
  gtk_box_append (GTK_BOX (outer), self->loading_revealer);

  /* Timeline and legend | side panel. */
  self->timeline = il_timeline_new (self->session);
  self->legend = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->legend), 34);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->legend), draw_legend, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->legend), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Legend: colours and patterns of the states", -1);
  gtk_box_append (GTK_BOX (main_box), self->timeline);
  gtk_box_append (GTK_BOX (main_box), self->legend);

  self->side_stack = gtk_stack_new ();
  self->lesson_panel = il_lesson_panel_new (self->session);
  self->stats_panel = il_stats_panel_new (self->session);
  self->details_view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->details_view), FALSE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->details_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->details_view), TRUE);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->details_view), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->details_view), 12);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->details_view);
  gtk_stack_add_titled (GTK_STACK (self->side_stack), self->lesson_panel, "lesson", "Lesson");
  {
    GtkWidget *stats_scroller = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (stats_scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (stats_scroller), self->stats_panel);
    gtk_stack_add_titled (GTK_STACK (self->side_stack), stats_scroller, "stats", "Statistics");
  }
  gtk_stack_add_titled (GTK_STACK (self->side_stack), scroller, "details", "Selection");
  gtk_widget_set_vexpand (self->side_stack, TRUE);
  switcher = gtk_stack_switcher_new ();
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (self->side_stack));
  gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (switcher, 6);
  gtk_widget_set_margin_bottom (switcher, 6);
  gtk_box_append (GTK_BOX (side), switcher);
  gtk_box_append (GTK_BOX (side), self->side_stack);
  gtk_widget_set_size_request (side, 320, -1);

  self->compare_view = il_compare_view_new ();
  self->main_stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->main_stack), main_box, "timeline");
  gtk_stack_add_named (GTK_STACK (self->main_stack), self->compare_view, "compare");
  self->paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (self->paned), self->main_stack);
  gtk_paned_set_end_child (GTK_PANED (self->paned), side);
  gtk_paned_set_resize_end_child (GTK_PANED (self->paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (self->paned), FALSE);
  gtk_paned_set_position (GTK_PANED (self->paned), 1120);
  gtk_widget_set_vexpand (self->paned, TRUE);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, self->paned);
  gtk_box_append (GTK_BOX (outer), GTK_WIDGET (self->toasts));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), outer);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_presenter_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);

  g_signal_connect_object (self->session, "progressed", G_CALLBACK (on_session_progressed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "trace-changed", G_CALLBACK (on_session_trace_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "extent-known", G_CALLBACK (update_time_label), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::playing", G_CALLBACK (on_playing_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::speed", G_CALLBACK (on_speed_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::simulating", G_CALLBACK (on_simulating_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->timeline, "selection-changed", G_CALLBACK (update_details), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progressed", G_CALLBACK (update_details), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progressed", G_CALLBACK (update_scrubber), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "extent-known", G_CALLBACK (update_scrubber), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progressed", G_CALLBACK (queue_save_session), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "trace-changed", G_CALLBACK (queue_save_session), self, G_CONNECT_SWAPPED);

  on_speed_changed (self);
  update_details (self);
  if (self->lessons->len > 0)
    show_scenario (self, g_ptr_array_index (self->lessons, 0));
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
