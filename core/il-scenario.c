/* il-scenario.c — reading and writing scenario files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Scenario files come from slides, e-mails and bug reports, so the reader is
 * strict and says exactly where a problem is.  It has its own small JSON
 * reader because none at hand reports line:column for *semantic* errors,
 * rejects duplicate keys, or bounds nesting before recursing: every value
 * keeps its position, and every error reads
 *
 *   FILE:LINE:COL: $.tasks[1].steps[0].cpu: what is wrong
 */
#include "il-scenario.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "il-json.h"
#include "il-run-config.h"

G_DEFINE_QUARK (il-scenario-error-quark, il_scenario_error)

/* ------------------------------------------------------------------ */
/* Modes                                                               */

static const char *mode_names[IL_N_MODES] = {
  "sequential", "asyncio", "threads", "free-threading", "processes",
};
static const char *mode_labels[IL_N_MODES] = {
  "Sequential", "asyncio", "Threads", "Free-threading", "Processes",
};

const char *
il_mode_to_string (IlMode mode)
{
  return (guint) mode < IL_N_MODES ? mode_names[mode] : "unknown";
}

const char *
il_mode_to_label (IlMode mode)
{
  return (guint) mode < IL_N_MODES ? mode_labels[mode] : "Unknown";
}

gboolean
il_mode_from_string (const char *str,
                     IlMode     *out)
{
  for (guint i = 0; i < IL_N_MODES; i++)
    if (g_strcmp0 (str, mode_names[i]) == 0)
      {
        if (out)
          *out = (IlMode) i;
        return TRUE;
      }
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* A small JSON reader that remembers positions                        */

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } JType;

typedef struct _JNode JNode;
struct _JNode {
  JType      type;
  guint32    line;
  guint32    col;
  gboolean   boolean;
  double     number;
  char      *string;
  GPtrArray *items;   /* J_ARRAY: JNode*; J_OBJECT: values */
  GPtrArray *keys;    /* J_OBJECT: char* */
};

static void
jnode_free (JNode *n)
{
  if (n == NULL)
    return;
  g_free (n->string);
  if (n->items)
    g_ptr_array_unref (n->items);
  if (n->keys)
    g_ptr_array_unref (n->keys);
  g_free (n);
}

typedef struct {
  const char  *name;
  const char  *p;
  const char  *end;
  const char  *line_start;
  guint32      line;
  const char  *col_base;     /* a point on the current line … */
  glong        col_count;    /* … and the characters before it on that line */
  GError     **error;
} JReader;

static guint32
jr_col (JReader    *r,
        const char *at)
{
  /* Columns count characters, not bytes.  Nodes come in file order, so
   * counting on from the last point asked keeps this linear: counting from
   * the line start each time made a 250 kB one-line file take 26 s. */
  if (r->col_base == NULL || r->col_base < r->line_start || at < r->col_base)
    {
      r->col_base = r->line_start;
      r->col_count = 0;
    }
  r->col_count += g_utf8_strlen (r->col_base, at - r->col_base);
  r->col_base = at;
  return (guint32) r->col_count + 1;
}

static gboolean
jr_fail (JReader    *r,
         const char *at,
         const char *fmt,
         ...) G_GNUC_PRINTF (3, 4);

static gboolean
jr_fail (JReader    *r,
         const char *at,
         const char *fmt,
         ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  if (r->error == NULL || *r->error != NULL)
    return FALSE;
  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (r->error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_SYNTAX, "%s:%u:%u: %s",
               r->name, r->line, jr_col (r, at), msg);
  return FALSE;
}

static void
jr_space (JReader *r)
{
  while (r->p < r->end)
    {
      char c = *r->p;
      if (c == '\n')
        {
          r->line++;
          r->line_start = ++r->p;
        }
      else if (c == ' ' || c == '\t' || c == '\r')
        r->p++;
      else
        break;
    }
}

static JNode *jr_value (JReader *r, guint depth);

static JNode *
jr_node (JReader    *r,
         JType       type,
         const char *at)
{
  JNode *n = g_new0 (JNode, 1);
  n->type = type;
  n->line = r->line;
  n->col = jr_col (r, at);
  return n;
}

static gboolean
jr_hex4 (JReader  *r,
         gunichar *out)
{
  gunichar v = 0;

  if (r->end - r->p < 4)
    return jr_fail (r, r->p, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (r->p[i]);
      if (d < 0)
        return jr_fail (r, r->p + i, "bad \\u escape");
      v = v * 16 + (gunichar) d;
    }
  r->p += 4;
  *out = v;
  return TRUE;
}

static char *
jr_string (JReader *r)
{
  g_autoptr(GString) s = g_string_new (NULL);
  const char *start = r->p;

  g_assert (*r->p == '"');
  r->p++;
  while (r->p < r->end)
    {
      unsigned char c = (unsigned char) *r->p;

      if (c == '"')
        {
          r->p++;
          if (s->len > 1024 * 1024)
            {
              jr_fail (r, start, "string longer than 1 MiB");
              return NULL;
            }
          return g_string_free (g_steal_pointer (&s), FALSE);
        }
      if (c < 0x20)
        {
          jr_fail (r, r->p, c == '\n' ? "string not closed before the end of the line" : "control character in a string");
          return NULL;
        }
      if (c == '\\')
        {
          r->p++;
          if (r->p >= r->end)
            break;
          switch (*r->p)
            {
            case '"': g_string_append_c (s, '"'); break;
            case '\\': g_string_append_c (s, '\\'); break;
            case '/': g_string_append_c (s, '/'); break;
            case 'b': g_string_append_c (s, '\b'); break;
            case 'f': g_string_append_c (s, '\f'); break;
            case 'n': g_string_append_c (s, '\n'); break;
            case 'r': g_string_append_c (s, '\r'); break;
            case 't': g_string_append_c (s, '\t'); break;
            case 'u':
              {
                gunichar u = 0, lo = 0;   /* set by jr_hex4 (), which -O3 cannot always see */
                r->p++;
                if (!jr_hex4 (r, &u))
                  return NULL;
                if (u >= 0xD800 && u < 0xDC00)
                  {
                    if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
                      {
                        jr_fail (r, r->p, "unpaired surrogate in \\u escape");
                        return NULL;
                      }
                    r->p += 2;
                    if (!jr_hex4 (r, &lo))
                      return NULL;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                      {
                        jr_fail (r, r->p, "unpaired surrogate in \\u escape");
                        return NULL;
                      }
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                  }
                else if (u >= 0xDC00 && u <= 0xDFFF)
                  {
                    jr_fail (r, r->p, "unpaired surrogate in \\u escape");
                    return NULL;
                  }
                if (u == 0)
                  {
                    jr_fail (r, r->p, "\\u0000 is not allowed in names and text");
                    return NULL;
                  }
                g_string_append_unichar (s, u);
                continue;
              }
            default:
              jr_fail (r, r->p, "unknown escape \\%c", g_ascii_isprint (*r->p) ? *r->p : '?');
              return NULL;
            }
          r->p++;
          continue;
        }
      g_string_append_c (s, (char) c);
      r->p++;
    }
  jr_fail (r, start, "string not closed: the file ends inside it");
  return NULL;
}

static JNode *
jr_number (JReader *r)
{
  const char *start = r->p;
  char buf[64];
  JNode *n;

  if (*r->p == '-')
    r->p++;
  if (r->p >= r->end || !g_ascii_isdigit (*r->p))
    {
      jr_fail (r, start, "expected a number");
      return NULL;
    }
  while (r->p < r->end && (g_ascii_isdigit (*r->p) || strchr (".eE+-", *r->p) != NULL))
    r->p++;
  if (r->p - start >= (gssize) sizeof buf)
    {
      jr_fail (r, start, "number too long");
      return NULL;
    }
  memcpy (buf, start, r->p - start);
  buf[r->p - start] = '\0';

  n = jr_node (r, J_NUMBER, start);
  {
    char *endp = NULL;
    n->number = g_ascii_strtod (buf, &endp);
    /* Look at the NUL-terminated copy: the input may end right after
     * the number (found by fuzzing: "[0" read one byte past the end). */
    if (endp == NULL || *endp != '\0' || (buf[0] == '0' && g_ascii_isdigit (buf[1]))
        || (buf[0] == '-' && buf[1] == '0' && g_ascii_isdigit (buf[2])))
      {
        jnode_free (n);
        jr_fail (r, start, "malformed number '%s'", buf);
        return NULL;
      }
    if (!isfinite (n->number))
      {
        jnode_free (n);
        jr_fail (r, start, "number out of range '%s'", buf);
        return NULL;
      }
  }
  return n;
}

