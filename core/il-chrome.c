/* il-chrome.c — Chrome Trace Event JSON: import real traces (export: il-chrome-export.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Import reads the file 1 MB at a time (gzip inflated as it comes) with a
 * JSON reader made for trace events, and keeps each event as a small
 * record in blocks that a second thread sorts by time as they fill (real
 * files are not sorted); big files are read by two threads from the start
 * and from the middle.  Lanes are only created at the end, once every M
 * event (names, sort indexes) has been seen; then one thread merges the
 * sorted blocks into a stream of records while another turns them into
 * the trace's events.
 */
#include <errno.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>   /* malloc_trim */
#endif
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "il-chrome.h"
#include "il-json.h"

G_DEFINE_QUARK (il-chrome-error-quark, il_chrome_error)

#define MAX_DEPTH 256

void
il_chrome_import_info_clear (IlChromeImportInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->skipped_phases, g_hash_table_unref);
  g_clear_pointer (&info->warning, g_free);
  memset (info, 0, sizeof *info);
}

const char *
il_chrome_skip_to_nick (IlChromeSkip why)
{
  static const char *const nicks[IL_CHROME_N_SKIPS] = {
    "phase", "no-time", "time-out-of-range", "duration", "value", "no-id", "metadata",
  };
  return (guint) why < IL_CHROME_N_SKIPS ? nicks[why] : "unknown";
}

/* 71000 → "71,000" */
static char *
format_count (guint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, digits[i]);
    }
  return g_string_free (out, FALSE);
}

