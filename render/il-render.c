/* il-render.c — draws a trace's timeline with cairo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <pango/pangocairo.h>

#include "il-render.h"
#include "il-render-queues.h"
#include "il-slice-lod.h"

struct _IlRenderCache {
  IlLodCache     *lod;
  IlSliceLod     *slices;   /* imported slice and counter lanes */
  GHashTable     *label_layouts;  /* names laid out, see label_layout() */
  IlTrace        *label_trace;    /* the trace whose strings they are (held) */
  const IlTheme  *label_theme;
  double          label_font_size;  /* the presenter's theme shrinks in place */
  /* What every tile was drawn for; a change drops them all. */
  IlTrace        *trace;
  const IlTheme  *theme;
  const IlLayout *layout;
  guint           n_rows;
  double          layout_height;
  gint64          span;
  double          width;
  double          scale;    /* device pixels per pixel */
  GHashTable     *tiles;   /* TileKey → Tile */
  guint64         frame;
  gint64          last_span;   /* zoom of the previous frame */
  double          last_width;
};

/* Distinct (state, identity) pairs one lane's bars are grouped by before
 * filling; a lane rarely has more than a dozen. */
#define MAX_SOURCES 32
/* The source key of an imported slice: filled in its name's colour. */
#define SLICE_KEY IL_N_STATES

typedef struct {
  double  x, y, w, h;
  guint   source;       /* index into the Ctx's sources */
  guint32 label_lane;
  guint32 name;         /* a slice's name (string id), or IL_NO_LANE */
} Bar;

/* A bar wide enough, perhaps with its neighbour in the next tile, to carry
 * the name of what runs in it: label_lane's name, or a slice's. */
typedef struct {
  double  x, w, y, h;
  guint   ident;
  guint32 label_lane;
  guint32 name;
} Label;

typedef struct {
  cairo_t              *cr;
  const IlRenderParams *p;
  const IlTrace        *trace;
  const IlTheme        *theme;
  double                plot_x;   /* left edge of the plot area */
  double                lanes_y;  /* screen y of layout y = 0 */
  gint64                t_lo;     /* visible time range */
  gint64                t_hi;
  gint64                upto;     /* nothing exists after this */
  guint                 prims;
  PangoLayout          *text;
  GHashTable           *label_layouts;  /* LabelKey → PangoLayout, see label_layout() */
  IlSliceLod           *own_slices;     /* without a render cache, for this frame (see slice_lod()) */
  /* Bars of the lane being drawn, grouped by source (see bars_flush). */
  GArray               *bars;       /* of Bar */
  GArray               *sorted;     /* of Bar, scratch */
  GArray               *labels;     /* of Bar whose label_lane is named inside */
  GArray               *label_out;  /* of Label: collected for the frame instead of drawn (tiles) */
  cairo_t              *over;       /* what goes on top of the tiles: the frame's cr, or params->overlay */
  int                   source_key[MAX_SOURCES];
  guint                 source_ident[MAX_SOURCES];
  guint                 n_sources;
} Ctx;

/* A run of equal pixels being accumulated for one lane.  Columns are whole
 * pixels; the first interval that touches a column owns it, so a lane costs
 * at most one rectangle per pixel column however many events it has. */
typedef struct {
  int     a, b;          /* columns [a, b) of the pending run */
  int     painted;       /* columns < painted are taken */
  int     key;           /* state or -1 for nothing */
  guint   ident;
  double  y, h;          /* the row */
  gint64  t0, t1;        /* time covered, for labels */
  guint32 label_lane;    /* lane whose name to print inside, or IL_NO_LANE */
} Run;

