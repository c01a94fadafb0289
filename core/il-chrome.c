/* il-chrome.c — Chrome Trace Event JSON: export a run, import real traces
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Import streams the file through YAJL's callback parser in 1 MB chunks and
 * keeps each event as a small record; lanes are only created at the end,
 * once every M event (names, sort indexes) has been seen, and records are
 * sorted by time then, because real files are not sorted.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "il-chrome.h"

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

typedef struct {
  IlLaneKind kind;
  gint64     pid;
  gint64     tid;       /* thread id, async id, or counter series */
  guint32    series;    /* counter series name id, or G_MAXUINT32 */
  char      *name;      /* NULL: default */
  double     sort;      /* thread_sort_index */
  gboolean   has_sort;
  gboolean   has_slices;
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
} Key;

/* The event being parsed. */
typedef struct {
  char     ph[4];
  GString *name;
  GString *cat;
  GString *id;
  GString *pid_text, *tid_text;
  char    *arg_name;     /* args.name (M events) */
  double   ts, dur, pid, tid, sort_index;
  gboolean has_name, has_cat, has_id, has_pid_text, has_tid_text;
  gboolean has_ts, has_dur, has_pid, has_tid, has_sort_index, bad;
  GPtrArray *counter_keys; /* of char* */
  GArray  *counter_vals; /* of double */
} Cur;

typedef struct {
  IlLaneKind kind;
  guint32    series;
  gint64     pid, tid;
} LaneKey;

typedef struct {
  const char         *name;
  IlChromeImportInfo *info;
  GArray             *recs;        /* of Rec */
  GArray             *lanes;       /* of ProtoLane */
  GArray             *processes;   /* of ProtoProcess */
  GHashTable         *lane_ids;    /* LaneKey → index + 1 */
  GHashTable         *process_ids; /* pid → index + 1 */
  GHashTable         *flow_ids;    /* id text → number + 1 */
  GHashTable         *text_ids;    /* pid/tid given as strings → number */
  IlTrace            *trace;       /* strings are interned here as they come */
  LaneKey             last_key;    /* one-entry cache in front of lane_ids */
  guint32             last_lane;
  guint32             last_name_id;
  GString            *last_name;   /* one-entry cache in front of il_trace_intern */

  /* Parser position. */
  int       depth;
  int       events_depth;          /* depth of event objects: 2 (array form) or 3 */
  gboolean  in_events_array;       /* inside the list of events */
  gboolean  top_is_object;
  gboolean  in_trace_events_key;   /* the next value is traceEvents */
  gboolean  in_event;
  int       event_depth;
  Key       key;                   /* current key in the event object */
  gboolean  in_args;
  int       args_depth;
  gboolean  in_id2;
  int       id2_depth;
  char      args_key[128];
  gboolean  has_args_key;
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
  c->ts = c->dur = c->pid = c->tid = c->sort_index = 0;
  c->has_name = c->has_cat = c->has_id = c->has_pid_text = c->has_tid_text = FALSE;
  c->has_ts = c->has_dur = c->has_pid = c->has_tid = c->has_sort_index = c->bad = FALSE;
}

static void
skip (Parse      *p,
      const char *phase)
{
  IlChromeImportInfo *info = p->info;
  gpointer old;

  info->n_skipped++;
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
      v = GSIZE_TO_POINTER (g_hash_table_size (p->text_ids) + 1);
      g_hash_table_insert (p->text_ids, g_strdup (text ? text : ""), v);
    }
  /* Far away from real ids. */
  return G_GINT64_CONSTANT (1) << 40 | (gint64) GPOINTER_TO_SIZE (v);
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
  ProtoLane lane = { .kind = kind, .pid = pid, .tid = tid, .series = series };

  if (p->last_lane != IL_NO_LANE && lane_key_equal (&key, &p->last_key))
    return p->last_lane;
  v = g_hash_table_lookup (p->lane_ids, &key);
  if (v == NULL)
    {
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
  p->last_key = key;
  p->last_lane = GPOINTER_TO_UINT (v) - 1;
  return p->last_lane;
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

  if (lane == IL_NO_LANE || p->recs->len >= G_MAXUINT32 / 4)
    {
      p->too_large = TRUE;
      return;
    }
  g_array_append_val (p->recs, r);
  note_time (p, t);
  if (dur > 0)
    note_time (p, t + dur);
}

/* µs as a JSON number → ns; FALSE for values we cannot place on the axis. */
static gboolean
to_ns (double  us,
       gint64 *ns)
{
  if (!isfinite (us) || fabs (us) > 9.0e12)   /* ±104 days: beyond that, junk */
    return FALSE;
  *ns = (gint64) llround (us * 1000.0);
  return TRUE;
}

static guint32
intern_name (Parse *p)
{
  Cur *c = &p->cur;
  const char *s = c->has_name ? c->name->str : "";

  /* Consecutive events often share a name (B then E, samples). */
  if (p->last_name_id != G_MAXUINT32 && g_str_equal (s, p->last_name->str))
    return p->last_name_id;
  g_string_assign (p->last_name, s);
  p->last_name_id = il_trace_intern (p->trace, s);
  return p->last_name_id;
}

static void
mark_slices (Parse   *p,
             guint32  lane)
{
  if (lane != IL_NO_LANE)
    g_array_index (p->lanes, ProtoLane, lane).has_slices = TRUE;
}

