/* test-file-type.c — telling files apart by content, and writing JSON strings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "il-file-type.h"
#include "il-json.h"

static IlFileType
sniff (const char *text)
{
  return il_file_type_sniff ((const guint8 *) text, strlen (text));
}

static void
test_sniff (void)
{
  static const guint8 native[] = { 'I', 'L', 'T', 'R', 'A', 'C', 'E', 0, 1, 0, 0, 0 };

  g_assert_cmpint (il_file_type_sniff (native, sizeof native), ==, IL_FILE_TYPE_TRACE);
  g_assert_cmpint (il_file_type_sniff (native, 5), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_cmpint (sniff ("{\"title\": \"x\", \"tasks\": []}"), ==, IL_FILE_TYPE_SCENARIO);
  g_assert_cmpint (sniff ("\xEF\xBB\xBF  \n{\"tasks\": []}"), ==, IL_FILE_TYPE_SCENARIO);
  g_assert_cmpint (sniff ("{\"traceEvents\": [{\"name\": \"x\"}]}"), ==, IL_FILE_TYPE_CHROME);
  g_assert_cmpint (sniff ("[{\"ph\": \"X\", \"name\": \"tasks\"}]"), ==, IL_FILE_TYPE_CHROME);
  g_assert_cmpint (sniff ("{\"displayTimeUnit\": \"ns\"}"), ==, IL_FILE_TYPE_CHROME);
  /* "traceEvents" wins even after other keys; text in values does not count. */
  g_assert_cmpint (sniff ("{\"metadata\": {\"tasks\": 1}, \"traceEvents\": []}"), ==, IL_FILE_TYPE_CHROME);
  g_assert_cmpint (sniff ("{\"title\": \"\\\"traceEvents\\\"\", \"tasks\": []}"), ==, IL_FILE_TYPE_SCENARIO);
  g_assert_cmpint (sniff ("{\"tasks\": [{\"name\": \"traceEvents\"}]}"), ==, IL_FILE_TYPE_SCENARIO);
  g_assert_cmpint (sniff ("{\"title\": [\"a\", {\"traceEvents\": 1}]}"), ==, IL_FILE_TYPE_SCENARIO);
  /* Neither, or not JSON at all. */
  g_assert_cmpint (sniff ("{\"something\": 1}"), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_cmpint (sniff (""), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_cmpint (sniff ("   "), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_cmpint (sniff ("\x89PNG\r\n"), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_cmpint (sniff ("{\"tit"), ==, IL_FILE_TYPE_UNKNOWN);   /* cut off inside the first key */
  g_assert_cmpint (il_file_type_sniff (NULL, 0), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_cmpstr (il_file_type_to_string (IL_FILE_TYPE_CHROME), ==, "chrome");
}

static void
test_sniff_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("il-sniff-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "s.json", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.json", NULL);

  g_assert_true (g_file_set_contents (path, "{\"tasks\": []}", -1, NULL));
  g_assert_cmpint (il_file_type_sniff_path (path, &error), ==, IL_FILE_TYPE_SCENARIO);
  g_assert_no_error (error);
  g_assert_cmpint (il_file_type_sniff_path (missing, &error), ==, IL_FILE_TYPE_UNKNOWN);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (g_str_has_prefix (error->message, missing));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_json_string (void)
{
  g_autoptr(GString) out = g_string_new ("x");
  g_autofree char *escaped = il_json_escape ("a\"b\\c\nd\te\x01 ✓");
  g_autofree char *plain = il_json_escape ("");

  g_assert_cmpstr (escaped, ==, "\"a\\\"b\\\\c\\nd\\te\\u0001 ✓\"");
  g_assert_cmpstr (plain, ==, "\"\"");
  il_json_append_string (out, "r\r");
  g_assert_cmpstr (out->str, ==, "x\"r\\r\"");

  /* File names are any bytes: what is not UTF-8 becomes U+FFFD; DEL and a
   * missing name are still valid JSON. */
  {
    g_autofree char *bad = il_json_escape ("a\xff\x7f");
    g_autofree char *none = il_json_escape (NULL);
    g_assert_cmpstr (bad, ==, "\"a\xef\xbf\xbd\\u007f\"");
    g_assert_cmpstr (none, ==, "\"\"");
  }
}

static void
test_json_ms (void)
{
  static const struct { gint64 ns; const char *text; } cases[] = {
    { 0, "0" }, { 1, "0.000001" }, { 1500, "0.0015" }, { 5000000, "5" }, { 3600000000000, "3600000" },
    { 1234567, "1.234567" }, { -1500, "-0.0015" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      il_json_append_ms (out, cases[i].ns);
      g_assert_cmpstr (out->str, ==, cases[i].text);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/file-type/sniff", test_sniff);
  g_test_add_func ("/file-type/sniff-path", test_sniff_path);
  g_test_add_func ("/json/string", test_json_string);
  g_test_add_func ("/json/ms", test_json_ms);
  return g_test_run ();
}
