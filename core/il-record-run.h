/* il-record-run.h — start a real Python program with the recorder loaded
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What `interleave-cli record-python` and the window's *Record a Python
 * Program…* share: finding the recorder (its bootstrap and the modules
 * built for each interpreter), resolving the interpreter, making the
 * recording directory, the child's argv and environment (the recorder
 * first on PYTHONPATH, INTERLEAVE_RECORD_DIR), and turning the directory
 * into a trace when the program is done.  The CLI runs the child on the
 * terminal with fork/exec; the window spawns it with
 * il_record_run_spawn() and feeds the directory while it runs.
 */
#pragma once

#include <gio/gio.h>

#include "il-trace.h"

G_BEGIN_DECLS

#define IL_RECORD_RUN_ERROR (il_record_run_error_quark ())
typedef enum {
  IL_RECORD_RUN_ERROR_NO_RECORDER,     /* the bootstrap is nowhere to be found */
  IL_RECORD_RUN_ERROR_NO_INTERPRETER,  /* the interpreter is not a program */
  IL_RECORD_RUN_ERROR_IO,              /* the recording directory cannot be made */
} IlRecordRunError;
GQuark il_record_run_error_quark (void);

typedef struct {
  char     *recorder_dir;  /* bootstrap + modules, first on the child's PYTHONPATH */
  char     *interpreter;   /* absolute path */
  char     *record_dir;    /* where the recorder writes proc-*.rec */
  gboolean  own_dir;       /* a temporary directory, removed by il_record_run_free() */
  char    **argv;          /* interpreter, program, its arguments */
  char    **envp;          /* ours with PYTHONPATH and INTERLEAVE_RECORD_DIR set */
  char     *program;       /* "prog.py arg…", stored in the recording */
} IlRecordRun;

/* $INTERLEAVE_RECORDER_DIR, the build tree, or the installed copy; NULL
 * when none has the bootstrap. */
char        *il_record_find_recorder_dir   (void);
/* Interpreters the recorder has a module for, as absolute paths (the
 * first is the default, python3 on PATH when it is one of them). */
GPtrArray   *il_record_list_interpreters   (const char         *recorder_dir);
/* "3.11" for /usr/bin/python3 (a link to python3.11) or for
 * ~/.pyenv/versions/3.11.7/bin/python3, without running it; NULL when the
 * path does not say. */
char        *il_record_interpreter_version (const char         *path);

/* python: a path or a name looked up in PATH (NULL: python3).
 * program_argv: PROGRAM.py and its arguments (NULL-terminated, not empty).
 * raw_dir: keep the recorder's files there (earlier ones are removed), or
 * NULL for a temporary directory. */
IlRecordRun *il_record_run_prepare         (const char         *python,
                                            const char *const  *program_argv,
                                            const char         *raw_dir,
                                            GError            **error);
/* Starts the child in cwd (NULL: ours) with its output on a pipe
 * (stderr merged into stdout) and Python's buffering off, so a window can
 * show it as it comes. */
GSubprocess *il_record_run_spawn           (IlRecordRun        *run,
                                            const char         *cwd,
                                            GError            **error);
/* Everything recorded, with the program and its exit code. */
IlTrace     *il_record_run_finish          (IlRecordRun        *run,
                                            int                 exit_code,
                                            GError            **error);
/* An exit status as a shell reports it: 128 + N when signal N ended it. */
int          il_record_run_exit_code       (int                 wait_status);
void         il_record_run_free            (IlRecordRun        *run);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IlRecordRun, il_record_run_free)

G_END_DECLS
