/* il-theme.c — colours, patterns and sizes of the timeline
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "il-theme.h"

#define HEX(h, alpha) { ((h) >> 16 & 0xff) / 255.0, ((h) >> 8 & 0xff) / 255.0, ((h) & 0xff) / 255.0, alpha }

/* Task and thread colours from Paul Tol's "muted" and "bright" qualitative
 * schemes (distinguishable with every common colour-vision deficiency),
 * leaving out every hue a state already uses: no cyan (waiting for I/O is
 * sky blue #56B4E9), no rose or purple (sleeping is #CC79A7), no orange
 * (the GIL and blocked).  Indigo, teal, wine, sand, green, steel blue,
 * brown, olive. */
#define IDENTITY_LIGHT \
  { HEX (0x332288, 1), HEX (0x44AA99, 1), HEX (0x882255, 1), HEX (0xDDCC77, 1), \
    HEX (0x117733, 1), HEX (0x4477AA, 1), HEX (0x8C564B, 1), HEX (0x999933, 1) }
/* The same hues lifted for dark backgrounds. */
#define IDENTITY_DARK \
  { HEX (0x7B6FD6, 1), HEX (0x44AA99, 1), HEX (0xB8506E, 1), HEX (0xDDCC77, 1), \
    HEX (0x3DAA5C, 1), HEX (0x4F7AC4, 1), HEX (0xB07A62, 1), HEX (0xB8B84A, 1) }

