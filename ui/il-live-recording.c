/* il-live-recording.c — a real Python program recorded while it runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Rebuilding the whole trace on a tick is simple and cheap enough for the
 * programs a person watches live: it only happens when the recorder's
 * files grew, and a build of 111 000 events (an asyncio program with
 * 20 000 task steps beside three threads) took 19–28 ms here.  So that a
 * long recording cannot take the main thread over, the next rebuild waits
 * for four times what the last one cost (the build and drawing it): the
 * window stays at least 80 % free and the view lags by a fraction of a
 * second at worst.
 */
#include <signal.h>

#include <glib/gstdio.h>

#include "il-live-recording.h"
#include "il-record-run.h"
#include "il-recording.h"

#define FEED_INTERVAL_MS 50
#define TERM_AFTER_MS    2000

struct _IlLiveRecording
{
  GObject       parent_instance;

  IlRecordRun  *run;
  GSubprocess  *process;
  IlRecording  *recording;
  IlTrace      *trace;
  GError       *error;
  GCancellable *cancellable;
  guint         feed_id;
  guint         term_id;
  goffset       fed_size;     /* the files' total size at the last build */
  gint64        started;      /* monotonic µs */
  gint64        next_update;  /* no rebuild before (monotonic µs) */
  gint64        ended;
  int           exit_code;
  char          buffer[4096];
};

enum { UPDATED, OUTPUT, FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (IlLiveRecording, il_live_recording, G_TYPE_OBJECT)

static goffset
record_dir_size (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  goffset total = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_str_has_prefix (name, "proc-") && g_stat (path, &st) == 0)
        total += st.st_size;
    }
  return total;
}

/* Reads what is new and rebuilds; TRUE when the trace changed. */
static gboolean
feed (IlLiveRecording *self,
      gboolean         final)
{
  g_autoptr(GError) error = NULL;
  goffset size = record_dir_size (self->run->record_dir);
  IlTrace *trace;

  if (size == self->fed_size && !final)
    return FALSE;
  if (!il_recording_feed_dir (self->recording, self->run->record_dir, &error))
    {
      /* A damaged record: keep what was built, report it at the end. */
      if (self->error == NULL)
        self->error = g_steal_pointer (&error);
      return FALSE;
    }
  self->fed_size = size;
  il_recording_set_program (self->recording, self->run->program, final ? self->exit_code : -1);
  trace = il_recording_build (self->recording, final && self->trace == NULL ? &error : NULL);
  if (trace == NULL)
    {
      if (final && self->error == NULL)
        self->error = g_steal_pointer (&error);
      return FALSE;
    }
  g_clear_pointer (&self->trace, il_trace_unref);
  self->trace = trace;
  return TRUE;
}

static gboolean
feed_cb (gpointer data)
{
  IlLiveRecording *self = data;
  gint64 start = g_get_monotonic_time ();

  if (start < self->next_update)
    return G_SOURCE_CONTINUE;
  if (feed (self, FALSE))
    {
      g_signal_emit (self, signals[UPDATED], 0);
      self->next_update = start + 4 * (g_get_monotonic_time () - start);
    }
  return G_SOURCE_CONTINUE;
}

static void read_output (IlLiveRecording *self);

static void
on_output (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  IlLiveRecording *self = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n > 0)
    {
      g_autofree char *text = g_utf8_make_valid (self->buffer, n);
      g_signal_emit (self, signals[OUTPUT], 0, text);
      read_output (self);
    }
  g_object_unref (self);
}

static void
read_output (IlLiveRecording *self)
{
  GInputStream *out = g_subprocess_get_stdout_pipe (self->process);

  g_input_stream_read_async (out, self->buffer, sizeof self->buffer, G_PRIORITY_DEFAULT,
                             self->cancellable, on_output, g_object_ref (self));
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  IlLiveRecording *self = data;
  GSubprocess *process = G_SUBPROCESS (source);

  if (g_subprocess_wait_finish (process, result, NULL))
    self->exit_code = il_record_run_exit_code (g_subprocess_get_status (process));
  else
    self->exit_code = 1;
  self->ended = g_get_monotonic_time ();
  g_clear_handle_id (&self->feed_id, g_source_remove);
  g_clear_handle_id (&self->term_id, g_source_remove);
  feed (self, TRUE);
  g_signal_emit (self, signals[FINISHED], 0);
  g_object_unref (self);
}

