/* interleave-recorder.c — CPython extension that records how a program runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Built once per interpreter as _interleave_recorder_MAJORMINOR and loaded
 * by recorder/sitecustomize.py before the program runs.  Two sources feed
 * one buffered per-process file (format in interleave-recorder.h):
 *
 *  - a native sampler thread that never takes the GIL reads the GIL's
 *    `locked`, `last_holder` and `switch_number` and the drop request
 *    every ~20 µs and writes a record whenever they change.  Holders are
 *    PyThreadState addresses: they are only compared with the addresses
 *    of registered threads, and dereferenced only on 3.13 (the drop
 *    request is in the holder's thread state there) under a handshake
 *    with ending threads, so a thread ending under the sampler is harmless;
 *  - wrappers the bootstrap puts around blocking calls (time.sleep, select,
 *    socket methods, file I/O, hashlib and zlib, join), locks, semaphores,
 *    conditions, events and queues, the asyncio loop (_run_once, the
 *    selector, Handle._run, create_task), pool work items and thread
 *    bootstrap.  They run in the calling thread, holding the GIL, and cost
 *    two records per call (an uncontended lock none).
 *
 * The buffer is flushed when full, by the sampler every 20 ms, at exit, in
 * os._exit and on SIGTERM, so a program that dies keeps what was recorded.
 * Nothing here raises into the program: a failure to write stops recording.
 */
#define PY_SSIZE_T_CLEAN
#ifndef Py_BUILD_CORE_MODULE
#define Py_BUILD_CORE_MODULE
#endif
#include <Python.h>

/* The tables of locks and of object numbers are guarded by the GIL:
 * recorder/meson.build skips free-threaded builds. */
#ifdef Py_GIL_DISABLED
#error "the recorder needs an interpreter with a GIL"
#endif

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>   /* MSG_DONTWAIT */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_interp.h"
#else
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#endif
#include "internal/pycore_gil.h"
#if PY_VERSION_HEX >= 0x030D0000
#include "internal/pycore_ceval.h"   /* _PY_GIL_DROP_REQUEST_BIT */
#endif

#include "interleave-recorder.h"

#define SAMPLE_NS 20000
#define IDLE_SAMPLE_NS 1000000
#define FLUSH_NS  20000000
#define BUF_SIZE  (256 * 1024)
#define MAX_THREADS 4096

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_ (a, b)
#define STR_(a) #a
#define STR(a) STR_ (a)
#define MODULE_NAME "_interleave_recorder_" STR (IL_PY_TAG)

/* ------------------------------------------------------------------ */
/* The buffer                                                          */

static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char buf[BUF_SIZE];
static size_t buf_len;
static int out_fd = -1;
static atomic_int recording;
static char rec_dir[1024];

static inline int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Called with buf_lock held (or from a signal handler that got it). */
static void
flush_locked (void)
{
  size_t off = 0;

  while (off < buf_len && out_fd >= 0)
    {
      ssize_t n = write (out_fd, buf + off, buf_len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          /* Disk full or closed: stop recording rather than disturb the program. */
          atomic_store (&recording, 0);
          break;
        }
      off += (size_t) n;
    }
  buf_len = 0;
}

static void
flush_all (void)
{
  pthread_mutex_lock (&buf_lock);
  flush_locked ();
  pthread_mutex_unlock (&buf_lock);
}

static void
emit (uint8_t     kind,
      uint32_t    thread,
      int64_t     t,
      int64_t     a,
      int64_t     b,
      const char *text,
      size_t      tlen)
{
  IlRecHeader h;
  int cpu;

  if (!atomic_load_explicit (&recording, memory_order_relaxed))
    return;
  if (tlen > 1024)
    tlen = 1024;
  cpu = sched_getcpu ();
  h.kind = kind;
  h.cpu = cpu < 0 || cpu > 254 ? 255 : (uint8_t) cpu;
  h.slen = (uint16_t) tlen;
  h.thread = thread;
  h.t = t;
  h.a = a;
  h.b = b;
  pthread_mutex_lock (&buf_lock);
  if (buf_len + sizeof h + tlen > BUF_SIZE)
    flush_locked ();
  memcpy (buf + buf_len, &h, sizeof h);
  if (tlen > 0)
    memcpy (buf + buf_len + sizeof h, text, tlen);
  buf_len += sizeof h + tlen;
  pthread_mutex_unlock (&buf_lock);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */

/* Registered thread states: address → thread number.  Written by threads
 * holding the GIL, read by the sampler without locks (atomic slots). */
static _Atomic (uintptr_t) thread_states[MAX_THREADS];
static _Atomic (long) thread_tids[MAX_THREADS];   /* kernel thread ids, for /proc */
static atomic_uint n_threads;          /* slots in use; thread number = slot + 1 */
static atomic_int n_alive;             /* registered threads that have not ended */
static _Thread_local uint32_t my_thread;
static _Thread_local int64_t my_task;  /* task whose step this thread runs, or 0 */

/* 3.13 keeps the drop request in the holder's thread state, which the
 * sampler must read.  It reads only thread states whose thread
 * unregisters before its state is freed (the main thread, and threads
 * started by threading), and tells it which slot it is reading: an ending
 * thread waits until the sampler is done with its slot (a Dekker pair of
 * sequentially consistent stores and loads, so one always sees the other). */
static atomic_uchar thread_readable[MAX_THREADS];
static atomic_uint sampler_reading;    /* thread number being read, or 0 */

static uint32_t
register_current (const char *name,
                  int64_t     ident,
                  int64_t     native_id,
                  int         readable)
{
  uintptr_t ts = (uintptr_t) PyThreadState_Get ();
  unsigned n = atomic_load (&n_threads);
  uint32_t slot = UINT32_MAX;

  /* A new thread may get the address of a thread state that was freed. */
  for (unsigned i = 0; i < n; i++)
    if (atomic_load_explicit (&thread_states[i], memory_order_relaxed) == ts)
      atomic_store (&thread_states[i], 0);
  if (n < MAX_THREADS)
    {
      slot = n;
      atomic_store (&thread_readable[slot], (unsigned char) readable);
      atomic_store (&thread_states[slot], ts);
      atomic_store (&thread_tids[slot], (long) native_id);
      atomic_store (&n_threads, n + 1);
      atomic_fetch_add (&n_alive, 1);
      my_thread = slot + 1;
    }
  else
    my_thread = 0;
  emit (IL_REC_THREAD_START, my_thread, now_ns (), ident, native_id, name, name ? strlen (name) : 0);
  return my_thread;
}

static void
unregister_current (void)
{
  struct timespec cpu;
  int64_t cpu_ns = -1;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
    cpu_ns = (int64_t) cpu.tv_sec * 1000000000 + cpu.tv_nsec;
  emit (IL_REC_THREAD_END, my_thread, now_ns (), cpu_ns, 0, NULL, 0);
  if (my_thread > 0 && my_thread <= MAX_THREADS)
    {
      atomic_store (&thread_states[my_thread - 1], 0);
      while (atomic_load (&sampler_reading) == my_thread)
        sched_yield ();
      atomic_fetch_sub (&n_alive, 1);
    }
  my_thread = 0;
}

/* Threads the bootstrap did not see start (made by C code or
 * _thread.start_new_thread) are registered on their first record. */
static uint32_t
current_thread (void)
{
  if (my_thread == 0 && atomic_load_explicit (&recording, memory_order_relaxed))
    {
      char name[64];
      snprintf (name, sizeof name, "thread-%ld", (long) PyThread_get_thread_native_id ());
      register_current (name, (int64_t) PyThread_get_thread_ident (), (int64_t) PyThread_get_thread_native_id (), 0);
    }
  return my_thread;
}

static uint32_t
thread_of_state (uintptr_t ts)
{
  unsigned n = atomic_load (&n_threads);

  for (unsigned i = 0; i < n; i++)
    if (atomic_load_explicit (&thread_states[i], memory_order_relaxed) == ts)
      return i + 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* The GIL sampler                                                     */

static struct _gil_runtime_state *gil;
static _Atomic int *drop_request;       /* NULL where the interpreter keeps it per thread (3.13) */
static pthread_t sampler;
static atomic_int sampler_running;
static atomic_int sampler_stop;

static inline uintptr_t
gil_holder (void)
{
#if PY_VERSION_HEX >= 0x030D0000
  return (uintptr_t) __atomic_load_n (&gil->last_holder, __ATOMIC_RELAXED);
#else
  /* An _Atomic member before 3.13: C11's load, which gcc and clang both
   * take (clang refuses __atomic_load_n on _Atomic types). */
  return (uintptr_t) atomic_load_explicit (&gil->last_holder._value, memory_order_relaxed);
#endif
}

static inline int
gil_locked (void)
{
#if PY_VERSION_HEX >= 0x030D0000
  return __atomic_load_n (&gil->locked, __ATOMIC_RELAXED);
#else
  return atomic_load_explicit (&gil->locked._value, memory_order_relaxed);
#endif
}

/* The core a thread last ran on: field 39 of /proc/self/task/TID/stat.
 * Read for the GIL holder about every millisecond, since CPU-bound
 * threads write no records of their own that would say it. */
static int
core_of_thread (long tid)
{
  char path[64], text[1024];
  ssize_t n;
  int fd, field = 1;
  char *p;

  snprintf (path, sizeof path, "/proc/self/task/%ld/stat", tid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, text, sizeof text - 1);
  close (fd);
  if (n <= 0)
    return -1;
  text[n] = '\0';
  /* The command name (field 2) may hold spaces: count after its ')'. */
  p = strrchr (text, ')');
  if (p == NULL)
    return -1;
  field = 2;
  for (; *p != '\0'; p++)
    if (*p == ' ' && ++field == 39)
      return atoi (p + 1);
  return -1;
}

#if PY_VERSION_HEX >= 0x030D0000
/* Whether the GIL's holder ts has been asked to drop it: bit
 * _PY_GIL_DROP_REQUEST_BIT of its eval_breaker, which a waiter sets once
 * its wait timed out (take_gil in Python/ceval_gil.c). */
static int
holder_drop_request (uintptr_t ts)
{
  unsigned n = atomic_load (&n_threads);
  int drop = 0;

  for (unsigned i = 0; i < n; i++)
    if (atomic_load_explicit (&thread_states[i], memory_order_relaxed) == ts)
      {
        if (!atomic_load (&thread_readable[i]))
          return 0;
        atomic_store (&sampler_reading, i + 1);
        if (atomic_load (&thread_states[i]) == ts)
          drop = (__atomic_load_n (&((PyThreadState *) ts)->eval_breaker, __ATOMIC_RELAXED)
                  & _PY_GIL_DROP_REQUEST_BIT) != 0;
        atomic_store (&sampler_reading, 0);
        return drop;
      }
  return 0;
}
#endif

static void *
sampler_main (void *data)
{
  uintptr_t last_ts = 0;
  uint32_t last_thread = 0;
  int last_flags = -1;
  unsigned long last_switch = 0;
  int64_t next_flush = now_ns () + FLUSH_NS;
  int64_t next_core = 0;
  int last_core = -1;
  struct timespec delay = { 0, SAMPLE_NS };
  struct timespec idle = { 0, IDLE_SAMPLE_NS };
  sigset_t all;

  /* Signals belong to the program's threads. */
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);

  while (!atomic_load (&sampler_stop))
    {
      int64_t before = now_ns ();
      uintptr_t ts = gil_holder ();
      int locked = gil_locked () > 0;
      int drop = drop_request != NULL && __atomic_load_n ((int *) drop_request, __ATOMIC_RELAXED) != 0;
#if PY_VERSION_HEX >= 0x030D0000
      if (locked)
        drop = holder_drop_request (ts);
#endif
      unsigned long sw = __atomic_load_n (&gil->switch_number, __ATOMIC_RELAXED);
      int flags = locked | (drop << 1);
      int64_t t = now_ns ();

      /* Preempted between the clock and the reads (a busy machine): the
       * values belong to no known time, so take them again. */
      if (t - before > SAMPLE_NS)
        continue;

      if (ts != last_ts || flags != last_flags || sw != last_switch)
        {
          if (ts != last_ts)
            {
              last_thread = thread_of_state (ts);
              last_core = -1;
              next_core = 0;
            }
          emit (IL_REC_GIL, last_thread, t, flags, (int64_t) sw, NULL, 0);
          last_ts = ts;
          last_flags = flags;
          last_switch = sw;
        }
      if (t >= next_core && last_thread > 0 && locked && atomic_load (&n_alive) > 1)
        {
          int core = core_of_thread (atomic_load (&thread_tids[last_thread - 1]));
          if (core >= 0 && core != last_core)
            emit (IL_REC_CORE, last_thread, t, core, 0, NULL, 0);
          last_core = core;
          next_core = t + 1000000;
        }
      if (t >= next_flush)
        {
          flush_all ();
          next_flush = t + FLUSH_NS;
        }
      /* With one thread there is nobody to switch to: the GIL only goes
       * free around blocking calls, which their own records show.  Waking
       * 50 000 times a second would cost the program a share of a core. */
      clock_nanosleep (CLOCK_MONOTONIC, 0, atomic_load (&n_alive) > 1 ? &delay : &idle, NULL);
    }
  return NULL;
}

static void
sampler_start (void)
{
  atomic_store (&sampler_stop, 0);
  if (gil != NULL && pthread_create (&sampler, NULL, sampler_main, NULL) == 0)
    atomic_store (&sampler_running, 1);
}

static void
sampler_join (void)
{
  if (!atomic_load (&sampler_running))
    return;
  atomic_store (&sampler_stop, 1);
  pthread_join (sampler, NULL);
  atomic_store (&sampler_running, 0);
}

/* ------------------------------------------------------------------ */
/* Files, fork and signals                                             */

static int
open_process_file (void)
{
  char path[1200];

  snprintf (path, sizeof path, "%s/proc-%ld.rec", rec_dir, (long) getpid ());
  out_fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0)
    return -1;
  memcpy (buf, IL_REC_MAGIC, IL_REC_MAGIC_LEN);
  buf_len = IL_REC_MAGIC_LEN;
  return 0;
}