static void
set_font (Ctx         *c,
          PangoLayout *layout,
          double       scale)
{
  PangoFontDescription *font = pango_font_description_new ();

  pango_font_description_set_family (font, "Cantarell, Inter, sans-serif");
  pango_font_description_set_absolute_size (font, c->theme->font_size * scale * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
}

static void
set_text (Ctx        *c,
          const char *text,
          double      scale)
{
  /* Made on first use: most tiles carry no text. */
  if (c->text == NULL)
    c->text = pango_cairo_create_layout (c->cr);
  set_font (c, c->text, scale);
  pango_layout_set_text (c->text, text, -1);
}

static double
text_width (Ctx *c)
{
  int w, h;
  pango_layout_get_pixel_size (c->text, &w, &h);
  return w;
}

typedef struct {
  const char *text;   /* a trace's string or lane name: stable for the frame */
  int         width;  /* ellipsized to this many px, or -1 */
  int         scale;  /* of the theme's font size, in hundredths */
} LabelKey;

static guint
label_key_hash (gconstpointer p)
{
  const LabelKey *k = p;
  return g_direct_hash (k->text) ^ (guint) k->width * 2654435761u ^ (guint) k->scale * 40503u;
}

static gboolean
label_key_equal (gconstpointer a,
                 gconstpointer b)
{
  const LabelKey *x = a, *y = b;
  return x->text == y->text && x->width == y->width && x->scale == y->scale;
}

/* Names inside bars repeat (a function called thousands of times, a
 * thread holding the GIL all run long), and laying text out is what costs:
 * each name, at each width it is cut to, is laid out once, kept in the
 * render cache while the theme stays (or for the frame without one). */
static PangoLayout *
label_layout (Ctx        *c,
              const char *text,
              double      scale,
              int         width)
{
  LabelKey key = { text, width, (int) lround (scale * 100) };
  PangoLayout *layout;

  if (c->label_layouts == NULL)
    {
      IlRenderCache *cache = c->p->cache;

      if (cache != NULL)
        {
          /* Keys are the trace's strings, laid out in the theme's font. */
          if (cache->label_layouts == NULL || g_hash_table_size (cache->label_layouts) > 4096
              || cache->label_trace != c->trace || cache->label_theme != c->theme
              || cache->label_font_size != c->theme->font_size)
            {
              g_clear_pointer (&cache->label_layouts, g_hash_table_unref);
              g_clear_pointer (&cache->label_trace, il_trace_unref);
              cache->label_layouts = g_hash_table_new_full (label_key_hash, label_key_equal, g_free,
                                                            g_object_unref);
              cache->label_trace = il_trace_ref ((IlTrace *) c->trace);
              cache->label_theme = c->theme;
              cache->label_font_size = c->theme->font_size;
            }
          c->label_layouts = g_hash_table_ref (cache->label_layouts);
        }
      else
        c->label_layouts = g_hash_table_new_full (label_key_hash, label_key_equal, g_free, g_object_unref);
    }
  layout = g_hash_table_lookup (c->label_layouts, &key);
  if (layout == NULL)
    {
      layout = pango_cairo_create_layout (c->cr);
      set_font (c, layout, scale);
      pango_layout_set_text (layout, text, -1);
      if (width >= 0)
        {
          pango_layout_set_width (layout, width * PANGO_SCALE);
          pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
        }
      g_hash_table_insert (c->label_layouts, g_memdup2 (&key, sizeof key), layout);
    }
  return layout;
}

static void
draw_layout (Ctx            *c,
             PangoLayout    *layout,
             double          x,
             double          y_center,
             const IlColour *colour)
{
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  il_theme_set_source (c->cr, colour);
  cairo_move_to (c->cr, x, y_center - h / 2.0);
  pango_cairo_show_layout (c->cr, layout);
}

static void
draw_text (Ctx            *c,
           double          x,
           double          y_center,
           const IlColour *colour)
{
  draw_layout (c, c->text, x, y_center, colour);
}

/* Readable text on a coloured bar: dark on light colours, light on dark. */
static const IlColour *
contrast_text (const IlColour *bg)
{
  static const IlColour dark = { 0.08, 0.08, 0.08, 1 }, light = { 1, 1, 1, 1 };
  double lum = 0.2126 * bg->r + 0.7152 * bg->g + 0.0722 * bg->b;
  return lum > 0.55 ? &dark : &light;
}

/* How a task ended badly, told apart without colour alone: a failure
 * (it raised) is a red cross, a cancellation (a sibling's failure
 * reached it) a circle with a slash in the mark colour. */
static void
draw_end_mark (cairo_t       *cr,
               const IlTheme *theme,
               gboolean       failed,
               double         x,
               double         yc,
               double         height,
               double         s)
{
  double r = MIN (height / 2 - 2, 5 * s);

  cairo_set_line_width (cr, 2 * s);
  if (failed)
    {
      il_theme_set_source (cr, &theme->playhead);
      cairo_move_to (cr, x - r, yc - r);
      cairo_line_to (cr, x + r, yc + r);
      cairo_move_to (cr, x + r, yc - r);
      cairo_line_to (cr, x - r, yc + r);
    }
  else
    {
      il_theme_set_source (cr, &theme->mark);
      cairo_new_sub_path (cr);
      cairo_arc (cr, x, yc, r, 0, 2 * G_PI);
      cairo_move_to (cr, x - r * 0.7, yc + r * 0.7);
      cairo_line_to (cr, x + r * 0.7, yc - r * 0.7);
    }
  cairo_stroke (cr);
}

static void
draw_label (Ctx         *c,
            const Label *l)
{
  if (l->w <= 30)
    return;
  if (l->name != IL_NO_LANE)
    {
      /* A slice's name, cut with an ellipsis to what fits: a long call's
       * name stays readable at the left of the view while it lasts.  Type
       * shrinks to the sub-row's height (presenter mode fits eight of them
       * into a short lane), and below 8 px there is no name. */
      double tx = MAX (l->x, c->plot_x) + 3, room = l->x + l->w - tx - 3;
      double scale = floor (MIN (0.8, (l->h + 2) / (1.25 * c->theme->font_size)) * 20) / 20;
      const char *name = il_trace_get_string (c->trace, l->name);
      PangoLayout *layout;
      int w, h;

      if (scale * c->theme->font_size < 8)
        return;
      layout = label_layout (c, name, scale, -1);
      pango_layout_get_pixel_size (layout, &w, &h);
      if (w > room)
        {
          /* Cut, but never down to a letter or two and an ellipsis. */
          if (room < 3 * scale / 0.8 * c->theme->font_size)
            return;
          layout = label_layout (c, name, scale, (int) room);
        }
      draw_layout (c, layout, tx, l->y + l->h / 2, contrast_text (il_theme_identity (c->theme, l->ident)));
      return;
    }
  {
    PangoLayout *layout = label_layout (c, il_trace_get_lane (c->trace, l->label_lane)->name, 0.85, -1);
    double tx = MAX (l->x, c->plot_x) + 3;
    int w, h;

    pango_layout_get_pixel_size (layout, &w, &h);
    if (w + 6 < l->w && tx + w + 3 < l->x + l->w)
      draw_layout (c, layout, tx, l->y + l->h / 2, contrast_text (il_theme_identity (c->theme, l->ident)));
  }
}

/* Fills the lane's bars with one fill per source instead of one per bar:
 * at a whole-run zoom a lane is a bar per pixel column, and cairo's cost
 * per fill (source, clip, composite setup) dwarfs painting a 1-px column.
 * Bars of one lane never overlap, so the order of fills does not show;
 * names go on top once the bars are down. */
static void
bars_flush (Ctx *c)
{
  guint start[MAX_SOURCES + 1] = { 0 };

  if (c->bars->len > 0)
    {
      const Bar *bars = (const Bar *) (gpointer) c->bars->data;
      Bar *sorted;

      /* Counting sort by source. */
      for (guint i = 0; i < c->bars->len; i++)
        start[bars[i].source + 1]++;
      for (guint s = 0; s < c->n_sources; s++)
        start[s + 1] += start[s];
      g_array_set_size (c->sorted, c->bars->len);
      sorted = (Bar *) (gpointer) c->sorted->data;
      {
        guint fill[MAX_SOURCES];
        memcpy (fill, start, sizeof fill);
        for (guint i = 0; i < c->bars->len; i++)
          sorted[fill[bars[i].source]++] = bars[i];
      }

      for (guint s = 0; s < c->n_sources; s++)
        {
          if (start[s + 1] == start[s])
            continue;
          cairo_save (c->cr);
          /* Patterns are anchored to the plot so hatching does not crawl
           * while the run grows frame by frame. */
          if (c->source_key[s] == SLICE_KEY)
            il_theme_set_source (c->cr, il_theme_identity (c->theme, c->source_ident[s]));
          else
            il_theme_set_state_source (c->theme, c->cr, (IlState) c->source_key[s], c->source_ident[s]);
          if (cairo_get_source (c->cr) != NULL
              && cairo_pattern_get_type (cairo_get_source (c->cr)) == CAIRO_PATTERN_TYPE_SURFACE)
            {
              cairo_matrix_t m;
              cairo_matrix_init_translate (&m, -c->plot_x, -c->lanes_y);
              cairo_pattern_set_matrix (cairo_get_source (c->cr), &m);
            }
          for (guint i = start[s]; i < start[s + 1]; i++)
            cairo_rectangle (c->cr, sorted[i].x, sorted[i].y, sorted[i].w, sorted[i].h);
          cairo_fill (c->cr);
          cairo_restore (c->cr);
        }
    }

  /* Name the owner inside wide bars on core, GIL and loop lanes. */
  for (guint i = 0; i < c->labels->len; i++)
    {
      const Bar *b = &g_array_index (c->labels, Bar, i);
      Label l = { b->x, b->w, b->y, b->h, c->source_ident[b->source], b->label_lane, b->name };

      if (c->label_out != NULL)
        g_array_append_val (c->label_out, l);
      else
        draw_label (c, &l);
    }

  g_array_set_size (c->bars, 0);
  g_array_set_size (c->labels, 0);
  c->n_sources = 0;
}

/* Queues a bar to be filled with others of its source; with_label, its
 * name goes on top. */
static void
bar_add (Ctx      *c,
         Bar      *bar,
         int       key,
         guint     ident,
         gboolean  with_label)
{
  guint s;

  for (s = 0; s < c->n_sources; s++)
    if (c->source_key[s] == key && c->source_ident[s] == ident)
      break;
  if (s == MAX_SOURCES)
    {
      bars_flush (c);
      s = 0;
    }
  if (s == c->n_sources)
    {
      c->source_key[s] = key;
      c->source_ident[s] = ident;
      c->n_sources++;
    }
  bar->source = s;
  g_array_append_val (c->bars, *bar);
  c->prims++;
  if (with_label)
    g_array_append_val (c->labels, *bar);
}

static void
run_flush (Ctx *c,
           Run *r)
{
  double frac;
  Bar bar;

  if (r->key < 0 || r->b <= r->a)
    return;

  frac = il_theme_state_height ((IlState) r->key);
  if (frac <= 0)
    return;
  bar.h = MAX (2.0, r->h * frac);
  bar.y = r->y + (r->h - bar.h) / 2;
  bar.x = c->plot_x + r->a;
  bar.w = r->b - r->a;
  bar.label_lane = r->label_lane;
  bar.name = IL_NO_LANE;
  /* A tile keeps narrow ones too: the bar may go on in the next tile. */
  bar_add (c, &bar, r->key, r->ident,
           r->label_lane != IL_NO_LANE && r->key == IL_STATE_RUNNING
           && r->label_lane < il_trace_get_n_lanes (c->trace) && (bar.w > 30 || c->label_out != NULL));
}

/* Columns [a, b) show key from ta to tb. */
static void
run_add_px (Ctx    *c,
            Run    *r,
            int     a,
            int     b,
            gint64  ta,
            gint64  tb,
            int     key,
            guint   ident,
            guint32 label_lane)
{
  if (b <= a)
    b = a + 1;
  if (a < r->painted)
    a = r->painted;
  if (b <= a)
    return;

  if (key == r->key && ident == r->ident && label_lane == r->label_lane && a == r->b)
    {
      r->b = b;
      r->t1 = tb;
    }
  else
    {
      run_flush (c, r);
      r->a = a;
      r->b = b;
      r->key = key;
      r->ident = ident;
      r->label_lane = label_lane;
      r->t0 = ta;
      r->t1 = tb;
    }
  r->painted = b;
}

static void
run_add (Ctx    *c,
         Run    *r,
         gint64  ta,
         gint64  tb,
         int     key,
         guint   ident,
         guint32 label_lane)
{
  ta = MAX (ta, c->t_lo);
  tb = MIN (tb, MIN (c->t_hi, c->upto));
  if (tb < ta)
    return;
  run_add_px (c, r, (int) floor (il_viewport_time_to_x (&c->p->viewport, ta)),
              (int) floor (il_viewport_time_to_x (&c->p->viewport, tb)), ta, tb, key, ident, label_lane);
}

static guint
ident_of (Ctx     *c,
          guint32  lane)
{
  if (lane == IL_NO_LANE || lane >= c->p->layout->n_lanes)
    return 0;
  return c->p->layout->lane_colour[lane];
}

/* Task and thread lanes wear their own colour; cores, the GIL and the
 * loop the colour of whoever they run. */
static guint
ident_for (Ctx       *c,
           IlLaneKind kind,
           guint32    lane,
           guint32    label)
{
  return ident_of (c, kind == IL_LANE_THREAD || kind == IL_LANE_TASK ? lane : label);
}

/* Positions in the lane's index of the events in view: [*lo, *hi). */
static void
lane_range (Ctx         *c,
            guint32      lane,
            guint       *lo,
            guint       *hi)
{
  *lo = il_trace_lane_lower_bound (c->trace, lane, c->t_lo);
  *hi = il_trace_lane_lower_bound (c->trace, lane, MIN (c->t_hi, c->upto) + 1);
}

/* Intervals narrower than a pixel column are tallied per column: each
 * column shows the state held longest in it (as the level of detail
 * does), not a 1 px sliver of every short wait, which made a thread that
 * runs 99 % of the time look striped. */
typedef struct {
  int        col;     /* the column being tallied, or G_MININT */
  gint64     t0, t1;  /* the part of it the intervals covered */
  IlLodTally tally;
} ColumnTally;

static void
column_flush (Ctx         *c,
              Run         *r,
              ColumnTally *ct,
              IlLaneKind   kind,
              guint32      lane)
{
  guint64 cell;

  if (ct->col == G_MININT)
    return;
  cell = il_lod_tally_dominant (&ct->tally, ct->tally.total_ns);
  run_add_px (c, r, ct->col, ct->col + 1, ct->t0, ct->t1, il_lod_cell_key (cell),
              ident_for (c, kind, lane, il_lod_cell_label (cell)), il_lod_cell_label (cell));
  ct->col = G_MININT;
}

static void
column_add (Ctx         *c,
            Run         *r,
            ColumnTally *ct,
            IlLaneKind   kind,
            guint32      lane,
            gint64       ta,
            gint64       tb,
            int          key,
            guint32      label)
{
  double xa, xb;
  int ca, cb;

  ta = MAX (ta, c->t_lo);
  tb = MIN (tb, MIN (c->t_hi, c->upto));
  if (tb < ta)
    return;
  xa = il_viewport_time_to_x (&c->p->viewport, ta);
  xb = il_viewport_time_to_x (&c->p->viewport, tb);
  ca = (int) floor (xa);
  cb = (int) floor (xb);
  if (ct->col != G_MININT && ct->col != ca)
    column_flush (c, r, ct, kind, lane);
  if (ca == cb)
    {
      /* Within one column: tallied with its neighbours. */
      if (ct->col == G_MININT)
        {
          ct->col = ca;
          ct->t0 = ta;
          il_lod_tally_reset (&ct->tally);
        }
      il_lod_tally_add (&ct->tally, key, label, MAX (1, tb - ta));
      ct->t1 = tb;
      return;
    }
  /* Its first column is shared with what came before it unless it starts
   * on the column's edge; the whole columns are its own; its last, partial
   * column starts a new tally. */
  if (ct->col == ca || xa > ca)
    {
      gint64 edge = il_viewport_x_to_time (&c->p->viewport, ca + 1);
      if (ct->col == G_MININT)
        {
          ct->col = ca;
          ct->t0 = ta;
          il_lod_tally_reset (&ct->tally);
        }
      il_lod_tally_add (&ct->tally, key, label, MAX (1, edge - ta));
      ct->t1 = edge;
      column_flush (c, r, ct, kind, lane);
      ca++;
    }
  if (cb > ca)
    run_add_px (c, r, ca, cb, ta, tb, key, ident_for (c, kind, lane, label), label);
  if (xb > cb)
    {
      ct->col = cb;
      ct->t0 = il_viewport_x_to_time (&c->p->viewport, cb);
      ct->t1 = tb;
      il_lod_tally_reset (&ct->tally);
      il_lod_tally_add (&ct->tally, key, label, MAX (1, tb - ct->t0));
    }
}

static void
draw_state_lane (Ctx         *c,
                 const IlRow *row,
                 double       y)
{
  const IlTrace *t = c->trace;
  IlLaneKind kind = il_trace_get_lane (t, row->lane)->kind;
  guint lo, hi;
  Run run = { .key = -1, .painted = G_MININT, .y = y, .h = row->height, .label_lane = IL_NO_LANE };
  double width = c->p->viewport.width;
  gint64 stop = MIN (c->t_hi, c->upto);
  IlIntervalIter it;
  IlInterval iv;

  lane_range (c, row->lane, &lo, &hi);

  if (hi - lo > 4 * width)
    {
      /* Far more events than pixels: each column shows the state the lane
       * held longest in it, from the level of detail when there is one (an
       * array read per column), else by tallying the column's intervals. */
      IlLodCache *lod = c->p->cache != NULL ? c->p->cache->lod : NULL;
      int level = lod != NULL ? il_lod_level_for ((double) c->p->viewport.span / width) : -1;
      gsize n_cells = 0;
      const guint64 *cells = level >= 0 ? il_lod_cache_lookup (lod, t, row->lane, level, &n_cells) : NULL;

      for (int col = 0; col < (int) ceil (width); col++)
        {
          gint64 ta = il_viewport_x_to_time (&c->p->viewport, col);
          gint64 tm = il_viewport_x_to_time (&c->p->viewport, col + 0.5);
          gint64 tb = il_viewport_x_to_time (&c->p->viewport, col + 1);
          guint64 cell;

          if (tm > c->upto)
            break;
          if (cells != NULL && tm >= 0 && (gsize) (tm >> level) < n_cells)
            cell = cells[tm >> level];
          else
            {
              /* A bounded walk: past 64 intervals in one pixel the rest of
               * the column is left out of the tally. */
              IlLodTally tally;
              gint64 to = MIN (tb, stop);
              guint n = 0;

              il_lod_tally_reset (&tally);
              il_interval_iter_init_range (&it, t, row->lane, ta, to);
              while (n++ < 64 && il_interval_iter_next (&it, &iv) && iv.start < to)
                {
                  int key;
                  guint32 label;

                  il_lod_interval_key (kind, &iv, &key, &label);
                  il_lod_tally_add (&tally, key, label, MIN (iv.open ? to : iv.end, to) - MAX (iv.start, ta));
                }
              cell = il_lod_tally_dominant (&tally, n > 64 ? tally.total_ns : to - ta);
            }
          run_add (c, &run, ta, tb, il_lod_cell_key (cell), ident_for (c, kind, row->lane, il_lod_cell_label (cell)),
                   il_lod_cell_label (cell));
        }
      run_flush (c, &run);
      bars_flush (c);
      return;
    }

  /* Every interval in view, from the one already going on at t_lo. */
  {
    ColumnTally ct = { .col = G_MININT };

    il_interval_iter_init_range (&it, t, row->lane, c->t_lo, stop);
    while (il_interval_iter_next (&it, &iv))
      {
        int key;
        guint32 label;

        il_lod_interval_key (kind, &iv, &key, &label);
        column_add (c, &run, &ct, kind, row->lane, iv.start, iv.open ? MAX (iv.end, stop) : iv.end, key, label);
      }
    column_flush (c, &run, &ct, kind, row->lane);
  }
  run_flush (c, &run);
  bars_flush (c);
}

static void
triangle (cairo_t *cr,
          double   x,
          double   y,
          double   size,
          gboolean down)
{
  cairo_move_to (cr, x - size, y);
  cairo_line_to (cr, x + size, y);
  cairo_line_to (cr, x, down ? y + size * 1.4 : y - size * 1.4);
  cairo_close_path (cr);
}

/* Marks would merge into noise when the lane has more events in view than
 * twice the pixels: zoom in to see them. */
static gboolean
marks_visible (Ctx         *c,
               const IlRow *row)
{
  guint lo, hi;

  lane_range (c, row->lane, &lo, &hi);
  return hi - lo <= 2 * c->p->viewport.width;
}

/* The 6 px column of the run time t falls in. */
static gint64
mark_bucket (Ctx    *c,
             gint64  t,
             double  s)
{
  return (gint64) floor ((double) t * c->p->viewport.width / (double) c->p->viewport.span / (6 * s));
}

/* Marks on top of the bars: GIL drop requests, forced switches and the
 * waiting threads; loop iterations; task marks.  (What waits in the
 * loop's queues is drawn item by item at the playhead: il-render-queues.c.) */
static void
draw_marks (Ctx         *c,
            const IlRow *row,
            double       y)
{
  const IlTrace *t = c->trace;
  IlLaneKind kind = il_trace_get_lane (t, row->lane)->kind;
  const IlLaneIndex *idx = il_trace_get_lane_events (t, row->lane);
  const guint32 *v = idx->data;
  guint lo, hi;
  double s = c->theme->line_width;
  gint64 waiting_since = -1;
  guint waiting = 0;
  int last_col = G_MININT;
  gint64 last_gil_mark = G_MININT64, last_switch_mark = G_MININT64;

  lane_range (c, row->lane, &lo, &hi);

  if (kind == IL_LANE_GIL)
    {
      /* How many wait at t_lo. */
      for (guint p = lo; p > 0; p--)
        if (t->kind[v[p - 1]] == IL_EVENT_GIL_WAITERS)
          {
            waiting = t->arg[v[p - 1]];
            waiting_since = c->t_lo;
            break;
          }
    }

  for (guint p = lo; p <= hi; p++)
    {
      guint32 e = p < hi ? v[p] : 0;
      gint64 te = p < hi ? t->time[e] : MIN (c->t_hi, c->upto);
      double x = c->plot_x + il_viewport_time_to_x (&c->p->viewport, te);
      gboolean last = p == hi;

      if (kind == IL_LANE_GIL && (last || t->kind[e] == IL_EVENT_GIL_WAITERS))
        {
          if (waiting > 0 && waiting_since >= 0)
            {
              /* A hatched band under the owner: threads are queued. */
              double x0 = c->plot_x + il_viewport_time_to_x (&c->p->viewport, MAX (waiting_since, c->t_lo));
              il_theme_set_state_source (c->theme, c->cr, IL_STATE_WAIT_GIL, 0);
              cairo_rectangle (c->cr, x0, y + row->height * 0.72, MAX (1, x - x0), row->height * 0.28);
              cairo_fill (c->cr);
              c->prims++;
            }
          if (!last)
            {
              waiting = t->arg[e];
              waiting_since = te;
            }
        }
      if (last)
        break;

      switch (t->kind[e])
        {
        case IL_EVENT_GIL_REQUEST:
          /* At whole-run zoom, marks a few pixels apart turned the GIL
           * lane solid orange and hid its holder: one mark per 6 px
           * column, counted from time 0 so that tiles agree. */
          if (mark_bucket (c, te, s) == last_gil_mark)
            break;
          last_gil_mark = mark_bucket (c, te, s);
          il_theme_set_source (c->cr, &c->theme->mark);
          /* No taller than a fifth of the lane: in a shrunk presenter
           * lane full-size marks 15 px apart joined into an orange band. */
          triangle (c->cr, x, y, MIN (3.5 * s, row->height * 0.2), TRUE);
          cairo_fill (c->cr);
          c->prims++;
          break;
        case IL_EVENT_GIL_DROP:
          if (t->value[e] == IL_GIL_DROP_FORCED && mark_bucket (c, te, s) != last_switch_mark)
            {
              last_switch_mark = mark_bucket (c, te, s);
              il_theme_set_source (c->cr, &c->theme->mark);
              cairo_set_line_width (c->cr, 2 * s);
              cairo_move_to (c->cr, x, y);
              cairo_line_to (c->cr, x, y + row->height);
              cairo_stroke (c->cr);
              c->prims++;
            }
          break;
        case IL_EVENT_LOOP_ITER:
          if ((int) x == last_col)
            break;
          last_col = (int) x;
          il_theme_set_source (c->cr, &c->theme->foreground);
          cairo_set_line_width (c->cr, s);
          cairo_move_to (c->cr, floor (x) + 0.5, y);
          cairo_line_to (c->cr, floor (x) + 0.5, y + row->height * 0.35);
          cairo_stroke (c->cr);
          c->prims++;
          break;
        case IL_EVENT_MARK:
          if (t->value[e] == IL_MARK_EXCEPTION || t->value[e] == IL_MARK_CANCEL_REQUEST)
            {
              draw_end_mark (c->cr, c->theme, t->value[e] == IL_MARK_EXCEPTION, x, y + row->height / 2,
                             row->height, s);
              c->prims++;
            }
          break;
        case IL_EVENT_INSTANT:
          il_theme_set_source (c->cr, &c->theme->foreground);
          if (il_trace_lane_has_slices (t, row->lane))
            {
              /* Over a lane of slices (log lines beside calls), a small
               * tick on the lane's bottom edge, not a diamond over them. */
              triangle (c->cr, x, y + row->height, 3 * s, FALSE);
              cairo_fill (c->cr);
              c->prims++;
              break;
            }
          cairo_move_to (c->cr, x, y + 2);
          cairo_line_to (c->cr, x + 4, y + row->height / 2);
          cairo_line_to (c->cr, x, y + row->height - 2);
          cairo_line_to (c->cr, x - 4, y + row->height / 2);
          cairo_close_path (c->cr);
          cairo_fill (c->cr);
          c->prims++;
          break;
        default:
          break;
        }
    }
}

/* The level of detail of slice and counter lanes: the render cache's, or
 * without one (an exported image) one for this frame.  Built in one pass
 * over the trace, it costs a fifth of walking each lane from its start:
 * 0.15–0.2 s against 0.8 s for a whole-trace image of 10 M slices. */
static IlSliceLod *
slice_lod (Ctx *c)
{
  if (c->p->cache != NULL)
    return c->p->cache->slices;
  if (c->own_slices == NULL)
    c->own_slices = il_slice_lod_new ();
  return c->own_slices;
}

/* Nested named slices of imported traces: one sub-row per depth, each a
 * row of pixel columns showing the slice that covers most of the column
 * (il-slice-lod.h), so a million slices cost what a few thousand columns
 * cost.  Runs of one name are one bar, bars are filled one fill per
 * colour, and bars wide enough carry the name. */
static void
draw_slice_lane (Ctx         *c,
                 const IlRow *row,
                 double       y)
{
  guint levels = MIN (MAX (row->sub_rows, 1), IL_SLICE_MAX_DEPTH);
  int n = (int) ceil (c->p->viewport.width);
  IlSliceLod *lod = slice_lod (c);
  gint64 *bounds;
  guint32 *cols;
  double sub_h;

  if (n <= 0)
    return;
  sub_h = row->height / levels;
  bounds = g_new (gint64, n + 1);
  cols = g_new (guint32, (gsize) levels * n);
  for (int i = 0; i <= n; i++)
    bounds[i] = il_viewport_x_to_time (&c->p->viewport, i);
  il_slice_columns (lod, c->trace, row->lane, bounds, n, levels, c->upto, cols);

  for (guint d = 0; d < levels; d++)
    {
      const guint32 *col = cols + (gsize) d * n;

      for (int a = 0, b; a < n; a = b)
        {
          Bar bar;

          for (b = a + 1; b < n && col[b] == col[a]; b++)
            ;
          if (col[a] == IL_NO_LANE)
            continue;
          bar.x = c->plot_x + a;
          bar.w = b - a;
          bar.y = y + d * sub_h + 0.5;
          bar.h = sub_h - 1;
          bar.label_lane = IL_NO_LANE;
          bar.name = col[a];
          /* In a tile, a bar at an edge may go on in the next tile. */
          bar_add (c, &bar, SLICE_KEY, il_slice_lod_name_colour (lod, c->trace, col[a]),
                   bar.w > 30 || (c->label_out != NULL && (a == 0 || b == n)));
        }
    }
  bars_flush (c);
  g_free (cols);
  g_free (bounds);
}

/* A counter as a filled step curve, scaled to the largest value the lane
 * ever has, so that panning and tiles keep one scale.  With more values
 * than pixels, each column is as high as the highest value in it. */
static void
draw_counter_lane (Ctx         *c,
                   const IlRow *row,
                   double       y)
{
  const IlTrace *t = c->trace;
  const IlLaneIndex *idx = il_trace_get_lane_events (t, row->lane);
  const guint32 *v = idx->data;
  guint lo = il_trace_lane_lower_bound (t, row->lane, c->t_lo);
  guint hi = il_trace_lane_lower_bound (t, row->lane, MIN (c->t_hi, c->upto) + 1);
  double max = il_slice_lod_counter_max (slice_lod (c), t, row->lane);
  double prev = 0;
  int n = (int) ceil (c->p->viewport.width);

  if (max <= 0)
    return;
  if (lo > 0)
    lo--;
  il_theme_set_source (c->cr, il_theme_identity (c->theme, ident_of (c, row->lane)));

  if (hi - lo > 2 * (guint) MAX (n, 1))
    {
      guint p = lo;
      gboolean have = FALSE;

      for (int col = 0; col < n; col++)
        {
          gint64 t1 = il_viewport_x_to_time (&c->p->viewport, col + 1);
          double top = prev;

          if (il_viewport_x_to_time (&c->p->viewport, col) > c->upto)
            break;
          for (; p < hi && t->time[v[p]] < t1; p++)
            if (t->kind[v[p]] == IL_EVENT_COUNTER)
              {
                prev = fabs (il_trace_bits_float (t->arg[v[p]])) / max;
                top = have ? MAX (top, prev) : prev;
                have = TRUE;
              }
          if (have && top > 0)
            cairo_rectangle (c->cr, c->plot_x + col, y + row->height * (1 - 0.9 * top), 1, row->height * 0.9 * top);
        }
      cairo_fill (c->cr);
      c->prims++;
      return;
    }

  cairo_move_to (c->cr, c->plot_x + MAX (0, il_viewport_time_to_x (&c->p->viewport, lo < hi ? t->time[v[lo]] : c->t_lo)), y + row->height);
  for (guint p = lo; p < hi; p++)
    {
      double x = c->plot_x + MAX (0, il_viewport_time_to_x (&c->p->viewport, t->time[v[p]]));
      double val = il_trace_bits_float (t->arg[v[p]]) / max;
      cairo_line_to (c->cr, x, y + row->height * (1 - 0.9 * prev));
      cairo_line_to (c->cr, x, y + row->height * (1 - 0.9 * val));
      prev = val;
    }
  cairo_line_to (c->cr, c->plot_x + il_viewport_time_to_x (&c->p->viewport, MIN (c->t_hi, c->upto)),
                 y + row->height * (1 - 0.9 * prev));
  cairo_line_to (c->cr, c->plot_x + il_viewport_time_to_x (&c->p->viewport, MIN (c->t_hi, c->upto)), y + row->height);
  cairo_close_path (c->cr);
  cairo_fill (c->cr);
  c->prims++;
}

/* What a lane shows under its marks, by kind. */
static void
draw_lane_body (Ctx         *c,
                const IlRow *row,
                double       y)
{
  const IlLane *lane = il_trace_get_lane (c->trace, row->lane);

  if (lane->kind == IL_LANE_COUNTER)
    draw_counter_lane (c, row, y);
  else if ((lane->kind == IL_LANE_THREAD || lane->kind == IL_LANE_TASK)
           && il_trace_lane_has_slices (c->trace, row->lane))
    draw_slice_lane (c, row, y);
  else
    draw_state_lane (c, row, y);
}

static double
row_center (Ctx     *c,
            guint32  lane)
{
  const IlRow *row;

  if (lane >= c->p->layout->n_lanes || c->p->layout->lane_row[lane] == IL_NO_LANE)
    return -1;
  row = &g_array_index (c->p->layout->rows, IlRow, c->p->layout->lane_row[lane]);
  return c->lanes_y + row->y + row->height / 2;
}

static void
arrow (cairo_t *cr,
       double   x0,
       double   y0,
       double   x1,
       double   y1,
       double   s)
{
  double angle = atan2 (y1 - y0, x1 - x0);
  double head = 6 * s;

  cairo_move_to (cr, x0, y0);
  cairo_line_to (cr, x1 - cos (angle) * head * 0.8, y1 - sin (angle) * head * 0.8);
  cairo_stroke (cr);
  cairo_move_to (cr, x1, y1);
  cairo_line_to (cr, x1 - head * cos (angle - 0.45), y1 - head * sin (angle - 0.45));
  cairo_line_to (cr, x1 - head * cos (angle + 0.45), y1 - head * sin (angle + 0.45));
  cairo_close_path (cr);
  cairo_fill (cr);
}

/* Cause and effect: who woke whom.  Only when few enough are in view to
 * read; otherwise they would hide the lanes. */
static void
draw_arrows (Ctx *c)
{
  const IlTrace *t = c->trace;
  gsize lo = il_trace_lower_bound (t, c->t_lo);
  gsize hi = il_trace_lower_bound (t, MIN (c->t_hi, c->upto) + 1);
  double s = c->theme->line_width;
  guint drawn = 0;
  double last_x = -G_MAXDOUBLE;
  g_autoptr(GHashTable) flows = NULL;

  if (hi - lo > 200000)
    return;

  cairo_save (c->cr);
  cairo_set_line_width (c->cr, s);
  il_theme_set_source (c->cr, &c->theme->arrow);
  for (gsize e = lo; e < hi && drawn < 600; e++)
    {
      double x, y0, y1;

      if (t->kind[e] == IL_EVENT_FLOW)
        {
          /* Imported flows: arrow from where the flow started. */
          x = c->plot_x + il_viewport_time_to_x (&c->p->viewport, t->time[e]);
          if (flows == NULL)
            flows = g_hash_table_new_full (NULL, NULL, NULL, g_free);
          if (t->value[e] != IL_FLOW_START)
            {
              double *from = g_hash_table_lookup (flows, GUINT_TO_POINTER (t->arg[e]));
              y1 = row_center (c, il_trace_event_lane (t, e));
              if (from != NULL && y1 >= 0)
                {
                  arrow (c->cr, from[0], from[1], x, y1, s);
                  drawn++;
                }
            }
          if (t->value[e] != IL_FLOW_END)
            {
              double *at = g_new (double, 2);
              at[0] = x;
              at[1] = row_center (c, il_trace_event_lane (t, e));
              g_hash_table_replace (flows, GUINT_TO_POINTER (t->arg[e]), at);
            }
          continue;
        }

      if (t->kind[e] == IL_EVENT_STATE && t->arg[e] == IL_NO_LANE
          && (t->aux[e] == IL_CAUSE_IO || t->aux[e] == IL_CAUSE_TIMER)
          && (t->value[e] == IL_STATE_READY || t->value[e] == IL_STATE_RUNNING || t->value[e] == IL_STATE_WAIT_GIL))
        {
          /* Woken by the outside world (an I/O completion, a timer): a short
           * arrow up into the lane from below. */
          double yc = row_center (c, il_trace_event_lane (t, e));
          x = c->plot_x + il_viewport_time_to_x (&c->p->viewport, t->time[e]);
          if (yc < 0 || x - last_x < 8 * s)
            continue;
          last_x = x;
          {
            /* Within the lane: a shrunk presenter lane is shorter than
             * the arrow, which then pointed out of the next lane's name. */
            const IlRow *row = &g_array_index (c->p->layout->rows, IlRow, c->p->layout->lane_row[il_trace_event_lane (t, e)]);
            double reach = MIN (13 * s, row->height / 2);
            arrow (c->cr, x, yc + reach, x, yc + MIN (3 * s, reach / 3), MIN (s, reach / 10));
          }
          drawn++;
          continue;
        }
      if (t->kind[e] != IL_EVENT_STATE || t->arg[e] == IL_NO_LANE)
        continue;
      switch ((IlCause) t->aux[e])
        {
        case IL_CAUSE_GIL_HANDOFF:
        case IL_CAUSE_LOCK:
        case IL_CAUSE_QUEUE:
        case IL_CAUSE_FUTURE:
        case IL_CAUSE_POOL:
        case IL_CAUSE_START:
        case IL_CAUSE_CANCELLED:
          break;
        default:
          continue;
        }
      if (t->arg[e] == il_trace_event_lane (t, e))
        continue;
      y0 = row_center (c, t->arg[e]);
      y1 = row_center (c, il_trace_event_lane (t, e));
      if (y0 < 0 || y1 < 0)
        continue;
      x = c->plot_x + il_viewport_time_to_x (&c->p->viewport, t->time[e]);
      /* Arrows closer than a few pixels would smear into a bar: zoom in
       * to see each one.  A failure's cancellations all come at once and
       * are few: each gets its arrow from the failed sibling. */
      if (x - last_x < 8 * s && t->aux[e] != IL_CAUSE_CANCELLED)
        continue;
      last_x = x;
      /* A slight slant so that arrows at one instant stay apart. */
      arrow (c->cr, x - 6 * s, y0, x, y1 + (y1 > y0 ? -4 : 4) * s, s);
      drawn++;
    }
  cairo_restore (c->cr);
  c->prims += drawn;
}

/* The half-width of the playhead's mark on the ruler: it stays in the
 * room under the time labels (which draw_ruler centres 2 px above the
 * ruler's middle), so that it never covers the "400 ms" a lecturer reads
 * as the playhead passes it. */
static double
ruler_playhead_size (Ctx *c)
{
  double h = c->theme->ruler_height, lw = c->theme->line_width;
  int w, th;

  set_text (c, "0", 0.9);
  pango_layout_get_pixel_size (c->text, &w, &th);
  /* The mark is 1.4 times as tall as half its base (triangle). */
  return CLAMP ((h / 2 + 2 - th / 2.0 - 1) / 1.4, 2 * lw, 6 * lw);
}

static void
draw_ruler (Ctx *c)
{
  const IlRenderParams *p = c->p;
  double h = c->theme->ruler_height;
  gint64 step = il_ticks_choose_step (&p->viewport, il_ticks_label_spacing (c->theme->font_size, p->viewport.width));
  gint64 first = (c->t_lo / step) * step;
  cairo_t *cr = c->cr;
  double prev_end = -G_MAXDOUBLE;

  il_theme_set_source (cr, &c->theme->heading_bg);
  cairo_rectangle (cr, p->x, p->y, c->theme->gutter_width + p->viewport.width, h);
  cairo_fill (cr);

  cairo_set_line_width (cr, 1);
  for (gint64 tick = first; tick <= c->t_hi; tick += step)
    {
      double x = c->plot_x + il_viewport_time_to_x (&p->viewport, tick);
      if (x < c->plot_x - 0.5)
        continue;
      /* Minor ticks at fifths of a step. */
      il_theme_set_source (cr, &c->theme->dim);
      for (int m = 1; m < 5; m++)
        {
          double xm = c->plot_x + il_viewport_time_to_x (&p->viewport, tick + step * m / 5);
          if (xm >= c->plot_x && xm <= c->plot_x + p->viewport.width)
            {
              cairo_move_to (cr, floor (xm) + 0.5, p->y + h - 4);
              cairo_line_to (cr, floor (xm) + 0.5, p->y + h);
            }
        }
      cairo_move_to (cr, floor (x) + 0.5, p->y + h - 9);
      cairo_line_to (cr, floor (x) + 0.5, p->y + h);
      cairo_stroke (cr);
      {
        g_autofree char *label = il_format_tick (tick, step);
        double w, lx;

        set_text (c, label, 0.9);
        w = text_width (c);
        lx = il_ticks_label_x (x - c->plot_x, w, p->viewport.width, prev_end);
        if (lx >= 0)
          {
            draw_text (c, c->plot_x + lx, p->y + h / 2 - 2, &c->theme->foreground);
            prev_end = lx + w;
          }
      }
    }

  il_theme_set_source (cr, &c->theme->dim);
  if (p->ruler_label != NULL)
    {
      /* Which run this is, where the eye starts reading the row. */
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", p->ruler_label);
      set_text (c, "", 1.0);
      pango_layout_set_markup (c->text, markup, -1);
      pango_layout_set_width (c->text, (int) ((p->ruler_label_width > 0 ? MIN (p->ruler_label_width, c->theme->gutter_width - 12)
                                                : c->theme->gutter_width - 12) * PANGO_SCALE));
      pango_layout_set_ellipsize (c->text, PANGO_ELLIPSIZE_END);
      draw_text (c, p->x + 8, p->y + h / 2, &c->theme->foreground);
      pango_layout_set_width (c->text, -1);
      pango_layout_set_ellipsize (c->text, PANGO_ELLIPSIZE_NONE);
      pango_layout_set_attributes (c->text, NULL);
    }
  else
    {
      set_text (c, "time", 0.85);
      draw_text (c, p->x + 8, p->y + h / 2, &c->theme->dim);
    }
}

static void
draw_grid (Ctx    *c,
           double  top,
           double  bottom)
{
  const IlRenderParams *p = c->p;
  gint64 step = il_ticks_choose_step (&p->viewport, il_ticks_label_spacing (c->theme->font_size, p->viewport.width));
  gint64 first = (c->t_lo / step) * step;

  il_theme_set_source (c->cr, &c->theme->grid);
  cairo_set_line_width (c->cr, 1);
  for (gint64 tick = first; tick <= c->t_hi; tick += step)
    {
      double x = c->plot_x + il_viewport_time_to_x (&p->viewport, tick);
      if (x < c->plot_x)
        continue;
      cairo_move_to (c->cr, floor (x) + 0.5, top);
      cairo_line_to (c->cr, floor (x) + 0.5, bottom);
    }
  cairo_stroke (c->cr);
}

/* ------------------------------------------------------------ tile cache */

/* Lanes (states, slices, counters) are drawn into tiles of TILE_W pixel
 * columns on a grid fixed in time at the current zoom (column g covers
 * [g, g + 1) × ns per pixel), kept between frames and painted at
 * whole-pixel offsets.  Panning then draws only the tiles that scroll
 * into view, a static view draws nothing but the tiles' paint, and playing
 * redraws only the tile of each lane that holds the playhead: everything
 * before it is final.  Names inside bars are kept with the tiles and drawn
 * per frame, joined across tile edges, so a long bar is named once. */
#define TILE_W 256
#define TILE_MARGIN_PX 16    /* marks reach this far past their event */
#define MAX_TILES 768        /* about 17 MB at the default lane height */

typedef struct {
  guint32 lane;
  gint64  k;
} TileKey;

struct _IlRenderTile {
  cairo_surface_t *surface;
  gint64   upto;        /* the playhead it was drawn for */
  gsize    n_events;    /* the trace's size then */
  gboolean marks;       /* drawn with marks */
  guint64  used;        /* frame it was last painted in */
  GArray  *labels;      /* of Label, tile coordinates */
  gpointer data;        /* the widget's, e.g. a texture of the surface */
  GDestroyNotify destroy;
};
typedef IlRenderTile Tile;


static guint
tile_key_hash (gconstpointer p)
{
  const TileKey *k = p;
  return (guint) (k->lane * 2654435761u) ^ (guint) k->k ^ (guint) (k->k >> 32);
}

static gboolean
tile_key_equal (gconstpointer a,
                gconstpointer b)
{
  const TileKey *x = a, *y = b;
  return x->lane == y->lane && x->k == y->k;
}

static void
tile_free (gpointer data)
{
  Tile *tile = data;

  il_render_tile_set_data (tile, NULL, NULL);
  g_clear_pointer (&tile->surface, cairo_surface_destroy);
  g_array_unref (tile->labels);
  g_free (tile);
}

cairo_surface_t *
il_render_tile_get_surface (IlRenderTile *tile)
{
  return tile->surface;
}

gpointer
il_render_tile_get_data (IlRenderTile *tile)
{
  return tile->data;
}

void
il_render_tile_set_data (IlRenderTile   *tile,
                         gpointer        data,
                         GDestroyNotify  destroy)
{
  if (tile->destroy != NULL && tile->data != NULL)
    tile->destroy (tile->data);
  tile->data = data;
  tile->destroy = destroy;
}

IlRenderCache *
il_render_cache_new (void)
{
  IlRenderCache *cache = g_new0 (IlRenderCache, 1);

  cache->lod = il_lod_cache_new ();
  cache->slices = il_slice_lod_new ();
  cache->tiles = g_hash_table_new_full (tile_key_hash, tile_key_equal, g_free, tile_free);
  return cache;
}

void
il_render_cache_clear (IlRenderCache *cache)
{
  g_return_if_fail (cache != NULL);
  il_lod_cache_clear (cache->lod);
  /* The slice LOD is not dropped here: the timeline clears its cache on
   * every resize and theme change, and rebuilding the LOD of 10 M slices
   * takes 0.2 s.  It checks its trace itself and is let go of when the
   * trace changes (cache_validate). */
  g_clear_pointer (&cache->label_layouts, g_hash_table_unref);
  g_clear_pointer (&cache->label_trace, il_trace_unref);
  g_hash_table_remove_all (cache->tiles);
  g_clear_pointer (&cache->trace, il_trace_unref);
  cache->theme = NULL;
  cache->layout = NULL;
}

IlSliceLod *
il_render_cache_get_slice_lod (IlRenderCache *cache)
{
  g_return_val_if_fail (cache != NULL, NULL);
  return cache->slices;
}

void
il_render_cache_free (IlRenderCache *cache)
{
  if (cache == NULL)
    return;
  il_render_cache_clear (cache);
  il_lod_cache_free (cache->lod);
  il_slice_lod_free (cache->slices);
  g_hash_table_destroy (cache->tiles);
  g_free (cache);
}

/* Drops the tiles if they were drawn for anything else than this frame's
 * trace, theme, layout and zoom. */
static void
cache_validate (IlRenderCache        *cache,
                const IlRenderParams *p)
{
  if (cache->trace != p->trace || cache->theme != p->theme || cache->layout != p->layout
      || cache->n_rows != p->layout->rows->len || cache->layout_height != p->layout->height
      || cache->span != p->viewport.span || cache->width != p->viewport.width
      || cache->scale != MAX (p->scale, 1))
    {
      g_hash_table_remove_all (cache->tiles);
      /* Names are laid out for a theme and a trace's strings. */
      if (cache->trace != p->trace || cache->theme != p->theme || cache->scale != MAX (p->scale, 1))
        g_clear_pointer (&cache->label_layouts, g_hash_table_unref);
      if (cache->trace != p->trace)
        {
          il_slice_lod_keep_only (cache->slices, p->trace);
          g_clear_pointer (&cache->trace, il_trace_unref);
          cache->trace = il_trace_ref ((IlTrace *) p->trace);
        }
      cache->theme = p->theme;
      cache->layout = p->layout;
      cache->n_rows = p->layout->rows->len;
      cache->layout_height = p->layout->height;
      cache->span = p->viewport.span;
      cache->width = p->viewport.width;
      cache->scale = MAX (p->scale, 1);
    }
}

static void
cache_evict (IlRenderCache *cache)
{
  GHashTableIter iter;
  Tile *tile;

  if (g_hash_table_size (cache->tiles) <= MAX_TILES)
    return;
  g_hash_table_iter_init (&iter, cache->tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tile))
    if (tile->used != cache->frame)
      g_hash_table_iter_remove (&iter);
}

