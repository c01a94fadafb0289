/* il-export.h — timelines as PNG, SVG and PDF for slides
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Renders one trace, or several stacked on one shared time axis (the
 * compare view), with a title and the legend, through the same code the
 * window draws with.  Used by the window's Export and `interleave-cli render`.
 * Files are replaced atomically.
 */
#pragma once

#include <glib.h>

#include "il-theme.h"
#include "il-trace.h"

G_BEGIN_DECLS

typedef enum {
  IL_EXPORT_PNG,
  IL_EXPORT_SVG,
  IL_EXPORT_PDF,
} IlExportFormat;

typedef struct {
  const char *title;       /* drawn at the top; NULL for none */
  gint64      from, to;    /* time range; to < 0: the whole run */
  double      width;       /* px (points for PDF) of the whole image */
  double      height;      /* 0: as tall as the lanes need */
  double      scale;       /* PNG pixel density, e.g. 2 for HiDPI slides */
  IlThemeKind theme;
  gboolean    legend;
} IlExportOptions;

void      il_export_options_init     (IlExportOptions  *options);
/* From the file name's extension; FALSE if it is none of png, svg, pdf. */
gboolean  il_export_format_from_path (const char       *path,
                                      IlExportFormat   *format);
/* labels may be NULL; with several traces each gets its label as a heading. */
gboolean  il_export_timelines        (const char             *path,
                                      IlExportFormat          format,
                                      IlTrace * const        *traces,
                                      const char * const     *labels,
                                      guint                   n_traces,
                                      const IlExportOptions  *options,
                                      GError                **error);

G_END_DECLS
