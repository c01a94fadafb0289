/* il-compare-view.c — one workload in every mode, stacked on one time axis
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each mode gets its own session and timeline, showing that mode's trace
 * of il_compare_run_async(): every mode on a thread of its own, off the
 * main thread, cancelled when a newer comparison replaces it;
 * zooming or panning one moves them all, so "threads took twice as long"
 * is something you see, not just read.  Above them, a bar chart of the
 * makespans with the speed-up against sequential.
 */
#include <adwaita.h>
#include <math.h>

#include "il-compare-view.h"
#include "il-compare.h"
#include "il-export.h"
#include "il-session.h"

typedef struct {
  IlMode      mode;
  IlSession  *session;
  GtkWidget  *label;
  GtkWidget  *timeline;
  char       *title;       /* the recorded run's row; NULL for a mode */
  gint64      makespan;    /* -1 while running or when the mode failed */
  char       *error;       /* why the mode failed, or NULL */
} Row;

struct _IlCompareView
{
  GtkWidget   parent_instance;

  GtkWidget  *scroller;
  GtkWidget  *box;
  GtkWidget  *chart;
  GArray     *rows;        /* of Row */
  GtkWidget  *spinner;     /* spins while the modes run */
  GCancellable *cancellable;  /* the comparison being run, or NULL */
  guint       serial;      /* which il_compare_view_set_scenario() the run belongs to */
  IlScenario *scenario;
  gboolean    syncing;
  gboolean    presenter;
  gboolean    numbers_hidden;  /* until the lesson's answer is revealed */
  GtkWidget  *heading;
};

G_DEFINE_FINAL_TYPE (IlCompareView, il_compare_view, GTK_TYPE_WIDGET)

static void
clear_rows (IlCompareView *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      gtk_box_remove (GTK_BOX (self->box), row->label);
      gtk_box_remove (GTK_BOX (self->box), row->timeline);
      g_clear_object (&row->session);
      g_free (row->title);
      g_clear_pointer (&row->error, g_free);
    }
  g_array_set_size (self->rows, 0);
}

static gint64
row_makespan (const Row *row)
{
  return row->makespan;
}

gint64
il_compare_view_get_makespan (IlCompareView *self,
                              IlMode         mode)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      if (row->mode == mode)
        return row_makespan (row);
    }
  return -1;
}

/* What the bar chart shows for a row: the makespan, or the finish of the
 * task the lesson names ("compare": {"task": …}) when the point is one
 * task's time, as lesson 7's io_thread. */
static gint64
row_chart_value (IlCompareView *self,
                 const Row     *row)
{
  const IlStats *stats;

  if (self->scenario == NULL || self->scenario->compare_task == NULL)
    return row_makespan (row);
  stats = il_session_get_final_stats (row->session);
  if (stats == NULL)
    return -1;
  for (guint i = 0; i < stats->n_tasks; i++)
    if (g_strcmp0 (stats->tasks[i].name, self->scenario->compare_task) == 0)
      return stats->tasks[i].finish;
  return -1;
}

gint64
il_compare_view_get_chart_value (IlCompareView *self,
                                 IlMode         mode)
{
  g_return_val_if_fail (IL_IS_COMPARE_VIEW (self), -1);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      if (row->mode == mode)
        return row_chart_value (self, row);
    }
  return -1;
}

/* The chart's heading: what its bars measure. */
char *
il_compare_view_get_chart_title (IlCompareView *self)
{
  g_return_val_if_fail (IL_IS_COMPARE_VIEW (self), NULL);
  if (self->scenario != NULL && self->scenario->compare_task != NULL)
    return g_strdup_printf ("%s finishes, by mode (speed-up against sequential)", self->scenario->compare_task);
  return g_strdup ("Makespan by mode (speed-up against sequential)");
}

static const char *
row_title (const Row *row)
{
  return row->title != NULL ? row->title : il_mode_to_label (row->mode);
}

/* On a projector every mode is on the one screen (a lecturer cannot
 * scroll while talking): each timeline takes an equal share of the height,
 * its lanes shrunk to fit, without the cores and headings, its name in the
 * ruler's gutter instead of a heading of its own (the chart above has the
 * numbers).  A mode that failed keeps its heading: it says why. */