static gboolean
jr_word (JReader    *r,
         const char *word)
{
  gsize len = strlen (word);
  return (gsize) (r->end - r->p) >= len && memcmp (r->p, word, len) == 0;
}

static JNode *
jr_value (JReader *r,
          guint    depth)
{
  const char *at;
  JNode *n;

  jr_space (r);
  at = r->p;
  if (r->p >= r->end)
    {
      jr_fail (r, at, depth == 0 ? "the file is empty" : "the file ends too early (truncated?)");
      return NULL;
    }
  if (depth > IL_SCENARIO_MAX_JSON_DEPTH)
    {
      jr_fail (r, at, "nested more than %d levels deep", IL_SCENARIO_MAX_JSON_DEPTH);
      return NULL;
    }

  switch (*r->p)
    {
    case '{':
      {
        g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
        n = jr_node (r, J_OBJECT, at);
        n->items = g_ptr_array_new_with_free_func ((GDestroyNotify) jnode_free);
        n->keys = g_ptr_array_new_with_free_func (g_free);
        r->p++;
        jr_space (r);
        if (r->p < r->end && *r->p == '}')
          {
            r->p++;
            return n;
          }
        for (;;)
          {
            const char *key_at;
            char *key;
            JNode *v;

            jr_space (r);
            key_at = r->p;
            if (r->p >= r->end)
              {
                jr_fail (r, r->p, "the file ends inside an object (truncated?)");
                goto fail;
              }
            if (*r->p != '"')
              {
                jr_fail (r, r->p, "expected a \"key\" in quotes");
                goto fail;
              }
            if ((key = jr_string (r)) == NULL)
              goto fail;
            if (g_hash_table_contains (seen, key))
              {
                jr_fail (r, key_at, "duplicate key \"%s\"", key);
                g_free (key);
                goto fail;
              }
            g_ptr_array_add (n->keys, key);
            g_hash_table_add (seen, key);
            jr_space (r);
            if (r->p >= r->end || *r->p != ':')
              {
                jr_fail (r, r->p, "expected ':' after the key \"%s\"", key);
                g_ptr_array_add (n->items, NULL);
                goto fail;
              }
            r->p++;
            if ((v = jr_value (r, depth + 1)) == NULL)
              {
                g_ptr_array_add (n->items, NULL);
                goto fail;
              }
            g_ptr_array_add (n->items, v);
            jr_space (r);
            if (r->p < r->end && *r->p == ',')
              {
                r->p++;
                continue;
              }
            if (r->p < r->end && *r->p == '}')
              {
                r->p++;
                return n;
              }
            jr_fail (r, r->p, r->p >= r->end ? "the file ends inside an object (truncated?)"
                                             : "expected ',' or '}'");
            goto fail;
          }
      }

    case '[':
      n = jr_node (r, J_ARRAY, at);
      n->items = g_ptr_array_new_with_free_func ((GDestroyNotify) jnode_free);
      r->p++;
      jr_space (r);
      if (r->p < r->end && *r->p == ']')
        {
          r->p++;
          return n;
        }
      for (;;)
        {
          JNode *v = jr_value (r, depth + 1);
          if (v == NULL)
            goto fail;
          g_ptr_array_add (n->items, v);
          jr_space (r);
          if (r->p < r->end && *r->p == ',')
            {
              r->p++;
              continue;
            }
          if (r->p < r->end && *r->p == ']')
            {
              r->p++;
              return n;
            }
          jr_fail (r, r->p, r->p >= r->end ? "the file ends inside a list (truncated?)" : "expected ',' or ']'");
          goto fail;
        }

    case '"':
      {
        char *s = jr_string (r);
        if (s == NULL)
          return NULL;
        n = jr_node (r, J_STRING, at);
        n->string = s;
        return n;
      }

    case 't':
    case 'f':
    case 'n':
      if (jr_word (r, "true") || jr_word (r, "false"))
        {
          n = jr_node (r, J_BOOL, at);
          n->boolean = *r->p == 't';
          r->p += n->boolean ? 4 : 5;
          return n;
        }
      if (jr_word (r, "null"))
        {
          r->p += 4;
          return jr_node (r, J_NULL, at);
        }
      break;

    case 'N':
    case 'I':
      if (jr_word (r, "NaN") || jr_word (r, "Infinity"))
        {
          jr_fail (r, at, "%s is not a number JSON allows", *r->p == 'N' ? "NaN" : "Infinity");
          return NULL;
        }
      break;

    default:
      if (*r->p == '-' || g_ascii_isdigit (*r->p))
        {
          if (jr_word (r, "-Infinity"))
            {
              jr_fail (r, at, "-Infinity is not a number JSON allows");
              return NULL;
            }
          return jr_number (r);
        }
      break;
    }

  jr_fail (r, at, "expected a value (object, list, string, number, true, false or null)");
  return NULL;

fail:
  jnode_free (n);
  return NULL;
}

static JNode *
json_read (const char  *data,
           gsize        len,
           const char  *name,
           GError     **error)
{
  JReader r = { .name = name, .p = data, .end = data + len, .line_start = data, .line = 1, .error = error };
  const char *bad = NULL;
  JNode *root;

  if (!g_utf8_validate (data, (gssize) len, &bad))
    {
      /* Position the reader at the bad byte to report line:column. */
      for (const char *q = data; q < bad; q++)
        if (*q == '\n')
          {
            r.line++;
            r.line_start = q + 1;
          }
      g_set_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_SYNTAX,
                   "%s:%u:%u: not valid UTF-8 text (is this a scenario file?)", name, r.line,
                   (guint) g_utf8_strlen (r.line_start, bad - r.line_start) + 1);
      return NULL;
    }
  if (len >= 3 && (guchar) data[0] == 0xEF && (guchar) data[1] == 0xBB && (guchar) data[2] == 0xBF)
    r.p = r.line_start = data + 3;   /* a byte-order mark some editors write */

  root = jr_value (&r, 0);
  if (root == NULL)
    return NULL;
  jr_space (&r);
  if (r.p < r.end)
    {
      jr_fail (&r, r.p, "unexpected text after the end of the scenario");
      jnode_free (root);
      return NULL;
    }
  return root;
}

/* ------------------------------------------------------------------ */
/* From JSON to a scenario                                             */

typedef struct {
  const char  *name;
  GError     **error;
  GString     *path;
  IlScenario  *sc;
  GPtrArray   *locks;      /* char*, owned by sc at the end */
  GPtrArray   *groups;
  guint64      expanded;   /* steps after unrolling, saturating */
  GPtrArray   *awaits;     /* PendingAwait* */
  IlRunConfig  config;     /* the table's fields as read so far */
} Ctx;

typedef struct {
  IlStep      *step;
  char        *target;
  char        *path;
  guint32      line, col;
  guint32      task;
} PendingAwait;

static void
pending_await_free (PendingAwait *p)
{
  g_free (p->target);
  g_free (p->path);
  g_free (p);
}

static gboolean
invalid_at (Ctx        *c,
            guint32     line,
            guint32     col,
            const char *path,
            int         code,
            const char *fmt,
            ...) G_GNUC_PRINTF (6, 7);

static gboolean
invalid_at (Ctx        *c,
            guint32     line,
            guint32     col,
            const char *path,
            int         code,
            const char *fmt,
            ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  if (c->error == NULL || *c->error != NULL)
    return FALSE;
  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (c->error, IL_SCENARIO_ERROR, code, "%s:%u:%u: %s: %s", c->name, line, col, path, msg);
  return FALSE;
}

#define INVALID(c, node, ...) \
  invalid_at ((c), (node)->line, (node)->col, (c)->path->str, IL_SCENARIO_ERROR_INVALID, __VA_ARGS__)

