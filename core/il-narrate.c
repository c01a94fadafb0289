/* il-narrate.c — describe the scheduling events of one instant
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One sentence per event that means something to a learner; the events
 * that only follow from another one at the same instant (a core changing
 * hands when a thread blocks, a pool worker mirroring its task, the task
 * becoming "running" because the loop stepped it) are left out, so a step
 * reads as what happened rather than as a list of records.  Each sentence
 * also says until when its consequence lasts; the zoom range covers them.
 */
#include "il-narrate.h"

#include <string.h>

#include "il-queues.h"
#include "il-steps.h"

#define MAX_SENTENCES 5

typedef struct {
  const IlTrace *trace;
  gint64         t;
  gsize          first, last;  /* events [first, last) are at t */
  GPtrArray     *sentences;    /* char* */
  gint64         until;        /* latest consequence of what was said */
  gint64         pending;      /* consequence of the event being narrated, kept if it was said */
  GPtrArray     *names;        /* char*: labels made for this instant */
  guint          skipped;
} Ctx;

/* ------------------------------------------------------------------ */
/* Small queries                                                       */

static const char *
name_of (const IlTrace *trace,
         guint32        lane)
{
  if (lane == IL_NO_LANE || lane >= il_trace_get_n_lanes (trace))
    return "?";
  return il_trace_get_lane (trace, lane)->name;
}

static char *
duration (gint64 ns)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (ns < IL_MSEC (1))
    return g_strdup_printf ("%s µs", g_ascii_formatd (buf, sizeof buf, "%.3g", (double) ns / 1e3));
  if (ns < IL_MSEC (1000))
    return g_strdup_printf ("%s ms", g_ascii_formatd (buf, sizeof buf, "%.3g", (double) ns / 1e6));
  return g_strdup_printf ("%s s", g_ascii_formatd (buf, sizeof buf, "%.3g", (double) ns / 1e9));
}

/* Time of the next event on `lane` after t of the kind (and, for STATE,
 * any value), or -1. */
static gint64
next_on_lane (const IlTrace *trace,
              guint32        lane,
              gint64         t,
              IlEventKind    kind)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (trace, lane);

  for (guint i = il_trace_lane_lower_bound (trace, lane, t + 1); i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (trace->kind[e] == kind)
        return trace->time[e];
    }
  return -1;
}

/* A GIL holder by name, and for a pool worker the task it is running:
 * "ThreadPoolExecutor-0_0 (req_01)".  Returns a string owned by the
 * context's pool of names. */
static const char *
holder_name (Ctx     *c,
             guint32  lane)
{
  const IlTrace *tr = c->trace;
  const IlLaneIndex *idx;
  guint pos;

  if (lane == IL_NO_LANE || lane >= il_trace_get_n_lanes (tr) || il_trace_get_lane (tr, lane)->kind != IL_LANE_THREAD)
    return name_of (tr, lane);
  idx = il_trace_get_lane_events (tr, lane);
  pos = il_trace_lane_lower_bound (tr, lane, c->t + 1);
  while (pos-- > 0)
    {
      guint32 e = idx->data[pos];
      if (tr->kind[e] == IL_EVENT_QUEUE && (tr->value[e] & 3) == IL_QUEUE_POP && tr->arg[e] != IL_NO_LANE)
        {
          char *label;
          if (il_trace_state_at (tr, tr->arg[e], c->t, NULL) == IL_STATE_DONE
              && il_trace_state_at (tr, tr->arg[e], c->t - 1, NULL) == IL_STATE_DONE)
            break;
          label = g_strdup_printf ("%s (%s)", name_of (tr, lane), name_of (tr, tr->arg[e]));
          g_ptr_array_add (c->names, label);
          return label;
        }
    }
  return name_of (tr, lane);
}

static void
consequence_long (Ctx    *c,
                  gint64  until)
{
  c->pending = MAX (c->pending, MIN (until, MAX (c->trace->end_time, c->t)));
}

/* Most consequences are shown for at most two switch intervals, so a step
 * zooms to what it changed nearby rather than to the end of a long wait. */
static void
consequence (Ctx    *c,
             gint64  until)
{
  gint64 cap = 2 * (c->trace->scenario != NULL ? c->trace->scenario->switch_interval : IL_MSEC (5));

  consequence_long (c, MIN (until, c->t + cap));
}

/* The GIL lane of the process a thread or task lane belongs to. */
static guint32
gil_of (const IlTrace *trace,
        guint32        lane)
{
  guint32 proc = il_trace_get_lane (trace, lane)->parent;

  for (guint l = 0; l < il_trace_get_n_lanes (trace); l++)
    if (il_trace_get_lane (trace, l)->kind == IL_LANE_GIL && il_trace_get_lane (trace, l)->parent == proc)
      return l;
  return IL_NO_LANE;
}

/* Holder of a GIL after every event at t. */
static guint32
holder_after (const Ctx *c,
              guint32    gil)
{
  return il_trace_gil_holder_at (c->trace, gil, c->t);
}

