/* il-window-lessons.c — the built-in lessons: list, search, showing one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "il-window-private.h"

/* -------------------------------------------------------------- lessons */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  /* g_ptr_array_sort passes pointers to the elements. */
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

void
_il_window_load_lessons (IlWindow *self)
{
  g_auto(GStrv) names = g_resources_enumerate_children (LESSONS_PATH, 0, NULL);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_ptr_array_add (sorted, names[i]);
  g_ptr_array_sort (sorted, compare_names);

  for (guint i = 0; i < sorted->len; i++)
    {
      const char *name = g_ptr_array_index (sorted, i);
      g_autofree char *path = g_build_path ("/", LESSONS_PATH, name, NULL);
      g_autoptr(GBytes) bytes = g_resources_lookup_data (path, 0, NULL);
      g_autoptr(GError) error = NULL;
      IlScenario *scenario;
      gsize len;
      const char *data;

      if (bytes == NULL)
        continue;
      data = g_bytes_get_data (bytes, &len);
      scenario = il_scenario_load_data (data, len, name, &error);
      if (scenario == NULL)
        {
          g_warning ("Built-in lesson %s: %s", name, error->message);
          continue;
        }
      g_ptr_array_add (self->lessons, scenario);
      g_ptr_array_add (self->lesson_names, g_strdup (name));
    }
}

static GtkWidget *
lesson_row (IlWindow         *self,
            guint             index)
{
  const IlScenario *s = g_ptr_array_index (self->lessons, index);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (s->title ? s->title : g_ptr_array_index (self->lesson_names, index));
  g_autofree char *concepts = s->concepts ? g_strjoinv (", ", s->concepts) : g_strdup ("");
  GtkWidget *sub = gtk_label_new (concepts);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_label_set_ellipsize (GTK_LABEL (sub), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_widget_add_css_class (sub, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), sub);
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data (G_OBJECT (row), "lesson-index", GUINT_TO_POINTER (index));
  return row;
}

static const IlScenario *
row_lesson (IlWindow      *self,
            GtkListBoxRow *row)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "lesson-index"));
  return index < self->lessons->len ? g_ptr_array_index (self->lessons, index) : NULL;
}

static void
lesson_header (GtkListBoxRow *row,
               GtkListBoxRow *before,
               gpointer       data)
{
  IlWindow *self = data;
  const IlScenario *s = row_lesson (self, row);
  const IlScenario *b = before != NULL ? row_lesson (self, before) : NULL;
  const char *group = s && s->lesson_group ? s->lesson_group : "Other";

  if (b == NULL || g_strcmp0 (b->lesson_group ? b->lesson_group : "Other", group) != 0)
    {
      GtkWidget *label = gtk_label_new (group);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "heading");
      gtk_widget_set_margin_start (label, 8);
      gtk_widget_set_margin_top (label, 10);
      gtk_widget_set_margin_bottom (label, 4);
      gtk_list_box_row_set_header (row, label);
    }
  else
    gtk_list_box_row_set_header (row, NULL);
}

/* Where a lesson's group first appears in file order: lessons sort by it,
 * then by file order, so each group gets one heading ("The GIL" used to
 * show three times, for lessons 2–3, 7 and 17). */
static guint
group_rank (IlWindow *self,
            guint     index)
{
  const IlScenario *s = g_ptr_array_index (self->lessons, index);

  for (guint i = 0; i < index; i++)
    {
      const IlScenario *o = g_ptr_array_index (self->lessons, i);
      if (g_strcmp0 (o->lesson_group, s->lesson_group) == 0)
        return i;
    }
  return index;
}

static int
lesson_sort (GtkListBoxRow *a,
             GtkListBoxRow *b,
             gpointer       data)
{
  IlWindow *self = data;
  guint ia = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (a), "lesson-index"));
  guint ib = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (b), "lesson-index"));
  guint ra = group_rank (self, ia), rb = group_rank (self, ib);

  if (ra != rb)
    return ra < rb ? -1 : 1;
  return ia < ib ? -1 : ia > ib;
}