static inline gint64
tile_start (double ns_per_px,
            gint64 k)
{
  return (gint64) floor ((double) k * TILE_W * ns_per_px);
}

static void
render_tile (Ctx         *c,
             const IlRow *row,
             Tile        *tile,
             gint64       k,
             gboolean     marks)
{
  double npp = (double) c->p->viewport.span / c->p->viewport.width;
  gint64 t0 = tile_start (npp, k), t1 = tile_start (npp, k + 1);
  IlRenderParams sub = *c->p;
  Ctx tc = { 0 };
  cairo_t *cr;

  /* Whatever the widget made of the old pixels is out of date. */
  il_render_tile_set_data (tile, NULL, NULL);
  if (tile->surface == NULL)
    {
      /* At the screen's resolution: a tile is painted 1:1 onto device pixels.
       * A new image surface is already transparent. */
      double s = c->p->cache->scale;
      tile->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (TILE_W * s),
                                                  (int) ceil (ceil (row->height) * s));
      cairo_surface_set_device_scale (tile->surface, s, s);
      cr = cairo_create (tile->surface);
    }
  else
    {
      cr = cairo_create (tile->surface);
      cairo_set_operator (cr, CAIRO_OPERATOR_CLEAR);
      cairo_paint (cr);
      cairo_set_operator (cr, CAIRO_OPERATOR_OVER);
    }

  sub.viewport.start = t0;
  sub.viewport.span = MAX (t1 - t0, 1);
  sub.viewport.width = TILE_W;
  tc.cr = cr;
  tc.p = &sub;
  tc.trace = c->trace;
  tc.theme = c->theme;
  tc.plot_x = 0;
  tc.lanes_y = -row->y;
  tc.t_lo = MAX (0, t0);
  tc.t_hi = il_viewport_x_to_time (&sub.viewport, TILE_W);
  tc.upto = c->upto;
  tc.bars = c->bars;
  tc.sorted = c->sorted;
  tc.labels = c->labels;
  g_array_set_size (tile->labels, 0);
  tc.label_out = tile->labels;

  draw_lane_body (&tc, row, 0);
  if (marks)
    {
      /* Marks of events just outside reach into the tile. */
      gint64 margin = (gint64) ceil (TILE_MARGIN_PX * npp);
      tc.t_lo = MAX (0, t0 - margin);
      tc.t_hi += margin;
      draw_marks (&tc, row, 0);
    }
  c->prims += tc.prims;

  g_clear_object (&tc.text);
  g_clear_pointer (&tc.label_layouts, g_hash_table_unref);
  cairo_destroy (cr);
  cairo_surface_flush (tile->surface);
  tile->upto = c->upto;
  tile->n_events = c->trace->n_events;
  tile->marks = marks;
}

