/* il-record-run.c — start a real Python program with the recorder loaded
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
/* strverscmp */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "il-record-run.h"
#include "il-recording.h"

G_DEFINE_QUARK (il-record-run-error-quark, il_record_run_error)

char *
il_record_find_recorder_dir (void)
{
  const char *candidates[] = {
    g_getenv ("INTERLEAVE_RECORDER_DIR"),
#ifdef IL_RECORDER_BUILD_DIR
    IL_RECORDER_BUILD_DIR,
#endif
#ifdef IL_RECORDER_INSTALL_DIR
    IL_RECORDER_INSTALL_DIR,
#endif
  };

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *boot = NULL;
      if (candidates[i] == NULL || candidates[i][0] == '\0')
        continue;
      boot = g_build_filename (candidates[i], "sitecustomize.py", NULL);
      if (g_file_test (boot, G_FILE_TEST_IS_REGULAR))
        return g_strdup (candidates[i]);
    }
  return NULL;
}

/* Adds path when it runs and is not an interpreter listed already under
 * another name (/usr/bin/python3 and /usr/bin/python3.11 are one). */
static void
add_unique (GPtrArray  *paths,
            GHashTable *seen,
            const char *path)
{
  char *real;

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    return;
  real = realpath (path, NULL);
  if (real == NULL)
    return;
  if (!g_hash_table_contains (seen, real))
    {
      g_hash_table_add (seen, g_strdup (real));
      g_ptr_array_add (paths, g_strdup (path));
    }
  free (real);
}

/* pyenv's shims are scripts that pick an interpreter at run time: NULL. */
char *
il_record_interpreter_version (const char *path)
{
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  char *real;
  const char *v;

  if (strstr (path, "/shims/") != NULL)
    return NULL;
  real = realpath (path, NULL);
  if (real == NULL)
    return NULL;
  base = g_path_get_basename (real);
  dir = g_path_get_dirname (real);
  free (real);
  if (g_str_has_prefix (base, "python3.") && base[8] != '\0' && strspn (base + 8, "0123456789") == strlen (base + 8))
    return g_strdup (base + 6);
  /* .../versions/3.11.7/bin/python3 */
  v = strstr (dir, "/versions/");
  if (v != NULL)
    {
      const char *start = v + strlen ("/versions/");
      const char *dot = strchr (start, '.');
      if (dot != NULL && dot[1] != '\0')
        {
          gsize n = strspn (dot + 1, "0123456789");
          if (n > 0)
            return g_strndup (start, (dot + 1 + n) - start);
        }
    }
  return NULL;
}

static void
add_known (GPtrArray  *paths,
           GHashTable *seen,
           GPtrArray  *versions,
           const char *path)
{
  g_autofree char *version = NULL;

  if (path == NULL)
    return;
  version = il_record_interpreter_version (path);
  if (version == NULL)
    return;
  for (guint i = 0; i < versions->len; i++)
    if (g_str_equal (version, g_ptr_array_index (versions, i)))
      {
        add_unique (paths, seen, path);
        return;
      }
}

static int
compare_versions (gconstpointer a,
                  gconstpointer b)
{
  return strverscmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
il_record_list_interpreters (const char *recorder_dir)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = recorder_dir != NULL ? g_dir_open (recorder_dir, 0, NULL) : NULL;
  g_autofree char *pyenv = g_build_filename (g_get_home_dir (), ".pyenv", "versions", NULL);
  g_autoptr(GDir) pyenv_dir = g_dir_open (pyenv, 0, NULL);
  g_autoptr(GPtrArray) pyenv_names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *python3 = g_find_program_in_path ("python3");
  const char *name;

  /* The modules say which versions the recorder was built for:
   * _interleave_recorder_311.cpython-311-….so is "3.11". */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "_interleave_recorder_") && strstr (name, ".so") != NULL)
      {
        const char *tag = name + strlen ("_interleave_recorder_");
        gsize n = strspn (tag, "0123456789");
        if (n >= 3)
          g_ptr_array_add (versions, g_strdup_printf ("%c.%.*s", tag[0], (int) (n - 1), tag + 1));
      }

  /* python3 on PATH first, then the system's, then every pythonX.Y on
   * PATH and pyenv's versions; each when the recorder has its module. */
  add_known (paths, seen, versions, python3);
  add_known (paths, seen, versions, "/usr/bin/python3");
  for (guint i = 0; i < versions->len; i++)
    {
      g_autofree char *named = g_strconcat ("python", (char *) g_ptr_array_index (versions, i), NULL);
      g_autofree char *found = g_find_program_in_path (named);
      add_known (paths, seen, versions, found);
    }
  while (pyenv_dir != NULL && (name = g_dir_read_name (pyenv_dir)) != NULL)
    g_ptr_array_add (pyenv_names, g_strdup (name));
  g_ptr_array_sort (pyenv_names, compare_versions);
  for (guint i = 0; i < pyenv_names->len; i++)
    {
      g_autofree char *path = g_build_filename (pyenv, (char *) g_ptr_array_index (pyenv_names, i), "bin",
                                                "python3", NULL);
      add_known (paths, seen, versions, path);
    }
  return paths;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

