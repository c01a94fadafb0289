/* il-lesson-panel.c — the lesson beside the timeline
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-lesson-panel.h"

struct _IlLessonPanel
{
  GtkWidget  parent_instance;

  IlSession *session;
  guint      shown;          /* the session's serial shown */
  GtkWidget *scroller;
  GtkWidget *title;
  GtkWidget *concepts;
  GtkWidget *description;
  GtkWidget *question_box;
  GtkWidget *question;
  GtkWidget *choices;
  GtkWidget *reveal_button;
  GtkWidget *answer_revealer;
  GtkWidget *answer;
  GtkWidget *look_at;
  GtkWidget *box;            /* the column: title, concepts, description, question, look-at */
  gboolean   revealed;
  gboolean   presenter;
  int        picked;         /* the choice the person clicked, or -1 */
  int        right;          /* the choice the answer names, or -1 */
};

G_DEFINE_FINAL_TYPE (IlLessonPanel, il_lesson_panel, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_REVEALED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_revealed (IlLessonPanel *self,
              gboolean       revealed)
{
  if (self->revealed == revealed)
    return;
  self->revealed = revealed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REVEALED]);
}

static GtkWidget *
text_label (const char *css)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "lesson-text");
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  return label;
}

/* The person's pick is highlighted; once the answer is out, the right
 * choice is marked and a wrong pick says so. */
static void
update_choices (IlLessonPanel *self)
{
  int i = 0;

  for (GtkWidget *b = gtk_widget_get_first_child (self->choices); b != NULL; b = gtk_widget_get_next_sibling (b), i++)
    {
      gboolean picked = i == self->picked, right = self->revealed && i == self->right;

      if (picked)
        gtk_widget_add_css_class (b, "picked");
      else
        gtk_widget_remove_css_class (b, "picked");
      if (right)
        gtk_widget_add_css_class (b, "right-choice");
      else
        gtk_widget_remove_css_class (b, "right-choice");
      if (picked && self->revealed && self->right >= 0 && !right)
        gtk_widget_add_css_class (b, "wrong-choice");
      else
        gtk_widget_remove_css_class (b, "wrong-choice");
      gtk_accessible_update_state (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_STATE_PRESSED,
                                   picked ? GTK_ACCESSIBLE_TRISTATE_TRUE : GTK_ACCESSIBLE_TRISTATE_FALSE, -1);
    }
}

void
il_lesson_panel_reveal (IlLessonPanel *self)
{
  g_return_if_fail (IL_IS_LESSON_PANEL (self));
  set_revealed (self, TRUE);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->answer_revealer), TRUE);
  gtk_widget_set_visible (self->reveal_button, FALSE);
  update_choices (self);
}

void
il_lesson_panel_pick (IlLessonPanel *self,
                      int            choice)
{
  const IlScenario *s;

  g_return_if_fail (IL_IS_LESSON_PANEL (self));
  s = il_session_get_scenario (self->session);
  if (s == NULL || s->choices == NULL || choice < 0 || choice >= (int) g_strv_length (s->choices))
    return;
  self->picked = choice;
  update_choices (self);
}

int
il_lesson_panel_get_picked (IlLessonPanel *self)
{
  g_return_val_if_fail (IL_IS_LESSON_PANEL (self), -1);
  return self->picked;
}

int
il_lesson_panel_get_right_choice (IlLessonPanel *self)
{
  g_return_val_if_fail (IL_IS_LESSON_PANEL (self), -1);
  return self->right;
}

static void
on_choice_clicked (GtkButton     *button,
                   IlLessonPanel *self)
{
  il_lesson_panel_pick (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "choice")));
}

gboolean
il_lesson_panel_question_in_view (IlLessonPanel *self)
{
  graphene_rect_t bounds;

  g_return_val_if_fail (IL_IS_LESSON_PANEL (self), FALSE);
  if (!gtk_widget_get_visible (self->question_box)
      || !gtk_widget_compute_bounds (self->question_box, GTK_WIDGET (self), &bounds))
    return FALSE;
  return bounds.origin.y >= 0 && bounds.origin.y + bounds.size.height <= gtk_widget_get_height (GTK_WIDGET (self));
}