static const char *
phase_meaning (const char *ph)
{
  static const struct { const char *ph, *what; } known[] = {
    { "P", "samples" }, { "O", "object snapshots" }, { "N", "object creations" }, { "D", "object deletions" },
    { "(", "context enters" }, { ")", "context leaves" }, { "c", "clock syncs" }, { "V", "memory dumps" },
    { "v", "memory dumps" }, { "a", "sample" }, { "=", "links" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (ph, known[i].ph))
      return known[i].what;
  return NULL;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char *
il_chrome_import_info_explain (const IlChromeImportInfo *info)
{
  /* "<count> <kind>event(s) <what happened>" */
  static const struct { const char *kind, *what; } why_text[IL_CHROME_N_SKIPS] = {
    { NULL, NULL },   /* phases: listed one by one below */
    { "", "had no timestamp, or one that is not a number" },
    { "", "had timestamps beyond ±146 years (4.6e15 µs), or NaN or infinite ones" },
    { "complete (X) ", "had a missing, negative or out-of-range duration" },
    { "counter ", "had no value, or one that is not a finite number" },
    { "flow or async ", "had no id to connect them by" },
    { "metadata ", "had names Interleave does not use (it reads process and thread names and sort indexes)" },
  };
  GString *out;

  g_return_val_if_fail (info != NULL, NULL);
  if (info->n_skipped == 0)
    return NULL;
  out = g_string_new (NULL);
  for (guint why = 0; why < IL_CHROME_N_SKIPS; why++)
    {
      g_autofree char *n = format_count (info->n_skipped_why[why]);
      if (info->n_skipped_why[why] == 0 || why_text[why].what == NULL)
        continue;
      if (out->len > 0)
        g_string_append_c (out, '\n');
      g_string_append_printf (out, "%s %s%s %s", n, why_text[why].kind,
                              info->n_skipped_why[why] == 1 ? "event" : "events", why_text[why].what);
    }
  if (info->n_skipped_why[IL_CHROME_SKIP_PHASE] > 0 && info->skipped_phases != NULL)
    {
      g_autofree gpointer *keys = g_hash_table_get_keys_as_array (info->skipped_phases, NULL);
      guint n_keys = g_hash_table_size (info->skipped_phases);
      g_autofree char *total = format_count (info->n_skipped_why[IL_CHROME_SKIP_PHASE]);
      gboolean first = TRUE;

      qsort (keys, n_keys, sizeof (gpointer), compare_strings);
      if (out->len > 0)
        g_string_append_c (out, '\n');
      g_string_append_printf (out, "%s %s of a phase Interleave does not draw:", total,
                              info->n_skipped_why[IL_CHROME_SKIP_PHASE] == 1 ? "event was" : "events were");
      for (guint i = 0; i < n_keys; i++)
        {
          const char *ph = keys[i];
          const char *what = phase_meaning (ph);
          guint count = GPOINTER_TO_UINT (g_hash_table_lookup (info->skipped_phases, ph));
          g_autofree char *n = format_count (count);
          g_autofree char *quoted = il_json_escape (ph);
          /* The table also counts the other reasons by phase; list unknown phases only. */
          if (strlen (ph) == 1 && strchr ("XBEiIRCstfbenSTpFM", ph[0]) != NULL)
            continue;
          if (ph[0] == '(' && ph[1] == 'n')   /* "(no phase)" */
            what = "without a phase";
          else if (strchr (ph, ' ') != NULL)
            continue;   /* a reason, not a phase ("X with a bad duration") */
          g_string_append_printf (out, "%s %s %s%s%s%s", first ? "" : ",", n, quoted,
                                  what ? " (" : "", what ? what : "", what ? ")" : "");
          first = FALSE;
        }
    }
  return g_string_free (out, FALSE);
}


/* ------------------------------------------------------------- import */

typedef enum {
  REC_SLICE,      /* X: begins at t, lasts dur (its end is generated while building) */
  REC_BEGIN,      /* B or async b */
  REC_END,        /* E or async e */
  REC_INSTANT,
  REC_COUNTER,
  REC_FLOW,
} RecType;

#define REC_LANE_BITS 24
#define REC_MAX_LANES (1u << REC_LANE_BITS)

/* One event, compact (24 bytes), before lanes exist. */
typedef struct {
  gint64  t;        /* ns, raw */
  gint64  dur;      /* REC_SLICE: duration in ns (> 0) */
  guint32 packed;   /* proto-lane index (low 24 bits), type (3 bits), value (3 bits) */
  guint32 arg;      /* name string id, float bits, or flow id */
} Rec;

static inline guint32 rec_lane  (const Rec *r) { return r->packed & (REC_MAX_LANES - 1); }
static inline RecType rec_type  (const Rec *r) { return (RecType) ((r->packed >> REC_LANE_BITS) & 7); }
static inline guint8  rec_value (const Rec *r) { return (guint8) ((r->packed >> (REC_LANE_BITS + 3)) & 7); }
/* The slice has args, the next entry of Parse.args in build order. */
#define REC_HAS_ARGS (1u << 30)

/* Where a slice's args are (X and B events with a non-empty "args"
 * object): they are not parsed while importing, only found again when
 * someone asks (il_chrome_slice_args).  Kept with the fields build order
 * sorts records by (rec_cmp), so sorting these the same stable way lines
 * them up with the flagged records as the merge meets them. */
typedef struct {
  gint64  t, dur;     /* dur: -1 for B */
  guint64 off;        /* in the uncompressed input, or in Parse.args_copy */
  guint32 len;
} ArgsRec;

/* What the trace keeps: per slice begin event, where its args are. */
typedef IlChromeArgsRef ArgsEntry;

struct _IlChromeArgs {
  GArray  *entries;    /* of ArgsEntry, by event */
  GArray  *end_entries;/* args of E events, by the event of their B; NULL if none */
  char    *path;       /* the plain file they are read from again, or NULL */
  gint64   size, mtime;
  GBytes  *copy;       /* for gzip or in-memory input: a bounded copy; or the saved texts */
  guint64  n_dropped;  /* slices whose args did not fit the copy */
  gboolean restored;   /* loaded from an .itrace */
};

/* Gzip and in-memory input cannot be re-read cheaply: their args are
 * copied, up to this much (beyond, a slice's args are "not kept"). */
#define ARGS_COPY_MAX (32u << 20)

typedef struct {
  IlLaneKind kind;
  gint64     pid;
  gint64     tid;       /* thread id, async id, or counter series */
  guint32    series;    /* counter series name id, or G_MAXUINT32 */
  char      *name;      /* NULL: default */
  double     sort;      /* thread_sort_index */
  gboolean   has_sort;
  gboolean   has_slices;
  gboolean   has_recs;  /* lanes without any (named by metadata only) are not drawn */
} ProtoLane;

typedef struct {
  gint64   pid;
  char    *name;
  double   sort;
  gboolean has_sort;
} ProtoProcess;

/* Keys of an event object we look at. */
typedef enum {
  KEY_OTHER,
  KEY_PH,
  KEY_NAME,
  KEY_CAT,
  KEY_ID,
  KEY_ID2,
  KEY_BIND_ID,
  KEY_PID,
  KEY_TID,
  KEY_TS,
  KEY_DUR,
  KEY_ARGS,
  KEY_SCOPE,
  KEY_FLOW_IN,
  KEY_FLOW_OUT,
} Key;

/* The event being parsed. */
typedef enum {
  TIME_NONE,       /* not given */
  TIME_OK,
  TIME_NOT_NUMBER, /* a string that is not a number, null, a boolean… */
  TIME_RANGE,      /* NaN, infinite, or too far to count in ns */
} TimeState;

/* The event's name and category come with nearly every event: they are
 * kept where they lie in the window while the event is read, and copied
 * (into name, cat) only when wanted as C strings or when they were
 * unescaped into the scratch buffer, which the next string reuses. */
typedef struct {
  char     ph[4];
  GString *name;
  GString *cat;
  const char *name_s, *cat_s;
  gsize    name_len, cat_len;
  gboolean name_copied, cat_copied;
  GString *id;
  GString *bind_id;
  GString *scope;
  GString *pid_text, *tid_text;
  char    *arg_name;     /* args.name (M events) */
  gint64   ts, dur;      /* ns */
  TimeState ts_state, dur_state;
  double   pid, tid, sort_index;
  gboolean has_name, has_cat, has_id, has_bind_id, has_scope, has_pid_text, has_tid_text;
  gboolean id2_local, flow_in, flow_out;
  gboolean has_pid, has_tid, has_sort_index, bad;
  GPtrArray *counter_keys; /* of char* */
  GArray  *counter_vals; /* of double */
  guint    n_args;       /* members of "args" */
  guint64  args_off;     /* the "args" object in the input, when n_args > 0 */
  gsize    args_len;
  const guint8 *args_text;   /* …and in the window */
} Cur;

typedef struct {
  IlLaneKind kind;
  guint32    series;
  gint64     pid, tid;
} LaneKey;

#define NAME_CACHE 4096

/* Events of a few threads interleave: a small cache of lanes in front of
 * the hash table (a one-entry one missed on most events of a file with
 * eight busy threads). */
#define LANE_CACHE 256

typedef struct {
  LaneKey key;
  guint32 lane;   /* IL_NO_LANE: empty */
} LaneSlot;

/* Records are kept in blocks of file order.  Each full block is sorted by
 * a second thread while reading goes on; building merges the sorted blocks
 * and frees each once it is used up, so no second copy of all records
 * (a sort's scratch) is ever needed.  A block (384 KB) and its sort's
 * scratch fit in a core's L2 cache: with blocks four times as big the
 * radix sort's passes went out to memory and took twice as long. */
#define BLOCK_RECS (1u << 14)

typedef struct {
  Rec  *recs;
  guint n, pos;
} Block;

typedef struct {
  guint64     hash;
  const char *str;    /* the trace's copy */
  gsize       len;
  guint32     id;
} NameSlot;

typedef struct {
  const char         *name;
  IlChromeImportInfo *info;
  GPtrArray          *blocks;      /* of Block, in file order */
  Block              *block;       /* the one being filled */
  GThreadPool        *sorter;      /* sorts full blocks on the other core */
  guint64             n_recs;
  guint64             n_trace_events; /* what building will append, to reserve it once */
  GArray             *lanes;       /* of ProtoLane */
  GArray             *processes;   /* of ProtoProcess */
  GHashTable         *lane_ids;    /* LaneKey → index + 1 */
  GHashTable         *process_ids; /* pid → index + 1 */
  GHashTable         *flow_ids;    /* id text → number + 1 */
  GHashTable         *text_ids;    /* pid/tid given as strings → number */
  GPtrArray          *texts;       /* number - 1 → that string (the table's key) */
  IlTrace            *trace;       /* strings are interned here as they come */
  LaneSlot            lane_cache[LANE_CACHE];  /* direct-mapped, in front of lane_ids */
  NameSlot           *names;       /* NAME_CACHE of them */

  GArray             *args;        /* of ArgsRec, in file order */
  GByteArray         *args_copy;   /* their text, when the input cannot be read again; else NULL */
  char               *args_path;   /* else the plain file they are in (absolute), its size and time */
  gint64              args_size, args_mtime;

  char      args_key[128];         /* the args member being read */
  Cur       cur;
  gint64    min_ts, max_ts;
  gboolean  any_ts;
  gboolean  too_large;
} Parse;

static void
cur_reset (Cur *c)
{
  g_clear_pointer (&c->arg_name, g_free);
  if (c->counter_keys != NULL)
    g_ptr_array_set_size (c->counter_keys, 0);
  if (c->counter_vals != NULL)
    g_array_set_size (c->counter_vals, 0);
  memset (c->ph, 0, sizeof c->ph);
  c->ts = c->dur = 0;
  c->ts_state = c->dur_state = TIME_NONE;
  c->pid = c->tid = c->sort_index = 0;
  c->has_name = c->has_cat = c->has_id = c->has_bind_id = c->has_scope = FALSE;
  c->has_pid_text = c->has_tid_text = c->id2_local = c->flow_in = c->flow_out = FALSE;
  c->has_pid = c->has_tid = c->has_sort_index = c->bad = FALSE;
  c->n_args = 0;
  c->args_len = 0;
}

static void
field_set (GString     *buf,
           const char **s,
           gsize       *len,
           gboolean    *copied,
           const char  *text,
           gsize        text_len,
           gboolean     in_scratch)
{
  *len = text_len;
  *s = text;
  *copied = in_scratch;
  if (in_scratch)
    {
      g_string_truncate (buf, 0);
      g_string_append_len (buf, text, (gssize) text_len);
      *s = buf->str;
    }
}

static const char *
field_str (GString     *buf,
           const char **s,
           gsize        len,
           gboolean    *copied)
{
  if (!*copied)
    {
      g_string_truncate (buf, 0);
      g_string_append_len (buf, *s, (gssize) len);
      *s = buf->str;
      *copied = TRUE;
    }
  return buf->str;
}

/* The name as a C string ("" if none). */
static const char *
cur_name (Cur *c)
{
  return c->has_name ? field_str (c->name, &c->name_s, c->name_len, &c->name_copied) : "";
}

static const char *
cur_cat (Cur *c)
{
  return c->has_cat ? field_str (c->cat, &c->cat_s, c->cat_len, &c->cat_copied) : "";
}

static void
skip (Parse        *p,
      const char   *phase,
      IlChromeSkip  why)
{
  IlChromeImportInfo *info = p->info;
  gpointer old;

  info->n_skipped++;
  info->n_skipped_why[why]++;
  if (info->skipped_phases == NULL)
    info->skipped_phases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  old = g_hash_table_lookup (info->skipped_phases, phase);
  g_hash_table_replace (info->skipped_phases, g_strdup (phase), GUINT_TO_POINTER (GPOINTER_TO_UINT (old) + 1));
}

static gint64
text_id (Parse      *p,
         const char *text)
{
  gpointer v;

  /* Numbers given as strings keep their value; other text gets a number. */
  if (text != NULL && *text != '\0')
    {
      char *end = NULL;
      gint64 n = g_ascii_strtoll (text, &end, 0);
      if (end != text && *end == '\0')
        return n;
    }
  v = g_hash_table_lookup (p->text_ids, text ? text : "");
  if (v == NULL)
    {
      char *key = g_strdup (text ? text : "");
      v = GSIZE_TO_POINTER (g_hash_table_size (p->text_ids) + 1);
      g_hash_table_insert (p->text_ids, key, v);
      g_ptr_array_add (p->texts, key);
    }
  /* Far away from real ids. */
  return G_GINT64_CONSTANT (1) << 40 | (gint64) GPOINTER_TO_SIZE (v);
}

/* A pid or tid as the file wrote it: "foo" for a text one. */
static char *
id_text (Parse  *p,
         gint64  id)
{
  guint64 n = (guint64) id ^ (G_GUINT64_CONSTANT (1) << 40);

  if (((guint64) id >> 40) == 1 && n >= 1 && n <= p->texts->len)
    return g_strdup (g_ptr_array_index (p->texts, n - 1));
  return g_strdup_printf ("%" G_GINT64_FORMAT, id);
}

static guint32
process_index (Parse  *p,
               gint64  pid)
{
  gint64 *key;
  gpointer v = g_hash_table_lookup (p->process_ids, &pid);
  ProtoProcess proc = { .pid = pid };

  if (v != NULL)
    return GPOINTER_TO_UINT (v) - 1;
  key = g_new (gint64, 1);
  *key = pid;
  g_array_append_val (p->processes, proc);
  g_hash_table_insert (p->process_ids, key, GUINT_TO_POINTER (p->processes->len));
  return p->processes->len - 1;
}

static guint
lane_key_hash (gconstpointer k)
{
  const LaneKey *l = k;
  guint64 h = (guint64) l->pid * 0x9E3779B97F4A7C15ull ^ (guint64) l->tid * 0xC2B2AE3D27D4EB4Full
              ^ ((guint64) l->series << 8 | (guint64) l->kind);
  return (guint) (h ^ (h >> 32));
}

static gboolean
lane_key_equal (gconstpointer a,
                gconstpointer b)
{
  const LaneKey *x = a, *y = b;
  return x->kind == y->kind && x->series == y->series && x->pid == y->pid && x->tid == y->tid;
}

static guint32
lane_index (Parse      *p,
            IlLaneKind  kind,
            gint64      pid,
            gint64      tid,
            guint32     series)
{
  LaneKey key = { kind, series, pid, tid };
  gpointer v;
  LaneSlot *slot = &p->lane_cache[lane_key_hash (&key) & (LANE_CACHE - 1)];

  if (slot->lane != IL_NO_LANE && lane_key_equal (&key, &slot->key))
    return slot->lane;
  v = g_hash_table_lookup (p->lane_ids, &key);
  if (v == NULL)
    {
      ProtoLane lane = { .kind = kind, .pid = pid, .tid = tid, .series = series };

      if (p->lanes->len >= REC_MAX_LANES - 1)
        {
          p->too_large = TRUE;
          return IL_NO_LANE;
        }
      process_index (p, pid);
      if (series != G_MAXUINT32)
        lane.name = g_strdup (il_trace_get_string (p->trace, series));
      g_array_append_val (p->lanes, lane);
      v = GUINT_TO_POINTER (p->lanes->len);
      g_hash_table_insert (p->lane_ids, g_memdup2 (&key, sizeof key), v);
    }
  slot->key = key;
  slot->lane = GPOINTER_TO_UINT (v) - 1;
  return slot->lane;
}

static void
note_time (Parse  *p,
           gint64  t)
{
  if (!p->any_ts || t < p->min_ts)
    p->min_ts = t;
  if (!p->any_ts || t > p->max_ts)
    p->max_ts = t;
  p->any_ts = TRUE;
}

static inline int rec_cmp (const Rec *x, const Rec *y);

/* Stable insertion sort of a[lo … hi - 1]. */
static inline void
insertion_sort_recs (Rec   *a,
                     gsize  lo,
                     gsize  hi)
{
  for (gsize i = lo + 1; i < hi; i++)
    {
      Rec v = a[i];
      gsize j = i;
      while (j > lo && rec_cmp (&v, &a[j - 1]) < 0)
        {
          a[j] = a[j - 1];
          j--;
        }
      a[j] = v;
    }
}

/* Stable merge sort of records, typed so the comparison inlines: runs of
 * 16 by insertion, then merges back and forth with tmp. */
static void
sort_recs (Rec   *a,
           gsize  n,
           Rec   *tmp)
{
  Rec *from = a, *to = tmp;

  for (gsize lo = 0; lo < n; lo += 16)
    insertion_sort_recs (a, lo, MIN (lo + 16, n));
  for (gsize width = 16; width < n; width *= 2)
    {
      Rec *swap;
      for (gsize lo = 0; lo < n; lo += 2 * width)
        {
          gsize mid = MIN (lo + width, n), hi = MIN (lo + 2 * width, n);
          gsize i = lo, j = mid, k = lo;
          /* Already in order (common: files are mostly sorted): copy. */
          if (mid < hi && rec_cmp (&from[mid], &from[mid - 1]) >= 0)
            {
              memcpy (to + lo, from + lo, (hi - lo) * sizeof (Rec));
              continue;
            }
          while (i < mid && j < hi)
            to[k++] = rec_cmp (&from[j], &from[i]) < 0 ? from[j++] : from[i++];
          while (i < mid)
            to[k++] = from[i++];
          while (j < hi)
            to[k++] = from[j++];
        }
      swap = from, from = to, to = swap;
    }
  if (from != a)
    memcpy (a, from, n * sizeof (Rec));
}

#define RADIX_BITS 13

/* The same order as sort_recs (stable, by rec_cmp), faster: a stable LSD
 * radix sort by time over only the bits the block's times span, in as
 * few passes of up to 13 bits as they need, the bits shared out evenly
 * (two passes for a block of a real trace), then the records of one time
 * put in rec_cmp order, stably: by insertion for the short runs of one
 * time that real files have, by sort_recs for long ones (all at one
 * time). */
static void
radix_sort_recs (Rec   *a,
                 gsize  n,
                 Rec   *tmp)
{
  g_autofree gsize *count = g_new (gsize, 1u << RADIX_BITS);
  Rec *from = a, *to = tmp;
  gint64 lo, hi;
  guint64 span;
  int bits, digit;

  if (n < 2)
    return;
  lo = hi = a[0].t;
  for (gsize i = 1; i < n; i++)
    {
      lo = MIN (lo, a[i].t);
      hi = MAX (hi, a[i].t);
    }
  span = (guint64) hi - (guint64) lo;
  bits = span == 0 ? 0 : 64 - __builtin_clzll (span);
  digit = bits == 0 ? 0 : (bits + (bits + RADIX_BITS - 1) / RADIX_BITS - 1) / ((bits + RADIX_BITS - 1) / RADIX_BITS);
  for (int shift = 0; shift < bits; shift += digit)
    {
      guint64 mask = (G_GUINT64_CONSTANT (1) << digit) - 1;
      gsize sum = 0;
      Rec *swap;

      memset (count, 0, sizeof (gsize) << digit);
      for (gsize i = 0; i < n; i++)
        count[(((guint64) from[i].t - (guint64) lo) >> shift) & mask]++;
      for (guint d = 0; d < (1u << digit); d++)
        {
          gsize c = count[d];
          count[d] = sum;
          sum += c;
        }
      for (gsize i = 0; i < n; i++)
        to[count[(((guint64) from[i].t - (guint64) lo) >> shift) & mask]++] = from[i];
      swap = from, from = to, to = swap;
    }
  if (from != a)
    memcpy (a, from, n * sizeof (Rec));

  /* Runs of one time: X slices after the rest, longer ones first. */
  for (gsize start = 0; start < n;)
    {
      gsize end = start + 1;
      while (end < n && a[end].t == a[start].t)
        end++;
      if (end - start > 32)
        sort_recs (a + start, end - start, tmp);
      else
        insertion_sort_recs (a, start, end);
      start = end;
    }
}

static void
sort_block (gpointer data,
            gpointer user_data)
{
  Block *b = data;
  Rec *tmp = g_new (Rec, MAX (b->n, 1));
  radix_sort_recs (b->recs, b->n, tmp);
  g_free (tmp);
}

/* Blocks are mapped, not malloc'd: freed while the trace grows, their
 * memory goes back to the system at once (malloc would keep blocks of
 * this size in its heap once it has seen one freed), which is what keeps
 * the peak near the size of the trace itself. */
static Rec *
block_recs_new (void)
{
  void *m = mmap (NULL, BLOCK_RECS * sizeof (Rec), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    g_error ("%s: out of memory for %zu bytes", G_STRLOC, (gsize) BLOCK_RECS * sizeof (Rec));
  return m;
}

static void
block_recs_free (Rec *recs)
{
  munmap (recs, BLOCK_RECS * sizeof (Rec));
}

static void
new_block (Parse *p)
{
  Block *b = g_new0 (Block, 1);

  if (p->block != NULL)
    {
      if (p->sorter != NULL)
        g_thread_pool_push (p->sorter, p->block, NULL);
      else
        sort_block (p->block, NULL);
    }
  b->recs = block_recs_new ();
  g_ptr_array_add (p->blocks, b);
  p->block = b;
}

static void
add_rec (Parse   *p,
         gint64   t,
         gint64   dur,
         guint32  lane,
         RecType  type,
         guint8   value,
         guint32  arg)
{
  Rec r = { t, dur, lane | (guint32) type << REC_LANE_BITS | (guint32) value << (REC_LANE_BITS + 3), arg };

  if (lane == IL_NO_LANE || p->n_recs >= G_MAXUINT32 / 4)
    {
      p->too_large = TRUE;
      return;
    }
  if (p->block == NULL || p->block->n == BLOCK_RECS)
    new_block (p);
  p->block->recs[p->block->n++] = r;
  p->n_recs++;
  p->n_trace_events += type == REC_SLICE || type == REC_BEGIN ? 2 : type == REC_END ? 0 : 1;
  g_array_index (p->lanes, ProtoLane, lane).has_recs = TRUE;
  note_time (p, t);
  if (dur > 0)
    note_time (p, t + dur);
}

/* A slice's record (X, B, or the E that ends a B), and where its args are
 * if it has any. */
static void
add_slice_rec (Parse   *p,
               gint64   t,
               gint64   dur,
               guint32  lane,
               RecType  type,
               guint32  name_id)
{
  Cur *c = &p->cur;
  guint64 before = p->n_recs;
  ArgsRec a = { t, type == REC_SLICE ? dur : -1, c->args_off, (guint32) c->args_len };

  /* value 1: a B, matched by an E later, or that E (REC_SLICE: 0). */
  add_rec (p, t, dur, lane, type, type != REC_SLICE, name_id);
  if (c->n_args == 0 || p->n_recs == before || c->args_len > G_MAXUINT32)
    return;
  if (p->args_copy != NULL && p->args_copy->len + c->args_len > ARGS_COPY_MAX)
    {
      /* Remembered as not kept, so the window can say so. */
      a.off = G_MAXUINT64;
      a.len = 0;
    }
  else if (p->args_copy != NULL)
    {
      a.off = p->args_copy->len;
      g_byte_array_append (p->args_copy, c->args_text, (guint) c->args_len);
    }
  p->block->recs[p->block->n - 1].packed |= REC_HAS_ARGS;
  g_array_append_val (p->args, a);
}

/* Times are kept in gint64 ns relative to the earliest one, so every
 * time (an X's end too) must lie within half of what gint64 holds:
 * ±146 years of µs.  Epoch times (1.7e15 µs) are well inside. */
#define MAX_US 4.6e15
#define MAX_NS ((gint64) 4600000000000000000)

/* A time in µs, as JSON number text (or the text of a string) → ns.
 * Plain decimals are read with integers: epoch times (PyTorch, TensorFlow:
 * 1.6e15 µs, 16 digits) would lose their nanoseconds in a double.
 * Exponents go through strtod. */
static TimeState
parse_time_ns (const char *text,
               gsize       len,
               gint64     *ns)
{
  guint64 ip = 0, frac = 0;
  int frac_digits = 0, digits = 0;
  gboolean neg = FALSE, round_up = FALSE;
  gsize i = 0;

  if (i < len && text[i] == '-')
    neg = TRUE, i++;
  for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++)
    {
      if (ip > (guint64) MAX_US)
        return TIME_RANGE;
      ip = ip * 10 + (guint64) (text[i] - '0');
    }
  if (i < len && text[i] == '.')
    for (i++; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++)
      {
        if (frac_digits < 3)
          frac = frac * 10 + (guint64) (text[i] - '0'), frac_digits++;
        else if (frac_digits == 3)
          round_up = text[i] >= '5', frac_digits++;
      }
  if (digits == 0)
    return TIME_NOT_NUMBER;
  if (i < len && (text[i] == 'e' || text[i] == 'E'))
    {
      char buf[64];
      double v;
      if (len >= sizeof buf)
        return TIME_RANGE;
      memcpy (buf, text, len);
      buf[len] = '\0';
      v = g_ascii_strtod (buf, NULL);
      if (!isfinite (v) || fabs (v) > MAX_US)
        return TIME_RANGE;
      *ns = (gint64) llround (v * 1000.0);
      return TIME_OK;
    }
  if (i != len)
    return TIME_NOT_NUMBER;
  if (ip > (guint64) MAX_US)
    return TIME_RANGE;
  for (; frac_digits < 3; frac_digits++)
    frac *= 10;
  *ns = (gint64) (ip * 1000 + frac + round_up);
  if (neg)
    *ns = -*ns;
  return TIME_OK;
}

/* A hash of a name for the cache below, from its length and three
 * 8-byte samples (start, middle, end) rather than every byte: the cache
 * compares the whole name anyway, so names that share these bytes only
 * take turns in a slot. */
static inline guint64
hash_name (const char *s,
           gsize       len)
{
  guint64 a = 0, b = 0, m = 0, h;

  if (len >= 8)
    {
      memcpy (&a, s, 8);
      memcpy (&m, s + (len - 8) / 2, 8);
      memcpy (&b, s + len - 8, 8);
    }
  else
    for (gsize i = 0; i < len; i++)
      a |= (guint64) (guint8) s[i] << (8 * i);
  h = (a * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) ^ (m * G_GUINT64_CONSTANT (0xff51afd7ed558ccd))
      ^ (b * G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53)) ^ len;
  /* The products' entropy is in their high bits: bring it down to the
   * low ones, which pick the slot. */
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  return h ^ (h >> 33);
}

/* a[0 … len-1] == b[0 … len-1], inline: names are short, and a call to
 * memcmp for each was a third of the cache's cost. */
static inline gboolean
bytes_equal (const char *a,
             const char *b,
             gsize       len)
{
  guint64 x, y;

  if (len < 8)
    {
      for (gsize i = 0; i < len; i++)
        if (a[i] != b[i])
          return FALSE;
      return TRUE;
    }
  for (gsize i = 0; i + 8 <= len; i += 8)
    {
      memcpy (&x, a + i, 8);
      memcpy (&y, b + i, 8);
      if (x != y)
        return FALSE;
    }
  /* The last 8 bytes, overlapping what was compared. */
  memcpy (&x, a + len - 8, 8);
  memcpy (&y, b + len - 8, 8);
  return x == y;
}

static inline gboolean
name_slot_is (const NameSlot *slot,
              guint64         h,
              const char     *s,
              gsize           len)
{
  return slot->str != NULL && slot->hash == h && slot->len == len && bytes_equal (slot->str, s, len);
}

static guint32
intern_name (Parse *p)
{
  Cur *c = &p->cur;
  const char *s = c->has_name ? c->name_s : "";
  gsize len = c->has_name ? c->name_len : 0;
  guint64 h = hash_name (s, len);
  NameSlot *slot = &p->names[h & (NAME_CACHE - 1)];
  NameSlot *other = &p->names[(h & (NAME_CACHE - 1)) ^ 1];
  guint32 id;

  /* A two-way cache in front of il_trace_intern: names repeat. */
  if (name_slot_is (slot, h, s, len))
    return slot->id;
  if (name_slot_is (other, h, s, len))
    return other->id;
  s = cur_name (c);
  id = il_trace_intern (p->trace, s);
  if (strlen (s) == len)   /* not for names cut at a \u0000 */
    {
      /* The one in the slot moves over to the other way, if there is one. */
      if (slot->str != NULL)
        *other = *slot;
      *slot = (NameSlot) { h, il_trace_get_string (p->trace, id), len, id };
    }
  return id;
}

static void
mark_slices (Parse   *p,
             guint32  lane)
{
  if (lane != IL_NO_LANE)
    g_array_index (p->lanes, ProtoLane, lane).has_slices = TRUE;
}

static guint32
flow_number (Parse      *p,
             const char *prefix,
             const char *id)
{
  g_autofree char *key = g_strconcat (prefix, id, NULL);
  gpointer v = g_hash_table_lookup (p->flow_ids, key);

  if (v == NULL)
    {
      v = GUINT_TO_POINTER (g_hash_table_size (p->flow_ids) + 1);
      g_hash_table_insert (p->flow_ids, g_steal_pointer (&key), v);
    }
  return GPOINTER_TO_UINT (v) - 1;
}

/* v2 flows (Chrome, Perfetto): a slice with bind_id and flow_out starts or
 * continues a flow, one with flow_in ends it; both: a step. */
static void
add_bound_flow (Parse   *p,
                gint64   t,
                guint32  lane)
{
  Cur *c = &p->cur;
  guint8 kind;

  if (!c->flow_in && !c->flow_out)
    return;
  if (!c->has_bind_id && !c->has_id)
    {
      skip (p, "flow without id", IL_CHROME_SKIP_NO_ID);
      return;
    }
  kind = c->flow_in && c->flow_out ? IL_FLOW_STEP : c->flow_out ? IL_FLOW_START : IL_FLOW_END;
  p->info->n_flows++;
  add_rec (p, t, 0, lane, REC_FLOW, kind,
           flow_number (p, "v2:", c->has_bind_id ? c->bind_id->str : c->id->str));
}

static void
finish_metadata (Parse  *p,
                 gint64  pid,
                 gint64  tid)
{
  Cur *c = &p->cur;
  const char *name = cur_name (c);

  if (g_str_equal (name, "process_name") && c->arg_name != NULL)
    {
      guint32 proc_i = process_index (p, pid);   /* first: the array may grow */
      ProtoProcess *proc = &g_array_index (p->processes, ProtoProcess, proc_i);
      g_free (proc->name);
      proc->name = g_strdup (c->arg_name);
    }
  else if (g_str_equal (name, "thread_name") && c->arg_name != NULL)
    {
      guint32 lane_i = lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32);
      ProtoLane *lane;
      if (lane_i == IL_NO_LANE)
        return;
      lane = &g_array_index (p->lanes, ProtoLane, lane_i);
      g_free (lane->name);
      lane->name = g_strdup (c->arg_name);
    }
  else if (g_str_equal (name, "process_sort_index") && c->has_sort_index)
    {
      guint32 proc_i = process_index (p, pid);   /* first: the array may grow */
      ProtoProcess *proc = &g_array_index (p->processes, ProtoProcess, proc_i);
      proc->sort = c->sort_index;
      proc->has_sort = TRUE;
    }
  else if (g_str_equal (name, "thread_sort_index") && c->has_sort_index)
    {
      guint32 lane_i = lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32);
      ProtoLane *lane;
      if (lane_i == IL_NO_LANE)
        return;
      lane = &g_array_index (p->lanes, ProtoLane, lane_i);
      lane->sort = c->sort_index;
      lane->has_sort = TRUE;
    }
  else
    skip (p, "M", IL_CHROME_SKIP_METADATA);
}

