/* il-trace-io.c — Interleave's own trace file: save and load a recorded run
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layout (docs/trace-format.md): the magic "ILTRACE\0", a u32 format
 * version, then tagged sections [u32 tag][u64 length][payload] in any
 * order, the last one "END " holding the CRC-32 of every byte before it.
 * Readers skip sections they do not know, so later versions can add some
 * without breaking older readers; a change that older readers would
 * misread bumps the version.  All numbers are little-endian.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "il-trace-io.h"

#include "il-chrome.h"   /* imported slices' args */

#include "il-engine.h"   /* il_run_config_from_scenario () */

#define MAGIC "ILTRACE"          /* plus its NUL: 8 bytes */
/* 2 added IL_EVENT_STEP, IL_EVENT_QUEUE and IL_STATE_STARTING, which a
 * version-1 reader would reject; version-1 files hold none of them. */
#define FORMAT_VERSION 3
/* 3 added the scenario's queues: IL_CAUSE_QUEUE, which a version-2 reader
 * would reject, and "queues" / put / get in the embedded scenario, which it
 * could not parse.  A trace without queues is still written as version 2,
 * so that older builds keep opening it. */
#define FORMAT_VERSION_NO_QUEUES 2
#define TAG(a, b, c, d) ((guint32) (a) | (guint32) (b) << 8 | (guint32) (c) << 16 | (guint32) (d) << 24)
#define TAG_HEAD TAG ('H', 'E', 'A', 'D')
#define TAG_CONF TAG ('C', 'O', 'N', 'F')
#define TAG_LANE TAG ('L', 'A', 'N', 'E')
#define TAG_STRS TAG ('S', 'T', 'R', 'S')
#define TAG_EVTS TAG ('E', 'V', 'T', 'S')
#define TAG_SCEN TAG ('S', 'C', 'E', 'N')
#define TAG_SRCE TAG ('S', 'R', 'C', 'E')
#define TAG_RECM TAG ('R', 'E', 'C', 'M')
#define TAG_ARGS TAG ('A', 'R', 'G', 'S')
/* In ARGS, the text index of a slice whose args were not kept. */
#define ARGS_NOT_KEPT G_MAXUINT32
#define TAG_END  TAG ('E', 'N', 'D', ' ')

G_DEFINE_QUARK (il-trace-io-error-quark, il_trace_io_error)

/* ------------------------------------------------------------ CRC-32 */

/* Slicing-by-8: eight bytes per step, a few GB/s, so that checksumming is
 * not what limits saving and loading big traces. */
static guint32 crc_table[8][256];

static void
crc_init (void)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 c = i;
          for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
          crc_table[0][i] = c;
        }
      for (guint32 i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
          crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^ (crc_table[t - 1][i] >> 8);
      g_once_init_leave (&once, 1);
    }
}