/* Paints a lane from its tiles, drawing those missing or out of date. */
static void
draw_lane_tiled (Ctx         *c,
                       const IlRow *row,
                       double       y)
{
  IlRenderCache *cache = c->p->cache;
  const IlViewport *vp = &c->p->viewport;
  double npp = (double) vp->span / vp->width;
  gint64 g0 = (gint64) floor ((double) vp->start / npp);
  gint64 g1 = (gint64) floor ((double) (vp->start + vp->span) / npp);
  gint64 k0 = g0 >= 0 ? g0 / TILE_W : -((-g0 + TILE_W - 1) / TILE_W);
  gint64 k1 = g1 >= 0 ? g1 / TILE_W : -((-g1 + TILE_W - 1) / TILE_W);
  gboolean marks = marks_visible (c, row);
  gint64 margin = (gint64) ceil (TILE_MARGIN_PX * npp);
  double ty = round (y);
  g_autoptr(GArray) labels = g_array_new (FALSE, FALSE, sizeof (Label));
  g_autoptr(GArray) edge_a = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) edge_b = g_array_new (FALSE, FALSE, sizeof (guint));
  GArray *edge = edge_a, *edge_next = edge_b;   /* labels reaching a tile's right edge */

  for (gint64 k = k0; k <= k1; k++)
    {
      TileKey key = { row->lane, k };
      gint64 t0 = tile_start (npp, k), t1 = tile_start (npp, k + 1);
      double tx = round (c->plot_x + il_viewport_time_to_x (vp, t0));
      Tile *tile;
      gboolean valid;

      if (t1 + margin < 0 || t0 - margin > c->upto)
        continue;   /* nothing there yet */
      tile = g_hash_table_lookup (cache->tiles, &key);
      if (tile == NULL)
        {
          tile = g_new0 (Tile, 1);
          tile->labels = g_array_new (FALSE, FALSE, sizeof (Label));
          tile->upto = -1;
          g_hash_table_insert (cache->tiles, g_memdup2 (&key, sizeof key), tile);
          valid = FALSE;
        }
      else if (tile->marks != marks)
        valid = FALSE;
      else if (tile->upto > t1 + margin)
        /* Drawn complete: valid while the playhead stays past it. */
        valid = c->upto > t1 + margin;
      else
        valid = tile->upto == c->upto && tile->n_events == c->trace->n_events;
      if (!valid)
        render_tile (c, row, tile, k, marks);
      tile->used = cache->frame;

      if (c->over != c->cr)
        c->p->paint_tile (c->p->paint_tile_data, tile, tx, ty, TILE_W, ceil (row->height));
      else
        {
          cairo_set_source_surface (c->cr, tile->surface, tx, ty);
          cairo_pattern_set_filter (cairo_get_source (c->cr), CAIRO_FILTER_NEAREST);
          cairo_rectangle (c->cr, tx, ty, TILE_W, ceil (row->height));
          cairo_fill (c->cr);
        }

      /* Names: join a bar cut by the tile edge with its other part, in
       * the same sub-row (slice lanes keep one per depth): the parts to
       * join are those that reached the last tile's right edge. */
      g_array_set_size (edge_next, 0);
      for (guint i = 0; i < tile->labels->len; i++)
        {
          Label l = g_array_index (tile->labels, Label, i);
          guint at = labels->len;

          l.x += tx;
          l.y += ty;
          for (guint j = 0; j < edge->len && at == labels->len; j++)
            {
              Label *m = &g_array_index (labels, Label, g_array_index (edge, guint, j));
              if (m->label_lane == l.label_lane && m->ident == l.ident && m->name == l.name && m->y == l.y
                  && fabs (m->x + m->w - l.x) < 0.5)
                at = g_array_index (edge, guint, j);
            }
          if (at < labels->len)
            {
              Label *m = &g_array_index (labels, Label, at);
              m->w = l.x + l.w - m->x;
            }
          else
            g_array_append_val (labels, l);
          if (fabs (l.x + l.w - (tx + TILE_W)) < 0.5)
            g_array_append_val (edge_next, at);
        }
      {
        GArray *swap = edge;
        edge = edge_next;
        edge_next = swap;
      }
    }

  for (guint i = 0; i < labels->len; i++)
    {
      Label *l = &g_array_index (labels, Label, i);
      double x0 = MAX (l->x, c->plot_x), x1 = MIN (l->x + l->w, c->plot_x + vp->width);
      cairo_t *under = c->cr;

      l->x = x0;
      l->w = x1 - x0;
      c->cr = c->over;
      draw_label (c, l);
      c->cr = under;
    }
}

