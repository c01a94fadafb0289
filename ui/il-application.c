/* il-application.c — the application: windows, app actions, shortcuts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-application.h"
#include "interleave-resources.h"
#include "il-window.h"

struct _IlApplication
{
  AdwApplication parent_instance;

  /* From the command line, applied to the first window. */
  char    *lesson;
  char    *mode;
  double   speed;
  gboolean play;
  gboolean presenter;
  gboolean compare;
};

G_DEFINE_FINAL_TYPE (IlApplication, il_application, ADW_TYPE_APPLICATION)

static const struct {
  const char *action;
  const char *accels[4];
} accels[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "win.open", { "<Control>o", NULL } },
  { "win.save", { "<Control>s", NULL } },
  { "win.export", { "<Control>e", NULL } },
  { "win.record-python", { "<Control><Shift>r", NULL } },
  { "win.simulate-this", { "<Control><Shift>m", NULL } },
  { "win.play-pause", { "space", "<Control>space", NULL } },
  { "win.step-forward", { "period", "<Alt>Right", NULL } },
  { "win.step-back", { "comma", "<Alt>Left", NULL } },
  { "win.step-gil-forward", { "greater", "<Shift><Alt>Right", NULL } },
  { "win.step-gil-back", { "less", "<Shift><Alt>Left", NULL } },
  { "win.restart", { "Home", "<Control>r", NULL } },
  { "win.go-to-end", { "End", NULL } },
  { "win.faster", { "bracketright", NULL } },
  { "win.slower", { "bracketleft", NULL } },
  { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add", NULL } },
  { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract", NULL } },
  { "win.zoom-fit", { "<Control>0", NULL } },
  { "win.reveal-answer", { "<Control>p", NULL } },
  { "win.lessons", { "F9", "<Control>l", NULL } },
  { "win.presenter", { "F5", NULL } },
  { "win.more-cores", { "<Control>Up", NULL } },
  { "win.fewer-cores", { "<Control>Down", NULL } },
  { "win.side-panel", { "F8", NULL } },
  { "win.compare", { "<Control>m", NULL } },
  { "win.cancel-loading", { "Escape", NULL } },
  { "win.set-mode('sequential')", { "<Control>1", NULL } },
  { "win.set-mode('asyncio')", { "<Control>2", NULL } },
  { "win.set-mode('threads')", { "<Control>3", NULL } },
  { "win.set-mode('free-threading')", { "<Control>4", NULL } },
  { "win.set-mode('processes')", { "<Control>5", NULL } },
};

static void
action_quit (GSimpleAction *action,
             GVariant      *param,
             gpointer       data)
{
  g_application_quit (G_APPLICATION (data));
}

static void
action_about (GSimpleAction *action,
              GVariant      *param,
              gpointer       data)
{
  GtkApplication *app = GTK_APPLICATION (data);
  static const char *developers[] = { "The Interleave developers", NULL };
  GtkWidget *about = adw_about_window_new ();

  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), "Interleave");
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), IL_APPLICATION_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), PACKAGE_VERSION);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about),
                                 "See how Python runs concurrent work: coroutines on an asyncio event loop, "
                                 "threads under the GIL, free-threaded threads and processes, on one time axis.");
  adw_about_window_set_developers (ADW_ABOUT_WINDOW (about), developers);
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  gtk_window_set_transient_for (GTK_WINDOW (about), gtk_application_get_active_window (app));
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = action_quit },
  { .name = "about", .activate = action_about },
};