static void
finish_counter (Parse  *p,
                gint64  t,
                gint64  pid)
{
  Cur *c = &p->cur;
  IlChromeImportInfo *info = p->info;
  const char *base = c->has_name ? cur_name (c) : "counter";

  /* One lane per series: {"rss": 1, "heap": 2} are two. */
  for (guint i = 0; c->counter_keys != NULL && i < c->counter_keys->len; i++)
    {
      const char *k = g_ptr_array_index (c->counter_keys, i);
      g_autofree char *series = c->counter_keys->len == 1 && g_str_equal (k, "value")
                                ? g_strdup (base) : g_strdup_printf ("%s.%s", base, k);
      double dv = g_array_index (c->counter_vals, double, i);
      if (!isfinite (dv) || fabs (dv) > G_MAXFLOAT)
        {
          skip (p, "C with a bad value", IL_CHROME_SKIP_VALUE);
          continue;
        }
      info->n_counters++;
      add_rec (p, t, 0, lane_index (p, IL_LANE_COUNTER, pid, 0, il_trace_intern (p->trace, series)),
               REC_COUNTER, 0, il_trace_float_bits ((float) dv));
    }
  if (c->counter_keys == NULL || c->counter_keys->len == 0)
    skip (p, "C without values", IL_CHROME_SKIP_VALUE);
}

/* Async events, nestable (b/e/n) and legacy (S/T/p/F): each async id is a
 * lane of its own (VizTracer --log_async, Perfetto).  Ids are per category
 * and scope; id2.local ones also per process, like Chrome's. */
static void
finish_async (Parse  *p,
              gint64  t,
              gint64  pid)
{
  Cur *c = &p->cur;
  char ph = c->ph[0];
  g_autofree char *key = NULL;
  guint32 lane, name_id;
  ProtoLane *pl;

  if (!c->has_id)
    {
      skip (p, c->ph, IL_CHROME_SKIP_NO_ID);
      return;
    }
  key = g_strdup_printf ("%s/%s/%s/%s", c->id2_local ? "local" : "global", c->has_scope ? c->scope->str : "",
                         cur_cat (c), c->id->str);
  lane = lane_index (p, IL_LANE_TASK, pid, text_id (p, key), G_MAXUINT32);
  if (lane == IL_NO_LANE)
    return;
  pl = &g_array_index (p->lanes, ProtoLane, lane);
  p->info->n_async++;
  if (pl->name == NULL && c->has_name && (ph == 'b' || ph == 'S'))
    pl->name = g_strdup (cur_name (c));
  pl->has_slices = TRUE;
  name_id = intern_name (p);
  if (ph == 'b' || ph == 'S')
    add_rec (p, t, 0, lane, REC_BEGIN, 2, name_id);
  else if (ph == 'e' || ph == 'F')
    add_rec (p, t, 0, lane, REC_END, 2, name_id);
  else
    add_rec (p, t, 0, lane, REC_INSTANT, 0, name_id);   /* n, T, p: a step inside */
}

/* One of "XBEiIRCstfbenSTpF". */
static inline gboolean
is_drawn_phase (char ph)
{
  switch (ph)
    {
    case 'X': case 'B': case 'E': case 'i': case 'I': case 'R': case 'C': case 's': case 't':
    case 'f': case 'b': case 'e': case 'n': case 'S': case 'T': case 'p': case 'F':
      return TRUE;
    default:
      return FALSE;
    }
}

static void
finish_event (Parse *p)
{
  Cur *c = &p->cur;
  IlChromeImportInfo *info = p->info;
  gint64 pid, tid, t = c->ts, dur = c->dur;
  const char *ph = c->ph;
  guint32 name_id, lane;

  info->n_events_read++;
  pid = c->has_pid_text ? text_id (p, c->pid_text->str) : c->has_pid && fabs (c->pid) < 1e18 ? (gint64) c->pid : 0;
  tid = c->has_tid_text ? text_id (p, c->tid_text->str) : c->has_tid && fabs (c->tid) < 1e18 ? (gint64) c->tid : pid;

  if (ph[0] == 'M' && ph[1] == '\0')
    {
      finish_metadata (p, pid, tid);
      return;
    }
  if (ph[0] == '\0' || ph[1] != '\0' || c->bad || !is_drawn_phase (ph[0]))
    {
      skip (p, ph[0] ? ph : "(no phase)", IL_CHROME_SKIP_PHASE);
      return;
    }
  if (c->ts_state != TIME_OK)
    {
      skip (p, ph, c->ts_state == TIME_RANGE ? IL_CHROME_SKIP_TIME_RANGE : IL_CHROME_SKIP_NO_TIME);
      return;
    }

  switch (ph[0])
    {
    case 'X':
      /* An end beyond the range of times is out of range too. */
      if (c->dur_state != TIME_OK || dur < 0 || t > MAX_NS - dur)
        {
          skip (p, "X with a bad duration", IL_CHROME_SKIP_DURATION);
          return;
        }
      lane = lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32);
      name_id = intern_name (p);
      mark_slices (p, lane);
      info->n_slices++;
      /* Nothing to draw as a span: keep it as a mark. */
      if (dur == 0)
        add_rec (p, t, dur, lane, REC_INSTANT, 0, name_id);
      else
        add_slice_rec (p, t, dur, lane, REC_SLICE, name_id);
      add_bound_flow (p, t, lane);
      return;
    case 'B':
    case 'E':
      lane = lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32);
      name_id = intern_name (p);
      mark_slices (p, lane);
      add_slice_rec (p, t, 0, lane, ph[0] == 'B' ? REC_BEGIN : REC_END, name_id);
      add_bound_flow (p, t, lane);
      return;
    case 'i':
    case 'I':
    case 'R':   /* a mark (navigation timing) */
      info->n_instants++;
      name_id = intern_name (p);
      add_rec (p, t, 0, lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32), REC_INSTANT, 0, name_id);
      return;
    case 'C':
      finish_counter (p, t, pid);
      return;
    case 's':
    case 't':
    case 'f':
      if (!c->has_id)
        {
          skip (p, "flow without id", IL_CHROME_SKIP_NO_ID);
          return;
        }
      info->n_flows++;
      add_rec (p, t, 0, lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32), REC_FLOW,
               ph[0] == 's' ? IL_FLOW_START : ph[0] == 't' ? IL_FLOW_STEP : IL_FLOW_END,
               flow_number (p, "v1:", c->id->str));
      return;
    default:   /* b e n S T p F */
      finish_async (p, t, pid);
      return;
    }
}

/* JSON number text → double.  Plain decimals (all timestamps) are read
 * directly and exactly rounded; anything else goes to g_ascii_strtod. */
static double
parse_number (const char *text,
              gsize       len)
{
  static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                  1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18 };
  guint64 mant = 0;
  int digits = 0, frac = 0;
  gsize i = 0;
  gboolean neg = FALSE, dot = FALSE;
  char buf[64];

  if (i < len && text[i] == '-')
    neg = TRUE, i++;
  for (; i < len; i++)
    {
      char ch = text[i];
      if (ch >= '0' && ch <= '9')
        {
          if (digits == 15)
            break;
          mant = mant * 10 + (guint64) (ch - '0');
          if (mant != 0)
            digits++;
          frac += dot;
        }
      else if (ch == '.' && !dot)
        dot = TRUE;
      else
        break;
    }
  if (i == len && frac <= 18)
    {
      double v = (double) mant / pow10[frac];
      return neg ? -v : v;
    }
  if (len >= sizeof buf)
    return NAN;   /* absurdly long: not a value we can use */
  memcpy (buf, text, len);
  buf[len] = '\0';
  return g_ascii_strtod (buf, NULL);
}

static void
set_text (GString    *s,
          gboolean   *has,
          const void *text,
          gsize       len,
          gsize       max)
{
  g_string_truncate (s, 0);
  g_string_append_len (s, text, (gssize) MIN (len, max));
  *has = TRUE;
}

/* A counter series of the event being read (args of a C event; the phase
 * may come after args). */
static void
add_counter_value (Parse  *p,
                   double  v)
{
  Cur *c = &p->cur;

  if (c->ph[0] != 'C' && c->ph[0] != '\0')
    return;
  if (c->counter_keys == NULL)
    {
      c->counter_keys = g_ptr_array_new_with_free_func (g_free);
      c->counter_vals = g_array_new (FALSE, FALSE, sizeof (double));
    }
  if (c->counter_keys->len < 1024)
    {
      g_ptr_array_add (c->counter_keys, g_strdup (p->args_key));
      g_array_append_val (c->counter_vals, v);
    }
}

/* Counter values given as strings, the way Perfetto takes them: "+10.5",
 * ".75", "246.", "050"; not "1.5e", ".", "-". */
static gboolean
parse_number_text (const char *text,
                   gsize       len,
                   double     *v)
{
  char buf[64];
  gsize i = 0, digits = 0;

  if (len == 0 || len >= sizeof buf)
    return FALSE;
  if (text[i] == '+' || text[i] == '-')
    i++;
  for (; i < len && g_ascii_isdigit (text[i]); i++)
    digits++;
  if (i < len && text[i] == '.')
    for (i++; i < len && g_ascii_isdigit (text[i]); i++)
      digits++;
  if (digits == 0)
    return FALSE;
  if (i < len && (text[i] == 'e' || text[i] == 'E'))
    {
      gsize exp_digits = 0;
      i++;
      if (i < len && (text[i] == '+' || text[i] == '-'))
        i++;
      for (; i < len && g_ascii_isdigit (text[i]); i++)
        exp_digits++;
      if (exp_digits == 0)
        return FALSE;
    }
  if (i != len)
    return FALSE;
  memcpy (buf, text, len);
  buf[len] = '\0';
  *v = g_ascii_strtod (buf[0] == '+' ? buf + 1 : buf, NULL);
  return TRUE;
}

static Key
key_of (const unsigned char *key,
        size_t               len)
{
#define IS(s) (len == sizeof s - 1 && memcmp (key, s, sizeof s - 1) == 0)
  switch (len)
    {
    case 2:
      return IS ("ph") ? KEY_PH : IS ("ts") ? KEY_TS : IS ("id") ? KEY_ID : KEY_OTHER;
    case 3:
      return IS ("pid") ? KEY_PID : IS ("tid") ? KEY_TID : IS ("dur") ? KEY_DUR
           : IS ("cat") ? KEY_CAT : IS ("id2") ? KEY_ID2 : KEY_OTHER;
    case 4:
      return IS ("name") ? KEY_NAME : IS ("args") ? KEY_ARGS : KEY_OTHER;
    case 5:
      return IS ("scope") ? KEY_SCOPE : KEY_OTHER;
    case 7:
      return IS ("bind_id") ? KEY_BIND_ID : IS ("flow_in") ? KEY_FLOW_IN : KEY_OTHER;
    case 8:
      return IS ("flow_out") ? KEY_FLOW_OUT : KEY_OTHER;
    default:
      return KEY_OTHER;
    }
#undef IS
}

/* ------------------------------------------------------------- tokenizer
 *
 * A JSON reader made for this format: strict (what YAJL refuses, it
 * refuses), but instead of a callback per token it reads one event object
 * at a time straight into Cur, skipping the values it does not need
 * without copying them.  It works on a window of bytes; when an event does
 * not end inside the window it says so (SCAN_MORE) and the caller reads
 * more and starts that event again, so events are never split and strings
 * are used where they lie. */

typedef enum {
  SCAN_OK,
  SCAN_MORE,    /* the window ended inside a value */
  SCAN_ERROR,
  SCAN_STOP,    /* at stop_at */
} Scan;

typedef struct {
  const guint8 *s;
  gsize         len;
  gsize         pos;
  gboolean      eof;      /* nothing follows the window */
  const char   *error;    /* what is wrong, at error_at */
  gsize         error_at;
  GString      *scratch;  /* strings with escapes, unescaped */
  guint64       base;     /* file offset of s[0] */
  guint64       stop_at;  /* file offset of an event to stop before (G_MAXUINT64: none) */
  gboolean      passed;   /* went past stop_at: it was not where an event starts */
} Lex;

static Scan
lex_fail (Lex        *l,
          const char *what)
{
  l->error = what;
  l->error_at = l->pos;
  return SCAN_ERROR;
}

/* Skips whitespace; FALSE at the end of the window. */
static inline gboolean
lex_ws (Lex *l)
{
  /* Mostly there is none: anything above ' ' is not whitespace. */
  if (G_LIKELY (l->pos < l->len && l->s[l->pos] > ' '))
    return TRUE;
  while (l->pos < l->len)
    {
      guint8 c = l->s[l->pos];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
        return TRUE;
      l->pos++;
    }
  return FALSE;
}

#define ONES  G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Bytes of x that are '"', '\\', control characters or not ASCII. */
static inline guint64
special_bytes (guint64 x)
{
  guint64 q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
  return ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x) | x;
}

static void
append_utf8 (GString *s,
             gunichar c)
{
  char buf[6];
  g_string_append_len (s, buf, g_unichar_to_utf8 (c, buf));
}

static int
hex4 (const guint8 *p)
{
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v << 4 | d;
    }
  return v;
}

/* A string at l->pos (the opening quote).  Its text is left in the window
 * when it has no escapes, else unescaped into l->scratch. */
static Scan
lex_string (Lex         *l,
            const char **text,
            gsize       *text_len)
{
  const guint8 *s = l->s;
  gsize i = l->pos + 1, start = i;
  gboolean escaped = FALSE;

  for (;;)
    {
      guint8 c;

#ifdef __SSE2__
      /* Sixteen plain bytes at a time where SSE2 is (all x86-64): signed,
       * bytes from 0x80 up are below ' ' too, as special_bytes counts them. */
      while (i + 16 <= l->len)
        {
          __m128i x = _mm_loadu_si128 ((const __m128i *) (gconstpointer) (s + i));
          int m = _mm_movemask_epi8 (_mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (x, _mm_set1_epi8 ('"')),
                                                                 _mm_cmpeq_epi8 (x, _mm_set1_epi8 ('\\'))),
                                                   _mm_cmplt_epi8 (x, _mm_set1_epi8 (0x20))));
          if (m != 0)
            {
              gsize plain = (gsize) __builtin_ctz ((unsigned) m);
              if (escaped)
                g_string_append_len (l->scratch, (const char *) s + i, (gssize) plain);
              i += plain;
              goto special;
            }
          if (escaped)
            g_string_append_len (l->scratch, (const char *) s + i, 16);
          i += 16;
        }
#endif
      /* Eight plain bytes at a time, up to the first one that is not. */
      while (i + 8 <= l->len)
        {
          guint64 x, m;
          memcpy (&x, s + i, 8);
          m = special_bytes (x) & HIGHS;
          if (m != 0)
            {
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
              gsize plain = (gsize) __builtin_ctzll (m) / 8;   /* the first special byte */
#else
              gsize plain = 0;
#endif
              if (escaped)
                g_string_append_len (l->scratch, (const char *) s + i, (gssize) plain);
              i += plain;
              break;
            }
          if (escaped)
            g_string_append_len (l->scratch, (const char *) s + i, 8);
          i += 8;
        }
#ifdef __SSE2__
    special:
#endif
      if (i >= l->len)
        return SCAN_MORE;
      c = s[i];
      if (c == '"')
        break;
      if (c < 0x20)
        {
          l->pos = i;
          return lex_fail (l, "a control character inside a string");
        }
      if (c < 0x80 && c != '\\')
        {
          if (escaped)
            g_string_append_c (l->scratch, (char) c);
          i++;
          continue;
        }
      if (c >= 0x80)
        {
          gsize n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
          if (i + n > l->len)
            return SCAN_MORE;
          if (c < 0xc2 || c > 0xf4 || !g_utf8_validate_len ((const char *) s + i, n, NULL))
            {
              l->pos = i;
              return lex_fail (l, "bytes that are not UTF-8 inside a string");
            }
          if (escaped)
            g_string_append_len (l->scratch, (const char *) s + i, (gssize) n);
          i += n;
          continue;
        }
      /* A backslash: from here on the text is built in scratch. */
      if (!escaped)
        {
          escaped = TRUE;
          g_string_truncate (l->scratch, 0);
          g_string_append_len (l->scratch, (const char *) s + start, (gssize) (i - start));
        }
      if (i + 1 >= l->len)
        return SCAN_MORE;
      switch (s[i + 1])
        {
        case '"': g_string_append_c (l->scratch, '"'); break;
        case '\\': g_string_append_c (l->scratch, '\\'); break;
        case '/': g_string_append_c (l->scratch, '/'); break;
        case 'b': g_string_append_c (l->scratch, '\b'); break;
        case 'f': g_string_append_c (l->scratch, '\f'); break;
        case 'n': g_string_append_c (l->scratch, '\n'); break;
        case 'r': g_string_append_c (l->scratch, '\r'); break;
        case 't': g_string_append_c (l->scratch, '\t'); break;
        case 'u':
          {
            int u, lo;
            if (i + 6 > l->len)
              return SCAN_MORE;
            u = hex4 (s + i + 2);
            if (u < 0)
              {
                l->pos = i;
                return lex_fail (l, "a bad \\u escape inside a string");
              }
            /* A surrogate pair is one character; a lone half is not one. */
            if (u >= 0xd800 && u < 0xdc00)
              {
                if (i + 12 > l->len)
                  return SCAN_MORE;
                lo = s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4 (s + i + 8) : -1;
                if (lo >= 0xdc00 && lo < 0xe000)
                  {
                    append_utf8 (l->scratch, 0x10000 + ((gunichar) (u - 0xd800) << 10) + (gunichar) (lo - 0xdc00));
                    i += 6;
                  }
                else
                  append_utf8 (l->scratch, 0xfffd);
              }
            else if (u >= 0xdc00 && u < 0xe000)
              append_utf8 (l->scratch, 0xfffd);
            else
              append_utf8 (l->scratch, (gunichar) u);
            i += 4;
          }
          break;
        default:
          l->pos = i;
          return lex_fail (l, "a bad escape inside a string");
        }
      i += 2;
    }
  if (escaped)
    {
      *text = l->scratch->str;
      *text_len = l->scratch->len;
    }
  else
    {
      *text = (const char *) s + start;
      *text_len = i - start;
    }
  l->pos = i + 1;
  return SCAN_OK;
}