void
il_render_params_init (IlRenderParams *params,
                       const IlTrace  *trace,
                       const IlLayout *layout,
                       const IlTheme  *theme)
{
  memset (params, 0, sizeof *params);
  params->trace = trace;
  params->layout = layout;
  params->theme = theme;
  params->viewport.start = 0;
  params->viewport.span = MAX (trace->end_time, IL_MSEC (1));
  params->viewport.width = 800;
  params->now = G_MAXINT64;
  params->show_arrows = TRUE;
  params->show_ruler = TRUE;
  params->hover_lane = IL_NO_LANE;
  params->selected_lane = IL_NO_LANE;
  params->selected_start = params->selected_end = -1;
  params->selected_event = G_MAXSIZE;
  params->scale = 1;
}

/* Where a lane's name starts in the gutter (after its identity swatch,
 * for threads and tasks) and its type, as a fraction of the theme's. */
static void
lane_label_place (const IlTheme *theme,
                  const IlLane  *lane,
                  const IlRow   *row,
                  double        *indent,
                  double        *full)
{
  *indent = 8 + row->depth * 10;
  if (lane->kind == IL_LANE_TASK || lane->kind == IL_LANE_THREAD)
    *indent += 12;
  *full = lane->kind == IL_LANE_TASK || theme->kind == IL_THEME_PRESENTER ? 1.0 : 0.9;
}

