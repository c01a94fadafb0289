/* il-engine.c — the deterministic discrete-event simulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model (see shared/reference/cpython-mechanics.md):
 *
 *  - OS threads run on `cores` cores.  A thread that needs a core and finds
 *    none free waits in a FIFO run queue; threads share cores round-robin in
 *    slices of params.os_slice.  A woken thread becomes runnable only after
 *    params.wake_latency, and a timed wait fires params.timer_slack late.
 *
 *  - Each process has its own GIL, modelled on Python/ceval_gil.c: take_gil
 *    takes a free GIL at once (no queue, no priority); otherwise it waits on
 *    `cond` for one interval, and if that wait timed out while the GIL was
 *    still held and switch_number did not move, it sets the drop request.
 *    The holder honours it at its next eval-breaker check (breaker_latency;
 *    never inside a C call that keeps the GIL), drops the GIL, signals one
 *    waiter and then waits until another thread has taken it
 *    (FORCE_SWITCHING).  Blocking calls drop the GIL voluntarily and take it
 *    back afterwards; a call shorter than the wake latency never sleeps, so
 *    its thread takes the GIL back before the signalled waiter is awake
 *    (barging).  The convoy effect and the lack of speed-up for CPU-bound
 *    threads emerge from these rules; nothing special-cases them.
 *
 *  - asyncio: one loop thread runs _run_once: select() with a timeout of 0
 *    when handles are ready, else until the next timer (rounded up to whole
 *    milliseconds as epoll does) or forever; then due timers and I/O
 *    callbacks join the ready queue and exactly the handles that were ready
 *    at that moment run.  A resolved future schedules its task's wake-up
 *    with call_soon, so it runs one iteration later.
 *
 *  - Pools: ThreadPoolExecutor starts a worker per submit while fewer than
 *    max_workers exist and none is idle; ProcessPoolExecutor launches all
 *    its workers when first used (fork) and pays IPC per item.
 *
 * Everything happens through one event queue ordered by (time, sequence),
 * so the same input gives the same trace bit for bit.  The only choice the
 * real system could make at random — which GIL waiter the OS wakes — is
 * first-come (glibc) unless params.seed asks for a seeded random pick.
 *
 * The engine is one object over several files sharing il-engine-private.h:
 * il-engine-queue.c (event queue), -program.c (step trees), -scheduler.c
 * (cores, run queue, blocking calls), -gil.c, -locks.c, -pools.c,
 * -processes.c, -loop.c (asyncio) and -drivers.c (what a thread does
 * next).  This file holds the public API: setting up, running, freeing.
 */
#include "il-engine-private.h"

#include <string.h>

G_DEFINE_QUARK (il-engine-error-quark, il_engine_error)

/* Big enough that calloc maps fresh zeroed pages instead of clearing
 * memory itself: 100 000 threads are 60 MB. */
#define SLAB_CHUNK (1024 * 1024)

gpointer
slab_alloc0 (IlEngine *e,
             gsize     size)
{
  Slab *slab = &e->slab;
  gpointer mem;

  /* Whole cache lines, and an odd number of them: a thread's hot fields
   * then start a line (il-engine-private.h), and the threads' first lines
   * spread over all sets of a set-associative cache (with a stride of a
   * power of two lines they would crowd into a few). */
  size = (size + 63) & ~(gsize) 63;
  if (size % 128 == 0)
    size += 64;
  if (size > SLAB_CHUNK / 4)
    {
      /* Rare big ones get a chunk of their own. */
      mem = g_malloc0 (size);
      g_ptr_array_add (slab->chunks, mem);
      return mem;
    }
  if (slab->left < size)
    {
      guint8 *chunk = g_malloc0 (SLAB_CHUNK);

      g_ptr_array_add (slab->chunks, chunk);
      slab->next = (guint8 *) (((guintptr) chunk + 63) & ~(guintptr) 63);
      slab->left = SLAB_CHUNK - (gsize) (slab->next - chunk);
    }
  mem = slab->next;
  slab->next += size;
  slab->left -= size;
  return mem;
}

/* Memory for a thread or job: a spare one given back (zeroed again, and
 * likely still in the caches), else a fresh one from the slab. */
gpointer
slab_reuse0 (IlEngine  *e,
             GPtrArray *spare,
             gsize      size)
{
  gpointer mem;

  if (spare->len == 0)
    return slab_alloc0 (e, size);
  mem = g_ptr_array_steal_index_fast (spare, spare->len - 1);
  memset (mem, 0, size);
  return mem;
}