/* Does an event of this kind happen at t on that lane (with that value,
 * when value >= 0)? */
static gboolean
at_t (const Ctx   *c,
      IlEventKind  kind,
      guint32      lane,
      int          value)
{
  for (gsize e = c->first; e < c->last; e++)
    if (c->trace->kind[e] == kind && il_trace_event_lane (c->trace, e) == lane && (value < 0 || c->trace->value[e] == value))
      return TRUE;
  return FALSE;
}

static gboolean
task_state_at_t (const Ctx *c,
                 int        state)
{
  for (gsize e = c->first; e < c->last; e++)
    if (c->trace->kind[e] == IL_EVENT_STATE && c->trace->value[e] == state
        && il_trace_get_lane (c->trace, il_trace_event_lane (c->trace, e))->kind == IL_LANE_TASK)
      return TRUE;
  return FALSE;
}

/* The scenario step with that number of the task on `lane`, or NULL. */
static const IlStep *
step_of (const IlTrace *trace,
         guint32        lane,
         guint32        number)
{
  const IlLane *l = il_trace_get_lane (trace, lane);
  g_autoptr(GPtrArray) flat = NULL;

  if (trace->scenario == NULL || l->kind != IL_LANE_TASK || l->index >= trace->scenario->n_tasks
      || g_strcmp0 (trace->scenario->tasks[l->index].name, l->name) != 0)
    return NULL;
  flat = il_steps_flatten (&trace->scenario->tasks[l->index]);
  return number < flat->len ? flat->pdata[number] : NULL;
}

/* The step the task on `lane` is at, after the events at t. */
static const IlStep *
current_step (const Ctx *c,
              guint32    lane)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (c->trace, lane);
  guint pos = il_trace_lane_lower_bound (c->trace, lane, c->t + 1);

  while (pos-- > 0)
    {
      guint32 e = idx->data[pos];
      if (c->trace->kind[e] == IL_EVENT_STEP)
        return step_of (c->trace, lane, c->trace->arg[e]);
    }
  return NULL;
}

/* A step in a few words: "5 ms of Python", "10 ms of I/O". */
static char *
describe_step (const IlTrace *trace,
               const IlStep  *s)
{
  g_autofree char *d = NULL;
  gboolean loop = trace->mode == IL_MODE_ASYNCIO;

  if (s == NULL)
    return NULL;
  d = duration (s->duration);
  switch (s->kind)
    {
    case IL_STEP_CPU: return g_strdup_printf ("%s of Python", d);
    case IL_STEP_IO: return g_strdup_printf ("%s of I/O%s", d, (s->flags & IL_STEP_FLAG_BLOCKING) && loop ? ", blocking the loop" : "");
    case IL_STEP_SLEEP:
      return g_strdup_printf ("%s(%s)%s", loop && !(s->flags & IL_STEP_FLAG_BLOCKING) ? "asyncio.sleep" : "time.sleep", d,
                              (s->flags & IL_STEP_FLAG_BLOCKING) && loop ? ", blocking the loop" : "");
    case IL_STEP_C:
      return g_strdup_printf ("a %s C call that %s the GIL", d, (s->flags & IL_STEP_FLAG_RELEASE_GIL) ? "releases" : "keeps");
    case IL_STEP_YIELD: return g_strdup (loop ? "asyncio.sleep(0)" : "time.sleep(0)");
    case IL_STEP_LOCK:
      return g_strdup_printf ("with %s", trace->scenario != NULL && s->ref < trace->scenario->n_locks ? trace->scenario->locks[s->ref] : "a lock");
    case IL_STEP_LIMIT:
      return g_strdup_printf ("with %s", trace->scenario != NULL && s->ref < trace->scenario->n_limits
                                         ? trace->scenario->limits[s->ref].name : "a semaphore");
    case IL_STEP_TO_THREAD: return g_strdup ("asyncio.to_thread(…)");
    case IL_STEP_TO_PROCESS: return g_strdup ("work for a process pool");
    case IL_STEP_AWAIT:
      return g_strdup_printf ("await %s", trace->scenario != NULL && s->ref < trace->scenario->n_tasks
                                          ? trace->scenario->tasks[s->ref].name : "a task");
    case IL_STEP_FAIL: return g_strdup_printf ("raise %s", s->message != NULL ? s->message : "an exception");
    case IL_STEP_PUT:
    case IL_STEP_GET:
      {
        const char *q = trace->scenario != NULL && s->ref < trace->scenario->n_queues
                        ? trace->scenario->queues[s->ref].name : "a queue";
        if (s->kind == IL_STEP_PUT)
          return g_strdup_printf ("%s%s.put(item)", loop ? "await " : "", q);
        return g_strdup_printf ("%s%s.get()", loop ? "await " : "", q);
      }
    case IL_STEP_REPEAT:
    case IL_N_STEP_KINDS:
    default:
      return NULL;
    }
}