IlRecordRun *
il_record_run_prepare (const char         *python,
                       const char *const  *program_argv,
                       const char         *raw_dir,
                       GError            **error)
{
  g_autoptr(IlRecordRun) run = g_new0 (IlRecordRun, 1);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GString) program = g_string_new (NULL);

  g_return_val_if_fail (program_argv != NULL && program_argv[0] != NULL, NULL);

  run->recorder_dir = il_record_find_recorder_dir ();
  if (run->recorder_dir == NULL)
    {
      g_set_error (error, IL_RECORD_RUN_ERROR, IL_RECORD_RUN_ERROR_NO_RECORDER,
                   "the recorder is not installed (set INTERLEAVE_RECORDER_DIR)");
      return NULL;
    }
  run->interpreter = g_find_program_in_path (python != NULL ? python : "python3");
  if (run->interpreter == NULL)
    {
      g_set_error (error, IL_RECORD_RUN_ERROR, IL_RECORD_RUN_ERROR_NO_INTERPRETER,
                   "%s: no such interpreter", python != NULL ? python : "python3");
      return NULL;
    }

  if (raw_dir != NULL)
    {
      g_autoptr(GDir) d = NULL;
      const char *name;

      if (g_mkdir_with_parents (raw_dir, 0755) < 0)
        {
          int saved = errno;
          g_set_error (error, IL_RECORD_RUN_ERROR, IL_RECORD_RUN_ERROR_IO,
                       "%s: cannot create: %s", raw_dir, g_strerror (saved));
          return NULL;
        }
      /* A file of an earlier run would be merged into this one. */
      d = g_dir_open (raw_dir, 0, NULL);
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        if (g_str_has_prefix (name, "proc-") && g_str_has_suffix (name, ".rec"))
          {
            g_autofree char *path = g_build_filename (raw_dir, name, NULL);
            g_unlink (path);
          }
      run->record_dir = g_strdup (raw_dir);
    }
  else
    {
      GError *local = NULL;
      run->record_dir = g_dir_make_tmp ("interleave-recording-XXXXXX", &local);
      if (run->record_dir == NULL)
        {
          g_set_error_literal (error, IL_RECORD_RUN_ERROR, IL_RECORD_RUN_ERROR_IO, local->message);
          g_error_free (local);
          return NULL;
        }
      run->own_dir = TRUE;
    }

  run->envp = g_get_environ ();
  {
    const char *old = g_environ_getenv (run->envp, "PYTHONPATH");
    g_autofree char *path = old != NULL && old[0] != '\0'
                            ? g_strconcat (run->recorder_dir, ":", old, NULL)
                            : g_strdup (run->recorder_dir);
    run->envp = g_environ_setenv (run->envp, "PYTHONPATH", path, TRUE);
    run->envp = g_environ_setenv (run->envp, "INTERLEAVE_RECORD_DIR", run->record_dir, TRUE);
  }
  g_ptr_array_add (argv, g_strdup (run->interpreter));
  for (gsize i = 0; program_argv[i] != NULL; i++)
    {
      g_ptr_array_add (argv, g_strdup (program_argv[i]));
      g_string_append_printf (program, "%s%s", program->len ? " " : "", program_argv[i]);
    }
  g_ptr_array_add (argv, NULL);
  run->argv = (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  run->program = g_string_free (g_steal_pointer (&program), FALSE);
  return g_steal_pointer (&run);
}

GSubprocess *
il_record_run_spawn (IlRecordRun *run,
                     const char  *cwd,
                     GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE
                               | G_SUBPROCESS_FLAGS_STDIN_PIPE);

  g_return_val_if_fail (run != NULL, NULL);
  g_subprocess_launcher_set_environ (launcher, run->envp);
  /* A pipe makes Python buffer its output; the window shows it as it comes. */
  g_subprocess_launcher_setenv (launcher, "PYTHONUNBUFFERED", "1", TRUE);
  if (cwd != NULL && cwd[0] != '\0')
    g_subprocess_launcher_set_cwd (launcher, cwd);
  return g_subprocess_launcher_spawnv (launcher, (const char *const *) run->argv, error);
}

IlTrace *
il_record_run_finish (IlRecordRun *run,
                      int          exit_code,
                      GError     **error)
{
  g_return_val_if_fail (run != NULL, NULL);
  return il_recording_load_dir (run->record_dir, run->program, exit_code, error);
}

int
il_record_run_exit_code (int wait_status)
{
  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return -1;
}

void
il_record_run_free (IlRecordRun *run)
{
  if (run == NULL)
    return;
  if (run->own_dir && run->record_dir != NULL)
    remove_dir (run->record_dir);
  g_free (run->recorder_dir);
  g_free (run->interpreter);
  g_free (run->record_dir);
  g_strfreev (run->argv);
  g_strfreev (run->envp);
  g_free (run->program);
  g_free (run);
}