static void
finish_event (Parse *p)
{
  Cur *c = &p->cur;
  IlChromeImportInfo *info = p->info;
  gint64 pid, tid, t = 0, dur = 0;
  const char *ph = c->ph;
  guint32 name_id;

  info->n_events_read++;
  pid = c->has_pid_text ? text_id (p, c->pid_text->str) : c->has_pid && fabs (c->pid) < 1e18 ? (gint64) c->pid : 0;
  tid = c->has_tid_text ? text_id (p, c->tid_text->str) : c->has_tid && fabs (c->tid) < 1e18 ? (gint64) c->tid : pid;

  if (ph[0] == 'M')
    {
      const char *name = c->has_name ? c->name->str : "";
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
        skip (p, "M");
      return;
    }

  if (ph[0] == '\0' || ph[1] != '\0' || c->bad || !c->has_ts || !to_ns (c->ts, &t))
    {
      skip (p, ph[0] ? ph : "(no phase)");
      return;
    }

  switch (ph[0])
    {
    case 'X':
      if (!c->has_dur || !to_ns (c->dur, &dur) || dur < 0)
        {
          skip (p, "X with a bad duration");
          return;
        }
      {
        guint32 lane = lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32);
        name_id = intern_name (p);
        mark_slices (p, lane);
        info->n_slices++;
        /* Nothing to draw as a span: keep it as a mark. */
        add_rec (p, t, dur, lane, dur == 0 ? REC_INSTANT : REC_SLICE, 0, name_id);
      }
      return;
    case 'B':
    case 'E':
      {
        guint32 lane = lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32);
        name_id = intern_name (p);
        mark_slices (p, lane);
        add_rec (p, t, 0, lane, ph[0] == 'B' ? REC_BEGIN : REC_END, 1, name_id);
      }
      return;
    case 'i':
    case 'I':
      info->n_instants++;
      name_id = intern_name (p);
      add_rec (p, t, 0, lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32), REC_INSTANT, 0, name_id);
      return;
    case 'C':
      {
        const char *base = c->has_name ? c->name->str : "counter";
        for (guint i = 0; c->counter_keys != NULL && i < c->counter_keys->len; i++)
          {
            const char *k = g_ptr_array_index (c->counter_keys, i);
            g_autofree char *series = c->counter_keys->len == 1 && g_str_equal (k, "value")
                                      ? g_strdup (base) : g_strdup_printf ("%s.%s", base, k);
            double dv = g_array_index (c->counter_vals, double, i);
            if (!isfinite (dv) || fabs (dv) > G_MAXFLOAT)
              {
                skip (p, "C with a bad value");
                continue;
              }
            info->n_counters++;
            add_rec (p, t, 0, lane_index (p, IL_LANE_COUNTER, pid, 0, il_trace_intern (p->trace, series)),
                     REC_COUNTER, 0, il_trace_float_bits ((float) dv));
          }
        if (c->counter_keys == NULL || c->counter_keys->len == 0)
          skip (p, "C without values");
      }
      return;
    case 's':
    case 't':
    case 'f':
      {
        gpointer v;
        if (!c->has_id)
          {
            skip (p, "flow without id");
            return;
          }
        v = g_hash_table_lookup (p->flow_ids, c->id->str);
        if (v == NULL)
          {
            v = GUINT_TO_POINTER (g_hash_table_size (p->flow_ids) + 1);
            g_hash_table_insert (p->flow_ids, g_strdup (c->id->str), v);
          }
        info->n_flows++;
        add_rec (p, t, 0, lane_index (p, IL_LANE_THREAD, pid, tid, G_MAXUINT32), REC_FLOW,
                 ph[0] == 's' ? IL_FLOW_START : ph[0] == 't' ? IL_FLOW_STEP : IL_FLOW_END,
                 GPOINTER_TO_UINT (v) - 1);
      }
      return;
    case 'b':
    case 'e':
    case 'n':
      {
        /* Each async id is its own lane (VizTracer --log_async, Perfetto). */
        g_autofree char *key = g_strdup_printf ("%s/%s", c->has_cat ? c->cat->str : "", c->has_id ? c->id->str : "");
        guint32 lane = lane_index (p, IL_LANE_TASK, pid, text_id (p, key), G_MAXUINT32);
        ProtoLane *pl;
        if (lane == IL_NO_LANE)
          return;
        pl = &g_array_index (p->lanes, ProtoLane, lane);
        info->n_async++;
        if (pl->name == NULL && c->has_name && ph[0] == 'b')
          pl->name = g_strdup (c->name->str);
        pl->has_slices = TRUE;
        name_id = intern_name (p);
        if (ph[0] == 'n')
          add_rec (p, t, 0, lane, REC_INSTANT, 0, name_id);
        else
          add_rec (p, t, 0, lane, ph[0] == 'b' ? REC_BEGIN : REC_END, 2, name_id);
      }
      return;
    default:
      skip (p, ph);
      return;
    }
}

/* YAJL callbacks. */