static gboolean
blocking_step (const IlStep *s)
{
  return s != NULL && (s->flags & IL_STEP_FLAG_BLOCKING) != 0;
}

static void G_GNUC_PRINTF (2, 3)
say (Ctx        *c,
     const char *fmt,
     ...)
{
  va_list args;
  char *text;

  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);
  for (guint i = 0; i < c->sentences->len; i++)
    if (g_str_equal (g_ptr_array_index (c->sentences, i), text))
      {
        g_free (text);
        return;
      }
  if (c->sentences->len >= MAX_SENTENCES)
    {
      c->skipped++;
      g_free (text);
      return;
    }
  g_ptr_array_add (c->sentences, text);
}

/* ------------------------------------------------------------------ */
/* The scenario's queues                                               */

/* A user queue's name, owned by the context. */
static const char *
queue_label (Ctx     *c,
             guint16  queue)
{
  char *label = il_queue_label (c->trace, queue);

  g_ptr_array_add (c->names, label);
  return label;
}

/* How many `op` events `queue` has had up to event `upto` included: with
 * FIFO order, the n-th item put is the n-th taken, so this numbers items. */
static guint
queue_ordinal (const IlTrace *tr,
               gsize          upto,
               guint16        queue,
               IlQueueOp      op)
{
  guint n = 0;

  for (gsize f = 0; f <= upto && f < tr->n_events; f++)
    if (tr->kind[f] == IL_EVENT_QUEUE && tr->aux[f] == queue && (tr->value[f] & 3) == op)
      n++;
  return n;
}

/* The next event on `lane` after event `after` of this kind: a PUSH on
 * `queue` (QUEUE events) or one with this cause (STATE events), as an
 * index, or -1. */
static gssize
next_queue_event (const IlTrace *tr,
                  guint32        lane,
                  gsize          after,
                  IlEventKind    kind,
                  guint          match)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (tr, lane);

  for (guint i = il_trace_lane_lower_bound (tr, lane, tr->time[after]); i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      if (e <= after || tr->kind[e] != kind)
        continue;
      if (kind == IL_EVENT_QUEUE && tr->aux[e] == match && (tr->value[e] & 3) == IL_QUEUE_PUSH)
        return e;
      if (kind == IL_EVENT_STATE && tr->aux[e] == match && tr->arg[e] != IL_NO_LANE)
        return e;
    }
  return -1;
}

/* The QUEUE WAIT event `lane` recorded last at or before t, or -1. */
static gssize
last_queue_wait (const IlTrace *tr,
                 guint32        lane,
                 gint64         t)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (tr, lane);
  guint pos = il_trace_lane_lower_bound (tr, lane, t + 1);

  while (pos-- > 0)
    {
      guint32 e = idx->data[pos];
      if (tr->kind[e] == IL_EVENT_QUEUE && (tr->value[e] & 3) == IL_QUEUE_WAIT)
        return e;
    }
  return -1;
}

/* Items in a queue just after event e (events at t before it included). */
static guint
queue_length_after (const Ctx *c,
                    gsize      e)
{
  const IlTrace *tr = c->trace;
  g_autoptr(GArray) before = il_queue_items_at (tr, tr->aux[e], c->t - 1);
  gint n = (gint) before->len;

  for (gsize f = c->first; f <= e; f++)
    if (tr->kind[f] == IL_EVENT_QUEUE && tr->aux[f] == tr->aux[e])
      switch (tr->value[f] & 3)
        {
        case IL_QUEUE_PUSH: n++; break;
        case IL_QUEUE_POP:
        case IL_QUEUE_DROP: n--; break;
        case IL_QUEUE_WAIT:
        default: break;
        }
  return (guint) MAX (n, 0);
}

/* "2/2" for a bounded queue, "3" for an unbounded one. */
static char *
fill (const Ctx *c,
      guint16    queue,
      guint      n)
{
  gint maxsize = il_queue_maxsize (c->trace, queue);

  if (maxsize > 0)
    return g_strdup_printf ("%u/%d", n, maxsize);
  return g_strdup_printf ("%u", n);
}

