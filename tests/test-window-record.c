/* test-window-record.c — recording a real program in the window, live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs a tiny threaded Python program through the window's Record code
 * path (the dialog's Record calls il_window_record_python), checks the
 * timeline shows its threads and the GIL while it still runs and after it
 * ends, that the finished recording was saved, that Simulate This puts
 * the real run above the simulated modes, and that the statistics say
 * where the model's numbers come from.  Skipped when no interpreter the
 * recorder was built for is found.  With IL_SCREENSHOT_DIR set it also
 * takes screenshots of the screen (import -window root) for the README.
 */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "il-application.h"
#include "il-compare-view.h"
#include "il-record-dialog.h"
#include "il-record-run.h"
#include "il-recording.h"
#include "il-window-record.h"

static const char program_text[] =
  "import threading, time\n"
  "def crunch():\n"
  "    end = time.monotonic() + 1.2\n"
  "    x = 0\n"
  "    while time.monotonic() < end:\n"
  "        x += 1\n"
  "print('crunching', flush=True)\n"
  "ts = [threading.Thread(target=crunch, name='cruncher-%d' % i) for i in range(2)]\n"
  "for t in ts: t.start()\n"
  "for t in ts: t.join()\n"
  "print('done')\n";

static char *python;

static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
screenshot (const char *name,
            guint       settle_ms)
{
  const char *dir = g_getenv ("IL_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autofree char *command = NULL;

  if (dir == NULL)
    return;
  iterate_for (settle_ms);
  path = g_build_filename (dir, name, NULL);
  command = g_strdup_printf ("import -window root %s", path);
  g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
}

/* Lanes of the program's threads and its GIL in trace. */
static void
count_lanes (IlTrace *trace,
             guint   *crunchers,
             guint   *gils)
{
  *crunchers = *gils = 0;
  for (guint i = 0; i < il_trace_get_n_lanes (trace); i++)
    {
      const IlLane *lane = il_trace_get_lane (trace, i);
      if (lane->kind == IL_LANE_GIL)
        (*gils)++;
      else if (lane->name != NULL && g_str_has_prefix (lane->name, "cruncher-"))
        (*crunchers)++;
    }
}

static void
test_record_live (void)
{
  IlWindow *window;
  IlSession *session;
  IlLiveRecording *live;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *prog = NULL;
  const char *argv[2] = { NULL, NULL };
  gint64 deadline;
  gboolean seen_live = FALSE;
  guint crunchers, gils;
  IlTrace *trace;
  g_autofree char *version = NULL;

  if (python == NULL)
    {
      g_test_skip ("no interpreter the recorder was built for");
      return;
    }
  dir = g_dir_make_tmp ("il-window-record-XXXXXX", &error);
  g_assert_no_error (error);
  prog = g_build_filename (dir, "crunch.py", NULL);
  g_assert_true (g_file_set_contents (prog, program_text, -1, &error));
  argv[0] = prog;

  window = g_object_new (IL_TYPE_WINDOW, NULL);
  session = il_window_get_session (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1600, 1000);
  gtk_window_present (GTK_WINDOW (window));
  iterate_for (200);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "simulate-this"));

  g_assert_true (il_window_record_python (window, python, argv, dir, &error));
  g_assert_no_error (error);
  live = il_window_get_live_recording (window);
  g_assert_nonnull (live);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "record-python"));

  /* While it runs: the timeline shows the trace so far, growing. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (il_live_recording_get_running (live) && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      trace = il_session_get_trace (session);
      if (!seen_live && trace != NULL && trace == il_live_recording_get_trace (live)
          && il_live_recording_get_elapsed (live) > 0.7)
        {
          count_lanes (trace, &crunchers, &gils);
          if (crunchers == 2 && gils >= 1)
            {
              g_assert_true (il_live_recording_get_running (live));
              g_assert_cmpint (trace->end_time, >, 0);
              seen_live = TRUE;
              screenshot ("recording-live.png", 300);
            }
        }
    }
  g_assert_false (il_live_recording_get_running (live));
  g_assert_true (seen_live);
  g_assert_cmpint (il_live_recording_get_exit_code (live), ==, 0);

  /* Ended: the whole recording is shown, saved, and stays open. */
  iterate_for (200);
  trace = il_session_get_trace (session);
  g_assert_true (trace == il_live_recording_get_trace (live));
  count_lanes (trace, &crunchers, &gils);
  g_assert_cmpuint (crunchers, ==, 2);
  g_assert_cmpuint (gils, >=, 1);
  {
    g_autofree char *code = il_recording_meta_get (trace, "exit_code");
    g_autofree char *switches = il_recording_meta_get (trace, "gil_switches");
    g_assert_cmpstr (code, ==, "0");
    g_assert_nonnull (switches);
    g_assert_cmpint (g_ascii_strtoll (switches, NULL, 10), >, 0);
  }
  g_assert_nonnull (il_window_get_recording_path (window));
  g_assert_true (g_file_test (il_window_get_recording_path (window), G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "record-python"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "simulate-this"));
  version = il_recording_meta_get (trace, "python");
  g_assert_nonnull (strstr (il_window_get_params_source (window), version));

  /* Simulate This: the real run on top, the simulated modes below. */
  g_assert_true (il_window_simulate_this (window, &error));
  g_assert_no_error (error);
  {
    IlCompareView *compare = il_window_get_compare_view (window);
    gint64 deadline2 = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while ((il_compare_view_get_makespan (compare, IL_MODE_THREADS) < 0
            || il_compare_view_get_makespan (compare, IL_MODE_SEQUENTIAL) < 0)
           && g_get_monotonic_time () < deadline2)
      g_main_context_iteration (NULL, FALSE);
    /* The real row's makespan is the recording's (its last task's end). */
    g_assert_cmpint (il_compare_view_get_makespan (compare, IL_N_MODES), ==,
                     il_session_get_final_stats (session)->makespan);
    g_assert_cmpint (il_compare_view_get_makespan (compare, IL_MODE_THREADS), >, 0);
    g_assert_cmpint (il_compare_view_get_makespan (compare, IL_MODE_SEQUENTIAL), >, 0);
    {
      g_autofree char *title = g_strdup_printf ("Recorded run (CPython %s) — ", version);
      g_assert_true (g_str_has_prefix (il_compare_view_get_label (compare, IL_N_MODES), title));
    }
    /* Two CPU-bound threads under the GIL take about as long as one after
     * the other: the derived scenario simulated in threads mode is close
     * to the real run. */
    g_assert_cmpfloat ((double) il_compare_view_get_makespan (compare, IL_MODE_THREADS) / trace->end_time, >, 0.7);
    g_assert_cmpfloat ((double) il_compare_view_get_makespan (compare, IL_MODE_THREADS) / trace->end_time, <, 1.3);
    /* After the "Recording saved" toast has gone. */
    screenshot ("simulate-this.png", 6000);
  }
  /* The action again goes back to the recording. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "simulate-this", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (gtk_widget_get_parent (
                     GTK_WIDGET (il_window_get_compare_view (window))))), ==, "timeline");
  g_action_group_activate_action (G_ACTION_GROUP (window), "simulate-this", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (gtk_widget_get_parent (
                     GTK_WIDGET (il_window_get_compare_view (window))))), ==, "compare");

  g_unlink (il_window_get_recording_path (window));
  g_unlink (prog);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_calibration_source (void)
{
  IlWindow *window = g_object_new (IL_TYPE_WINDOW, NULL);
  IlSession *session = il_window_get_session (window);
  IlCalibration *cal = g_new0 (IlCalibration, 1);
  IlParams reference;
  const IlCalibratedParam *ps;
  guint n;
  gint64 *field;

  gtk_window_present (GTK_WINDOW (window));
  iterate_for (100);
  /* The tests' configuration folder has no calibration. */
  g_assert_nonnull (strstr (il_window_get_params_source (window), "reference values"));

  il_params_init_defaults (&reference);
  cal->params = reference;
  ps = il_calibration_params (&n);
  g_assert_cmpuint (n, >, 0);
  field = (gint64 *) (gpointer) ((guint8 *) &cal->params + ps[0].offset);
  *field = *field * 3 + 1000;
  cal->python_version = g_strdup ("3.11.2");
  cal->python_path = g_strdup ("/usr/bin/python3");
  cal->measured_at = g_strdup ("2026-11-30T04:00:00Z");
  cal->cores = 2;
  il_window_set_calibration (window, cal);
  iterate_for (100);
  g_assert_nonnull (strstr (il_window_get_params_source (window), "calibrated on 2026-11-30"));
  g_assert_nonnull (strstr (il_window_get_params_source (window), "3.11.2"));
  /* Simulations use it... */
  g_assert_cmpint (*(const gint64 *) (gconstpointer) ((const guint8 *) &il_session_get_config (session)->params
                                                      + ps[0].offset), ==, *field);

  /* ...until the user turns back to the reference values. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "reference-params", NULL);
  iterate_for (100);
  g_assert_nonnull (strstr (il_window_get_params_source (window), "reference values"));
  g_assert_cmpint (*(const gint64 *) (gconstpointer) ((const guint8 *) &il_session_get_config (session)->params
                                                      + ps[0].offset), ==,
                   *(const gint64 *) (gconstpointer) ((const guint8 *) &reference + ps[0].offset));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Started from the dialog, Stop ends a program that would run on: SIGINT,
 * which Python turns into KeyboardInterrupt; the recording is kept. */