/* Presenter mode puts the question first, under the title: on a projector
 * the question, its choices and the answer must show without scrolling. */
void
il_lesson_panel_set_presenter (IlLessonPanel *self,
                               gboolean       presenter)
{
  g_return_if_fail (IL_IS_LESSON_PANEL (self));
  self->presenter = presenter;
  gtk_box_reorder_child_after (GTK_BOX (self->box), self->question_box,
                               presenter ? self->title : self->description);
  gtk_widget_set_visible (self->concepts, !presenter && gtk_label_get_text (GTK_LABEL (self->concepts))[0] != '\0');
}

gboolean
il_lesson_panel_get_revealed (IlLessonPanel *self)
{
  return self->revealed;
}

static void
update (IlLessonPanel *self)
{
  const IlScenario *s = il_session_get_scenario (self->session);
  g_autofree char *concepts = NULL;
  GtkWidget *child;

  if (il_session_get_serial (self->session) == self->shown)
    return;
  self->shown = il_session_get_serial (self->session);
  set_revealed (self, FALSE);
  self->picked = -1;
  self->right = s != NULL && s->choices != NULL ? s->correct : -1;
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->answer_revealer), FALSE);

  if (s == NULL)
    {
      IlTrace *trace = il_session_get_trace (self->session);
      gtk_label_set_text (GTK_LABEL (self->title), "Recorded trace");
      gtk_label_set_text (GTK_LABEL (self->description),
                          trace != NULL && trace->source != NULL ? trace->source : "");
      gtk_widget_set_visible (self->concepts, FALSE);
      gtk_widget_set_visible (self->question_box, FALSE);
      gtk_widget_set_visible (self->look_at, FALSE);
      return;
    }

  gtk_label_set_text (GTK_LABEL (self->title), s->title ? s->title : "Untitled scenario");
  gtk_label_set_text (GTK_LABEL (self->description), s->description ? s->description : "");
  if (s->concepts != NULL && s->concepts[0] != NULL)
    concepts = g_strjoinv (" · ", s->concepts);
  gtk_label_set_text (GTK_LABEL (self->concepts), concepts ? concepts : "");
  gtk_widget_set_visible (self->concepts, concepts != NULL && !self->presenter);

  gtk_widget_set_visible (self->question_box, s->question != NULL);
  gtk_label_set_text (GTK_LABEL (self->question), s->question ? s->question : "");
  while ((child = gtk_widget_get_first_child (self->choices)) != NULL)
    gtk_box_remove (GTK_BOX (self->choices), child);
  for (guint i = 0; s->choices != NULL && s->choices[i] != NULL; i++)
    {
      g_autofree char *text = g_strdup_printf ("%c. %s", 'A' + (i % 26), s->choices[i]);
      GtkWidget *label = text_label (NULL);
      GtkWidget *button = gtk_button_new ();
      gtk_label_set_text (GTK_LABEL (label), text);
      gtk_label_set_selectable (GTK_LABEL (label), FALSE);
      gtk_button_set_child (GTK_BUTTON (button), label);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_add_css_class (button, "choice");
      gtk_widget_set_tooltip_text (button, "Your prediction: the answer marks the right one");
      g_object_set_data (G_OBJECT (button), "choice", GINT_TO_POINTER (i));
      g_signal_connect_object (button, "clicked", G_CALLBACK (on_choice_clicked), self, 0);
      gtk_box_append (GTK_BOX (self->choices), button);
    }
  gtk_label_set_text (GTK_LABEL (self->answer), s->answer ? s->answer : "");
  gtk_widget_set_visible (self->reveal_button, s->answer != NULL);

  gtk_widget_set_visible (self->look_at, s->look_at != NULL);
  if (s->look_at != NULL)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<b>Look at:</b> %s", s->look_at);
      gtk_label_set_markup (GTK_LABEL (self->look_at), markup);
    }
}

