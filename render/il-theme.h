/* il-theme.h — the one place colours, patterns and sizes of the timeline live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Colours are colour-blind safe (Okabe–Ito for states, Paul Tol's "muted"
 * set for task identities) and states differ by pattern and height too, so
 * nothing relies on hue alone.  Three variants: light, dark and presenter
 * (high contrast, large type, thick lanes for a lecture hall).
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "il-trace.h"
#include "il-view.h"

G_BEGIN_DECLS

typedef struct {
  double r, g, b, a;
} IlColour;

typedef enum {
  IL_THEME_LIGHT,
  IL_THEME_DARK,
  IL_THEME_PRESENTER,
  IL_N_THEMES
} IlThemeKind;

#define IL_THEME_N_IDENTITY 8
/* Identity colours in one view: the eight hues, then darker shades of
 * them, so 16 tasks and threads get 16 different colours.  (Lighter tints
 * of wine, steel blue and brown come too close to sleeping and waiting
 * for I/O, so there is no third round.) */
#define IL_THEME_N_COLOURS (2 * IL_THEME_N_IDENTITY)

typedef struct {
  IlThemeKind kind;
  IlColour background;
  IlColour foreground;
  IlColour dim;             /* secondary text, ticks */
  IlColour grid;
  IlColour heading_bg;
  IlColour lane_alt;        /* every other lane's background */
  IlColour selection;
  IlColour playhead;
  IlColour arrow;
  IlColour mark;            /* drop requests, forced switches */
  IlColour state[IL_N_STATES];
  IlColour identity[IL_THEME_N_IDENTITY];
  double   font_size;       /* px */
  double   gutter_width;    /* px for lane labels */
  double   ruler_height;
  IlLayoutMetrics metrics;
  double   line_width;
} IlTheme;

/* The presenter's lane names are never smaller than this (px): legible from
 * the back of a hall on a 1024×600 projector. */
#define IL_THEME_PRESENTER_MIN_FONT 18.0

const IlTheme *il_theme_get          (IlThemeKind     kind);
gboolean       il_theme_fit_presenter (IlTheme       *fitted,
                                       double         natural,
                                       double         avail);
/* Fraction of the lane height a state's bar takes (waits are thinner). */
double         il_theme_state_height (IlState         state);
/* Sets the source for drawing `state` in `lane` (running takes the lane's
 * identity colour; waiting for the GIL and blocked are hatched). */
void           il_theme_set_state_source (const IlTheme  *theme,
                                          cairo_t        *cr,
                                          IlState         state,
                                          guint           identity);
void           il_theme_set_source   (cairo_t        *cr,
                                      const IlColour *colour);
const IlColour *il_theme_identity    (const IlTheme  *theme,
                                      guint           identity);

G_END_DECLS
