/* il-file-type.h — telling Interleave's file types apart by their content
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A file's name says little (".json" is a scenario or a Chrome trace), so
 * whoever opens a file of unknown type asks here, once, by its first bytes:
 * the native trace by its magic number, JSON by the keys of its top-level
 * object.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  IL_FILE_TYPE_UNKNOWN,
  IL_FILE_TYPE_TRACE,     /* a native trace (.itrace): starts with the magic number */
  IL_FILE_TYPE_CHROME,    /* Chrome Trace Event JSON: a list, or an object with "traceEvents" */
  IL_FILE_TYPE_SCENARIO,  /* a scenario: an object with "tasks" or other scenario keys */
} IlFileType;

/* How many leading bytes il_file_type_sniff() looks at, at most. */
#define IL_FILE_TYPE_HEAD_SIZE (64 * 1024)

IlFileType  il_file_type_sniff      (const guint8 *head,
                                     gsize         len);
/* Reads the head of path and sniffs it; UNKNOWN with error set if it
 * cannot be read (the message names the file). */
IlFileType  il_file_type_sniff_path (const char   *path,
                                     GError      **error);
const char *il_file_type_to_string  (IlFileType    type);  /* "unknown", "trace", "chrome", "scenario" */

G_END_DECLS