/* At least min digits from *i. */
static Scan
lex_digits (Lex   *l,
            gsize *i,
            gsize  min)
{
  gsize start = *i;

  while (*i < l->len && g_ascii_isdigit (l->s[*i]))
    (*i)++;
  if (*i == l->len && !l->eof)
    return SCAN_MORE;
  if (*i - start < min)
    {
      l->pos = *i;
      return lex_fail (l, "a malformed number");
    }
  return SCAN_OK;
}

/* A number at l->pos, checked against JSON's grammar. */
static Scan
lex_number (Lex         *l,
            const char **text,
            gsize       *text_len)
{
  const guint8 *s = l->s;
  gsize i = l->pos, n = l->len;
  Scan st;

  if (s[i] == '-')
    i++;
  if (i < n && s[i] == '0')
    i++;
  else if ((st = lex_digits (l, &i, 1)) != SCAN_OK)
    return st;
  if (i == n && !l->eof)
    return SCAN_MORE;
  if (i < n && s[i] == '.')
    {
      i++;
      if ((st = lex_digits (l, &i, 1)) != SCAN_OK)
        return st;
    }
  if (i < n && (s[i] == 'e' || s[i] == 'E'))
    {
      i++;
      if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
      if ((st = lex_digits (l, &i, 1)) != SCAN_OK)
        return st;
    }
  *text = (const char *) s + l->pos;
  *text_len = i - l->pos;
  l->pos = i;
  return SCAN_OK;
}

typedef enum {
  LIT_TRUE,
  LIT_FALSE,
  LIT_NULL,
} Literal;

static Scan
lex_literal (Lex     *l,
             Literal *lit)
{
  static const char *const words[] = { "true", "false", "null" };
  Literal w = l->s[l->pos] == 't' ? LIT_TRUE : l->s[l->pos] == 'f' ? LIT_FALSE : LIT_NULL;
  gsize n = strlen (words[w]);

  if (l->pos + n > l->len)
    {
      if (memcmp (l->s + l->pos, words[w], l->len - l->pos) != 0)
        return lex_fail (l, "an unknown word (not true, false or null)");
      return SCAN_MORE;
    }
  if (memcmp (l->s + l->pos, words[w], n) != 0)
    return lex_fail (l, "an unknown word (not true, false or null)");
  l->pos += n;
  *lit = w;
  return SCAN_OK;
}

#define TRY(x) G_STMT_START { Scan try_st = (x); if (try_st != SCAN_OK) return try_st; } G_STMT_END
#define WS(l) G_STMT_START { if (!lex_ws (l)) return SCAN_MORE; } G_STMT_END

/* A key and its colon. */
static Scan
lex_key (Lex         *l,
         const char **key,
         gsize       *key_len)
{
  WS (l);
  if (l->s[l->pos] != '"')
    return lex_fail (l, "expected a key in quotes");
  TRY (lex_string (l, key, key_len));
  WS (l);
  if (l->s[l->pos] != ':')
    return lex_fail (l, "expected ':' after a key");
  l->pos++;
  WS (l);
  return SCAN_OK;
}

/* Skips one value of any kind, checking it; depth is that of its container. */
static Scan
skip_value (Lex *l,
            int  depth)
{
  char stack[MAX_DEPTH + 1];
  int top = 0;
  const char *text;
  gsize len;
  Literal lit;

  for (;;)
    {
      guint8 c;

      /* A value. */
      WS (l);
      c = l->s[l->pos];
      if (c == '{' || c == '[')
        {
          if (depth + top >= MAX_DEPTH)
            return lex_fail (l, "nested too deeply");
          stack[top++] = (char) c;
          l->pos++;
          WS (l);
          if (l->s[l->pos] == (c == '{' ? '}' : ']'))
            {
              l->pos++;
              top--;
            }
          else
            {
              if (c == '{')
                TRY (lex_key (l, &text, &len));
              continue;
            }
        }
      else if (c == '"')
        TRY (lex_string (l, &text, &len));
      else if (c == '-' || g_ascii_isdigit (c))
        TRY (lex_number (l, &text, &len));
      else if (c == 't' || c == 'f' || c == 'n')
        TRY (lex_literal (l, &lit));
      else
        return lex_fail (l, "expected a value");

      /* After a value: more of its container, or its end. */
      for (;;)
        {
          if (top == 0)
            return SCAN_OK;
          WS (l);
          c = l->s[l->pos];
          if (c == ',')
            {
              l->pos++;
              if (stack[top - 1] == '{')
                TRY (lex_key (l, &text, &len));
              break;
            }
          if (c != (stack[top - 1] == '{' ? '}' : ']'))
            return lex_fail (l, stack[top - 1] == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
          l->pos++;
          top--;
        }
    }
}

/* A scalar field of an event, given as a string (in_scratch: unescaped
 * into the scratch buffer). */
static void
event_string (Parse      *p,
              Key         key,
              const char *text,
              gsize       len,
              gboolean    in_scratch)
{
  Cur *c = &p->cur;

  switch (key)
    {
    case KEY_PH:
      memset (c->ph, 0, sizeof c->ph);
      if (len >= sizeof c->ph || len == 0)
        {
          c->ph[0] = '?';
          c->bad = TRUE;
        }
      else
        memcpy (c->ph, text, len);
      break;
    case KEY_NAME:
      field_set (c->name, &c->name_s, &c->name_len, &c->name_copied, text, MIN (len, 4096), in_scratch);
      c->has_name = TRUE;
      break;
    case KEY_CAT:
      field_set (c->cat, &c->cat_s, &c->cat_len, &c->cat_copied, text, MIN (len, 1024), in_scratch);
      c->has_cat = TRUE;
      break;
    case KEY_ID:
      set_text (c->id, &c->has_id, text, len, 1024);
      break;
    case KEY_BIND_ID:
      set_text (c->bind_id, &c->has_bind_id, text, len, 1024);
      break;
    case KEY_SCOPE:
      set_text (c->scope, &c->has_scope, text, len, 1024);
      break;
    case KEY_PID:
      set_text (c->pid_text, &c->has_pid_text, text, len, 1024);
      c->has_pid = FALSE;
      break;
    case KEY_TID:
      set_text (c->tid_text, &c->has_tid_text, text, len, 1024);
      c->has_tid = FALSE;
      break;
    case KEY_TS:   /* "ts": "10" (Hermes, some converters) */
      c->ts_state = parse_time_ns (text, len, &c->ts);
      break;
    case KEY_DUR:
      c->dur_state = parse_time_ns (text, len, &c->dur);
      break;
    default:
      break;
    }
}

static void
event_number (Parse      *p,
              Key         key,
              const char *text,
              gsize       len)
{
  Cur *c = &p->cur;

  switch (key)
    {
    case KEY_TS:
      c->ts_state = parse_time_ns (text, len, &c->ts);
      break;
    case KEY_DUR:
      c->dur_state = parse_time_ns (text, len, &c->dur);
      break;
    case KEY_PID:
      c->pid = parse_number (text, len), c->has_pid = TRUE, c->has_pid_text = FALSE;
      break;
    case KEY_TID:
      c->tid = parse_number (text, len), c->has_tid = TRUE, c->has_tid_text = FALSE;
      break;
    case KEY_ID:
      set_text (c->id, &c->has_id, text, len, 1024);
      break;
    case KEY_BIND_ID:
      set_text (c->bind_id, &c->has_bind_id, text, len, 1024);
      break;
    default:
      break;
    }
}

/* Reads the members of an object at l->pos, handing each value to member
 * with its key. */
typedef Scan (*MemberFunc) (Parse      *p,
                            Lex        *l,
                            const char *key,
                            gsize       key_len,
                            int         depth);

static Scan
parse_members (Parse      *p,
               Lex        *l,
               int         depth,
               MemberFunc  member)
{
  const char *key;
  gsize key_len;

  l->pos++;   /* { */
  WS (l);
  if (l->s[l->pos] == '}')
    {
      l->pos++;
      return SCAN_OK;
    }
  for (;;)
    {
      guint8 ch;

      TRY (lex_key (l, &key, &key_len));
      TRY (member (p, l, key, key_len, depth));
      WS (l);
      ch = l->s[l->pos];
      if (ch != '}' && ch != ',')
        return lex_fail (l, "expected ',' or '}'");
      l->pos++;
      if (ch == '}')
        return SCAN_OK;
    }
}

/* args: sort indexes and names of M events, the series of C events. */
static Scan
args_member (Parse      *p,
             Lex        *l,
             const char *key,
             gsize       key_len,
             int         depth)
{
  Cur *c = &p->cur;
  gsize n = MIN (key_len, sizeof p->args_key - 1);
  guint8 ch = l->s[l->pos];
  const char *text;
  gsize len;
  double v;

  c->n_args++;
  memcpy (p->args_key, key, n);
  p->args_key[n] = '\0';
  if (ch == '"')
    {
      TRY (lex_string (l, &text, &len));
      if (g_str_equal (p->args_key, "name"))
        {
          g_free (c->arg_name);
          c->arg_name = g_strndup (text, MIN (len, 4096));
        }
      else if (parse_number_text (text, len, &v))
        add_counter_value (p, v);
    }
  else if (ch == '-' || g_ascii_isdigit (ch))
    {
      TRY (lex_number (l, &text, &len));
      v = parse_number (text, len);
      if (g_str_equal (p->args_key, "sort_index"))
        {
          c->sort_index = v;
          c->has_sort_index = TRUE;
        }
      add_counter_value (p, v);
    }
  else
    TRY (skip_value (l, depth + 1));
  return SCAN_OK;
}

/* id2: {"local": "0x1"} or {"global": …}. */
static Scan
id2_member (Parse      *p,
            Lex        *l,
            const char *key,
            gsize       key_len,
            int         depth)
{
  Cur *c = &p->cur;
  guint8 ch = l->s[l->pos];
  const char *text;
  gsize len;

  c->id2_local = key_len == 5 && memcmp (key, "local", 5) == 0;
  if (ch == '"')
    TRY (lex_string (l, &text, &len));
  else if (ch == '-' || g_ascii_isdigit (ch))
    TRY (lex_number (l, &text, &len));
  else
    return skip_value (l, depth + 1);
  set_text (c->id, &c->has_id, text, len, 1024);
  return SCAN_OK;
}

/* The keys of nearly every event, when written plainly and followed by
 * their colon: known by comparing a few bytes (memcmp of a constant size
 * compiles to a load or two), without reading a string.  Anything else
 * (spaces before the colon, escapes, other keys, the end of the window)
 * goes the general way, which reads the same keys alike. */
static inline gboolean
fast_key (Lex *l,
          Key *k)
{
  const guint8 *at = l->s + l->pos;
  gsize n;

  if (l->pos + 8 > l->len)
    return FALSE;
  switch (at[1])
    {
#define KEY(text, key) if (memcmp (at, text, sizeof text - 1) == 0) { *k = key; n = sizeof text - 1; break; }
    case 'p':
      KEY ("\"ph\":", KEY_PH);
      KEY ("\"pid\":", KEY_PID);
      return FALSE;
    case 't':
      KEY ("\"ts\":", KEY_TS);
      KEY ("\"tid\":", KEY_TID);
      return FALSE;
    case 'd':
      KEY ("\"dur\":", KEY_DUR);
      return FALSE;
    case 'n':
      KEY ("\"name\":", KEY_NAME);
      return FALSE;
    case 'c':
      KEY ("\"cat\":", KEY_CAT);
      return FALSE;
    case 'a':
      KEY ("\"args\":", KEY_ARGS);
      return FALSE;
    case 'i':
      KEY ("\"id\":", KEY_ID);
      return FALSE;
#undef KEY
    default:
      return FALSE;
    }
  l->pos += n;
  return TRUE;
}

/* The sign and integer part of a plain JSON number at *i, of at most max
 * digits. */
static inline gboolean
fast_int_part (const guint8 *s,
               gsize        *i,
               gsize         n,
               gsize         max,
               gboolean     *neg,
               guint64      *v)
{
  gsize start;

  *neg = s[*i] == '-';
  *i += *neg;
  start = *i;
  *v = 0;
  if (*i < n && s[*i] == '0')
    (*i)++;
  else
    for (; *i < n && g_ascii_isdigit (s[*i]); (*i)++)
      *v = *v * 10 + (guint64) (s[*i] - '0');
  return *i > start && *i - start <= max;
}

/* A time in µs written as a plain JSON number, read into ns while it is
 * lexed: what parse_time_ns makes of it.  FALSE (nothing consumed) for
 * anything else, which the general way then reads or refuses: exponents,
 * more than 16 integer digits, malformed numbers, the window's end. */
static inline gboolean
fast_time (Lex    *l,
           gint64 *ns)
{
  const guint8 *s = l->s;
  gsize i = l->pos, n = l->len;
  guint64 ip, frac = 0;
  int frac_digits = 0;
  gboolean neg, round_up = FALSE;

  if (!fast_int_part (s, &i, n, 16, &neg, &ip))
    return FALSE;
  if (i < n && s[i] == '.')
    {
      gsize frac_start = ++i;
      for (; i < n && g_ascii_isdigit (s[i]); i++)
        {
          if (frac_digits < 3)
            frac = frac * 10 + (guint64) (s[i] - '0'), frac_digits++;
          else if (frac_digits == 3)
            round_up = s[i] >= '5', frac_digits++;
        }
      if (i == frac_start)
        return FALSE;
    }
  if (i >= n || s[i] == 'e' || s[i] == 'E' || g_ascii_isdigit (s[i]) || ip > (guint64) MAX_US)
    return FALSE;
  for (; frac_digits < 3; frac_digits++)
    frac *= 10;
  *ns = (gint64) (ip * 1000 + frac + round_up);
  if (neg)
    *ns = -*ns;
  l->pos = i;
  return TRUE;
}

/* A pid or tid written as a plain integer of up to 15 digits: exactly
 * what parse_number makes of it.  FALSE (nothing consumed) otherwise. */
static inline gboolean
fast_integer (Lex    *l,
              double *v)
{
  const guint8 *s = l->s;
  gsize i = l->pos, n = l->len;
  guint64 m;
  gboolean neg;

  if (!fast_int_part (s, &i, n, 15, &neg, &m) || i >= n || s[i] == '.' || s[i] == 'e' || s[i] == 'E'
      || g_ascii_isdigit (s[i]))
    return FALSE;
  *v = neg ? -(double) m : (double) m;
  l->pos = i;
  return TRUE;
}

/* The value of member k of an event. */
static Scan
event_member (Parse *p,
              Lex   *l,
              Key    k,
              int    depth)
{
  Cur *c = &p->cur;
  guint8 ch = l->s[l->pos];
  const char *text;
  gsize len;
  Literal lit;

  if (ch == '"')
    {
      /* "ph": "X", the commonest value: one plain character. */
      if (k == KEY_PH && l->pos + 2 < l->len && l->s[l->pos + 2] == '"' && l->s[l->pos + 1] >= 0x20
          && l->s[l->pos + 1] < 0x80 && l->s[l->pos + 1] != '"' && l->s[l->pos + 1] != '\\')
        {
          memset (c->ph, 0, sizeof c->ph);
          c->ph[0] = (char) l->s[l->pos + 1];
          l->pos += 3;
          return SCAN_OK;
        }
      TRY (lex_string (l, &text, &len));
      event_string (p, k, text, len, text == l->scratch->str);
    }
  else if (ch == '-' || g_ascii_isdigit (ch))
    {
      if ((k == KEY_TS || k == KEY_DUR) && fast_time (l, k == KEY_TS ? &c->ts : &c->dur))
        {
          if (k == KEY_TS)
            c->ts_state = TIME_OK;
          else
            c->dur_state = TIME_OK;
          return SCAN_OK;
        }
      if ((k == KEY_PID || k == KEY_TID) && fast_integer (l, k == KEY_PID ? &c->pid : &c->tid))
        {
          if (k == KEY_PID)
            c->has_pid = TRUE, c->has_pid_text = FALSE;
          else
            c->has_tid = TRUE, c->has_tid_text = FALSE;
          return SCAN_OK;
        }
      TRY (lex_number (l, &text, &len));
      event_number (p, k, text, len);
    }
  else if (ch == 't' || ch == 'f' || ch == 'n')
    {
      TRY (lex_literal (l, &lit));
      if (k == KEY_FLOW_IN)
        c->flow_in = lit == LIT_TRUE;
      else if (k == KEY_FLOW_OUT)
        c->flow_out = lit == LIT_TRUE;
      else if (k == KEY_TS)
        c->ts_state = TIME_NOT_NUMBER;
      else if (k == KEY_DUR)
        c->dur_state = TIME_NOT_NUMBER;
    }
  else if (ch == '{' && k == KEY_ARGS)
    {
      gsize start = l->pos;
      c->n_args = 0;
      TRY (parse_members (p, l, depth + 1, args_member));
      c->args_off = l->base + start;
      c->args_len = l->pos - start;
      c->args_text = l->s + start;
    }
  else if (ch == '{' && k == KEY_ID2)
    TRY (parse_members (p, l, depth + 1, id2_member));
  else
    {
      TRY (skip_value (l, depth));
      if (k == KEY_TS)
        c->ts_state = TIME_NOT_NUMBER;
      else if (k == KEY_DUR)
        c->dur_state = TIME_NOT_NUMBER;
    }
  return SCAN_OK;
}

/* One event object at l->pos, whole: read, then finished.  The members
 * are read as parse_members reads them, with the common keys known
 * without reading them as strings. */
static Scan
parse_event (Parse *p,
             Lex   *l,
             int    depth)
{
  cur_reset (&p->cur);
  l->pos++;   /* { */
  WS (l);
  if (l->s[l->pos] != '}')
    for (;;)
      {
        const char *key;
        gsize key_len;
        Key k;
        guint8 ch;

        /* Whitespace is skipped only where there is some (lex_key skips
         * its own): mostly there is none. */
        if (fast_key (l, &k))
          WS (l);
        else
          {
            TRY (lex_key (l, &key, &key_len));
            k = key_of ((const unsigned char *) key, key_len);
          }
        TRY (event_member (p, l, k, depth));
        if (l->pos >= l->len || (l->s[l->pos] != ',' && l->s[l->pos] != '}'))
          WS (l);
        ch = l->s[l->pos];
        if (ch != '}' && ch != ',')
          return lex_fail (l, "expected ',' or '}'");
        if (ch == '}')
          break;
        l->pos++;
      }
  l->pos++;   /* } */
  finish_event (p);
  return SCAN_OK;
}

/* Where the reader is in the file's outer structure: [event, …] or
 * {"key": value, …, "traceEvents": [event, …], …}. */
typedef enum {
  TOP_START,
  TOP_KEY,           /* a key of the top object, or its end */
  TOP_AFTER_MEMBER,
  TOP_EVENTS_FIRST,  /* just inside the list of events */
  TOP_EVENT,
  TOP_AFTER_EVENT,
  TOP_END,
} Top;

typedef struct {
  Top      top;
  gboolean array_form;
  gboolean saw_events;
} Outer;

/* Reads from l->pos as far as the window allows.  *safe is where to start
 * again (with o as it is then) when it returns SCAN_MORE. */
static Scan
parse_outer (Parse *p,
             Lex   *l,
             Outer *o,
             gsize *safe)
{
  const char *key;
  gsize key_len;
  guint8 c;

  for (;;)
    {
      *safe = l->pos;
      /* Another thread reads from stop_at on, if an event starts there. */
      if (o->top == TOP_EVENT && l->base + l->pos >= l->stop_at)
        {
          if (l->base + l->pos == l->stop_at)
            return SCAN_STOP;
          l->stop_at = G_MAXUINT64;
          l->passed = TRUE;
        }
      if (o->top == TOP_END)
        return SCAN_OK;   /* what follows is ignored, as YAJL's allow_trailing_garbage did */
      WS (l);
      c = l->s[l->pos];
      switch (o->top)
        {
        case TOP_START:
          if (c == '[')
            {
              o->array_form = TRUE;
              o->saw_events = TRUE;
              o->top = TOP_EVENTS_FIRST;
              l->pos++;
            }
          else if (c == '{')
            {
              l->pos++;
              WS (l);
              if (l->s[l->pos] == '}')
                {
                  l->pos++;
                  o->top = TOP_END;
                }
              else
                o->top = TOP_KEY;
            }
          else
            return lex_fail (l, "not JSON, or not a trace: expected '[' or '{'");
          break;
        case TOP_KEY:
          TRY (lex_key (l, &key, &key_len));
          if (key_len == 11 && memcmp (key, "traceEvents", 11) == 0 && l->s[l->pos] == '[')
            {
              l->pos++;
              o->saw_events = TRUE;
              o->top = TOP_EVENTS_FIRST;
            }
          else
            {
              TRY (skip_value (l, 1));
              o->top = TOP_AFTER_MEMBER;
            }
          break;
        case TOP_AFTER_MEMBER:
          l->pos++;
          if (c == ',')
            o->top = TOP_KEY;
          else if (c == '}')
            o->top = TOP_END;
          else
            {
              l->pos--;
              return lex_fail (l, "expected ',' or '}'");
            }
          break;
        case TOP_EVENTS_FIRST:
          if (c == ']')
            {
              l->pos++;
              o->top = o->array_form ? TOP_END : TOP_AFTER_MEMBER;
            }
          else
            o->top = TOP_EVENT;
          break;
        case TOP_EVENT:
          if (c == '{')
            TRY (parse_event (p, l, o->array_form ? 1 : 2));
          else
            TRY (skip_value (l, o->array_form ? 1 : 2));
          o->top = TOP_AFTER_EVENT;
          if (p->too_large)
            return lex_fail (l, "too many events for memory; the rest was not loaded");
          break;
        case TOP_AFTER_EVENT:
          if (c == ',')
            {
              l->pos++;
              WS (l);
              /* [a, b,] — a trailing comma, as Perfetto takes it */
              o->top = l->s[l->pos] == ']' ? TOP_EVENTS_FIRST : TOP_EVENT;
            }
          else if (c == ']')
            {
              l->pos++;
              o->top = o->array_form ? TOP_END : TOP_AFTER_MEMBER;
            }
          else
            return lex_fail (l, "expected ',' or ']' after an event");
          break;
        case TOP_END:
        default:
          return SCAN_OK;
        }
    }
}

#undef TRY
#undef WS

/* Time order; the sort is stable, so file order breaks the remaining ties.
 * At one instant X slices come after everything else, longer ones first
 * (parents before children).  B, E, instants, counters and flows at one
 * instant keep their file order: "E a, B b" stay back-to-back slices and
 * "B a, E a" stays a zero-length pair.  X ends are not records: they are
 * generated while building, before any record at or after their time. */
static inline int
rec_cmp (const Rec *x,
         const Rec *y)
{
  gboolean sx, sy;

  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  sx = rec_type (x) == REC_SLICE;
  sy = rec_type (y) == REC_SLICE;
  if (sx != sy)
    return sx ? 1 : -1;
  if (sx && x->dur != y->dur)
    return x->dur > y->dur ? -1 : 1;
  return 0;
}

/* Block a's next record before block b's?  Ties: file order, which is
 * block order (each block's sort is stable). */
static inline gboolean
block_less (Block  **blocks,
            guint32  a,
            guint32  b)
{
  int c = rec_cmp (&blocks[a]->recs[blocks[a]->pos], &blocks[b]->recs[blocks[b]->pos]);
  return c != 0 ? c < 0 : a < b;
}

static void
merge_sift_down (Block  **blocks,
                 guint32 *heap,
                 guint    n,
                 guint    i)
{
  guint32 v = heap[i];

  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && block_less (blocks, heap[c + 1], heap[c]))
        c++;
      if (!block_less (blocks, heap[c], v))
        break;
      heap[i] = heap[c];
      i = c;
    }
  heap[i] = v;
}