static const IlTheme themes[IL_N_THEMES] = {
  [IL_THEME_LIGHT] = {
    .kind = IL_THEME_LIGHT,
    .background = HEX (0xFFFFFF, 1), .foreground = HEX (0x1E1E1E, 1), .dim = HEX (0x5E5C64, 1),
    .grid = HEX (0x000000, 0.08), .heading_bg = HEX (0xEBEBED, 1), .lane_alt = HEX (0x000000, 0.025),
    .selection = HEX (0x3584E4, 0.25), .playhead = HEX (0xE01B24, 1), .arrow = HEX (0x1E1E1E, 0.65),
    .mark = HEX (0xD55E00, 1),
    .state = {
      [IL_STATE_NOT_STARTED] = HEX (0x000000, 0),
      [IL_STATE_RUNNING] = HEX (0x0072B2, 1),
      [IL_STATE_READY] = HEX (0x8C8C8C, 0.55),
      [IL_STATE_WAIT_GIL] = HEX (0xD55E00, 1),
      [IL_STATE_WAIT_IO] = HEX (0x56B4E9, 1),
      [IL_STATE_SLEEPING] = HEX (0xCC79A7, 1),
      [IL_STATE_BLOCKED] = HEX (0xE69F00, 1),
      [IL_STATE_IDLE] = HEX (0xB0B0B0, 0.5),
      [IL_STATE_DONE] = HEX (0x000000, 0),
      [IL_STATE_STARTING] = HEX (0x707070, 1),
    },
    .identity = IDENTITY_LIGHT,
    .font_size = 12, .gutter_width = 170, .ruler_height = 26,
    .metrics = { .lane_height = 22, .small_height = 18, .heading_height = 20, .gap = 2 },
    .line_width = 1,
  },
  [IL_THEME_DARK] = {
    .kind = IL_THEME_DARK,
    .background = HEX (0x1E1E1E, 1), .foreground = HEX (0xF0F0F0, 1), .dim = HEX (0xA0A0A8, 1),
    .grid = HEX (0xFFFFFF, 0.08), .heading_bg = HEX (0x2E2E32, 1), .lane_alt = HEX (0xFFFFFF, 0.03),
    .selection = HEX (0x78AEED, 0.25), .playhead = HEX (0xFF6B6B, 1), .arrow = HEX (0xF0F0F0, 0.7),
    .mark = HEX (0xFF8C3A, 1),
    .state = {
      [IL_STATE_NOT_STARTED] = HEX (0x000000, 0),
      [IL_STATE_RUNNING] = HEX (0x3DA5E0, 1),
      [IL_STATE_READY] = HEX (0x9A9A9A, 0.5),
      [IL_STATE_WAIT_GIL] = HEX (0xFF7A1A, 1),
      [IL_STATE_WAIT_IO] = HEX (0x56B4E9, 1),
      [IL_STATE_SLEEPING] = HEX (0xE08FC0, 1),
      [IL_STATE_BLOCKED] = HEX (0xF0B429, 1),
      [IL_STATE_IDLE] = HEX (0x808080, 0.5),
      [IL_STATE_DONE] = HEX (0x000000, 0),
      [IL_STATE_STARTING] = HEX (0xC0C0C0, 1),
    },
    .identity = IDENTITY_DARK,
    .font_size = 12, .gutter_width = 170, .ruler_height = 26,
    .metrics = { .lane_height = 22, .small_height = 18, .heading_height = 20, .gap = 2 },
    .line_width = 1,
  },
  [IL_THEME_PRESENTER] = {
    .kind = IL_THEME_PRESENTER,
    .background = HEX (0x000000, 1), .foreground = HEX (0xFFFFFF, 1), .dim = HEX (0xD0D0D0, 1),
    .grid = HEX (0xFFFFFF, 0.15), .heading_bg = HEX (0x202020, 1), .lane_alt = HEX (0xFFFFFF, 0.05),
    .selection = HEX (0xFFFF00, 0.25), .playhead = HEX (0xFF3030, 1), .arrow = HEX (0xFFFFFF, 0.9),
    .mark = HEX (0xFF9900, 1),
    .state = {
      [IL_STATE_NOT_STARTED] = HEX (0x000000, 0),
      [IL_STATE_RUNNING] = HEX (0x56B4E9, 1),
      [IL_STATE_READY] = HEX (0xBBBBBB, 0.6),
      [IL_STATE_WAIT_GIL] = HEX (0xFF8000, 1),
      [IL_STATE_WAIT_IO] = HEX (0x56B4E9, 1),
      [IL_STATE_SLEEPING] = HEX (0xFF79C6, 1),
      [IL_STATE_BLOCKED] = HEX (0xFFD700, 1),
      [IL_STATE_IDLE] = HEX (0x909090, 0.6),
      [IL_STATE_DONE] = HEX (0x000000, 0),
      [IL_STATE_STARTING] = HEX (0xE0E0E0, 1),
    },
    /* Bright on black, clear of the states' sky blue, pink and yellow. */
    .identity = { HEX (0x8E7CFF, 1), HEX (0x4FD1B8, 1), HEX (0xD96A6A, 1), HEX (0xC9C95A, 1),
                  HEX (0x5BD46E, 1), HEX (0x4A78C8, 1), HEX (0xC08A5C, 1), HEX (0x9AAA55, 1) },
    .font_size = 22, .gutter_width = 280, .ruler_height = 40,
    .metrics = { .lane_height = 44, .small_height = 32, .heading_height = 34, .gap = 4 },
    .line_width = 2.5,
  },
};

const IlTheme *
il_theme_get (IlThemeKind kind)
{
  g_return_val_if_fail (kind < IL_N_THEMES, &themes[IL_THEME_LIGHT]);
  return &themes[kind];
}

/**
 * il_theme_fit_presenter:
 * @fitted: a copy of the presenter theme (gutter and ruler already set),
 *   changed in place
 * @natural: the lanes' height in the presenter's own metrics (px)
 * @avail: the height the lanes have on screen (px)
 *
 * Sizes the presenter's lanes and type for the screen.  A few lanes on a
 * 1080 px projector filled its top half and left the rest black: they
 * grow into the height, up to 1.6 times, the type stays the presenter's.
 * Lanes taller than the screen shrink, but never below what a name of
 * %IL_THEME_PRESENTER_MIN_FONT px needs: a stacked mode of twenty
 * requests shrank its names to 12 px at 1024×600, unreadable from the back
 * of a hall.  The lanes that do not fit are then out of view, and the
 * timeline says how many ("↓ 9 more lanes").
 *
 * Returns: %TRUE when the metrics changed (the layout must be redone)
 */