static const char *
type_name (const JNode *n)
{
  static const char *names[] = { "null", "true/false", "a number", "a string", "a list", "an object" };
  return names[n->type];
}

static const JNode *
obj_get (const JNode *obj,
         const char  *key)
{
  for (guint i = 0; i < obj->keys->len; i++)
    if (g_str_equal (g_ptr_array_index (obj->keys, i), key))
      return g_ptr_array_index (obj->items, i);
  return NULL;
}

/* Path helpers: push ".key" or "[i]", pop back to a saved length. */
static gsize
path_key (Ctx        *c,
          const char *key)
{
  gsize len = c->path->len;
  g_string_append_printf (c->path, ".%s", key);
  return len;
}

static gsize
path_index (Ctx   *c,
            guint  i)
{
  gsize len = c->path->len;
  g_string_append_printf (c->path, "[%u]", i);
  return len;
}

static void
path_pop (Ctx   *c,
          gsize  len)
{
  g_string_truncate (c->path, len);
}

static gboolean
is_comment_key (const char *key)
{
  return key[0] == '_' || g_str_has_prefix (key, "x-");
}

/* Rejects keys not in `allowed` (NULL-terminated), naming the closest. */
static gboolean
check_keys (Ctx                *c,
            const JNode        *obj,
            const char * const *allowed)
{
  for (guint i = 0; i < obj->keys->len; i++)
    {
      const char *key = g_ptr_array_index (obj->keys, i);
      const JNode *v = g_ptr_array_index (obj->items, i);
      gboolean ok = is_comment_key (key);

      for (guint j = 0; !ok && allowed[j]; j++)
        ok = g_str_equal (key, allowed[j]);
      if (!ok)
        {
          g_autoptr(GString) list = g_string_new (NULL);
          gsize saved = path_key (c, key);
          for (guint j = 0; allowed[j]; j++)
            g_string_append_printf (list, "%s%s", j ? ", " : "", allowed[j]);
          INVALID (c, v, "unknown key \"%s\" (expected one of: %s)", key, list->str);
          path_pop (c, saved);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
want_type (Ctx         *c,
           const JNode *n,
           JType        type,
           const char  *what)
{
  if (n->type == type)
    return TRUE;
  return INVALID (c, n, "expected %s, got %s", what, type_name (n));
}

static gboolean
read_string (Ctx          *c,
             const JNode  *obj,
             const char   *key,
             char        **out)
{
  const JNode *n = obj_get (obj, key);
  gsize saved;
  gboolean ok;

  if (n == NULL)
    return TRUE;
  saved = path_key (c, key);
  ok = want_type (c, n, J_STRING, "a string");
  if (ok)
    {
      g_free (*out);
      *out = g_strdup (n->string);
    }
  path_pop (c, saved);
  return ok;
}

static gboolean
read_ms_node (Ctx         *c,
              const JNode *n,
              double       max_ms,
              gint64      *out)
{
  if (n->type != J_NUMBER)
    return INVALID (c, n, "expected a number of milliseconds, got %s", type_name (n));
  if (n->number < 0)
    return INVALID (c, n, "expected a non-negative number of milliseconds, got %g", n->number);
  if (n->number > max_ms)
    return invalid_at (c, n->line, n->col, c->path->str, IL_SCENARIO_ERROR_TOO_LARGE,
                       /* %.10g: 3600001 must not print as the limit itself (3.6e+06). */
                       "%.10g ms is more than the limit of %.10g ms", n->number, max_ms);
  *out = il_time_from_ms (n->number);
  return TRUE;
}

static gboolean
read_ms (Ctx         *c,
         const JNode *obj,
         const char  *key,
         double       max_ms,
         gint64      *out)
{
  const JNode *n = obj_get (obj, key);
  gsize saved;
  gboolean ok;

  if (n == NULL)
    return TRUE;
  saved = path_key (c, key);
  ok = read_ms_node (c, n, max_ms, out);
  path_pop (c, saved);
  return ok;
}

static gboolean
read_uint_node (Ctx         *c,
                const JNode *n,
                guint64      min,
                guint64      max,
                guint64     *out)
{
  if (n->type != J_NUMBER || n->number != floor (n->number))
    return INVALID (c, n, "expected a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT ", got %s",
                    min, max, n->type == J_NUMBER ? "a fraction" : type_name (n));
  if (n->number < (double) min || n->number > (double) max)
    return invalid_at (c, n->line, n->col, c->path->str,
                       n->number > (double) max ? IL_SCENARIO_ERROR_TOO_LARGE : IL_SCENARIO_ERROR_INVALID,
                       "expected a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT ", got %.15g",
                       min, max, n->number);
  *out = (guint64) n->number;
  return TRUE;
}

static guint32
intern_name (GPtrArray  *names,
             const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (g_ptr_array_index (names, i), name))
      return i;
  g_ptr_array_add (names, g_strdup (name));
  return names->len - 1;
}

static guint64
sat_add (guint64 a,
         guint64 b)
{
  return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

static guint64
sat_mul (guint64 a,
         guint64 b)
{
  return (a != 0 && b > G_MAXUINT64 / a) ? G_MAXUINT64 : a * b;
}

static gboolean read_steps (Ctx *c, const JNode *arr, guint depth, guint32 task,
                            IlStep **out, guint32 *n_out, guint64 *count, gint64 *duration);

static const char *step_kinds[] = {
  "cpu", "io", "sleep", "c", "yield", "repeat", "lock", "limit", "to_thread", "to_process", "await", "fail",
  "put", "get", NULL,
};

static gboolean
read_step (Ctx         *c,
           const JNode *n,
           guint        depth,
           guint32      task,
           IlStep      *step,
           guint64     *count,
           gint64      *duration)
{
  const char *kind = NULL;
  const JNode *v = NULL;
  gsize saved;
  gboolean ok = TRUE;

  if (!want_type (c, n, J_OBJECT, "a step object such as {\"cpu\": 10}"))
    return FALSE;

  for (guint i = 0; i < n->keys->len; i++)
    for (guint k = 0; step_kinds[k]; k++)
      if (g_str_equal (g_ptr_array_index (n->keys, i), step_kinds[k]))
        {
          if (kind != NULL)
            return INVALID (c, n, "a step has one kind, but this one has both \"%s\" and \"%s\"", kind, step_kinds[k]);
          kind = step_kinds[k];
          v = g_ptr_array_index (n->items, i);
        }
  if (kind == NULL)
    return INVALID (c, n, "unknown step: expected one of cpu, io, sleep, c, yield, repeat, lock, limit, "
                          "to_thread, to_process, await, fail, put, get");

  *count = 1;
  *duration = 0;
  saved = path_key (c, kind);

  if (g_str_equal (kind, "cpu") || g_str_equal (kind, "io") || g_str_equal (kind, "sleep") || g_str_equal (kind, "c"))
    {
      step->kind = kind[0] == 'c' ? (kind[1] == 'p' ? IL_STEP_CPU : IL_STEP_C) : kind[0] == 'i' ? IL_STEP_IO : IL_STEP_SLEEP;
      ok = read_ms_node (c, v, IL_SCENARIO_MAX_STEP_MS, &step->duration);
      *duration = step->duration;
      path_pop (c, saved);
      if (!ok)
        return FALSE;
      if (step->kind == IL_STEP_C)
        {
          static const char *keys[] = { "c", "gil", NULL };
          const JNode *gil = obj_get (n, "gil");
          if (!check_keys (c, n, keys))
            return FALSE;
          if (gil != NULL)
            {
              saved = path_key (c, "gil");
              if (gil->type != J_STRING || (!g_str_equal (gil->string, "hold") && !g_str_equal (gil->string, "release")))
                ok = INVALID (c, gil, "expected \"hold\" or \"release\"");
              else if (g_str_equal (gil->string, "release"))
                step->flags |= IL_STEP_FLAG_RELEASE_GIL;
              path_pop (c, saved);
            }
          return ok;
        }
      if (step->kind == IL_STEP_IO || step->kind == IL_STEP_SLEEP)
        {
          const char *keys[] = { kind, "blocking", NULL };
          const JNode *b = obj_get (n, "blocking");
          if (!check_keys (c, n, keys))
            return FALSE;
          if (b != NULL)
            {
              saved = path_key (c, "blocking");
              ok = want_type (c, b, J_BOOL, "true or false");
              if (ok && b->boolean)
                step->flags |= IL_STEP_FLAG_BLOCKING;
              path_pop (c, saved);
            }
          return ok;
        }
      {
        static const char *keys[] = { "cpu", NULL };
        return check_keys (c, n, keys);
      }
    }

  if (g_str_equal (kind, "yield"))
    {
      static const char *keys[] = { "yield", NULL };
      step->kind = IL_STEP_YIELD;
      ok = want_type (c, v, J_BOOL, "true");
      path_pop (c, saved);
      return ok && check_keys (c, n, keys);
    }

  if (g_str_equal (kind, "fail"))
    {
      static const char *keys[] = { "fail", NULL };
      step->kind = IL_STEP_FAIL;
      if (v->type == J_STRING)
        step->message = g_strdup (v->string);
      else if (v->type != J_BOOL || !v->boolean)
        ok = INVALID (c, v, "expected an error message or true");
      path_pop (c, saved);
      return ok && check_keys (c, n, keys);
    }

  if (g_str_equal (kind, "await"))
    {
      static const char *keys[] = { "await", NULL };
      step->kind = IL_STEP_AWAIT;
      if (v->type != J_STRING)
        ok = INVALID (c, v, "expected the name of a task, got %s", type_name (v));
      else
        {
          PendingAwait *p = g_new0 (PendingAwait, 1);
          p->step = step;
          p->target = g_strdup (v->string);
          p->path = g_strdup (c->path->str);
          p->line = v->line;
          p->col = v->col;
          p->task = task;
          g_ptr_array_add (c->awaits, p);
        }
      path_pop (c, saved);
      return ok && check_keys (c, n, keys);
    }

  if (g_str_equal (kind, "put") || g_str_equal (kind, "get"))
    {
      const char *keys[] = { kind, NULL };

      step->kind = kind[0] == 'p' ? IL_STEP_PUT : IL_STEP_GET;
      step->ref = G_MAXUINT32;
      if (v->type != J_STRING)
        ok = INVALID (c, v, "expected the name of a queue, got %s", type_name (v));
      else
        for (guint i = 0; i < c->sc->n_queues; i++)
          if (g_str_equal (c->sc->queues[i].name, v->string))
            step->ref = i;
      if (ok && step->ref == G_MAXUINT32)
        ok = INVALID (c, v, "no queue named \"%s\": declare it in \"queues\": {\"%s\": maxsize}",
                      v->string, v->string);
      path_pop (c, saved);
      return ok && check_keys (c, n, keys);
    }

  /* The kinds with a body. */
  if (depth + 1 > IL_SCENARIO_MAX_DEPTH)
    {
      INVALID (c, v, "steps nested more than %d levels deep", IL_SCENARIO_MAX_DEPTH);
      path_pop (c, saved);
      return FALSE;
    }

  if (g_str_equal (kind, "to_thread") || g_str_equal (kind, "to_process"))
    {
      const char *keys[] = { kind, NULL };
      guint64 body_count = 0;
      gint64 body_dur = 0;

      step->kind = kind[3] == 't' ? IL_STEP_TO_THREAD : IL_STEP_TO_PROCESS;
      ok = read_steps (c, v, depth + 1, task, &step->children, &step->n_children, &body_count, &body_dur);
      path_pop (c, saved);
      *count = sat_add (1, body_count);
      *duration = body_dur;
      return ok && check_keys (c, n, keys);
    }

  /* repeat, lock, limit: {"kind": …, "steps": [...]} */
  {
    const char *keys[] = { kind, "steps", NULL };
    const JNode *body = obj_get (n, "steps");
    guint64 body_count = 0;
    gint64 body_dur = 0;

    if (g_str_equal (kind, "repeat"))
      {
        guint64 times;
        step->kind = IL_STEP_REPEAT;
        ok = read_uint_node (c, v, 0, IL_SCENARIO_MAX_REPEAT, &times);
        step->count = (guint32) times;
      }
    else if (v->type != J_STRING || v->string[0] == '\0')
      ok = INVALID (c, v, "expected the name of a %s", kind);
    else if (g_str_equal (kind, "lock"))
      {
        step->kind = IL_STEP_LOCK;
        step->ref = intern_name (c->locks, v->string);
      }
    else
      {
        step->kind = IL_STEP_LIMIT;
        step->ref = G_MAXUINT32;
        for (guint i = 0; i < c->sc->n_limits; i++)
          if (g_str_equal (c->sc->limits[i].name, v->string))
            step->ref = i;
        if (step->ref == G_MAXUINT32)
          ok = INVALID (c, v, "no limit named \"%s\": declare it in \"limits\": {\"%s\": N}", v->string, v->string);
      }
    path_pop (c, saved);
    if (!ok || !check_keys (c, n, keys))
      return FALSE;

    if (body == NULL)
      return INVALID (c, n, "a %s step needs \"steps\": [...]", kind);
    saved = path_key (c, "steps");
    ok = read_steps (c, body, depth + 1, task, &step->children, &step->n_children, &body_count, &body_dur);
    path_pop (c, saved);
    if (!ok)
      return FALSE;

    if (step->kind == IL_STEP_REPEAT)
      {
        if (body_dur == 0 && step->count > 1000)
          return invalid_at (c, n->line, n->col, c->path->str, IL_SCENARIO_ERROR_TOO_LARGE,
                             "repeats %u times a body that takes no time: it would spin without end",
                             step->count);
        *count = sat_add (1, sat_mul (step->count, body_count));
        *duration = (gint64) MIN ((double) G_MAXINT64 / 2, (double) body_dur * step->count);
      }
    else
      {
        *count = sat_add (1, body_count);
        *duration = body_dur;
      }
    return TRUE;
  }
}

static gboolean
read_steps (Ctx          *c,
            const JNode  *arr,
            guint         depth,
            guint32       task,
            IlStep      **out,
            guint32      *n_out,
            guint64      *count,
            gint64       *duration)
{
  IlStep *steps;

  *count = 0;
  *duration = 0;
  if (!want_type (c, arr, J_ARRAY, "a list of steps"))
    return FALSE;
  if (arr->items->len == 0)
    return INVALID (c, arr, "the list of steps is empty");
  if (arr->items->len > 1000000)
    return invalid_at (c, arr->line, arr->col, c->path->str, IL_SCENARIO_ERROR_TOO_LARGE,
                       "more than 1,000,000 steps in one list");

  steps = g_new0 (IlStep, arr->items->len);
  *out = steps;
  *n_out = arr->items->len;
  for (guint i = 0; i < arr->items->len; i++)
    {
      guint64 n = 0;
      gint64 d = 0;
      gsize saved = path_index (c, i);
      gboolean ok = read_step (c, g_ptr_array_index (arr->items, i), depth, task, &steps[i], &n, &d);

      path_pop (c, saved);
      if (!ok)
        return FALSE;
      *count = sat_add (*count, n);
      *duration = (gint64) MIN ((double) G_MAXINT64 / 2, (double) *duration + (double) d);
    }
  return TRUE;
}

static gboolean
read_string_list (Ctx          *c,
                  const JNode  *obj,
                  const char   *key,
                  char       ***out)
{
  const JNode *n = obj_get (obj, key);
  g_autoptr(GStrvBuilder) b = NULL;
  gsize saved;

  if (n == NULL)
    return TRUE;
  saved = path_key (c, key);
  if (!want_type (c, n, J_ARRAY, "a list of strings"))
    return FALSE;
  b = g_strv_builder_new ();
  for (guint i = 0; i < n->items->len; i++)
    {
      const JNode *s = g_ptr_array_index (n->items, i);
      gsize s2 = path_index (c, i);
      if (!want_type (c, s, J_STRING, "a string"))
        return FALSE;
      path_pop (c, s2);
      g_strv_builder_add (b, s->string);
    }
  path_pop (c, saved);
  g_strfreev (*out);
  *out = g_strv_builder_end (b);
  return TRUE;
}

/* One field of the parameter table, checked against the table's limits. */
static gboolean
read_param (Ctx               *c,
            const JNode       *n,
            const IlParamInfo *p)
{
  g_autoptr(GError) local = NULL;
  double value;

  switch (p->type)
    {
    case IL_PARAM_TIME:
      if (n->type != J_NUMBER)
        return INVALID (c, n, "expected a number of milliseconds, got %s", type_name (n));
      value = n->number;
      break;
    case IL_PARAM_COUNT:
      if (n->type != J_NUMBER)
        return INVALID (c, n, "expected a whole number from %.0f to %.0f, got %s", p->min, p->max, type_name (n));
      value = n->number;
      break;
    case IL_PARAM_FRACTION:
      value = n->type == J_NUMBER ? n->number : NAN;
      break;
    case IL_PARAM_CHOICE:
      {
        const char * const *names = il_param_choices (p);
        value = NAN;
        for (guint i = 0; n->type == J_STRING && names[i] != NULL; i++)
          if (g_str_equal (n->string, names[i]))
            value = i;
      }
      break;
    default:
      g_assert_not_reached ();
    }
  if (!il_param_check (p, value, &local))
    return invalid_at (c, n->line, n->col, c->path->str,
                       local->code == IL_RUN_CONFIG_ERROR_TOO_LARGE ? IL_SCENARIO_ERROR_TOO_LARGE
                                                                   : IL_SCENARIO_ERROR_INVALID,
                       "%s", local->message);
  il_param_set (p, &c->config, value);
  return TRUE;
}

/* The table's fields found in obj: those of the "params" object, or those
 * at the top level. */
static gboolean
read_params (Ctx         *c,
             const JNode *obj,
             gboolean     in_params)
{
  guint n_params;
  const IlParamInfo *table = il_param_table (&n_params);

  for (guint i = 0; i < n_params; i++)
    {
      const IlParamInfo *p = &table[i];
      const JNode *n;
      gsize saved;
      gboolean ok;

      if (!(p->flags & IL_PARAM_FLAG_IN_PARAMS) != !in_params || (n = obj_get (obj, p->json_key)) == NULL)
        continue;
      saved = path_key (c, p->json_key);
      ok = read_param (c, n, p);
      path_pop (c, saved);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Keys of the "params" object, or of the top level around the table's. */
static const char **
allowed_keys (gboolean in_params)
{
  static const char *before[] = { "title", "description", "mode", "modes" };
  static const char *after[] = { "params", "limits", "queues", "tasks", "lesson" };
  GPtrArray *keys = g_ptr_array_new ();
  guint n_params;
  const IlParamInfo *table = il_param_table (&n_params);

  for (guint i = 0; !in_params && i < G_N_ELEMENTS (before); i++)
    g_ptr_array_add (keys, (gpointer) before[i]);
  for (guint i = 0; i < n_params; i++)
    if (!(table[i].flags & IL_PARAM_FLAG_IN_PARAMS) == !in_params)
      g_ptr_array_add (keys, (gpointer) table[i].json_key);
  for (guint i = 0; !in_params && i < G_N_ELEMENTS (after); i++)
    g_ptr_array_add (keys, (gpointer) after[i]);
  g_ptr_array_add (keys, NULL);
  return (const char **) g_ptr_array_free (keys, FALSE);
}

static gboolean
read_lesson (Ctx         *c,
             const JNode *n)
{
  static const char *keys[] = { "group", "concepts", "question", "choices", "correct", "answer", "look_at",
                                "check", "compare", NULL };
  static const char *compare_keys[] = { "task", NULL };
  IlScenario *sc = c->sc;
  const JNode *compare, *correct;

  if (!(want_type (c, n, J_OBJECT, "an object") && check_keys (c, n, keys)
        && read_string (c, n, "group", &sc->lesson_group)
        && read_string_list (c, n, "concepts", &sc->concepts)
        && read_string (c, n, "question", &sc->question)
        && read_string_list (c, n, "choices", &sc->choices)
        && read_string (c, n, "answer", &sc->answer)
        && read_string (c, n, "look_at", &sc->look_at)
        && read_string (c, n, "check", &sc->check)))
    return FALSE;
  /* "correct": the 0-based index of the right choice, so the window marks
   * it on reveal without guessing from the answer's words. */
  if ((correct = obj_get (n, "correct")) != NULL)
    {
      gsize saved = path_key (c, "correct");
      guint n_choices = sc->choices != NULL ? g_strv_length (sc->choices) : 0;

      if (n_choices == 0)
        return INVALID (c, correct, "\"correct\" needs a \"choices\" list to point into");
      /* Out of range is a mistake in the lesson, not a scenario too large to
       * run: INVALID either way, with the range that would do. */
      if (correct->type != J_NUMBER || correct->number != floor (correct->number)
          || correct->number < 0 || correct->number >= n_choices)
        return INVALID (c, correct, "expected the index of a choice, 0 to %u, got %s", n_choices - 1,
                        correct->type == J_NUMBER ? "a number outside that range" : type_name (correct));
      sc->correct = (gint32) correct->number;
      path_pop (c, saved);
    }
  /* "compare": {"task": name} — the task whose time the compare chart
   * shows; the name is checked once the tasks are read. */
  if ((compare = obj_get (n, "compare")) != NULL)
    {
      gsize saved = path_key (c, "compare");
      if (!want_type (c, compare, J_OBJECT, "an object {\"task\": name}") || !check_keys (c, compare, compare_keys)
          || !read_string (c, compare, "task", &sc->compare_task))
        return FALSE;
      path_pop (c, saved);
    }
  return TRUE;
}

static gboolean
read_mode (Ctx         *c,
           const JNode *n,
           IlMode      *out)
{
  if (n->type != J_STRING || !il_mode_from_string (n->string, out))
    return INVALID (c, n, "unknown mode %s%s%s: expected sequential, asyncio, threads, free-threading or processes",
                    n->type == J_STRING ? "\"" : "", n->type == J_STRING ? n->string : type_name (n),
                    n->type == J_STRING ? "\"" : "");
  return TRUE;
}

static gboolean
read_scenario (Ctx         *c,
               const JNode *root)
{
  g_autofree const char **keys = allowed_keys (FALSE);
  IlScenario *sc = c->sc;
  const JNode *n, *tasks;
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  gsize saved;

  if (!want_type (c, root, J_OBJECT, "a scenario object { \"tasks\": [...] }") || !check_keys (c, root, keys))
    return FALSE;

  if (!read_string (c, root, "title", &sc->title) || !read_string (c, root, "description", &sc->description))
    return FALSE;

  if ((n = obj_get (root, "mode")) != NULL)
    {
      saved = path_key (c, "mode");
      if (!read_mode (c, n, &sc->mode))
        return FALSE;
      path_pop (c, saved);
    }
  sc->modes_mask = IL_MODE_MASK (sc->mode);
  if ((n = obj_get (root, "modes")) != NULL)
    {
      saved = path_key (c, "modes");
      if (!want_type (c, n, J_ARRAY, "a list of modes"))
        return FALSE;
      if (n->items->len == 0)
        return INVALID (c, n, "the list of modes is empty");
      sc->modes_mask = 0;
      for (guint i = 0; i < n->items->len; i++)
        {
          IlMode m;
          gsize s2 = path_index (c, i);
          if (!read_mode (c, g_ptr_array_index (n->items, i), &m))
            return FALSE;
          path_pop (c, s2);
          sc->modes_mask |= IL_MODE_MASK (m);
        }
      path_pop (c, saved);
    }

  if (!read_params (c, root, FALSE))
    return FALSE;
  if ((n = obj_get (root, "params")) != NULL)
    {
      g_autofree const char **params_keys = allowed_keys (TRUE);
      saved = path_key (c, "params");
      if (!want_type (c, n, J_OBJECT, "an object of model parameters") || !check_keys (c, n, params_keys)
          || !read_params (c, n, TRUE))
        return FALSE;
      path_pop (c, saved);
    }
  {
    /* The checks above are the table's, field by field; this is the same
     * validator the trace loader and the CLI call, on the whole. */
    g_autoptr(GError) local = NULL;
    if (!il_run_config_validate (&c->config, IL_PARAM_KEYS_JSON, &local))
      return invalid_at (c, root->line, root->col, "$", IL_SCENARIO_ERROR_INVALID, "%s", local->message);
  }
  sc->cores = c->config.cores;
  sc->workers = c->config.workers;
  sc->switch_interval = c->config.switch_interval;
  sc->params = c->config.params;

  if ((n = obj_get (root, "limits")) != NULL)
    {
      saved = path_key (c, "limits");
      if (!want_type (c, n, J_OBJECT, "an object of {\"name\": capacity}"))
        return FALSE;
      sc->n_limits = n->keys->len;
      sc->limits = g_new0 (IlLimit, MAX (1, sc->n_limits));
      for (guint i = 0; i < n->keys->len; i++)
        {
          guint64 cap;
          gsize s2 = path_key (c, g_ptr_array_index (n->keys, i));
          sc->limits[i].name = g_strdup (g_ptr_array_index (n->keys, i));
          if (!read_uint_node (c, g_ptr_array_index (n->items, i), 1, 1000000, &cap))
            return FALSE;
          sc->limits[i].capacity = (guint32) cap;
          path_pop (c, s2);
        }
      path_pop (c, saved);
    }

  if ((n = obj_get (root, "queues")) != NULL)
    {
      saved = path_key (c, "queues");
      if (!want_type (c, n, J_OBJECT, "an object of {\"name\": maxsize} (0: unbounded)"))
        return FALSE;
      /* A queue's id in the trace is IL_QUEUE_USER | index in 14 bits:
       * beyond, ids would alias another queue or a process pool's. */
      if (n->keys->len > IL_SCENARIO_MAX_QUEUES)
        return INVALID (c, n, "%u queues: at most %u", n->keys->len, IL_SCENARIO_MAX_QUEUES);
      sc->n_queues = n->keys->len;
      sc->queues = g_new0 (IlQueueDecl, MAX (1, sc->n_queues));
      for (guint i = 0; i < n->keys->len; i++)
        {
          guint64 size;
          gsize s2;

          sc->queues[i].name = g_strdup (g_ptr_array_index (n->keys, i));
          if (sc->queues[i].name[0] == '\0')
            return INVALID (c, n, "a queue needs a name: \"\" is not one");
          s2 = path_key (c, sc->queues[i].name);
          if (!read_uint_node (c, g_ptr_array_index (n->items, i), 0, IL_SCENARIO_MAX_QUEUE_SIZE, &size))
            return FALSE;
          sc->queues[i].maxsize = (guint32) size;
          path_pop (c, s2);
        }
      path_pop (c, saved);
    }

  if ((n = obj_get (root, "lesson")) != NULL)
    {
      saved = path_key (c, "lesson");
      if (!read_lesson (c, n))
        return FALSE;
      path_pop (c, saved);
    }

  tasks = obj_get (root, "tasks");
  if (tasks == NULL)
    return invalid_at (c, root->line, root->col, "$", IL_SCENARIO_ERROR_INVALID,
                       "a scenario needs \"tasks\": [ {\"name\": …, \"steps\": [...]} ]");
  saved = path_key (c, "tasks");
  if (!want_type (c, tasks, J_ARRAY, "a list of tasks"))
    return FALSE;
  if (tasks->items->len == 0)
    return INVALID (c, tasks, "the list of tasks is empty: nothing to run");
  if (tasks->items->len > IL_SCENARIO_MAX_TASKS)
    return invalid_at (c, tasks->line, tasks->col, c->path->str, IL_SCENARIO_ERROR_TOO_LARGE,
                       "%u tasks; the limit is %d", tasks->items->len, IL_SCENARIO_MAX_TASKS);

  sc->n_tasks = tasks->items->len;
  sc->tasks = g_new0 (IlTask, sc->n_tasks);
  for (guint i = 0; i < sc->n_tasks; i++)
    {
      static const char *task_keys[] = { "name", "steps", "start", "group", NULL };
      const JNode *t = g_ptr_array_index (tasks->items, i);
      IlTask *task = &sc->tasks[i];
      const JNode *steps, *group;
      gsize s2 = path_index (c, i);
      guint64 count = 0;
      gint64 dur = 0;

      task->group = -1;
      if (!want_type (c, t, J_OBJECT, "a task object {\"name\": …, \"steps\": [...]}") || !check_keys (c, t, task_keys)
          || !read_string (c, t, "name", &task->name))
        return FALSE;
      if (task->name == NULL || task->name[0] == '\0')
        return INVALID (c, t, "a task needs a \"name\"");
      if (g_utf8_strlen (task->name, -1) > 200)
        return INVALID (c, obj_get (t, "name"), "the name is longer than 200 characters");
      if (g_hash_table_contains (names, task->name))
        {
          gsize s3 = path_key (c, "name");
          INVALID (c, obj_get (t, "name"), "another task is already called \"%s\"", task->name);
          path_pop (c, s3);
          return FALSE;
        }
      g_hash_table_add (names, task->name);
      if (!read_ms (c, t, "start", IL_SCENARIO_MAX_STEP_MS, &task->start))
        return FALSE;
      if ((group = obj_get (t, "group")) != NULL)
        {
          gsize s3 = path_key (c, "group");
          if (group->type != J_STRING || group->string[0] == '\0')
            return INVALID (c, group, "expected the name of a task group");
          task->group = (gint32) intern_name (c->groups, group->string);
          path_pop (c, s3);
        }
      if ((steps = obj_get (t, "steps")) == NULL)
        return INVALID (c, t, "task \"%s\" needs \"steps\": [...]", task->name);
      {
        gsize s3 = path_key (c, "steps");
        if (!read_steps (c, steps, 0, i, &task->steps, &task->n_steps, &count, &dur))
          return FALSE;
        path_pop (c, s3);
      }
      c->expanded = sat_add (c->expanded, count);
      if (c->expanded > IL_SCENARIO_MAX_EXPANDED)
        return invalid_at (c, t->line, t->col, c->path->str, IL_SCENARIO_ERROR_TOO_LARGE,
                           "the tasks so far would simulate more than %d steps (with every repeat unrolled); "
                           "the limit is %d", IL_SCENARIO_MAX_EXPANDED, IL_SCENARIO_MAX_EXPANDED);
      path_pop (c, s2);
    }
  path_pop (c, saved);

  /* Now that every task has a name, resolve the awaits. */
  for (guint i = 0; i < c->awaits->len; i++)
    {
      PendingAwait *p = g_ptr_array_index (c->awaits, i);
      gint32 idx = il_scenario_find_task (sc, p->target);

      if (idx < 0)
        return invalid_at (c, p->line, p->col, p->path, IL_SCENARIO_ERROR_INVALID, "no task called \"%s\"", p->target);
      if ((guint32) idx == p->task)
        return invalid_at (c, p->line, p->col, p->path, IL_SCENARIO_ERROR_INVALID, "a task cannot await itself");
      p->step->ref = (guint32) idx;
    }

  if (sc->compare_task != NULL && il_scenario_find_task (sc, sc->compare_task) < 0)
    {
      const JNode *task = obj_get (obj_get (obj_get (root, "lesson"), "compare"), "task");
      g_string_assign (c->path, "$.lesson.compare.task");
      return INVALID (c, task, "no task called \"%s\"", sc->compare_task);
    }

  return TRUE;
}

static void
steps_free (IlStep  *steps,
            guint32  n)
{
  if (steps == NULL)
    return;
  for (guint32 i = 0; i < n; i++)
    {
      steps_free (steps[i].children, steps[i].n_children);
      g_free (steps[i].message);
    }
  g_free (steps);
}

IlScenario *
il_scenario_ref (const IlScenario *sc)
{
  IlScenario *self = (IlScenario *) sc;

  g_return_val_if_fail (sc != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}


void
il_scenario_unref (IlScenario *sc)
{
  if (sc == NULL || !g_atomic_ref_count_dec (&sc->ref_count))
    return;
  for (guint i = 0; i < sc->n_tasks; i++)
    {
      g_free (sc->tasks[i].name);
      steps_free (sc->tasks[i].steps, sc->tasks[i].n_steps);
    }
  g_free (sc->tasks);
  for (guint i = 0; i < sc->n_locks; i++)
    g_free (sc->locks[i]);
  g_free (sc->locks);
  for (guint i = 0; i < sc->n_limits; i++)
    g_free (sc->limits[i].name);
  g_free (sc->limits);
  for (guint i = 0; i < sc->n_queues; i++)
    g_free (sc->queues[i].name);
  g_free (sc->queues);
  for (guint i = 0; i < sc->n_groups; i++)
    g_free (sc->groups[i]);
  g_free (sc->groups);
  g_free (sc->title);
  g_free (sc->description);
  g_free (sc->filename);
  g_free (sc->lesson_group);
  g_strfreev (sc->concepts);
  g_free (sc->question);
  g_strfreev (sc->choices);
  g_free (sc->answer);
  g_free (sc->look_at);
  g_free (sc->compare_task);
  g_free (sc->check);
  g_free (sc);
}

static IlScenario *
scenario_new_defaults (void)
{
  IlScenario *sc = g_new0 (IlScenario, 1);
  IlRunConfig config;

  g_atomic_ref_count_init (&sc->ref_count);
  il_run_config_init_defaults (&config);
  sc->mode = config.mode;
  sc->cores = config.cores;
  sc->workers = config.workers;
  sc->switch_interval = config.switch_interval;
  sc->params = config.params;
  sc->modes_mask = IL_MODE_MASK (sc->mode);
  sc->correct = -1;
  return sc;
}

static char **
take_names (GPtrArray *names,
            guint32   *n)
{
  *n = names->len;
  return (char **) g_ptr_array_free (names, FALSE);
}

/* Everything is set here, filename included: once returned, a scenario
 * never changes (it may already be shared). */
static IlScenario *
load_data (const char  *data,
           gssize       length,
           const char  *display_name,
           const char  *filename,
           GError     **error)
{
  g_autoptr(IlScenario) sc = NULL;
  g_autoptr(GString) path = g_string_new ("$");
  JNode *root;
  Ctx c;
  gboolean ok;
  gsize len;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (display_name == NULL)
    display_name = "<scenario>";
  len = length < 0 ? strlen (data) : (gsize) length;
  if (len > 64 * 1024 * 1024)
    {
      g_set_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_TOO_LARGE,
                   "%s: %.0f MB is too large for a scenario file (the limit is 64 MB)", display_name, len / 1e6);
      return NULL;
    }
  if (memchr (data, '\0', len) != NULL)
    {
      /* Name the place of the first NUL like any other syntax error. */
      const char *nul = memchr (data, '\0', len);
      guint line = 1, col = 1;
      for (const char *p = data; p < nul; p++)
        {
          if (*p == '\n')
            line++, col = 1;
          else if (((guchar) *p & 0xC0) != 0x80)
            col++;
        }
      g_set_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_SYNTAX,
                   "%s:%u:%u: a NUL byte: this is a binary file (or UTF-16), not a scenario", display_name, line, col);
      return NULL;
    }

  root = json_read (data ? data : "", len, display_name, error);
  if (root == NULL)
    return NULL;

  sc = scenario_new_defaults ();
  il_run_config_init_defaults (&c.config);
  c.name = display_name;
  c.error = error;
  c.path = path;
  c.sc = sc;
  c.locks = g_ptr_array_new ();
  c.groups = g_ptr_array_new ();
  c.expanded = 0;
  c.awaits = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_await_free);

  ok = read_scenario (&c, root);
  sc->locks = take_names (c.locks, &sc->n_locks);
  sc->groups = take_names (c.groups, &sc->n_groups);
  g_ptr_array_unref (c.awaits);
  jnode_free (root);
  if (!ok)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_INVALID, "%s: not a valid scenario", display_name);
      return NULL;
    }

  if (sc->title == NULL)
    {
      g_autofree char *base = g_path_get_basename (display_name);
      char *dot = strrchr (base, '.');
      if (dot != NULL && dot != base)
        *dot = '\0';
      sc->title = g_strdup (base);
    }
  sc->filename = g_strdup (filename);
  return g_steal_pointer (&sc);
}

IlScenario *
il_scenario_load_data (const char  *data,
                       gssize       length,
                       const char  *display_name,
                       GError     **error)
{
  return load_data (data, length, display_name, NULL, error);
}

IlScenario *
il_scenario_load_file (const char  *path,
                       GError     **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;
  GStatBuf st;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_stat (path, &st) == 0 && st.st_size > 64 * 1024 * 1024)
    {
      g_set_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_TOO_LARGE,
                   "%s: %.0f MB is too large for a scenario file (the limit is 64 MB)", path, st.st_size / 1e6);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, IL_SCENARIO_ERROR, IL_SCENARIO_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return load_data (data, (gssize) len, path, path, error);
}