static void
apply_options (IlApplication *self,
               IlWindow      *window)
{
  IlSession *session = il_window_get_session (window);
  IlMode mode;

  if (self->lesson != NULL && !il_window_show_lesson (window, self->lesson))
    g_printerr ("interleave: no built-in lesson called “%s”\n", self->lesson);
  if (self->mode != NULL)
    {
      if (il_mode_from_string (self->mode, &mode))
        il_session_set_mode (session, mode);
      else
        g_printerr ("interleave: unknown mode “%s” (sequential, asyncio, threads, free-threading, processes)\n",
                    self->mode);
    }
  if (self->speed > 0)
    il_session_set_speed (session, self->speed);
  if (self->compare)
    il_window_set_comparing (window, TRUE);
  if (self->presenter)
    il_window_set_presenter (window, TRUE);
  if (self->play)
    il_session_set_playing (session, TRUE);
  g_clear_pointer (&self->lesson, g_free);
  g_clear_pointer (&self->mode, g_free);
}

static void
il_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      IlApplication *self = IL_APPLICATION (app);
      window = GTK_WINDOW (il_window_new (ADW_APPLICATION (app)));
      /* Nothing asked for on the command line: carry on where the last
       * window (closed or crashed) left off. */
      if (self->lesson == NULL && self->mode == NULL && !self->compare && !self->presenter
          && !g_getenv ("INTERLEAVE_NO_RESTORE"))
        il_window_restore_session (IL_WINDOW (window));
      apply_options (self, IL_WINDOW (window));
    }
  gtk_window_present (window);
}

static int
il_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  IlApplication *self = IL_APPLICATION (app);

  g_variant_dict_lookup (options, "lesson", "s", &self->lesson);
  g_variant_dict_lookup (options, "mode", "s", &self->mode);
  g_variant_dict_lookup (options, "speed", "d", &self->speed);
  self->play = g_variant_dict_contains (options, "play");
  self->presenter = g_variant_dict_contains (options, "presenter");
  self->compare = g_variant_dict_contains (options, "compare");
  return -1;
}

static void
il_application_finalize (GObject *object)
{
  IlApplication *self = IL_APPLICATION (object);

  g_free (self->lesson);
  g_free (self->mode);
  G_OBJECT_CLASS (il_application_parent_class)->finalize (object);
}

static void
il_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  for (int i = 0; i < n_files; i++)
    {
      IlWindow *window = il_window_new (ADW_APPLICATION (app));
      gtk_window_present (GTK_WINDOW (window));
      il_window_open_file (window, files[i]);
      apply_options (IL_APPLICATION (app), window);
    }
}

static void
il_application_startup (GApplication *app)
{
  G_APPLICATION_CLASS (il_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);
}

static void
il_application_class_init (IlApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = il_application_finalize;
  app_class->activate = il_application_activate;
  app_class->handle_local_options = il_application_handle_local_options;
  app_class->open = il_application_open;
  app_class->startup = il_application_startup;
}

static void
il_application_init (IlApplication *self)
{
  static const GOptionEntry entries[] = {
    { "lesson", 'l', 0, G_OPTION_ARG_STRING, NULL, "Open a built-in lesson (e.g. 07-convoy-effect)", "NAME" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, NULL, "Run it as sequential, asyncio, threads, free-threading or processes", "MODE" },
    { "speed", 's', 0, G_OPTION_ARG_DOUBLE, NULL, "Playback speed, virtual seconds per second (e.g. 0.05)", "X" },
    { "play", 'p', 0, G_OPTION_ARG_NONE, NULL, "Start playing at once", NULL },
    { "presenter", 0, 0, G_OPTION_ARG_NONE, NULL, "Start in presenter mode (full screen, large type)", NULL },
    { "compare", 'c', 0, G_OPTION_ARG_NONE, NULL, "Start in the compare view (every mode stacked)", NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), "[FILE…]");
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            "See how Python runs concurrent work. FILE is a scenario (.json), "
                                            "a saved run (.itrace) or a Chrome/Perfetto/VizTracer trace (.json).");
}

void
il_application_register_resources (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      interleave_register_resource ();
      g_once_init_leave (&once, 1);
    }
}

IlApplication *
il_application_new (void)
{
  il_application_register_resources ();
  return g_object_new (IL_TYPE_APPLICATION,
                       "application-id", IL_APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/io/github/interleave/Interleave",
                       NULL);
}
