/* il-file-type.c — telling Interleave's file types apart by their content
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * JSON is told apart by the keys of the top-level object, found by a scan
 * that follows strings and nesting but builds nothing: "traceEvents" wins
 * (a Chrome trace may carry any other key too), then any scenario key.  A
 * key that merely appears inside a value (a task called "traceEvents", a
 * Chrome event whose args hold "tasks") does not count, as it did with a
 * search for the text.
 */
#include "il-file-type.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "il-trace-io.h"

static const char * const scenario_keys[] = {
  "tasks", "title", "description", "mode", "modes", "cores", "workers", "switch_interval_ms",
  "start_method", "seed", "params", "limits", "lesson",
};
static const char * const chrome_keys[] = {
  "traceEvents", "systemTraceEvents", "displayTimeUnit", "otherData", "stackFrames", "samples",
  "metadata", "powerTraceAsString",
};

static gboolean
key_in (const char         *key,
        gsize               len,
        const char * const *keys,
        gsize               n_keys)
{
  for (gsize i = 0; i < n_keys; i++)
    if (strlen (keys[i]) == len && memcmp (keys[i], key, len) == 0)
      return TRUE;
  return FALSE;
}

static IlFileType
sniff_object (const char *p,
              const char *end)
{
  gboolean scenario = FALSE, chrome = FALSE, expect_key = TRUE;
  guint depth = 1;

  for (; p < end && depth > 0; p++)
    {
      switch (*p)
        {
        case '"':
          {
            const char *start = ++p;
            while (p < end && *p != '"')
              p += *p == '\\' ? 2 : 1;
            if (p >= end)
              goto done;
            if (depth == 1 && expect_key)
              {
                if (key_in (start, p - start, chrome_keys, 1))
                  return IL_FILE_TYPE_CHROME;   /* chrome_keys[0]: "traceEvents" */
                scenario = scenario || key_in (start, p - start, scenario_keys, G_N_ELEMENTS (scenario_keys));
                chrome = chrome || key_in (start, p - start, chrome_keys, G_N_ELEMENTS (chrome_keys));
                expect_key = FALSE;
              }
          }
          break;
        case '{':
        case '[':
          depth++;
          break;
        case '}':
        case ']':
          depth--;
          break;
        case ',':
          expect_key = depth == 1;
          break;
        default:
          break;
        }
    }
done:
  if (scenario)
    return IL_FILE_TYPE_SCENARIO;
  return chrome ? IL_FILE_TYPE_CHROME : IL_FILE_TYPE_UNKNOWN;
}

IlFileType
il_file_type_sniff (const guint8 *head,
                    gsize         len)
{
  const char *p = (const char *) head, *end;

  g_return_val_if_fail (head != NULL || len == 0, IL_FILE_TYPE_UNKNOWN);

  if (il_trace_is_native (head, len))
    return IL_FILE_TYPE_TRACE;
  len = MIN (len, IL_FILE_TYPE_HEAD_SIZE);
  end = p + len;
  if (len >= 3 && (guchar) p[0] == 0xEF && (guchar) p[1] == 0xBB && (guchar) p[2] == 0xBF)
    p += 3;   /* a byte-order mark some editors write */
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  if (p >= end)
    return IL_FILE_TYPE_UNKNOWN;
  if (*p == '[')
    return IL_FILE_TYPE_CHROME;   /* the array form of the Trace Event format */
  if (*p == '{')
    return sniff_object (p + 1, end);
  return IL_FILE_TYPE_UNKNOWN;
}

IlFileType
il_file_type_sniff_path (const char  *path,
                         GError     **error)
{
  g_autofree guint8 *head = NULL;
  FILE *f;
  gsize n;

  g_return_val_if_fail (path != NULL, IL_FILE_TYPE_UNKNOWN);

  f = fopen (path, "rb");
  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: cannot open: %s",
                   path, g_strerror (saved));
      return IL_FILE_TYPE_UNKNOWN;
    }
  head = g_malloc (IL_FILE_TYPE_HEAD_SIZE);
  n = fread (head, 1, IL_FILE_TYPE_HEAD_SIZE, f);
  if (ferror (f))
    {
      int saved = errno;
      fclose (f);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: cannot read: %s",
                   path, g_strerror (saved));
      return IL_FILE_TYPE_UNKNOWN;
    }
  fclose (f);
  return il_file_type_sniff (head, n);
}

const char *
il_file_type_to_string (IlFileType type)
{
  switch (type)
    {
    case IL_FILE_TYPE_TRACE: return "trace";
    case IL_FILE_TYPE_CHROME: return "chrome";
    case IL_FILE_TYPE_SCENARIO: return "scenario";
    case IL_FILE_TYPE_UNKNOWN:
    default: return "unknown";
    }
}
