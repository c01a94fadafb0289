/* il-engine-pools.c — jobs and executor pools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "il-engine-private.h"

#include <string.h>

Job *
job_new (IlEngine     *e,
         const IlStep *steps,
         guint32       n,
         JobDone       done,
         gint32        wrap)
{
  Job *job = slab_reuse0 (e, e->spare_jobs, sizeof (Job));

  prog_init (&job->prog, steps, n, e->limit_base, wrap, IL_NO_LANE);
  job->done = done;
  job->mirror = IL_NO_LANE;
  job->worker_lane = IL_NO_LANE;
  job->id = e->jobs->len;
  g_ptr_array_add (e->jobs, job);
  return job;
}

/* A task's job that has ended goes back for job_new to use again. */
void
job_recycle (IlEngine *e,
             Job      *job)
{
  g_assert (job->ended && job->done == JD_TASK);
  if (job->task->job == job)
    job->task->job = NULL;
  prog_clear (&job->prog);
  e->jobs->pdata[job->id] = NULL;
  g_ptr_array_add (e->spare_jobs, job);
}

/* A job's program ended (returned or raised) on the thread running it. */
void
job_finish (IlEngine *e,
            Thread   *th,
            Job      *job)
{
  IlCause outcome = job->failed ? IL_CAUSE_FAILED : IL_CAUSE_RETURNED;

  job->ended = TRUE;
  prog_unwind (e, &job->prog, th->lane);
  th->mirror = IL_NO_LANE;

  switch (job->done)
    {
    case JD_TASK:
      task_finish (e, job->task, outcome, IL_NO_LANE);
      break;
    case JD_THREAD:
    case JD_LOOP:
      /* A process pool's result travels back through a pipe and is
       * unpickled by the executor's manager thread first. */
      job->worker_lane = th->lane;
      schedule (e, e->now + (job->pool != NULL && job->pool->processes ? e->config.params.ipc_item_cost : 0),
                EV_JOB_RESULT, job->id, 0);
      break;
    default:
      g_assert_not_reached ();
    }
}

Pool *
pool_new (IlEngine *e,
          Process  *owner,
          gboolean  processes,
          guint32   max)
{
  Pool *pool = g_new0 (Pool, 1);

  pool->processes = processes;
  pool->max = MAX (1, max);
  pool->workers = g_ptr_array_new ();
  pool->owner = owner;
  pool->number = e->pools->len;
  g_queue_init (&pool->queue);
  g_queue_init (&pool->idle);
  g_ptr_array_add (e->pools, pool);
  return pool;
}

static Thread *
pool_add_worker (IlEngine *e,
                 Pool     *pool)
{
  guint n = pool->workers->len;
  Thread *th;

  if (pool->processes)
    {
      const IlParams *p = &e->config.params;
      g_autofree char *pname = g_strdup_printf ("ForkProcess-%u", n + 1);
      Process *proc;
      guint32 lane;

      if (p->start_method == IL_START_SPAWN)
        {
          g_free (pname);
          pname = g_strdup_printf ("SpawnProcess-%u", n + 1);
        }
      else if (p->start_method == IL_START_FORKSERVER)
        {
          g_free (pname);
          pname = g_strdup_printf ("ForkServerProcess-%u", n + 1);
        }
      proc = process_new (e, pname, e->config.mode != IL_MODE_FREE_THREADING);
      lane = add_lane (e, IL_LANE_THREAD, pname, proc->lane, n);
      th = thread_new (e, proc, ROLE_WORKER, lane);
      process_boot (e, th);
    }
  else
    {
      g_autofree char *name = g_strdup_printf ("ThreadPoolExecutor-%u_%u", pool->number, n);
      guint32 lane = add_lane (e, IL_LANE_THREAD, name, pool->owner->lane, n);
      th = thread_new (e, pool->owner, ROLE_WORKER, lane);
    }
  th->pool = pool;
  g_ptr_array_add (pool->workers, th);
  return th;
}

/* Start one worker process; returns what the parent pays for it. */
static gint64
pool_launch_process (IlEngine *e,
                     Pool     *pool)
{
  Thread *w = pool_add_worker (e, pool);

  w->resume = R_NEXT;
  w->wait = W_NONE;
  g_queue_push_tail (&pool->idle, w);
  emit (e, w->proc->lane, IL_EVENT_MARK, IL_MARK_PROCESS_START, 0, IL_NO_LANE);
  return process_parent_cost (e);
}