static char process_text[256];
/* The running interpreter's version, "3.11.7": not the headers' (one
 * module serves every micro release of a minor one, Debian's 3.11.2 and
 * pyenv's 3.11.7 alike).  Read at start, for a forked child too. */
static char py_version[32];

static void
emit_process (void)
{
  emit (IL_REC_PROCESS, 0, now_ns (), getpid (), getppid (), process_text, strlen (process_text));
  if (gil != NULL)
    emit (IL_REC_INTERVAL, 0, now_ns (), (int64_t) gil->interval, 0, NULL, 0);
}

static void
before_fork (void)
{
  if (!atomic_load (&recording))
    return;
  /* The child must not inherit records it would write again, nor a lock
   * held by the sampler. */
  pthread_mutex_lock (&buf_lock);
  flush_locked ();
}

static void
after_fork_parent (void)
{
  if (atomic_load (&recording))
    pthread_mutex_unlock (&buf_lock);
}

static void
after_fork_child (void)
{
  uintptr_t me;
  unsigned char readable;

  if (!atomic_load (&recording))
    return;
  pthread_mutex_init (&buf_lock, NULL);
  buf_len = 0;
  if (out_fd >= 0)
    close (out_fd);
  atomic_store (&sampler_running, 0);
  if (open_process_file () < 0)
    {
      atomic_store (&recording, 0);
      return;
    }
  /* Only the forking thread exists in the child. */
  me = my_thread > 0 ? atomic_load (&thread_states[my_thread - 1]) : 0;
  readable = my_thread > 0 ? atomic_load (&thread_readable[my_thread - 1]) : 0;
  atomic_store (&sampler_reading, 0);
  for (unsigned i = 0; i < MAX_THREADS; i++)
    atomic_store (&thread_states[i], 0);
  atomic_store (&n_threads, 0);
  atomic_store (&n_alive, me != 0 ? 1 : 0);
  snprintf (process_text, sizeof process_text, "%s fork", py_version);
  emit_process ();
  if (me != 0)
    {
      atomic_store (&thread_readable[0], readable);
      atomic_store (&thread_states[0], me);
      atomic_store (&thread_tids[0], (long) PyThread_get_thread_native_id ());
      atomic_store (&n_threads, 1);
      my_thread = 1;
      emit (IL_REC_THREAD_START, 1, now_ns (), (int64_t) PyThread_get_thread_ident (),
            (int64_t) PyThread_get_thread_native_id (), "MainThread", 10);
    }
  else
    my_thread = 0;
  sampler_start ();
}

static void
on_sigterm (int sig)
{
  int64_t t = now_ns ();

  /* Keep what was recorded, then die of the signal as the program would have. */
  if (pthread_mutex_trylock (&buf_lock) == 0)
    {
      IlRecHeader h = { IL_REC_EXIT, 255, 0, 0, t, 128 + sig, 0 };
      if (buf_len + sizeof h <= BUF_SIZE)
        {
          memcpy (buf + buf_len, &h, sizeof h);
          buf_len += sizeof h;
        }
      flush_locked ();
    }
  signal (sig, SIG_DFL);
  raise (sig);
}

/* ------------------------------------------------------------------ */
/* Wrappers                                                            */

typedef enum {
  W_CALL,         /* a blocking call of category `category` */
  W_RUN_ONCE,     /* BaseEventLoop._run_once(self) */
  W_SELECT,       /* Selector.select(self, timeout=None) */
  W_HANDLE_RUN,   /* Handle._run(self) */
  W_CREATE_TASK,  /* BaseEventLoop.create_task(self, coro, …) */
  W_WORK,         /* concurrent.futures.thread._WorkItem.run(self) */
  W_THREAD,       /* threading.Thread._bootstrap_inner(self) */
  W_EXIT,         /* os._exit(code) */
  W_POOL,         /* ThreadPoolExecutor / ProcessPoolExecutor.__init__(self, …) */
  W_TASK_NAME,    /* asyncio.tasks._set_task_name(task, name), Task.set_name(self, name) */
  W_WORK_FN,      /* a work item's function itself (process pool workers): category 1 or 2 */
  W_CALL_AT,      /* BaseEventLoop.call_at(self, when, callback, *args): a timer */
  W_INTERVAL,     /* sys.setswitchinterval(seconds) */
  W_PROCESS,      /* multiprocessing BaseProcess._bootstrap(self, …), in the child */
  W_ACQUIRE,      /* _thread.lock / RLock acquire or __enter__(self, …) */
  W_RELEASE,      /* lock / RLock release, __exit__, RLock._release_save; Semaphore.release */
  W_RESTORE,      /* RLock._acquire_restore(self, state): Condition.wait taking its lock back */
  W_SYNC,         /* Semaphore.acquire, Condition.wait, Event.wait, Queue.get(self, …): category says which */
  W_QUEUE_PUT,    /* Queue.put(self, item, block=True, …) */
  W_RECV,         /* socket recv, recvfrom, recv_into, accept(self, …): a SOCKET call that first waits to read */
  W_AQUEUE,       /* asyncio.Queue get_nowait (category 0), put_nowait (1)(self, …) */
} WrapKind;

typedef struct {
  PyObject_HEAD
  PyObject      *func;
  PyObject      *on_error;  /* HANDLE_RUN: handle_error(handle, exc), or NULL to call func */
  int            kind;
  int            category;
  int            method;    /* RELEASE: 2 when it lets go of every level (RLock._release_save),
                             * 3 when its C method ignores its arguments (lock __exit__);
                             * ACQUIRE: 4 for an RLock's, which its owner may take again */
  int            flags_pos; /* RECV: the position of `flags` (self is 0), or 0: the call has none */
  vectorcallfunc vectorcall;
} Wrapper;

