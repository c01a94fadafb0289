/* il-json.c — writing JSON strings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-json.h"

#include <string.h>

void
il_json_append_string (GString    *out,
                       const char *str)
{
  const char *run;

  g_return_if_fail (out != NULL);

  if (str == NULL)   /* a missing name writes as an empty one */
    str = "";
  /* Names from other tools' files may hold any bytes: JSON must be UTF-8. */
  if (!g_utf8_validate (str, -1, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (str, -1);
      il_json_append_string (out, valid);
      return;
    }
  g_string_append_c (out, '"');
  /* Copy runs of plain bytes at once: most names need no escaping. */
  run = str;
  for (const char *p = str; *p; p++)
    {
      unsigned char ch = (unsigned char) *p;

      if (ch >= 0x20 && ch != 0x7f && ch != '"' && ch != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      switch (ch)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default: g_string_append_printf (out, "\\u%04x", ch); break;
        }
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

char *
il_json_escape (const char *str)
{
  GString *out = g_string_sized_new ((str != NULL ? strlen (str) : 0) + 2);

  il_json_append_string (out, str);
  return g_string_free (out, FALSE);
}

void
il_json_append_ms (GString *out,
                   gint64   ns)
{
  gint64 whole = ns / 1000000, frac = ns % 1000000;

  g_return_if_fail (out != NULL);

  if (ns < 0)
    {
      /* Both parts of a negative time are negative: print the sign once. */
      g_string_append_c (out, '-');
      whole = -whole;
      frac = -frac;
    }
  g_string_append_printf (out, "%" G_GINT64_FORMAT, whole);
  if (frac != 0)
    {
      char buf[16];
      int end;
      g_snprintf (buf, sizeof buf, "%06" G_GINT64_FORMAT, frac);
      for (end = 5; end > 0 && buf[end] == '0'; end--)
        buf[end] = '\0';
      g_string_append_printf (out, ".%s", buf);
    }
}