guint32
add_lane (IlEngine   *e,
          IlLaneKind  kind,
          const char *name,
          guint32     parent,
          guint32     index)
{
  guint32 lane = il_trace_add_lane (e->trace, kind, name, parent, index);
  guint8 none = IL_STATE_NOT_STARTED;

  g_byte_array_append (e->lane_state, &none, 1);
  return lane;
}

void
il_run_config_from_scenario (IlRunConfig      *config,
                             const IlScenario *scenario)
{
  g_return_if_fail (config != NULL);
  g_return_if_fail (scenario != NULL);

  config->mode = scenario->mode;
  config->cores = scenario->cores;
  config->workers = scenario->workers;
  config->switch_interval = scenario->switch_interval;
  config->params = scenario->params;
}

/* TRUE when `config` is the scenario's own configuration, field for field
 * of the parameter table. */
static gboolean
config_is_scenarios (const IlRunConfig *config,
                     const IlScenario  *scenario)
{
  IlRunConfig own;
  const IlParamInfo *table;
  guint n_params;

  il_run_config_from_scenario (&own, scenario);
  if (own.mode != config->mode)
    return FALSE;
  table = il_param_table (&n_params);
  for (guint i = 0; i < n_params; i++)
    if (table[i].type == IL_PARAM_TIME
        ? il_param_get_ns (&table[i], &own) != il_param_get_ns (&table[i], config)
        : il_param_get (&table[i], &own) != il_param_get (&table[i], config))
      return FALSE;
  return TRUE;
}

static int
compare_start (gconstpointer a,
               gconstpointer b,
               gpointer      data)
{
  const IlScenario *sc = data;
  guint32 i = *(const guint32 *) a, j = *(const guint32 *) b;
  gint64 si = sc->tasks[i].start, sj = sc->tasks[j].start;

  if (si != sj)
    return si < sj ? -1 : 1;
  return i < j ? -1 : (i > j ? 1 : 0);
}

/* Whether put or get appears in these steps (bodies included). */
static gboolean
steps_use_queue (const IlStep *steps,
                 guint32       n)
{
  for (guint32 i = 0; i < n; i++)
    if (steps[i].kind == IL_STEP_PUT || steps[i].kind == IL_STEP_GET
        || steps_use_queue (steps[i].children, steps[i].n_children))
      return TRUE;
  return FALSE;
}

/* Uses of a queue that Python itself refuses, as a run error: a queue
 * cannot be pickled to a process pool's worker (queue.Queue holds locks;
 * multiprocessing.Queue "should only be shared between processes through
 * inheritance"), and asyncio.Queue is not thread-safe, so a to_thread body
 * must not use it. */
static void
check_queue_use (IlEngine *e)
{
  const IlScenario *sc = e->scenario;

  if (sc->n_queues == 0)
    return;
  for (guint32 i = 0; i < sc->n_tasks && e->error == NULL; i++)
    {
      const IlTask *t = &sc->tasks[i];

      if (e->config.mode == IL_MODE_PROCESSES && e->config.workers > 0
          && steps_use_queue (t->steps, t->n_steps))
        g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_UNSUPPORTED,
                     "task %s uses a queue, but with \"workers\" the tasks run in a ProcessPoolExecutor, and "
                     "Python cannot send a multiprocessing.Queue to its workers (RuntimeError: Queue objects "
                     "should only be shared between processes through inheritance): run it with 0 workers",
                     t->name);
      else
        for (guint32 k = 0; k < t->n_steps && e->error == NULL; k++)
          {
            const IlStep *s = &t->steps[k];

            if (s->kind == IL_STEP_TO_PROCESS && steps_use_queue (s->children, s->n_children))
              g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_UNSUPPORTED,
                           "task %s uses a queue inside to_process: Python cannot pickle a queue to a "
                           "process pool's worker", t->name);
            else if (s->kind == IL_STEP_TO_THREAD && e->config.mode == IL_MODE_ASYNCIO
                     && steps_use_queue (s->children, s->n_children))
              g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_UNSUPPORTED,
                           "task %s uses a queue inside to_thread: asyncio.Queue is not thread-safe, so "
                           "a worker thread must not put or get on it", t->name);
          }
    }
}