static void
row_set_presenter (IlCompareView *self,
                   Row           *row)
{
  IlTimeline *timeline = IL_TIMELINE (row->timeline);

  il_timeline_set_presenter (timeline, self->presenter);
  il_timeline_set_compact (timeline, self->presenter);
  il_timeline_set_full_height (timeline, !self->presenter);
  gtk_widget_set_vexpand (row->timeline, self->presenter);
  il_timeline_set_ruler_label (timeline, self->presenter ? row_title (row) : NULL);
  gtk_widget_set_visible (row->label, !self->presenter || row->error != NULL);
}

static double
chart_row_height (IlCompareView *self)
{
  /* 26 px rows of 17 px type leave the modes' lanes room on a projector. */
  return self->presenter ? 26.0 : 28.0;
}

static void
update_chart_height (IlCompareView *self)
{
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->chart),
                                       8 + chart_row_height (self) * self->rows->len);
}

static gint64
sequential_makespan (IlCompareView *self)
{
  return il_compare_view_get_makespan (self, IL_MODE_SEQUENTIAL);
}

static void
update_labels (IlCompareView *self)
{
  gint64 seq = sequential_makespan (self);

  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      gint64 ms = row_makespan (row);
      g_autofree char *text = NULL;

      if (row->error != NULL)
        text = g_markup_printf_escaped ("<b>%s</b> — %s", row_title (row), row->error);
      else if (ms < 0)
        text = g_markup_printf_escaped ("<b>%s</b> — running…", row_title (row));
      else if (self->numbers_hidden)
        text = g_markup_printf_escaped ("<b>%s</b>", row_title (row));
      else if (seq > 0 && row->mode != IL_MODE_SEQUENTIAL)
        text = g_markup_printf_escaped ("<b>%s</b> — %.1f ms, <b>%.2f×</b> the speed of sequential",
                                        row_title (row), ms / 1e6, (double) seq / MAX (ms, 1));
      else
        text = g_markup_printf_escaped ("<b>%s</b> — %.1f ms", row_title (row), ms / 1e6);
      gtk_label_set_markup (GTK_LABEL (row->label), text);
      row_set_presenter (self, row);
    }
  if (self->numbers_hidden)
    gtk_label_set_text (GTK_LABEL (self->heading), "Makespans and speed-ups show when the answer is revealed (Ctrl+P)");
  else
    {
      g_autofree char *title = il_compare_view_get_chart_title (self);
      gtk_label_set_text (GTK_LABEL (self->heading), title);
    }
  gtk_widget_set_visible (self->chart, !self->numbers_hidden);
  gtk_widget_queue_draw (self->chart);
}

/* A lesson asks people to predict first: the chart and the numbers would
 * give the answer away, so they wait for the reveal. */
void
il_compare_view_set_numbers_hidden (IlCompareView *self,
                                    gboolean       hidden)
{
  g_return_if_fail (IL_IS_COMPARE_VIEW (self));
  if (self->numbers_hidden == hidden)
    return;
  self->numbers_hidden = hidden;
  update_labels (self);
}

gboolean
il_compare_view_get_numbers_hidden (IlCompareView *self)
{
  g_return_val_if_fail (IL_IS_COMPARE_VIEW (self), FALSE);
  return self->numbers_hidden;
}

/* The text of a mode's heading, as shown (tests, accessibility). */
const char *
il_compare_view_get_label (IlCompareView *self,
                           IlMode         mode)
{
  g_return_val_if_fail (IL_IS_COMPARE_VIEW (self), NULL);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      if (row->mode == mode)
        return gtk_label_get_text (GTK_LABEL (row->label));
    }
  return NULL;
}

IlTimeline *
il_compare_view_get_timeline (IlCompareView *self,
                              IlMode         mode)
{
  g_return_val_if_fail (IL_IS_COMPARE_VIEW (self), NULL);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      if (row->mode == mode)
        return IL_TIMELINE (row->timeline);
    }
  return NULL;
}