static guint32
crc_update (guint32       crc,
            const guint8 *data,
            gsize         len)
{
  crc = ~crc;
  while (len >= 8)
    {
      guint32 lo = crc ^ ((guint32) data[0] | (guint32) data[1] << 8 | (guint32) data[2] << 16 | (guint32) data[3] << 24);
      guint32 hi = (guint32) data[4] | (guint32) data[5] << 8 | (guint32) data[6] << 16 | (guint32) data[7] << 24;
      crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff]
          ^ crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24]
          ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff]
          ^ crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
      data += 8;
      len -= 8;
    }
  while (len-- > 0)
    crc = crc_table[0][(crc ^ *data++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ------------------------------------------------------------ writing */

typedef struct {
  FILE    *f;
  guint32  crc;
  gboolean failed;
  int      err;      /* errno of the first failed write */
} Writer;

static void
w_bytes (Writer     *w,
         const void *data,
         gsize       len)
{
  if (w->failed || len == 0)
    return;
  if (fwrite (data, 1, len, w->f) != len)
    {
      w->failed = TRUE;
      w->err = errno != 0 ? errno : EIO;
      return;
    }
  w->crc = crc_update (w->crc, data, len);
}

static void
w_u32 (Writer *w, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  w_bytes (w, &le, 4);
}

static void
w_u64 (Writer *w, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);
  w_bytes (w, &le, 8);
}

static void
w_section (Writer     *w,
           guint32     tag,
           const void *data,
           gsize       len)
{
  w_u32 (w, tag);
  w_u64 (w, len);
  w_bytes (w, data, len);
}

static void
w_column (Writer     *w,
          const void *data,
          gsize       elem,
          gsize       n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  w_bytes (w, data, elem * n);
#else
# error "write the columns element by element on big-endian machines"
#endif
}

/* The file always has 32-bit lanes, whatever the trace holds in memory. */
static void
w_lane16_column (Writer        *w,
                 const guint16 *lane16,
                 gsize          n)
{
  guint32 buf[4096];

  for (gsize i = 0; i < n; i += G_N_ELEMENTS (buf))
    {
      gsize k = MIN (n - i, G_N_ELEMENTS (buf));
      for (gsize j = 0; j < k; j++)
        buf[j] = GUINT32_TO_LE (lane16[i + j]);
      w_bytes (w, buf, k * sizeof (guint32));
    }
}

/* Whether a version-2 reader would refuse the trace: it has queues, or
 * a state event whose cause is IL_CAUSE_QUEUE even without them (a file
 * loaded as version 3 must load again once saved). */
static gboolean
needs_version_3 (const IlTrace *trace)
{
  if (trace->scenario != NULL && trace->scenario->n_queues > 0)
    return TRUE;
  for (gsize i = 0; i < trace->n_events; i++)
    if (trace->kind[i] == IL_EVENT_STATE && trace->aux[i] >= IL_CAUSE_QUEUE)
      return TRUE;
  return FALSE;
}

static char *
config_text (const IlRunConfig *c)
{
  GString *s = g_string_new (NULL);
  guint n_params;
  const IlParamInfo *table = il_param_table (&n_params);

  /* Named values, one per line, in the table's order: new parameters add
   * lines, old readers ignore names they do not know and keep their
   * defaults. */
  g_string_append_printf (s, "mode=%s\n", il_mode_to_string (c->mode));
  for (guint i = 0; i < n_params; i++)
    {
      const IlParamInfo *p = &table[i];

      g_string_append_printf (s, "%s=", p->trace_key);
      il_param_append_value (s, p, c, IL_PARAM_KEYS_TRACE);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

/* The ARGS section of an imported trace, built before it is written (its
 * length comes first): each distinct args text once, then per slice its
 * event and the index of its text. */
typedef struct {
  GHashTable *ids;      /* text → index + 1 */
  GPtrArray  *texts;    /* owned, in index order */
  GByteArray *refs;     /* u32 event, u32 text index, little-endian */
  guint64     text_bytes;
  guint32     n_refs;
} ArgsOut;

static gboolean
collect_args (guint32     event,
              const char *json,
              gpointer    data)
{
  ArgsOut *o = data;
  guint32 id = ARGS_NOT_KEPT;
  guint32 le[2];

  if (json != NULL && strlen (json) < G_MAXUINT32)
    {
      /* The reader takes UTF-8 without NUL only, so this is what is written
       * (json stops at its first NUL already). */
      g_autofree char *valid = g_utf8_validate (json, -1, NULL) ? NULL : g_utf8_make_valid (json, -1);
      const char *text = valid != NULL ? valid : json;
      gpointer known = g_hash_table_lookup (o->ids, text);

      if (known != NULL)
        id = GPOINTER_TO_UINT (known) - 1;
      else if (o->texts->len < ARGS_NOT_KEPT)
        {
          char *copy = valid != NULL ? g_steal_pointer (&valid) : g_strdup (json);
          id = o->texts->len;
          g_ptr_array_add (o->texts, copy);
          g_hash_table_insert (o->ids, copy, GUINT_TO_POINTER (id + 1));
          o->text_bytes += 4 + strlen (copy);
        }
    }
  le[0] = GUINT32_TO_LE (event);
  le[1] = GUINT32_TO_LE (id);
  g_byte_array_append (o->refs, (const guint8 *) le, sizeof le);
  o->n_refs++;
  return TRUE;
}

static void
write_args (Writer        *w,
            const IlTrace *trace)
{
  ArgsOut o = { 0 };

  if (trace->slice_args == NULL)
    return;
  o.ids = g_hash_table_new (g_str_hash, g_str_equal);
  o.texts = g_ptr_array_new_with_free_func (g_free);
  o.refs = g_byte_array_new ();
  il_chrome_slice_args_foreach (trace, collect_args, &o);
  if (o.n_refs > 0)
    {
      w_u32 (w, TAG_ARGS);
      w_u64 (w, 8 + o.text_bytes + o.refs->len);
      w_u32 (w, o.n_refs);
      w_u32 (w, o.texts->len);
      for (guint i = 0; i < o.texts->len; i++)
        {
          const char *text = g_ptr_array_index (o.texts, i);
          w_u32 (w, (guint32) strlen (text));
          w_bytes (w, text, strlen (text));
        }
      w_bytes (w, o.refs->data, o.refs->len);
    }
  g_hash_table_unref (o.ids);
  g_ptr_array_unref (o.texts);
  g_byte_array_unref (o.refs);
}

static const char *
lane_name (const IlLane *l)
{
  return l->name != NULL ? l->name : "";
}

FILE *
il_atomic_file_begin (const char  *path,
                      char       **tmp_path,
                      GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  char *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  int fd;
  FILE *f;

  /* Beside the target, so that rename() replaces it in one step. */
  fd = g_mkstemp_full (tmpl, O_WRONLY, 0644);
  if (fd >= 0)
    {
      /* Replacing a file keeps its permissions. */
      GStatBuf st;
      if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode))
        (void) fchmod (fd, st.st_mode & 07777);
    }
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "%s: cannot create a file in %s: %s", path, dir, g_strerror (saved_errno));
      g_free (tmpl);
      return NULL;
    }
  f = fdopen (fd, "wb");
  if (f == NULL)
    {
      close (fd);
      g_unlink (tmpl);
      g_free (tmpl);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot write", path);
      return NULL;
    }
  *tmp_path = tmpl;
  return f;
}