static gboolean
contains (const char *haystack,
          const char *needle)
{
  g_autofree char *h = NULL;
  if (haystack == NULL)
    return FALSE;
  h = g_utf8_casefold (haystack, -1);
  return strstr (h, needle) != NULL;
}

static gboolean
lesson_filter (GtkListBoxRow *row,
               gpointer       data)
{
  IlWindow *self = data;
  const IlScenario *s = row_lesson (self, row);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->lessons_search));
  g_autofree char *needle = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;
  needle = g_utf8_casefold (text, -1);
  if (contains (s->title, needle) || contains (s->lesson_group, needle) || contains (s->description, needle))
    return TRUE;
  for (guint i = 0; s->concepts != NULL && s->concepts[i] != NULL; i++)
    if (contains (s->concepts[i], needle))
      return TRUE;
  return FALSE;
}

void
_il_window_show_scenario (IlWindow         *self,
                          const IlScenario *scenario)
{
  il_session_set_scenario (self->session, scenario);
  il_timeline_fit (IL_TIMELINE (self->timeline));
  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "lesson");
}

void
_il_window_set_source (IlWindow   *self,
                       const char *lesson,
                       const char *file)
{
  g_free (self->source_lesson);
  g_free (self->source_file);
  self->source_lesson = g_strdup (lesson);
  self->source_file = g_strdup (file);
}

static void
on_lesson_activated (GtkListBox    *list,
                     GtkListBoxRow *row,
                     IlWindow      *self)
{
  const IlScenario *s = row_lesson (self, row);
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "lesson-index"));

  if (s != NULL)
    {
      _il_window_set_source (self, g_ptr_array_index (self->lesson_names, index), NULL);
      _il_window_show_scenario (self, s);
    }
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->lessons_button));
}

gboolean
il_window_show_lesson (IlWindow   *self,
                       const char *name)
{
  g_return_val_if_fail (IL_IS_WINDOW (self), FALSE);
  for (guint i = 0; i < self->lesson_names->len; i++)
    if (g_str_equal (g_ptr_array_index (self->lesson_names, i), name)
        || g_str_has_prefix (g_ptr_array_index (self->lesson_names, i), name))
      {
        _il_window_set_source (self, g_ptr_array_index (self->lesson_names, i), NULL);
        _il_window_show_scenario (self, g_ptr_array_index (self->lessons, i));
        return TRUE;
      }
  return FALSE;
}

GPtrArray *
il_window_get_lessons (IlWindow *self)
{
  return self->lessons;
}

GtkWidget *
_il_window_build_lessons_popover (IlWindow *self)
{
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();

  self->lessons_search = gtk_search_entry_new ();
  gtk_widget_set_tooltip_text (self->lessons_search, "Search lessons by title, concept or text");
  self->lessons_list = gtk_list_box_new ();
  gtk_list_box_set_sort_func (GTK_LIST_BOX (self->lessons_list), lesson_sort, self, NULL);
  gtk_list_box_set_header_func (GTK_LIST_BOX (self->lessons_list), lesson_header, self, NULL);
  gtk_list_box_set_filter_func (GTK_LIST_BOX (self->lessons_list), lesson_filter, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->lessons_list), GTK_ACCESSIBLE_PROPERTY_LABEL, "Lessons", -1);
  for (guint i = 0; i < self->lessons->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->lessons_list), lesson_row (self, i));
  g_signal_connect (self->lessons_list, "row-activated", G_CALLBACK (on_lesson_activated), self);
  g_signal_connect_swapped (self->lessons_search, "search-changed",
                            G_CALLBACK (gtk_list_box_invalidate_filter), self->lessons_list);
  gtk_search_entry_set_key_capture_widget (GTK_SEARCH_ENTRY (self->lessons_search), popover);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->lessons_list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 480);
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scroller), 380);
  gtk_box_append (GTK_BOX (box), self->lessons_search);
  gtk_box_append (GTK_BOX (box), scroller);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  return popover;
}