static PyObject *task_types;   /* tuple of asyncio Task classes */
static PyObject *str_context, *str_run, *str_callback, *str_args, *str_self, *str_done, *str_cancelled, *str_exception,
                *str_fut_waiter, *str_get_name, *str_ready, *str_fn, *str_qualname, *str_name,
                *str_ident, *str_native_id, *str_max_workers, *str_mp_context, *str_get_start_method,
                *str_value, *str_flag, *str_queue, *str__queue, *str_maxsize, *str__maxsize, *str_blocking, *str_block, *str_timeout,
                *str_gettimeout, *str_fileno, *str_flags, *str___name__;

static int64_t
seconds_arg_ns (PyObject *o)
{
  double s;

  if (o == NULL || o == Py_None)
    return -1;
  s = PyFloat_AsDouble (o);
  if (s == -1.0 && PyErr_Occurred ())
    {
      PyErr_Clear ();
      return -1;
    }
  return s < 0 ? 0 : (int64_t) (s * 1e9);
}

static int
is_task (PyObject *o)
{
  if (o == NULL || task_types == NULL)
    return 0;
  int r = PyObject_IsInstance (o, task_types);
  if (r < 0)
    PyErr_Clear ();
  return r > 0;
}

/* Attribute or NULL, never an exception left behind. */
static PyObject *
get_attr (PyObject *o,
          PyObject *name)
{
  PyObject *v = PyObject_GetAttr (o, name);
  if (v == NULL)
    PyErr_Clear ();
  return v;
}

static int64_t
call_bool (PyObject *o,
           PyObject *name)
{
  PyObject *r = PyObject_CallMethodNoArgs (o, name);
  int64_t v;

  if (r == NULL)
    {
      PyErr_Clear ();
      return -1;
    }
  v = PyObject_IsTrue (r);
  Py_DECREF (r);
  if (v < 0)
    PyErr_Clear ();
  return v;
}

static void
emit_name (uint8_t     kind,
           uint32_t    thread,
           int64_t     a,
           int64_t     b,
           PyObject   *name)
{
  const char *s = NULL;
  Py_ssize_t len = 0;

  if (name != NULL && PyUnicode_Check (name))
    s = PyUnicode_AsUTF8AndSize (name, &len);
  if (s == NULL)
    {
      PyErr_Clear ();
      len = 0;
    }
  emit (kind, thread, now_ns (), a, b, s, (size_t) len);
}

static void
step_end (uint32_t  th,
          PyObject *task)
{
  int64_t state = IL_REC_STEP_WAITING;
  int64_t done = call_bool (task, str_done);

  if (done > 0)
    {
      if (call_bool (task, str_cancelled) > 0)
        state = IL_REC_STEP_CANCELLED;
      else
        {
          PyObject *exc = PyObject_CallMethodNoArgs (task, str_exception);
          if (exc == NULL)
            PyErr_Clear ();
          state = exc != NULL && exc != Py_None ? IL_REC_STEP_FAILED : IL_REC_STEP_DONE;
          Py_XDECREF (exc);
        }
      emit (IL_REC_STEP_END, th, now_ns (), (int64_t) (intptr_t) task, state, NULL, 0);
      return;
    }
  PyObject *waiter = get_attr (task, str_fut_waiter);
  if (waiter == NULL || waiter == Py_None)
    state = IL_REC_STEP_YIELDED;
  else if (is_task (waiter))
    state = IL_REC_STEP_AWAITS_TASK | ((int64_t) (intptr_t) waiter << 8);
  else
    state = IL_REC_STEP_WAITING | ((int64_t) (intptr_t) waiter << 8);
  Py_XDECREF (waiter);
  emit (IL_REC_STEP_END, th, now_ns (), (int64_t) (intptr_t) task, state, NULL, 0);
}

/* Handle._run without a Python frame: self._context.run(callback, *args),
 * errors other than SystemExit and KeyboardInterrupt go to the loop's
 * exception handler through on_error, as Handle._run does.  Entering a
 * Python function from C for every callback was the recorder's largest
 * cost on programs of many small task steps. */
static PyObject *
handle_run (Wrapper  *w,
            PyObject *self,
            PyObject *cb)
{
  PyObject *context = get_attr (self, str_context);
  PyObject *hargs = get_attr (self, str_args);
  PyObject *stack[16];
  PyObject *r = NULL;
  Py_ssize_t n;

  if (context == NULL || hargs == NULL || !PyTuple_Check (hargs) || PyTuple_GET_SIZE (hargs) > 14)
    {
      PyErr_Clear ();
      Py_XDECREF (hargs);
      Py_XDECREF (context);
      return PyObject_CallOneArg (w->func, self);
    }
  /* context.run(callback, *args), without making a bound method. */
  n = PyTuple_GET_SIZE (hargs);
  stack[0] = context;
  stack[1] = cb;
  for (Py_ssize_t i = 0; i < n; i++)
    stack[i + 2] = PyTuple_GET_ITEM (hargs, i);
  r = PyObject_VectorcallMethod (str_run, stack, (size_t) n + 2, NULL);
  Py_DECREF (hargs);
  Py_DECREF (context);
  if (r != NULL)
    {
      Py_DECREF (r);
      Py_RETURN_NONE;
    }
  if (PyErr_ExceptionMatches (PyExc_SystemExit) || PyErr_ExceptionMatches (PyExc_KeyboardInterrupt))
    return NULL;
  {
    PyObject *et, *ev, *tb;
    PyErr_Fetch (&et, &ev, &tb);
    PyErr_NormalizeException (&et, &ev, &tb);
    if (tb != NULL && ev != NULL)
      PyException_SetTraceback (ev, tb);
    r = PyObject_CallFunctionObjArgs (w->on_error, self, ev ? ev : Py_None, NULL);
    Py_XDECREF (et);
    Py_XDECREF (ev);
    Py_XDECREF (tb);
  }
  return r;
}

/* ------------------------------------------------------------------ */
/* Identities                                                          */

/* Records name a lock, semaphore, condition, event or queue by a number of
 * its own, not by its address: an object freed and another made at the
 * same address (a queue per request, a lock per round of work) would be
 * one object in the recording, the first one's kind.  A number is given
 * at first sight and goes when the object dies.  Numbers are odd, so that
 * none equals an address (older recordings name objects by address). */
static int64_t next_id = 1;

static int64_t
new_id (void)
{
  int64_t id = next_id;

  next_id += 2;
  return id;
}

/* The callback of the weak reference that keeps an object's number (a
 * contended lock's slot, an entry of the object table): when the object
 * dies, `forget` drops what is kept under its address, if it is still
 * that object's (its number says: the address may have been given to
 * another object meanwhile). */
typedef struct {
  PyObject_HEAD
  void    (*forget) (uintptr_t obj, int64_t id);
  uintptr_t obj;
  int64_t   id;
} Gone;

static PyObject *
gone_call (PyObject *self,
           PyObject *args,
           PyObject *kwargs)
{
  Gone *g = (Gone *) self;

  /* The weak reference is args[0], which the call's tuple keeps alive
   * while `forget` drops the table's reference to it. */
  g->forget (g->obj, g->id);
  Py_RETURN_NONE;
}

static void
gone_dealloc (PyObject *self)
{
  PyObject_Free (self);
}

static PyTypeObject GoneType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = MODULE_NAME ".gone",
  .tp_basicsize = sizeof (Gone),
  .tp_dealloc = gone_dealloc,
  .tp_call = gone_call,
  .tp_flags = Py_TPFLAGS_DEFAULT,
};

/* A weak reference to obj whose callback calls forget (obj, id), or NULL
 * (no exception left) when obj takes none. */
static PyObject *
weak_forget (PyObject *obj,
             int64_t   id,
             void    (*forget) (uintptr_t, int64_t))
{
  Gone *g;
  PyObject *ref;

  if (Py_TYPE (obj)->tp_weaklistoffset == 0)
    return NULL;
  g = PyObject_New (Gone, &GoneType);
  if (g == NULL)
    {
      PyErr_Clear ();
      return NULL;
    }
  g->forget = forget;
  g->obj = (uintptr_t) obj;
  g->id = id;
  ref = PyWeakref_NewRef (obj, (PyObject *) g);
  Py_DECREF (g);
  if (ref == NULL)
    PyErr_Clear ();
  return ref;
}

/* Semaphores, conditions, events and queues (objects of Python classes)
 * have their numbers in a table by address, never on themselves: an
 * attribute would show in the program's vars() and be carried along by
 * copy.copy, so that a copy would be the original in the recording.  An
 * entry holds a weak reference to its object, whose callback removes it
 * when the object dies, before its memory can be given to another.  The
 * table is open-addressed with linear probing, at most half full, and
 * grows (never shrinks: it is as big as the most such objects alive at
 * once); a lookup, done on every recorded wait, put, get and release,
 * hashes the address and reads a slot or two, without allocating.  It is
 * only used holding the GIL (the recorder is not built for free-threaded
 * interpreters), and nothing in a lookup runs Python code. */
typedef struct {
  uintptr_t obj;   /* 0: empty */
  int64_t   id;
  PyObject *ref;   /* weak reference to obj (its callback removes the entry) */
} ObjEntry;

static ObjEntry *obj_table;
static size_t obj_mask;    /* slots - 1, a power of two less one; 0 while there is no table */
static size_t obj_count;

static inline size_t
obj_home (uintptr_t key)
{
  uint64_t h = (uint64_t) key * UINT64_C (0x9E3779B97F4A7C15);

  return (size_t) (h ^ h >> 32) & obj_mask;
}

static ObjEntry *
obj_find (uintptr_t key)
{
  if (obj_table == NULL)
    return NULL;
  for (size_t i = obj_home (key);; i = (i + 1) & obj_mask)
    {
      if (obj_table[i].obj == key)
        return &obj_table[i];
      if (obj_table[i].obj == 0)
        return NULL;
    }
}

/* Empties e and moves back the entries after it that could not be in
 * their home slot while it was taken (deletion from a linear-probing
 * table without tombstones).  The weak reference goes last, once the
 * table is whole. */