gboolean
il_atomic_file_commit (FILE       *f,
                       char       *tmp_path,
                       const char *path,
                       gboolean    failed,
                       GError    **error)
{
  int saved_errno = failed ? EIO : 0;

  if (!failed && (fflush (f) != 0 || fsync (fileno (f)) != 0 || ferror (f)))
    {
      saved_errno = errno;
      failed = TRUE;
    }
  if (fclose (f) != 0 && !failed)
    {
      saved_errno = errno;
      failed = TRUE;
    }
  if (!failed && g_rename (tmp_path, path) != 0)
    {
      saved_errno = errno;
      failed = TRUE;
    }
  if (failed)
    {
      g_unlink (tmp_path);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "%s: cannot save (%s); the previous file, if any, is unchanged",
                   path, g_strerror (saved_errno));
    }
  g_free (tmp_path);
  return !failed;
}

gboolean
il_trace_save (const IlTrace      *trace,
               const IlRunConfig  *config,
               const char         *path,
               GError            **error)
{
  char *tmp_path = NULL;
  Writer w = { 0 };

  g_return_val_if_fail (trace != NULL && path != NULL, FALSE);
  crc_init ();

  w.f = il_atomic_file_begin (path, &tmp_path, error);
  if (w.f == NULL)
    return FALSE;

  {
    guint8 magic[8] = MAGIC;
    w_bytes (&w, magic, 8);
    w_u32 (&w, needs_version_3 (trace) ? FORMAT_VERSION : FORMAT_VERSION_NO_QUEUES);
  }

  {
    guint8 head[36];
    gint64 end = GINT64_TO_LE (trace->end_time);
    guint32 finished = GUINT32_TO_LE (trace->finished ? 1 : 0);
    guint32 mode = GUINT32_TO_LE ((guint32) trace->mode);
    guint64 n = GUINT64_TO_LE ((guint64) trace->n_events);
    guint32 lanes = GUINT32_TO_LE (il_trace_get_n_lanes (trace));
    guint32 strings = GUINT32_TO_LE (trace->strings->len);
    memcpy (head, &end, 8);
    memcpy (head + 8, &finished, 4);
    memcpy (head + 12, &mode, 4);
    memcpy (head + 16, &n, 8);
    memcpy (head + 24, &lanes, 4);
    memcpy (head + 28, &strings, 4);
    memset (head + 32, 0, 4);
    w_section (&w, TAG_HEAD, head, sizeof head);
  }

  if (config != NULL)
    {
      g_autofree char *text = config_text (config);
      w_section (&w, TAG_CONF, text, strlen (text));
    }

  {
    gsize len = 0;
    for (guint i = 0; i < il_trace_get_n_lanes (trace); i++)
      len += 16 + strlen (lane_name (il_trace_get_lane (trace, i)));
    w_u32 (&w, TAG_LANE);
    w_u64 (&w, len);
    for (guint i = 0; i < il_trace_get_n_lanes (trace); i++)
      {
        const IlLane *l = il_trace_get_lane (trace, i);
        const char *name = lane_name (l);
        gsize nl = strlen (name);
        w_u32 (&w, l->kind);
        w_u32 (&w, l->parent);
        w_u32 (&w, l->index);
        w_u32 (&w, (guint32) nl);
        w_bytes (&w, name, nl);
      }
  }

  {
    gsize len = 0;
    for (guint i = 0; i < trace->strings->len; i++)
      len += 4 + strlen (g_ptr_array_index (trace->strings, i));
    w_u32 (&w, TAG_STRS);
    w_u64 (&w, len);
    for (guint i = 0; i < trace->strings->len; i++)
      {
        const char *s = g_ptr_array_index (trace->strings, i);
        w_u32 (&w, (guint32) strlen (s));
        w_bytes (&w, s, strlen (s));
      }
  }

  {
    gsize n = trace->n_events;
    w_u32 (&w, TAG_EVTS);
    w_u64 (&w, n * (8 + 4 + 1 + 1 + 2 + 4));
    w_column (&w, trace->time, 8, n);
    if (trace->lane32 != NULL)
      w_column (&w, trace->lane32, 4, n);
    else
      w_lane16_column (&w, trace->lane16, n);
    w_column (&w, trace->kind, 1, n);
    w_column (&w, trace->value, 1, n);
    w_column (&w, trace->aux, 2, n);
    w_column (&w, trace->arg, 4, n);
  }

  if (trace->scenario != NULL)
    {
      g_autofree char *json = il_scenario_to_json (trace->scenario);
      w_section (&w, TAG_SCEN, json, strlen (json));
    }
  if (trace->source != NULL)
    w_section (&w, TAG_SRCE, trace->source, strlen (trace->source));
  if (trace->recording != NULL)
    w_section (&w, TAG_RECM, trace->recording, strlen (trace->recording));
  write_args (&w, trace);

  {
    guint32 crc;
    w_u32 (&w, TAG_END);
    w_u64 (&w, 4);
    crc = GUINT32_TO_LE (w.crc);   /* of every byte before it */
    if (!w.failed && fwrite (&crc, 1, 4, w.f) != 4)
      {
        w.failed = TRUE;
        w.err = errno != 0 ? errno : EIO;
      }
  }

  if (w.failed)
    {
      /* Report why the write failed (a full disk, usually), not just that
       * the commit did. */
      il_atomic_file_commit (w.f, tmp_path, path, TRUE, NULL);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (w.err),
                   "%s: cannot save (%s); the previous file, if any, is unchanged",
                   path, g_strerror (w.err));
      return FALSE;
    }
  return il_atomic_file_commit (w.f, tmp_path, path, FALSE, error);
}

