/* il-run-config.h — the run configuration, its parameter table and its validator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every number a run can be configured with (cores, workers, the switch
 * interval and the model constants of IlParams) is described once, in the
 * table il_param_table(): its name in each file format, unit, default and
 * limits, and where it lives in an IlRunConfig.  The scenario reader and
 * writer, the trace file's configuration section, the command line and the
 * window read and write the numbers through the table, so they cannot
 * disagree on a limit; il_run_config_validate() is the one check every
 * configuration passes before an engine sees it.
 */
#pragma once

#include <glib.h>

#include "il-params.h"
#include "il-scenario.h"

G_BEGIN_DECLS

typedef struct {
  IlMode   mode;
  guint32  cores;
  guint32  workers;          /* 0: no pool / no semaphore */
  gint64   switch_interval;
  IlParams params;
} IlRunConfig;

typedef enum {
  IL_PARAM_TIME,      /* gint64 nanoseconds; written in milliseconds ("…_ms") or nanoseconds ("…_ns") */
  IL_PARAM_COUNT,     /* guint32 whole number */
  IL_PARAM_FRACTION,  /* double */
  IL_PARAM_CHOICE,    /* IlStartMethod: one of a few names */
} IlParamType;

typedef enum {
  IL_PARAM_FLAG_NONE      = 0,
  IL_PARAM_FLAG_IN_PARAMS = 1 << 0,  /* a scenario writes it in its "params" object, not at the top level */
  IL_PARAM_FLAG_CLI       = 1 << 1,  /* a command-line option of every command that runs a scenario */
} IlParamFlags;

typedef struct {
  const char  *name;         /* "os_slice": the name in messages and the window */
  const char  *json_key;     /* "os_slice_ms": scenario files and the CLI's --json */
  const char  *trace_key;    /* "os_slice_ns": the configuration section of .itrace files */
  const char  *cli_option;   /* "switch-interval" (with IL_PARAM_FLAG_CLI), or NULL */
  char         cli_short;    /* 's', or 0 */
  const char  *label;        /* "OS time slice": for people */
  const char  *description;  /* one line, for tooltips and --help */
  IlParamType  type;
  IlParamFlags flags;
  gsize        offset;       /* into IlRunConfig */
  /* In the unit people write: milliseconds for times, the number itself
   * otherwise (the index of the name for choices). */
  double       def;
  double       min;
  double       max;
} IlParamInfo;

/* How a message names a field, and how a value is written. */
typedef enum {
  IL_PARAM_KEYS_JSON,    /* "params.os_slice_ms" */
  IL_PARAM_KEYS_TRACE,   /* "os_slice_ns" */
  IL_PARAM_KEYS_CLI,     /* "--cores", or the JSON key for parameters without an option */
} IlParamKeys;

/* The table, in the order files write it. */
const IlParamInfo *il_param_table          (guint             *n_params);
const IlParamInfo *il_param_find           (const char        *key);  /* name, json_key or trace_key */

/* The number of entries in the table. */
#define IL_N_PARAMS 19

/* The value as people write it: milliseconds for times. */
double             il_param_get            (const IlParamInfo *param,
                                            const IlRunConfig *config);
/* An IL_PARAM_TIME value in nanoseconds, exactly. */
gint64             il_param_get_ns         (const IlParamInfo *param,
                                            const IlRunConfig *config);
void               il_param_set_ns         (const IlParamInfo *param,
                                            IlRunConfig       *config,
                                            gint64             ns);
/* Stores a value as people write it (milliseconds for times, rounded to
 * the nanosecond); check it first. */
void               il_param_set            (const IlParamInfo *param,
                                            IlRunConfig       *config,
                                            double             value);
/* Names of an IL_PARAM_CHOICE parameter, NULL-terminated. */
const char * const *il_param_choices       (const IlParamInfo *param);

/* Appends the field's value as a scenario (IL_PARAM_KEYS_JSON: exact
 * milliseconds, quoted names) or the trace file's configuration section
 * (IL_PARAM_KEYS_TRACE: nanoseconds, bare names) writes it. */
void               il_param_append_value   (GString           *out,
                                            const IlParamInfo *param,
                                            const IlRunConfig *config,
                                            IlParamKeys        style);

/* Checks one value as people write it against the table.  The message says
 * what is wrong without naming the field, e.g. "expected a whole number from
 * 1 to 256, got 0"; the caller prefixes where it is.  Values above the
 * maximum fail with IL_RUN_CONFIG_ERROR_TOO_LARGE. */
gboolean           il_param_check          (const IlParamInfo *param,
                                            double             value,
                                            GError           **error);

#define IL_RUN_CONFIG_ERROR (il_run_config_error_quark ())
typedef enum {
  IL_RUN_CONFIG_ERROR_INVALID,
  IL_RUN_CONFIG_ERROR_TOO_LARGE,
} IlRunConfigError;
GQuark             il_run_config_error_quark (void);

/* Every field from the table's defaults, mode threads. */
void               il_run_config_init_defaults (IlRunConfig   *config);

/* The one validator: every field within the table's limits and a known
 * mode.  The message starts with the field, named the way `keys` says:
 * "os_slice_ns: the OS time slice must be at least 0.001 ms, got 0 ms". */
gboolean           il_run_config_validate  (const IlRunConfig *config,
                                            IlParamKeys        keys,
                                            GError           **error);

G_END_DECLS