static void
draw_chart (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  IlCompareView *self = data;
  const IlTheme *theme = il_theme_get (self->presenter ? IL_THEME_PRESENTER
                                      : adw_style_manager_get_dark (adw_style_manager_get_default ())
                                      ? IL_THEME_DARK : IL_THEME_LIGHT);
  GtkWidget *widget = GTK_WIDGET (area);
  GdkRGBA fg;
  gint64 max = 0, seq = -1;
  double label_w = 150, bar_h, y = 4;
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, NULL);
  double row_h = chart_row_height (self);

  if (self->presenter)
    {
      /* Projector size, a little under the timeline's 22 px names. */
      PangoFontDescription *font = pango_font_description_from_string ("sans");
      pango_font_description_set_absolute_size (font, MIN (17, theme->font_size) * PANGO_SCALE);
      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
      label_w = 260;
    }
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  for (guint i = 0; i < self->rows->len; i++)
    {
      const Row *row = &g_array_index (self->rows, Row, i);
      gint64 v = row_chart_value (self, row);

      max = MAX (max, v);
      if (row->mode == IL_MODE_SEQUENTIAL)
        seq = v;
    }
  if (self->rows->len == 0 || max <= 0)
    {
      g_object_unref (layout);
      return;
    }
  bar_h = MIN (row_h, (height - 8.0) / self->rows->len);
  /* Room for the longest name ("Recorded run (CPython 3.11.2)"). */
  for (guint i = 0; i < self->rows->len; i++)
    {
      int tw, th;
      pango_layout_set_text (layout, row_title (&g_array_index (self->rows, Row, i)), -1);
      pango_layout_get_pixel_size (layout, &tw, &th);
      label_w = MAX (label_w, tw + 16.0);
    }

  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      gint64 ms = row_chart_value (self, row);
      /* Room right of the longest bar for its "100.6 ms · 0.99×". */
      double w = ms > 0 ? MAX (0, width - label_w - (self->presenter ? 170 : 190)) * (double) ms / max : 0;
      g_autofree char *value = NULL;
      int tw, th;

      pango_layout_set_text (layout, row_title (row), -1);
      pango_layout_get_pixel_size (layout, &tw, &th);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, label_w - tw - 8, y + (bar_h - th) / 2);
      pango_cairo_show_layout (cr, layout);

      il_theme_set_source (cr, il_theme_identity (theme, row->mode * 2));
      cairo_rectangle (cr, label_w, y + 3, MAX (w, 1), bar_h - 6);
      cairo_fill (cr);

      if (ms > 0)
        {
          value = seq > 0 && row->mode != IL_MODE_SEQUENTIAL
                  ? g_strdup_printf ("%.1f ms · %.2f×", ms / 1e6, (double) seq / ms)
                  : g_strdup_printf ("%.1f ms", ms / 1e6);
          pango_layout_set_text (layout, value, -1);
          pango_layout_get_pixel_size (layout, &tw, &th);
          gdk_cairo_set_source_rgba (cr, &fg);
          cairo_move_to (cr, label_w + w + 8, y + (bar_h - th) / 2);
          pango_cairo_show_layout (cr, layout);
        }
      y += bar_h;
    }
  g_object_unref (layout);
}

static void
on_viewport_changed (IlTimeline    *source,
                     IlCompareView *self)
{
  const IlViewport *vp = il_timeline_get_viewport (source);

  if (self->syncing)
    return;
  self->syncing = TRUE;
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      if (row->timeline != GTK_WIDGET (source))
        il_timeline_set_time_range (IL_TIMELINE (row->timeline), vp->start, vp->span);
    }
  self->syncing = FALSE;
}

static void
fit_all (IlCompareView *self)
{
  gint64 max = 0;

  for (guint i = 0; i < self->rows->len; i++)
    max = MAX (max, row_makespan (&g_array_index (self->rows, Row, i)));
  if (max <= 0)
    return;
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      IlViewport vp = { 0, 1, 1 };
      il_viewport_fit (&vp, 0, max);
      self->syncing = TRUE;
      il_timeline_set_time_range (IL_TIMELINE (row->timeline), vp.start, vp.span);
      self->syncing = FALSE;
    }
}

static void
on_extent_known (IlCompareView *self)
{
  update_labels (self);
  fit_all (self);
}