static void
narrate_user_queue (Ctx  *c,
                    gsize e)
{
  const IlTrace *tr = c->trace;
  guint16 q = tr->aux[e];
  IlQueueOp op = (IlQueueOp) (tr->value[e] & 3);
  const char *name = queue_label (c, q);
  const char *who = name_of (tr, il_trace_event_lane (tr, e));
  guint n = queue_length_after (c, e);
  g_autofree char *depth = fill (c, q, n);

  switch (op)
    {
    case IL_QUEUE_PUSH:
      say (c, "%s puts item %u on %s (%s now)", who, queue_ordinal (tr, e, q, IL_QUEUE_PUSH), name, depth);
      break;
    case IL_QUEUE_POP:
      say (c, "%s takes item %u (from %s) off %s (%s left)", who, queue_ordinal (tr, e, q, IL_QUEUE_POP),
           name_of (tr, tr->arg[e]), name, depth);
      break;
    case IL_QUEUE_WAIT:
      {
        gboolean put = (tr->value[e] >> 2) == 0;
        gssize wake = next_queue_event (tr, il_trace_event_lane (tr, e), e, IL_EVENT_STATE, IL_CAUSE_QUEUE);
        const char *waker = wake >= 0 ? name_of (tr, tr->arg[wake]) : NULL;

        if (waker == NULL)
          {
            /* Not woken before the end: whoever serves the queue next. */
            IlQueueOp serve = put ? IL_QUEUE_POP : IL_QUEUE_PUSH;
            for (gsize f = e + 1; f < tr->n_events && waker == NULL; f++)
              if (tr->kind[f] == IL_EVENT_QUEUE && tr->aux[f] == q && (tr->value[f] & 3) == serve
                  && il_trace_event_lane (tr, f) != il_trace_event_lane (tr, e))
                waker = name_of (tr, il_trace_event_lane (tr, f));
          }

        if (put)
          {
            gssize push = next_queue_event (tr, il_trace_event_lane (tr, e), e, IL_EVENT_QUEUE, q);
            g_autofree char *item = push >= 0 ? g_strdup_printf ("item %u", queue_ordinal (tr, (gsize) push, q, IL_QUEUE_PUSH))
                                              : g_strdup ("an item");
            say (c, "%s puts %s; %s is full (%s), so it waits until %s takes one", who, item, name, depth,
                 waker != NULL ? waker : "another task");
          }
        else
          say (c, "%s wants an item from %s, but it is empty, so it waits until %s puts one", who, name,
               waker != NULL ? waker : "another task");
        consequence_long (c, wake >= 0 ? tr->time[wake] : tr->end_time);
      }
      break;
    case IL_QUEUE_DROP:
    default:
      break;
    }
}

/* ------------------------------------------------------------------ */
/* Event by event                                                      */

/* A task that waited on a queue is woken by the other side. */
static void
narrate_queue_wake (Ctx     *c,
                    guint32  lane,
                    guint32  by)
{
  const IlTrace *tr = c->trace;
  gssize w = last_queue_wait (tr, lane, c->t);
  const char *who = name_of (tr, lane);
  const char *q = w >= 0 ? queue_label (c, tr->aux[w]) : "the queue";
  gboolean put = w >= 0 && (tr->value[w] >> 2) == 0;
  const char *later = tr->mode == IL_MODE_ASYNCIO ? "its wake-up joins the ready queue; it checks again when it runs"
                                                  : "it must take the GIL back before it checks again";

  if (tr->mode == IL_MODE_FREE_THREADING || tr->mode == IL_MODE_SEQUENTIAL)
    later = "it checks again";
  if (put)
    say (c, "%s took an item off %s, so %s is woken to put; %s", name_of (tr, by), q, who, later);
  else
    say (c, "%s put an item on %s, so %s is woken to get it; %s", name_of (tr, by), q, who, later);
}

