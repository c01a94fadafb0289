/* il-code-view.c — the Python a scenario stands for, the lines each task is on
 *
 * The text comes from core/il-code.h for the session's scenario in the
 * mode it runs in, regenerated when either changes.  At every move of the
 * playhead, il_code_lines_at gives each task's line; only lines whose
 * task moved are re-tagged, so playing costs a lookup per task and no
 * text layout.  A line's background takes its task's timeline colour.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <adwaita.h>

#include "il-code-view.h"
#include "il-code.h"
#include "il-theme.h"
#include "il-view.h"

struct _IlCodeView
{
  GtkWidget      parent_instance;

  IlSession     *session;
  GtkWidget     *stack;       /* "code" or "none" */
  GtkWidget     *text_view;
  GtkTextBuffer *buffer;

  IlCode        *code;
  const IlScenario *scenario; /* the scenario `code` was made for (borrowed, compared only) */
  IlMode         mode;
  guint          serial;
  GPtrArray     *tags;        /* per task, its highlight tag */
  int           *lines;       /* per task, the highlighted line or -1 */
  guint          n_tasks;
};

G_DEFINE_FINAL_TYPE (IlCodeView, il_code_view, GTK_TYPE_WIDGET)

enum { LINE_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const IlTheme *
current_theme (void)
{
  return il_theme_get (adw_style_manager_get_dark (adw_style_manager_get_default ())
                       ? IL_THEME_DARK : IL_THEME_LIGHT);
}

/* The lane of a scenario task in the trace, by index and name as the
 * engine numbers task lanes. */
static guint32
task_lane (const IlTrace *trace,
           const char    *name,
           guint          task)
{
  for (guint l = 0; l < il_trace_get_n_lanes (trace); l++)
    {
      const IlLane *lane = il_trace_get_lane (trace, l);

      if (lane->kind == IL_LANE_TASK && lane->index == task && g_strcmp0 (lane->name, name) == 0)
        return l;
    }
  return IL_NO_LANE;
}

/* One tag per task, its background the task's colour as the timeline
 * draws it, light enough that the code stays readable on it. */
static void
make_tags (IlCodeView       *self,
           const IlScenario *sc,
           const IlTrace    *trace)
{
  const IlTheme *theme = current_theme ();
  g_autoptr(IlLayout) layout = il_layout_new (trace, &theme->metrics);
  GtkTextTagTable *table = gtk_text_buffer_get_tag_table (self->buffer);

  for (guint i = 0; self->tags != NULL && i < self->tags->len; i++)
    gtk_text_tag_table_remove (table, g_ptr_array_index (self->tags, i));
  g_clear_pointer (&self->tags, g_ptr_array_unref);
  self->tags = g_ptr_array_new ();
  for (guint t = 0; t < sc->n_tasks; t++)
    {
      guint32 lane = task_lane (trace, sc->tasks[t].name, t);
      guint ident = lane != IL_NO_LANE && lane < layout->n_lanes ? layout->lane_colour[lane] : t;
      const IlColour *c = il_theme_identity (theme, ident);
      GdkRGBA rgba = { (float) c->r, (float) c->g, (float) c->b, 0.45f };

      g_ptr_array_add (self->tags, gtk_text_buffer_create_tag (self->buffer, NULL,
                                                               "paragraph-background-rgba", &rgba,
                                                               "weight", PANGO_WEIGHT_BOLD, NULL));
    }
}

static void
set_line_tag (IlCodeView *self,
              guint       task,
              int         line,
              gboolean    on)
{
  GtkTextIter start, end;

  if (line < 0 || line >= gtk_text_buffer_get_line_count (self->buffer))
    return;
  gtk_text_buffer_get_iter_at_line (self->buffer, &start, line);
  end = start;
  gtk_text_iter_forward_line (&end);
  if (on)
    gtk_text_buffer_apply_tag (self->buffer, g_ptr_array_index (self->tags, task), &start, &end);
  else
    gtk_text_buffer_remove_tag (self->buffer, g_ptr_array_index (self->tags, task), &start, &end);
}

static void
update_highlights (IlCodeView *self)
{
  IlTrace *trace = il_session_get_trace (self->session);
  g_autofree int *now_on = NULL;
  int first = -1;
  gboolean moved = FALSE;

  if (self->code == NULL || trace == NULL || self->n_tasks == 0)
    return;
  now_on = g_new (int, self->n_tasks);
  il_code_lines_at (self->code, trace, il_session_get_now (self->session), now_on);
  for (guint t = 0; t < self->n_tasks; t++)
    {
      if (now_on[t] != self->lines[t])
        {
          set_line_tag (self, t, self->lines[t], FALSE);
          set_line_tag (self, t, now_on[t], TRUE);
          self->lines[t] = now_on[t];
          moved = TRUE;
        }
      if (now_on[t] >= 0 && (first < 0 || now_on[t] < first))
        first = now_on[t];
    }
  /* Keep a highlighted line in sight while the run plays, but only when a
   * task moved: between moves the person may scroll to read. */
  if (moved && first >= 0 && gtk_widget_get_mapped (self->text_view))
    {
      GtkTextIter iter;

      gtk_text_buffer_get_iter_at_line (self->buffer, &iter, first);
      gtk_text_view_scroll_to_iter (GTK_TEXT_VIEW (self->text_view), &iter, 0.0, FALSE, 0, 0);
    }
}

/* Regenerates the code when the scenario or its mode changed. */
static void
rebuild (IlCodeView *self)
{
  const IlScenario *sc = il_session_get_scenario (self->session);
  IlTrace *trace = il_session_get_trace (self->session);
  const IlRunConfig *config = il_session_get_config (self->session);
  g_autofree char *text = NULL;

  if (sc == NULL || trace == NULL || config == NULL)
    {
      g_clear_pointer (&self->code, il_code_free);
      self->scenario = NULL;
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "none");
      return;
    }
  if (self->code != NULL && self->scenario == sc && self->mode == config->mode
      && self->serial == il_session_get_serial (self->session))
    {
      update_highlights (self);
      return;
    }
  g_clear_pointer (&self->code, il_code_free);
  self->code = il_code_new (sc, config->mode);
  self->scenario = sc;
  self->mode = config->mode;
  self->serial = il_session_get_serial (self->session);
  text = il_code_to_string (self->code);
  gtk_text_buffer_set_text (self->buffer, text, -1);
  make_tags (self, sc, trace);
  g_free (self->lines);
  self->n_tasks = sc->n_tasks;
  self->lines = g_new (int, MAX (1, self->n_tasks));
  for (guint t = 0; t < self->n_tasks; t++)
    self->lines[t] = -1;
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "code");
  update_highlights (self);
}

