/* il-record-dialog.c — what to record: program, arguments, folder, interpreter
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small form in libadwaita 1.2 rows.  Files are chosen with
 * GtkFileChooserNative (GtkFileDialog needs GTK 4.10).  The interpreters
 * offered are those the recorder has a module for.
 */
#include <string.h>

#include "il-record-dialog.h"
#include "il-record-run.h"

struct _IlRecordDialog
{
  AdwWindow   parent_instance;

  GtkWidget  *record_button;
  GtkWidget  *program_row;
  GtkWidget  *args_row;
  GtkWidget  *cwd_row;
  GtkWidget  *python_row;
  GtkWidget  *error_label;
  GPtrArray  *pythons;
  char       *program;
  char       *cwd;
};

enum { START, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (IlRecordDialog, il_record_dialog, ADW_TYPE_WINDOW)

static void
update_sensitive (IlRecordDialog *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.start", self->program != NULL && self->pythons->len > 0);
}

void
il_record_dialog_set_program (IlRecordDialog *self,
                              const char     *path)
{
  g_return_if_fail (IL_IS_RECORD_DIALOG (self));
  g_free (self->program);
  self->program = g_strdup (path);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->program_row), path != NULL ? path : "None chosen");
  /* The program's own folder is where it most likely expects to run. */
  if (self->cwd == NULL && path != NULL)
    {
      self->cwd = g_path_get_dirname (path);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->cwd_row), self->cwd);
    }
  update_sensitive (self);
}

void
il_record_dialog_set_arguments (IlRecordDialog *self,
                                const char     *arguments)
{
  g_return_if_fail (IL_IS_RECORD_DIALOG (self));
  gtk_editable_set_text (GTK_EDITABLE (self->args_row), arguments != NULL ? arguments : "");
}

static void
on_chosen (GtkNativeDialog *chooser,
           int              response,
           IlRecordDialog  *self)
{
  gboolean folder = gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)) == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL && folder)
        {
          g_free (self->cwd);
          self->cwd = g_steal_pointer (&path);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (self->cwd_row), self->cwd);
        }
      else if (path != NULL)
        il_record_dialog_set_program (self, path);
    }
  g_object_unref (chooser);
}

static void
choose (IlRecordDialog *self,
        gboolean        folder)
{
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (folder ? "Working Folder" : "Python Program", GTK_WINDOW (self),
                                 folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 "_Choose", "_Cancel");

  if (!folder)
    {
      g_autoptr(GtkFileFilter) py = gtk_file_filter_new ();
      g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();
      gtk_file_filter_set_name (py, "Python programs");
      gtk_file_filter_add_suffix (py, "py");
      gtk_file_filter_set_name (all, "All files");
      gtk_file_filter_add_pattern (all, "*");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), py);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_choose_program (IlRecordDialog *self)
{
  choose (self, FALSE);
}

static void
on_choose_cwd (IlRecordDialog *self)
{
  choose (self, TRUE);
}

static void
on_record (IlRecordDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) args = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->args_row));
  guint python = adw_combo_row_get_selected (ADW_COMBO_ROW (self->python_row));
  int n = 0;

  if (self->program == NULL || python >= self->pythons->len)
    return;
  if (text[0] != '\0' && strspn (text, " \t") < strlen (text) && !g_shell_parse_argv (text, &n, &args, &error))
    {
      g_autofree char *message = g_strdup_printf ("The arguments: %s", error->message);
      gtk_label_set_text (GTK_LABEL (self->error_label), message);
      gtk_widget_set_visible (self->error_label, TRUE);
      return;
    }
  g_strv_builder_add (builder, self->program);
  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);
  g_signal_emit (self, signals[START], 0, g_ptr_array_index (self->pythons, python), argv, self->cwd);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
action_record (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  on_record (IL_RECORD_DIALOG (widget));
}

static GtkWidget *
choose_button (IlRecordDialog *self,
               GCallback       callback)
{
  GtkWidget *button = gtk_button_new_with_mnemonic ("C_hoose…");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (button, "clicked", callback, self);
  return button;
}

static void
il_record_dialog_finalize (GObject *object)
{
  IlRecordDialog *self = IL_RECORD_DIALOG (object);

  g_clear_pointer (&self->pythons, g_ptr_array_unref);
  g_free (self->program);
  g_free (self->cwd);
  G_OBJECT_CLASS (il_record_dialog_parent_class)->finalize (object);
}

static void
il_record_dialog_class_init (IlRecordDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = il_record_dialog_finalize;
  signals[START] = g_signal_new ("start", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                 G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRV, G_TYPE_STRING);
  gtk_widget_class_install_action (widget_class, "record.start", NULL, action_record);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "record.start", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
il_record_dialog_init (IlRecordDialog *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic ("_Cancel");
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  g_autofree char *recorder = il_record_find_recorder_dir ();
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  gtk_window_set_title (GTK_WINDOW (self), "Record a Python Program");
  gtk_window_set_default_size (GTK_WINDOW (self), 520, -1);
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);

  self->record_button = gtk_button_new_with_mnemonic ("_Record");
  gtk_widget_add_css_class (self->record_button, "suggested-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->record_button), "record.start");
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), self);
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->record_button);
  gtk_box_append (GTK_BOX (box), header);

  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         "The program runs with Interleave's recorder loaded; its threads, "
                                         "the GIL and its event loops appear on the timeline as it runs.");
  self->program_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->program_row), "Program");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->program_row), "None chosen");
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->program_row),
                             choose_button (self, G_CALLBACK (on_choose_program)));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->program_row);

  self->args_row = adw_entry_row_new ();
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (self->args_row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->args_row), "Arguments");
  g_signal_connect_swapped (self->args_row, "entry-activated", G_CALLBACK (on_record), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->args_row);

  self->cwd_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->cwd_row), "Working Folder");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->cwd_row), "The program's folder");
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->cwd_row), choose_button (self, G_CALLBACK (on_choose_cwd)));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->cwd_row);

  self->pythons = il_record_list_interpreters (recorder);
  for (guint i = 0; i < self->pythons->len; i++)
    {
      const char *path = g_ptr_array_index (self->pythons, i);
      g_autofree char *version = il_record_interpreter_version (path);
      g_autofree char *name = g_strdup_printf ("Python %s — %s", version, path);
      gtk_string_list_append (names, name);
    }
  self->python_row = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->python_row), "Interpreter");
  adw_combo_row_set_model (ADW_COMBO_ROW (self->python_row), G_LIST_MODEL (names));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->python_row);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_margin_top (self->error_label, 12);
  if (self->pythons->len == 0)
    gtk_label_set_text (GTK_LABEL (self->error_label),
                        recorder == NULL ? "The recorder is not installed (set INTERLEAVE_RECORDER_DIR)."
                                         : "No interpreter the recorder was built for was found.");
  gtk_widget_set_visible (self->error_label, self->pythons->len == 0);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->error_label);

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (self), box);
  update_sensitive (self);
}

GtkWidget *
il_record_dialog_new (GtkWindow *parent)
{
  return g_object_new (IL_TYPE_RECORD_DIALOG, "transient-for", parent, NULL);
}