static void
obj_remove (ObjEntry *e)
{
  PyObject *ref = e->ref;
  size_t hole = (size_t) (e - obj_table);

  for (size_t j = (hole + 1) & obj_mask; obj_table[j].obj != 0; j = (j + 1) & obj_mask)
    {
      size_t home = obj_home (obj_table[j].obj);
      /* j may move to the hole when its home is not after the hole
       * (cyclically, between it and j). */
      if (((j - home) & obj_mask) >= ((j - hole) & obj_mask))
        {
          obj_table[hole] = obj_table[j];
          hole = j;
        }
    }
  memset (&obj_table[hole], 0, sizeof obj_table[hole]);
  obj_count--;
  Py_XDECREF (ref);
}

static void
obj_forget (uintptr_t obj,
            int64_t   id)
{
  ObjEntry *e = obj_find (obj);

  if (e != NULL && e->id == id)
    obj_remove (e);
}

/* Room for one more entry: doubles the table when it would be more than
 * half full.  -1 when memory ran out. */
static int
obj_reserve (void)
{
  size_t slots = obj_mask + 1;
  ObjEntry *old = obj_table;
  size_t old_slots = old != NULL ? slots : 0;

  if (old != NULL && 2 * (obj_count + 1) <= slots)
    return 0;
  slots = old != NULL ? 2 * slots : 256;
  obj_table = PyMem_Calloc (slots, sizeof (ObjEntry));
  if (obj_table == NULL)
    {
      obj_table = old;
      return -1;
    }
  obj_mask = slots - 1;
  for (size_t i = 0; i < old_slots; i++)
    if (old[i].obj != 0)
      {
        size_t j = obj_home (old[i].obj);
        while (obj_table[j].obj != 0)
          j = (j + 1) & obj_mask;
        obj_table[j] = old[i];
      }
  PyMem_Free (old);
  return 0;
}

/* The number of a semaphore, condition, event or queue.  An object that
 * takes no weak reference (an instance of a class of its own, with
 * __slots__ and no __weakref__, passed to one of these classes' methods)
 * is named by its address, which another such object may have later.
 * Called holding the GIL, with no exception set. */
static int64_t
object_id (PyObject *obj)
{
  uintptr_t key = (uintptr_t) obj;
  ObjEntry *e = obj_find (key);
  PyObject *ref;
  int64_t id;

  /* An entry whose object is dead is another object's at the same
   * address, its callback not yet run (which will find its number gone):
   * CPython runs the callbacks before it frees the memory, so this is a
   * guard, not a case. */
  if (e != NULL && ((PyWeakReference *) e->ref)->wr_object == obj)
    return e->id;
  id = new_id ();
  /* Making the weak reference may collect garbage, which runs callbacks
   * (ours remove entries) and finalizers (which may name objects too):
   * the table is looked at again after it. */
  ref = weak_forget (obj, id, obj_forget);
  if (ref == NULL)
    return (int64_t) key;
  e = obj_find (key);
  if (e != NULL)
    {
      if (((PyWeakReference *) e->ref)->wr_object == obj)
        {
          Py_DECREF (ref);
          return e->id;
        }
      obj_remove (e);
    }
  if (obj_reserve () < 0)
    {
      Py_DECREF (ref);
      return (int64_t) key;
    }
  for (e = &obj_table[obj_home (key)]; e->obj != 0; e = &obj_table[(size_t) (e - obj_table + 1) & obj_mask])
    ;
  e->obj = key;
  e->id = id;
  e->ref = ref;
  obj_count++;
  return id;
}

/* ------------------------------------------------------------------ */
/* Locks                                                               */

/* Every acquire and release of a threading.Lock or RLock goes through the
 * wrappers, but only locks somebody had to wait for are worth records:
 * the others never made a thread wait and would only fill the file.  So
 * an acquire first tries without blocking (a direct call of the C method,
 * no clock read, no record), and only when that fails is it a recorded
 * wait: the lock is marked contended (in a table by address, under the
 * GIL; see lock_slot for who gives way on a collision) and given its
 * number, its current hold is written from when it was taken (one clock
 * read per acquire keeps that), and from then on its acquires and
 * releases are written as they happen.  Locks have no attribute to keep a
 * number in: a contended lock's slot holds a weak reference to it, whose
 * callback frees the slot when the lock dies, so that neither its number
 * nor its slot outlives it. */
#define LOCK_SLOTS 4096

typedef struct {
  uintptr_t obj;
  int64_t   taken_at;
  int64_t   id;            /* its number once contended (somebody waited for it), else 0 */
  PyObject *gone;          /* contended: a weak reference to the lock that frees the slot, or NULL */
  uint32_t  holder;
  uint32_t  depth;         /* RLock recursion; 0: free */
} LockSlot;

static LockSlot lock_slots[LOCK_SLOTS];

/* Waits the wrappers record inside another recorded wait (the waiter lock
 * of a Condition.wait, a Thread.join's lock) belong to that wait. */
static _Thread_local int in_wait;

/* How far a lock's slot may be from where its address hashes to. */
#define LOCK_PROBES 8

static inline size_t
lock_home (uintptr_t key)
{
  return (key >> 4 ^ key >> 16) % LOCK_SLOTS;
}

/* Empties a slot.  The weak reference goes last: dropping it runs no
 * code of ours, but the slot must be whole by then. */
static void
lock_slot_clear (LockSlot *s)
{
  PyObject *gone = s->gone;

  memset (s, 0, sizeof *s);
  Py_XDECREF (gone);
}

/* A contended lock died: its slot is freed, if it is still that lock's. */
static void
lock_forget (uintptr_t obj,
             int64_t   id)
{
  size_t home = lock_home (obj);

  for (size_t i = 0; i < LOCK_PROBES; i++)
    {
      LockSlot *s = &lock_slots[(home + i) % LOCK_SLOTS];
      if (s->obj == obj && s->id == id)
        {
          lock_slot_clear (s);
          break;
        }
    }
}

/* The lock's slot, found or made.  A lock that has been waited for keeps
 * its slot while it lives: another lock hashing to the same place takes
 * the next free one, or one of a lock nobody waited for (rather free than
 * held), whose loss costs nothing that is written.  Taking a contended
 * lock's slot (once every lock had one) would stop its records in the
 * middle: a waiter's hold that follows its wait unwritten, and the wait
 * derived as I/O between two of its holds; if it is waited for again, it
 * is written as a new lock. */
static LockSlot *
lock_slot (PyObject *obj)
{
  uintptr_t key = (uintptr_t) obj;
  size_t home = lock_home (key);
  LockSlot *empty = NULL, *free_lock = NULL, *held_lock = NULL, *s;

  for (size_t i = 0; i < LOCK_PROBES; i++)
    {
      s = &lock_slots[(home + i) % LOCK_SLOTS];
      if (s->obj == key)
        return s;
      if (s->obj == 0 && empty == NULL)
        empty = s;
      else if (s->id == 0 && s->depth == 0 && free_lock == NULL)
        free_lock = s;
      else if (s->id == 0 && held_lock == NULL)
        held_lock = s;
    }
  s = empty != NULL ? empty : free_lock != NULL ? free_lock : held_lock != NULL ? held_lock : &lock_slots[home];
  lock_slot_clear (s);
  s->obj = key;
  return s;
}

/* A lock taken by th; `fresh` unless it may be an RLock taken again by its
 * owner (a plain lock taken is always a new hold: a slot that says it is
 * held belonged to a dead lock at the same address, which nobody waited
 * for). */
static void
lock_taken (PyObject *obj,
            uint32_t  th,
            int       fresh)
{
  LockSlot *s = lock_slot (obj);

  if (!fresh && s->depth > 0 && s->holder == th)
    {
      s->depth++;  /* an RLock taken again by its owner */
      return;
    }
  s->holder = th;
  s->depth = 1;
  s->taken_at = now_ns ();
  if (s->id != 0)
    emit (IL_REC_ACQUIRED, th, s->taken_at, s->id, IL_REC_CALL_LOCK, NULL, 0);
}

static void
lock_released (PyObject *obj,
               uint32_t  th,
               int       all)
{
  LockSlot *s = lock_slot (obj);

  if (s->depth == 0 || (--s->depth > 0 && !all))
    return;
  s->depth = 0;
  if (s->id != 0)
    emit (IL_REC_RELEASED, th, now_ns (), s->id, IL_REC_CALL_LOCK, NULL, 0);
}

/* A thread is about to wait for obj (at t): from now on its holds are
 * written, the current one too.  Its number, which the wait names. */
static int64_t
lock_contended (PyObject *obj,
                int64_t   t)
{
  LockSlot *s = lock_slot (obj);
  PyObject *gone;
  int64_t id;

  if (s->id != 0)
    return s->id;
  id = s->id = new_id ();
  /* A lock type without weak references keeps its slot until another
   * lock needs it, as every lock did before.  Making the reference may
   * collect garbage, whose finalizers may take locks and so take this
   * slot: then the lock is not followed further (as when it loses its
   * slot later). */
  gone = weak_forget (obj, id, lock_forget);
  if (s->obj != (uintptr_t) obj || s->id != id)
    {
      Py_XDECREF (gone);
      return id;
    }
  s->gone = gone;
  if (s->depth > 0 && s->holder != 0)
    emit (IL_REC_ACQUIRED, s->holder, s->taken_at > 0 && s->taken_at <= t ? s->taken_at : t,
          s->id, IL_REC_CALL_LOCK, NULL, 0);
  return s->id;
}

/* The value of keyword `name` or of positional argument `pos` (self is
 * 0), or NULL when the call does not give it. */
static PyObject *
call_arg (PyObject *const *args,
          size_t            nargsf,
          PyObject         *kwnames,
          Py_ssize_t        pos,
          PyObject         *name)
{
  Py_ssize_t nargs = PyVectorcall_NARGS (nargsf);

  if (pos < nargs)
    return args[pos];
  if (kwnames != NULL)
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE (kwnames); i++)
      if (PyUnicode_Compare (PyTuple_GET_ITEM (kwnames, i), name) == 0)
        return args[nargs + i];
  if (PyErr_Occurred ())
    PyErr_Clear ();
  return NULL;
}

/* An argument's truth, `dflt` when absent or unreadable. */
static int
arg_true (PyObject *o,
          int       dflt)
{
  int r;

  if (o == NULL)
    return dflt;
  r = PyObject_IsTrue (o);
  if (r < 0)
    {
      PyErr_Clear ();
      return dflt;
    }
  return r;
}