int
il_code_view_activate_line (IlCodeView *self,
                            guint       line)
{
  IlTrace *trace;
  g_autoptr(GArray) spans = NULL;
  gint64 now;
  const IlCodeSpan *pick = NULL;

  g_return_val_if_fail (IL_IS_CODE_VIEW (self), -1);
  trace = il_session_get_trace (self->session);
  if (self->code == NULL || trace == NULL || line >= il_code_get_n_lines (self->code))
    return -1;
  spans = il_code_line_spans (self->code, trace, line);
  if (spans == NULL || spans->len == 0)
    return -1;
  /* The next time it ran after the playhead, else (it ran only before)
   * the first time: clicking again walks through the runs of a loop. */
  now = il_session_get_now (self->session);
  for (guint i = 0; i < spans->len && pick == NULL; i++)
    if (g_array_index (spans, IlCodeSpan, i).start > now)
      pick = &g_array_index (spans, IlCodeSpan, i);
  if (pick == NULL)
    pick = &g_array_index (spans, IlCodeSpan, 0);
  il_session_seek (self->session, pick->start);
  if (pick->task >= 0 && (guint) pick->task < self->n_tasks)
    {
      const IlScenario *sc = il_session_get_scenario (self->session);
      guint32 lane = task_lane (trace, sc->tasks[pick->task].name, (guint) pick->task);

      if (lane != IL_NO_LANE)
        g_signal_emit (self, signals[LINE_ACTIVATED], 0, lane, pick->start);
    }
  return pick->task;
}

