/* cli-commands.h — the subcommands of interleave-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each subcommand lives in its own file and returns the process exit code:
 * 0 success, 1 the run failed (engine limit, deadlock, I/O), 2 bad input.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;
  const char *summary;
  int       (*run) (int argc, char **argv);
} IlCliCommand;

#define IL_CLI_EXIT_OK        0
#define IL_CLI_EXIT_FAILED    1
#define IL_CLI_EXIT_BAD_INPUT 2

#include "il-engine.h"

/* The options every command that runs a scenario takes: --mode and one for
 * each parameter the table marks IL_PARAM_FLAG_CLI (--cores, --workers,
 * --switch-interval), with the table's limits and one set of messages. */
typedef struct {
  char      *mode;                 /* NULL: the scenario's own */
  char      *values[IL_N_PARAMS];  /* by table index: the text given, or NULL */
  char     **params;               /* --param KEY=VALUE, any parameter of the table */
  GPtrArray *help;                 /* the options' help texts */
  gboolean   reference;            /* --reference: the built-in parameters, not the calibration */
} IlCliRunOptions;

void il_cli_run_options_add   (GOptionContext        *context,
                               IlCliRunOptions       *options,
                               gboolean               allow_all);
/* Fills config from the scenario and the options, and *modes with the modes
 * to run (one, or all for --mode all).  Prints the problem and returns FALSE
 * on a bad value. */
gboolean il_cli_run_options_apply (const IlCliRunOptions *options,
                                   const char            *command,
                                   const IlScenario      *scenario,
                                   IlRunConfig           *config,
                                   guint32               *modes);
void il_cli_run_options_clear (IlCliRunOptions       *options);
/* A time in ms from the command line (0 to one day) as nanoseconds. */
gboolean il_cli_parse_ms (const char            *text,
                          gint64                *out);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IlCliRunOptions, il_cli_run_options_clear)

int il_cli_simulate (int argc, char **argv);
int il_cli_render   (int argc, char **argv);
int il_cli_record   (int argc, char **argv);
int il_cli_info     (int argc, char **argv);
int il_cli_convert  (int argc, char **argv);
int il_cli_code     (int argc, char **argv);   /* cli-explain.c */
int il_cli_narrate  (int argc, char **argv);   /* cli-explain.c */
int il_cli_record_python (int argc, char **argv);  /* cli-record-python.c */
int il_cli_derive        (int argc, char **argv);  /* cli-derive.c */
int il_cli_calibrate (int argc, char **argv);

/* cli-calibrate.c: puts the user's calibration (unless `reference`) into
 * config's parameters, and says where the numbers came from. */
void        il_cli_params_apply  (IlRunConfig *config,
                                  gboolean     reference);
const char *il_cli_params_source (void);

G_END_DECLS