static void
narrate_state (Ctx  *c,
               gsize e)
{
  const IlTrace *tr = c->trace;
  guint32 lane = il_trace_event_lane (tr, e);
  const IlLane *l = il_trace_get_lane (tr, lane);
  IlState state = tr->value[e];
  IlCause cause = tr->aux[e];
  guint32 by = tr->arg[e];
  const char *who = l->name;
  gboolean loop = tr->mode == IL_MODE_ASYNCIO;
  g_autofree char *step = describe_step (tr, current_step (c, lane));
  gint64 next = next_on_lane (tr, lane, c->t, IL_EVENT_STATE);

  /* A thread that only mirrors a task (a pool worker running it) or the
   * loop's own thread says nothing the task or the loop lane does not. */
  if (l->kind == IL_LANE_THREAD && (task_state_at_t (c, state) || loop))
    return;
  if (l->kind != IL_LANE_TASK && l->kind != IL_LANE_THREAD)
    return;
  consequence (c, next);
  switch (state)
    {
    case IL_STATE_WAIT_GIL:
      {
        guint32 gil = gil_of (tr, lane), holder = gil != IL_NO_LANE ? holder_after (c, gil) : IL_NO_LANE;
        g_autofree char *interval = duration (tr->scenario != NULL ? tr->scenario->switch_interval : IL_MSEC (5));

        if (gil != IL_NO_LANE && at_t (c, IL_EVENT_GIL_DROP, gil, IL_GIL_DROP_FORCED))
          return;   /* the forced drop says it */
        if (holder != IL_NO_LANE && holder != lane)
          {
            say (c, "%s asks for the GIL; %s holds it; %s waits up to %s, then sets a drop request",
                 who, holder_name (c, holder), who, interval);
            consequence (c, c->t + (tr->scenario != NULL ? tr->scenario->switch_interval : IL_MSEC (5)));
          }
        else
          say (c, "%s asks for the GIL", who);
      }
      return;

    case IL_STATE_RUNNING:
      if (cause == IL_CAUSE_QUEUE)
        {
          narrate_queue_wake (c, lane, by);
          return;
        }
      if (cause == IL_CAUSE_LOOP)
        return;   /* the loop callback says it */
      if (cause == IL_CAUSE_GIL_HANDOFF || at_t (c, IL_EVENT_GIL_TAKE, gil_of (tr, lane), -1))
        return;   /* the GIL take says it */
      if (cause == IL_CAUSE_PREEMPT)
        say (c, "The OS gives %s a core; it runs%s%s", who, step ? ": " : "", step ? step : "");
      else
        say (c, "%s runs%s%s", who, step ? ": " : "", step ? step : "");
      return;

    case IL_STATE_READY:
      switch (cause)
        {
        case IL_CAUSE_IO:
          say (c, "%s's I/O completes; it is ready until %s", who, loop ? "the event loop runs its step" : "it gets a core");
          return;
        case IL_CAUSE_TIMER:
          say (c, "%s's timer expires; it is ready until %s", who, loop ? "the event loop runs its step" : "it gets a core");
          return;
        case IL_CAUSE_PREEMPT:
          say (c, "The OS takes %s off its core: its time slice is over and it waits, ready, for a core", who);
          return;
        case IL_CAUSE_CALL_SOON:
          say (c, "%s yields to the event loop and queues up again behind what is ready", who);
          return;
        case IL_CAUSE_FUTURE:
          say (c, "What %s awaits is ready (from %s); its wake-up joins the ready queue", who, name_of (tr, by));
          return;
        case IL_CAUSE_LOCK:
          say (c, "%s releases what %s waits for; %s may go on", name_of (tr, by), who, who);
          return;
        case IL_CAUSE_START:
          say (c, "%s is created and waits for its first turn", who);
          return;
        case IL_CAUSE_POOL:
          say (c, "%s waits in the pool's work queue for a free worker", who);
          return;
        case IL_CAUSE_CANCELLED:
          say (c, "%s is woken to be cancelled", who);
          return;
        case IL_CAUSE_QUEUE:
          narrate_queue_wake (c, lane, by);
          return;
        default:
          say (c, "%s is ready", who);
          return;
        }

    case IL_STATE_WAIT_IO:
      if (loop && !blocking_step (current_step (c, lane)))
        say (c, "%s awaits %s; the event loop runs other tasks meanwhile", who, step ? step : "I/O");
      else if (loop)
        say (c, "%s's synchronous call blocks the whole event loop: nothing else runs until it returns", who);
      else
        say (c, "%s waits for %s, without the GIL", who, step ? step : "I/O");
      return;

    case IL_STATE_SLEEPING:
      if (loop && blocking_step (current_step (c, lane)))
        say (c, "%s's synchronous call blocks the whole event loop: nothing else runs until it returns", who);
      else if (step != NULL)
        say (c, "%s %s %s", who, loop ? "awaits" : "sleeps:", step);
      else
        say (c, "%s sleeps", who);
      return;

    case IL_STATE_BLOCKED:
      if (cause == IL_CAUSE_QUEUE)
        return;   /* the queue's WAIT event says it */
      if (by != IL_NO_LANE)
        say (c, "%s waits for %s to finish", who, name_of (tr, by));
      else if (step != NULL)
        say (c, "%s waits at %s", who, step);
      else
        say (c, "%s blocks, waiting for another thread, a lock or a result", who);
      return;

    case IL_STATE_IDLE:
      say (c, "%s waits for work", who);
      return;

    case IL_STATE_DONE:
      if (cause == IL_CAUSE_FAILED)
        {
          const IlStep *s = current_step (c, lane);
          say (c, "%s raises %s", who, s != NULL && s->kind == IL_STEP_FAIL && s->message != NULL ? s->message : "an exception");
        }
      else if (cause == IL_CAUSE_CANCELLED)
        say (c, "%s is cancelled%s%s%s", who, by != IL_NO_LANE ? " because " : "", by != IL_NO_LANE ? name_of (tr, by) : "",
             by != IL_NO_LANE ? " failed" : "");
      else
        say (c, "%s returns", who);
      return;

    case IL_STATE_STARTING:
      say (c, "%s's new process starts its interpreter before any of the task's code runs", who);
      return;

    case IL_STATE_NOT_STARTED:
    case IL_N_STATES:
    default:
      return;
    }
}

