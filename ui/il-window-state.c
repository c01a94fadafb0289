/* il-window-state.c — the session saved on every change and restored on the next start
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <math.h>

#include "il-window-private.h"

/* ------------------------------------------------------- saved session */

static char *
session_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "interleave", "session.ini", NULL);
}

gboolean
_il_window_save_session_cb (gpointer data)
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

void
_il_window_queue_save_session (IlWindow *self)
{
  if (self->save_id == 0)
    self->save_id = g_timeout_add_seconds (2, _il_window_save_session_cb, self);
}

/* A saved number brought within the parameter table's limits (nanoseconds
 * for times): the file may come from another version, or be edited. */
static gint64
clamp_to_param (const char *key,
                gint64      value)
{
  const IlParamInfo *param = il_param_find (key);
  double scale = param->type == IL_PARAM_TIME ? 1e6 : 1;

  return CLAMP (value, (gint64) ceil (param->min * scale), (gint64) floor (param->max * scale));
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
    config.cores = (guint32) clamp_to_param ("cores", g_key_file_get_integer (kf, "session", "cores", NULL));
  if (g_key_file_has_key (kf, "session", "workers", NULL))
    config.workers = (guint32) clamp_to_param ("workers", g_key_file_get_integer (kf, "session", "workers", NULL));
  if (g_key_file_has_key (kf, "session", "switch_interval_ns", NULL))
    config.switch_interval = clamp_to_param ("switch_interval",
                                             g_key_file_get_int64 (kf, "session", "switch_interval_ns", NULL));
  _il_window_apply_config (self, &config);
  now = g_key_file_get_int64 (kf, "session", "now_ns", NULL);
  il_session_seek (self->session, MAX (now, 0));
  _il_window_sync_controls (self);
  return TRUE;
}