static void
on_click (GtkGestureClick *gesture,
          int              n_press,
          double           x,
          double           y,
          IlCodeView      *self)
{
  GtkTextIter iter;
  int bx, by;

  gtk_text_view_window_to_buffer_coords (GTK_TEXT_VIEW (self->text_view), GTK_TEXT_WINDOW_WIDGET,
                                         (int) x, (int) y, &bx, &by);
  if (gtk_text_view_get_iter_at_location (GTK_TEXT_VIEW (self->text_view), &iter, bx, by))
    il_code_view_activate_line (self, (guint) gtk_text_iter_get_line (&iter));
}

gboolean
il_code_view_has_code (IlCodeView *self)
{
  g_return_val_if_fail (IL_IS_CODE_VIEW (self), FALSE);
  return self->code != NULL;
}

int
il_code_view_get_highlighted_line (IlCodeView *self,
                                   guint       task)
{
  g_return_val_if_fail (IL_IS_CODE_VIEW (self), -1);
  if (self->code == NULL || task >= self->n_tasks)
    return -1;
  return self->lines[task];
}

static void
il_code_view_dispose (GObject *object)
{
  IlCodeView *self = IL_CODE_VIEW (object);

  g_clear_pointer (&self->stack, gtk_widget_unparent);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (il_code_view_parent_class)->dispose (object);
}

static void
il_code_view_finalize (GObject *object)
{
  IlCodeView *self = IL_CODE_VIEW (object);

  g_clear_pointer (&self->code, il_code_free);
  g_clear_pointer (&self->tags, g_ptr_array_unref);
  g_free (self->lines);
  G_OBJECT_CLASS (il_code_view_parent_class)->finalize (object);
}

static void
il_code_view_class_init (IlCodeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = il_code_view_dispose;
  object_class->finalize = il_code_view_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "codeview");

  /* A line was clicked: the playhead moved to when it ran, in this lane. */
  signals[LINE_ACTIVATED] = g_signal_new ("line-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_INT64);
}

static void
il_code_view_init (IlCodeView *self)
{
  GtkWidget *scroller, *none;
  GtkGesture *click;

  self->stack = gtk_stack_new ();
  gtk_widget_set_parent (self->stack, GTK_WIDGET (self));

  self->text_view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->text_view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (self->text_view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->text_view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->text_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->text_view), 8);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->text_view), 6);
  gtk_widget_add_css_class (self->text_view, "code");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "The Python each task stands for; the line each task is on is highlighted",
                                  -1);
  self->buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (self->text_view, GTK_EVENT_CONTROLLER (click));

  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->text_view);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_stack_add_named (GTK_STACK (self->stack), scroller, "code");

  none = gtk_label_new ("No code to show: this trace was recorded or imported, not simulated from a "
                        "scenario, so there is no Python to point at.");
  gtk_label_set_wrap (GTK_LABEL (none), TRUE);
  gtk_widget_set_margin_start (none, 18);
  gtk_widget_set_margin_end (none, 18);
  gtk_widget_add_css_class (none, "dim-label");
  gtk_stack_add_named (GTK_STACK (self->stack), none, "none");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "none");
}

GtkWidget *
il_code_view_new (IlSession *session)
{
  IlCodeView *self;

  g_return_val_if_fail (IL_IS_SESSION (session), NULL);
  self = g_object_new (IL_TYPE_CODE_VIEW, NULL);
  self->session = g_object_ref (session);
  g_signal_connect_object (session, "trace-changed", G_CALLBACK (rebuild), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "progressed", G_CALLBACK (update_highlights), self, G_CONNECT_SWAPPED);
  rebuild (self);
  return GTK_WIDGET (self);
}
