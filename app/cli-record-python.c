/* cli-record-python.c — `interleave-cli record-python`: record a real Python program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs PROGRAM.py with the chosen interpreter, the recorder's bootstrap
 * first on PYTHONPATH and a fresh recording directory in
 * INTERLEAVE_RECORD_DIR, waits for it, and converts what every process
 * wrote into one .itrace, saved atomically.  The program keeps the
 * terminal: its stdin, stdout and stderr are ours, and its exit status is
 * ours too (128 + N when signal N ended it).  Ctrl+C reaches it from the
 * terminal directly; SIGTERM, SIGHUP and SIGQUIT sent to us are passed on,
 * and we wait for it to finish writing before saving.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli-commands.h"
#include "il-recording.h"
#include "il-trace-io.h"

static volatile sig_atomic_t child_pid;

static void
forward_signal (int sig)
{
  if (child_pid > 0)
    kill ((pid_t) child_pid, sig);
}

/* Where the bootstrap and the compiled modules are: $INTERLEAVE_RECORDER_DIR,
 * the build tree this binary was built in, or the installed copy. */
static char *
find_recorder_dir (void)
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

static void
json_string (const char *s)
{
  putchar ('"');
  for (; *s; s++)
    {
      unsigned char ch = (unsigned char) *s;
      if (ch == '"' || ch == '\\')
        printf ("\\%c", ch);
      else if (ch < 0x20)
        printf ("\\u%04x", ch);
      else
        putchar (ch);
    }
  putchar ('"');
}

/* Runs argv with env and returns its exit status as a shell reports it. */
static int
run_child (char **argv,
           char **envp)
{
  struct sigaction fwd = { 0 }, ign = { 0 }, old[4];
  static const int forwarded[] = { SIGTERM, SIGHUP, SIGQUIT };
  pid_t pid;
  int status = 0;

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      fprintf (stderr, "interleave-cli record-python: cannot start %s: %s\n", argv[0], g_strerror (errno));
      return -1;
    }
  if (pid == 0)
    {
      execve (argv[0], argv, envp);
      fprintf (stderr, "interleave-cli record-python: cannot run %s: %s\n", argv[0], g_strerror (errno));
      _exit (127);
    }
  child_pid = pid;
  fwd.sa_handler = forward_signal;
  sigemptyset (&fwd.sa_mask);
  ign.sa_handler = SIG_IGN;
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    sigaction (forwarded[i], &fwd, &old[i]);
  /* The terminal sends Ctrl+C to the program itself; we wait for it. */
  sigaction (SIGINT, &ign, &old[3]);

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        status = -1;
        break;
      }
  child_pid = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    sigaction (forwarded[i], &old[i], NULL);
  sigaction (SIGINT, &old[3], NULL);

  if (status == -1)
    return -1;
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return -1;
}