static void
on_progressed (IlLessonPanel *self)
{
  update (self);
  /* The answer comes with the end of the run, once the person has watched. */
  if (!self->revealed && il_session_get_scenario (self->session) != NULL
      && il_session_get_now (self->session) > 0 && il_session_is_at_end (self->session))
    il_lesson_panel_reveal (self);
}

static void
il_lesson_panel_dispose (GObject *object)
{
  IlLessonPanel *self = IL_LESSON_PANEL (object);

  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (il_lesson_panel_parent_class)->dispose (object);
}

static void
il_lesson_panel_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  IlLessonPanel *self = IL_LESSON_PANEL (object);

  switch (prop_id)
    {
    case PROP_REVEALED:
      g_value_set_boolean (value, self->revealed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
il_lesson_panel_class_init (IlLessonPanelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = il_lesson_panel_dispose;
  G_OBJECT_CLASS (klass)->get_property = il_lesson_panel_get_property;
  /* Whether the answer shows: the compare view hides its numbers until. */
  properties[PROP_REVEALED] = g_param_spec_boolean ("revealed", NULL, NULL, FALSE,
                                                    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (G_OBJECT_CLASS (klass), N_PROPS, properties);
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "lessonpanel");
}

static void
il_lesson_panel_init (IlLessonPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);

  self->box = box;
  self->picked = self->right = -1;

  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (self->scroller, TRUE);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), box);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);

  self->title = text_label ("title-3");
  self->concepts = text_label ("dim-label");
  self->description = text_label (NULL);
  gtk_box_append (GTK_BOX (box), self->title);
  gtk_box_append (GTK_BOX (box), self->concepts);
  gtk_box_append (GTK_BOX (box), self->description);

  self->question_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_add_css_class (self->question_box, "card");
  {
    GtkWidget *inner = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *predict = gtk_label_new ("Predict first");
    gtk_widget_set_margin_start (inner, 10);
    gtk_widget_set_margin_end (inner, 10);
    gtk_widget_set_margin_top (inner, 10);
    gtk_widget_set_margin_bottom (inner, 10);
    gtk_label_set_xalign (GTK_LABEL (predict), 0);
    gtk_widget_add_css_class (predict, "heading");
    self->question = text_label (NULL);
    self->choices = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->choices), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    "Choices: click your prediction", -1);
    self->reveal_button = gtk_button_new_with_mnemonic ("_Reveal the answer");
    gtk_widget_set_tooltip_text (self->reveal_button, "Show the answer now (P); it also appears when the run ends");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (self->reveal_button), "win.reveal-answer");
    gtk_widget_set_halign (self->reveal_button, GTK_ALIGN_START);
    self->answer = text_label (NULL);
    self->answer_revealer = gtk_revealer_new ();
    gtk_revealer_set_child (GTK_REVEALER (self->answer_revealer), self->answer);
    gtk_box_append (GTK_BOX (inner), predict);
    gtk_box_append (GTK_BOX (inner), self->question);
    gtk_box_append (GTK_BOX (inner), self->choices);
    gtk_box_append (GTK_BOX (inner), self->reveal_button);
    gtk_box_append (GTK_BOX (inner), self->answer_revealer);
    gtk_box_append (GTK_BOX (self->question_box), inner);
  }
  gtk_box_append (GTK_BOX (box), self->question_box);

  self->look_at = text_label (NULL);
  gtk_box_append (GTK_BOX (box), self->look_at);
}

GtkWidget *
il_lesson_panel_new (IlSession *session)
{
  IlLessonPanel *self = g_object_new (IL_TYPE_LESSON_PANEL, NULL);

  self->session = g_object_ref (session);
  self->shown = G_MAXUINT;  /* force the first update */
  g_signal_connect_object (session, "trace-changed", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "progressed", G_CALLBACK (on_progressed), self, G_CONNECT_SWAPPED);
  update (self);
  return GTK_WIDGET (self);
}