/* An integer attribute, or `dflt`. */
static long
attr_long (PyObject *o,
           PyObject *name,
           long      dflt)
{
  PyObject *v = get_attr (o, name);
  long n = dflt;

  if (v != NULL && PyLong_Check (v))
    {
      n = PyLong_AsLong (v);
      if (n == -1 && PyErr_Occurred ())
        {
          PyErr_Clear ();
          n = dflt;
        }
    }
  Py_XDECREF (v);
  return n;
}

/* Calls the wrapped function as a recorded wait of `category` on the
 * object numbered `id` (-1: none), unless inside another recorded wait. */
static PyObject *
call_waiting (Wrapper          *w,
              uint32_t          th,
              int               category,
              int64_t           id,
              PyObject *const  *args,
              size_t            nargsf,
              PyObject         *kwnames)
{
  PyObject *result;
  int outer = in_wait == 0;

  if (outer)
    emit (IL_REC_CALL_BEGIN, th, now_ns (), category, id, NULL, 0);
  in_wait++;
  result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
  in_wait--;
  if (outer)
    emit (IL_REC_CALL_END, th, now_ns (), category, 0, NULL, 0);
  return result;
}

static PyObject *empty_tuple, *false_tuple;

/* The METH_FASTCALL signatures, spelled alike in every version. */
typedef PyObject *(*FastFunc) (PyObject *, PyObject *const *, Py_ssize_t);
typedef PyObject *(*FastKwFunc) (PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

/* Calls a lock's C method directly, with no argument (or False alone:
 * `try_only`), without building an argument tuple, so that `with lock:`
 * costs about what it did unrecorded.  NULL with no exception set when
 * the method is not one it knows how to call. */
static PyObject *
call_lock_direct (Wrapper  *w,
                  PyObject *self,
                  int       try_only)
{
  PyMethodDef *def;
  void (*meth) (void);
  PyObject *no[1] = { Py_False };

  if (!Py_IS_TYPE (w->func, &PyMethodDescr_Type) || !Py_IS_TYPE (self, PyDescr_TYPE (w->func)))
    return NULL;
  def = ((PyMethodDescrObject *) w->func)->d_method;
  meth = (void (*) (void)) def->ml_meth;
  switch (def->ml_flags & (METH_VARARGS | METH_KEYWORDS | METH_NOARGS | METH_O | METH_FASTCALL))
    {
    case METH_VARARGS | METH_KEYWORDS:
      return ((PyCFunctionWithKeywords) meth) (self, try_only ? false_tuple : empty_tuple, NULL);
    case METH_VARARGS:
      return ((PyCFunction) meth) (self, try_only ? false_tuple : empty_tuple);
    case METH_NOARGS:
      return try_only ? NULL : ((PyCFunction) meth) (self, NULL);
    case METH_FASTCALL | METH_KEYWORDS:
      return ((FastKwFunc) meth) (self, no, try_only, NULL);
    case METH_FASTCALL:
      return ((FastFunc) meth) (self, no, try_only);
    default:
      return NULL;
    }
}

/* The wrapped lock method as called, directly when it is given no
 * argument (or ignores them: __exit__). */
static PyObject *
call_lock_method (Wrapper          *w,
                  PyObject         *self,
                  PyObject *const  *args,
                  size_t            nargsf,
                  PyObject         *kwnames)
{
  if (w->method == 3 || (PyVectorcall_NARGS (nargsf) == 1 && kwnames == NULL))
    {
      PyObject *r = call_lock_direct (w, self, 0);
      if (r != NULL || PyErr_Occurred ())
        return r;
    }
  return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
}

/* Whether acquire(…) is given arguments it takes and may block: then a
 * successful try without blocking is what the call itself would have
 * done.  A call the lock would refuse (a timeout with blocking=False, a
 * negative timeout, an unknown keyword) or one that cannot block goes
 * straight to the lock, which answers it as unrecorded. */
static int
acquire_may_block (PyObject *const *args,
                   size_t            nargsf,
                   PyObject         *kwnames)
{
  Py_ssize_t nargs = PyVectorcall_NARGS (nargsf);
  PyObject *timeout;
  double secs;

  if (nargs > 3)
    return 0;
  for (Py_ssize_t i = 0; kwnames != NULL && i < PyTuple_GET_SIZE (kwnames); i++)
    if (PyUnicode_Compare (PyTuple_GET_ITEM (kwnames, i), str_blocking) != 0
        && PyUnicode_Compare (PyTuple_GET_ITEM (kwnames, i), str_timeout) != 0)
      {
        PyErr_Clear ();
        return 0;
      }
  if (!arg_true (call_arg (args, nargsf, kwnames, 1, str_blocking), 1))
    return 0;
  timeout = call_arg (args, nargsf, kwnames, 2, str_timeout);
  if (timeout == NULL)
    return 1;
  secs = PyFloat_AsDouble (timeout);
  if (secs == -1.0 && PyErr_Occurred ())
    {
      PyErr_Clear ();
      return 0;
    }
  return secs >= 0 || secs == -1.0;
}

/* lock.acquire(blocking=True, timeout=-1) and __enter__: a try without
 * blocking first (every lock method takes `blocking` first); when it
 * fails, a recorded wait as long as the real call. */
static PyObject *
lock_acquire (Wrapper          *w,
              uint32_t          th,
              PyObject         *self,
              PyObject *const  *args,
              size_t            nargsf,
              PyObject         *kwnames)
{
  int may_block = (PyVectorcall_NARGS (nargsf) == 1 && kwnames == NULL) || acquire_may_block (args, nargsf, kwnames);
  PyObject *result = may_block ? call_lock_direct (w, self, 1) : NULL;

  if (result == NULL && PyErr_Occurred ())
    PyErr_Clear ();  /* the real call says what is wrong */
  if (result == Py_True)
    {
      lock_taken (self, th, w->method != 4);
      return result;
    }
  Py_XDECREF (result);
  if (in_wait == 0 && may_block)
    {
      int64_t t = now_ns ();
      int64_t id = lock_contended (self, t);
      emit (IL_REC_CALL_BEGIN, th, t, IL_REC_CALL_LOCK, id, NULL, 0);
      in_wait++;
      result = call_lock_method (w, self, args, nargsf, kwnames);
      in_wait--;
      emit (IL_REC_CALL_END, th, now_ns (), IL_REC_CALL_LOCK, 0, NULL, 0);
    }
  else
    result = call_lock_method (w, self, args, nargsf, kwnames);
  if (result == Py_True)
    lock_taken (self, th, w->method != 4);
  return result;
}

/* The descriptor of a blocking socket (no timeout), or -1: a socket with
 * a timeout waits in its own call, which must see the whole timeout.  So
 * does one Python thinks blocking but whose descriptor is not: made
 * non-blocking behind its back (os.set_blocking on its fileno) or given a
 * kernel receive timeout (SO_RCVTIMEO) — the real call returns at once or
 * after that timeout, where the recorder's own wait would never end. */
static int
blocking_socket_fd (PyObject *sock)
{
  PyObject *timeout = PyObject_CallMethodNoArgs (sock, str_gettimeout);
  PyObject *fileno = timeout == Py_None ? PyObject_CallMethodNoArgs (sock, str_fileno) : NULL;
  long fd = fileno != NULL && PyLong_Check (fileno) ? PyLong_AsLong (fileno) : -1;
  struct timeval rcvtimeo = { 0 };
  socklen_t len = sizeof rcvtimeo;
  int fl;

  if (PyErr_Occurred ())
    PyErr_Clear ();
  Py_XDECREF (fileno);
  Py_XDECREF (timeout);
  if (fd < 0 || fd > INT32_MAX)
    return -1;
  fl = fcntl ((int) fd, F_GETFL);
  if (fl < 0 || (fl & O_NONBLOCK) != 0)
    return -1;
  if (getsockopt ((int) fd, SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, &len) != 0
      || rcvtimeo.tv_sec != 0 || rcvtimeo.tv_usec != 0)
    return -1;
  return (int) fd;
}

/* Waits, with the GIL released, until `fd` can be read, and writes when
 * the kernel said so before taking the GIL back: the time from there to
 * holding it again is a wait for the GIL, which the call's return alone
 * would count as I/O (52.6 ms instead of 42 ms per request from 16 threads
 * waiting 40 ms each for a server).  The real call then finds its data
 * and does not block; an error leaves the waiting to it.  -1 with an
 * exception set when a signal handler raised. */
static int
wait_readable (uint32_t th,
               int      fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int n, err;

  do
    {
      Py_BEGIN_ALLOW_THREADS
      n = poll (&pfd, 1, -1);
      err = errno;
      if (n > 0)
        emit (IL_REC_CALL_RETURNED, th, now_ns (), 0, 0, NULL, 0);
      Py_END_ALLOW_THREADS
      /* A signal ran its Python handler here, as the call would have (PEP
       * 475): Ctrl-C raises out of the wait, anything else waits on. */
      if (n < 0 && err == EINTR && PyErr_CheckSignals () < 0)
        return -1;
    }
  while (n < 0 && err == EINTR);
  return 0;
}

/* The flags a socket read is called with (0 when none, or unreadable). */
static long
recv_flags (Wrapper          *w,
            PyObject *const  *args,
            size_t            nargsf,
            PyObject         *kwnames)
{
  PyObject *flags = w->flags_pos > 0 ? call_arg (args, nargsf, kwnames, w->flags_pos, str_flags) : NULL;
  long n = flags != NULL && PyLong_Check (flags) ? PyLong_AsLong (flags) : 0;

  if (n == -1 && PyErr_Occurred ())
    {
      PyErr_Clear ();
      n = 0;
    }
  return n;
}

/* b of a QUEUE record. */
static int64_t
queue_op_bits (int  put,
               int  done,
               long maxsize)
{
  int64_t max = maxsize < 0 ? 0 : maxsize > ((int64_t) 1 << 40) ? (int64_t) 1 << 40 : (int64_t) maxsize;

  return (put ? IL_REC_QUEUE_PUT : 0) | (done ? IL_REC_QUEUE_DONE : 0) | max << IL_REC_QUEUE_MAXSIZE_SHIFT;
}

/* queue.Queue get(self, block=True, timeout=None) / put(self, item, block=True,
 * timeout=None), which get_nowait and put_nowait call: every call writes
 * which queue, its maxsize and whether an item moved; one that will wait
 * (blocking, the queue empty for a get, full for a put) is first a
 * recorded wait.  What the call does inside (its mutex, the condition it
 * waits on) belongs to it and is not recorded apart. */
static PyObject *
queue_call (Wrapper          *w,
            uint32_t          th,
            PyObject         *self,
            PyObject *const  *args,
            size_t            nargsf,
            PyObject         *kwnames)
{
  int put = w->kind == W_QUEUE_PUT;
  PyObject *q, *result;
  Py_ssize_t n;
  long max;
  int waits;
  int64_t id;

  if (in_wait > 0)
    return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
  id = object_id (self);
  q = get_attr (self, str_queue);
  n = q != NULL ? PyObject_Size (q) : -1;
  max = attr_long (self, str_maxsize, 0);
  if (n < 0)
    PyErr_Clear ();
  Py_XDECREF (q);
  waits = put ? max > 0 && n >= max : n == 0;
  if (waits && !arg_true (call_arg (args, nargsf, kwnames, put ? 2 : 1, str_block), 1))
    waits = 0;
  if (waits)
    result = call_waiting (w, th, put ? IL_REC_CALL_QUEUE_PUT : IL_REC_CALL_QUEUE, id, args, nargsf, kwnames);
  else
    {
      in_wait++;
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      in_wait--;
    }
  emit (IL_REC_QUEUE, th, now_ns (), id, queue_op_bits (put, result != NULL, max), NULL, 0);
  return result;
}

static PyObject *
wrapper_call_impl (Wrapper          *w,
                   PyObject *const  *args,
                   size_t            nargsf,
                   PyObject         *kwnames)
{
  Py_ssize_t nargs = PyVectorcall_NARGS (nargsf);
  PyObject *self = nargs > 0 ? args[0] : NULL;
  PyObject *result;
  uint32_t th;

  if (!atomic_load_explicit (&recording, memory_order_relaxed))
    return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
  th = w->kind == W_THREAD ? my_thread : current_thread ();

  switch ((WrapKind) w->kind)
    {
    case W_CALL:
      {
        int64_t arg = w->category == IL_REC_CALL_SLEEP ? seconds_arg_ns (self) : -1;
        if (w->category == IL_REC_CALL_JOIN && self != NULL)
          {
            PyObject *ident = get_attr (self, str_ident);
            arg = ident != NULL && PyLong_Check (ident) ? (int64_t) PyLong_AsUnsignedLongMask (ident) : -1;
            if (arg == -1 && PyErr_Occurred ())
              PyErr_Clear ();
            Py_XDECREF (ident);
          }
        emit (IL_REC_CALL_BEGIN, th, now_ns (), w->category, arg, NULL, 0);
        in_wait++;
        result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        in_wait--;
        emit (IL_REC_CALL_END, th, now_ns (), w->category, 0, NULL, 0);
        return result;
      }

    case W_RECV:
      {
        /* recv(n, MSG_DONTWAIT) does not wait even on a blocking socket:
         * neither may the recorder, or the call would hang for data. */
        int fd = self != NULL && in_wait == 0 && !(recv_flags (w, args, nargsf, kwnames) & MSG_DONTWAIT)
                 ? blocking_socket_fd (self) : -1;
        emit (IL_REC_CALL_BEGIN, th, now_ns (), IL_REC_CALL_SOCKET, -1, NULL, 0);
        in_wait++;
        result = fd >= 0 && wait_readable (th, fd) < 0 ? NULL : PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        in_wait--;
        emit (IL_REC_CALL_END, th, now_ns (), IL_REC_CALL_SOCKET, 0, NULL, 0);
        return result;
      }

    case W_ACQUIRE:
      if (self == NULL)
        break;
      return lock_acquire (w, th, self, args, nargsf, kwnames);

    case W_RESTORE:
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      if (result != NULL && self != NULL)
        lock_taken (self, th, 1);
      return result;

    case W_RELEASE:
      if (self == NULL)
        break;
      if (w->category == IL_REC_CALL_SEMAPHORE)
        {
          int64_t id = object_id (self);
          result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
          if (result != NULL)
            emit (IL_REC_RELEASED, th, now_ns (), id, IL_REC_CALL_SEMAPHORE, NULL, 0);
          return result;
        }
      result = call_lock_method (w, self, args, nargsf, kwnames);
      if (result != NULL)
        lock_released (self, th, w->method == 2);
      return result;

    case W_SYNC:
    case W_QUEUE_PUT:
      {
        /* Recorded only when it will wait: no slot free, the event not
         * set. */
        int waits = 1;
        int64_t id = 0;   /* looked up only for a record: an Event already
                           * set, the inner Condition.wait of every
                           * Event.wait, pay nothing */
        if (self == NULL)
          break;
        if (w->category == IL_REC_CALL_QUEUE)
          return queue_call (w, th, self, args, nargsf, kwnames);
        if (w->category == IL_REC_CALL_SEMAPHORE)
          waits = attr_long (self, str_value, 1) == 0;
        else if (w->category == IL_REC_CALL_EVENT)
          {
            PyObject *flag = get_attr (self, str_flag);
            waits = !arg_true (flag, 0);
            Py_XDECREF (flag);
          }
        if (waits && w->category == IL_REC_CALL_SEMAPHORE
            && !arg_true (call_arg (args, nargsf, kwnames, 1, str_blocking), 1))
          waits = 0;
        if (waits && in_wait == 0)
          {
            id = object_id (self);
            result = call_waiting (w, th, w->category, id, args, nargsf, kwnames);
          }
        else
          result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        if (w->category == IL_REC_CALL_SEMAPHORE && result == Py_True)
          emit (IL_REC_ACQUIRED, th, now_ns (), id != 0 ? id : object_id (self), IL_REC_CALL_SEMAPHORE, NULL, 0);
        return result;
      }

    case W_AQUEUE:
      {
        /* asyncio.Queue put_nowait / get_nowait (category 1 / 0): an item
         * moves or they raise. */
        long max = self != NULL ? attr_long (self, str__maxsize, 0) : 0;
        int put = w->category & 1;
        int64_t id;
        if (self == NULL)
          break;
        id = object_id (self);
        result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        emit (IL_REC_QUEUE, th, now_ns (), id,
              queue_op_bits (put, result != NULL, max) | IL_REC_QUEUE_ASYNC, NULL, 0);
        return result;
      }

    case W_RUN_ONCE:
      {
        Py_ssize_t ready = -1;
        PyObject *q = self ? get_attr (self, str_ready) : NULL;
        if (q != NULL)
          {
            ready = PyObject_Size (q);
            if (ready < 0)
              PyErr_Clear ();
            Py_DECREF (q);
          }
        emit (IL_REC_LOOP_ITER, th, now_ns (), ready, (int64_t) (intptr_t) self, NULL, 0);
        return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      }

    case W_SELECT:
      {
        PyObject *timeout = nargs > 1 ? args[1] : NULL;
        Py_ssize_t n;
        if (kwnames != NULL && PyTuple_GET_SIZE (kwnames) == 1)
          timeout = args[nargs];
        emit (IL_REC_SELECT_BEGIN, th, now_ns (), seconds_arg_ns (timeout), 0, NULL, 0);
        result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        n = result != NULL ? PyObject_Size (result) : -1;
        if (n < 0 && result != NULL)
          PyErr_Clear ();
        emit (IL_REC_SELECT_END, th, now_ns (), n, 0, NULL, 0);
        return result;
      }

    case W_HANDLE_RUN:
      {
        PyObject *cb = self ? get_attr (self, str_callback) : NULL;
        PyObject *task = cb ? get_attr (cb, str_self) : NULL;
        int64_t waker = 0, prev = my_task;

        if (task != NULL && !is_task (task))
          Py_CLEAR (task);
        if (task != NULL)
          {
            PyObject *hargs = get_attr (self, str_args);
            if (hargs != NULL && PyTuple_Check (hargs) && PyTuple_GET_SIZE (hargs) > 0
                && is_task (PyTuple_GET_ITEM (hargs, 0)))
              waker = (int64_t) (intptr_t) PyTuple_GET_ITEM (hargs, 0);
            Py_XDECREF (hargs);
          }
        emit (IL_REC_STEP_BEGIN, th, now_ns (), (int64_t) (intptr_t) task, waker, NULL, 0);
        my_task = (int64_t) (intptr_t) task;
        if (w->on_error != NULL && nargs == 1 && kwnames == NULL && cb != NULL)
          result = handle_run (w, self, cb);
        else
          result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        my_task = prev;
        if (task != NULL)
          {
            /* Keep a pending exception (KeyboardInterrupt) across our calls. */
            PyObject *et, *ev, *tb;
            PyErr_Fetch (&et, &ev, &tb);
            step_end (th, task);
            PyErr_Restore (et, ev, tb);
          }
        else
          emit (IL_REC_STEP_END, th, now_ns (), 0, 0, NULL, 0);
        Py_XDECREF (task);
        Py_XDECREF (cb);
        return result;
      }

    case W_CREATE_TASK:
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      if (result != NULL)
        {
          PyObject *name = PyObject_CallMethodNoArgs (result, str_get_name);
          if (name == NULL)
            PyErr_Clear ();
          emit_name (IL_REC_TASK_CREATE, th, (int64_t) (intptr_t) result, my_task, name);
          Py_XDECREF (name);
        }
      return result;

    case W_WORK:
      {
        PyObject *fn = self ? get_attr (self, str_fn) : NULL;
        PyObject *name = fn ? get_attr (fn, str_qualname) : NULL;
        emit_name (IL_REC_WORK_BEGIN, th, (int64_t) (intptr_t) self, w->category, name);
        Py_XDECREF (name);
        Py_XDECREF (fn);
        result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        emit (IL_REC_WORK_END, th, now_ns (), (int64_t) (intptr_t) self, 0, NULL, 0);
        return result;
      }

    case W_THREAD:
      {
        PyObject *name = self ? get_attr (self, str_name) : NULL;
        const char *s = name && PyUnicode_Check (name) ? PyUnicode_AsUTF8 (name) : NULL;
        char text[512];
        if (s == NULL)
          PyErr_Clear ();
        /* "name\nclass": the reader tells the interpreter's helper threads
         * (executor managers, queue feeders) from the program's own. */
        snprintf (text, sizeof text, "%s\n%s", s ? s : "thread", self ? Py_TYPE (self)->tp_name : "");
        register_current (text, (int64_t) PyThread_get_thread_ident (), (int64_t) PyThread_get_thread_native_id (), 1);
        Py_XDECREF (name);
        result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        unregister_current ();
        return result;
      }

    case W_EXIT:
      {
        long code = self ? PyLong_AsLong (self) : -1;
        if (code == -1 && PyErr_Occurred ())
          PyErr_Clear ();
        emit (IL_REC_EXIT, th, now_ns (), code, 0, NULL, 0);
        flush_all ();
        return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      }

    case W_WORK_FN:
      {
        PyObject *name = get_attr (w->func, str_qualname);
        emit_name (IL_REC_WORK_BEGIN, th, (int64_t) (intptr_t) w, w->category, name);
        Py_XDECREF (name);
        result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
        emit (IL_REC_WORK_END, th, now_ns (), (int64_t) (intptr_t) w, 0, NULL, 0);
        return result;
      }

    case W_CALL_AT:
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      /* Only timers whose callback resolves a future say when a task
       * awaiting that future wakes (asyncio.sleep). */
      if (result != NULL && nargs >= 4)
        {
          int64_t when = seconds_arg_ns (args[1]);
          if (when >= 0)
            emit (IL_REC_TIMER, th, now_ns (), (int64_t) (intptr_t) args[3], when, NULL, 0);
        }
      return result;

    case W_PROCESS:
      {
        PyObject *name = self ? get_attr (self, str_name) : NULL;
        emit_name (IL_REC_PROCESS_NAME, th, 0, 0, name);
        Py_XDECREF (name);
        return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      }

    case W_INTERVAL:
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      if (result != NULL && gil != NULL)
        emit (IL_REC_INTERVAL, th, now_ns (), (int64_t) gil->interval, 0, NULL, 0);
      return result;

    case W_TASK_NAME:
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      if (result != NULL && self != NULL)
        {
          PyObject *name = PyObject_CallMethodNoArgs (self, str_get_name);
          if (name == NULL)
            PyErr_Clear ();
          emit_name (IL_REC_TASK_CREATE, th, (int64_t) (intptr_t) self, -1, name);
          Py_XDECREF (name);
        }
      return result;

    case W_POOL:
      result = PyObject_Vectorcall (w->func, args, nargsf, kwnames);
      if (result != NULL && self != NULL)
        {
          PyObject *mw = get_attr (self, str_max_workers);
          PyObject *ctx = get_attr (self, str_mp_context);
          PyObject *method = ctx ? PyObject_CallMethodNoArgs (ctx, str_get_start_method) : NULL;
          long n = mw ? PyLong_AsLong (mw) : -1;
          if (n == -1 && PyErr_Occurred ())
            PyErr_Clear ();
          if (ctx != NULL && method == NULL)
            PyErr_Clear ();
          emit_name (IL_REC_POOL, th, n, w->category, method);
          Py_XDECREF (method);
          Py_XDECREF (ctx);
          Py_XDECREF (mw);
        }
      return result;
    }
  return PyObject_Vectorcall (w->func, args, nargsf, kwnames);
}

static PyObject *
wrapper_vectorcall (PyObject         *callable,
                    PyObject *const  *args,
                    size_t            nargsf,
                    PyObject         *kwnames)
{
  return wrapper_call_impl ((Wrapper *) callable, args, nargsf, kwnames);
}

static void
wrapper_dealloc (PyObject *self)
{
  Wrapper *w = (Wrapper *) self;

  PyObject_GC_UnTrack (self);
  Py_CLEAR (w->func);
  Py_CLEAR (w->on_error);
  PyObject_GC_Del (self);
}

static int
wrapper_traverse (PyObject  *self,
                  visitproc  visit,
                  void      *arg)
{
  Py_VISIT (((Wrapper *) self)->func);
  Py_VISIT (((Wrapper *) self)->on_error);
  return 0;
}

static PyObject *
wrapper_descr_get (PyObject *self,
                   PyObject *obj,
                   PyObject *type)
{
  if (obj == NULL || obj == Py_None)
    return Py_NewRef (self);
  return PyMethod_New (self, obj);
}

/* Wrapped functions keep their name and docs for introspection. */
static PyObject *
wrapper_getattro (PyObject *self,
                  PyObject *name)
{
  PyObject *v = PyObject_GenericGetAttr (self, name);
  if (v == NULL && PyErr_ExceptionMatches (PyExc_AttributeError))
    {
      PyErr_Clear ();
      v = PyObject_GetAttr (((Wrapper *) self)->func, name);
    }
  return v;
}

/* Two types: methods placed in classes must bind `self`; functions put
 * back into modules (time.sleep) must not, just as builtins do not. */
static PyTypeObject MethodWrapperType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = MODULE_NAME ".method",
  .tp_basicsize = sizeof (Wrapper),
  .tp_dealloc = wrapper_dealloc,
  .tp_vectorcall_offset = offsetof (Wrapper, vectorcall),
  .tp_call = PyVectorcall_Call,
  .tp_getattro = wrapper_getattro,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
  .tp_traverse = wrapper_traverse,
  .tp_descr_get = wrapper_descr_get,
};

