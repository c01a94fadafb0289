/* il-window-private.h — what the files of the main window share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window is one class over several files, as gnome-text-editor splits
 * its editor window: il-window.c builds it and keeps the controls in step
 * with the session; il-window-actions.c holds the window actions;
 * il-window-files.c opening, saving and exporting; il-window-lessons.c the
 * lesson list; il-window-state.c the session saved and restored between
 * runs; il-window-presenter.c presenter mode; il-window-record.c recording
 * real programs, Simulate This and calibration.  Functions here are private
 * to those files (prefix _il_window_).
 */
#pragma once

#include "il-window.h"
#include "il-compare-view.h"
#include "il-export.h"
#include "il-lesson-panel.h"
#include "il-render.h"
#include "il-stats-panel.h"
#include "il-view.h"

G_BEGIN_DECLS

#define LESSONS_PATH "/io/github/interleave/Interleave/lessons"

struct _IlWindow
{
  AdwApplicationWindow parent_instance;

  IlSession   *session;
  GPtrArray   *lessons;          /* of IlScenario*, built-in, in file order */
  GPtrArray   *lesson_names;     /* their resource file names */

  AdwWindowTitle *title;
  GtkWidget   *header;
  GtkWidget   *toolbar;
  GtkWidget   *lessons_button;
  GtkWidget   *menu_button;
  GtkWidget   *lessons_list;
  GtkWidget   *lessons_search;
  GtkWidget   *mode_label;
  GtkWidget   *mode_dropdown;
  GtkWidget   *play_button;
  GtkWidget   *time_label;
  GtkWidget   *clock_label;      /* the time in presenter mode */
  GtkWidget   *side_box;
  GtkWidget   *speed_scale;
  GtkWidget   *speed_label;
  GtkWidget   *cores_spin;
  GtkWidget   *workers_spin;
  GtkWidget   *interval_spin;
  GtkWidget   *error_revealer;
  GtkWidget   *error_label;
  GtkWidget   *loading_revealer;
  GtkWidget   *loading_bar;
  GtkWidget   *loading_label;
  GCancellable *loading_cancellable;
  GtkWidget   *flap;             /* AdwFlap: the side panel, an overlay when narrow */
  GtkWidget   *side_button;
  GtkWidget   *machine_button;   /* cores, workers, interval in a popover */
  GtkWidget   *main_stack;       /* "timeline" or "compare" */
  GtkWidget   *compare_button;
  GtkWidget   *compare_view;
  GtkWidget   *timeline_box;     /* the timeline above the legend */
  GtkWidget   *timeline;
  GtkWidget   *legend;
  IlLegend     legend_items;     /* what the legend lists: what the trace shows */
  guint32      legend_names[12]; /* an imported trace's legend (il-slice-legend.h) */
  guint        n_legend_names;
  GtkWidget   *side_stack;
  GtkWidget   *lesson_bin;
  GtkWidget   *lesson_panel;
  GtkWidget   *stats_scroller;
  GtkWidget   *stats_panel;
  GtkWidget   *details_view;
  GtkWidget   *code_view;        /* the "Code" tab (il-window-teach.c) */
  GtkWidget   *narration_label;  /* what the last step did, under the timeline */
  AdwToastOverlay *toasts;

  GtkWidget   *scrubber;

  /* What is shown, for the session saved on every change and restored on
   * the next start: a built-in lesson's file name or an opened file. */
  guint        busy_id;          /* shows the simulation's progress after a moment */
  char        *source_lesson;
  char        *source_file;
  char        *import_explanation;  /* why the last Chrome import skipped events, or NULL */
  /* The native trace file shown, and the session serial it was shown at:
   * the subtitle names it (its own source may name the JSON it was
   * imported from, which is not what was opened). */
  char        *trace_file;
  guint        trace_file_serial;
  guint        save_id;

  struct _IlWindowRecord *record;  /* il-window-record.c */

  gboolean     presenter;
  gboolean     updating;         /* controls are being set from the session */
};

/* il-window.c */
gboolean    _il_window_apply_config           (IlWindow          *self,
                                               const IlRunConfig *config);
void        _il_window_show_error             (IlWindow   *self,
                                               const char *heading,
                                               const char *message);
void        _il_window_toast_file             (IlWindow   *self,
                                               const char *verb,
                                               const char *path);
void        _il_window_sync_controls          (IlWindow   *self);

/* il-window-actions.c */
void        _il_window_class_actions_init     (IlWindowClass *klass);
gboolean    _il_window_comparing              (IlWindow   *self);
void        _il_window_refresh_compare        (IlWindow   *self);
void        _il_window_update_compare_numbers (IlWindow   *self);

/* il-window-files.c */
void        _il_window_action_open            (GtkWidget  *widget,
                                               const char *name,
                                               GVariant   *param);
#ifdef IL_HAVE_TRACE_FORMATS
void        _il_window_action_import_details  (GtkWidget  *widget,
                                               const char *name,
                                               GVariant   *param);
void        _il_window_action_save            (GtkWidget  *widget,
                                               const char *name,
                                               GVariant   *param);
#endif
void        _il_window_action_export          (GtkWidget  *widget,
                                               const char *name,
                                               GVariant   *param);
gboolean    _il_window_on_drop                (GtkDropTarget *target,
                                               const GValue  *value,
                                               double         x,
                                               double         y,
                                               IlWindow      *self);

/* il-window-lessons.c */
void        _il_window_set_source             (IlWindow   *self,
                                               const char *lesson,
                                               const char *file);
void        _il_window_show_scenario          (IlWindow         *self,
                                               const IlScenario *scenario);
void        _il_window_load_lessons           (IlWindow   *self);
GtkWidget  *_il_window_build_lessons_popover  (IlWindow   *self);

/* il-window-teach.c */
void        _il_window_teach_init             (IlWindow   *self);
/* A step that says in words what happened (il_narrate_step). */
gboolean    _il_window_step                   (IlWindow   *self,
                                               gboolean    backwards,
                                               gboolean    gil_only);

/* il-window-presenter.c */
gboolean    _il_window_on_presenter_key       (GtkEventControllerKey *controller,
                                               guint                  keyval,
                                               guint                  keycode,
                                               GdkModifierType        state,
                                               IlWindow              *self);

/* il-window-record.c */
void        _il_window_record_init            (IlWindow   *self);
void        _il_window_record_dispose         (IlWindow   *self);
GMenuModel *_il_window_record_menu_section    (void);

/* il-window-state.c */
gboolean    _il_window_save_session_cb        (gpointer    data);
void        _il_window_queue_save_session     (IlWindow   *self);

G_END_DECLS
