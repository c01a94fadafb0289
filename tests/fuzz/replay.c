/* replay.c — runs a fuzz target over files without libFuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every build links each fuzz target with this main() and replays the seed
 * corpus and every crasher ever found (tests/fuzz/regressions/), so what
 * fuzzing found stays fixed even where clang is not installed.
 */
#include <glib.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static guint n_inputs;

static void
replay_path (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          replay_path (child);
        }
      return;
    }
  else
    {
      g_autofree char *data = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &data, &len, NULL))
        g_error ("cannot read %s", path);
      LLVMFuzzerTestOneInput ((const guint8 *) data, len);
      n_inputs++;
    }
}

int
main (int   argc,
      char *argv[])
{
  for (int i = 1; i < argc; i++)
    replay_path (argv[i]);
  printf ("1..1\nok 1 replayed %u inputs without a crash\n", n_inputs);
  return n_inputs > 0 ? 0 : 1;
}
