/* il-json.h — writing JSON strings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every writer of JSON in core/ and app/ (the scenario writer, the CLI's
 * --json output) quotes strings here, so a name with a quote, a backslash
 * or a control character comes out the same, valid JSON everywhere.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends str as a quoted JSON string: '"' and '\\' escaped, \n, \r, \t as
 * such, other control characters and DEL as \u00XX; bytes that are not
 * UTF-8 become U+FFFD; everything else as is.  NULL writes "". */
void  il_json_append_string (GString    *out,
                             const char *str);
/* Nanoseconds as an exact decimal number of milliseconds: 1500 → 0.0015. */
void  il_json_append_ms     (GString    *out,
                             gint64      ns);
/* The same, as a new string. */
char *il_json_escape        (const char *str);

G_END_DECLS