/* ------------------------------------------------------------ reading */

typedef struct {
  const guint8 *data;
  gsize         len;
  const char   *path;
} Reader;

static gboolean
fail (GError    **error,
      int         code,
      const char *path,
      gsize       offset,
      const char *what)
{
  g_set_error (error, IL_TRACE_IO_ERROR, code, "%s: byte %" G_GSIZE_FORMAT ": %s", path, offset, what);
  return FALSE;
}

static guint32
rd_u32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint64
rd_u64 (const guint8 *p)
{
  guint64 v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

guint64
il_available_memory (void)
{
  g_autofree char *meminfo = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    return 0;
  line = strstr (meminfo, "MemAvailable:");
  if (line == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10) * 1024;
}

gboolean
il_trace_is_native (const guint8 *head,
                    gsize         len)
{
  return len >= 8 && memcmp (head, MAGIC, 8) == 0;
}

/* Reads the configuration section over c (the scenario's own values or
 * the defaults) and validates the result: a damaged or hand-edited file
 * (os_slice_ns=0 would never let virtual time pass) is refused with the
 * byte and the field, never handed to an engine.  Names this version does
 * not know are a newer writer's and are skipped. */
static gboolean
parse_config (const guint8 *data,
              gsize         off,
              gsize         len,
              const char   *path,
              IlRunConfig  *c,
              GError      **error)
{
  gsize line_off = off;

  while (line_off < off + len)
    {
      const char *line = (const char *) data + line_off;
      const char *nl = memchr (line, '\n', off + len - line_off);
      gsize line_len = nl != NULL ? (gsize) (nl - line) : off + len - line_off;
      g_autofree char *copy = g_strndup (line, line_len);
      g_autoptr(GError) local = NULL;
      char *eq = strchr (copy, '=');
      const IlParamInfo *p;
      const char *k, *v;
      double value = 0;
      gint64 ns = 0;
      gboolean parsed = TRUE;

      if (eq == NULL)
        goto next;
      *eq = '\0';
      k = copy;
      v = eq + 1;
      if (g_str_equal (k, "mode"))
        {
          if (!il_mode_from_string (v, &c->mode))
            {
              g_autofree char *what = g_strdup_printf ("run configuration: mode=%s: unknown mode", v);
              return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, line_off, what);
            }
          goto next;
        }
      p = il_param_find (k);
      if (p == NULL || !g_str_equal (k, p->trace_key))
        goto next;
      switch (p->type)
        {
        case IL_PARAM_TIME:
          parsed = g_ascii_string_to_signed (v, 10, G_MININT64, G_MAXINT64, &ns, NULL);
          value = il_time_to_ms (ns);
          break;
        case IL_PARAM_COUNT:
          {
            gint64 n = 0;
            parsed = g_ascii_string_to_signed (v, 10, G_MININT64, G_MAXINT64, &n, NULL);
            value = (double) n;
          }
          break;
        case IL_PARAM_FRACTION:
          {
            char *end = NULL;
            value = g_ascii_strtod (v, &end);
            parsed = end != v && *end == '\0';
          }
          break;
        case IL_PARAM_CHOICE:
          {
            const char * const *names = il_param_choices (p);
            parsed = FALSE;
            for (guint i = 0; names[i] != NULL; i++)
              if (g_str_equal (v, names[i]))
                {
                  value = i;
                  parsed = TRUE;
                }
          }
          break;
        default:
          g_assert_not_reached ();
        }
      if (!parsed || !il_param_check (p, value, &local))
        {
          g_autofree char *what = g_strdup_printf ("run configuration: %s=%s: %s", k, v,
                                                   parsed ? local->message : "not a value this field takes");
          return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, line_off, what);
        }
      if (p->type == IL_PARAM_TIME)
        il_param_set_ns (p, c, ns);   /* exactly, not through milliseconds */
      else
        il_param_set (p, c, value);
    next:
      line_off += line_len + 1;
    }

  {
    /* Whatever came from the scenario and was not overridden is checked too. */
    g_autoptr(GError) local = NULL;
    if (!il_run_config_validate (c, IL_PARAM_KEYS_TRACE, &local))
      {
        g_autofree char *what = g_strdup_printf ("run configuration: %s", local->message);
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, what);
      }
  }
  return TRUE;
}

