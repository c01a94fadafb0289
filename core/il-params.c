/* il-params.c — names of the start methods
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The defaults and limits of every parameter are in the table in
 * il-run-config.c, with where each number comes from.
 */
#include "il-params.h"

const char *
il_start_method_to_string (IlStartMethod method)
{
  switch (method)
    {
    case IL_START_FORK: return "fork";
    case IL_START_FORKSERVER: return "forkserver";
    case IL_START_SPAWN: return "spawn";
    default: return "fork";
    }
}

gboolean
il_start_method_from_string (const char    *str,
                             IlStartMethod *out)
{
  static const char *names[] = { "fork", "forkserver", "spawn" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (str, names[i]) == 0)
      {
        *out = (IlStartMethod) i;
        return TRUE;
      }
  return FALSE;
}
