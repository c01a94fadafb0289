/* il-render-queues.c — the event loop's and the pools' queues, item by item
 *
 * The ready-queue depth used to be a 7 px digit on the loop lane, legible
 * only when zoomed far in.  Here each waiting item is a box in its task's
 * colour at the playhead, the front of the queue nearest to it, so as the
 * run plays items join at the back and leave at the front: lesson 10's
 * sleep(0) sending alpha to the back of the queue is something to watch.
 * Drawn on top of the lanes (the overlay) and recomputed per frame: one
 * walk of the loop lane's events up to the playhead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <pango/pangocairo.h>

#include "il-render-queues.h"
#include "il-queues.h"

typedef struct {
  cairo_t              *cr;
  const IlRenderParams *p;
  PangoLayout          *text;
  GArray               *boxes;
  gboolean              draw;
  double                right;   /* the plot's right edge */
  double                font_px; /* the row's type */
} Ctx;

/* The queues whose items are pushed on a lane: a loop lane's ready queue
 * and timers, a process's pools (found among the lane's own events, so an
 * imported trace without queues costs one look at each process lane). */
static void
lane_queues (const IlTrace *trace,
             guint32        lane,
             GArray        *out)
{
  const IlLane *l = il_trace_get_lane (trace, lane);
  const IlLaneIndex *idx;

  g_array_set_size (out, 0);
  if (l->kind == IL_LANE_LOOP)
    {
      guint16 ready = IL_QUEUE_READY, timers = IL_QUEUE_TIMERS;
      g_array_append_val (out, ready);
      g_array_append_val (out, timers);
      return;
    }
  if (l->kind != IL_LANE_PROCESS)
    return;
  /* The scenario's queues (queue.Queue, asyncio.Queue) in the main
   * process's row: the first process lane. */
  if (trace->scenario != NULL && trace->scenario->n_queues > 0)
    {
      gboolean first = TRUE;
      for (guint32 k = 0; k < lane && first; k++)
        first = il_trace_get_lane (trace, k)->kind != IL_LANE_PROCESS;
      for (guint32 k = 0; first && k < trace->scenario->n_queues && k < IL_QUEUE_USER; k++)
        {
          guint16 q = (guint16) (IL_QUEUE_USER | k);
          g_array_append_val (out, q);
        }
    }
  idx = il_trace_get_lane_events (trace, lane);
  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      guint16 q = trace->aux[e];
      gboolean seen = FALSE;

      if (trace->kind[e] != IL_EVENT_QUEUE || q == IL_QUEUE_READY || q == IL_QUEUE_TIMERS || il_queue_is_user (q))
        continue;
      for (guint k = 0; k < out->len && !seen; k++)
        seen = g_array_index (out, guint16, k) == q;
      if (!seen)
        g_array_append_val (out, q);
    }
}

/* A work item's frame: thick enough to see, thin enough to leave its
 * label room. */
static double
pool_frame (const IlTheme *theme,
            double         height)
{
  return MIN (1.5 * theme->line_width, MAX (1.5, height / 8));
}

IlQueueBoxStyle
il_queue_box_style (guint16 queue)
{
  if (queue == IL_QUEUE_TIMERS)
    return IL_QUEUE_BOX_TIMER;
  if (queue == IL_QUEUE_READY || il_queue_is_user (queue))
    return IL_QUEUE_BOX_READY;
  return IL_QUEUE_BOX_POOL;
}

double
il_render_queue_box (cairo_t         *cr,
                     const IlTheme   *theme,
                     IlQueueBoxStyle  style,
                     const IlColour  *colour,
                     double           x,
                     double           y,
                     double           width,
                     double           height)
{
  double frame = pool_frame (theme, height);

  cairo_save (cr);
  cairo_new_path (cr);
  switch (style)
    {
    case IL_QUEUE_BOX_TIMER:
      /* A timer has not come due: outlined, not yet in line to run. */
      cairo_rectangle (cr, x + 0.5, y + 0.5, width - 1, height - 1);
      il_theme_set_source (cr, colour);
      cairo_set_line_width (cr, 2 * theme->line_width);
      cairo_stroke (cr);
      cairo_restore (cr);
      return 3;
    case IL_QUEUE_BOX_POOL:
      /* The frame is inside the box, so boxes side by side stay apart. */
      cairo_rectangle (cr, x + 0.5, y + 0.5, width - 1, height - 1);
      il_theme_set_source (cr, colour);
      cairo_fill (cr);
      cairo_rectangle (cr, x + 0.5 + frame / 2, y + 0.5 + frame / 2, width - 1 - frame, height - 1 - frame);
      il_theme_set_source (cr, &theme->foreground);
      cairo_set_line_width (cr, frame);
      cairo_stroke (cr);
      cairo_restore (cr);
      return 3 + frame;
    case IL_QUEUE_BOX_READY:
    default:
      cairo_rectangle (cr, x + 0.5, y + 0.5, width - 1, height - 1);
      il_theme_set_source (cr, colour);
      cairo_fill_preserve (cr);
      il_theme_set_source (cr, &theme->background);
      cairo_set_line_width (cr, theme->line_width);
      cairo_stroke (cr);
      cairo_restore (cr);
      return 3;
    }
}