static PyTypeObject FunctionWrapperType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = MODULE_NAME ".function",
  .tp_basicsize = sizeof (Wrapper),
  .tp_dealloc = wrapper_dealloc,
  .tp_vectorcall_offset = offsetof (Wrapper, vectorcall),
  .tp_call = PyVectorcall_Call,
  .tp_getattro = wrapper_getattro,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
  .tp_traverse = wrapper_traverse,
};

/* wrap(func, kind, category=0, method=1, on_error=None): method 0 for a
 * function that must not bind self (time.sleep put back into its module),
 * 2 for RELEASE of every level (RLock._release_save) */
static PyObject *
rec_wrap (PyObject *module,
          PyObject *args)
{
  PyObject *func, *on_error = Py_None;
  int kind, category = 0, method = 1;
  Wrapper *w;

  if (!PyArg_ParseTuple (args, "Oi|iiO", &func, &kind, &category, &method, &on_error))
    return NULL;
  if (kind < W_CALL || kind > W_AQUEUE)
    {
      PyErr_SetString (PyExc_ValueError, "unknown wrapper kind");
      return NULL;
    }
  w = PyObject_GC_New (Wrapper, method ? &MethodWrapperType : &FunctionWrapperType);
  if (w == NULL)
    return NULL;
  w->func = Py_NewRef (func);
  w->on_error = on_error != Py_None ? Py_NewRef (on_error) : NULL;
  w->kind = kind;
  w->category = category;
  w->method = method;
  w->flags_pos = 0;
  if (kind == W_RECV)
    {
      /* recv(bufsize, flags), recvfrom(bufsize, flags), recv_into(buffer, nbytes, flags) */
      PyObject *name = PyObject_GetAttr (func, str___name__);
      if (name != NULL && PyUnicode_Check (name))
        w->flags_pos = PyUnicode_CompareWithASCIIString (name, "recv") == 0
                       || PyUnicode_CompareWithASCIIString (name, "recvfrom") == 0 ? 2
                       : PyUnicode_CompareWithASCIIString (name, "recv_into") == 0 ? 3 : 0;
      Py_XDECREF (name);
      PyErr_Clear ();
    }
  w->vectorcall = wrapper_vectorcall;
  PyObject_GC_Track ((PyObject *) w);
  return (PyObject *) w;
}