static gboolean
at_event_field (Parse *p)
{
  return p->in_event && p->depth == p->event_depth && !p->in_args;
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

static int
cb_number (void       *ctx,
           const char *text,
           size_t      len)
{
  Parse *p = ctx;
  Cur *c = &p->cur;
  double v;

  if (p->in_id2)
    {
      if (p->depth == p->id2_depth)
        {
          g_string_truncate (c->id, 0);
          g_string_append_len (c->id, text, (gssize) MIN (len, 1024));
          c->has_id = TRUE;
        }
      return 1;
    }
  if (p->in_args)
    {
      if (p->depth != p->args_depth || !p->has_args_key)
        return 1;
      v = parse_number (text, len);
      if (g_str_equal (p->args_key, "sort_index"))
        {
          c->sort_index = v;
          c->has_sort_index = TRUE;
        }
      if (c->ph[0] == 'C' || c->ph[0] == '\0')
        {
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
      return 1;
    }
  if (!at_event_field (p))
    return 1;
  switch (p->key)
    {
    case KEY_TS:
      c->ts = parse_number (text, len), c->has_ts = TRUE;
      break;
    case KEY_DUR:
      c->dur = parse_number (text, len), c->has_dur = TRUE;
      break;
    case KEY_PID:
      c->pid = parse_number (text, len), c->has_pid = TRUE, c->has_pid_text = FALSE;
      break;
    case KEY_TID:
      c->tid = parse_number (text, len), c->has_tid = TRUE, c->has_tid_text = FALSE;
      break;
    case KEY_ID:
    case KEY_BIND_ID:
      g_string_truncate (c->id, 0);
      g_string_append_len (c->id, text, (gssize) MIN (len, 1024));
      c->has_id = TRUE;
      break;
    default:
      break;
    }
  return 1;
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

static int
cb_string (void                *ctx,
           const unsigned char *text,
           size_t               len)
{
  Parse *p = ctx;
  Cur *c = &p->cur;

  if (p->in_id2)
    {
      if (p->depth == p->id2_depth)
        set_text (c->id, &c->has_id, text, len, 1024);
      return 1;
    }
  if (p->in_args)
    {
      if (p->depth == p->args_depth && p->has_args_key && g_str_equal (p->args_key, "name"))
        {
          g_free (c->arg_name);
          c->arg_name = g_strndup ((const char *) text, MIN (len, 4096));
        }
      return 1;
    }
  if (!at_event_field (p))
    return 1;
  switch (p->key)
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
      set_text (c->name, &c->has_name, text, len, 4096);
      break;
    case KEY_CAT:
      set_text (c->cat, &c->has_cat, text, len, 1024);
      break;
    case KEY_ID:
    case KEY_BIND_ID:
      set_text (c->id, &c->has_id, text, len, 1024);
      break;
    case KEY_PID:
      set_text (c->pid_text, &c->has_pid_text, text, len, 1024);
      c->has_pid = FALSE;
      break;
    case KEY_TID:
      set_text (c->tid_text, &c->has_tid_text, text, len, 1024);
      c->has_tid = FALSE;
      break;
    case KEY_TS:
    case KEY_DUR:
      c->bad = TRUE;   /* a time that is not a number */
      break;
    default:
      break;
    }
  return 1;
}

static int
cb_other (void *ctx)
{
  Parse *p = ctx;

  /* null or a boolean where a time belongs */
  if (at_event_field (p) && (p->key == KEY_TS || p->key == KEY_DUR))
    p->cur.bad = TRUE;
  return 1;
}

static int
cb_boolean (void *ctx,
            int   v)
{
  (void) v;
  return cb_other (ctx);
}

static int
cb_start_map (void *ctx)
{
  Parse *p = ctx;

  p->depth++;
  if (p->depth > MAX_DEPTH)
    return 0;
  if (p->depth == 1)
    {
      p->top_is_object = TRUE;
      return 1;
    }
  if (!p->in_event && p->in_events_array && p->depth == p->events_depth)
    {
      p->in_event = TRUE;
      p->event_depth = p->depth;
      p->key = KEY_OTHER;
      cur_reset (&p->cur);
      return 1;
    }
  if (p->in_event && !p->in_args && !p->in_id2 && p->depth == p->event_depth + 1)
    {
      if (p->key == KEY_ARGS)
        {
          p->in_args = TRUE;
          p->args_depth = p->depth;
          p->has_args_key = FALSE;
        }
      else if (p->key == KEY_ID2)
        {
          p->in_id2 = TRUE;
          p->id2_depth = p->depth;
        }
    }
  return 1;
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
    case 7:
      return IS ("bind_id") ? KEY_BIND_ID : KEY_OTHER;
    default:
      return KEY_OTHER;
    }
#undef IS
}

static int
cb_map_key (void                *ctx,
            const unsigned char *key,
            size_t               len)
{
  Parse *p = ctx;

  if (p->depth == 1 && p->top_is_object)
    {
      p->in_trace_events_key = len == 11 && memcmp (key, "traceEvents", 11) == 0;
      return 1;
    }
  if (p->in_args)
    {
      if (p->depth == p->args_depth)
        {
          gsize n = MIN (len, sizeof p->args_key - 1);
          memcpy (p->args_key, key, n);
          p->args_key[n] = '\0';
          p->has_args_key = TRUE;
        }
      return 1;
    }
  if (at_event_field (p))
    p->key = key_of (key, len);
  return 1;
}

static int
cb_end_map (void *ctx)
{
  Parse *p = ctx;

  if (p->in_args && p->depth == p->args_depth)
    {
      p->in_args = FALSE;
      p->has_args_key = FALSE;
    }
  else if (p->in_id2 && p->depth == p->id2_depth)
    p->in_id2 = FALSE;
  else if (p->in_event && p->depth == p->event_depth)
    {
      p->in_event = FALSE;
      p->key = KEY_OTHER;
      finish_event (p);
    }
  p->depth--;
  return 1;
}

static int
cb_start_array (void *ctx)
{
  Parse *p = ctx;

  p->depth++;
  if (p->depth > MAX_DEPTH)
    return 0;
  if (p->depth == 1 && !p->top_is_object)
    {
      p->events_depth = 2;                  /* [ {event}, … ] */
      p->in_events_array = TRUE;
    }
  else if (p->depth == 2 && p->top_is_object && p->in_trace_events_key)
    {
      p->events_depth = 3;                  /* {"traceEvents": [ {event}, … ]} */
      p->in_events_array = TRUE;
    }
  return 1;
}

static int
cb_end_array (void *ctx)
{
  Parse *p = ctx;
  if (p->in_events_array && p->depth == p->events_depth - 1)
    p->in_events_array = FALSE;
  p->depth--;
  return 1;
}

static const yajl_callbacks callbacks = {
  .yajl_null = cb_other,
  .yajl_boolean = cb_boolean,
  .yajl_number = cb_number,
  .yajl_string = cb_string,
  .yajl_start_map = cb_start_map,
  .yajl_map_key = cb_map_key,
  .yajl_end_map = cb_end_map,
  .yajl_start_array = cb_start_array,
  .yajl_end_array = cb_end_array,
};

/* Time order; the sort is stable, so file order breaks the remaining ties.
 * At one instant X slices come after everything else, longer ones first
 * (parents before children).  B, E, instants, counters and flows at one
 * instant keep their file order: "E a, B b" stay back-to-back slices and
 * "B a, E a" stays a zero-length pair.  X ends are not records: they are
 * generated while building, before any record at or after their time. */
static int
compare_recs (gconstpointer a,
              gconstpointer b)
{
  const Rec *x = a, *y = b;
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
  guint8  counted;  /* 1: a B whose match counts as a slice */
} Open;

#define OPEN_UNKNOWN G_MAXINT64

/* Min-heap of (end, lane) for lanes whose top slice is an X. */
typedef struct {
  gint64  end;
  guint32 lane;
} Pending;

static gboolean
pending_less (const Pending *a,
              const Pending *b)
{
  return a->end != b->end ? a->end < b->end : a->lane < b->lane;
}

static void
heap_push (GArray  *heap,
           gint64   end,
           guint32  lane)
{
  Pending v = { end, lane };
  guint i = heap->len;
  Pending *h;

  g_array_append_val (heap, v);
  h = (Pending *) heap->data;
  while (i > 0 && pending_less (&v, &h[(i - 1) / 2]))
    {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  h[i] = v;
}

static Pending
heap_pop (GArray *heap)
{
  Pending *h = (Pending *) heap->data;
  Pending top = h[0], last = h[heap->len - 1];
  guint n = heap->len - 1, i = 0;

  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && pending_less (&h[c + 1], &h[c]))
        c++;
      if (!pending_less (&h[c], &last))
        break;
      h[i] = h[c];
      i = c;
    }
  if (n > 0)
    h[i] = last;
  g_array_set_size (heap, n);
  return top;
}