gboolean
il_theme_fit_presenter (IlTheme *fitted,
                        double   natural,
                        double   avail)
{
  const IlTheme *base = il_theme_get (IL_THEME_PRESENTER);
  /* A line of the smallest type is about 1.2 times its size. */
  double min_row = ceil (IL_THEME_PRESENTER_MIN_FONT * 1.25);
  double s;

  g_return_val_if_fail (fitted != NULL, FALSE);
  if (natural <= 0 || avail <= 0)
    return FALSE;
  if (natural * 1.1 < avail)
    s = MIN (1.6, avail / natural);
  else if (natural > avail)
    s = avail / natural;
  else
    return FALSE;
  fitted->metrics.lane_height = MAX (min_row, floor (base->metrics.lane_height * s));
  fitted->metrics.small_height = MAX (min_row - 1, floor (base->metrics.small_height * s));
  fitted->metrics.heading_height = MAX (min_row - 1, floor (base->metrics.heading_height * s));
  fitted->metrics.gap = MAX (1, floor (base->metrics.gap * s));
  fitted->font_size = CLAMP (floor (fitted->metrics.lane_height * 0.8), IL_THEME_PRESENTER_MIN_FONT,
                             base->font_size);
  return TRUE;
}

double
il_theme_state_height (IlState state)
{
  switch (state)
    {
    case IL_STATE_RUNNING:
    case IL_STATE_WAIT_GIL:
    case IL_STATE_STARTING:   /* a new interpreter runs on its core too */
      return 1.0;
    case IL_STATE_BLOCKED:
      return 0.7;
    case IL_STATE_WAIT_IO:
    case IL_STATE_SLEEPING:
      return 0.5;
    case IL_STATE_READY:
      return 0.4;
    case IL_STATE_IDLE:
      return 0.2;
    case IL_STATE_NOT_STARTED:
    case IL_STATE_DONE:
    case IL_N_STATES:
    default:
      return 0.0;
    }
}

void
il_theme_set_source (cairo_t        *cr,
                     const IlColour *c)
{
  cairo_set_source_rgba (cr, c->r, c->g, c->b, c->a);
}

/* Mixes c toward white (amount > 0) or black (amount < 0). */
static IlColour
tint (const IlColour *c,
      double          amount)
{
  double to = amount > 0 ? 1.0 : 0.0, a = fabs (amount);
  IlColour out = { c->r + (to - c->r) * a, c->g + (to - c->g) * a, c->b + (to - c->b) * a, c->a };

  return out;
}

const IlColour *
il_theme_identity (const IlTheme *theme,
                   guint          identity)
{
  /* Built once per theme: the hues, then a second round, so a view
   * repeats a colour only after 16 lanes (lesson 6's pool workers shared
   * the requests' colours with 9).  On the dark themes the second round
   * is darkened less: by 35 % it sank into them (1.9:1 against #1E1E1E
   * for lesson 16's get_08 on), and lifted instead the wine turns into
   * the sleeping state's pink. */
  static IlColour colours[IL_N_THEMES][IL_THEME_N_COLOURS];
  static gsize ready[IL_N_THEMES];
  guint k = identity % IL_THEME_N_COLOURS;

  if (g_once_init_enter (&ready[theme->kind]))
    {
      for (guint i = 0; i < IL_THEME_N_IDENTITY; i++)
        {
          colours[theme->kind][i] = theme->identity[i];
          colours[theme->kind][i + IL_THEME_N_IDENTITY]
            = tint (&theme->identity[i], theme->kind == IL_THEME_LIGHT ? -0.35 : -0.15);
        }
      g_once_init_leave (&ready[theme->kind], 1);
    }
  /* Copies of a theme (presenter type fitted to a screen) keep their
   * kind's colours, so they share these. */
  return &colours[theme->kind][k];
}

#define HATCH_TILE 256  /* a multiple of the hatching's 8 px period */

