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

int il_cli_simulate (int argc, char **argv);
int il_cli_render   (int argc, char **argv);
int il_cli_record   (int argc, char **argv);
int il_cli_info     (int argc, char **argv);

G_END_DECLS