typedef struct {
  IlTrace            *t;
  IlChromeImportInfo *info;
  const guint32      *map;     /* proto-lane → trace lane */
  GArray            **stacks;  /* per proto-lane, of Open */
  GArray             *heap;    /* of Pending */
  gint64              base;
  gint64              now;     /* last appended time (relative) */
} Build;

static void
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

/* Pops the top of a lane's stack at time (relative). */
static void
close_top (Build   *b,
           guint32  lane,
           gint64   time)
{
  GArray *stack = b->stacks[lane];
  Open top = g_array_index (stack, Open, stack->len - 1);

  g_array_set_size (stack, stack->len - 1);
  build_append (b, time, lane, IL_EVENT_SLICE_END, 0, (guint16) MIN (stack->len, G_MAXUINT16), top.name);
  /* The slice below is an X: its end is pending again. */
  if (stack->len > 0 && g_array_index (stack, Open, stack->len - 1).end != OPEN_UNKNOWN)
    heap_push (b->heap, g_array_index (stack, Open, stack->len - 1).end, lane);
}

/* Ends every X slice that ends at or before limit (relative). */
static void
flush_ends (Build  *b,
            gint64  limit)
{
  while (b->heap->len > 0 && ((Pending *) b->heap->data)[0].end <= limit)
    {
      Pending e = heap_pop (b->heap);
      GArray *stack = b->stacks[e.lane];

      /* Stale entries: the lane's top changed since. */
      if (stack->len == 0 || g_array_index (stack, Open, stack->len - 1).end != e.end)
        continue;
      close_top (b, e.lane, e.end);
    }
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
  g_autofree GArray **stacks = g_new0 (GArray *, MAX (n_lanes, 1));
  g_autoptr(GArray) heap = g_array_new (FALSE, FALSE, sizeof (Pending));
  guint threads_with_slices = 0;
  gint64 base = p->any_ts ? p->min_ts : 0;
  gint64 last = p->any_ts ? p->max_ts - base : 0;
  Build b = { t, info, map, stacks, heap, base, 0 };

  for (guint i = 0; i < p->processes->len; i++)
    proc_lane[i] = IL_NO_LANE;
  for (guint i = 0; i < n_lanes; i++)
    order[i] = i;
  g_qsort_with_data (order, n_lanes, sizeof (guint32), compare_lanes, p);

  /* Lanes: a process lane before the first lane of each process. */
  for (guint k = 0; k < n_lanes; k++)
    {
      ProtoLane *l = &g_array_index (p->lanes, ProtoLane, order[k]);
      guint32 pi = GPOINTER_TO_UINT (g_hash_table_lookup (p->process_ids, &l->pid)) - 1;
      ProtoProcess *proc = &g_array_index (p->processes, ProtoProcess, pi);
      g_autofree char *name = NULL;

      if (proc_lane[pi] == IL_NO_LANE)
        {
          g_autofree char *pname = proc->name
            ? g_strdup_printf ("%s (pid %" G_GINT64_FORMAT ")", proc->name, proc->pid)
            : g_strdup_printf ("Process %" G_GINT64_FORMAT, proc->pid);
          proc_lane[pi] = il_trace_add_lane (t, IL_LANE_PROCESS, pname, IL_NO_LANE, (guint32) proc->pid);
        }
      if (l->name != NULL)
        name = g_strdup (l->name);
      else if (l->kind == IL_LANE_TASK)
        name = g_strdup ("async");
      else
        name = g_strdup_printf ("Thread %" G_GINT64_FORMAT, l->tid);
      map[order[k]] = il_trace_add_lane (t, l->kind, name, proc_lane[pi], (guint32) l->tid);
      if (l->has_slices && l->kind != IL_LANE_COUNTER)
        threads_with_slices++;
      stacks[order[k]] = g_array_new (FALSE, FALSE, sizeof (Open));
    }
  /* Processes named by metadata only still count (and get their lane). */
  for (guint i = 0; i < p->processes->len; i++)
    if (proc_lane[i] == IL_NO_LANE)
      {
        ProtoProcess *proc = &g_array_index (p->processes, ProtoProcess, i);
        g_autofree char *pname = proc->name
          ? g_strdup_printf ("%s (pid %" G_GINT64_FORMAT ")", proc->name, proc->pid)
          : g_strdup_printf ("Process %" G_GINT64_FORMAT, proc->pid);
        proc_lane[i] = il_trace_add_lane (t, IL_LANE_PROCESS, pname, IL_NO_LANE, (guint32) proc->pid);
      }
  info->n_processes = p->processes->len;
  info->n_threads = threads_with_slices;

  g_array_sort (p->recs, compare_recs);   /* stable (GLib ≥ 2.32) */

  /* Per lane a stack of open slices; depth is its height.  Unmatched
   * ends are dropped; what is open at the end closes at the last time. */
  for (guint i = 0; i < p->recs->len; i++)
    {
      const Rec *r = &g_array_index (p->recs, Rec, i);
      guint32 lane = rec_lane (r);
      GArray *stack = stacks[lane];
      gint64 time = r->t - base;

      flush_ends (&b, time);
      switch (rec_type (r))
        {
        case REC_SLICE:
        case REC_BEGIN:
          {
            Open o = { OPEN_UNKNOWN, r->arg, rec_value (r) == 1 };
            if (rec_type (r) == REC_SLICE)
              {
                o.end = time + r->dur;
                /* Keep slices nested: a child cannot outlive its parent X. */
                if (stack->len > 0)
                  o.end = MIN (o.end, g_array_index (stack, Open, stack->len - 1).end);
                o.end = MAX (o.end, time);
              }
            build_append (&b, time, lane, IL_EVENT_SLICE_BEGIN, 0, (guint16) MIN (stack->len, G_MAXUINT16), r->arg);
            g_array_append_val (stack, o);
            if (o.end != OPEN_UNKNOWN)
              heap_push (heap, o.end, lane);
          }
          break;
        case REC_END:
          {
            gint k = (gint) stack->len - 1;
            /* The innermost open B; X slices still open above it end here. */
            while (k >= 0 && g_array_index (stack, Open, k).end != OPEN_UNKNOWN)
              k--;
            if (k < 0)
              {
                info->n_unmatched++;
                break;
              }
            while ((gint) stack->len - 1 > k)
              close_top (&b, lane, time);
            if (g_array_index (stack, Open, k).counted)
              info->n_slices++;   /* a matched B/E pair */
            close_top (&b, lane, time);
            /* An X below that should have ended already ends now. */
            flush_ends (&b, time);
          }
          break;
        case REC_INSTANT:
          build_append (&b, time, lane, IL_EVENT_INSTANT, 0, 0, r->arg);
          break;
        case REC_COUNTER:
          build_append (&b, time, lane, IL_EVENT_COUNTER, 0, 0, r->arg);
          break;
        case REC_FLOW:
          build_append (&b, time, lane, IL_EVENT_FLOW, rec_value (r), 0, r->arg);
          break;
        default:
          break;
        }
    }
  flush_ends (&b, G_MAXINT64);
  for (guint i = 0; i < n_lanes; i++)
    {
      GArray *stack = stacks[i];
      while (stack->len > 0)
        {
          if (g_array_index (stack, Open, stack->len - 1).end == OPEN_UNKNOWN)
            info->n_unmatched++;
          close_top (&b, i, last);
          flush_ends (&b, G_MAXINT64);
        }
      g_array_unref (stack);
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
      g_string_free (c->pid_text, TRUE);
      g_string_free (c->tid_text, TRUE);
      g_string_free (p->last_name, TRUE);
      c->name = NULL;
    }
  g_clear_pointer (&p->recs, g_array_unref);
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
  g_clear_pointer (&p->text_ids, g_hash_table_unref);
  g_clear_pointer (&p->trace, il_trace_unref);
}