guint
il_render_timeline (cairo_t              *cr,
                    const IlRenderParams *p)
{
  Ctx c = { 0 };
  const IlLayout *layout = p->layout;
  double top, bottom;
  gboolean use_tiles;

  g_return_val_if_fail (p->trace != NULL && p->layout != NULL && p->theme != NULL, 0);

  c.cr = cr;
  c.p = p;
  c.trace = p->trace;
  c.theme = p->theme;
  c.plot_x = p->x + p->theme->gutter_width;
  top = p->y + (p->show_ruler ? p->theme->ruler_height : 0);
  bottom = p->y + p->height;
  c.lanes_y = top - p->scroll_y;
  c.t_lo = MAX (0, p->viewport.start);
  c.t_hi = il_viewport_x_to_time (&p->viewport, p->viewport.width);
  c.upto = MIN (p->now, p->trace->end_time);
  c.text = pango_cairo_create_layout (cr);
  c.bars = g_array_new (FALSE, FALSE, sizeof (Bar));
  c.sorted = g_array_new (FALSE, FALSE, sizeof (Bar));
  c.labels = g_array_new (FALSE, FALSE, sizeof (Bar));

  /* Tiles need a time grid of at least a nanosecond per pixel.  While the
   * zoom changes frame after frame (a pinch, a wheel), tiles would be
   * thrown away as soon as drawn: draw directly until it settles. */
  use_tiles = FALSE;
  if (p->cache != NULL)
    {
      use_tiles = p->viewport.span >= p->viewport.width
                  && p->cache->last_span == p->viewport.span && p->cache->last_width == p->viewport.width;
      p->cache->last_span = p->viewport.span;
      p->cache->last_width = p->viewport.width;
    }
  if (use_tiles)
    {
      p->cache->frame++;
      cache_validate (p->cache, p);
    }

  /* With a tile painter and an overlay, tiles go to the painter and what
   * is drawn over them to the overlay, in the same clips. */
  c.over = use_tiles && p->paint_tile != NULL && p->overlay != NULL ? p->overlay : cr;
  if (c.over != cr)
    {
      cairo_save (c.over);
      cairo_rectangle (c.over, p->x, top, p->theme->gutter_width + p->viewport.width, bottom - top);
      cairo_clip (c.over);
      cairo_save (c.over);
      cairo_rectangle (c.over, c.plot_x, top, p->viewport.width, bottom - top);
      cairo_clip (c.over);
    }

  cairo_save (cr);
  il_theme_set_source (cr, &p->theme->background);
  cairo_rectangle (cr, p->x, p->y, p->theme->gutter_width + p->viewport.width, p->height);
  cairo_fill (cr);

  cairo_rectangle (cr, p->x, top, p->theme->gutter_width + p->viewport.width, bottom - top);
  cairo_clip (cr);

  /* Row backgrounds and labels. */
  for (guint i = 0; i < layout->rows->len; i++)
    {
      const IlRow *row = &g_array_index (layout->rows, IlRow, i);
      double y = c.lanes_y + row->y;

      if (y > bottom || y + row->height < top)
        continue;
      if (row->kind == IL_ROW_HEADING)
        {
          il_theme_set_source (cr, &p->theme->heading_bg);
          cairo_rectangle (cr, p->x, y, p->theme->gutter_width + p->viewport.width, row->height);
          cairo_fill (cr);
          set_text (&c, row->label, 0.9);
          pango_layout_set_attributes (c.text, NULL);
          draw_text (&c, p->x + 8, y + row->height / 2, &p->theme->dim);
          continue;
        }
      if (row->lane == p->selected_lane || row->lane == p->hover_lane)
        il_theme_set_source (cr, &p->theme->selection);
      else if (i % 2)
        il_theme_set_source (cr, &p->theme->lane_alt);
      else
        continue;
      cairo_rectangle (cr, p->x, y, p->theme->gutter_width + p->viewport.width, row->height);
      cairo_fill (cr);
    }

  draw_grid (&c, top, bottom);

  cairo_save (cr);
  cairo_rectangle (cr, c.plot_x, top, p->viewport.width, bottom - top);
  cairo_clip (cr);
  for (guint i = 0; i < layout->rows->len; i++)
    {
      const IlRow *row = &g_array_index (layout->rows, IlRow, i);
      double y = c.lanes_y + row->y;

      if (row->kind != IL_ROW_LANE || y > bottom || y + row->height < top)
        continue;
      if (use_tiles)
        {
          draw_lane_tiled (&c, row, y);
          continue;
        }
      draw_lane_body (&c, row, y);
      if (marks_visible (&c, row))
        draw_marks (&c, row, y);
    }

  /* The rest goes on top of the tiles. */
  if (c.over != cr)
    {
      cairo_restore (cr);
      cairo_restore (cr);
      cr = c.cr = c.over;
    }

  if (p->selected_lane != IL_NO_LANE && p->selected_start >= 0
      && p->selected_lane < layout->n_lanes && layout->lane_row[p->selected_lane] != IL_NO_LANE)
    {
      const IlRow *row = &g_array_index (layout->rows, IlRow, layout->lane_row[p->selected_lane]);
      double x0 = c.plot_x + il_viewport_time_to_x (&p->viewport, p->selected_start);
      double x1 = c.plot_x + il_viewport_time_to_x (&p->viewport, p->selected_end);
      double sy = c.lanes_y + row->y, sh = row->height;

      /* A selected slice is outlined in its own sub-row. */
      if (p->selected_event < p->trace->n_events && p->trace->kind[p->selected_event] == IL_EVENT_SLICE_BEGIN
          && p->trace->aux[p->selected_event] < row->sub_rows)
        {
          sh = row->height / row->sub_rows;
          sy += p->trace->aux[p->selected_event] * sh;
        }
      il_theme_set_source (cr, &p->theme->foreground);
      cairo_set_line_width (cr, 2 * p->theme->line_width);
      cairo_rectangle (cr, x0, sy, MAX (2, x1 - x0), sh);
      cairo_stroke (cr);
    }

  if (p->show_arrows)
    draw_arrows (&c);

  /* What waits in the loop's and the pools' queues, at the playhead. */
  g_array_unref (il_render_queues (cr, p, TRUE));

  if (p->show_playhead && p->now != G_MAXINT64)
    {
      double x = c.plot_x + il_viewport_time_to_x (&p->viewport, MIN (p->now, p->trace->end_time));
      il_theme_set_source (cr, &p->theme->playhead);
      cairo_set_line_width (cr, 2 * p->theme->line_width);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, bottom);
      cairo_stroke (cr);
    }
  cairo_restore (cr);

  /* Lane labels over the gutter, each with its identity swatch.  Every
   * lane carries its name: in type smaller than the theme's only where the
   * lanes are thinner than a line (it skipped every second name there,
   * and a name is what tells twenty requests apart), cut in the middle
   * where it is wider than the gutter.  On a projector every name is in
   * the full type; the colour tells threads from tasks. */
  for (guint i = 0; i < layout->rows->len; i++)
    {
      const IlRow *row = &g_array_index (layout->rows, IlRow, i);
      double y = c.lanes_y + row->y;
      const IlLane *lane;
      double indent, full, scale, pitch;
      int tw, th;

      if (row->kind != IL_ROW_LANE || y > bottom || y + row->height < top)
        continue;
      lane = il_trace_get_lane (p->trace, row->lane);
      lane_label_place (p->theme, lane, row, &indent, &full);
      if (lane->kind == IL_LANE_TASK || lane->kind == IL_LANE_THREAD)
        {
          il_theme_set_source (cr, il_theme_identity (p->theme, layout->lane_colour[row->lane]));
          cairo_rectangle (cr, p->x + indent - 12, y + row->height / 2 - 4, 8, 8);
          cairo_fill (cr);
        }
      set_text (&c, row->label, full);
      pango_layout_get_pixel_size (c.text, &tw, &th);
      pitch = i + 1 < layout->rows->len ? g_array_index (layout->rows, IlRow, i + 1).y - row->y : row->height;
      scale = il_render_label_scale (full, pitch, th);
      if (scale < full)
        set_text (&c, row->label, scale);
      pango_layout_set_width (c.text, (int) ((p->theme->gutter_width - indent - 4) * PANGO_SCALE));
      /* Names that differ at the end (ThreadPoolExecutor-0_0, -0_1, GIL
       * (Process-3 (tiny_3))) keep the end: the middle goes. */
      pango_layout_set_ellipsize (c.text, PANGO_ELLIPSIZE_MIDDLE);
      draw_text (&c, p->x + indent, y + row->height / 2,
                 lane->kind == IL_LANE_TASK ? &p->theme->foreground : &p->theme->dim);
      pango_layout_set_width (c.text, -1);
    }
  cairo_restore (cr);

  if (p->show_ruler)
    {
      cairo_save (cr);
      cairo_rectangle (cr, p->x, p->y, p->theme->gutter_width + p->viewport.width, p->theme->ruler_height);
      cairo_clip (cr);
      draw_ruler (&c);
      if (p->show_playhead && p->now != G_MAXINT64)
        {
          double x = c.plot_x + il_viewport_time_to_x (&p->viewport, MIN (p->now, p->trace->end_time));
          if (x >= c.plot_x)
            {
              il_theme_set_source (cr, &p->theme->playhead);
              triangle (cr, x, p->y + p->theme->ruler_height, ruler_playhead_size (&c), FALSE);
              cairo_fill (cr);
            }
        }
      cairo_restore (cr);
    }

  g_object_unref (c.text);
  g_clear_pointer (&c.label_layouts, g_hash_table_unref);
  g_clear_pointer (&c.own_slices, il_slice_lod_free);
  g_array_unref (c.bars);
  g_array_unref (c.sorted);
  g_array_unref (c.labels);
  if (use_tiles)
    cache_evict (p->cache);
  return c.prims;
}