/* "alpha, beta, gamma" or "… and 4 more" for the ready queue at t. */
static char *
ready_names (const Ctx *c)
{
  g_autoptr(GArray) items = il_queue_items_at (c->trace, IL_QUEUE_READY, c->t);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      const IlQueueItem *it = &g_array_index (items, IlQueueItem, i);
      const char *n = name_of (c->trace, it->lane);

      if (i == 5)
        {
          g_string_append_printf (s, " and %u more", items->len - 5);
          break;
        }
      if (i > 0)
        g_string_append (s, ", ");
      switch (it->what)
        {
        case IL_CALLBACK_TASK_STEP: g_string_append (s, n); break;
        case IL_CALLBACK_IO: g_string_append_printf (s, "%s's I/O callback", n); break;
        case IL_CALLBACK_TIMER: g_string_append_printf (s, "%s's timer", n); break;
        case IL_CALLBACK_THREADSAFE: g_string_append_printf (s, "%s's result", n); break;
        case IL_CALLBACK_MAIN:
        default: g_string_append (s, "main()"); break;
        }
    }
  return g_string_free (s, FALSE);
}

/* The operations a task step ran, from its step events inside the callback. */
static char *
callback_ops (const Ctx *c,
              guint32    task,
              gint64     end)
{
  const IlLaneIndex *idx = il_trace_get_lane_events (c->trace, task);
  GString *s = g_string_new (NULL);

  for (guint i = il_trace_lane_lower_bound (c->trace, task, c->t); i < idx->len; i++)
    {
      guint32 e = idx->data[i];
      g_autofree char *d = NULL;

      if (c->trace->time[e] > end)
        break;
      if (c->trace->kind[e] != IL_EVENT_STEP)
        continue;
      d = describe_step (c->trace, step_of (c->trace, task, c->trace->arg[e]));
      if (d != NULL)
        g_string_append_printf (s, "%s%s", s->len ? ", then " : "", d);
    }
  if (s->len == 0)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

/* A thread that lets go of the GIL and takes it straight back (the loop
 * around select(0)), or takes it only to drop it at once, changed nothing
 * worth saying. */
static gboolean
gil_round_trip (const Ctx *c,
                gsize      e)
{
  const IlTrace *tr = c->trace;
  IlEventKind other = tr->kind[e] == IL_EVENT_GIL_DROP ? IL_EVENT_GIL_TAKE : IL_EVENT_GIL_DROP;

  for (gsize f = c->first; f < c->last; f++)
    if (tr->kind[f] == other && il_trace_event_lane (tr, f) == il_trace_event_lane (tr, e) && tr->arg[f] == tr->arg[e])
      return TRUE;
  return FALSE;
}

static void narrate_one (Ctx *c, gsize e);

static void
narrate_event (Ctx  *c,
               gsize e)
{
  guint said = c->sentences->len;

  c->pending = c->t;
  narrate_one (c, e);
  if (c->sentences->len > said)
    c->until = MAX (c->until, c->pending);
}

static void
narrate_one (Ctx  *c,
             gsize e)
{
  const IlTrace *tr = c->trace;
  guint32 lane = il_trace_event_lane (tr, e);
  guint32 arg = tr->arg[e];

  switch ((IlEventKind) tr->kind[e])
    {
    case IL_EVENT_STATE:
      narrate_state (c, e);
      break;

    case IL_EVENT_GIL_TAKE:
      if (gil_round_trip (c, e))
        break;
      {
        gsize p = e;
        guint32 prev = IL_NO_LANE;

        /* The one that held it last. */
        while (p-- > 0)
          if (il_trace_event_lane (tr, p) == lane && tr->kind[p] == IL_EVENT_GIL_TAKE)
            {
              prev = tr->arg[p];
              break;
            }
        if (tr->value[e] == 1 && prev != IL_NO_LANE && prev != arg)
          say (c, "%s takes the GIL from %s", holder_name (c, arg), holder_name (c, prev));
        else
          say (c, "%s takes the GIL", holder_name (c, arg));
        {
          gint64 drop = next_on_lane (tr, lane, c->t, IL_EVENT_GIL_DROP);
          gint64 change = next_on_lane (tr, arg, c->t, IL_EVENT_STATE);
          consequence (c, drop < 0 ? change : change < 0 ? drop : MIN (drop, change));
        }
      }
      break;

    case IL_EVENT_GIL_DROP:
      if (gil_round_trip (c, e))
        break;
      if (tr->value[e] == IL_GIL_DROP_FORCED)
        say (c, "%s honours the drop request: it releases the GIL and waits until another thread has taken it",
             holder_name (c, arg));
      else
        say (c, "%s releases the GIL", holder_name (c, arg));
      consequence (c, next_on_lane (tr, lane, c->t, IL_EVENT_GIL_TAKE));
      break;

    case IL_EVENT_GIL_REQUEST:
      {
        guint32 holder = holder_after (c, lane);
        g_autofree char *interval = duration (tr->scenario != NULL ? tr->scenario->switch_interval : IL_MSEC (5));
        say (c, "%s has waited %s without the GIL changing hands: it sets a drop request on %s",
             holder_name (c, arg), interval, holder_name (c, holder));
        consequence (c, next_on_lane (tr, lane, c->t, IL_EVENT_GIL_TAKE));
      }
      break;

    case IL_EVENT_LOOP_ITER:
      {
        g_autofree char *names = ready_names (c);
        guint n = tr->aux[e];
        if (*names != '\0')
          say (c, "The event loop starts iteration %u and runs the %u callback%s ready now: %s",
               arg, n, n == 1 ? "" : "s", names);
        else
          say (c, "The event loop starts iteration %u with %u ready callback%s", arg, n, n == 1 ? "" : "s");
        consequence (c, next_on_lane (tr, lane, c->t, IL_EVENT_LOOP_SELECT));
      }
      break;

    case IL_EVENT_LOOP_SELECT:
      if (arg == 0)
        break;   /* a poll without waiting: the iteration says it */
      if (arg == G_MAXUINT32)
        say (c, "Nothing is ready: the event loop sleeps in select() until I/O completes or a worker reports back");
      else
        {
          g_autofree char *d = duration ((gint64) arg * IL_NSEC_PER_USEC);
          say (c, "Nothing is ready: the event loop sleeps in select() for up to %s, until the next timer", d);
        }
      consequence (c, next_on_lane (tr, lane, c->t, IL_EVENT_LOOP_SELECT_END));
      break;

    case IL_EVENT_LOOP_CALLBACK:
      {
        gint64 end = next_on_lane (tr, lane, c->t, IL_EVENT_LOOP_CALLBACK_END);
        const char *who = name_of (tr, arg);

        /* A callback that blocks the loop for 200 ms is the point. */
        consequence_long (c, end);
        switch ((IlCallbackKind) tr->value[e])
          {
          case IL_CALLBACK_TASK_STEP:
            {
              g_autofree char *ops = arg != IL_NO_LANE ? callback_ops (c, arg, end < 0 ? G_MAXINT64 : end) : NULL;
              say (c, "The event loop runs a step of %s%s%s", who, ops ? ": " : "", ops ? ops : "");
            }
            break;
          case IL_CALLBACK_IO:
            say (c, "The event loop runs %s's I/O callback: the future resolves and %s's wake-up joins the ready queue",
                 who, who);
            break;
          case IL_CALLBACK_TIMER:
            say (c, "The event loop runs %s's timer callback: %s's wake-up joins the ready queue", who, who);
            break;
          case IL_CALLBACK_THREADSAFE:
            say (c, "The result of %s's job comes back from a worker (call_soon_threadsafe); %s's wake-up joins the ready queue",
                 who, who);
            break;
          case IL_CALLBACK_MAIN:
          default:
            say (c, "The event loop runs main(), which creates the tasks");
            break;
          }
      }
      break;

    case IL_EVENT_QUEUE:
      {
        guint16 q = tr->aux[e];
        IlQueueOp op = (IlQueueOp) (tr->value[e] & 3);

        if (q == IL_QUEUE_READY || q == IL_QUEUE_TIMERS)
          break;   /* the loop's own events say it */
        if (il_queue_is_user (q))
          {
            narrate_user_queue (c, e);
            break;
          }
        if (op == IL_QUEUE_POP)
          {
            say (c, "Worker %s takes %s from the %s pool's work queue", name_of (tr, lane), name_of (tr, arg),
                 (q & IL_QUEUE_PROCESS_POOL) ? "process" : "thread");
            consequence (c, next_on_lane (tr, arg, c->t, IL_EVENT_STATE));
          }
        else if (op == IL_QUEUE_PUSH)
          say (c, "%s's job joins the %s pool's work queue (%u waiting)", name_of (tr, arg),
               (q & IL_QUEUE_PROCESS_POOL) ? "process" : "thread", queue_length_after (c, e));
      }
      break;

    case IL_EVENT_MARK:
      if (tr->value[e] == IL_MARK_CANCEL_REQUEST && arg != IL_NO_LANE)
        say (c, "%s failed, so its task group cancels %s", name_of (tr, arg), name_of (tr, lane));
      else if (tr->value[e] == IL_MARK_PROCESS_START)
        say (c, "%s starts", name_of (tr, lane));
      else if (tr->value[e] == IL_MARK_SYNC_WAIT && tr->aux[e] < IL_N_SYNCS)
        {
          /* Recordings: which object a blocked thread waits for. */
          static const char *const what[] = {
            [IL_SYNC_LOCK] = "lock", [IL_SYNC_SEMAPHORE] = "semaphore", [IL_SYNC_CONDITION] = "condition",
            [IL_SYNC_EVENT] = "event", [IL_SYNC_QUEUE] = "queue",
          };
          say (c, "%s waits for %s %u", name_of (tr, lane), what[tr->aux[e]], arg);
        }
      else if (tr->value[e] == IL_MARK_QUEUE_PUT || tr->value[e] == IL_MARK_QUEUE_GET)
        say (c, "%s %s queue %u", name_of (tr, lane),
             tr->value[e] == IL_MARK_QUEUE_PUT ? "puts an item on" : "takes an item from", arg);
      else if (tr->value[e] == IL_MARK_QUEUE_FAILED)
        say (c, "%s's get or put on queue %u gives up (Empty or Full)", name_of (tr, lane), arg);
      break;

    case IL_EVENT_SLICE_BEGIN:
      say (c, "%s begins %s", name_of (tr, lane), il_trace_get_string (tr, arg));
      break;

    case IL_EVENT_INSTANT:
      say (c, "%s: %s", name_of (tr, lane), il_trace_get_string (tr, arg));
      break;

    case IL_EVENT_CORE:
    case IL_EVENT_GIL_WAITERS:
    case IL_EVENT_LOOP_SELECT_END:
    case IL_EVENT_LOOP_CALLBACK_END:
    case IL_EVENT_SLICE_END:
    case IL_EVENT_COUNTER:
    case IL_EVENT_FLOW:
    case IL_EVENT_STEP:
    case IL_N_EVENT_KINDS:
    default:
      break;
    }
}

/* When nothing else happened at t, cores changing hands are the news:
 * each core that ends the instant running something else than before. */
static void
narrate_cores (Ctx *c)
{
  const IlTrace *tr = c->trace;

  for (gsize e = c->first; e < c->last; e++)
    {
      guint32 core = il_trace_event_lane (tr, e), before = IL_NO_LANE, after = tr->arg[e];
      const IlLaneIndex *idx;
      guint pos;
      gboolean last = TRUE;

      if (tr->kind[e] != IL_EVENT_CORE)
        continue;
      for (gsize f = e + 1; f < c->last && last; f++)
        if (tr->kind[f] == IL_EVENT_CORE && il_trace_event_lane (tr, f) == core)
          last = FALSE;
      if (!last)
        continue;
      idx = il_trace_get_lane_events (tr, core);
      pos = il_trace_lane_lower_bound (tr, core, c->t);
      while (pos-- > 0)
        {
          guint32 p = idx->data[pos];
          if (tr->kind[p] == IL_EVENT_CORE)
            {
              before = tr->arg[p];
              break;
            }
        }
      if (before == after)
        continue;
      if (after == IL_NO_LANE)
        say (c, "%s goes idle", name_of (tr, core));
      else
        say (c, "%s now runs %s", name_of (tr, core), name_of (tr, after));
      consequence (c, next_on_lane (tr, core, c->t, IL_EVENT_CORE));
    }
}

gboolean
il_narrate_at (const IlTrace *trace,
               gint64         t,
               IlNarration   *out)
{
  g_autoptr(GPtrArray) sentences = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  Ctx c = { trace, t, 0, 0, sentences, t, t, names, 0 };
  GString *text;
  gint64 span, pad;

  g_return_val_if_fail (trace != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  c.first = il_trace_lower_bound (trace, t);
  c.last = c.first;
  while (c.last < trace->n_events && trace->time[c.last] == t)
    c.last++;

  for (gsize e = c.first; e < c.last; e++)
    narrate_event (&c, e);
  if (sentences->len == 0)
    {
      c.pending = t;
      narrate_cores (&c);
      c.until = MAX (c.until, c.pending);
    }
  if (sentences->len == 0)
    return FALSE;

  text = g_string_new (NULL);
  for (guint i = 0; i < sentences->len; i++)
    g_string_append_printf (text, "%s%s.", i ? " " : "", (char *) g_ptr_array_index (sentences, i));
  if (c.skipped > 0)
    g_string_append_printf (text, " (And %u more change%s.)", c.skipped, c.skipped == 1 ? "" : "s");

  /* Show the instant and what it leads to, with a margin either side. */
  span = MAX (c.until - t, IL_USEC (50));
  pad = span / 10;
  out->time = t;
  out->zoom_start = MAX (0, t - pad);
  out->zoom_end = t + span + pad;
  out->text = g_string_free (text, FALSE);
  return TRUE;
}

gboolean
il_narrate_step (const IlTrace *trace,
                 gint64         t,
                 gboolean       backwards,
                 IlNarration   *out)
{
  g_return_val_if_fail (trace != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (backwards)
    {
      gsize i = il_trace_lower_bound (trace, t);
      while (i > 0)
        {
          gint64 at = trace->time[--i];
          if (il_narrate_at (trace, at, out))
            return TRUE;
          /* skip the rest of that instant */
          while (i > 0 && trace->time[i - 1] == at)
            i--;
        }
      return FALSE;
    }
  for (gsize i = il_trace_lower_bound (trace, t == G_MAXINT64 ? t : t + 1); i < trace->n_events;)
    {
      gint64 at = trace->time[i];
      if (il_narrate_at (trace, at, out))
        return TRUE;
      while (i < trace->n_events && trace->time[i] == at)
        i++;
    }
  return FALSE;
}

void
il_narration_clear (IlNarration *narration)
{
  if (narration == NULL)
    return;
  g_clear_pointer (&narration->text, g_free);
}