gint32
il_scenario_find_task (const IlScenario *sc,
                       const char       *name)
{
  g_return_val_if_fail (sc != NULL, -1);

  for (guint i = 0; i < sc->n_tasks; i++)
    if (g_strcmp0 (sc->tasks[i].name, name) == 0)
      return (gint32) i;
  return -1;
}

/* ------------------------------------------------------------------ */
/* Copying and writing                                                 */

static IlStep *
steps_copy (const IlStep *steps,
            guint32       n)
{
  IlStep *copy;

  if (steps == NULL)
    return NULL;
  copy = g_memdup2 (steps, sizeof (IlStep) * n);
  for (guint32 i = 0; i < n; i++)
    {
      copy[i].children = steps_copy (steps[i].children, steps[i].n_children);
      copy[i].message = g_strdup (steps[i].message);
    }
  return copy;
}

static char **
names_copy (char * const *names,
            guint32       n)
{
  char **copy = g_new0 (char *, n + 1);
  for (guint32 i = 0; i < n; i++)
    copy[i] = g_strdup (names[i]);
  return copy;
}

IlScenario *
il_scenario_copy (const IlScenario *sc)
{
  IlScenario *copy;

  g_return_val_if_fail (sc != NULL, NULL);

  copy = g_memdup2 (sc, sizeof *sc);
  g_atomic_ref_count_init (&copy->ref_count);
  copy->title = g_strdup (sc->title);
  copy->description = g_strdup (sc->description);
  copy->filename = g_strdup (sc->filename);
  copy->tasks = g_new0 (IlTask, MAX (1, sc->n_tasks));
  for (guint i = 0; i < sc->n_tasks; i++)
    {
      copy->tasks[i] = sc->tasks[i];
      copy->tasks[i].name = g_strdup (sc->tasks[i].name);
      copy->tasks[i].steps = steps_copy (sc->tasks[i].steps, sc->tasks[i].n_steps);
    }
  copy->locks = names_copy (sc->locks, sc->n_locks);
  copy->groups = names_copy (sc->groups, sc->n_groups);
  copy->limits = g_new0 (IlLimit, MAX (1, sc->n_limits));
  for (guint i = 0; i < sc->n_limits; i++)
    {
      copy->limits[i].name = g_strdup (sc->limits[i].name);
      copy->limits[i].capacity = sc->limits[i].capacity;
    }
  copy->queues = g_new0 (IlQueueDecl, MAX (1, sc->n_queues));
  for (guint i = 0; i < sc->n_queues; i++)
    {
      copy->queues[i].name = g_strdup (sc->queues[i].name);
      copy->queues[i].maxsize = sc->queues[i].maxsize;
    }
  copy->lesson_group = g_strdup (sc->lesson_group);
  copy->concepts = g_strdupv (sc->concepts);
  copy->question = g_strdup (sc->question);
  copy->choices = g_strdupv (sc->choices);
  copy->answer = g_strdup (sc->answer);
  copy->look_at = g_strdup (sc->look_at);
  copy->compare_task = g_strdup (sc->compare_task);
  copy->check = g_strdup (sc->check);
  return copy;
}