/* The label and timeline of row, placed after `after` (NULL: at the end). */
static void
add_row_widgets (IlCompareView *self,
                 Row           *row,
                 GtkWidget     *after)
{
  row->label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (row->label), 0);
  gtk_widget_set_margin_top (row->label, 10);
  gtk_widget_set_margin_start (row->label, 8);
  gtk_widget_add_css_class (row->label, "compare-mode");
  row->timeline = il_timeline_new (row->session);
  row_set_presenter (self, row);
  il_timeline_set_show_ruler (IL_TIMELINE (row->timeline), TRUE);
  g_signal_connect (row->timeline, "viewport-changed", G_CALLBACK (on_viewport_changed), self);
  g_signal_connect_object (row->session, "extent-known", G_CALLBACK (on_extent_known), self, G_CONNECT_SWAPPED);
  if (after != NULL)
    {
      gtk_box_insert_child_after (GTK_BOX (self->box), row->label, after);
      gtk_box_insert_child_after (GTK_BOX (self->box), row->timeline, row->label);
    }
  else
    {
      gtk_box_append (GTK_BOX (self->box), row->label);
      gtk_box_append (GTK_BOX (self->box), row->timeline);
    }
}

typedef struct {
  IlCompareView *self;   /* a reference */
  guint          serial;
} CompareJob;

static void
on_compared (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  CompareJob *job = data;
  g_autoptr(IlCompareView) self = job->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(IlComparison) comparison = il_compare_run_finish (result, &error);
  guint serial = job->serial;

  g_free (job);
  if (serial != self->serial || self->rows == NULL)
    return;   /* replaced by a newer comparison, or disposed */
  g_clear_object (&self->cancellable);
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  gtk_widget_set_visible (self->spinner, FALSE);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);

      if (row->mode == IL_N_MODES)
        continue;   /* the recorded run (Simulate This) is not simulated */
      if (comparison == NULL)
        row->error = g_strdup (error->message);
      else if (comparison->traces[row->mode] == NULL)
        row->error = g_strdup (comparison->errors[row->mode] != NULL ? comparison->errors[row->mode]->message
                                                                     : "did not run");
      else
        {
          row->makespan = comparison->makespans[row->mode];
          il_session_set_trace (row->session, comparison->traces[row->mode], &comparison->configs[row->mode]);
        }
    }
  update_labels (self);
  fit_all (self);
}