int
il_cli_record_python (int    argc,
                      char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *python = NULL;
  g_autofree char *raw = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Recording to write (.itrace)", "FILE" },
    { "python", 0, 0, G_OPTION_ARG_FILENAME, &python, "Interpreter to run (default: python3 on PATH)", "PATH" },
    { "raw", 0, 0, G_OPTION_ARG_FILENAME, &raw, "Keep the recorder's per-process files in DIR", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "After the program, print what was recorded as JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new ("-o OUT.itrace [--python PATH] -- PROGRAM.py [ARGS…] — run a Python program and record it");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) child_argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) program = g_string_new (NULL);
  g_autofree char *recorder = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *interp = NULL;
  g_auto(GStrv) envp = NULL;
  g_autoptr(IlTrace) trace = NULL;
  int split = argc, own_argc, code;

  /* Everything after "--" belongs to the program, options included. */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        split = i;
        break;
      }
  own_argc = split;
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_strict_posix (context, TRUE);
  {
    g_autofree char **own = g_new0 (char *, own_argc + 1);
    char **own_ptr = own;
    memcpy (own, argv, sizeof (char *) * own_argc);
    if (!g_option_context_parse (context, &own_argc, &own_ptr, &error))
      {
        fprintf (stderr, "interleave-cli record-python: %s\n", error->message);
        return IL_CLI_EXIT_BAD_INPUT;
      }
    if (own_argc > 1)
      {
        fprintf (stderr, "interleave-cli record-python: unexpected %s (put the program after --)\n", own_ptr[1]);
        return IL_CLI_EXIT_BAD_INPUT;
      }
  }
  if (output == NULL || split >= argc - 1)
    {
      fprintf (stderr, "interleave-cli record-python: expected -o OUT.itrace -- PROGRAM.py [ARGS…]\n");
      return IL_CLI_EXIT_BAD_INPUT;
    }

  recorder = find_recorder_dir ();
  if (recorder == NULL)
    {
      fprintf (stderr, "interleave-cli record-python: the recorder is not installed (set INTERLEAVE_RECORDER_DIR)\n");
      return IL_CLI_EXIT_FAILED;
    }
  interp = g_find_program_in_path (python != NULL ? python : "python3");
  if (interp == NULL)
    {
      fprintf (stderr, "interleave-cli record-python: %s: no such interpreter\n", python != NULL ? python : "python3");
      return IL_CLI_EXIT_BAD_INPUT;
    }

  if (raw != NULL)
    {
      if (g_mkdir_with_parents (raw, 0755) < 0)
        {
          fprintf (stderr, "%s: cannot create: %s\n", raw, g_strerror (errno));
          return IL_CLI_EXIT_FAILED;
        }
      /* A file of an earlier run would be merged into this one. */
      {
        g_autoptr(GDir) d = g_dir_open (raw, 0, NULL);
        const char *name;
        while (d != NULL && (name = g_dir_read_name (d)) != NULL)
          if (g_str_has_prefix (name, "proc-") && g_str_has_suffix (name, ".rec"))
            {
              g_autofree char *path = g_build_filename (raw, name, NULL);
              g_unlink (path);
            }
      }
      dir = g_strdup (raw);
    }
  else
    {
      dir = g_dir_make_tmp ("interleave-recording-XXXXXX", &error);
      if (dir == NULL)
        {
          fprintf (stderr, "interleave-cli record-python: %s\n", error->message);
          return IL_CLI_EXIT_FAILED;
        }
    }

  envp = g_get_environ ();
  {
    const char *old = g_environ_getenv (envp, "PYTHONPATH");
    g_autofree char *path = old != NULL && old[0] != '\0' ? g_strconcat (recorder, ":", old, NULL) : g_strdup (recorder);
    envp = g_environ_setenv (envp, "PYTHONPATH", path, TRUE);
    envp = g_environ_setenv (envp, "INTERLEAVE_RECORD_DIR", dir, TRUE);
  }
  g_ptr_array_add (child_argv, g_strdup (interp));
  for (int i = split + 1; i < argc; i++)
    {
      g_ptr_array_add (child_argv, g_strdup (argv[i]));
      g_string_append_printf (program, "%s%s", program->len ? " " : "", argv[i]);
    }
  g_ptr_array_add (child_argv, NULL);

  code = run_child ((char **) child_argv->pdata, envp);

  trace = il_recording_load_dir (dir, program->str, code, &error);
  if (raw == NULL)
    remove_dir (dir);
  if (trace == NULL)
    {
      fprintf (stderr, "interleave-cli record-python: %s: no recording: %s\n", program->str, error->message);
      return code > 0 ? code : IL_CLI_EXIT_FAILED;
    }
  if (!il_trace_save (trace, NULL, output, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return code > 0 ? code : IL_CLI_EXIT_FAILED;
    }

  if (json)
    {
      static const char *const ints[] = { "gil_switches", "loop_iterations", "tasks", "threads", "processes",
                                          "work_items", "exit_code" };
      g_autofree char *version = il_recording_meta_get (trace, "python");
      g_autofree char *mode = il_recording_meta_get (trace, "mode");
      printf ("{\n  \"file\": ");
      json_string (output);
      printf (",\n  \"source\": \"cpython\",\n  \"python\": ");
      json_string (version ? version : "");
      printf (",\n  \"mode\": ");
      json_string (mode ? mode : "");
      for (gsize i = 0; i < G_N_ELEMENTS (ints); i++)
        {
          g_autofree char *v = il_recording_meta_get (trace, ints[i]);
          printf (",\n  \"%s\": %s", ints[i], v != NULL ? v : "0");
        }
      printf (",\n  \"span_ms\": %.6f,\n  \"events\": %" G_GSIZE_FORMAT "\n}\n", trace->end_time / 1e6,
              trace->n_events);
    }
  return code >= 0 ? code : IL_CLI_EXIT_FAILED;
}