static int
compare_lanes (gconstpointer a,
               gconstpointer b,
               gpointer      data)
{
  Parse *p = data;
  const ProtoLane *x = &g_array_index (p->lanes, ProtoLane, *(const guint32 *) a);
  const ProtoLane *y = &g_array_index (p->lanes, ProtoLane, *(const guint32 *) b);
  const ProtoProcess *px = &g_array_index (p->processes, ProtoProcess,
                                           GPOINTER_TO_UINT (g_hash_table_lookup (p->process_ids, &x->pid)) - 1);
  const ProtoProcess *py = &g_array_index (p->processes, ProtoProcess,
                                           GPOINTER_TO_UINT (g_hash_table_lookup (p->process_ids, &y->pid)) - 1);
  double sx = px->has_sort ? px->sort : 0, sy = py->has_sort ? py->sort : 0;

  if (sx != sy)
    return sx < sy ? -1 : 1;
  if (x->pid != y->pid)
    return x->pid < y->pid ? -1 : 1;
  sx = x->has_sort ? x->sort : 0;
  sy = y->has_sort ? y->sort : 0;
  if (sx != sy)
    return sx < sy ? -1 : 1;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return *(const guint32 *) a < *(const guint32 *) b ? -1 : 1;
}

/* An open slice on a lane's stack: X slices know their end, B/b do not. */
typedef struct {
  gint64  end;      /* G_MAXINT64 for B/b */
  guint32 name;
  guint32 begin;    /* its SLICE_BEGIN event: where an E's args go */
  guint8  counted;  /* 1: a B whose match counts as a slice */
} Open;

#define OPEN_UNKNOWN G_MAXINT64

/* A lane's open slices, innermost last. */
typedef struct {
  Open *data;
  guint len, alloc;
} Stack;

/* When each lane whose innermost open slice is an X ends it: a min-heap
 * of (end, lane) with one entry per such lane, and where each lane's
 * entry is, so the entry moves when the lane's top changes instead of
 * piling up stale copies (a parent with a thousand children was a
 * thousand entries).  Ends pop in (end, lane) order. */
typedef struct {
  gint64  end;
  guint32 lane;
} Pending;

typedef struct {
  Pending *h;
  guint32 *pos;    /* per proto-lane: index in h, or G_MAXUINT32 */
  guint    n;
} Ends;

static inline gboolean
pending_less (const Pending *a,
              const Pending *b)
{
  return a->end != b->end ? a->end < b->end : a->lane < b->lane;
}

static inline void
ends_put (Ends    *e,
          guint    i,
          Pending  v)
{
  e->h[i] = v;
  e->pos[v.lane] = i;
}

/* Places v at i or wherever it belongs above: a key that got smaller
 * (a child X opens on the lane's X) or a new one. */