/* One legend entry's sample, drawn in a sw × sh box at (x, y). */
static void
legend_sample (cairo_t       *cr,
               const IlTheme *theme,
               IlLegendItem   item,
               double         x,
               double         y,
               double         sw,
               double         sh,
               double         fs)
{
  static const IlState states[] = {
    [IL_LEGEND_RUNNING] = IL_STATE_RUNNING, [IL_LEGEND_STARTING] = IL_STATE_STARTING,
    [IL_LEGEND_READY] = IL_STATE_READY, [IL_LEGEND_WAIT_GIL] = IL_STATE_WAIT_GIL,
    [IL_LEGEND_WAIT_IO] = IL_STATE_WAIT_IO, [IL_LEGEND_SLEEPING] = IL_STATE_SLEEPING,
    [IL_LEGEND_BLOCKED] = IL_STATE_BLOCKED, [IL_LEGEND_IDLE] = IL_STATE_IDLE,
    [IL_LEGEND_LOOP_SELECT] = IL_STATE_IDLE,
  };
  double s = fs / 12, xc = x + sw / 2, yc = y + sh / 2;

  switch (item)
    {
    case IL_LEGEND_RUNNING:
      /* Three tasks' colours side by side: "the task's colour", not the
       * colour of whichever task happens to wear the first one. */
      for (int k = 0; k < 3; k++)
        {
          il_theme_set_source (cr, il_theme_identity (theme, k));
          cairo_rectangle (cr, x + sw * k / 3, y, sw / 3 + (k < 2 ? 0.5 : 0), sh);
          cairo_fill (cr);
        }
      break;
    case IL_LEGEND_STARTING:
    case IL_LEGEND_READY:
    case IL_LEGEND_WAIT_GIL:
    case IL_LEGEND_WAIT_IO:
    case IL_LEGEND_SLEEPING:
    case IL_LEGEND_BLOCKED:
    case IL_LEGEND_IDLE:
    case IL_LEGEND_LOOP_SELECT:
      {
        double frac = MAX (0.3, il_theme_state_height (states[item]));
        il_theme_set_state_source (theme, cr, states[item], 0);
        cairo_rectangle (cr, x, yc - sh * frac / 2, sw, sh * frac);
        cairo_fill (cr);
        break;
      }
    case IL_LEGEND_GIL_REQUEST:
      il_theme_set_source (cr, &theme->mark);
      triangle (cr, xc, y, fs * 0.35, TRUE);
      cairo_fill (cr);
      break;
    case IL_LEGEND_GIL_SWITCH:
    case IL_LEGEND_LOOP_ITER:
      il_theme_set_source (cr, item == IL_LEGEND_GIL_SWITCH ? &theme->mark : &theme->foreground);
      cairo_set_line_width (cr, (item == IL_LEGEND_GIL_SWITCH ? 2 : 1) * theme->line_width);
      cairo_move_to (cr, floor (xc) + 0.5, y);
      cairo_line_to (cr, floor (xc) + 0.5, item == IL_LEGEND_GIL_SWITCH ? y + sh : y + sh * 0.45);
      cairo_stroke (cr);
      break;
    case IL_LEGEND_FAILED:
    case IL_LEGEND_CANCELLED:
      draw_end_mark (cr, theme, item == IL_LEGEND_FAILED, xc, yc, sh * 2, s);
      break;
    case IL_LEGEND_WAKE_ARROW:
    case IL_LEGEND_OUTSIDE_ARROW:
      il_theme_set_source (cr, &theme->arrow);
      cairo_set_line_width (cr, theme->line_width);
      if (item == IL_LEGEND_WAKE_ARROW)
        arrow (cr, x, y, x + sw, y + sh, s);
      else
        arrow (cr, xc, y + sh + 2 * s, xc, y - 2 * s, s);
      break;
    case IL_LEGEND_QUEUE_READY:
    case IL_LEGEND_QUEUE_TIMER:
    case IL_LEGEND_QUEUE_POOL:
      /* As il-render-queues.c draws them: a box in the item's colour, an
       * outline for a timer not yet due, a frame for a pool's work item
       * (a little wider, as a labelled item is). */
      il_render_queue_box (cr, theme,
                           item == IL_LEGEND_QUEUE_TIMER ? IL_QUEUE_BOX_TIMER
                           : item == IL_LEGEND_QUEUE_POOL ? IL_QUEUE_BOX_POOL : IL_QUEUE_BOX_READY,
                           il_theme_identity (theme, item == IL_LEGEND_QUEUE_POOL ? 1 : 0),
                           item == IL_LEGEND_QUEUE_POOL ? x : xc - sh / 2, y,
                           item == IL_LEGEND_QUEUE_POOL ? sw : sh, sh);
      break;
    case IL_LEGEND_QUEUE_USER:
      /* As il-render-queues.c draws a queue: an item in the colour of the
       * task that put it, then a dashed free slot. */
      {
        double bw = (sw - 2 * s) / 2, dash = MAX (1.5, 2 * s);

        cairo_rectangle (cr, x + 0.5, y + 0.5, bw - 1, sh - 1);
        il_theme_set_source (cr, il_theme_identity (theme, 1));
        cairo_fill (cr);
        cairo_save (cr);
        cairo_set_dash (cr, &dash, 1, 0);
        cairo_set_line_width (cr, theme->line_width);
        il_theme_set_source (cr, &theme->foreground);
        cairo_rectangle (cr, x + bw + 2 * s + 0.5, y + 0.5, bw - 1, sh - 1);
        cairo_stroke (cr);
        cairo_restore (cr);
        break;
      }
    case IL_N_LEGEND_ITEMS:
    default:
      g_assert_not_reached ();
    }
}

