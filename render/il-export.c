/* il-export.c — timelines as PNG, SVG and PDF for slides
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <gio/gio.h>
#include <pango/pangocairo.h>

#include "il-export.h"
#include "il-render.h"

#define MARGIN 16.0

void
il_export_options_init (IlExportOptions *o)
{
  memset (o, 0, sizeof *o);
  o->from = 0;
  o->to = -1;
  o->width = 1600;
  o->scale = 1;
  o->theme = IL_THEME_LIGHT;
  o->legend = TRUE;
}

gboolean
il_export_format_from_path (const char     *path,
                            IlExportFormat *format)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".png"))
    *format = IL_EXPORT_PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    *format = IL_EXPORT_SVG;
  else if (g_str_has_suffix (lower, ".pdf"))
    *format = IL_EXPORT_PDF;
  else
    return FALSE;
  return TRUE;
}

static double
title_height (const IlTheme         *theme,
              const IlExportOptions *o)
{
  return o->title != NULL ? theme->font_size * 2.6 : 0;
}

static double
heading_height (const IlTheme *theme,
                guint          n_traces)
{
  return n_traces > 1 ? theme->font_size * 2 : 0;
}

/* What the traces show, together; no queues: an export has no playhead
 * to draw them at. */
static IlLegend
export_legend (IlTrace * const *traces,
               guint            n_traces)
{
  IlLegend all = { 0 };

  for (guint i = 0; i < n_traces; i++)
    {
      IlLegend one = { 0 };
      il_legend_update (&one, traces[i]);
      all.items |= one.items;
      il_legend_clear (&one);
    }
  all.items &= ~IL_LEGEND_QUEUES;
  return all;
}

/* The natural height of an image of these traces: every lane at its
 * height, with the title, headings, rulers and legend. */
static double
natural_height (IlTrace * const       *traces,
                guint                  n_traces,
                const IlExportOptions *o)
{
  const IlTheme *theme = il_theme_get (o->theme);
  double h = MARGIN * 2 + title_height (theme, o);

  for (guint i = 0; i < n_traces; i++)
    {
      g_autoptr(IlLayout) layout = il_layout_new (traces[i], &theme->metrics);
      h += heading_height (theme, n_traces) + theme->ruler_height + layout->height + MARGIN / 2;
    }
  if (o->legend)
    {
      IlLegend legend = export_legend (traces, n_traces);
      h += MARGIN / 2 + il_render_legend (NULL, theme, 0, 0, o->width - 2 * MARGIN, &legend);
    }
  return h;
}

static void
draw_text (cairo_t       *cr,
           const IlTheme *theme,
           const char    *text,
           double         x,
           double         y,
           double         size,
           gboolean       bold)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string (bold ? "sans bold" : "sans");

  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  il_theme_set_source (cr, &theme->foreground);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
}

static void
draw_all (cairo_t                *cr,
          IlTrace * const        *traces,
          const char * const     *labels,
          guint                   n,
          const IlExportOptions  *o,
          double                  width,
          double                  height)
{
  const IlTheme *theme = il_theme_get (o->theme);
  double y = MARGIN;
  gint64 from = MAX (0, o->from), to = o->to;

  if (to < 0)
    for (guint i = 0; i < n; i++)
      to = MAX (to, traces[i]->end_time);
  if (to <= from)
    to = from + IL_MSEC (1);

  il_theme_set_source (cr, &theme->background);
  cairo_paint (cr);

  if (o->title != NULL)
    {
      draw_text (cr, theme, o->title, MARGIN, y, theme->font_size * 1.6, TRUE);
      y += title_height (theme, o);
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(IlLayout) layout = il_layout_new (traces[i], &theme->metrics);
      IlRenderParams p;

      if (n > 1)
        {
          draw_text (cr, theme, labels != NULL && labels[i] != NULL ? labels[i] : "",
                     MARGIN, y + theme->font_size * 0.3, theme->font_size * 1.15, TRUE);
          y += heading_height (theme, n);
        }
      il_render_params_init (&p, traces[i], layout, theme);
      p.x = MARGIN;
      p.y = y;
      p.viewport.start = from;
      p.viewport.span = to - from;
      p.viewport.width = MAX (10, width - 2 * MARGIN - theme->gutter_width);
      p.height = theme->ruler_height + layout->height;
      if (o->height > 0 && n == 1)
        p.height = MIN (p.height, height - y - MARGIN);
      il_render_timeline (cr, &p);
      y += p.height + MARGIN / 2;
    }

  if (o->legend)
    {
      IlLegend legend = export_legend (traces, n);
      il_render_legend (cr, theme, MARGIN, y + MARGIN / 2, width - 2 * MARGIN, &legend);
    }
}

static cairo_status_t
write_stream (void                *closure,
              const unsigned char *data,
              unsigned int         length)
{
  GOutputStream *out = closure;
  return g_output_stream_write_all (out, data, length, NULL, NULL, NULL)
         ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

gboolean
il_export_timelines (const char             *path,
                     IlExportFormat          format,
                     IlTrace * const        *traces,
                     const char * const     *labels,
                     guint                   n,
                     const IlExportOptions  *o,
                     GError                **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = NULL;
  double width = o->width;
  double height = o->height > 0 ? o->height : natural_height (traces, n, o);
  cairo_surface_t *surface = NULL;
  cairo_status_t status;
  cairo_t *cr;

  g_return_val_if_fail (n > 0, FALSE);

  if (width < 200 || width > 20000 || height < 50 || height > 100000 || o->scale <= 0 || o->scale > 8)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: image size %.0f×%.0f at scale %g is out of range "
                   "(200–20000 wide, 50–100000 tall, scale up to 8)", path, width, height, o->scale);
      return FALSE;
    }

  /* g_file_replace writes a temporary file and renames it over the
   * target only once everything was written: an old image survives any
   * failure. */
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL, error);
  if (out == NULL)
    return FALSE;

  switch (format)
    {
    case IL_EXPORT_PNG:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
                                            (int) (width * o->scale), (int) (height * o->scale));
      cairo_surface_set_device_scale (surface, o->scale, o->scale);
      break;
    case IL_EXPORT_SVG:
      surface = cairo_svg_surface_create_for_stream (write_stream, out, width, height);
      break;
    case IL_EXPORT_PDF:
      surface = cairo_pdf_surface_create_for_stream (write_stream, out, width, height);
      break;
    default:
      g_assert_not_reached ();
    }

  cr = cairo_create (surface);
  draw_all (cr, traces, labels, n, o, width, height);
  cairo_destroy (cr);

  if (format == IL_EXPORT_PNG)
    status = cairo_surface_write_to_png_stream (surface, write_stream, out);
  else
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot draw the image: %s",
                   path, cairo_status_to_string (status));
      {
        /* Closing with a cancelled cancellable drops the temporary file
         * instead of renaming it over the old image. */
        g_autoptr(GCancellable) abandon = g_cancellable_new ();
        g_cancellable_cancel (abandon);
        g_output_stream_close (G_OUTPUT_STREAM (out), abandon, NULL);
      }
      return FALSE;
    }

  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}