static void
parse_init (Parse              *p,
            const char         *name,
            IlChromeImportInfo *info)
{
  memset (p, 0, sizeof *p);
  p->name = name;
  p->info = info;
  p->recs = g_array_new (FALSE, FALSE, sizeof (Rec));
  p->lanes = g_array_new (FALSE, FALSE, sizeof (ProtoLane));
  p->processes = g_array_new (FALSE, FALSE, sizeof (ProtoProcess));
  p->lane_ids = g_hash_table_new_full (lane_key_hash, lane_key_equal, g_free, NULL);
  p->process_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  p->flow_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->text_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->trace = il_trace_new ();
  p->last_lane = IL_NO_LANE;
  p->last_name_id = G_MAXUINT32;
  p->last_name = g_string_new (NULL);
  p->cur.name = g_string_new (NULL);
  p->cur.cat = g_string_new (NULL);
  p->cur.id = g_string_new (NULL);
  p->cur.pid_text = g_string_new (NULL);
  p->cur.tid_text = g_string_new (NULL);
}

/* Line and column of a byte offset, for messages. */
typedef struct {
  guint64 offset;
  guint64 line;
  guint64 line_start;
} Position;

static void
advance_position (Position     *pos,
                  const guint8 *chunk,
                  gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (chunk[i] == '\n')
      {
        pos->line++;
        pos->line_start = pos->offset + i + 1;
      }
  pos->offset += len;
}

