/* interleave.c — the GTK application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <locale.h>

#include "il-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(IlApplication) app = NULL;

  setlocale (LC_ALL, "");
  app = il_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
