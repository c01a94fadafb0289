/* cli-record-python.c — `interleave-cli record-python`: record a real Python program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs PROGRAM.py with the chosen interpreter, the recorder's bootstrap
 * first on PYTHONPATH and a fresh recording directory in
 * INTERLEAVE_RECORD_DIR (il-record-run.c, shared with the window), waits for it, and converts what every process
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
#include "il-record-run.h"
#include "il-recording.h"
#include "il-trace-io.h"

static volatile sig_atomic_t child_pid;

static void
forward_signal (int sig)
{
  if (child_pid > 0)
    kill ((pid_t) child_pid, sig);
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
  return il_record_run_exit_code (status);
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
  g_autoptr(IlRecordRun) run = NULL;
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

  run = il_record_run_prepare (python, (const char *const *) argv + split + 1, raw, &error);
  if (run == NULL)
    {
      fprintf (stderr, "interleave-cli record-python: %s\n", error->message);
      return g_error_matches (error, IL_RECORD_RUN_ERROR, IL_RECORD_RUN_ERROR_NO_INTERPRETER)
             ? IL_CLI_EXIT_BAD_INPUT : IL_CLI_EXIT_FAILED;
    }

  code = run_child (run->argv, run->envp);

  trace = il_record_run_finish (run, code, &error);
  if (trace == NULL)
    {
      fprintf (stderr, "interleave-cli record-python: %s: no recording: %s\n", run->program, error->message);
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
                                          "work_items", "exit_code", "locks", "lock_waits", "lock_handoffs",
                                          "drop_requests", "file_calls", "c_calls", "queues", "queue_ops",
                                          "queue_handoffs" };
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