typedef gssize (*ReadFunc) (gpointer data, guint8 *buf, gsize len, GError **error);

static IlTrace *
import_stream (ReadFunc            read_func,
               gpointer            read_data,
               guint64             total,
               const char         *name,
               IlChromeImportInfo *info_out,
               IlProgressFunc      progress,
               gpointer            progress_data,
               GCancellable       *cancellable,
               GError            **error)
{
  IlChromeImportInfo local_info = { 0 };
  IlChromeImportInfo *info = info_out != NULL ? info_out : &local_info;
  Parse p;
  yajl_handle h;
  g_autofree guint8 *buf = g_malloc (1 << 20);
  Position pos = { 0, 1, 0 };
  g_autofree char *damage = NULL;
  gboolean cancelled = FALSE;
  IlTrace *result = NULL;

  memset (info, 0, sizeof *info);
  parse_init (&p, name, info);
  h = yajl_alloc (&callbacks, NULL, &p);
  /* A trace cut off mid-write ends without its closing brackets: let the
   * parser take what it has and say so. */
  yajl_config (h, yajl_allow_partial_values, 1);
  yajl_config (h, yajl_allow_trailing_garbage, 1);

  for (;;)
    {
      GError *rerror = NULL;
      gssize n = read_func (read_data, buf, 1 << 20, &rerror);
      yajl_status st;

      if (n < 0)
        {
          damage = g_strdup_printf ("reading stopped at byte %" G_GUINT64_FORMAT ": %s", pos.offset, rerror->message);
          g_error_free (rerror);
          break;
        }
      if (n == 0)
        {
          st = yajl_complete_parse (h);
          if (st != yajl_status_ok)
            damage = g_strdup_printf ("the file ends early, at line %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT ")",
                                      pos.line, pos.offset);
          else if (p.depth != 0)
            damage = g_strdup_printf ("the file ends early, inside an unfinished list at line %" G_GUINT64_FORMAT,
                                      pos.line);
          break;
        }
      st = yajl_parse (h, buf, (size_t) n);
      if (st != yajl_status_ok)
        {
          size_t used = yajl_get_bytes_consumed (h);
          unsigned char *msg = yajl_get_error (h, 0, buf, (size_t) n);
          Position at = pos;
          advance_position (&at, buf, MIN (used, (size_t) n));
          damage = g_strdup_printf ("line %" G_GUINT64_FORMAT ", column %" G_GUINT64_FORMAT " (byte %" G_GUINT64_FORMAT "): %s",
                                    at.line, at.offset - at.line_start + 1, at.offset,
                                    p.depth > MAX_DEPTH ? "nested too deeply" : g_strstrip ((char *) msg));
          yajl_free_error (h, msg);
          break;
        }
      advance_position (&pos, buf, (gsize) n);
      if (progress != NULL && total > 0)
        progress (MIN (1.0, (double) pos.offset / total), progress_data);
      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          break;
        }
      if (p.too_large)
        {
          damage = g_strdup ("too many events for memory; the rest was not loaded");
          break;
        }
    }
  yajl_free (h);

  if (cancelled)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_CANCELLED, "%s: loading cancelled", name);
  else if (p.recs->len == 0 && damage != NULL)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_PARSE, "%s: not a readable trace: %s", name, damage);
  else if (p.recs->len == 0)
    g_set_error (error, IL_CHROME_ERROR, IL_CHROME_ERROR_EMPTY,
                 "%s: no trace events to show (%" G_GUINT64_FORMAT " read, %" G_GUINT64_FORMAT " skipped)",
                 name, info->n_events_read, info->n_skipped);
  else
    {
      build_trace (&p);
      if (damage != NULL)
        {
          info->truncated = TRUE;
          info->warning = g_strdup_printf ("%s is damaged (%s); showing the %" G_GUINT64_FORMAT " events before that",
                                           name, damage, info->n_events_read);
        }
      p.trace->source = g_strdup_printf ("Chrome trace: %s", name);
      result = g_steal_pointer (&p.trace);
    }
  parse_clear (&p);
  if (info == &local_info)
    il_chrome_import_info_clear (&local_info);
  return result;
}

typedef struct {
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
  return (gssize) n;
}

static gssize
read_file (gpointer data, guint8 *buf, gsize len, GError **error)
{
  FILE *f = data;
  size_t n = fread (buf, 1, len, f);
  if (n == 0 && ferror (f))
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return -1;
    }
  return (gssize) n;
}

IlTrace *
il_chrome_import_data (const guint8       *data,
                       gsize               len,
                       const char         *name,
                       IlChromeImportInfo *info,
                       GError            **error)
{
  MemReader m = { data, len, 0 };
  return import_stream (read_memory, &m, len, name, info, NULL, NULL, NULL, error);
}

/* Importing needs about 0.6 bytes of memory per byte of JSON at its peak
 * (bench-import: 0.58 for VizTracer-like files). */
