/* il-chrome.h — Chrome Trace Event JSON: export a run, import real traces
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export writes what Perfetto and chrome://tracing open: one process per
 * simulated process, a thread track per task/thread, the GIL, the event
 * loop and the cores as tracks of their own, states as "X" slices, causes
 * as s/f flow arrows, metadata names and sort indexes.
 *
 * Import streams both the array form and {"traceEvents": [...]} (other
 * members in any order, a trailing comma after the last event taken),
 * plain or gzip-compressed, with a JSON reader of its own, into the compact
 * trace columns: X, B/E (nested), i/I/R, C, M (process_name,
 * thread_name, *_sort_index), s/t/f flows and v2 flows (bind_id, flow_in,
 * flow_out), nestable async b/e/n (id, id2 local/global, scope) and legacy
 * async S/T/p/F.  Times are microseconds, as numbers or as strings, read
 * exactly to the nanosecond even as epoch times (1.6e15 µs).  Everything
 * else is counted as skipped, by phase and by reason, and explained
 * (il_chrome_import_info_explain).  A truncated or damaged file keeps what came before the damage
 * (IlChromeImportInfo.truncated, and a warning message) when at least one
 * event was read.
 */
#pragma once

#include <gio/gio.h>

#include "il-trace.h"
#include "il-trace-io.h"

G_BEGIN_DECLS

#define IL_CHROME_ERROR (il_chrome_error_quark ())

typedef enum {
  IL_CHROME_ERROR_PARSE,      /* not JSON, or not a trace; message names the byte offset / line */
  IL_CHROME_ERROR_EMPTY,      /* valid JSON but no events we can show */
  IL_CHROME_ERROR_CANCELLED,
  IL_CHROME_ERROR_TOO_LARGE,
  IL_CHROME_ERROR_CHANGED,    /* the file changed since it was imported (slice args) */
} IlChromeError;

GQuark    il_chrome_error_quark   (void);

/* Why an event was not shown. */
typedef enum {
  IL_CHROME_SKIP_PHASE,       /* a phase Interleave does not draw (P, O, N, D, …) */
  IL_CHROME_SKIP_NO_TIME,     /* no ts, or one that is not a number */
  IL_CHROME_SKIP_TIME_RANGE,  /* ts NaN, infinite, or beyond ±4.6e15 µs (146 years) */
  IL_CHROME_SKIP_DURATION,    /* X with a missing, negative or out-of-range dur */
  IL_CHROME_SKIP_VALUE,       /* C without values, or with values that are not finite */
  IL_CHROME_SKIP_NO_ID,       /* flow or async event without an id */
  IL_CHROME_SKIP_METADATA,    /* M events of kinds we do not use */
  IL_CHROME_N_SKIPS
} IlChromeSkip;

typedef struct {
  guint64  n_events_read;    /* trace events seen in the file */
  guint64  n_slices;         /* X events plus matched B/E pairs */
  guint64  n_instants;
  guint64  n_counters;       /* C samples */
  guint64  n_flows;
  guint64  n_async;          /* async b/e/n */
  guint    n_processes;      /* processes that have events (each is drawn) */
  guint    n_threads;        /* thread/async lanes that carry slices */
  gint64   first_ts_ns;
  gint64   last_ts_ns;       /* end of the last slice */
  guint64  n_skipped;        /* events of phases we do not show, or invalid */
  GHashTable *skipped_phases;/* phase string → GUINT_TO_POINTER(count) */
  guint64  n_unmatched;      /* B without E or E without B */
  gboolean truncated;        /* file ended (or broke) early; events before the damage were kept */
  char    *warning;          /* human-readable note on truncation/damage, or NULL */
  guint    n_metadata_processes; /* processes named in metadata only: not drawn */
  guint64  n_skipped_why[IL_CHROME_N_SKIPS];
  gboolean gzip;             /* the file was gzip-compressed */
} IlChromeImportInfo;

void      il_chrome_import_info_clear (IlChromeImportInfo *info);