static void
set_font (Ctx   *c,
          double size)
{
  PangoFontDescription *font = pango_font_description_new ();

  pango_font_description_set_family (font, "Cantarell, Inter, sans-serif");
  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (c->text, font);
  pango_font_description_free (font);
}

/* Lays out one queue's items from *x on; FALSE once the edge is reached. */
static gboolean
queue_boxes (Ctx          *c,
             guint16       queue,
             const GArray *items,
             double       *x,
             double        y,
             double        h)
{
  const IlTheme *theme = c->p->theme;
  const IlLayout *layout = c->p->layout;
  double max_w = 6 * h;   /* a label gets some room, the queue stays compact */
  IlQueueBoxStyle style = il_queue_box_style (queue);
  gboolean hollow = style == IL_QUEUE_BOX_TIMER;
  /* A framed box keeps its label clear of the frame, in smaller type. */
  double frame = style == IL_QUEUE_BOX_POOL ? pool_frame (theme, h) : 0;
  double pad = 6 + 2 * frame;
  gboolean done = TRUE;

  if (frame > 0)
    set_font (c, MAX (8.0, MIN (c->font_px, (h - 2 * frame - 1) / 1.2)));
  for (guint i = 0; i < items->len && done; i++)
    {
      const IlQueueItem *it = &g_array_index (items, IlQueueItem, i);
      const char *name = it->lane != IL_NO_LANE && it->lane < il_trace_get_n_lanes (c->p->trace)
                         ? il_trace_get_lane (c->p->trace, it->lane)->name : NULL;
      char number[16];

      /* A user queue's items go by number (the narration's "item 3"); the
       * colour says who put it. */
      if (il_queue_is_user (queue))
        {
          g_snprintf (number, sizeof number, "%u", it->number);
          name = number;
        }
      IlQueueBox box = { queue, it->lane, *x, y, h, h, FALSE };
      int tw = 0, th = 0;

      if (name != NULL)
        {
          pango_layout_set_text (c->text, name, -1);
          pango_layout_set_width (c->text, (int) ((max_w - pad) * PANGO_SCALE));
          pango_layout_get_pixel_size (c->text, &tw, &th);
          box.labelled = h >= 12 && tw > 0;
          if (box.labelled)
            box.width = MAX (h, tw + pad);
        }
      if (box.x + box.width > c->right - 2 * h)
        {
          /* No room for the rest: say how many more there are. */
          if (c->draw)
            {
              g_autofree char *more = g_strdup_printf ("+%u", items->len - i);
              pango_layout_set_width (c->text, -1);
              pango_layout_set_text (c->text, more, -1);
              pango_layout_get_pixel_size (c->text, &tw, &th);
              il_theme_set_source (c->cr, &theme->foreground);
              cairo_move_to (c->cr, box.x, y + (h - th) / 2);
              pango_cairo_show_layout (c->cr, c->text);
            }
          done = FALSE;
          break;
        }
      if (c->draw)
        {
          const IlColour *colour = it->lane != IL_NO_LANE && it->lane < layout->n_lanes
                                   ? il_theme_identity (theme, layout->lane_colour[it->lane]) : &theme->dim;

          double inset = il_render_queue_box (c->cr, theme, style, colour, box.x, box.y, box.width, box.height);

          if (box.labelled)
            {
              static const IlColour dark = { 0.08, 0.08, 0.08, 1 }, light = { 1, 1, 1, 1 };
              double lum = 0.2126 * colour->r + 0.7152 * colour->g + 0.0722 * colour->b;

              pango_layout_set_text (c->text, name, -1);
              il_theme_set_source (c->cr, hollow ? &theme->foreground : lum > 0.55 ? &dark : &light);
              cairo_move_to (c->cr, box.x + inset, y + (h - th) / 2);
              pango_cairo_show_layout (c->cr, c->text);
            }
        }
      g_array_append_val (c->boxes, box);
      *x += box.width + 1;
    }
  if (frame > 0)
    set_font (c, c->font_px);
  return done;
}

