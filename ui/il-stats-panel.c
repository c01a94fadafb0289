/* il-stats-panel.c — live numbers of the run
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything comes from il_stats_compute() on the trace up to the playhead,
 * the same numbers the CLI prints, refreshed at most ten times a second.
 */
#include "il-stats-panel.h"
#include "il-view.h"

struct _IlStatsPanel
{
  GtkWidget    parent_instance;

  IlSession   *session;
  GtkWidget   *box;
  GtkWidget   *summary;      /* GtkGrid of name/value rows */
  GtkWidget   *cores;        /* GtkBox of level bars */
  GtkWidget   *tasks;        /* GtkGrid, one row per task */
  GtkWidget   *tasks_scroller;
  GHashTable  *values;       /* key → GtkLabel */
  guint        n_cores_shown;
  guint        n_tasks_shown;
  gint64       last_update_us;
  guint        pending_id;
};

G_DEFINE_FINAL_TYPE (IlStatsPanel, il_stats_panel, GTK_TYPE_WIDGET)

/* `needs`: the kind of lane a row is about; a trace without one (a
 * recording of slices has no cores, GIL or loop) does not show the row
 * rather than a misleading 0. */
static const struct {
  const char *key;
  const char *label;
  const char *tooltip;
  int         needs;          /* IlLaneKind, or -1 */
} rows[] = {
  { "makespan", "Time so far", "Virtual time from the start to the playhead (or to the last task's finish)", -1 },
  { "predicted", "Whole run", "Makespan of the complete run with these settings", -1 },
  { "utilisation", "Core utilisation", "Share of core time spent running a thread", IL_LANE_CORE },
  { "gil-wait", "Total GIL wait", "Time threads spent wanting to run Python code while another thread held the GIL "
    "(each thread counted once: the workers behind asyncio.to_thread too)", IL_LANE_GIL },
  { "gil-switches", "GIL switches", "Times the GIL passed from one thread to another", IL_LANE_GIL },
  { "drop-requests", "Drop requests", "Times a waiting thread timed out and asked the holder to drop the GIL", IL_LANE_GIL },
  { "forced", "Forced switches", "Drop requests the holder honoured at the end of its interval", IL_LANE_GIL },
  { "loop-iterations", "Loop iterations", "Iterations of the asyncio event loop (_run_once)", IL_LANE_LOOP },
};

static gboolean
trace_has_kind (IlTrace    *trace,
                IlLaneKind  kind)
{
  for (guint32 i = 0; trace != NULL && i < il_trace_get_n_lanes (trace); i++)
    if (il_trace_get_lane (trace, i)->kind == kind)
      return TRUE;
  return FALSE;
}

/* Shows the rows, and the cores, that the trace has something to say about. */
static void
update_visibility (IlStatsPanel *self)
{
  IlTrace *trace = il_session_get_trace (self->session);
  const IlStats *stats = il_session_get_stats (self->session);
  GtkWidget *source = g_hash_table_lookup (self->values, "params-source");

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      gboolean show = rows[i].needs < 0 || trace_has_kind (trace, (IlLaneKind) rows[i].needs);
      GtkWidget *value = g_hash_table_lookup (self->values, rows[i].key);

      gtk_widget_set_visible (value, show);
      gtk_widget_set_visible (gtk_widget_get_prev_sibling (value), show);
    }
  gtk_widget_set_visible (self->cores, trace_has_kind (trace, IL_LANE_CORE));
  gtk_widget_set_visible (gtk_widget_get_prev_sibling (self->cores), trace_has_kind (trace, IL_LANE_CORE));
  /* An imported trace of slices has no tasks in states: no empty table. */
  gtk_widget_set_visible (self->tasks_scroller, stats != NULL && stats->n_tasks > 0);
  gtk_widget_set_visible (gtk_widget_get_prev_sibling (self->tasks_scroller), stats != NULL && stats->n_tasks > 0);
  /* The model's costs mean something only for what the model ran. */
  if (source != NULL)
    gtk_widget_set_visible (source, il_session_is_live (self->session)
                                    && *gtk_label_get_text (GTK_LABEL (source)) != '\0');
}

static GtkWidget *
value_label (void)
{
  GtkWidget *label = gtk_label_new ("–");
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "stats-value");
  gtk_widget_add_css_class (label, "numeric");
  return label;
}

static void
set_value (IlStatsPanel *self,
           const char   *key,
           char         *text)  /* takes */
{
  GtkLabel *label = g_hash_table_lookup (self->values, key);
  if (label != NULL && g_strcmp0 (gtk_label_get_text (label), text) != 0)
    gtk_label_set_text (label, text);
  g_free (text);
}

const char *
il_stats_panel_get_value (IlStatsPanel *self,
                          const char   *key)
{
  GtkLabel *label = g_hash_table_lookup (self->values, key);
  return label != NULL ? gtk_label_get_text (label) : NULL;
}