static void write_steps (GString *out, const IlScenario *sc, const IlStep *steps, guint32 n, guint indent);

static void
write_step (GString          *out,
            const IlScenario *sc,
            const IlStep     *s,
            guint             indent)
{
  static const char *kinds[IL_N_STEP_KINDS] = {
    [IL_STEP_CPU] = "cpu", [IL_STEP_IO] = "io", [IL_STEP_SLEEP] = "sleep", [IL_STEP_C] = "c",
    [IL_STEP_YIELD] = "yield", [IL_STEP_REPEAT] = "repeat", [IL_STEP_LOCK] = "lock", [IL_STEP_LIMIT] = "limit",
    [IL_STEP_TO_THREAD] = "to_thread", [IL_STEP_TO_PROCESS] = "to_process", [IL_STEP_AWAIT] = "await",
    [IL_STEP_FAIL] = "fail", [IL_STEP_PUT] = "put", [IL_STEP_GET] = "get",
  };

  g_string_append_printf (out, "{\"%s\": ", kinds[s->kind]);
  switch (s->kind)
    {
    case IL_STEP_CPU:
    case IL_STEP_IO:
    case IL_STEP_SLEEP:
    case IL_STEP_C:
      il_json_append_ms (out, s->duration);
      if (s->flags & IL_STEP_FLAG_BLOCKING)
        g_string_append (out, ", \"blocking\": true");
      if (s->flags & IL_STEP_FLAG_RELEASE_GIL)
        g_string_append (out, ", \"gil\": \"release\"");
      break;
    case IL_STEP_YIELD:
      g_string_append (out, "true");
      break;
    case IL_STEP_FAIL:
      if (s->message)
        il_json_append_string (out, s->message);
      else
        g_string_append (out, "true");
      break;
    case IL_STEP_AWAIT:
      il_json_append_string (out, sc->tasks[s->ref].name);
      break;
    case IL_STEP_PUT:
    case IL_STEP_GET:
      il_json_append_string (out, sc->queues[s->ref].name);
      break;
    case IL_STEP_TO_THREAD:
    case IL_STEP_TO_PROCESS:
      write_steps (out, sc, s->children, s->n_children, indent + 2);
      break;
    case IL_STEP_REPEAT:
    case IL_STEP_LOCK:
    case IL_STEP_LIMIT:
      if (s->kind == IL_STEP_REPEAT)
        g_string_append_printf (out, "%u", s->count);
      else
        il_json_append_string (out, s->kind == IL_STEP_LOCK ? sc->locks[s->ref] : sc->limits[s->ref].name);
      g_string_append (out, ", \"steps\": ");
      write_steps (out, sc, s->children, s->n_children, indent + 2);
      break;
    case IL_N_STEP_KINDS:
    default:
      g_assert_not_reached ();
    }
  g_string_append_c (out, '}');
}