/* A user queue: its name, its items (each in the colour of the task that
 * put it, oldest first) and, when it is bounded, its free slots as dashed
 * outlines, so that "full (2/2)" is two boxes and no gap. */
static gboolean
user_queue_boxes (Ctx          *c,
                  guint16       queue,
                  const GArray *items,
                  double       *x,
                  double        y,
                  double        h)
{
  const IlTheme *theme = c->p->theme;
  g_autofree char *name = il_queue_label (c->p->trace, queue);
  gint maxsize = il_queue_maxsize (c->p->trace, queue);
  int tw = 0, th = 0;

  pango_layout_set_width (c->text, -1);
  pango_layout_set_text (c->text, name, -1);
  pango_layout_get_pixel_size (c->text, &tw, &th);
  if (*x + tw + 4 > c->right - 2 * h)
    return FALSE;
  if (c->draw)
    {
      il_theme_set_source (c->cr, &theme->foreground);
      cairo_move_to (c->cr, *x, y + (h - th) / 2);
      pango_cairo_show_layout (c->cr, c->text);
    }
  *x += tw + 4;
  if (!queue_boxes (c, queue, items, x, y, h))
    return FALSE;
  for (gint i = (gint) items->len; maxsize > 0 && i < MIN (maxsize, 32); i++)
    {
      if (*x + h > c->right - 2 * h)
        return FALSE;
      if (c->draw)
        {
          static const double dash[] = { 2, 2 };
          cairo_save (c->cr);
          cairo_rectangle (c->cr, *x + 0.5, y + 0.5, h - 1, h - 1);
          il_theme_set_source (c->cr, &theme->dim);
          cairo_set_line_width (c->cr, theme->line_width);
          cairo_set_dash (c->cr, dash, G_N_ELEMENTS (dash), 0);
          cairo_stroke (c->cr);
          cairo_restore (c->cr);
        }
      *x += h + 1;
    }
  return TRUE;
}

GArray *
il_render_queues (cairo_t              *cr,
                  const IlRenderParams *p,
                  gboolean              draw)
{
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (IlQueueBox));
  g_autoptr(GArray) queues = g_array_new (FALSE, FALSE, sizeof (guint16));
  double plot_x, top, lanes_y, x0;
  gint64 now;
  Ctx c = { cr, p, NULL, boxes, draw, 0, 0 };

  g_return_val_if_fail (cr != NULL && p != NULL, boxes);
  if (!p->show_playhead || p->now == G_MAXINT64 || p->trace == NULL || p->layout == NULL)
    return boxes;
  now = MIN (p->now, p->trace->end_time);
  plot_x = p->x + p->theme->gutter_width;
  c.right = plot_x + p->viewport.width;
  x0 = plot_x + il_viewport_time_to_x (&p->viewport, now) + 3;
  if (x0 < plot_x || x0 >= c.right)
    return boxes;
  top = p->y + (p->show_ruler ? p->theme->ruler_height : 0);
  lanes_y = top - p->scroll_y;

  c.text = pango_cairo_create_layout (cr);
  pango_layout_set_ellipsize (c.text, PANGO_ELLIPSIZE_END);
  if (draw)
    {
      cairo_save (cr);
      cairo_rectangle (cr, plot_x, top, p->viewport.width, p->y + p->height - top);
      cairo_clip (cr);
    }
  for (guint r = 0; r < p->layout->rows->len; r++)
    {
      const IlRow *row = &g_array_index (p->layout->rows, IlRow, r);
      double y = lanes_y + row->y, h = row->height - 4, x = x0;

      if (row->lane == IL_NO_LANE || row->lane >= il_trace_get_n_lanes (p->trace)
          || y > p->y + p->height || y + row->height < top)
        continue;
      lane_queues (p->trace, row->lane, queues);
      c.font_px = MAX (8.0, MIN (p->theme->font_size, h - 3));
      set_font (&c, c.font_px);
      for (guint q = 0; q < queues->len; q++)
        {
          guint16 id = g_array_index (queues, guint16, q);
          g_autoptr(GArray) items = il_queue_items_at (p->trace, id, now);

          if (il_queue_is_user (id))
            {
              if (!user_queue_boxes (&c, id, items, &x, y + 2, h))
                break;
              x += h;
              continue;
            }
          if (!queue_boxes (&c, id, items, &x, y + 2, h))
            break;
          if (items->len > 0)
            x += h / 2;   /* a gap between the ready queue and the timers */
        }
    }
  if (draw)
    cairo_restore (cr);
  g_object_unref (c.text);
  return boxes;
}