static void
rebuild_tasks (IlStatsPanel  *self,
               const IlStats *stats)
{
  static const char *heads[] = { "Task", "CPU", "GIL wait", "I/O + sleep", "Ready" };
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->tasks)) != NULL)
    gtk_grid_remove (GTK_GRID (self->tasks), child);
  for (guint c = 0; c < G_N_ELEMENTS (heads); c++)
    {
      GtkWidget *h = gtk_label_new (heads[c]);
      gtk_label_set_xalign (GTK_LABEL (h), c == 0 ? 0 : 1);
      gtk_widget_add_css_class (h, "stats-heading");
      gtk_grid_attach (GTK_GRID (self->tasks), h, c, 0, 1, 1);
    }
  for (guint i = 0; i < stats->n_tasks && i < 200; i++)
    {
      GtkWidget *name = gtk_label_new (stats->tasks[i].name);
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      /* Names that differ at the end (crunch_a, crunch_b) keep it. */
      gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_max_width_chars (GTK_LABEL (name), 14);
      gtk_widget_add_css_class (name, "stats-cell");
      gtk_grid_attach (GTK_GRID (self->tasks), name, 0, i + 1, 1, 1);
      for (guint c = 1; c < G_N_ELEMENTS (heads); c++)
        {
          g_autofree char *key = g_strdup_printf ("task-%u-%u", i, c);
          GtkWidget *v = value_label ();
          gtk_widget_remove_css_class (v, "stats-value");
          gtk_widget_add_css_class (v, "stats-cell");
          g_hash_table_insert (self->values, g_steal_pointer (&key), v);
          gtk_grid_attach (GTK_GRID (self->tasks), v, c, i + 1, 1, 1);
        }
    }
  self->n_tasks_shown = stats->n_tasks;
}

static void
rebuild_cores (IlStatsPanel  *self,
               const IlStats *stats)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->cores)) != NULL)
    gtk_box_remove (GTK_BOX (self->cores), child);
  for (guint c = 0; c < stats->n_cores && c < 64; c++)
    {
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      g_autofree char *name = g_strdup_printf ("Core %u", c);
      g_autofree char *key = g_strdup_printf ("core-%u", c);
      g_autofree char *bar_key = g_strdup_printf ("core-bar-%u", c);
      GtkWidget *label = gtk_label_new (name);
      GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);
      GtkWidget *value = value_label ();

      gtk_widget_add_css_class (label, "stats-cell");

      gtk_widget_set_hexpand (bar, TRUE);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      gtk_widget_set_size_request (value, 48, -1);
      gtk_box_append (GTK_BOX (row), label);
      gtk_box_append (GTK_BOX (row), bar);
      gtk_box_append (GTK_BOX (row), value);
      gtk_box_append (GTK_BOX (self->cores), row);
      g_hash_table_insert (self->values, g_steal_pointer (&key), value);
      g_hash_table_insert (self->values, g_steal_pointer (&bar_key), bar);
    }
  self->n_cores_shown = stats->n_cores;
}

static char *
ms (gint64 ns)
{
  return il_format_duration (ns);
}

void
il_stats_panel_update (IlStatsPanel *self)
{
  const IlStats *stats = il_session_get_stats (self->session);
  const IlStats *final = il_session_get_final_stats (self->session);

  self->last_update_us = g_get_monotonic_time ();
  update_visibility (self);
  if (stats == NULL)
    return;
  if (stats->n_tasks != self->n_tasks_shown)
    rebuild_tasks (self, stats);
  if (stats->n_cores != self->n_cores_shown)
    rebuild_cores (self, stats);

  set_value (self, "makespan", ms (stats->makespan));
  set_value (self, "predicted", final != NULL ? ms (final->makespan) : g_strdup ("computing…"));
  set_value (self, "utilisation", g_strdup_printf ("%.0f %%", 100 * stats->utilisation));
  set_value (self, "gil-wait", ms (stats->threads_gil_wait));
  set_value (self, "gil-switches", g_strdup_printf ("%" G_GUINT64_FORMAT, stats->gil_switches));
  set_value (self, "drop-requests", g_strdup_printf ("%" G_GUINT64_FORMAT, stats->drop_requests));
  set_value (self, "forced", g_strdup_printf ("%" G_GUINT64_FORMAT, stats->forced_switches));
  set_value (self, "loop-iterations", g_strdup_printf ("%" G_GUINT64_FORMAT, stats->loop_iterations));

  for (guint c = 0; c < stats->n_cores && c < 64; c++)
    {
      g_autofree char *key = g_strdup_printf ("core-%u", c);
      g_autofree char *bar_key = g_strdup_printf ("core-bar-%u", c);
      double u = stats->makespan > 0 ? (double) stats->core_busy[c] / stats->makespan : 0;
      GtkLevelBar *bar = g_hash_table_lookup (self->values, bar_key);
      set_value (self, key, g_strdup_printf ("%.0f %%", 100 * u));
      if (bar != NULL)
        gtk_level_bar_set_value (bar, CLAMP (u, 0, 1));
    }

  for (guint i = 0; i < stats->n_tasks && i < 200; i++)
    {
      const IlTaskStats *t = &stats->tasks[i];
      gint64 values[] = { 0, t->in_state[IL_STATE_RUNNING], t->in_state[IL_STATE_WAIT_GIL],
                          t->in_state[IL_STATE_WAIT_IO] + t->in_state[IL_STATE_SLEEPING],
                          t->in_state[IL_STATE_READY] };
      for (guint c = 1; c < G_N_ELEMENTS (values); c++)
        {
          g_autofree char *key = g_strdup_printf ("task-%u-%u", i, c);
          set_value (self, key, ms (values[c]));
        }
    }
}

