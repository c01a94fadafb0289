/* il-engine-queue.c — the event queue
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

void
schedule (IlEngine *e,
          gint64    t,
          EvKind    kind,
          guint32   id,
          guint32   gen)
{
  Ev ev = { t, e->seq++, kind, id, gen };
  Ev *v;
  guint i;

  g_array_append_val (e->heap, ev);
  v = (Ev *) (gpointer) e->heap->data;
  i = e->heap->len - 1;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (v[parent].t < v[i].t || (v[parent].t == v[i].t && v[parent].seq < v[i].seq))
        break;
      Ev tmp = v[parent]; v[parent] = v[i]; v[i] = tmp;
      i = parent;
    }
}

void
heap_pop (IlEngine *e,
          Ev       *out)
{
  Ev *v = (Ev *) (gpointer) e->heap->data;
  guint n = e->heap->len - 1, i = 0;

  *out = v[0];
  v[0] = v[n];
  g_array_set_size (e->heap, n);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && (v[l].t < v[m].t || (v[l].t == v[m].t && v[l].seq < v[m].seq)))
        m = l;
      if (r < n && (v[r].t < v[m].t || (v[r].t == v[m].t && v[r].seq < v[m].seq)))
        m = r;
      if (m == i)
        break;
      Ev tmp = v[m]; v[m] = v[i]; v[i] = tmp;
      i = m;
    }
}