IlEngine *
il_engine_new (const IlScenario  *scenario,
               const IlRunConfig *config)
{
  IlEngine *e;
  Process *main_proc;
  Thread *main_thread;
  guint32 n;

  g_return_val_if_fail (scenario != NULL, NULL);
  g_return_val_if_fail (scenario->n_tasks > 0, NULL);

  e = g_new0 (IlEngine, 1);
  /* Scenarios are immutable once loaded: share it. */
  e->scenario = il_scenario_ref (scenario);
  if (config != NULL)
    e->config = *config;
  else
    il_run_config_from_scenario (&e->config, scenario);
  e->config.cores = CLAMP (e->config.cores, 1, IL_SCENARIO_MAX_CORES);
  if (e->config.switch_interval <= 0)
    e->config.switch_interval = IL_MSEC (5);
  if ((guint) e->config.mode >= IL_N_MODES)
    e->config.mode = IL_MODE_THREADS;

  /* The trace remembers the scenario as it was run: the scenario itself
   * when it runs as written, else a copy that carries the configuration. */
  e->trace = il_trace_new ();
  if (config_is_scenarios (&e->config, scenario))
    e->trace->scenario = il_scenario_ref (scenario);
  else
    {
      e->trace->scenario = il_scenario_copy (scenario);
      e->trace->scenario->mode = e->config.mode;
      e->trace->scenario->cores = e->config.cores;
      e->trace->scenario->workers = e->config.workers;
      e->trace->scenario->switch_interval = e->config.switch_interval;
      e->trace->scenario->params = e->config.params;
    }
  e->trace->mode = e->config.mode;

  queue_init (e);
  e->lane_state = g_byte_array_new ();
  e->slab.chunks = g_ptr_array_new_with_free_func (g_free);
  e->threads = g_ptr_array_new ();
  e->processes = g_ptr_array_new ();
  e->jobs = g_ptr_array_new ();
  e->spare_threads = g_ptr_array_new ();
  e->spare_jobs = g_ptr_array_new ();
  e->pools = g_ptr_array_new ();
  e->handles = g_ptr_array_new_with_free_func (g_free);
  e->rng = e->config.params.seed != 0 ? e->config.params.seed : 0x9e3779b9u;
  e->forkserver_up = -1;

  e->cores = g_new0 (Core, e->config.cores);
  e->n_core_words = (e->config.cores + 63) / 64;
  e->free_cores = g_new0 (guint64, e->n_core_words);
  e->unarmed_cores = g_new0 (guint64, e->n_core_words);
  for (guint c = 0; c < e->config.cores; c++)
    {
      g_autofree char *name = g_strdup_printf ("Core %u", c);
      e->cores[c].lane = add_lane (e, IL_LANE_CORE, name, IL_NO_LANE, c);
      e->free_cores[c / 64] |= G_GUINT64_CONSTANT (1) << (c % 64);
    }

  /* Locks, then limits, then the asyncio workers semaphore. */
  e->limit_base = e->scenario->n_locks;
  e->workers_sem = -1;
  e->n_sems = e->scenario->n_locks + e->scenario->n_limits;
  if (e->config.mode == IL_MODE_ASYNCIO && e->config.workers > 0)
    e->workers_sem = (gint32) e->n_sems++;
  e->sems = g_new0 (Sem, MAX (1, e->n_sems));
  for (guint i = 0; i < e->n_sems; i++)
    {
      g_queue_init (&e->sems[i].waiters);
      if (i < e->scenario->n_locks)
        e->sems[i].capacity = 1;
      else if (i < e->limit_base + e->scenario->n_limits)
        e->sems[i].capacity = e->scenario->limits[i - e->limit_base].capacity;
      else
        e->sems[i].capacity = e->config.workers;
    }

  pyqueues_init (e);
  check_queue_use (e);

  main_proc = process_new (e, "MainProcess", e->config.mode != IL_MODE_FREE_THREADING);

  n = e->scenario->n_tasks;
  e->tasks = g_new0 (Task, n);
  if (e->config.mode == IL_MODE_ASYNCIO)
    e->task_co = g_new0 (TaskCo, n);
  e->order = g_new (guint32, n);
  for (guint32 i = 0; i < n; i++)
    e->order[i] = i;
  for (guint32 i = 1; i < n; i++)
    if (e->scenario->tasks[i].start < e->scenario->tasks[i - 1].start)
      {
        /* Not in start order already (most scenarios are). */
        g_qsort_with_data (e->order, n, sizeof (guint32), compare_start, e->scenario);
        break;
      }

  e->group_start = g_new0 (guint32, e->scenario->n_groups + 2);
  e->group_tasks = g_new (guint32, n);
  for (guint32 i = 0; i < n; i++)
    if (e->scenario->tasks[i].group >= 0 && (guint32) e->scenario->tasks[i].group < e->scenario->n_groups)
      e->group_start[e->scenario->tasks[i].group + 2]++;
  for (guint32 g = 2; g < e->scenario->n_groups + 2; g++)
    e->group_start[g] += e->group_start[g - 1];
  for (guint32 i = 0; i < n; i++)
    if (e->scenario->tasks[i].group >= 0 && (guint32) e->scenario->tasks[i].group < e->scenario->n_groups)
      e->group_tasks[e->group_start[e->scenario->tasks[i].group + 1]++] = i;

  if (e->config.mode == IL_MODE_ASYNCIO)
    {
      e->loop = g_new0 (Loop, 1);
      e->loop->lane = add_lane (e, IL_LANE_LOOP, "Event loop", main_proc->lane, 0);
      g_queue_init (&e->loop->ready);
      g_queue_init (&e->loop->fd_ready);
      e->loop->timers = g_ptr_array_new ();
    }

  main_thread = thread_new (e, main_proc,
                            e->config.mode == IL_MODE_ASYNCIO ? ROLE_LOOP : ROLE_MAIN,
                            add_lane (e, IL_LANE_THREAD, "MainThread", main_proc->lane, 0));

  for (guint32 i = 0; i < n; i++)
    {
      Task *t = &e->tasks[i];
      guint32 parent = main_proc->lane;

      t->index = i;
      if (e->task_co != NULL)
        t->co = &e->task_co[i];
      t->def = &e->scenario->tasks[i];
      g_queue_init (&t->awaiters);
      t->outcome = IL_CAUSE_NONE;
      t->queue_wait = -1;
      if (e->config.mode == IL_MODE_PROCESSES && e->config.workers == 0)
        {
          g_autofree char *pname = g_strdup_printf ("Process-%u (%s)", i + 1, t->def->name);
          t->proc = process_new (e, pname, TRUE);
          parent = t->proc->lane;
        }
      t->lane = add_lane (e, IL_LANE_TASK, t->def->name, parent, i);
    }

  if ((e->config.mode == IL_MODE_THREADS || e->config.mode == IL_MODE_FREE_THREADING)
      && e->config.workers > 0)
    e->item_pool = pool_new (e, main_proc, FALSE, e->config.workers);

  if (e->loop != NULL)
    {
      e->loop->thread = main_thread;
      g_queue_push_tail (&e->loop->ready, handle_new (e, H_MAIN, NULL, IL_CAUSE_START, IL_NO_LANE));
      loop_queue_event (e, IL_QUEUE_PUSH, IL_QUEUE_READY, g_queue_peek_tail (&e->loop->ready));
    }

  main_thread->cause = IL_CAUSE_START;
  thread_make_runnable (e, main_thread);

  return e;
}