static inline void
ends_sift_up (Ends    *e,
              guint    i,
              Pending  v)
{
  while (i > 0 && pending_less (&v, &e->h[(i - 1) / 2]))
    {
      ends_put (e, i, e->h[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
  ends_put (e, i, v);
}

/* Places v at i or wherever it belongs below: a key that got bigger (the
 * lane's X ended and revealed its parent). */
static void
ends_sift_down (Ends    *e,
                guint    i,
                Pending  v)
{
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= e->n)
        break;
      if (c + 1 < e->n && pending_less (&e->h[c + 1], &e->h[c]))
        c++;
      if (!pending_less (&e->h[c], &v))
        break;
      ends_put (e, i, e->h[c]);
      i = c;
    }
  ends_put (e, i, v);
}

static void
ends_remove (Ends    *e,
             guint32  lane)
{
  guint i = e->pos[lane];
  Pending last;

  if (i == G_MAXUINT32)
    return;
  e->pos[lane] = G_MAXUINT32;
  last = e->h[--e->n];
  if (i < e->n && pending_less (&last, &e->h[i]))
    ends_sift_up (e, i, last);
  else if (i < e->n)
    ends_sift_down (e, i, last);
}

/* The lane's top changed: its entry follows. */
static inline void
ends_update (Ends        *e,
             const Stack *stack,
             guint32      lane)
{
  Pending v = { 0, lane };

  if (stack->len == 0 || stack->data[stack->len - 1].end == OPEN_UNKNOWN)
    {
      ends_remove (e, lane);
      return;
    }
  v.end = stack->data[stack->len - 1].end;
  if (e->pos[lane] == G_MAXUINT32)
    ends_sift_up (e, e->n++, v);
  else if (v.end < e->h[e->pos[lane]].end)
    ends_sift_up (e, e->pos[lane], v);
  else if (v.end > e->h[e->pos[lane]].end)
    ends_sift_down (e, e->pos[lane], v);
}

typedef struct {
  IlTrace            *t;
  IlChromeImportInfo *info;
  const guint32      *map;     /* proto-lane → trace lane */
  Stack              *stacks;  /* per proto-lane */
  Ends                ends;
  gint64              base;
  gint64              now;     /* last appended time (relative) */
  const ArgsRec      *args;    /* in the order the records flagged with args come */
  guint               n_args, next_args;
  IlChromeArgs       *slice_args;
} Build;

static inline void
build_append (Build       *b,
              gint64       time,
              guint32      proto_lane,
              IlEventKind  kind,
              guint8       value,
              guint16      aux,
              guint32      arg)
{
  b->now = MAX (b->now, time);
  il_trace_append (b->t, b->now, b->map[proto_lane], kind, value, aux, arg);
}

static inline void
stack_push (Stack *stack,
            Open   o)
{
  if (stack->len == stack->alloc)
    {
      stack->alloc = MAX (16, stack->alloc * 2);
      stack->data = g_renew (Open, stack->data, stack->alloc);
    }
  stack->data[stack->len++] = o;
}

/* Pops the top of a lane's stack at time (relative). */
static void
close_top (Build   *b,
           guint32  lane,
           gint64   time)
{
  Stack *stack = &b->stacks[lane];
  Open top = stack->data[--stack->len];

  build_append (b, time, lane, IL_EVENT_SLICE_END, 0, (guint16) MIN (stack->len, G_MAXUINT16), top.name);
  /* The slice below may be an X: its end is pending again. */
  ends_update (&b->ends, stack, lane);
}

/* Ends every X slice that ends at or before limit (relative). */
static inline void
flush_ends (Build  *b,
            gint64  limit)
{
  while (b->ends.n > 0 && b->ends.h[0].end <= limit)
    {
      Pending e = b->ends.h[0];
      close_top (b, e.lane, e.end);
    }
}

/* The order of rec_cmp, on args. */
static int
compare_args (gconstpointer a,
              gconstpointer b)
{
  const ArgsRec *x = a, *y = b;
  gboolean sx = x->dur >= 0, sy = y->dur >= 0;

  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  if (sx != sy)
    return sx ? 1 : -1;
  if (sx && x->dur != y->dur)
    return x->dur > y->dur ? -1 : 1;
  return 0;
}

static void
chrome_args_free (gpointer data)
{
  IlChromeArgs *a = data;

  g_array_unref (a->entries);
  g_clear_pointer (&a->end_entries, g_array_unref);
  g_free (a->path);
  g_clear_pointer (&a->copy, g_bytes_unref);
  g_free (a);
}

static void    note_end_args   (IlChromeArgs       *a,
                                guint32             begin,
                                guint64             off,
                                guint32             len);
static int     compare_entries (gconstpointer       a,
                                gconstpointer       b);
static guint64 count_not_kept  (const IlChromeArgs *a);

/* One record of the merged stream into the trace. */
static inline void
build_rec (Build     *b,
           const Rec *r)
{
  guint32 lane = rec_lane (r);
  Stack *stack = &b->stacks[lane];
  gint64 time = r->t - b->base;

  flush_ends (b, time);
  switch (rec_type (r))
    {
    case REC_SLICE:
    case REC_BEGIN:
      {
        Open o = { OPEN_UNKNOWN, r->arg, (guint32) b->t->n_events, rec_value (r) == 1 };
        if (rec_type (r) == REC_SLICE)
          {
            o.end = time + r->dur;
            /* Keep slices nested: a child cannot outlive its parent X. */
            if (stack->len > 0)
              o.end = MIN (o.end, stack->data[stack->len - 1].end);
            o.end = MAX (o.end, time);
          }
        if ((r->packed & REC_HAS_ARGS) && b->next_args < b->n_args)
          {
            const ArgsRec *a = &b->args[b->next_args++];
            ArgsEntry e = { (guint32) b->t->n_events, a->len, a->off };
            g_array_append_val (b->slice_args->entries, e);
          }
        build_append (b, time, lane, IL_EVENT_SLICE_BEGIN, 0, (guint16) MIN (stack->len, G_MAXUINT16), r->arg);
        stack_push (stack, o);
        ends_update (&b->ends, stack, lane);
      }
      break;
    case REC_END:
      {
        gint k = (gint) stack->len - 1;
        const ArgsRec *end_args = (r->packed & REC_HAS_ARGS) && b->next_args < b->n_args ? &b->args[b->next_args++] : NULL;
        guint32 begin;
        /* The innermost open B; X slices still open above it end here. */
        while (k >= 0 && stack->data[k].end != OPEN_UNKNOWN)
          k--;
        if (k < 0)
          {
            b->info->n_unmatched++;
            break;
          }
        while ((gint) stack->len - 1 > k)
          close_top (b, lane, time);
        if (stack->data[k].counted)
          b->info->n_slices++;   /* a matched B/E pair */
        begin = stack->data[k].begin;
        close_top (b, lane, time);
        if (end_args != NULL)
          note_end_args (b->slice_args, begin, end_args->off, end_args->len);
        /* An X below that should have ended already ends now. */
        flush_ends (b, time);
      }
      break;
    case REC_INSTANT:
      build_append (b, time, lane, IL_EVENT_INSTANT, 0, 0, r->arg);
      break;
    case REC_COUNTER:
      build_append (b, time, lane, IL_EVENT_COUNTER, 0, 0, r->arg);
      break;
    case REC_FLOW:
      build_append (b, time, lane, IL_EVENT_FLOW, rec_value (r), 0, r->arg);
      break;
    default:
      break;
    }
}

/* The sorted blocks merged into one stream of records, in chunks, by a
 * thread of its own: the core that read the second half is idle while
 * the trace is built, and merging is a third of building.  Each block's
 * memory goes back as soon as it is used up.  A chunk that is not full
 * is the last. */
#define MERGE_CHUNK  4096
#define MERGE_CHUNKS 8

typedef struct {
  Rec  recs[MERGE_CHUNK];
  guint n;
} MergeChunk;

typedef struct {
  Block      **blocks;
  guint        n_blocks;
  GAsyncQueue *full, *empty;
  GThread     *thread;
} Merger;

static gpointer
merger_run (gpointer data)
{
  Merger *m = data;
  Block **blocks = m->blocks;
  guint n_heap = m->n_blocks;
  g_autofree guint32 *heap = g_new (guint32, MAX (n_heap, 1));
  MergeChunk *c = g_async_queue_pop (m->empty);

  for (guint i = 0; i < n_heap; i++)
    heap[i] = i;
  for (guint k = n_heap / 2; k > 0; k--)
    merge_sift_down (blocks, heap, n_heap, k - 1);
  c->n = 0;
  while (n_heap > 0)
    {
      Block *top = blocks[heap[0]];

      c->recs[c->n++] = top->recs[top->pos++];
      /* Next from the same block, or the block is done with. */
      if (top->pos == top->n)
        {
          block_recs_free (g_steal_pointer (&top->recs));
          heap[0] = heap[--n_heap];
        }
      if (n_heap > 1)
        merge_sift_down (blocks, heap, n_heap, 0);
      if (c->n == MERGE_CHUNK)
        {
          g_async_queue_push (m->full, c);
          c = g_async_queue_pop (m->empty);
          c->n = 0;
        }
    }
  g_async_queue_push (m->full, c);   /* not full: the end */
  return NULL;
}

static void
merger_start (Merger  *m,
              Block  **blocks,
              guint    n_blocks)
{
  m->blocks = blocks;
  m->n_blocks = n_blocks;
  m->full = g_async_queue_new ();
  m->empty = g_async_queue_new_full (g_free);
  for (guint i = 0; i < MERGE_CHUNKS; i++)
    g_async_queue_push (m->empty, g_new (MergeChunk, 1));
  m->thread = g_thread_new ("chrome-merge", merger_run, m);
}

static void
merger_finish (Merger *m)
{
  g_thread_join (m->thread);
  g_async_queue_unref (m->full);
  g_async_queue_unref (m->empty);
}

static void
build_trace (Parse *p)
{
  IlTrace *t = p->trace;
  IlChromeImportInfo *info = p->info;
  guint n_lanes = p->lanes->len;
  g_autofree guint32 *order = g_new (guint32, MAX (n_lanes, 1));
  g_autofree guint32 *map = g_new (guint32, MAX (n_lanes, 1));
  g_autofree guint32 *proc_lane = g_new (guint32, MAX (p->processes->len, 1));
  g_autofree Stack *stacks = g_new0 (Stack, MAX (n_lanes, 1));
  g_autofree Pending *ends_heap = g_new (Pending, MAX (n_lanes, 1));
  g_autofree guint32 *ends_pos = g_new (guint32, MAX (n_lanes, 1));
  guint threads_with_slices = 0, processes_drawn = 0;
  Block **blocks = (Block **) p->blocks->pdata;
  Merger m;
  gint64 base = p->any_ts ? p->min_ts : 0;
  gint64 last = p->any_ts ? p->max_ts - base : 0;
  Build b = { t, info, map, stacks, { ends_heap, ends_pos, 0 }, base, 0, NULL, 0, 0, NULL };

  for (guint i = 0; i < p->processes->len; i++)
    proc_lane[i] = IL_NO_LANE;
  for (guint i = 0; i < n_lanes; i++)
    order[i] = i, ends_pos[i] = G_MAXUINT32;
  g_qsort_with_data (order, n_lanes, sizeof (guint32), compare_lanes, p);

  /* Lanes: a process lane before the first lane of each process. */
  for (guint k = 0; k < n_lanes; k++)
    {
      ProtoLane *l = &g_array_index (p->lanes, ProtoLane, order[k]);
      guint32 pi = GPOINTER_TO_UINT (g_hash_table_lookup (p->process_ids, &l->pid)) - 1;
      ProtoProcess *proc = &g_array_index (p->processes, ProtoProcess, pi);
      g_autofree char *name = NULL;

      /* Named by metadata but without events: nothing to draw. */
      if (!l->has_recs)
        {
          map[order[k]] = IL_NO_LANE;
          continue;
        }
      if (proc_lane[pi] == IL_NO_LANE)
        {
          g_autofree char *pid = id_text (p, proc->pid);
          g_autofree char *pname = proc->name ? g_strdup_printf ("%s (pid %s)", proc->name, pid)
                                   : g_strdup_printf ("Process %s", pid);
          processes_drawn++;
          proc_lane[pi] = il_trace_add_lane (t, IL_LANE_PROCESS, pname, IL_NO_LANE, (guint32) proc->pid);
        }
      if (l->name != NULL)
        name = g_strdup (l->name);
      else if (l->kind == IL_LANE_TASK)
        name = g_strdup ("async");
      else
        {
          g_autofree char *tid = id_text (p, l->tid);
          name = g_strdup_printf ("Thread %s", tid);
        }
      map[order[k]] = il_trace_add_lane (t, l->kind, name, proc_lane[pi], (guint32) l->tid);
      if (l->has_slices && l->kind != IL_LANE_COUNTER)
        threads_with_slices++;
    }
  /* Processes known from metadata only are reported apart. */
  info->n_processes = processes_drawn;
  info->n_metadata_processes = p->processes->len - processes_drawn;
  info->n_threads = threads_with_slices;

  /* The last block went to the sorter when reading ended: wait for it. */
  g_assert (p->block == NULL);
  if (p->sorter != NULL)
    g_thread_pool_free (g_steal_pointer (&p->sorter), FALSE, TRUE);
  /* In the order the merge below meets the flagged records. */
  g_array_sort (p->args, compare_args);
  b.args = (const ArgsRec *) (gconstpointer) p->args->data;
  b.n_args = p->args->len;
  if (p->args->len > 0)
    {
      b.slice_args = g_new0 (IlChromeArgs, 1);
      b.slice_args->entries = g_array_sized_new (FALSE, FALSE, sizeof (ArgsEntry), p->args->len);
    }
  il_trace_reserve (t, p->n_trace_events);
  /* The lane indices are built in one pass after the merge. */
  il_trace_begin_bulk (t);
  /* Per lane a stack of open slices; depth is its height.  Unmatched
   * ends are dropped; what is open at the end closes at the last time.
   * The sorted blocks are merged into one stream on another thread. */
  merger_start (&m, blocks, p->blocks->len);
  for (;;)
    {
      MergeChunk *chunk = g_async_queue_pop (m.full);
      guint n = chunk->n;

      for (guint i = 0; i < n; i++)
        build_rec (&b, &chunk->recs[i]);
      g_async_queue_push (m.empty, chunk);
      if (n < MERGE_CHUNK)
        break;
    }
  merger_finish (&m);
  flush_ends (&b, G_MAXINT64);
  for (guint i = 0; i < n_lanes; i++)
    {
      Stack *stack = &stacks[i];
      while (stack->len > 0)
        {
          if (stack->data[stack->len - 1].end == OPEN_UNKNOWN)
            info->n_unmatched++;
          close_top (&b, i, last);
          flush_ends (&b, G_MAXINT64);
        }
      g_free (stack->data);
    }
  /* Before the lane indices take their memory. */
  g_clear_pointer (&p->args, g_array_unref);
  il_trace_end_bulk (t);
  if (b.slice_args != NULL)
    {
      /* An E's args were noted as it came, its B's by the B's event. */
      if (b.slice_args->end_entries != NULL)
        g_array_sort (b.slice_args->end_entries, compare_entries);
      /* Slices, not texts: a slice whose B and E args were both
       * dropped is one, as it is once saved. */
      b.slice_args->n_dropped = count_not_kept (b.slice_args);
      if (p->args_copy != NULL)
        b.slice_args->copy = g_byte_array_free_to_bytes (g_steal_pointer (&p->args_copy));
      b.slice_args->path = g_steal_pointer (&p->args_path);
      b.slice_args->size = p->args_size;
      b.slice_args->mtime = p->args_mtime;
      t->slice_args = b.slice_args;
      t->slice_args_free = chrome_args_free;
    }
  il_trace_set_end_time (t, MAX (last, b.now));
  il_trace_reserve (t, 0);   /* give back what growing by half left unused */
  t->finished = TRUE;
  info->first_ts_ns = p->any_ts ? p->min_ts : 0;
  info->last_ts_ns = p->any_ts ? p->max_ts : 0;
}

static void
parse_clear (Parse *p)
{
  Cur *c = &p->cur;

  cur_reset (c);
  g_clear_pointer (&c->counter_keys, g_ptr_array_unref);
  g_clear_pointer (&c->counter_vals, g_array_unref);
  if (c->name != NULL)
    {
      g_string_free (c->name, TRUE);
      g_string_free (c->cat, TRUE);
      g_string_free (c->id, TRUE);
      g_string_free (c->bind_id, TRUE);
      g_string_free (c->scope, TRUE);
      g_string_free (c->pid_text, TRUE);
      g_string_free (c->tid_text, TRUE);
      c->name = NULL;
    }
  if (p->sorter != NULL)
    g_thread_pool_free (g_steal_pointer (&p->sorter), FALSE, TRUE);   /* wait: it uses the blocks */
  g_clear_pointer (&p->blocks, g_ptr_array_unref);
  g_clear_pointer (&p->names, g_free);
  if (p->lanes != NULL)
    for (guint i = 0; i < p->lanes->len; i++)
      g_free (g_array_index (p->lanes, ProtoLane, i).name);
  if (p->processes != NULL)
    for (guint i = 0; i < p->processes->len; i++)
      g_free (g_array_index (p->processes, ProtoProcess, i).name);
  g_clear_pointer (&p->lanes, g_array_unref);
  g_clear_pointer (&p->processes, g_array_unref);
  g_clear_pointer (&p->lane_ids, g_hash_table_unref);
  g_clear_pointer (&p->process_ids, g_hash_table_unref);
  g_clear_pointer (&p->flow_ids, g_hash_table_unref);
  g_clear_pointer (&p->texts, g_ptr_array_unref);
  g_clear_pointer (&p->text_ids, g_hash_table_unref);
  g_clear_pointer (&p->args, g_array_unref);
  g_clear_pointer (&p->args_copy, g_byte_array_unref);
  g_clear_pointer (&p->args_path, g_free);
  g_clear_pointer (&p->trace, il_trace_unref);
}

static void
block_free (gpointer data)
{
  Block *b = data;
  if (b->recs != NULL)
    block_recs_free (b->recs);
  g_free (b);
}

static void
parse_init (Parse              *p,
            const char         *name,
            IlChromeImportInfo *info)
{
  memset (p, 0, sizeof *p);
  p->name = name;
  p->info = info;
  p->blocks = g_ptr_array_new_with_free_func (block_free);
  p->sorter = g_thread_pool_new (sort_block, NULL, 1, FALSE, NULL);
  p->lanes = g_array_new (FALSE, FALSE, sizeof (ProtoLane));
  p->processes = g_array_new (FALSE, FALSE, sizeof (ProtoProcess));
  p->lane_ids = g_hash_table_new_full (lane_key_hash, lane_key_equal, g_free, NULL);
  p->process_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  p->flow_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->text_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->texts = g_ptr_array_new ();
  p->args = g_array_new (FALSE, FALSE, sizeof (ArgsRec));
  p->trace = il_trace_new ();
  for (guint i = 0; i < LANE_CACHE; i++)
    p->lane_cache[i].lane = IL_NO_LANE;
  p->names = g_new0 (NameSlot, NAME_CACHE);
  p->cur.name = g_string_new (NULL);
  p->cur.cat = g_string_new (NULL);
  p->cur.id = g_string_new (NULL);
  p->cur.bind_id = g_string_new (NULL);
  p->cur.scope = g_string_new (NULL);
  p->cur.pid_text = g_string_new (NULL);
  p->cur.tid_text = g_string_new (NULL);
}

typedef gssize (*ReadFunc) (gpointer data, guint8 *buf, gsize len, GError **error);

/* Where the JSON comes from: memory, a file, or gzip over either.  raw is
 * how far into the file (or buffer) reading got: for gzip that of the
 * source below, so progress is measured in compressed bytes.  Plain
 * memory is read in place (direct). */
typedef struct {
  ReadFunc      read;
  gpointer      data;
  guint64       raw;
  const guint8 *direct;
  gsize         direct_len;
} Source;

/* The window the reader works on, and what has gone before it: lines and
 * the start of the last line, for messages. */
typedef struct {
  guint8  *buf;
  gsize    cap, len;
  guint64  base;          /* file offset of buf[0] */
  guint64  lines_before;  /* newlines before buf[0] */
  guint64  line_start;    /* file offset where the line at buf[0] starts */
} Window;

typedef struct {
  Source *src;
  FILE   *f;
} FileReader;

static gssize
read_file (gpointer data, guint8 *buf, gsize len, GError **error)
{
  FileReader *r = data;
  size_t n = fread (buf, 1, len, r->f);
  if (n == 0 && ferror (r->f))
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return -1;
    }
  r->src->raw += n;
  return (gssize) n;
}

/* Line of offset at in the window, and where that line starts. */
static void
place_of (const Window *w,
          const guint8 *s,
          gsize         at,
          guint64      *line,
          guint64      *line_start)
{
  const guint8 *p = s, *end = s + at;

  *line = w->lines_before + 1;
  *line_start = w->line_start;
  while ((p = memchr (p, '\n', (gsize) (end - p))) != NULL)
    {
      (*line)++;
      p++;
      *line_start = w->base + (guint64) (p - s);
    }
}

/* Drops the first n bytes of the window, counting their lines. */
static void
window_drop (Window *w,
             gsize   n)
{
  const guint8 *p = w->buf, *end = w->buf + n;

  while ((p = memchr (p, '\n', (gsize) (end - p))) != NULL)
    {
      w->lines_before++;
      p++;
      w->line_start = w->base + (guint64) (p - w->buf);
    }
  memmove (w->buf, w->buf + n, w->len - n);
  w->len -= n;
  w->base += n;
}

#define WINDOW_SIZE (4u << 20)
#define READ_SIZE   (1u << 20)

/* What stopped reading early, with its place when it has one. */
typedef struct {
  char    *what;
  gboolean has_place;
  gboolean ends_early;
  guint64  line, column, byte;
} Damage;

static void
damage_set (Damage       *d,
            const Window *w,
            const guint8 *s,
            gsize         at,
            gboolean      ends_early,
            const char   *what)
{
  guint64 line_start;

  place_of (w, s, at, &d->line, &line_start);
  d->byte = w->base + at;
  d->column = d->byte - line_start + 1;
  d->has_place = TRUE;
  d->ends_early = ends_early;
  d->what = g_strdup (what);
}

static char *
damage_text (const Damage *d)
{
  if (d->what == NULL)
    return NULL;
  if (!d->has_place)
    return g_strdup (d->what);
  return g_strdup_printf ("%s%sline %" G_GUINT64_FORMAT ", column %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT ")%s%s",
                          d->ends_early ? d->what : "", d->ends_early ? ", at " : "", d->line, d->column, d->byte,
                          d->ends_early ? "" : ": ", d->ends_early ? "" : d->what);
}

/* One reading of (part of) a file into a Parse. */
typedef struct {
  Parse          p;
  IlChromeImportInfo own_info;  /* the second half's, merged later */
  Source        *src;
  Window         w;
  Lex            l;
  Outer          o;
  Damage         damage;
  gboolean       cancelled;
  gboolean       stopped;       /* at l.stop_at: the other half goes on from there */
  GCancellable  *cancellable;
  gint          *abort;         /* the other half says: stop, your part is not needed */
  IlProgressFunc progress;
  gpointer       progress_data;
  const guint64 *raw;
  guint64        total;
} Reader;

static void
reader_run (Reader *r)
{
  Lex *l = &r->l;
  Window *w = &r->w;

  for (;;)
    {
      gsize safe = 0;
      Scan st;

      if (r->src->direct != NULL)
        {
          /* All of it is here: no copy. */
          l->s = r->src->direct;
          l->len = r->src->direct_len;
          l->eof = TRUE;
        }
      else
        {
          GError *rerror = NULL;
          gssize n;

          if (w->len == w->cap)
            {
              w->cap = MAX (WINDOW_SIZE, w->cap * 2);   /* an event longer than the window */
              w->buf = g_realloc (w->buf, w->cap);
            }
          /* 1 MB at a time: progress and cancelling stay lively. */
          n = r->src->read (r->src->data, w->buf + w->len, MIN (w->cap - w->len, READ_SIZE), &rerror);
          if (n < 0)
            {
              r->damage.what = g_strdup_printf ("reading stopped at byte %" G_GUINT64_FORMAT ": %s",
                                                w->base + w->len, rerror->message);
              g_error_free (rerror);
              break;
            }
          w->len += (gsize) n;
          l->s = w->buf;
          l->len = w->len;
          l->eof = n == 0;
        }
      l->pos = 0;
      l->base = w->base;
      st = parse_outer (&r->p, l, &r->o, &safe);
      if (st == SCAN_STOP)
        {
          r->stopped = TRUE;
          break;
        }
      if (st == SCAN_ERROR)
        {
          damage_set (&r->damage, w, l->s, l->error_at, FALSE, l->error);
          break;
        }
      if (st == SCAN_OK)
        break;
      if (l->eof && r->o.top == TOP_START)
        {
          r->damage.what = g_strdup (w->base + l->len == 0 ? "the file is empty" : "there is only whitespace in it");
          break;
        }
      if (l->eof)
        {
          damage_set (&r->damage, w, l->s, l->len, TRUE, "the file ends early");
          break;
        }
      window_drop (w, safe);
      if (r->progress != NULL && r->total > 0)
        r->progress (MIN (1.0, (double) *r->raw / r->total), r->progress_data);
      if (g_cancellable_is_cancelled (r->cancellable))
        {
          r->cancelled = TRUE;
          break;
        }
      if (r->abort != NULL && g_atomic_int_get (r->abort))
        break;
    }
  if (r->p.too_large && r->damage.what == NULL)
    r->damage.what = g_strdup ("too many events for memory; the rest was not loaded");
}