static void
il_live_recording_dispose (GObject *object)
{
  IlLiveRecording *self = IL_LIVE_RECORDING (object);

  g_clear_handle_id (&self->feed_id, g_source_remove);
  g_clear_handle_id (&self->term_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  G_OBJECT_CLASS (il_live_recording_parent_class)->dispose (object);
}

static void
il_live_recording_finalize (GObject *object)
{
  IlLiveRecording *self = IL_LIVE_RECORDING (object);

  /* Only reached once the program has ended (on_exited holds a ref). */
  g_clear_object (&self->process);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->recording, il_recording_free);
  g_clear_pointer (&self->trace, il_trace_unref);
  g_clear_pointer (&self->run, il_record_run_free);
  g_clear_error (&self->error);
  G_OBJECT_CLASS (il_live_recording_parent_class)->finalize (object);
}

static void
il_live_recording_class_init (IlLiveRecordingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = il_live_recording_dispose;
  object_class->finalize = il_live_recording_finalize;

  signals[UPDATED] = g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[OUTPUT] = g_signal_new ("output", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
il_live_recording_init (IlLiveRecording *self)
{
  self->exit_code = -1;
  self->cancellable = g_cancellable_new ();
  self->recording = il_recording_new ();
}

IlLiveRecording *
il_live_recording_new (const char         *python,
                       const char *const  *program_argv,
                       const char         *cwd,
                       GError            **error)
{
  g_autoptr(IlLiveRecording) self = g_object_new (IL_TYPE_LIVE_RECORDING, NULL);

  g_return_val_if_fail (program_argv != NULL && program_argv[0] != NULL, NULL);

  self->run = il_record_run_prepare (python, program_argv, NULL, error);
  if (self->run == NULL)
    return NULL;
  self->process = il_record_run_spawn (self->run, cwd, error);
  if (self->process == NULL)
    return NULL;
  /* The program reads no input from us: end of file at once. */
  g_output_stream_close (g_subprocess_get_stdin_pipe (self->process), NULL, NULL);
  self->started = g_get_monotonic_time ();
  self->feed_id = g_timeout_add (FEED_INTERVAL_MS, feed_cb, self);
  read_output (self);
  g_subprocess_wait_async (self->process, NULL, on_exited, g_object_ref (self));
  return g_steal_pointer (&self);
}

IlTrace *
il_live_recording_get_trace (IlLiveRecording *self)
{
  g_return_val_if_fail (IL_IS_LIVE_RECORDING (self), NULL);
  return self->trace;
}

const char *
il_live_recording_get_program (IlLiveRecording *self)
{
  g_return_val_if_fail (IL_IS_LIVE_RECORDING (self), NULL);
  return self->run->program;
}

double
il_live_recording_get_elapsed (IlLiveRecording *self)
{
  g_return_val_if_fail (IL_IS_LIVE_RECORDING (self), 0);
  return ((self->ended != 0 ? self->ended : g_get_monotonic_time ()) - self->started) / 1e6;
}

gboolean
il_live_recording_get_running (IlLiveRecording *self)
{
  g_return_val_if_fail (IL_IS_LIVE_RECORDING (self), FALSE);
  return self->ended == 0;
}

int
il_live_recording_get_exit_code (IlLiveRecording *self)
{
  g_return_val_if_fail (IL_IS_LIVE_RECORDING (self), -1);
  return self->exit_code;
}

const GError *
il_live_recording_get_error (IlLiveRecording *self)
{
  g_return_val_if_fail (IL_IS_LIVE_RECORDING (self), NULL);
  return self->error;
}

static gboolean
term_cb (gpointer data)
{
  IlLiveRecording *self = data;

  self->term_id = 0;
  if (self->ended == 0)
    g_subprocess_send_signal (self->process, SIGTERM);
  return G_SOURCE_REMOVE;
}

void
il_live_recording_stop (IlLiveRecording *self)
{
  g_return_if_fail (IL_IS_LIVE_RECORDING (self));
  if (self->ended != 0)
    return;
  /* As Ctrl+C would: the program may clean up; SIGTERM if it does not end. */
  g_subprocess_send_signal (self->process, SIGINT);
  if (self->term_id == 0)
    self->term_id = g_timeout_add (TERM_AFTER_MS, term_cb, self);
}