/* Why events were skipped, in words: one sentence per reason, e.g.
 * "71,000 events had timestamps beyond ±146 years, or NaN or infinite",
 * joined by newlines; NULL when nothing was skipped.  For the CLI and the
 * window alike. */
char     *il_chrome_import_info_explain (const IlChromeImportInfo *info);

/* Short stable name of a reason, for JSON output ("phase", "no-time", …). */
const char *il_chrome_skip_to_nick (IlChromeSkip why);


/* Writes trace as Chrome JSON ({"traceEvents": [...], "displayTimeUnit": "ns"}),
 * atomically. */
gboolean  il_chrome_export        (const IlTrace      *trace,
                                   const char         *path,
                                   GError            **error);

/* Reads a Chrome JSON trace from a file (streaming), plain or gzip
 * (sniffed from the magic bytes, whatever the name).  info may be NULL. */
IlTrace  *il_chrome_import        (const char         *path,
                                   IlChromeImportInfo *info,
                                   IlProgressFunc      progress,
                                   gpointer            progress_data,
                                   GCancellable       *cancellable,
                                   GError            **error);

/* Same, from memory (tests, fuzzing).  name is used in messages. */
IlTrace  *il_chrome_import_data   (const guint8       *data,
                                   gsize               len,
                                   const char         *name,
                                   IlChromeImportInfo *info,
                                   GError            **error);

typedef struct _IlChromeArgs IlChromeArgs;

/* The "args" object of an imported slice (X or B event), as JSON text, for
 * the SLICE_BEGIN event that starts it; NULL if the slice has none (error
 * unset) or they cannot be shown (error set, naming the file: it changed
 * since it was opened, or a compressed trace had more args than are kept).
 * Args are not kept in memory: they are read again from the file, or for
 * gzip and in-memory input from a bounded copy (32 MB); a trace loaded from
 * .itrace holds them (its ARGS section).  For a B/E pair, the E event's
 * args are merged in, as Perfetto does: its keys are added, or replace the
 * B's. */
char     *il_chrome_slice_args    (const IlTrace      *trace,
                                   gsize               event,
                                   GError            **error);

/* Where one slice's args text is, for il_chrome_slice_args_restore ():
 * off and len within the texts, or off IL_CHROME_ARGS_NOT_KEPT for a slice
 * that had args that were not kept. */
typedef struct {
  guint32 event;     /* the slice's SLICE_BEGIN event */
  guint32 len;
  guint64 off;
} IlChromeArgsRef;

#define IL_CHROME_ARGS_NOT_KEPT G_MAXUINT64

/* Called by il_chrome_slice_args_foreach () once per slice with args, in
 * event order: json is its args object as il_chrome_slice_args () gives it
 * (NUL-terminated), or NULL when they were not kept or cannot be read any
 * more (the file changed).  Return FALSE to stop. */
typedef gboolean (*IlChromeArgsFunc) (guint32     event,
                                      const char *json,
                                      gpointer    user_data);

/* Every slice's args, for saving them (il_trace_save): the file they are
 * read from is opened once.  Returns the number of slices visited. */
guint64   il_chrome_slice_args_foreach (const IlTrace     *trace,
                                        IlChromeArgsFunc   func,
                                        gpointer           user_data);

/* Gives trace (which must have none yet) the args a saved .itrace holds:
 * texts holds the JSON objects, refs (of IlChromeArgsRef, taken) says
 * where each slice's is; refs are in increasing event order, every off +
 * len within texts.  The caller has checked both. */
void      il_chrome_slice_args_restore (IlTrace           *trace,
                                        GBytes            *texts,
                                        GArray            *refs);

/* How many slices have args (kept or not); 0 for traces without. */
guint64   il_chrome_slice_args_count   (const IlTrace     *trace,
                                        guint64           *n_not_kept);

/* Args as readable lines: "key: value" for each argument (VizTracer's
 * func_args are unpacked), and the return value (VizTracer's
 * return_value) apart in *returned (NULL if none).  NULL if json is not
 * an object. */
char     *il_chrome_args_describe (const char         *json,
                                   char              **returned);

G_END_DECLS