/* Lays the legend out in rows at fs px type from (x, y), drawing it on cr
 * unless NULL; returns its height. */
static double
legend_flow (cairo_t        *cr,
             const IlTheme  *theme,
             double          fs,
             double          x,
             double          y,
             double          width,
             const IlLegend *legend)
{
  static const char *labels[] = {
    [IL_LEGEND_RUNNING] = "running (the task's colour)",
    [IL_LEGEND_STARTING] = "starting a process",
    [IL_LEGEND_READY] = "ready / runnable",
    [IL_LEGEND_WAIT_GIL] = "waiting for the GIL",
    [IL_LEGEND_WAIT_IO] = "waiting for I/O",
    [IL_LEGEND_SLEEPING] = "sleeping",
    [IL_LEGEND_BLOCKED] = "blocked (lock, await, queue)",
    [IL_LEGEND_IDLE] = "idle",
    [IL_LEGEND_LOOP_SELECT] = "loop in select()",
    [IL_LEGEND_GIL_REQUEST] = "GIL drop request",
    [IL_LEGEND_GIL_SWITCH] = "forced switch",
    [IL_LEGEND_LOOP_ITER] = "loop iteration",
    [IL_LEGEND_FAILED] = "raised an exception",
    [IL_LEGEND_CANCELLED] = "cancelled",
    [IL_LEGEND_WAKE_ARROW] = "woke / handed over to",
    [IL_LEGEND_OUTSIDE_ARROW] = "I/O done or timer fired",
    [IL_LEGEND_QUEUE_READY] = "in the ready queue",
    [IL_LEGEND_QUEUE_TIMER] = "timer not yet due",
    [IL_LEGEND_QUEUE_POOL] = "in a pool's work queue",
    [IL_LEGEND_QUEUE_USER] = "item in a queue / free slot",
  };
  double cx = x, cy = y, row_h = fs * 1.7;
  PangoLayout *text;
  gboolean any = FALSE;

  G_STATIC_ASSERT (G_N_ELEMENTS (labels) == IL_N_LEGEND_ITEMS);

  text = il_render_legend_text (cr, fs);

  for (int i = 0; i < IL_N_LEGEND_ITEMS; i++)
    {
      int tw, th;
      double item_w, sw = fs * 1.6, sh = fs * 0.9;

      if (!il_legend_has (legend, (IlLegendItem) i))
        continue;
      /* A thread idle and the loop in select() are drawn alike: one entry. */
      if (i == IL_LEGEND_IDLE && il_legend_has (legend, IL_LEGEND_LOOP_SELECT))
        continue;
      any = TRUE;
      pango_layout_set_text (text, i == IL_LEGEND_LOOP_SELECT && il_legend_has (legend, IL_LEGEND_IDLE)
                             ? "idle / loop in select()" : labels[i], -1);
      pango_layout_get_pixel_size (text, &tw, &th);
      item_w = fs * 2.1 + tw + fs * 1.2;
      if (cx + item_w > x + width && cx > x)
        {
          cx = x;
          cy += row_h;
        }
      if (cr != NULL)
        {
          cairo_save (cr);
          legend_sample (cr, theme, (IlLegendItem) i, cx, cy + row_h / 2 - sh / 2, sw, sh, fs);
          cairo_restore (cr);
          il_theme_set_source (cr, &theme->foreground);
          cairo_move_to (cr, cx + sw + fs * 0.5, cy + (row_h - th) / 2);
          pango_cairo_show_layout (cr, text);
        }
      cx += item_w;
    }

  g_object_unref (text);
  return any ? cy + row_h - y : 0;
}

double
il_render_legend (cairo_t        *cr,
                  const IlTheme  *theme,
                  double          x,
                  double          y,
                  double          width,
                  const IlLegend *legend)
{
  /* On a projector the legend is read once, the lanes all the time: a
   * little smaller type there keeps it to two rows instead of four.  On a
   * narrow projector screen (1024 px, the sidebar open) it still took
   * eight rows, a third of the height: the type steps down, to 13 px at
   * the least, until it fits in three. */
  double fs = theme->font_size * (theme->kind == IL_THEME_PRESENTER ? 0.8 : 1.0);

  g_return_val_if_fail (theme != NULL && legend != NULL, 0);

  if (theme->kind == IL_THEME_PRESENTER)
    while (fs > 13 && legend_flow (NULL, theme, fs, x, y, width, legend) > 3 * fs * 1.7 + 0.5)
      fs = MAX (13, fs * 0.9);
  return legend_flow (cr, theme, fs, x, y, width, legend);
}

double
il_render_label_scale (double scale,
                       double pitch,
                       double line_height)
{
  if (line_height <= 0 || pitch <= 0 || line_height <= 1.5 * pitch)
    return scale;
  return scale * 1.5 * pitch / line_height;
}

PangoLayout *
il_render_legend_text (cairo_t *cr,
                       double   font_px)
{
  cairo_surface_t *scratch = NULL;
  PangoFontDescription *font;
  PangoLayout *text;

  if (cr == NULL)
    {
      scratch = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
      cr = cairo_create (scratch);
    }
  text = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("sans");
  pango_font_description_set_absolute_size (font, font_px * PANGO_SCALE);
  pango_layout_set_font_description (text, font);
  pango_font_description_free (font);
  if (scratch != NULL)
    {
      cairo_destroy (cr);
      cairo_surface_destroy (scratch);
    }
  return text;
}

double
il_render_gutter_width (const IlTrace  *trace,
                        const IlLayout *layout,
                        const IlTheme  *theme,
                        double          max_width)
{
  cairo_surface_t *scratch;
  Ctx c = { 0 };
  double need;

  g_return_val_if_fail (trace != NULL && layout != NULL && theme != NULL, 0);
  need = theme->gutter_width;
  scratch = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  c.cr = cairo_create (scratch);
  c.theme = theme;
  for (guint i = 0; i < layout->rows->len; i++)
    {
      const IlRow *row = &g_array_index (layout->rows, IlRow, i);
      double indent, full;

      if (row->kind != IL_ROW_LANE || row->lane >= il_trace_get_n_lanes (trace))
        continue;
      lane_label_place (theme, il_trace_get_lane (trace, row->lane), row, &indent, &full);
      set_text (&c, row->label, full);
      /* The drawing loop leaves 4 px after a name. */
      need = MAX (need, ceil (indent + text_width (&c) + 4));
    }
  g_clear_object (&c.text);
  cairo_destroy (c.cr);
  cairo_surface_destroy (scratch);
  return MAX (theme->gutter_width, MIN (need, max_width));
}