#define IMPORT_BYTES_PER_FILE_BYTE 0.6

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

  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (fseek (f, 0, SEEK_END) == 0)
    {
      total = ftell (f);
      rewind (f);
    }
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
  trace = import_stream (read_file, f, total > 0 ? (guint64) total : 0, path, info,
                         progress, progress_data, cancellable, error);
  fclose (f);
  return trace;
}

/* ------------------------------------------------------------- export */

typedef struct {
  FILE    *f;
  gboolean first;
  gboolean failed;
  guint64  flow_id;
} Out;

static void
out_event (Out        *o,
           const char *fmt,
           ...) G_GNUC_PRINTF (2, 3);

static void
out_event (Out        *o,
           const char *fmt,
           ...)
{
  va_list ap;

  if (o->failed)
    return;
  if (fputs (o->first ? "\n" : ",\n", o->f) < 0)
    o->failed = TRUE;
  o->first = FALSE;
  va_start (ap, fmt);
  if (vfprintf (o->f, fmt, ap) < 0)
    o->failed = TRUE;
  va_end (ap);
}

static char *
json_string (const char *s)
{
  GString *out = g_string_new ("\"");

  for (const char *c = s ? s : ""; *c; c++)
    {
      switch (*c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\r': g_string_append (out, "\\r"); break;
        default:
          if ((guchar) *c < 0x20)
            g_string_append_printf (out, "\\u%04x", (guchar) *c);
          else
            g_string_append_c (out, *c);
        }
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

/* Chrome ids: a pid per process lane (0 for the machine's cores) and a
 * tid per lane. */
static guint32
pid_of (const IlTrace *t,
        guint32        lane)
{
  const IlLane *l = il_trace_get_lane (t, lane);
  if (l->kind == IL_LANE_PROCESS)
    return lane + 1;
  return l->parent == IL_NO_LANE ? 0 : l->parent + 1;
}

static const char *
lane_name (const IlTrace *t,
           guint32        lane)
{
  return lane < il_trace_get_n_lanes (t) ? il_trace_get_lane (t, lane)->name : "nothing";
}

static void
export_interval (Out           *o,
                 const IlTrace *t,
                 guint32        lane,
                 gint64         start,
                 gint64         end,
                 const char    *name,
                 const char    *cause)
{
  g_autofree char *jn = json_string (name);

  if (end <= start)
    return;
  if (cause != NULL)
    out_event (o, "{\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"name\":%s,\"args\":{\"cause\":\"%s\"}}",
               pid_of (t, lane), lane + 1, start / 1e3, (end - start) / 1e3, jn, cause);
  else
    out_event (o, "{\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"name\":%s}",
               pid_of (t, lane), lane + 1, start / 1e3, (end - start) / 1e3, jn);
}

static void
export_lane (Out           *o,
             const IlTrace *t,
             guint32        lane)
{
  const IlLane *l = il_trace_get_lane (t, lane);
  const GArray *idx = il_trace_get_lane_events (t, lane);
  const guint32 *v = (const guint32 *) (gpointer) idx->data;
  gint64 since = -1;
  guint32 open_e = G_MAXUINT32;

  for (guint i = 0; i < idx->len; i++)
    {
      guint32 e = v[i];
      gint64 time = t->time[e];
      IlEventKind kind = t->kind[e];

      switch (kind)
        {
        case IL_EVENT_STATE:
        case IL_EVENT_CORE:
        case IL_EVENT_GIL_TAKE:
        case IL_EVENT_GIL_DROP:
        case IL_EVENT_LOOP_CALLBACK:
        case IL_EVENT_LOOP_CALLBACK_END:
        case IL_EVENT_LOOP_SELECT:
        case IL_EVENT_LOOP_SELECT_END:
          /* Close the interval that was going on. */
          if (open_e != G_MAXUINT32)
            {
              IlEventKind ok = t->kind[open_e];
              if (ok == IL_EVENT_STATE && t->value[open_e] != IL_STATE_NOT_STARTED && t->value[open_e] != IL_STATE_DONE)
                export_interval (o, t, lane, since, time, il_state_to_string (t->value[open_e]),
                                 il_cause_to_string (t->aux[open_e]));
              else if (ok == IL_EVENT_CORE && t->arg[open_e] != IL_NO_LANE)
                export_interval (o, t, lane, since, time, lane_name (t, t->arg[open_e]), NULL);
              else if (ok == IL_EVENT_GIL_TAKE)
                {
                  g_autofree char *n = g_strdup_printf ("held by %s", lane_name (t, t->arg[open_e]));
                  export_interval (o, t, lane, since, time, n, NULL);
                }
              else if (ok == IL_EVENT_LOOP_CALLBACK)
                {
                  g_autofree char *n = t->arg[open_e] != IL_NO_LANE
                                       ? g_strdup_printf ("step %s", lane_name (t, t->arg[open_e]))
                                       : g_strdup ("callback");
                  export_interval (o, t, lane, since, time, n, NULL);
                }
              else if (ok == IL_EVENT_LOOP_SELECT)
                export_interval (o, t, lane, since, time, "select()", NULL);
            }
          open_e = e;
          since = time;
          break;
        case IL_EVENT_GIL_REQUEST:
          out_event (o, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"drop request\"}",
                     pid_of (t, lane), lane + 1, time / 1e3);
          break;
        case IL_EVENT_LOOP_ITER:
          out_event (o, "{\"ph\":\"C\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"ready queue\",\"args\":{\"depth\":%u}}",
                     pid_of (t, lane), lane + 1, time / 1e3, t->aux[e]);
          break;
        case IL_EVENT_SLICE_BEGIN:
        case IL_EVENT_SLICE_END:
          {
            g_autofree char *jn = json_string (il_trace_get_string (t, t->arg[e]));
            out_event (o, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s}",
                       kind == IL_EVENT_SLICE_BEGIN ? "B" : "E", pid_of (t, lane), lane + 1, time / 1e3, jn);
          }
          break;
        case IL_EVENT_INSTANT:
          {
            g_autofree char *jn = json_string (il_trace_get_string (t, t->arg[e]));
            out_event (o, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s}",
                       pid_of (t, lane), lane + 1, time / 1e3, jn);
          }
          break;
        case IL_EVENT_COUNTER:
          {
            g_autofree char *jn = json_string (l->name);
            out_event (o, "{\"ph\":\"C\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":%s,\"args\":{\"value\":%.9g}}",
                       pid_of (t, lane), lane + 1, time / 1e3, jn, il_trace_bits_float (t->arg[e]));
          }
          break;
        case IL_EVENT_FLOW:
          out_event (o, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"flow\",\"cat\":\"flow\",\"id\":%u%s}",
                     t->value[e] == IL_FLOW_START ? "s" : t->value[e] == IL_FLOW_STEP ? "t" : "f",
                     pid_of (t, lane), lane + 1, time / 1e3, t->arg[e],
                     t->value[e] == IL_FLOW_END ? ",\"bp\":\"e\"" : "");
          break;
        case IL_EVENT_GIL_WAITERS:
        case IL_EVENT_MARK:
        case IL_N_EVENT_KINDS:
        default:
          break;
        }

      /* A forced drop is worth a mark of its own. */
      if (kind == IL_EVENT_GIL_DROP && t->value[e] == IL_GIL_DROP_FORCED)
        out_event (o, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"forced switch\"}",
                   pid_of (t, lane), lane + 1, time / 1e3);

      /* Cause and effect as a flow arrow from the causing lane. */
      if (kind == IL_EVENT_STATE && t->arg[e] != IL_NO_LANE && t->arg[e] != lane
          && t->arg[e] < il_trace_get_n_lanes (t))
        {
          guint64 id = ++o->flow_id;
          out_event (o, "{\"ph\":\"s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"%s\",\"cat\":\"cause\",\"id\":%" G_GUINT64_FORMAT "}",
                     pid_of (t, t->arg[e]), t->arg[e] + 1, time / 1e3, il_cause_to_string (t->aux[e]), id);
          out_event (o, "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"name\":\"%s\",\"cat\":\"cause\",\"id\":%" G_GUINT64_FORMAT "}",
                     pid_of (t, lane), lane + 1, time / 1e3, il_cause_to_string (t->aux[e]), id);
        }
    }

  /* What is still going on at the end of the recording. */
  if (open_e != G_MAXUINT32 && t->end_time > since)
    {
      IlEventKind ok = t->kind[open_e];
      if (ok == IL_EVENT_STATE && t->value[open_e] != IL_STATE_NOT_STARTED && t->value[open_e] != IL_STATE_DONE)
        export_interval (o, t, lane, since, t->end_time, il_state_to_string (t->value[open_e]),
                         il_cause_to_string (t->aux[open_e]));
      else if (ok == IL_EVENT_CORE && t->arg[open_e] != IL_NO_LANE)
        export_interval (o, t, lane, since, t->end_time, lane_name (t, t->arg[open_e]), NULL);
      else if (ok == IL_EVENT_GIL_TAKE)
        {
          g_autofree char *n = g_strdup_printf ("held by %s", lane_name (t, t->arg[open_e]));
          export_interval (o, t, lane, since, t->end_time, n, NULL);
        }
    }
}