static void
test_record_stop (void)
{
  IlWindow *window;
  IlLiveRecording *live;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *prog = NULL;
  gint64 deadline;

  if (python == NULL)
    {
      g_test_skip ("no interpreter the recorder was built for");
      return;
    }
  dir = g_dir_make_tmp ("il-window-record-XXXXXX", &error);
  g_assert_no_error (error);
  prog = g_build_filename (dir, "forever.py", NULL);
  g_assert_true (g_file_set_contents (prog, "import time\nwhile True:\n    time.sleep(0.01)\n", -1, &error));

  window = g_object_new (IL_TYPE_WINDOW, NULL);
  gtk_window_present (GTK_WINDOW (window));
  /* Through the dialog, as a person would: program, arguments, Record. */
  {
    GtkWidget *dialog = il_window_open_record_dialog (window);
    g_autofree char *expected = g_strdup_printf ("%s --every 0.01 two words", prog);

    iterate_for (100);
    /* No program chosen yet: Record does nothing. */
    gtk_widget_activate_action (dialog, "record.start", NULL);
    g_assert_null (il_window_get_live_recording (window));
    il_record_dialog_set_program (IL_RECORD_DIALOG (dialog), prog);
    il_record_dialog_set_arguments (IL_RECORD_DIALOG (dialog), "--every 0.01 'two words'");
    g_assert_true (gtk_widget_activate_action (dialog, "record.start", NULL));
    live = il_window_get_live_recording (window);
    g_assert_nonnull (live);
    g_assert_cmpstr (il_live_recording_get_program (live), ==, expected);
  }
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (il_live_recording_get_trace (live) == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_nonnull (il_live_recording_get_trace (live));
  g_assert_true (il_live_recording_get_running (live));

  g_action_group_activate_action (G_ACTION_GROUP (window), "stop-recording", NULL);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (il_live_recording_get_running (live) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (il_live_recording_get_running (live));
  /* Ended by SIGINT (130) or by KeyboardInterrupt's exit status. */
  g_assert_cmpint (il_live_recording_get_exit_code (live), !=, 0);
  g_assert_nonnull (il_window_get_recording_path (window));
  g_assert_true (il_session_get_trace (il_window_get_session (window)) == il_live_recording_get_trace (live));
  g_unlink (il_window_get_recording_path (window));
  g_unlink (prog);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Calibrate This Machine… runs in a thread; Cancel (Escape) stops it and
 * leaves the reference values in place. */
static void
test_calibrate_cancel (void)
{
  IlWindow *window = g_object_new (IL_TYPE_WINDOW, NULL);
  gint64 deadline;

  gtk_window_present (GTK_WINDOW (window));
  iterate_for (100);
  g_action_group_activate_action (G_ACTION_GROUP (window), "calibrate", NULL);
  iterate_for (300);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "calibrate"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-loading", NULL));
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "calibrate")
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "calibrate"));
  g_assert_nonnull (strstr (il_window_get_params_source (window), "reference values"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *state = g_dir_make_tmp ("il-window-record-state-XXXXXX", NULL);
  g_autofree char *recorder = NULL;
  g_autoptr(GPtrArray) pythons = NULL;
  int status;

  /* Sessions and recordings go to temporary folders, not ~. */
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_setenv ("XDG_DATA_HOME", state, TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  il_application_register_resources ();

  /* The interpreter the recorder test uses, when the recorder has a
   * module for it. */
  recorder = il_record_find_recorder_dir ();
  pythons = il_record_list_interpreters (recorder);
  for (guint i = 0; i < pythons->len && python == NULL; i++)
    {
      char *real = realpath (g_ptr_array_index (pythons, i), NULL);
      char *usr = realpath ("/usr/bin/python3", NULL);
      if (real != NULL && usr != NULL && g_str_equal (real, usr))
        python = g_strdup (g_ptr_array_index (pythons, i));
      free (real);
      free (usr);
    }
  if (python == NULL && pythons->len > 0)
    python = g_strdup (g_ptr_array_index (pythons, 0));

  g_test_add_func ("/window-record/live", test_record_live);
  g_test_add_func ("/window-record/stop", test_record_stop);
  g_test_add_func ("/window-record/calibration-source", test_calibration_source);
  g_test_add_func ("/window-record/calibrate-cancel", test_calibrate_cancel);
  status = g_test_run ();
  g_free (python);
  {
    static const char *const left[] = { "interleave/recordings", "interleave/session.ini", "interleave" };
    for (guint i = 0; i < G_N_ELEMENTS (left); i++)
      {
        g_autofree char *path = g_build_filename (state, left[i], NULL);
        g_remove (path);
      }
    g_rmdir (state);
  }
  return status;
}