/* The checksum is the first tenth of the progress, the events the rest. */
#define CRC_SHARE 0.1

/* CRC of the whole file in 8 MB pieces, reporting progress and stopping
 * early (FALSE) when cancelled. */
static gboolean
crc_chunked (const guint8   *d,
             gsize           len,
             guint32        *crc,
             IlProgressFunc  progress,
             gpointer        progress_data,
             GCancellable   *cancellable)
{
  const gsize chunk = 8 << 20;

  *crc = 0;
  for (gsize at = 0; at < len; at += chunk)
    {
      *crc = crc_update (*crc, d + at, MIN (chunk, len - at));
      if (len > chunk)
        {
          if (progress != NULL)
            progress (CRC_SHARE * (at + MIN (chunk, len - at)) / len, progress_data);
          if (g_cancellable_is_cancelled (cancellable))
            return FALSE;
        }
    }
  return TRUE;
}

/* On big files the checksum is computed on a second thread while the first
 * validates and appends the events: the file is only accepted when both
 * are done and agree.  Below this size it is computed first, inline. */
#define CRC_THREAD_MIN (64 << 20)

typedef struct {
  const guint8 *d;
  gsize         len;      /* bytes covered */
  guint32       want;
  guint32       got;
  gsize         end_off;  /* offset of the END section, for messages */
  gboolean      complete; /* FALSE if stopped by cancellation */
  GCancellable *cancellable;
  GThread      *thread;
} CrcJob;

static gpointer
crc_thread (gpointer data)
{
  CrcJob *job = data;
  job->complete = crc_chunked (job->d, job->len, &job->got, NULL, NULL, job->cancellable);
  return NULL;
}

typedef struct {
  gsize off, len;   /* payload */
  gboolean found;
} Section;

/* The ARGS section: every count and index is checked before the slices'
 * args are given to the trace (il_chrome_slice_args reads them). */
static gboolean
load_args (IlTrace       *trace,
           const guint8  *d,
           Section       *args,
           const char    *path,
           GError       **error)
{
  gsize off = args->off, end = args->off + args->len, texts_off;
  guint32 n_refs, n_texts;
  g_autofree guint64 *text_off = NULL;
  g_autofree guint32 *text_len = NULL;
  g_autoptr(GArray) refs = NULL;
  g_autoptr(GBytes) blob = NULL;
  guint32 prev = 0;

  if (args->len < 8)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args section too short");
  n_refs = rd_u32 (d + off);
  n_texts = rd_u32 (d + off + 4);
  /* Each ref takes 8 bytes and each text at least 4: refuse counts the
   * section cannot hold before allocating for them. */
  if (n_refs > (args->len - 8) / 8 || n_texts > (args->len - 8 - (gsize) n_refs * 8) / 4)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args counts larger than their section");
  off += 8;
  texts_off = off;
  text_off = g_new (guint64, MAX (n_texts, 1));
  text_len = g_new (guint32, MAX (n_texts, 1));
  for (guint32 i = 0; i < n_texts; i++)
    {
      guint32 tl;

      if (end - off < 4)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args section too short");
      tl = rd_u32 (d + off);
      off += 4;
      if (tl > end - off)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args text runs past its section");
      if (!g_utf8_validate ((const char *) d + off, tl, NULL))
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args text is not valid UTF-8");
      text_off[i] = off - texts_off;
      text_len[i] = tl;
      off += tl;
    }
  if (end - off != (gsize) n_refs * 8)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "the slice count does not match the slice args section");
  refs = g_array_sized_new (FALSE, FALSE, sizeof (IlChromeArgsRef), n_refs);
  for (guint32 i = 0; i < n_refs; i++, off += 8)
    {
      guint32 event = rd_u32 (d + off);
      guint32 text = rd_u32 (d + off + 4);
      IlChromeArgsRef r = { event, 0, IL_CHROME_ARGS_NOT_KEPT };

      if (event >= trace->n_events || trace->kind[event] != IL_EVENT_SLICE_BEGIN)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args for an event that is not a slice");
      if (i > 0 && event <= prev)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "slice args out of event order");
      if (text != ARGS_NOT_KEPT && text >= n_texts)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off + 4, "slice args name an unknown text");
      if (text != ARGS_NOT_KEPT)
        {
          r.off = text_off[text];
          r.len = text_len[text];
        }
      g_array_append_val (refs, r);
      prev = event;
    }
  if (n_refs == 0)
    return TRUE;   /* nothing to keep */
  /* The file is unmapped after loading: the texts are copied, once each. */
  blob = g_bytes_new (d + texts_off, end - texts_off - (gsize) n_refs * 8);
  il_chrome_slice_args_restore (trace, blob, g_steal_pointer (&refs));
  return TRUE;
}

