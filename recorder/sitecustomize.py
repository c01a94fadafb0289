# sitecustomize.py — Interleave's recorder bootstrap
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `interleave-cli record-python` puts this directory first on PYTHONPATH and
# names the recording directory in INTERLEAVE_RECORD_DIR, so every Python
# process of the program (spawn and forkserver children too) imports this
# before its own code.  It starts the native recorder and puts recording
# wrappers around the calls worth seeing; modules that are not imported yet
# (asyncio, selectors, socket, concurrent.futures) are patched when the
# program imports them, so a program that never uses asyncio does not pay
# for importing it.  Any failure leaves the program running unrecorded.
import os
import sys


def _install():
    directory = os.environ.get("INTERLEAVE_RECORD_DIR")
    if not directory:
        return
    name = "_interleave_recorder_%d%d" % sys.version_info[:2]
    try:
        rec = __import__(name)
    except ImportError:
        sys.stderr.write("interleave: no recorder for Python %d.%d here; running unrecorded\n"
                         % sys.version_info[:2])
        return

    import threading
    import time

    # How this process was started: multiprocessing's children run
    # "python -c 'from multiprocessing… import …'", whose code is not in sys.argv.
    method = "main"
    try:
        with open("/proc/self/cmdline", "rb") as f:
            cmdline = f.read().decode("utf-8", "replace")
    except OSError:
        cmdline = " ".join(sys.argv)
    if "multiprocessing.forkserver" in cmdline:
        method = "forkserver"
    elif "--multiprocessing-fork" in cmdline or "from multiprocessing" in cmdline:
        method = "spawn"

    ours = set()

    def wrap(owner, attr, kind, category=0, method=True):
        func = owner.__dict__.get(attr) if isinstance(owner, type) else getattr(owner, attr, None)
        if func is None or id(func) in ours:
            return
        w = rec.wrap(func, kind, category, method)
        ours.add(id(w))
        setattr(owner, attr, w)

    def patch_asyncio_base_events(m):
        wrap(m.BaseEventLoop, "_run_once", rec.RUN_ONCE)
        wrap(m.BaseEventLoop, "create_task", rec.CREATE_TASK)
        wrap(m.BaseEventLoop, "call_at", rec.CALL_AT)

    def patch_asyncio_events(m):
        # The recorder runs handles itself (no Python frame per callback);
        # a callback's error goes to the loop's handler as Handle._run does.
        def handle_error(handle, exc):
            from asyncio import format_helpers
            source = format_helpers._format_callback_source(handle._callback, handle._args)
            context = {"message": "Exception in callback %s" % source, "exception": exc, "handle": handle}
            if handle._source_traceback:
                context["source_traceback"] = handle._source_traceback
            handle._loop.call_exception_handler(context)

        run = m.Handle.__dict__.get("_run")
        if run is not None and id(run) not in ours:
            w = rec.wrap(run, rec.HANDLE_RUN, 0, True, handle_error)
            ours.add(id(w))
            m.Handle._run = w

    def patch_selectors(m):
        for cls in ("SelectSelector", "PollSelector", "EpollSelector", "DevpollSelector", "KqueueSelector"):
            c = getattr(m, cls, None)
            if c is not None:
                wrap(c, "select", rec.SELECT)

    def patch_socket(m):
        import _socket
        # Calls that read wait for data with the GIL released first, so the
        # recording tells the wait for the data from the wait for the GIL.
        for attr in ("recv", "recv_into", "recvfrom", "send", "sendall", "sendto", "connect"):
            # socket.socket inherits these from the C type: add wrappers on the subclass.
            if attr not in m.socket.__dict__:
                kind = rec.RECV if attr.startswith("recv") else rec.CALL
                setattr(m.socket, attr, rec.wrap(getattr(_socket.socket, attr), kind, rec.SOCKET, True))
        wrap(m.socket, "accept", rec.RECV, rec.SOCKET)

    def patch_futures_thread(m):
        wrap(m._WorkItem, "run", rec.WORK, 1)
        wrap(m.ThreadPoolExecutor, "__init__", rec.POOL, 1)

    def patch_futures_process(m):
        wrap(m.ProcessPoolExecutor, "__init__", rec.POOL, 2)
        # A worker process calls call_item.fn(...) inline: hand it a
        # recording wrapper of the function.  Items arrive pickled, so
        # their "fn" lives in the instance dict, which a property on the
        # class shadows.
        call_item = getattr(m, "_CallItem", None)
        if call_item is not None and not isinstance(call_item.__dict__.get("fn"), property):
            def get_fn(item):
                return rec.wrap(item.__dict__["fn"], rec.WORK_FN, 2, False)

            def set_fn(item, fn):
                item.__dict__["fn"] = fn

            call_item.fn = property(get_fn, set_fn)

    def patch_mp_process(m):
        wrap(m.BaseProcess, "_bootstrap", rec.PROCESS_BOOT)

    def patch_queue(m):
        # Every get and put (get_nowait and put_nowait call them); LifoQueue
        # and PriorityQueue inherit both.
        wrap(m.Queue, "get", rec.SYNC, rec.QUEUE)
        wrap(m.Queue, "put", rec.QUEUE_PUT, rec.QUEUE)

    def patch_asyncio_queues(m):
        # get and put are coroutines that call these once they need not
        # wait: each is one item moving.
        wrap(m.Queue, "get_nowait", rec.AQUEUE, 0)
        wrap(m.Queue, "put_nowait", rec.AQUEUE, 1)
        # get and put say when the task will wait.  They stay coroutine
        # functions (code may ask inspect.iscoroutinefunction), and look
        # at the queue when the coroutine runs, in the task that runs it:
        # create_task(q.get()) waits in the new task, not in its maker.
        import functools
        waits = rec.aqueue_waits

        # When the queue has an item (room), the original would take it
        # (put it) through get_nowait (put_nowait) without waiting: so do
        # these, saving a coroutine per call.  Whether it has one is asked
        # as the original asks, of empty() (full()), which a subclass may
        # define (a queue bounded by bytes): its internals could say
        # otherwise, and put_nowait would raise where put waits.
        def recorded_get(get):
            async def recorded(self):
                if not self.empty():
                    return self.get_nowait()
                waits(self, 0)
                return await get(self)
            return recorded

        def recorded_put(put):
            async def recorded(self, item):
                if not self.full():
                    return self.put_nowait(item)
                waits(self, 1)
                return await put(self, item)
            return recorded

        for attr, make in (("get", recorded_get), ("put", recorded_put)):
            func = m.Queue.__dict__.get(attr)
            if func is None or getattr(func, "_interleave_recorded", False):
                continue
            recorded = functools.update_wrapper(make(func), func)
            recorded._interleave_recorded = True
            setattr(m.Queue, attr, recorded)

    def patch_hashlib(m):
        # Hashing large data releases the GIL: constructors given data and
        # update.  The blake2 and sha3 classes stay as they are (isinstance).
        for attr in ("new", "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "file_digest", "pbkdf2_hmac"):
            f = getattr(m, attr, None)
            if f is not None and not isinstance(f, type):
                wrap(m, attr, rec.CALL, rec.C, False)
        try:
            import _hashlib
        except ImportError:
            return
        update = _hashlib.HASH.__dict__.get("update")
        if update is not None and id(update) not in ours:
            w = rec.wrap(update, rec.CALL, rec.C, True)
            ours.add(id(w))
            rec.patch_type(_hashlib.HASH, "update", w)

    def patch_zlib(m):
        for attr in ("compress", "decompress"):
            wrap(m, attr, rec.CALL, rec.C, False)

    def patch_mp_pool(m):
        # A pool worker takes (job, i, func, args, kwds) tasks from its
        # queue and calls func, for map a chunk of items at once (mapstar):
        # the worker gets a queue that hands out each function wrapped to
        # record every item, named after the program's function and job.
        worker = m.worker
        if getattr(worker, "_interleave_recorded", False):
            return
        import itertools
        keys = itertools.count(1)

        def recorded(func, name, category):
            def item(*args, **kwds):
                key = next(keys)
                rec.record(rec.WORK_BEGIN, key, category, name)
                try:
                    return func(*args, **kwds)
                finally:
                    rec.record(rec.WORK_END, key)
            return item

        def name_of(func, job):
            return "%s (job %s)" % (getattr(func, "__qualname__", None) or type(func).__name__, job)

        class Tasks:
            def __init__(self, queue):
                self._queue = queue

            def __getattr__(self, attr):
                return getattr(self._queue, attr)

            def get(self):
                task = self._queue.get()
                if not isinstance(task, tuple) or len(task) != 5:
                    return task
                job, i, func, args, kwds = task
                # Threads of a ThreadPool, or the main thread of a worker process.
                category = 2 if threading.current_thread() is threading.main_thread() else 1
                if func in (m.mapstar, m.starmapstar) and len(args) == 1 and len(args[0]) == 2:
                    f, chunk = args[0]
                    args = ((recorded(f, name_of(f, job), category), chunk),)
                else:
                    func = recorded(func, name_of(func, job), category)
                return (job, i, func, args, kwds)

        def recorded_worker(inqueue, *args, **kwds):
            return worker(Tasks(inqueue), *args, **kwds)

        # Pickled by name for spawn children, which patch their own.
        recorded_worker.__module__ = m.__name__
        recorded_worker.__name__ = recorded_worker.__qualname__ = "worker"
        recorded_worker._interleave_recorded = True
        m.worker = recorded_worker

        init = m.Pool.__init__

        def pool_init(self, *args, **kwds):
            init(self, *args, **kwds)
            try:
                thread_pool = isinstance(self, m.ThreadPool)
                method = None if thread_pool else self._ctx.get_start_method()
                rec.record(rec.POOL_RECORD, self._processes, 1 if thread_pool else 2, method)
            except Exception:
                pass

        pool_init.__wrapped__ = init
        m.Pool.__init__ = pool_init

    patches = {
        "multiprocessing.process": patch_mp_process,
        "asyncio.base_events": patch_asyncio_base_events,
        "asyncio.events": patch_asyncio_events,
        "selectors": patch_selectors,
        "socket": patch_socket,
        "concurrent.futures.thread": patch_futures_thread,
        "concurrent.futures.process": patch_futures_process,
        "queue": patch_queue,
        "asyncio.queues": patch_asyncio_queues,
        "hashlib": patch_hashlib,
        "zlib": patch_zlib,
        "multiprocessing.pool": patch_mp_pool,
    }

    def patch_asyncio_tasks(m):
        types = (getattr(m, "Task", None), getattr(m, "_PyTask", None), getattr(m, "_CTask", None))
        rec.set_task_types(tuple(t for t in types if isinstance(t, type)))
        wrap(m, "_set_task_name", rec.TASK_NAME, 0, False)

    patches["asyncio.tasks"] = patch_asyncio_tasks

    class _Loader:
        def __init__(self, loader, name):
            self._loader = loader
            self._name = name

        def create_module(self, spec):
            return self._loader.create_module(spec)

        def exec_module(self, module):
            self._loader.exec_module(module)
            try:
                patches[self._name](module)
            except Exception as e:  # never break the program's import
                sys.stderr.write("interleave: could not record %s: %s\n" % (self._name, e))

        def __getattr__(self, attr):
            return getattr(self._loader, attr)

    class _Finder:
        def find_spec(self, fullname, path=None, target=None):
            if fullname not in patches:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    if spec.loader is not None:
                        spec.loader = _Loader(spec.loader, fullname)
                    return spec
            return None

    if not rec.start(directory, method):
        return
    for modname, patch in list(patches.items()):
        if modname in sys.modules:
            patch(sys.modules[modname])
    sys.meta_path.insert(0, _Finder())

    wrap(time, "sleep", rec.CALL, rec.SLEEP, False)
    wrap(sys, "setswitchinterval", rec.INTERVAL, 0, False)
    wrap(os, "_exit", rec.EXIT, 0, False)
    wrap(os, "waitpid", rec.CALL, rec.PROCESS, False)
    import select
    wrap(select, "select", rec.CALL, rec.SELECT_CALL, False)
    wrap(threading.Thread, "_bootstrap_inner", rec.THREAD)
    wrap(threading.Thread, "join", rec.CALL, rec.JOIN)
    wrap(threading.Condition, "wait", rec.SYNC, rec.CONDITION)
    wrap(threading.Event, "wait", rec.SYNC, rec.EVENT)
    wrap(threading.Semaphore, "acquire", rec.SYNC, rec.SEMAPHORE)
    wrap(threading.Semaphore, "__enter__", rec.SYNC, rec.SEMAPHORE)
    wrap(threading.Semaphore, "release", rec.RELEASE, rec.SEMAPHORE)
    wrap(threading.BoundedSemaphore, "release", rec.RELEASE, rec.SEMAPHORE)

    # threading.Lock and RLock are C types Python may not change: their
    # methods are replaced in the types themselves, so that every lock,
    # those made before this ran too, is seen.
    import _thread
    for cls in {_thread.LockType, getattr(threading, "_CRLock", None) or _thread.LockType}:
        # An RLock's owner may take it again (method 4): a plain lock taken is a new hold.
        acquire = 1 if cls is _thread.LockType else 4
        patched = [(attr, rec.ACQUIRE, acquire) for attr in ("acquire", "acquire_lock", "__enter__")]
        patched += [(attr, rec.RELEASE, 1) for attr in ("release", "release_lock")]
        patched += [("__exit__", rec.RELEASE, 3)]  # lets go whatever its arguments
        patched += [("_release_save", rec.RELEASE, 2), ("_acquire_restore", rec.RESTORE, 1)]
        for attr, kind, method in patched:
            func = cls.__dict__.get(attr)
            if func is None or id(func) in ours:
                continue
            w = rec.wrap(func, kind, rec.LOCK, method)
            ours.add(id(w))
            rec.patch_type(cls, attr, w)

    # File I/O: raw files (open()'s buffers call these) and os.read/write.
    import _io
    for attr in ("read", "readinto", "readall", "write"):
        func = _io.FileIO.__dict__.get(attr)
        if func is not None and id(func) not in ours:
            w = rec.wrap(func, rec.CALL, rec.FILE, True)
            ours.add(id(w))
            rec.patch_type(_io.FileIO, attr, w)
    wrap(os, "read", rec.CALL, rec.FILE, False)
    wrap(os, "write", rec.CALL, rec.FILE, False)

    import atexit
    atexit.register(rec.stop)


def _chain():
    # Debian and others ship their own sitecustomize: run it as well.
    import importlib.machinery
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


try:
    _install()
except Exception as e:
    sys.stderr.write("interleave: recording disabled: %s\n" % e)
try:
    _chain()
except Exception:
    pass
