/* il-application.h — the application: windows, app actions, shortcuts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IL_APPLICATION_ID "io.github.interleave.Interleave"
#define IL_TYPE_APPLICATION (il_application_get_type ())
G_DECLARE_FINAL_TYPE (IlApplication, il_application, IL, APPLICATION, AdwApplication)

IlApplication *il_application_new                 (void);
/* Makes the lessons, styles and shortcuts available (idempotent). */
void           il_application_register_resources (void);

G_END_DECLS