static void
write_steps (GString          *out,
             const IlScenario *sc,
             const IlStep     *steps,
             guint32           n,
             guint             indent)
{
  g_string_append_c (out, '[');
  for (guint32 i = 0; i < n; i++)
    {
      g_string_append (out, i ? ", " : " ");
      write_step (out, sc, &steps[i], indent);
    }
  g_string_append (out, " ]");
}

static void
write_key_string (GString    *out,
                  const char *key,
                  const char *value,
                  const char *indent)
{
  if (value == NULL)
    return;
  g_string_append_printf (out, "%s\"%s\": ", indent, key);
  il_json_append_string (out, value);
  g_string_append (out, ",\n");
}

static void
write_key_strv (GString     *out,
                const char  *key,
                char       **values,
                const char  *indent)
{
  if (values == NULL)
    return;
  g_string_append_printf (out, "%s\"%s\": [", indent, key);
  for (guint i = 0; values[i]; i++)
    {
      g_string_append (out, i ? ", " : "");
      il_json_append_string (out, values[i]);
    }
  g_string_append (out, "],\n");
}

char *
il_scenario_to_json (const IlScenario *sc)
{
  GString *out;
  IlRunConfig config;
  guint n_params;
  const IlParamInfo *table = il_param_table (&n_params);

  g_return_val_if_fail (sc != NULL, NULL);

  out = g_string_new ("{\n");
  write_key_string (out, "title", sc->title, "  ");
  write_key_string (out, "description", sc->description, "  ");
  g_string_append_printf (out, "  \"mode\": \"%s\",\n", il_mode_to_string (sc->mode));
  if (sc->modes_mask != IL_MODE_MASK (sc->mode))
    {
      gboolean first = TRUE;
      g_string_append (out, "  \"modes\": [");
      for (guint m = 0; m < IL_N_MODES; m++)
        if (sc->modes_mask & IL_MODE_MASK (m))
          {
            g_string_append_printf (out, "%s\"%s\"", first ? "" : ", ", il_mode_to_string (m));
            first = FALSE;
          }
      g_string_append (out, "],\n");
    }
  /* The table's fields: the top-level ones, then every parameter in
   * "params", so a saved trace says exactly what it ran with. */
  config.mode = sc->mode;
  config.cores = sc->cores;
  config.workers = sc->workers;
  config.switch_interval = sc->switch_interval;
  config.params = sc->params;
  for (guint i = 0; i < n_params; i++)
    if (!(table[i].flags & IL_PARAM_FLAG_IN_PARAMS))
      {
        g_string_append_printf (out, "  \"%s\": ", table[i].json_key);
        il_param_append_value (out, &table[i], &config, IL_PARAM_KEYS_JSON);
        g_string_append (out, ",\n");
      }
  g_string_append (out, "  \"params\": {");
  for (guint i = 0, k = 0; i < n_params; i++)
    if (table[i].flags & IL_PARAM_FLAG_IN_PARAMS)
      {
        g_string_append_printf (out, "%s\"%s\": ", k++ ? ", " : " ", table[i].json_key);
        il_param_append_value (out, &table[i], &config, IL_PARAM_KEYS_JSON);
      }
  g_string_append (out, " },\n");

  if (sc->n_limits > 0)
    {
      g_string_append (out, "  \"limits\": {");
      for (guint i = 0; i < sc->n_limits; i++)
        {
          g_string_append (out, i ? ", " : " ");
          il_json_append_string (out, sc->limits[i].name);
          g_string_append_printf (out, ": %u", sc->limits[i].capacity);
        }
      g_string_append (out, " },\n");
    }

  if (sc->n_queues > 0)
    {
      g_string_append (out, "  \"queues\": {");
      for (guint i = 0; i < sc->n_queues; i++)
        {
          g_string_append (out, i ? ", " : " ");
          il_json_append_string (out, sc->queues[i].name);
          g_string_append_printf (out, ": %u", sc->queues[i].maxsize);
        }
      g_string_append (out, " },\n");
    }

  if (sc->lesson_group || sc->concepts || sc->question || sc->choices || sc->answer || sc->look_at || sc->check
      || sc->compare_task)
    {
      g_string_append (out, "  \"lesson\": {\n");
      write_key_string (out, "group", sc->lesson_group, "    ");
      write_key_strv (out, "concepts", sc->concepts, "    ");
      write_key_string (out, "question", sc->question, "    ");
      write_key_strv (out, "choices", sc->choices, "    ");
      if (sc->correct >= 0)
        g_string_append_printf (out, "    \"correct\": %d,\n", sc->correct);
      write_key_string (out, "answer", sc->answer, "    ");
      write_key_string (out, "look_at", sc->look_at, "    ");
      write_key_string (out, "check", sc->check, "    ");
      if (sc->compare_task != NULL)
        {
          g_string_append (out, "    \"compare\": { \"task\": ");
          il_json_append_string (out, sc->compare_task);
          g_string_append (out, " },\n");
        }
      /* Drop the last comma. */
      g_string_truncate (out, out->len - 2);
      g_string_append (out, "\n  },\n");
    }

  g_string_append (out, "  \"tasks\": [\n");
  for (guint i = 0; i < sc->n_tasks; i++)
    {
      const IlTask *t = &sc->tasks[i];
      g_string_append (out, "    { \"name\": ");
      il_json_append_string (out, t->name);
      if (t->start > 0)
        {
          g_string_append (out, ", \"start\": ");
          il_json_append_ms (out, t->start);
        }
      if (t->group >= 0)
        {
          g_string_append (out, ", \"group\": ");
          il_json_append_string (out, sc->groups[t->group]);
        }
      g_string_append (out, ", \"steps\": ");
      write_steps (out, sc, t->steps, t->n_steps, 6);
      g_string_append_printf (out, " }%s\n", i + 1 < sc->n_tasks ? "," : "");
    }
  g_string_append (out, "  ]\n}\n");

  return g_string_free (out, FALSE);
}