void
il_engine_free (IlEngine *e)
{
  if (e == NULL)
    return;

  for (guint i = 0; i < e->processes->len; i++)
    {
      Process *p = g_ptr_array_index (e->processes, i);
      gil_clear (&p->gil);
      g_free (p);
    }
  g_ptr_array_unref (e->processes);
  for (guint i = 0; i < e->pools->len; i++)
    {
      Pool *pool = g_ptr_array_index (e->pools, i);
      g_ptr_array_unref (pool->workers);
      g_queue_clear (&pool->queue);
      g_queue_clear (&pool->idle);
      g_free (pool);
    }
  g_ptr_array_unref (e->pools);
  if (e->loop != NULL)
    {
      g_queue_clear (&e->loop->ready);
      g_queue_clear (&e->loop->fd_ready);
      g_ptr_array_unref (e->loop->timers);
      g_free (e->loop);
    }
  /* Semaphore, awaiter and run queues link nodes inside the threads and
   * tasks: nothing to free. */
  g_free (e->sems);
  pyqueues_free (e);
  for (guint i = 0; i < e->jobs->len; i++)
    if (g_ptr_array_index (e->jobs, i) != NULL)
      prog_clear (&((Job *) g_ptr_array_index (e->jobs, i))->prog);
  if (e->task_co != NULL)
    for (guint i = 0; i < e->scenario->n_tasks; i++)
      prog_clear (&e->task_co[i].prog);
  g_free (e->task_co);
  g_free (e->tasks);
  g_free (e->order);
  g_free (e->group_tasks);
  g_free (e->group_start);
  g_free (e->cores);
  g_free (e->runq);
  g_free (e->free_cores);
  g_free (e->unarmed_cores);
  g_ptr_array_unref (e->threads);
  g_ptr_array_unref (e->jobs);
  g_ptr_array_unref (e->spare_threads);
  g_ptr_array_unref (e->spare_jobs);
  g_ptr_array_unref (e->slab.chunks);
  g_ptr_array_unref (e->handles);
  queue_free (e);
  g_byte_array_unref (e->lane_state);
  il_trace_unref (e->trace);
  il_scenario_unref (e->scenario);
  g_clear_error (&e->error);
  g_free (e);
}