void
il_compare_view_set_scenario (IlCompareView     *self,
                              const IlScenario  *scenario,
                              const IlRunConfig *base,
                              guint32            modes_mask)
{
  CompareJob *job;

  g_return_if_fail (IL_IS_COMPARE_VIEW (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->serial++;
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  gtk_widget_set_visible (self->spinner, FALSE);
  clear_rows (self);
  g_clear_pointer (&self->scenario, il_scenario_unref);
  if (scenario == NULL)
    return;
  self->scenario = il_scenario_ref (scenario);

  for (IlMode m = 0; m < IL_N_MODES; m++)
    {
      Row row = { .mode = m, .makespan = -1 };

      if (!(modes_mask & IL_MODE_MASK (m)))
        continue;
      /* Empty until the mode's trace comes back from its thread. */
      row.session = il_session_new ();

      add_row_widgets (self, &row, NULL);
      g_array_append_val (self->rows, row);
    }
  update_chart_height (self);
  update_labels (self);

  job = g_new0 (CompareJob, 1);
  job->self = g_object_ref (self);
  job->serial = self->serial;
  self->cancellable = g_cancellable_new ();
  gtk_widget_set_visible (self->spinner, TRUE);
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  il_compare_run_async (scenario, base, modes_mask & IL_MODE_MASK_ALL, self->cancellable, on_compared, job);
}

gboolean
il_compare_view_is_running (IlCompareView *self)
{
  g_return_val_if_fail (IL_IS_COMPARE_VIEW (self), FALSE);
  return self->cancellable != NULL;
}

/* Simulate This: the recorded run above the simulated modes, on their axis. */
void
il_compare_view_set_real_run (IlCompareView *self,
                              IlTrace       *trace,
                              const char    *title)
{
  Row row = { .mode = IL_N_MODES };

  g_return_if_fail (IL_IS_COMPARE_VIEW (self));
  g_return_if_fail (trace != NULL && title != NULL);

  row.title = g_strdup (title);
  row.session = il_session_new ();
  il_session_set_trace (row.session, trace, NULL);
  /* The recording's statistics say when its last task finished. */
  row.makespan = il_session_get_final_stats (row.session) != NULL
                 ? il_session_get_final_stats (row.session)->makespan : trace->end_time;
  add_row_widgets (self, &row, self->chart);
  g_array_prepend_val (self->rows, row);
  update_chart_height (self);
  update_labels (self);
  fit_all (self);
}

void
il_compare_view_set_presenter (IlCompareView *self,
                               gboolean       presenter)
{
  self->presenter = presenter;
  for (guint i = 0; i < self->rows->len; i++)
    row_set_presenter (self, &g_array_index (self->rows, Row, i));
  update_chart_height (self);
  /* The modes share the height given (no scrolling on a projector). */
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER,
                                  presenter ? GTK_POLICY_NEVER : GTK_POLICY_AUTOMATIC);
  gtk_widget_queue_draw (self->chart);
}

gboolean
il_compare_view_export (IlCompareView *self,
                        const char    *path,
                        double         width,
                        double         scale,
                        gboolean       visible_range,
                        GError       **error)
{
  g_autoptr(GPtrArray) traces = g_ptr_array_new ();
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  gint64 seq = sequential_makespan (self);
  IlExportOptions options;
  IlExportFormat format;

  if (self->rows->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Nothing to export");
      return FALSE;
    }
  if (self->cancellable != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, "The comparison is still running");
      return FALSE;
    }
  if (!il_export_format_from_path (path, &format))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: the image must end in .png, .svg or .pdf", path);
      return FALSE;
    }
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      gint64 ms = row_makespan (row);
      if (il_session_get_trace (row->session) == NULL)
        continue;   /* the mode failed: its label says why */
      g_ptr_array_add (traces, il_session_get_trace (row->session));
      g_ptr_array_add (labels, seq > 0 && row->mode != IL_MODE_SEQUENTIAL && ms > 0
                               ? g_strdup_printf ("%s — %.1f ms, %.2f× sequential", row_title (row),
                                                  ms / 1e6, (double) seq / ms)
                               : g_strdup_printf ("%s — %.1f ms", row_title (row), ms / 1e6));
    }
  il_export_options_init (&options);
  options.title = self->scenario->title;
  options.width = width;
  options.scale = scale;
  if (self->presenter)
    options.theme = IL_THEME_PRESENTER;
  if (visible_range)
    {
      const IlViewport *vp = il_timeline_get_viewport (IL_TIMELINE (g_array_index (self->rows, Row, 0).timeline));
      options.from = MAX (0, vp->start);
      options.to = vp->start + vp->span;
    }
  return il_export_timelines (path, format, (IlTrace * const *) traces->pdata,
                              (const char * const *) labels->pdata, traces->len, &options, error);
}

static void
il_compare_view_dispose (GObject *object)
{
  IlCompareView *self = IL_COMPARE_VIEW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->rows != NULL)
    for (guint i = 0; i < self->rows->len; i++)
      {
        g_clear_object (&g_array_index (self->rows, Row, i).session);
        g_clear_pointer (&g_array_index (self->rows, Row, i).title, g_free);
        g_clear_pointer (&g_array_index (self->rows, Row, i).error, g_free);
      }
  g_clear_pointer (&self->rows, g_array_unref);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  g_clear_pointer (&self->scenario, il_scenario_unref);
  G_OBJECT_CLASS (il_compare_view_parent_class)->dispose (object);
}

static void
il_compare_view_class_init (IlCompareViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = il_compare_view_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "compareview");
}

static void
il_compare_view_init (IlCompareView *self)
{
  GtkWidget *heading = gtk_label_new ("Makespan by mode (speed-up against sequential)");

  self->heading = heading;
  gtk_label_set_wrap (GTK_LABEL (heading), TRUE);
  self->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), self->box);

  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_widget_set_margin_start (heading, 8);
  gtk_widget_set_margin_top (heading, 8);
  gtk_box_append (GTK_BOX (self->box), heading);
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_halign (self->spinner, GTK_ALIGN_START);
  gtk_widget_set_margin_start (self->spinner, 8);
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Running every mode", -1);
  gtk_box_append (GTK_BOX (self->box), self->spinner);
  self->chart = gtk_drawing_area_new ();
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->chart), draw_chart, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->chart), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Bar chart of makespans by mode", -1);
  gtk_box_append (GTK_BOX (self->box), self->chart);
}

GtkWidget *
il_compare_view_new (void)
{
  return g_object_new (IL_TYPE_COMPARE_VIEW, NULL);
}