static void
reader_init (Reader             *r,
             Source             *src,
             const char         *name,
             IlChromeImportInfo *info)
{
  memset (r, 0, sizeof *r);
  parse_init (&r->p, name, info != NULL ? info : &r->own_info);
  r->src = src;
  r->l.scratch = g_string_new (NULL);
  r->l.stop_at = G_MAXUINT64;
  r->o.top = TOP_START;
}

static void
reader_clear (Reader *r)
{
  parse_clear (&r->p);
  g_free (r->w.buf);
  g_string_free (r->l.scratch, TRUE);
  g_free (r->damage.what);
  il_chrome_import_info_clear (&r->own_info);
}

/* Moves what q read (the later part of the file) into p, as if p had
 * read it: strings, text ids, processes, lanes and flow ids are looked up
 * again in p's tables and q's records renumbered. */
static void
merge_parse (Parse *p,
             Parse *q)
{
  IlChromeImportInfo *pi = p->info, *qi = q->info;
  guint n_strings = q->trace->strings->len;
  g_autofree guint32 *str_map = g_new (guint32, MAX (n_strings, 1));
  g_autofree guint32 *lane_map = g_new (guint32, MAX (q->lanes->len, 1));
  g_autofree guint32 *flow_map = g_new (guint32, MAX (g_hash_table_size (q->flow_ids), 1));
  g_autoptr(GHashTable) text_map = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer k, v;

#define REMAP(id) (((id) >> 40) == 1 && g_hash_table_contains (text_map, &(id)) \
                   ? *(gint64 *) g_hash_table_lookup (text_map, &(id)) : (id))
  for (guint i = 0; i < n_strings; i++)
    str_map[i] = il_trace_intern (p->trace, g_ptr_array_index (q->trace->strings, i));
  g_hash_table_iter_init (&iter, q->text_ids);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      gint64 from = G_GINT64_CONSTANT (1) << 40 | (gint64) GPOINTER_TO_SIZE (v);
      gint64 to = text_id (p, k);
      g_hash_table_insert (text_map, g_memdup2 (&from, sizeof from), g_memdup2 (&to, sizeof to));
    }
  g_hash_table_iter_init (&iter, q->flow_ids);
  while (g_hash_table_iter_next (&iter, &k, &v))
    flow_map[GPOINTER_TO_UINT (v) - 1] = flow_number (p, "", k);
  for (guint i = 0; i < q->processes->len; i++)
    {
      ProtoProcess *from = &g_array_index (q->processes, ProtoProcess, i);
      ProtoProcess *to = &g_array_index (p->processes, ProtoProcess, process_index (p, REMAP (from->pid)));
      if (from->name != NULL)
        {
          g_free (to->name);
          to->name = g_strdup (from->name);
        }
      if (from->has_sort)
        to->sort = from->sort, to->has_sort = TRUE;
    }
  for (guint i = 0; i < q->lanes->len; i++)
    {
      ProtoLane *from = &g_array_index (q->lanes, ProtoLane, i);
      ProtoLane *to;
      lane_map[i] = lane_index (p, from->kind, REMAP (from->pid), REMAP (from->tid),
                                from->series == G_MAXUINT32 ? G_MAXUINT32 : str_map[from->series]);
      if (lane_map[i] == IL_NO_LANE)
        continue;
      to = &g_array_index (p->lanes, ProtoLane, lane_map[i]);
      /* Later metadata wins, as when one thread reads it all; an async
       * lane keeps the name of its first begin. */
      if (from->name != NULL && from->kind == IL_LANE_THREAD)
        {
          g_free (to->name);
          to->name = g_strdup (from->name);
        }
      else if (from->name != NULL && to->name == NULL)
        to->name = g_strdup (from->name);
      if (from->has_sort)
        to->sort = from->sort, to->has_sort = TRUE;
      to->has_slices |= from->has_slices;
      to->has_recs |= from->has_recs;
    }
#undef REMAP

  /* Both halves' last blocks are sorted already (the first half's by
   * its sorter, the second's by its own thread): q's blocks follow p's. */
  g_assert (p->block == NULL && q->block == NULL);
  for (guint b = 0; b < q->blocks->len; b++)
    {
      Block *blk = g_ptr_array_index (q->blocks, b);
      for (guint i = 0; i < blk->n; i++)
        {
          Rec *r = &blk->recs[i];
          RecType type = rec_type (r);
          guint32 lane = lane_map[rec_lane (r)];
          if (lane == IL_NO_LANE)
            {
              p->too_large = TRUE;
              lane = 0;
            }
          r->packed = lane | (r->packed & ~(REC_MAX_LANES - 1));
          if (type == REC_FLOW)
            r->arg = flow_map[r->arg];
          else if (type != REC_COUNTER)
            r->arg = str_map[r->arg];
        }
      g_ptr_array_add (p->blocks, blk);
    }
  g_ptr_array_set_free_func (q->blocks, NULL);
  g_ptr_array_set_size (q->blocks, 0);

  p->n_recs += q->n_recs;
  p->n_trace_events += q->n_trace_events;
  /* Offsets are the file's: q's args follow p's, as its blocks do. */
  g_array_append_vals (p->args, q->args->data, q->args->len);
  if (q->any_ts)
    {
      note_time (p, q->min_ts);
      note_time (p, q->max_ts);
    }
  p->too_large |= q->too_large;
  pi->n_events_read += qi->n_events_read;
  pi->n_slices += qi->n_slices;
  pi->n_instants += qi->n_instants;
  pi->n_counters += qi->n_counters;
  pi->n_flows += qi->n_flows;
  pi->n_async += qi->n_async;
  pi->n_skipped += qi->n_skipped;
  for (guint w = 0; w < IL_CHROME_N_SKIPS; w++)
    pi->n_skipped_why[w] += qi->n_skipped_why[w];
  if (qi->skipped_phases != NULL)
    {
      if (pi->skipped_phases == NULL)
        pi->skipped_phases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_iter_init (&iter, qi->skipped_phases);
      while (g_hash_table_iter_next (&iter, &k, &v))
        {
          gpointer old = g_hash_table_lookup (pi->skipped_phases, k);
          g_hash_table_replace (pi->skipped_phases, g_strdup (k),
                                GUINT_TO_POINTER (GPOINTER_TO_UINT (old) + GPOINTER_TO_UINT (v)));
        }
    }
}

/* Big plain files are read by two threads: the second from an event near
 * the middle.  Where an event starts is only known for sure once the
 * first thread gets there; if it never does (the guess was inside a
 * string, say), the first thread reads on and the second's work is
 * dropped. */
#define SPLIT_MIN (32u << 20)

typedef struct {
  Reader     r;
  Source     src;
  FILE      *f;
  FileReader fr;
  GThread   *thread;
  gint       abort;
} SecondHalf;

static gpointer
second_half_run (gpointer data)
{
  SecondHalf *h = data;
  reader_run (&h->r);
  /* Its last block too, here rather than on the thread that builds. */
  if (h->r.p.block != NULL)
    sort_block (g_steal_pointer (&h->r.p.block), NULL);
  return NULL;
}

/* An offset near the middle where an event seems to start: "}, {". */
static guint64
guess_split (FILE     *f,
             guint64   total,
             gboolean *array_form)
{
  guint8 buf[1 << 16];
  gsize n = fread (buf, 1, 64, f);

  /* [event, …] or {…}: the second half must know which it is in. */
  for (gsize i = 0; i < n; i++)
    if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t')
      {
        *array_form = buf[i] == '[';
        break;
      }
  if (fseeko (f, (off_t) (total / 2), SEEK_SET) != 0)
    return 0;
  n = fread (buf, 1, sizeof buf, f);
  rewind (f);
  for (gsize i = 0; i < n; i++)
    if (buf[i] == '}')
      {
        gsize j = i + 1;
        while (j < n && (buf[j] == ' ' || buf[j] == '\n' || buf[j] == '\r' || buf[j] == '\t'))
          j++;
        if (j >= n || buf[j] != ',')
          continue;
        j++;
        while (j < n && (buf[j] == ' ' || buf[j] == '\n' || buf[j] == '\r' || buf[j] == '\t'))
          j++;
        if (j < n && buf[j] == '{')
          return total / 2 + j;
      }
  return 0;
}

static IlTrace *
import_stream (Source             *src,
               const guint64      *raw,
               guint64             total,
               const char         *name,
               IlChromeImportInfo *info_out,
               const char         *split_path,
               IlProgressFunc      progress,
               gpointer            progress_data,
               GCancellable       *cancellable,
               GError            **error)
{
  IlChromeImportInfo local_info = { 0 };
  IlChromeImportInfo *info = info_out != NULL ? info_out : &local_info;
  Reader r;
  SecondHalf *half = NULL;
  g_autofree char *damage = NULL;
  Damage *d;
  gboolean cancelled;
  IlTrace *result = NULL;

  memset (info, 0, sizeof *info);
  reader_init (&r, src, name, info);
  /* A plain file is read again for a slice's args; anything else is copied. */
  {
    GStatBuf st;
    if (split_path != NULL && g_stat (split_path, &st) == 0)
      {
        r.p.args_path = g_canonicalize_filename (split_path, NULL);
        r.p.args_size = st.st_size;
        r.p.args_mtime = st.st_mtime;
      }
    else
      r.p.args_copy = g_byte_array_new ();
  }
  r.cancellable = cancellable;
  r.progress = progress;
  r.progress_data = progress_data;
  r.raw = raw;
  r.total = total;

  if (split_path != NULL && total >= SPLIT_MIN)
    {
      FILE *f = fopen (split_path, "rb");
      gboolean array_form = FALSE;
      guint64 split = f != NULL ? guess_split (f, total, &array_form) : 0;

      if (split > 0 && fseeko (f, (off_t) split, SEEK_SET) == 0)
        {
          half = g_new0 (SecondHalf, 1);
          half->f = f;
          half->src = (Source) { read_file, &half->fr, split, NULL, 0 };
          half->fr = (FileReader) { &half->src, f };
          reader_init (&half->r, &half->src, name, NULL);
          g_thread_pool_free (g_steal_pointer (&half->r.p.sorter), FALSE, TRUE);   /* sorts its own */
          half->r.w.base = half->r.w.line_start = split;
          half->r.o = (Outer) { TOP_EVENT, array_form, TRUE };
          half->r.cancellable = cancellable;
          half->r.abort = &half->abort;
          r.l.stop_at = split;
          r.total = split;   /* progress: the first half's share */
          half->thread = g_thread_new ("chrome-import", second_half_run, half);
        }
      else if (f != NULL)
        fclose (f);
    }

  reader_run (&r);
  /* The last block is sorted while the second half may still be read
   * (the first half always has its sorter). */
  g_assert (r.p.sorter != NULL);
  if (r.p.block != NULL)
    g_thread_pool_push (r.p.sorter, g_steal_pointer (&r.p.block), NULL);
  d = &r.damage;
  cancelled = r.cancelled;
  if (half != NULL)
    {
      if (!r.stopped)
        g_atomic_int_set (&half->abort, 1);   /* not needed: the first half read it all */
      g_thread_join (half->thread);
      if (r.stopped)
        {
          /* The second half's places count from the split: add what came before. */
          guint64 lines, line_start;
          place_of (&r.w, r.l.s, r.l.pos, &lines, &line_start);
          if (half->r.damage.has_place)
            {
              if (half->r.damage.line == 1)
                half->r.damage.column += r.l.base + r.l.pos - line_start;
              half->r.damage.line += lines - 1;
            }
          merge_parse (&r.p, &half->r.p);
          d = &half->r.damage;
          cancelled |= half->r.cancelled;
        }
      fclose (half->f);
    }
  damage = damage_text (d);

  /* Building needs only the records: give back what reading used (the
   * second half's tables, both windows, the reading threads' free heap
   * memory) before the trace's columns fill, since that is the peak. */
  if (half != NULL)
    {
      reader_clear (&half->r);
      g_clear_pointer (&half, g_free);
    }
  g_clear_pointer (&r.w.buf, g_free);
  r.w.cap = r.w.len = 0;
#ifdef __GLIBC__
  malloc_trim (0);
#endif

  if (cancelled)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CANCELLED, "%s: loading cancelled", name);
  else if (r.p.n_recs == 0 && damage != NULL)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_PARSE, "%s: not a readable trace: %s", name, damage);
  else if (r.p.n_recs == 0)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_EMPTY,
                 "%s: no trace events to show (%" G_GUINT64_FORMAT " read, %" G_GUINT64_FORMAT " skipped)",
                 name, info->n_events_read, info->n_skipped);
  else
    {
      build_trace (&r.p);
      if (damage != NULL)
        {
          info->truncated = TRUE;
          info->warning = g_strdup_printf ("%s is damaged (%s); showing the %" G_GUINT64_FORMAT " events before that",
                                           name, damage, info->n_events_read);
        }
      r.p.trace->source = g_strdup_printf ("Chrome trace: %s", name);
      result = g_steal_pointer (&r.p.trace);
    }
  if (progress != NULL && total > 0 && !cancelled)
    progress (1.0, progress_data);
  reader_clear (&r);
  if (info == &local_info)
    il_chrome_import_info_clear (&local_info);
  return result;
}

typedef struct {
  Source       *src;
  const guint8 *data;
  gsize         len, off;
} MemReader;

static gssize
read_memory (gpointer data, guint8 *buf, gsize len, GError **error)
{
  MemReader *m = data;
  gsize n = MIN (len, m->len - m->off);
  memcpy (buf, m->data + m->off, n);
  m->off += n;
  m->src->raw = m->off;
  return (gssize) n;
}

/* gzip (PyTorch's export_chrome_trace, Lighthouse): inflated as it is
 * read, several members one after the other as gzip(1) does. */
#define GZIP_IN_SIZE (256 * 1024)

typedef struct {
  Source   inner;
  z_stream z;
  guint8  *in;
  gboolean inner_eof;
  gboolean done;
  gboolean cut;      /* the compressed data ended before its end mark */
} GzipReader;

static gboolean
is_gzip (const guint8 *data,
         gsize         len)
{
  return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

static gssize
read_gzip (gpointer data, guint8 *buf, gsize len, GError **error)
{
  GzipReader *g = data;

  g->z.next_out = buf;
  g->z.avail_out = (uInt) len;
  while (g->z.avail_out == len && !g->done)
    {
      int st;
      if (g->z.avail_in == 0 && !g->inner_eof)
        {
          gssize n = g->inner.read (g->inner.data, g->in, GZIP_IN_SIZE, error);
          if (n < 0)
            return -1;
          g->inner_eof = n == 0;
          g->z.next_in = g->in;
          g->z.avail_in = (uInt) n;
        }
      if (g->z.avail_in == 0 && g->inner_eof)
        {
          g->cut = TRUE;   /* the JSON parser says where, when the JSON is cut too */
          break;
        }
      st = inflate (&g->z, Z_NO_FLUSH);
      if (st == Z_STREAM_END)
        {
          /* Another member may follow; anything else ends the data. */
          if (g->z.avail_in == 0 && !g->inner_eof)
            {
              gssize n = g->inner.read (g->inner.data, g->in, GZIP_IN_SIZE, error);
              if (n < 0)
                return -1;
              g->inner_eof = n == 0;
              g->z.next_in = g->in;
              g->z.avail_in = (uInt) n;
            }
          if (is_gzip (g->z.next_in, g->z.avail_in))
            inflateReset (&g->z);
          else
            g->done = TRUE;
        }
      else if (st != Z_OK && st != Z_BUF_ERROR)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the gzip data is damaged (%s)",
                       g->z.msg ? g->z.msg : "inflate failed");
          return -1;
        }
    }
  return (gssize) (len - g->z.avail_out);
}

/* Inflating runs on a thread of its own, a few chunks ahead of the
 * reader: the two cores share the work of a gzip file.  Chunks are small:
 * they are still there while the trace is built, at the peak of memory. */
#define PIPE_CHUNK  (256u << 10)
#define PIPE_CHUNKS 4

typedef struct {
  guint8 *data;
  gssize  n;       /* bytes, 0 at the end, -1 on error */
  GError *error;
} PipeChunk;

typedef struct {
  GzipReader  *g;
  GAsyncQueue *full, *empty;
  GThread     *thread;
  gint         stop;
  PipeChunk   *cur;        /* being read from */
  gsize        cur_off;
  gboolean     ended;
} GzipPipe;

static gpointer
pipe_inflate (gpointer data)
{
  GzipPipe *pp = data;

  for (;;)
    {
      PipeChunk *c = g_async_queue_pop (pp->empty);
      if (g_atomic_int_get (&pp->stop))
        {
          g_async_queue_push (pp->empty, c);
          return NULL;
        }
      c->n = read_gzip (pp->g, c->data, PIPE_CHUNK, &c->error);
      g_async_queue_push (pp->full, c);
      if (c->n <= 0)
        return NULL;
    }
}

static gssize
read_pipe (gpointer data, guint8 *buf, gsize len, GError **error)
{
  GzipPipe *pp = data;
  gsize n;

  if (pp->ended)
    return 0;
  if (pp->cur == NULL)
    {
      pp->cur = g_async_queue_pop (pp->full);
      pp->cur_off = 0;
      if (pp->cur->n <= 0)
        {
          pp->ended = TRUE;
          if (pp->cur->n < 0)
            {
              g_propagate_error (error, g_steal_pointer (&pp->cur->error));
              return -1;
            }
          return 0;
        }
    }
  n = MIN (len, (gsize) pp->cur->n - pp->cur_off);
  memcpy (buf, pp->cur->data + pp->cur_off, n);
  pp->cur_off += n;
  if (pp->cur_off == (gsize) pp->cur->n)
    {
      g_async_queue_push (pp->empty, g_steal_pointer (&pp->cur));
    }
  return (gssize) n;
}