static void
set_deadlock_error (IlEngine *e)
{
  g_autoptr(GString) names = g_string_new (NULL);
  guint shown = 0;

  for (guint i = 0; i < e->scenario->n_tasks; i++)
    if (!e->tasks[i].done)
      {
        if (shown++ < 8)
          {
            g_string_append_printf (names, "%s%s", names->len ? ", " : "", e->tasks[i].def->name);
            pyqueue_describe_wait (e, &e->tasks[i], names);
            if (!e->tasks[i].started)
              g_string_append (names, " (not started)");
          }
      }
  if (shown > 8)
    g_string_append_printf (names, " and %u more", shown - 8);
  if (e->config.mode == IL_MODE_SEQUENTIAL && strstr (names->str, " (waits to ") != NULL)
    g_string_append (names, "; sequential code runs one task at a time, so no other task can serve the queue");
  g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_DEADLOCK,
               "deadlock at %.3f ms: nothing can run, and these tasks wait for each other: %s",
               il_time_to_ms (e->now), names->str);
}

gboolean
il_engine_run_until (IlEngine  *e,
                     gint64     t,
                     GError   **error)
{
  g_return_val_if_fail (e != NULL, FALSE);

  /* The lane indices are filled once per call, in one pass over the new
   * events, instead of on every append: with 100 000 lanes each append
   * missed the cache twice there (the lane's index, then its end), and
   * the indices grew by many small reallocations. */
  il_trace_begin_bulk (e->trace);
  while (e->error == NULL && !e->finished)
    {
      Ev ev;

      if (!queue_pop (e, t, &ev))
        break;
      e->now = ev.t;
      if (++e->n_processed > IL_ENGINE_MAX_EVENTS || e->now > IL_ENGINE_MAX_TIME)
        {
          g_set_error (&e->error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_LIMIT,
                       "the run would not end: stopped after %" G_GINT64_FORMAT " scheduling events "
                       "and %.1f s of simulated time",
                       e->n_processed, il_time_to_ms (e->now) / 1000.0);
          break;
        }
      process_event (e, &ev);
    }

  if (e->error == NULL && !e->finished && queue_next_time (e) == IL_TIME_FOREVER)
    {
      /* Time went on until the last event anything had asked for, even one
       * cancelled since (it used to be popped and skipped). */
      e->now = MAX (e->now, queue_last_time (e));
      set_deadlock_error (e);
    }

  if (e->finished)
    {
      e->now = e->finish_time;
      e->trace->finished = TRUE;
    }
  else if (e->error == NULL && t != IL_TIME_FOREVER && t > e->now)
    e->now = t;
  il_trace_end_bulk (e->trace);
  il_trace_set_end_time (e->trace, e->now);

  if (e->error != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (e->error);
      return FALSE;
    }
  return TRUE;
}

gint64
il_engine_peek_next_time (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, IL_TIME_FOREVER);

  if (e->finished || e->error != NULL)
    return IL_TIME_FOREVER;
  return queue_next_time (e);
}

gint64
il_engine_get_now (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, 0);
  return e->now;
}

gboolean
il_engine_is_finished (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, TRUE);
  return e->finished;
}

IlTrace *
il_engine_get_trace (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, NULL);
  return e->trace;
}

const IlRunConfig *
il_engine_get_config (IlEngine *e)
{
  g_return_val_if_fail (e != NULL, NULL);
  return &e->config;
}

IlTrace *
il_simulate (const IlScenario  *scenario,
             const IlRunConfig *config,
             GError           **error)
{
  g_autoptr(IlEngine) e = il_engine_new (scenario, config);

  if (e == NULL)
    {
      g_set_error (error, IL_ENGINE_ERROR, IL_ENGINE_ERROR_LIMIT, "the scenario has no tasks");
      return NULL;
    }
  if (!il_engine_run_until (e, IL_TIME_FOREVER, error))
    return NULL;
  /* A finished run grows no more: give back what growing by half left
   * unused in the columns and lane indices (a third of the trace, at worst). */
  il_trace_reserve (e->trace, 0);
  return il_trace_ref (e->trace);
}