/* ------------------------------------------------------------------ */
/* Module functions                                                    */

static PyObject *
rec_set_task_types (PyObject *module,
                    PyObject *types)
{
  if (!PyTuple_Check (types))
    {
      PyErr_SetString (PyExc_TypeError, "expected a tuple of classes");
      return NULL;
    }
  Py_XSETREF (task_types, Py_NewRef (types));
  Py_RETURN_NONE;
}

/* start(directory, start_method) */
static PyObject *
rec_start (PyObject *module,
           PyObject *args)
{
  const char *dir, *method;
  PyInterpreterState *interp = PyInterpreterState_Get ();
  struct sigaction old;

  if (!PyArg_ParseTuple (args, "ss", &dir, &method))
    return NULL;
  if (atomic_load (&recording))
    Py_RETURN_FALSE;
  if (strlen (dir) >= sizeof rec_dir)
    {
      PyErr_SetString (PyExc_ValueError, "recording directory path too long");
      return NULL;
    }
  strcpy (rec_dir, dir);

#if PY_VERSION_HEX >= 0x030C0000
  gil = interp->ceval.gil;
#else
  gil = &interp->runtime->ceval.gil;
#endif
#if PY_VERSION_HEX >= 0x030D0000
  drop_request = NULL;
#else
  drop_request = (_Atomic int *) &interp->ceval.gil_drop_request._value;
#endif

  snprintf (py_version, sizeof py_version, "%.*s", (int) strcspn (Py_GetVersion (), " "), Py_GetVersion ());
  snprintf (process_text, sizeof process_text, "%s %s", py_version, method);
  if (open_process_file () < 0)
    return PyErr_SetFromErrnoWithFilename (PyExc_OSError, dir);
  atomic_store (&recording, 1);
  emit_process ();
  register_current ("MainThread", (int64_t) PyThread_get_thread_ident (), (int64_t) PyThread_get_thread_native_id (), 1);
  pthread_atfork (before_fork, after_fork_parent, after_fork_child);
  if (sigaction (SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
    signal (SIGTERM, on_sigterm);
  sampler_start ();
  Py_RETURN_TRUE;
}

static PyObject *
rec_stop (PyObject *module,
          PyObject *args)
{
  int code = -1;

  if (!PyArg_ParseTuple (args, "|i", &code))
    return NULL;
  if (!atomic_load (&recording))
    Py_RETURN_NONE;
  Py_BEGIN_ALLOW_THREADS
  sampler_join ();
  Py_END_ALLOW_THREADS
  emit (IL_REC_EXIT, my_thread, now_ns (), code, 0, NULL, 0);
  pthread_mutex_lock (&buf_lock);
  flush_locked ();
  atomic_store (&recording, 0);
  if (out_fd >= 0)
    close (out_fd);
  out_fd = -1;
  pthread_mutex_unlock (&buf_lock);
  Py_RETURN_NONE;
}

/* patch_type(cls, name, value): sets an attribute of a C type that
 * Python code may not change (_thread.lock, _io.FileIO), so that the
 * recorder sees its calls; the type's method cache is told. */
static PyObject *
rec_patch_type (PyObject *module,
                PyObject *args)
{
  PyTypeObject *type;
  PyObject *name, *value, *dict;

  if (!PyArg_ParseTuple (args, "O!UO", &PyType_Type, &type, &name, &value))
    return NULL;
  dict = type->tp_dict;
  if (dict == NULL || !PyDict_Check (dict))
    {
      PyErr_SetString (PyExc_TypeError, "type without a dictionary");
      return NULL;
    }
  if (PyDict_SetItem (dict, name, value) < 0)
    return NULL;
  PyType_Modified (type);
  Py_RETURN_NONE;
}

/* record(kind, a=0, b=0, text=None): a record written from Python, for
 * work items and pools the bootstrap follows in Python code. */
static PyObject *
rec_record (PyObject *module,
            PyObject *args)
{
  int kind;
  long long a = 0, b = 0;
  const char *text = NULL;
  Py_ssize_t len = 0;

  if (!PyArg_ParseTuple (args, "i|LLz#", &kind, &a, &b, &text, &len))
    return NULL;
  if (kind != IL_REC_WORK_BEGIN && kind != IL_REC_WORK_END && kind != IL_REC_POOL)
    {
      PyErr_SetString (PyExc_ValueError, "not a record kind Python may write");
      return NULL;
    }
  if (atomic_load_explicit (&recording, memory_order_relaxed))
    emit ((uint8_t) kind, current_thread (), now_ns (), a, b, text, text != NULL ? (size_t) len : 0);
  Py_RETURN_NONE;
}

/* aqueue_waits(queue, put): called by the bootstrap's asyncio.Queue get
 * (put 0) and put (1) when their coroutine starts, in the task that runs
 * it, once empty() (full()) said it will wait: records the wait if the
 * queue's items say so too (a subclass may decide otherwise; then nothing
 * is recorded and the original call still waits).  Returns whether it
 * recorded one; unreadable queues (not recording) say True. */
static PyObject *
rec_aqueue_waits (PyObject         *module,
                  PyObject *const  *args,
                  Py_ssize_t        nargs)
{
  PyObject *q;
  Py_ssize_t n;
  long max;
  int put;

  if (nargs != 2)
    {
      PyErr_SetString (PyExc_TypeError, "aqueue_waits(queue, put)");
      return NULL;
    }
  if (!atomic_load_explicit (&recording, memory_order_relaxed))
    Py_RETURN_TRUE;
  put = arg_true (args[1], 0);
  max = attr_long (args[0], str__maxsize, 0);
  q = get_attr (args[0], str__queue);
  n = q != NULL ? PyObject_Size (q) : -1;
  if (n < 0)
    PyErr_Clear ();
  Py_XDECREF (q);
  if (n < 0)
    Py_RETURN_TRUE;
  if (!(put ? max > 0 && n >= max : n == 0))
    Py_RETURN_FALSE;
  emit (IL_REC_QUEUE, current_thread (), now_ns (), object_id (args[0]),
        queue_op_bits (put, 0, max) | IL_REC_QUEUE_ASYNC | IL_REC_QUEUE_WAITS, NULL, 0);
  Py_RETURN_TRUE;
}

static PyObject *
rec_flush (PyObject *module,
           PyObject *unused)
{
  flush_all ();
  Py_RETURN_NONE;
}

static PyMethodDef rec_methods[] = {
  { "start", rec_start, METH_VARARGS, "start(directory, start_method): start recording this process" },
  { "set_task_types", rec_set_task_types, METH_O, "set_task_types(classes): the asyncio Task classes" },
  { "stop", rec_stop, METH_VARARGS, "stop(exit_code=-1): stop the sampler and write out what was recorded" },
  { "flush", rec_flush, METH_NOARGS, "flush(): write buffered records" },
  { "wrap", rec_wrap, METH_VARARGS, "wrap(func, kind, category=0, method=1, on_error=None): a recording wrapper" },
  { "patch_type", rec_patch_type, METH_VARARGS, "patch_type(cls, name, value): set an attribute of a C type" },
  { "aqueue_waits", (PyCFunction) (void (*) (void)) rec_aqueue_waits, METH_FASTCALL,
    "aqueue_waits(queue, put): an asyncio.Queue get (put 0) or put (1) starts" },
  { "record", rec_record, METH_VARARGS, "record(kind, a=0, b=0, text=None): write a work item or pool record" },
  { NULL, NULL, 0, NULL }
};

static struct PyModuleDef rec_module = {
  PyModuleDef_HEAD_INIT,
  .m_name = MODULE_NAME,
  .m_doc = "Interleave's recorder: the GIL, threads, the event loop and processes of this program",
  .m_size = -1,
  .m_methods = rec_methods,
};

#define INTERN(var, s) \
  if ((var = PyUnicode_InternFromString (s)) == NULL) return NULL

PyMODINIT_FUNC CONCAT (PyInit__interleave_recorder_, IL_PY_TAG) (void);

PyMODINIT_FUNC
CONCAT (PyInit__interleave_recorder_, IL_PY_TAG) (void)
{
  PyObject *m;
  static const struct { const char *name; int value; } constants[] = {
    { "CALL", W_CALL }, { "RUN_ONCE", W_RUN_ONCE }, { "SELECT", W_SELECT },
    { "HANDLE_RUN", W_HANDLE_RUN }, { "CREATE_TASK", W_CREATE_TASK }, { "WORK", W_WORK },
    { "THREAD", W_THREAD }, { "EXIT", W_EXIT }, { "POOL", W_POOL }, { "TASK_NAME", W_TASK_NAME }, { "WORK_FN", W_WORK_FN }, { "CALL_AT", W_CALL_AT }, { "INTERVAL", W_INTERVAL }, { "PROCESS_BOOT", W_PROCESS },
    { "SLEEP", IL_REC_CALL_SLEEP }, { "SELECT_CALL", IL_REC_CALL_SELECT },
    { "SOCKET", IL_REC_CALL_SOCKET }, { "FILE", IL_REC_CALL_FILE }, { "LOCK", IL_REC_CALL_LOCK },
    { "C", IL_REC_CALL_C }, { "PROCESS", IL_REC_CALL_PROCESS }, { "JOIN", IL_REC_CALL_JOIN },
    { "ACQUIRE", W_ACQUIRE }, { "RELEASE", W_RELEASE }, { "RESTORE", W_RESTORE }, { "SYNC", W_SYNC },
    { "QUEUE_PUT", W_QUEUE_PUT }, { "RECV", W_RECV }, { "AQUEUE", W_AQUEUE }, { "SEMAPHORE", IL_REC_CALL_SEMAPHORE }, { "CONDITION", IL_REC_CALL_CONDITION },
    { "EVENT", IL_REC_CALL_EVENT }, { "QUEUE", IL_REC_CALL_QUEUE },
    { "WORK_BEGIN", IL_REC_WORK_BEGIN }, { "WORK_END", IL_REC_WORK_END }, { "POOL_RECORD", IL_REC_POOL },
  };

  INTERN (str_context, "_context");
  INTERN (str_run, "run");
  INTERN (str_callback, "_callback");
  INTERN (str_args, "_args");
  INTERN (str_self, "__self__");
  INTERN (str_done, "done");
  INTERN (str_gettimeout, "gettimeout");
  INTERN (str_fileno, "fileno");
  INTERN (str_flags, "flags");
  INTERN (str___name__, "__name__");
  INTERN (str_cancelled, "cancelled");
  INTERN (str_exception, "exception");
  INTERN (str_fut_waiter, "_fut_waiter");
  INTERN (str_get_name, "get_name");
  INTERN (str_ready, "_ready");
  INTERN (str_fn, "fn");
  INTERN (str_qualname, "__qualname__");
  INTERN (str_name, "name");
  INTERN (str_ident, "ident");
  INTERN (str_native_id, "native_id");
  INTERN (str_max_workers, "_max_workers");
  INTERN (str_mp_context, "_mp_context");
  INTERN (str_get_start_method, "get_start_method");
  INTERN (str_value, "_value");
  INTERN (str_flag, "_flag");
  INTERN (str_queue, "queue");
  INTERN (str_maxsize, "maxsize");
  INTERN (str__queue, "_queue");
  INTERN (str__maxsize, "_maxsize");
  INTERN (str_blocking, "blocking");
  INTERN (str_block, "block");
  INTERN (str_timeout, "timeout");

  if (empty_tuple == NULL && (empty_tuple = PyTuple_New (0)) == NULL)
    return NULL;
  if (false_tuple == NULL && (false_tuple = PyTuple_Pack (1, Py_False)) == NULL)
    return NULL;
  if (PyType_Ready (&MethodWrapperType) < 0 || PyType_Ready (&FunctionWrapperType) < 0
      || PyType_Ready (&GoneType) < 0)
    return NULL;
  m = PyModule_Create (&rec_module);
  if (m == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
    if (PyModule_AddIntConstant (m, constants[i].name, constants[i].value) < 0)
      {
        Py_DECREF (m);
        return NULL;
      }
  return m;
}