static gboolean
pending_cb (gpointer data)
{
  IlStatsPanel *self = data;
  self->pending_id = 0;
  il_stats_panel_update (self);
  return G_SOURCE_REMOVE;
}

static void
on_progressed (IlStatsPanel *self)
{
  /* At most ten updates a second: computing statistics walks the trace. */
  if (self->pending_id != 0)
    return;
  if (g_get_monotonic_time () - self->last_update_us > 100000)
    il_stats_panel_update (self);
  else
    self->pending_id = g_timeout_add (100, pending_cb, self);
}

static void
il_stats_panel_dispose (GObject *object)
{
  IlStatsPanel *self = IL_STATS_PANEL (object);

  g_clear_handle_id (&self->pending_id, g_source_remove);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_pointer (&self->values, g_hash_table_unref);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (il_stats_panel_parent_class)->dispose (object);
}

static void
il_stats_panel_class_init (IlStatsPanelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = il_stats_panel_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "statspanel");
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_top (label, 12);
  return label;
}

static void
il_stats_panel_init (IlStatsPanel *self)
{
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  gtk_widget_set_margin_bottom (self->box, 12);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  self->summary = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->summary), 12);
  gtk_grid_set_row_spacing (GTK_GRID (self->summary), 4);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      GtkWidget *name = gtk_label_new (rows[i].label);
      GtkWidget *value = value_label ();
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_widget_set_hexpand (name, TRUE);
      gtk_widget_add_css_class (name, "stats-label");
      gtk_widget_set_tooltip_text (name, rows[i].tooltip);
      gtk_grid_attach (GTK_GRID (self->summary), name, 0, i, 1, 1);
      gtk_grid_attach (GTK_GRID (self->summary), value, 1, i, 1, 1);
      g_hash_table_insert (self->values, g_strdup (rows[i].key), value);
    }
  gtk_box_append (GTK_BOX (self->box), heading ("Run"));
  gtk_box_append (GTK_BOX (self->box), self->summary);

  self->cores = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append (GTK_BOX (self->box), heading ("Cores"));
  gtk_box_append (GTK_BOX (self->box), self->cores);

  self->tasks = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->tasks), 10);
  gtk_grid_set_row_spacing (GTK_GRID (self->tasks), 2);
  /* The table alone scrolls sideways where it is wider than the panel:
   * its numbers grow as a run plays ("100.456 ms" in five columns of
   * projector type), and as the panel's minimum width they folded the
   * side panel away, the question with it, on a 1024 px screen. */
  self->tasks_scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->tasks_scroller),
                                  GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (self->tasks_scroller), TRUE);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (self->tasks_scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->tasks_scroller), self->tasks);
  gtk_box_append (GTK_BOX (self->box), heading ("Tasks"));
  gtk_box_append (GTK_BOX (self->box), self->tasks_scroller);
}

void
il_stats_panel_set_params_source (IlStatsPanel *self,
                                  const char   *text)
{
  GtkWidget *label;

  g_return_if_fail (IL_IS_STATS_PANEL (self));
  label = g_hash_table_lookup (self->values, "params-source");
  if (label == NULL)
    {
      label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_add_css_class (label, "caption");
      gtk_widget_set_tooltip_text (label, "Where the model's costs (wake-up latency, thread and process start, "
                                          "the event loop's overheads) come from");
      gtk_box_insert_child_after (GTK_BOX (self->box), label, self->summary);
      g_hash_table_insert (self->values, g_strdup ("params-source"), label);
    }
  gtk_label_set_text (GTK_LABEL (label), text != NULL ? text : "");
  gtk_widget_set_visible (label, text != NULL && il_session_is_live (self->session));
}

GtkWidget *
il_stats_panel_new (IlSession *session)
{
  IlStatsPanel *self = g_object_new (IL_TYPE_STATS_PANEL, NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "progressed", G_CALLBACK (on_progressed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "extent-known", G_CALLBACK (il_stats_panel_update), self, G_CONNECT_SWAPPED);
  il_stats_panel_update (self);
  return GTK_WIDGET (self);
}