static IlTrace *
load_mapped (const guint8    *d,
             gsize            len,
             const char      *path,
             IlRunConfig     *config,
             IlProgressFunc   progress,
             gpointer         progress_data,
             GCancellable    *cancellable,
             CrcJob          *crc,
             GError         **error)
{
  g_autoptr(IlTrace) trace = NULL;
  gsize off;
  Section head = { 0 }, conf = { 0 }, lanes = { 0 }, strs = { 0 }, evts = { 0 }, scen = { 0 }, srce = { 0 };
  Section recm = { 0 }, args = { 0 };
  gboolean ended = FALSE;
  guint64 n_events;
  guint32 n_lanes, n_strings, mode;
  gint64 end_time;

  if (len < 12 && memcmp (d != NULL ? (const char *) d : "", MAGIC, MIN (len, 8)) == 0)
    {
      /* Empty, or the start of the magic number and nothing more. */
      fail (error, IL_TRACE_IO_ERROR_TRUNCATED, path, len, "the file is cut off before its header ends");
      return NULL;
    }
  if (len < 12 || !il_trace_is_native (d, len))
    {
      fail (error, IL_TRACE_IO_ERROR_FORMAT, path, 0, "not an Interleave trace (no ILTRACE header)");
      return NULL;
    }
  if (rd_u32 (d + 8) > FORMAT_VERSION || rd_u32 (d + 8) == 0)
    {
      g_set_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_VERSION,
                   "%s: written in trace format %u; this Interleave reads format %u — update Interleave",
                   path, rd_u32 (d + 8), FORMAT_VERSION);
      return NULL;
    }

  /* Find the sections; every length is checked against what is left. */
  off = 12;
  while (off < len)
    {
      guint32 tag;
      guint64 slen;
      Section *s = NULL;

      if (len - off < 12)
        {
          fail (error, IL_TRACE_IO_ERROR_TRUNCATED, path, off, "the file is cut off inside a section header");
          return NULL;
        }
      tag = rd_u32 (d + off);
      slen = rd_u64 (d + off + 4);
      if (slen > len - off - 12)
        {
          fail (error, IL_TRACE_IO_ERROR_TRUNCATED, path, off, "the file is cut off: a section runs past its end");
          return NULL;
        }
      if (tag == TAG_END)
        {
          guint32 want, got;
          if (slen != 4)
            return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "damaged end marker"), NULL;
          want = rd_u32 (d + off + 12);
          if (off + 12 >= CRC_THREAD_MIN)
            {
              crc->d = d;
              crc->len = off + 12;
              crc->want = want;
              crc->end_off = off;
              crc->cancellable = cancellable;
              crc->thread = g_thread_new ("il-trace-crc", crc_thread, crc);
              ended = TRUE;
              off += 16;
              break;
            }
          if (!crc_chunked (d, off + 12, &got, progress, progress_data, cancellable))
            {
              g_set_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_CANCELLED, "%s: loading cancelled", path);
              return NULL;
            }
          if (got != want)
            return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off,
                         "checksum mismatch: the file was damaged after it was written"), NULL;
          ended = TRUE;
          off += 16;
          break;
        }
      switch (tag)
        {
        case TAG_HEAD: s = &head; break;
        case TAG_CONF: s = &conf; break;
        case TAG_LANE: s = &lanes; break;
        case TAG_STRS: s = &strs; break;
        case TAG_EVTS: s = &evts; break;
        case TAG_SCEN: s = &scen; break;
        case TAG_SRCE: s = &srce; break;
        case TAG_RECM: s = &recm; break;
        case TAG_ARGS: s = &args; break;
        default: break;   /* a newer writer's section: skip it */
        }
      if (s != NULL)
        {
          if (s->found)
            return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "a section appears twice"), NULL;
          s->found = TRUE;
          s->off = off + 12;
          s->len = slen;
        }
      off += 12 + slen;
    }
  if (!ended)
    return fail (error, IL_TRACE_IO_ERROR_TRUNCATED, path, len, "the file is cut off before its end marker"), NULL;
  if (off != len)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "unexpected bytes after the end marker"), NULL;
  if (!head.found || head.len < 32 || !lanes.found || !strs.found || !evts.found)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, 12, "a required section is missing"), NULL;

  end_time = (gint64) rd_u64 (d + head.off);
  mode = rd_u32 (d + head.off + 12);
  n_events = rd_u64 (d + head.off + 16);
  n_lanes = rd_u32 (d + head.off + 24);
  n_strings = rd_u32 (d + head.off + 28);
  if (mode >= IL_N_MODES)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, head.off + 12, "unknown mode"), NULL;
  if (n_events > G_MAXUINT32 || evts.len != n_events * 20)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, evts.off, "the event count does not match the events section"), NULL;
  if (n_lanes > lanes.len / 16 || n_strings > strs.len / 4)
    return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, head.off, "lane or string counts larger than their sections"), NULL;

  {
    /* The columns plus the per-lane index: refuse up front what cannot fit
     * rather than be killed half-way. */
    guint64 avail = il_available_memory ();
    if (avail > 0 && n_events * 24 > avail)
      {
        g_set_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_TOO_LARGE,
                     "%s: %" G_GUINT64_FORMAT " events need %.1f GB of memory, and only %.1f GB is free",
                     path, n_events, n_events * 24 / 1e9, avail / 1e9);
        return NULL;
      }
  }

  trace = il_trace_new ();
  trace->mode = (IlMode) mode;
  il_trace_reserve (trace, (gsize) n_events);   /* the count is checked against the section */

  /* Lanes. */
  off = lanes.off;
  for (guint32 i = 0; i < n_lanes; i++)
    {
      guint32 kind, parent, index, nl;
      g_autofree char *name = NULL;

      if (lanes.off + lanes.len - off < 16)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "lane section too short"), NULL;
      kind = rd_u32 (d + off);
      parent = rd_u32 (d + off + 4);
      index = rd_u32 (d + off + 8);
      nl = rd_u32 (d + off + 12);
      off += 16;
      if (nl > lanes.off + lanes.len - off)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "lane name runs past its section"), NULL;
      if (kind >= IL_N_LANE_KINDS || (parent != IL_NO_LANE && parent >= n_lanes))
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off - 16, "invalid lane kind or parent"), NULL;
      if (!g_utf8_validate ((const char *) d + off, nl, NULL) || memchr (d + off, 0, nl) != NULL)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "lane name is not valid UTF-8"), NULL;
      name = g_strndup ((const char *) d + off, nl);
      il_trace_add_lane (trace, (IlLaneKind) kind, name, parent, index);
      off += nl;
    }

  /* Strings, whose ids are their positions: they must be distinct. */
  off = strs.off;
  for (guint32 i = 0; i < n_strings; i++)
    {
      guint32 sl;
      g_autofree char *s = NULL;

      if (strs.off + strs.len - off < 4)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "string section too short"), NULL;
      sl = rd_u32 (d + off);
      off += 4;
      if (sl > strs.off + strs.len - off)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "string runs past its section"), NULL;
      if (!g_utf8_validate ((const char *) d + off, sl, NULL) || memchr (d + off, 0, sl) != NULL)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "string is not valid UTF-8"), NULL;
      s = g_strndup ((const char *) d + off, sl);
      if (il_trace_intern (trace, s) != i)
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, off, "the same string appears twice"), NULL;
      off += sl;
    }

  /* Events, validated one by one before they are appended. */
  {
    const guint8 *tcol = d + evts.off;
    const guint8 *lcol = tcol + n_events * 8;
    const guint8 *kcol = lcol + n_events * 4;
    const guint8 *vcol = kcol + n_events;
    const guint8 *acol = vcol + n_events;
    const guint8 *rcol = acol + n_events * 2;
    gint64 prev = 0;
    guint64 step = MAX (n_events / 100, 4096);   /* about every 1% */

    /* The lane indices are built once at the end, each exactly its size. */
    il_trace_begin_bulk (trace);
    for (guint64 i = 0; i < n_events; i++)
      {
        gint64 t = (gint64) rd_u64 (tcol + i * 8);
        guint32 lane = rd_u32 (lcol + i * 4);
        guint8 kind = kcol[i];
        guint16 aux;

        memcpy (&aux, acol + i * 2, 2);
        aux = GUINT16_FROM_LE (aux);
        if (t < prev || t < 0)
          return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, evts.off + i * 8, "event times go backwards"), NULL;
        if (lane >= n_lanes)
          return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, evts.off + n_events * 8 + i * 4,
                       "event names an unknown lane"), NULL;
        if (kind >= (rd_u32 (d + 8) >= 2 ? IL_N_EVENT_KINDS : IL_EVENT_STEP))
          return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, evts.off + n_events * 12 + i,
                       "event of an unknown kind"), NULL;
        /* States and causes index tables in the statistics and the views. */
        if (kind == IL_EVENT_STATE && (vcol[i] >= (rd_u32 (d + 8) >= 2 ? IL_N_STATES : IL_STATE_STARTING)
                                       || aux >= (rd_u32 (d + 8) >= 3 ? IL_N_CAUSES : IL_CAUSE_QUEUE)))
          return fail (error, IL_TRACE_IO_ERROR_FORMAT, path,
                       vcol[i] >= IL_N_STATES ? evts.off + n_events * 13 + i : evts.off + n_events * 14 + i * 2,
                       "state event with an unknown state or cause"), NULL;
        il_trace_append (trace, t, lane, (IlEventKind) kind, vcol[i], aux, rd_u32 (rcol + i * 4));
        prev = t;
        if (i % step == step - 1)
          {
            if (progress != NULL)
              progress (CRC_SHARE + (1 - CRC_SHARE) * i / n_events, progress_data);
            if (g_cancellable_is_cancelled (cancellable))
              {
                g_set_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_CANCELLED, "%s: loading cancelled", path);
                return NULL;
              }
          }
      }
    il_trace_end_bulk (trace);
    if (end_time < prev)
      return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, head.off, "end time before the last event"), NULL;
  }
  il_trace_set_end_time (trace, end_time);
  trace->finished = rd_u32 (d + head.off + 8) != 0;

  if (scen.found)
    {
      GError *serror = NULL;
      trace->scenario = il_scenario_load_data ((const char *) d + scen.off, scen.len, path, &serror);
      if (trace->scenario == NULL)
        {
          /* Reported as a damaged trace, whatever the parser's own code. */
          g_set_error (error, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_FORMAT,
                       "%s: byte %" G_GSIZE_FORMAT ": the embedded scenario is damaged: %s",
                       path, scen.off, serror->message);
          g_error_free (serror);
          return NULL;
        }
    }
  if (srce.found)
    {
      if (!g_utf8_validate ((const char *) d + srce.off, srce.len, NULL))
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, srce.off, "source is not valid UTF-8"), NULL;
      trace->source = g_strndup ((const char *) d + srce.off, srce.len);
    }
  if (recm.found)
    {
      if (!g_utf8_validate ((const char *) d + recm.off, recm.len, NULL))
        return fail (error, IL_TRACE_IO_ERROR_FORMAT, path, recm.off, "recording facts are not valid UTF-8"), NULL;
      trace->recording = g_strndup ((const char *) d + recm.off, recm.len);
    }

  if (args.found && !load_args (trace, d, &args, path, error))
    return NULL;

  /* Always read and checked, even when the caller does not want it: a
   * file is good or bad whoever opens it. */
  if (trace->scenario != NULL)
    il_run_config_from_scenario (config, trace->scenario);
  else
    il_run_config_init_defaults (config);
  config->mode = trace->mode;
  if (!parse_config (d, conf.found ? conf.off : 0, conf.found ? conf.len : 0, path, config, error))
    return NULL;
  return g_steal_pointer (&trace);
}