typedef enum {
  HATCH_DIAGONAL,   /* waiting for the GIL */
  HATCH_CROSS,      /* blocked */
  HATCH_VERTICAL,   /* starting a process: a neutral colour in bars, so it
                     * is never taken for a task's own colour */
  N_HATCHES
} HatchStyle;

/* A repeating tile: the state colour, light, with darker stripes. */
static cairo_pattern_t *
make_hatch (const IlColour *c,
            HatchStyle      style,
            gboolean        dark_bg)
{
  cairo_surface_t *tile = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 8, 8);
  cairo_t *cr = cairo_create (tile);
  cairo_pattern_t *pattern;

  cairo_set_source_rgba (cr, c->r, c->g, c->b, dark_bg ? 0.35 : 0.28);
  cairo_paint (cr);
  cairo_set_source_rgba (cr, c->r, c->g, c->b, 1);
  cairo_set_line_width (cr, 2.2);
  if (style == HATCH_VERTICAL)
    {
      cairo_rectangle (cr, 0, 0, 3, 8);
      cairo_fill (cr);
    }
  else
    {
      cairo_move_to (cr, -2, 10);
      cairo_line_to (cr, 10, -2);
      cairo_move_to (cr, 6, 10);
      cairo_line_to (cr, 10, 6);
      cairo_move_to (cr, -2, 2);
      cairo_line_to (cr, 2, -2);
      if (style == HATCH_CROSS)
        {
          cairo_move_to (cr, -2, -2);
          cairo_line_to (cr, 10, 10);
        }
      cairo_stroke (cr);
    }
  cairo_destroy (cr);

  pattern = cairo_pattern_create_for_surface (tile);
  cairo_pattern_set_extend (pattern, CAIRO_EXTEND_REPEAT);
  cairo_surface_destroy (tile);

  /* The same hatching repeated over a larger tile: pixman fills a
   * repeating source one tile at a time, so an 8×8 tile costs a composite
   * per 8 pixels of every bar, and hatched bars (threads waiting for the
   * GIL) are most of a busy run's area. */
  {
    cairo_surface_t *big = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, HATCH_TILE, HATCH_TILE);
    cairo_pattern_t *tiled;

    cr = cairo_create (big);
    cairo_set_source (cr, pattern);
    cairo_paint (cr);
    cairo_destroy (cr);
    cairo_pattern_destroy (pattern);
    tiled = cairo_pattern_create_for_surface (big);
    cairo_pattern_set_extend (tiled, CAIRO_EXTEND_REPEAT);
    cairo_surface_destroy (big);
    return tiled;
  }
}

void
il_theme_set_state_source (const IlTheme *theme,
                           cairo_t       *cr,
                           IlState        state,
                           guint          identity)
{
  /* Patterns are built once per theme and state and kept for the life of
   * the process (a handful of 8×8 tiles). */
  static cairo_pattern_t *hatches[IL_N_THEMES][N_HATCHES];
  HatchStyle which;

  switch (state)
    {
    case IL_STATE_RUNNING:
      il_theme_set_source (cr, il_theme_identity (theme, identity));
      return;
    case IL_STATE_WAIT_GIL:
    case IL_STATE_BLOCKED:
    case IL_STATE_STARTING:
      which = state == IL_STATE_BLOCKED ? HATCH_CROSS
              : state == IL_STATE_STARTING ? HATCH_VERTICAL : HATCH_DIAGONAL;
      if (hatches[theme->kind][which] == NULL)
        hatches[theme->kind][which] = make_hatch (&theme->state[state], which,
                                                  theme->kind != IL_THEME_LIGHT);
      cairo_set_source (cr, hatches[theme->kind][which]);
      return;
    case IL_STATE_NOT_STARTED:
    case IL_STATE_READY:
    case IL_STATE_WAIT_IO:
    case IL_STATE_SLEEPING:
    case IL_STATE_IDLE:
    case IL_STATE_DONE:
    case IL_N_STATES:
    default:
      il_theme_set_source (cr, &theme->state[MIN (state, IL_N_STATES - 1)]);
      return;
    }
}
