/* fuzz-scenario.c — libFuzzer target for the scenario parser (and, for
 * inputs that parse, a bounded simulation of them)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "il-engine.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(GError) error = NULL;

  sc = il_scenario_load_data ((const char *) data, (gssize) size, "fuzz.json", &error);
  if (sc == NULL)
    {
      /* Every refusal says where and what. */
      g_assert (error != NULL && error->message != NULL && error->message[0] != '\0');
      return 0;
    }

  /* Round trip through the writer. */
  {
    g_autofree char *json = il_scenario_to_json (sc);
    g_autoptr(IlScenario) again = il_scenario_load_data (json, -1, "again.json", NULL);
    g_assert (again != NULL);
    g_assert (again->n_tasks == sc->n_tasks);
  }

  /* Simulate the first 50 ms of virtual time in every mode: bounded work,
   * and it exercises the engine on shapes no test thought of. */
  if (sc->n_tasks > 64)
    return 0;
  for (int m = 0; m < IL_N_MODES; m++)
    {
      IlRunConfig cfg;
      g_autoptr(IlEngine) engine = NULL;

      il_run_config_from_scenario (&cfg, sc);
      cfg.mode = (IlMode) m;
      cfg.cores = MIN (cfg.cores, 8);
      cfg.workers = MIN (cfg.workers, 16);
      engine = il_engine_new (sc, &cfg);
      il_engine_run_until (engine, IL_MSEC (50), NULL);
    }
  return 0;
}