IlTrace *
il_trace_load (const char      *path,
               IlRunConfig     *config,
               IlProgressFunc   progress,
               gpointer         progress_data,
               GCancellable    *cancellable,
               GError         **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(IlTrace) trace = NULL;
  GError *local = NULL;
  CrcJob crc = { 0 };
  IlRunConfig loaded_config;

  g_return_val_if_fail (path != NULL, NULL);
  crc_init ();

  mapped = g_mapped_file_new (path, FALSE, &local);
  if (mapped == NULL)
    {
      g_propagate_prefixed_error (error, local, "%s: ", path);
      return NULL;
    }

  trace = load_mapped ((const guint8 *) g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped),
                       path, &loaded_config, progress, progress_data, cancellable, &crc, &local);
  if (crc.thread != NULL)
    {
      g_thread_join (crc.thread);
      if (!crc.complete)
        {
          g_clear_error (&local);
          g_clear_pointer (&trace, il_trace_unref);
          g_set_error (&local, IL_TRACE_IO_ERROR, IL_TRACE_IO_ERROR_CANCELLED, "%s: loading cancelled", path);
        }
      else if (crc.got != crc.want)
        {
          /* A damaged file: say so, whatever the field checks found first. */
          g_clear_error (&local);
          g_clear_pointer (&trace, il_trace_unref);
          fail (&local, IL_TRACE_IO_ERROR_FORMAT, path, crc.end_off,
                "checksum mismatch: the file was damaged after it was written");
        }
    }
  if (trace == NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  if (config != NULL)
    *config = loaded_config;   /* only on success */
  if (progress != NULL)
    progress (1.0, progress_data);
  return g_steal_pointer (&trace);
}