/* Submit a job; returns the CPU the submitter pays for it (thread or
 * process start-up).  A worker that is idle gets it at once. */
gint64
pool_submit (IlEngine *e,
             Pool     *pool,
             Job      *job)
{
  gint64 cost = 0;

  job->pool = pool;
  if (pool->processes)
    {
      job->pre_cost = e->config.params.ipc_item_cost / 2;
      job->post_cost = e->config.params.ipc_item_cost - job->pre_cost;
      /* concurrent/futures/process.py (3.10-3.13): with fork,
       * _start_executor_manager_thread launches every worker before any
       * work is handed out; spawn and forkserver are "safe to dynamically
       * spawn children", so _adjust_process_count starts one per submit
       * while no worker is idle and fewer than max_workers exist. */
      if (e->config.params.start_method == IL_START_FORK)
        {
          if (!pool->launched)
            {
              pool->launched = TRUE;
              for (guint i = 0; i < pool->max; i++)
                cost += pool_launch_process (e, pool);
            }
        }
      else if (pool->idle.length == 0 && pool->workers->len < pool->max)
        cost += pool_launch_process (e, pool);
    }
  else
    {
      job->pre_cost = e->config.params.pool_item_cost;
      if (pool->idle.length == 0 && pool->workers->len < pool->max)
        {
          Thread *w = pool_add_worker (e, pool);
          cost += e->config.params.thread_start_cost;
          w->resume = R_NEXT;
          g_queue_push_tail (&pool->idle, w);
        }
    }

  g_queue_push_tail (&pool->queue, job);
  emit_queue (e, pool->owner->lane, IL_QUEUE_PUSH, pool_queue_id (pool), 0, job_item_lane (job));
  if (job->mirror != IL_NO_LANE)
    lane_state (e, job->mirror, IL_STATE_READY, IL_CAUSE_POOL, IL_NO_LANE);
  return cost;
}

guint16
pool_queue_id (const Pool *pool)
{
  return (guint16) ((IL_QUEUE_POOL + MIN (pool->number, 0x7000)) | (pool->processes ? IL_QUEUE_PROCESS_POOL : 0));
}

/* The task a queued job stands for: its own, the coroutine awaiting it, or
 * the task on the thread that submitted it. */
guint32
job_item_lane (const Job *job)
{
  if (job->mirror != IL_NO_LANE)
    return job->mirror;
  if (job->awaiter != NULL)
    return job->awaiter->lane;
  if (job->submitter != NULL)
    return job->submitter->mirror != IL_NO_LANE ? job->submitter->mirror : job->submitter->lane;
  return IL_NO_LANE;
}

/* Hand queued jobs to idle workers (after the submitter paid its cost). */
void
pool_dispatch (IlEngine *e,
               Pool     *pool,
               guint32   by_lane)
{
  while (pool->queue.length > 0 && pool->idle.length > 0)
    {
      Thread *w = g_queue_pop_head (&pool->idle);
      Job *job = g_queue_pop_head (&pool->queue);

      emit_queue (e, w->lane, IL_QUEUE_POP, pool_queue_id (pool), 0, job_item_lane (job));

      w->job = job;
      w->mirror = job->mirror;
      if (w->wait == W_WAIT)
        thread_wake (e, w, resume_after_block (w), IL_CAUSE_POOL, by_lane);
      else if (w->core < 0 && !w->queued && w->wait != W_WAKING)
        {
          /* A brand-new worker: it starts running now. */
          w->cause = IL_CAUSE_START;
          w->cause_lane = by_lane;
          w->resume = R_NEXT;
          thread_make_runnable (e, w);
        }
    }
}

Pool *
process_pool (IlEngine *e)
{
  if (e->proc_pool == NULL)
    e->proc_pool = pool_new (e, g_ptr_array_index (e->processes, 0), TRUE,
                             e->config.mode == IL_MODE_PROCESSES && e->config.workers > 0
                               ? e->config.workers : e->config.cores);
  return e->proc_pool;
}

Pool *
default_executor (IlEngine *e)
{
  Process *main_proc = g_ptr_array_index (e->processes, 0);

  if (main_proc->thread_pool == NULL)
    main_proc->thread_pool = pool_new (e, main_proc, FALSE, MIN (32, e->config.cores + 4));
  return main_proc->thread_pool;
}

/* The layout il-engine-private.h describes: a step reads and writes only
 * the job's first cache line. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (Job, prog) + G_STRUCT_OFFSET (Prog, below) == 64);