static void
pipe_start (GzipPipe   *pp,
            GzipReader *g)
{
  memset (pp, 0, sizeof *pp);
  pp->g = g;
  pp->full = g_async_queue_new ();
  pp->empty = g_async_queue_new ();
  /* One more than can be in flight, so stopping always finds one free. */
  for (guint i = 0; i < PIPE_CHUNKS + 1; i++)
    {
      PipeChunk *c = g_new0 (PipeChunk, 1);
      c->data = g_malloc (PIPE_CHUNK);
      g_async_queue_push (pp->empty, c);
    }
  pp->thread = g_thread_new ("chrome-gunzip", pipe_inflate, pp);
}

static void
pipe_chunk_free (gpointer data)
{
  PipeChunk *c = data;
  g_clear_error (&c->error);
  g_free (c->data);
  g_free (c);
}

static void
pipe_stop (GzipPipe *pp)
{
  PipeChunk *c;

  g_atomic_int_set (&pp->stop, 1);
  if (pp->cur != NULL)
    g_async_queue_push (pp->empty, g_steal_pointer (&pp->cur));
  else
    {
      /* The spare chunk wakes the thread if it waits for a free one. */
      c = g_new0 (PipeChunk, 1);
      c->data = g_malloc (1);
      g_async_queue_push (pp->empty, c);
    }
  g_thread_join (pp->thread);
  while ((c = g_async_queue_try_pop (pp->full)) != NULL)
    pipe_chunk_free (c);
  while ((c = g_async_queue_try_pop (pp->empty)) != NULL)
    pipe_chunk_free (c);
  g_async_queue_unref (pp->full);
  g_async_queue_unref (pp->empty);
}

static IlTrace *
import_source (Source             *src,
               const guint8       *head,
               gsize               head_len,
               guint64             total,
               const char         *name,
               const char         *split_path,
               IlChromeImportInfo *info,
               IlProgressFunc      progress,
               gpointer            progress_data,
               GCancellable       *cancellable,
               GError            **error)
{
  GzipReader g = { 0 };
  GzipPipe pp;
  g_autofree char *gz_name = NULL;
  Source gz = { read_pipe, &pp, 0, NULL, 0 };
  IlChromeImportInfo local_info = { 0 };
  IlTrace *trace;

  if (!is_gzip (head, head_len))
    return import_stream (src, &src->raw, total, name, info, split_path, progress, progress_data, cancellable, error);

  g.inner = *src;
  if (inflateInit2 (&g.z, 15 + 16) != Z_OK)
    {
      g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_PARSE, "%s: cannot start gzip decompression", name);
      return NULL;
    }
  g.in = g_malloc (GZIP_IN_SIZE);
  gz_name = g_strdup_printf ("%s (gzip)", name);
  if (info == NULL)
    info = &local_info;
  pipe_start (&pp, &g);
  trace = import_stream (&gz, &src->raw, total, gz_name, info, NULL, progress, progress_data, cancellable, error);
  if (trace != NULL && info->warning == NULL)
    {
      /* Read to the end mark, whose checksum covers the whole. */
      guint8 rest[4096];
      g_autoptr(GError) rerror = NULL;
      gssize n;
      while ((n = read_pipe (&pp, rest, sizeof rest, &rerror)) > 0)
        ;
      if (n < 0)
        {
          info->truncated = TRUE;
          info->warning = g_strdup_printf ("%s is damaged after the end of the JSON (%s)", gz_name, rerror->message);
        }
    }
  pipe_stop (&pp);   /* after it, g is ours again */
  inflateEnd (&g.z);
  g_free (g.in);
  info->gzip = TRUE;
  /* Complete JSON in a cut-off gzip file: say so all the same. */
  if (trace != NULL && g.cut && info->warning == NULL)
    {
      info->truncated = TRUE;
      info->warning = g_strdup_printf ("%s ends early: the compressed data is cut off after the end of the JSON",
                                       gz_name);
    }
  il_chrome_import_info_clear (&local_info);
  return trace;
}

IlTrace *
il_chrome_import_data (const guint8       *data,
                       gsize               len,
                       const char         *name,
                       IlChromeImportInfo *info,
                       GError            **error)
{
  Source src = { read_memory, NULL, 0, NULL, 0 };
  MemReader m = { &src, data, len, 0 };

  src.data = &m;
  if (!is_gzip (data, len))
    {
      src.direct = data;
      src.direct_len = len;
    }
  return import_source (&src, data, len, len, name, NULL, info, NULL, NULL, NULL, error);
}

/* Importing needs about a third of a byte of memory per byte of JSON at
 * its peak (bench-import: 0.32 for VizTracer-like files, more for files
 * with shorter events); a margin. */
#define IMPORT_BYTES_PER_FILE_BYTE 0.45

IlTrace *
il_chrome_import (const char         *path,
                  IlChromeImportInfo *info,
                  IlProgressFunc      progress,
                  gpointer            progress_data,
                  GCancellable       *cancellable,
                  GError            **error)
{
  FILE *f = fopen (path, "rb");
  IlTrace *trace;
  gint64 total = 0;
  guint8 head[2] = { 0 };
  gsize head_len;
  Source src = { read_file, NULL, 0, NULL, 0 };
  FileReader r = { &src, f };

  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  src.data = &r;
  if (fseek (f, 0, SEEK_END) == 0)
    {
      total = ftell (f);
      rewind (f);
    }
  head_len = fread (head, 1, sizeof head, f);
  rewind (f);
  if (!is_gzip (head, head_len))
  {
    /* Refuse up front what cannot fit, rather than be killed half-way. */
    guint64 avail = il_available_memory ();
    if (avail > 0 && total > 0 && total * IMPORT_BYTES_PER_FILE_BYTE > avail)
      {
        g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_TOO_LARGE,
                     "%s: %.1f GB of trace needs about %.1f GB of memory to open, and only %.1f GB is free",
                     path, total / 1e9, total * IMPORT_BYTES_PER_FILE_BYTE / 1e9, avail / 1e9);
        fclose (f);
        return NULL;
      }
  }
  trace = import_source (&src, head, head_len, total > 0 ? (guint64) total : 0, path, path, info,
                         progress, progress_data, cancellable, error);
  fclose (f);
  return trace;
}

/* ------------------------------------------------------- slice args */

/* The args of an E event, for the slice it ends: its B's SLICE_BEGIN
 * event, which the lane's stack of open slices kept. */
static void
note_end_args (IlChromeArgs *a,
               guint32       begin,
               guint64       off,
               guint32       len)
{
  ArgsEntry e = { begin, len, off };

  g_assert (a != NULL);
  if (a->end_entries == NULL)
    a->end_entries = g_array_new (FALSE, FALSE, sizeof (ArgsEntry));
  g_array_append_val (a->end_entries, e);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const ArgsEntry *x = a, *y = b;
  return x->event < y->event ? -1 : x->event > y->event;
}

static const ArgsEntry *
find_entry (const GArray *entries,
            gsize         event)
{
  guint lo = 0, hi = entries != NULL ? entries->len : 0;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const ArgsEntry *m = &g_array_index (entries, ArgsEntry, mid);
      if (m->event == event)
        return m;
      if (m->event < event)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

/* The next slice with args, walking the B and E entries (both by event)
 * together from *bi, *ei: its B's entry and its E's, either NULL.  FALSE
 * at the end. */
static gboolean
next_slice_entries (const IlChromeArgs  *a,
                    guint               *bi,
                    guint               *ei,
                    const ArgsEntry    **b,
                    const ArgsEntry    **e)
{
  guint nb = a->entries->len, ne = a->end_entries != NULL ? a->end_entries->len : 0;
  guint32 event;

  *b = *bi < nb ? &g_array_index (a->entries, ArgsEntry, *bi) : NULL;
  *e = *ei < ne ? &g_array_index (a->end_entries, ArgsEntry, *ei) : NULL;
  if (*b == NULL && *e == NULL)
    return FALSE;
  event = MIN (*b != NULL ? (*b)->event : G_MAXUINT32, *e != NULL ? (*e)->event : G_MAXUINT32);
  if (*b != NULL && (*b)->event == event)
    (*bi)++;
  else
    *b = NULL;
  if (*e != NULL && (*e)->event == event)
    (*ei)++;
  else
    *e = NULL;
  return TRUE;
}

/* Slices some of whose args (their B's or their E's) were not kept. */
static guint64
count_not_kept (const IlChromeArgs *a)
{
  const ArgsEntry *b, *e;
  guint bi = 0, ei = 0;
  guint64 n = 0;

  while (next_slice_entries (a, &bi, &ei, &b, &e))
    n += (b != NULL && b->off == IL_CHROME_ARGS_NOT_KEPT) || (e != NULL && e->off == IL_CHROME_ARGS_NOT_KEPT);
  return n;
}

static void
set_not_kept (const IlChromeArgs  *a,
              GError             **error)
{
  if (a->restored)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_TOO_LARGE,
                 "the args of %" G_GUINT64_FORMAT " slices were not kept when this trace was saved", a->n_dropped);
  else
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_TOO_LARGE,
                 "the args of %" G_GUINT64_FORMAT " slices were not kept: a compressed trace keeps %u MB of them",
                 a->n_dropped, ARGS_COPY_MAX >> 20);
}

/* One args object's text.  *f is the file they are read from again,
 * opened (and checked unchanged) on first use; the caller closes it. */
static char *
read_entry (const IlChromeArgs  *a,
            const ArgsEntry     *e,
            FILE               **f,
            GError             **error)
{
  g_autofree char *text = NULL;
  gboolean ok;

  if (e->off == IL_CHROME_ARGS_NOT_KEPT)
    {
      set_not_kept (a, error);
      return NULL;
    }
  if (a->copy != NULL)
    {
      gsize size;
      const char *data = g_bytes_get_data (a->copy, &size);
      g_return_val_if_fail (e->off <= size && e->len <= size - e->off, NULL);
      return g_strndup (data + e->off, e->len);
    }
  if (a->path == NULL)
    return NULL;
  if (*f == NULL)
    {
      GStatBuf st;
      if (g_stat (a->path, &st) != 0 || st.st_size != a->size || st.st_mtime != a->mtime)
        {
          g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CHANGED,
                       "%s changed or went away since it was opened: its args cannot be read again", a->path);
          return NULL;
        }
      *f = fopen (a->path, "rb");
      if (*f == NULL)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", a->path, g_strerror (saved));
          return NULL;
        }
    }
  text = g_malloc (e->len + 1);
  ok = fseeko (*f, (off_t) e->off, SEEK_SET) == 0 && fread (text, 1, e->len, *f) == e->len;
  text[ok ? e->len : 0] = '\0';
  /* What was there when importing was an object: anything else means the
   * file was rewritten in the same second with the same size. */
  if (!ok || e->len < 2 || text[0] != '{' || text[e->len - 1] != '}')
    {
      g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CHANGED,
                   "%s: byte %" G_GUINT64_FORMAT ": the args are no longer there (the file changed?)",
                   a->path, e->off);
      return NULL;
    }
  return g_steal_pointer (&text);
}

/* B's args with E's merged over them, as one compact object.  Either may
 * be NULL; if one is not an object the other is kept as it is. */
static char *
merge_args (char *begin,
            char *end)
{
  g_autoptr(JsonParser) bp = NULL;
  g_autoptr(JsonParser) ep = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  JsonNode *broot, *eroot;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (begin == NULL || end == NULL)
    return begin != NULL ? begin : end;
  bp = json_parser_new ();
  ep = json_parser_new ();
  if (!json_parser_load_from_data (ep, end, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (eroot = json_parser_get_root (ep)))
    {
      g_free (end);
      return begin;
    }
  if (!json_parser_load_from_data (bp, begin, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (broot = json_parser_get_root (bp)))
    {
      g_free (begin);
      return end;
    }
  json_object_iter_init (&iter, json_node_get_object (eroot));
  while (json_object_iter_next (&iter, &key, &value))
    json_object_set_member (json_node_get_object (broot), key, json_node_copy (value));
  g_free (begin);
  g_free (end);
  gen = json_generator_new ();
  json_generator_set_root (gen, broot);
  return json_generator_to_data (gen, NULL);
}

/* A slice's args from its entries (either may be NULL). */
static char *
read_slice_args (const IlChromeArgs  *a,
                 const ArgsEntry     *b,
                 const ArgsEntry     *e,
                 FILE               **f,
                 GError             **error)
{
  g_autofree char *begin = NULL;
  g_autofree char *end = NULL;

  if (b != NULL && (begin = read_entry (a, b, f, error)) == NULL)
    return NULL;
  if (e != NULL && (end = read_entry (a, e, f, error)) == NULL)
    return NULL;
  return merge_args (g_steal_pointer (&begin), g_steal_pointer (&end));
}

char *
il_chrome_slice_args (const IlTrace *trace,
                      gsize          event,
                      GError       **error)
{
  const IlChromeArgs *a;
  const ArgsEntry *b, *e;
  FILE *f = NULL;
  char *text;

  g_return_val_if_fail (trace != NULL, NULL);
  a = trace->slice_args;
  if (a == NULL)
    return NULL;
  b = find_entry (a->entries, event);
  e = find_entry (a->end_entries, event);
  if (b == NULL && e == NULL)
    return NULL;
  text = read_slice_args (a, b, e, &f, error);
  if (f != NULL)
    fclose (f);
  return text;
}

guint64
il_chrome_slice_args_foreach (const IlTrace    *trace,
                              IlChromeArgsFunc  func,
                              gpointer          user_data)
{
  const IlChromeArgs *a;
  const ArgsEntry *b, *e;
  guint bi = 0, ei = 0;
  guint64 n = 0;
  FILE *f = NULL;
  gboolean readable = TRUE;

  g_return_val_if_fail (trace != NULL && func != NULL, 0);
  a = trace->slice_args;
  if (a == NULL)
    return 0;
  while (next_slice_entries (a, &bi, &ei, &b, &e))
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = readable ? read_slice_args (a, b, e, &f, &error) : NULL;
      gboolean go_on;

      /* A file that changed or went away stays so: the rest of the slices
       * get NULL without a stat (or an open) each. */
      if (error != NULL && !g_error_matches (error, IL_CHROME_ERROR, IL_CHROME_ERROR_TOO_LARGE))
        readable = FALSE;

      n++;
      go_on = func (b != NULL ? b->event : e->event, text, user_data);
      if (!go_on)
        break;
    }
  if (f != NULL)
    fclose (f);
  return n;
}

void
il_chrome_slice_args_restore (IlTrace *trace,
                              GBytes  *texts,
                              GArray  *refs)
{
  IlChromeArgs *a;

  g_return_if_fail (trace != NULL && texts != NULL && refs != NULL);
  g_return_if_fail (trace->slice_args == NULL);
  g_return_if_fail (g_array_get_element_size (refs) == sizeof (ArgsEntry));

  a = g_new0 (IlChromeArgs, 1);
  a->entries = refs;
  a->copy = g_bytes_ref (texts);
  a->restored = TRUE;
  a->n_dropped = count_not_kept (a);
  trace->slice_args = a;
  trace->slice_args_free = chrome_args_free;
}

guint64
il_chrome_slice_args_count (const IlTrace *trace,
                            guint64       *n_not_kept)
{
  const IlChromeArgs *a;
  guint64 n;

  g_return_val_if_fail (trace != NULL, 0);
  a = trace->slice_args;
  if (n_not_kept != NULL)
    *n_not_kept = a != NULL ? a->n_dropped : 0;
  if (a == NULL)
    return 0;
  n = a->entries->len;
  /* Slices whose only args are their E's. */
  if (a->end_entries != NULL)
    for (guint i = 0; i < a->end_entries->len; i++)
      n += find_entry (a->entries, g_array_index (a->end_entries, ArgsEntry, i).event) == NULL;
  return n;
}

/* A value on one line, strings as they are, at most ~200 characters. */
static char *
describe_value (JsonNode *node)
{
  g_autofree char *text = NULL;
  glong n;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    text = g_strdup (json_node_get_string (node));
  else
    text = json_to_string (node, FALSE);
  g_strdelimit (text, "\n\r\t", ' ');
  n = g_utf8_strlen (text, -1);
  if (n > 200)
    {
      char *cut = g_utf8_offset_to_pointer (text, 199);
      *cut = '\0';
      return g_strconcat (text, "…", NULL);
    }
  return g_steal_pointer (&text);
}

static void
describe_members (GString    *out,
                  JsonObject *object)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &key, &value))
    {
      g_autofree char *v = NULL;

      /* VizTracer: {"func_args": {…}, "return_value": …}. */
      if (g_str_equal (key, "return_value"))
        continue;
      if (g_str_equal (key, "func_args") && JSON_NODE_HOLDS_OBJECT (value))
        {
          describe_members (out, json_node_get_object (value));
          continue;
        }
      v = describe_value (value);
      g_string_append_printf (out, "%s: %s\n", key, v);
    }
}

char *
il_chrome_args_describe (const char  *json,
                         char       **returned)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;
  GString *out;

  if (returned != NULL)
    *returned = NULL;
  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  out = g_string_new (NULL);
  describe_members (out, object);
  if (returned != NULL && json_object_has_member (object, "return_value"))
    *returned = describe_value (json_object_get_member (object, "return_value"));
  return g_string_free (out, FALSE);
}