gboolean
il_chrome_export (const IlTrace  *trace,
                  const char     *path,
                  GError        **error)
{
  char *tmp = NULL;
  Out o = { .first = TRUE };
  gboolean any_core = FALSE;

  g_return_val_if_fail (trace != NULL && path != NULL, FALSE);

  o.f = il_atomic_file_begin (path, &tmp, error);
  if (o.f == NULL)
    return FALSE;
  if (fputs ("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"Interleave\"},\"traceEvents\":[", o.f) < 0)
    o.failed = TRUE;

  /* Names and order first: processes, then a track per lane. */
  for (guint32 i = 0; i < il_trace_get_n_lanes (trace); i++)
    {
      const IlLane *l = il_trace_get_lane (trace, i);
      g_autofree char *jn = json_string (l->name);

      if (l->kind == IL_LANE_PROCESS)
        {
          out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":%s}}", i + 1, jn);
          out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_sort_index\",\"args\":{\"sort_index\":%u}}", i + 1, i + 1);
          continue;
        }
      if (l->kind == IL_LANE_CORE && !any_core)
        {
          any_core = TRUE;
          out_event (&o, "{\"ph\":\"M\",\"pid\":0,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"Machine (CPU cores)\"}}");
        }
      out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":%s}}",
                 pid_of (trace, i), i + 1, jn);
      out_event (&o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%u}}",
                 pid_of (trace, i), i + 1, i);
    }

  for (guint32 i = 0; i < il_trace_get_n_lanes (trace) && !o.failed; i++)
    if (il_trace_get_lane (trace, i)->kind != IL_LANE_PROCESS)
      export_lane (&o, trace, i);

  if (!o.failed && fputs ("\n]}\n", o.f) < 0)
    o.failed = TRUE;
  return il_atomic_file_commit (o.f, tmp, path, o.failed, error);
}
