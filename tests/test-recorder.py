#!/usr/bin/env python3
"""interleave-cli record-python on small real programs: what the recording
holds (threads by name, GIL switches, tasks, loop iterations, processes,
pool items), that the program's exit code and output pass through, that a
program ending by os._exit or SIGTERM still leaves a loadable recording,
and that the derived scenario reproduces the recorded run.  Prints TAP;
skips when no interpreter has the recorder built.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time

CLI = os.environ["INTERLEAVE_CLI"]
RECORDER = os.environ.get("INTERLEAVE_RECORDER_DIR", "")
TMP = tempfile.mkdtemp(prefix="interleave-recorder-test-")
# Debian's interpreter, which has python3-aiohttp and python3-anyio;
# IL_TEST_PYTHON=PATH records every case with another one instead.
PY = os.environ.get("IL_TEST_PYTHON") or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3")
                                          else shutil.which("python3"))

results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


retried = []


def run_case(fn):
    try:
        fn()
    except Exception as e:  # a broken case is a failed case, not a crashed script
        check(fn.__name__, False, repr(e))


# IL_TEST_CASES="name other": run only those cases (while working on one).
ONLY = set(os.environ.get("IL_TEST_CASES", "").split())


def case(fn):
    if ONLY and fn.__name__ not in ONLY:
        return fn
    # These checks time real programs, and one run in a few misses a bound on
    # a shared machine (a sampler starved, a thread woken late: about one
    # run of test-recorder in three at load 1).  A case whose checks fail is
    # recorded again once and must pass then; the first run's failures are
    # printed, so a flaky check stays visible in the log.
    start = len(results)
    run_case(fn)
    first = results[start:]
    if all(ok for _, ok, _ in first):
        return fn
    del results[start:]
    run_case(fn)
    retried.extend((name, detail) for name, ok, detail in first if not ok)
    return fn


def has_recorder(python):
    try:
        tag = subprocess.run([python, "-c", "import sys; print('%d%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return False
    return bool(glob.glob(os.path.join(RECORDER, "_interleave_recorder_%s.*" % tag)))


def program(name, code):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(code))
    return path


def record(prog, *args, python=PY, timeout=120):
    out = os.path.join(TMP, os.path.basename(prog) + ".itrace")
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([CLI, "record-python", "-o", out, "--python", python, "--json", "--", prog, *args],
                       capture_output=True, text=True, timeout=timeout)
    return r, out


def summary(r):
    """The --json object printed after the program's own output."""
    start = r.stdout.rfind("\n{\n") + 1 if "\n{\n" in r.stdout else r.stdout.find("{")
    return json.loads(r.stdout[start:])


def info(path):
    r = subprocess.run([CLI, "info", path, "--json"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout)


def flat(steps):
    """The steps with every "repeat" unrolled and the bodies of "lock" and
    "limit" steps in place (to_thread bodies kept whole)."""
    out = []
    for st in steps:
        if "repeat" in st:
            out += flat(st["steps"]) * st["repeat"]
        elif "lock" in st or "limit" in st:
            out += flat(st["steps"])
        else:
            out.append(st)
    return out


def derive_check(path):
    scen = os.path.join(TMP, os.path.basename(path) + ".json")
    r = subprocess.run([CLI, "derive", path, "-o", scen, "--json"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    with open(scen) as f:
        doc = json.load(f)
    return json.loads(r.stdout), doc


def predicted(scen_path, mode):
    """The derived scenario simulated in another mode: (makespan, {task: finish})."""
    r = subprocess.run([CLI, "simulate", scen_path, "--mode", mode, "--json", "--reference"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    sim = json.loads(r.stdout)
    return sim["makespan_ms"], {t["name"]: t["finish_ms"] for t in sim["tasks"]}


def derived_path(rec):
    return os.path.join(TMP, os.path.basename(rec) + ".json")


if not has_recorder(PY):
    print("1..0 # SKIP no Python interpreter with the recorder built (needs python3-dev)")
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(77)  # meson's "skipped"

def derived_best(prog, attempts=3):
    """Records prog and checks its derived scenario, up to `attempts` times:
    a run starved of cores by other work on a shared machine is not what the
    scenario (on free cores) describes.  Returns the best run's summary,
    comparison (with the load average when it was taken), scenario and
    recording."""
    best = None
    for _ in range(attempts):
        r, out = record(prog)
        if r.returncode != 0:
            raise AssertionError(r.stderr)
        res, doc = derive_check(out)
        res["load"] = os.getloadavg()[0]
        if best is None or res["worst_finish_error"] < best[1]["worst_finish_error"]:
            best = (summary(r), res, doc, out)
        if res["makespan_error"] <= 0.10 and res["worst_finish_error"] <= 0.10:
            break
    return best


def reproduced(prog, attempts=3):
    """The best comparison of derived_best()."""
    return derived_best(prog, attempts)[1]


THREADS = """
import threading, time
def crunch(n):
    x = 0
    for i in range(n):
        x += i
def ticker():
    for _ in range(20):
        time.sleep(0.005)
ts = [threading.Thread(target=crunch, args=(1_500_000,), name=f"crunch-{i}") for i in range(2)]
ts.append(threading.Thread(target=ticker, name="ticker"))
for t in ts:
    t.start()
for t in ts:
    t.join()
print("threads done")
"""

ASYNCIO = """
import asyncio
def work(n):
    x = 0
    for i in range(n):
        x += i
    return x
async def fetch(i):
    for k in range(4):
        await asyncio.sleep(0.01 * (i % 3 + 1))
        work(5000)
    return i
async def main():
    tasks = [asyncio.create_task(fetch(i), name=f"fetch-{i}") for i in range(6)]
    total = sum(await asyncio.gather(*tasks))
    await asyncio.to_thread(work, 100000)
    print("asyncio done", total)
asyncio.run(main())
"""


@case
def threads_program():
    prog = program("threads.py", THREADS)
    r, out = record(prog)
    check("threads: exit code 0 and the program's stdout pass through",
          r.returncode == 0 and r.stdout.startswith("threads done\n"), r.stderr)
    s = summary(r)
    check("threads: --json names the source and version",
          s["source"] == "cpython" and s["python"].count(".") == 2, s)
    check("threads: GIL switches seen between the two CPU threads", s["gil_switches"] >= 10, s)
    check("threads: four threads (main, two crunchers, ticker)", s["threads"] == 4, s)
    i = info(out)
    check("threads: info --json of the recording", i["source"] == "cpython" and i["gil_switches"] == s["gil_switches"]
          and i["threads"] == 4 and i["processes"] == 1 and i["span_ms"] > 0 and i["mode"] == "threads", i)
    check_derived = derive_check(out)
    res, doc = check_derived
    names = sorted(t["name"] for t in doc["tasks"])
    check("threads: the derived scenario has each thread by name",
          {"crunch-0", "crunch-1", "ticker"} <= set(names) and doc["mode"] == "threads", names)
    ticker = [t for t in doc["tasks"] if t["name"] == "ticker"][0]
    check("threads: the ticker's sleeps are sleep steps",
          sum(st.get("sleep", 0) for st in flat(ticker["steps"])) > 50, ticker)
    # Two CPU-bound threads on a machine shared with other work: the OS
    # preempts GIL holders, which no scenario of two free cores shows; the
    # reproduction is checked on the program below.
    check("threads: the derived run is the same order of length", res["makespan_error"] <= 0.5, res)


@case
def threads_reproduced():
    prog = program("workers.py", """
        import threading, time
        def crunch(n):
            x = 0
            for i in range(n):
                x += i
        def worker(k):
            for _ in range(3):
                time.sleep(0.03 + 0.01 * k)
                crunch(100000)
        ts = [threading.Thread(target=worker, args=(k,), name=f"worker-{k}") for k in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        """)
    res = reproduced(prog)
    check("threads: derived makespan within 10 % of the recording", res["makespan_error"] <= 0.10, res)
    check("threads: every derived thread finishes within 10 % of the recorded makespan",
          res["worst_finish_error"] <= 0.10, res)


@case
def asyncio_program():
    prog = program("aio.py", ASYNCIO)
    r, out = record(prog)
    check("asyncio: exit code and stdout pass through", r.returncode == 0 and "asyncio done 15" in r.stdout, r.stderr)
    s = summary(r)
    check("asyncio: tasks counted (main, six fetches)", s["tasks"] >= 7, s)
    check("asyncio: loop iterations counted", s["loop_iterations"] >= 12, s)
    check("asyncio: the to_thread call ran as a pool work item", s["work_items"] == 1, s)
    res, doc = derive_check(out)
    names = {t["name"] for t in doc["tasks"]}
    check("asyncio: tasks named as the program named them",
          {"fetch-%d" % i for i in range(6)} <= names and doc["mode"] == "asyncio", names)
    fetch = [t for t in doc["tasks"] if t["name"] == "fetch-2"][0]
    sleeps = [st["sleep"] for st in flat(fetch["steps"]) if "sleep" in st]
    check("asyncio: the 30 ms sleeps of fetch-2 are derived as sleeps of 30 ms (their timers)",
          len(sleeps) == 4 and all(29 <= x <= 35 for x in sleeps), fetch)
    main = [t for t in doc["tasks"] if any("to_thread" in st for st in t["steps"])]
    check("asyncio: the main task hands work to a thread", len(main) == 1, [t["name"] for t in doc["tasks"]])
    res = reproduced(prog)
    check("asyncio: derived makespan within 10 % of the recording", res["makespan_error"] <= 0.10, res)
    check("asyncio: every derived task finishes within 10 % of the recorded makespan",
          res["worst_finish_error"] <= 0.10, res)


@case
def asyncio_errors():
    prog = program("cberr.py", """
        import asyncio
        async def main():
            asyncio.get_running_loop().call_soon(lambda: 1 / 0)
            async def bad():
                raise ValueError("task failed")
            t = asyncio.create_task(bad(), name="bad")
            await asyncio.sleep(0.01)
            try:
                await t
            except ValueError as e:
                print("caught", e)
        asyncio.run(main())
        """)
    r, out = record(prog)
    check("asyncio: a failing callback goes to the loop's handler and a failing task to its awaiter, as unrecorded",
          r.returncode == 0 and r.stdout.startswith("caught task failed\n")
          and "Exception in callback" in r.stderr and "ZeroDivisionError" in r.stderr, (r.stdout, r.stderr))


@case
def lock_program():
    prog = program("lock.py", """
        import threading, time
        lock = threading.Lock()
        cond = threading.Condition()
        def worker(i):
            for _ in range(3):
                with lock:
                    time.sleep(0.01)
            with cond:
                cond.wait(0.01)
        ts = [threading.Thread(target=worker, args=(i,), name=f"locker-{i}") for i in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
        print("lock done")
        """)
    r, out = record(prog)
    s = summary(r)
    check("lock: the program runs and three named threads are recorded",
          r.returncode == 0 and "lock done" in r.stdout and s["threads"] == 4, (r.stderr, s))
    res, doc = derive_check(out)
    total = {t["name"]: sum(sum(v for k, v in st.items() if k in ("sleep", "io")) for st in flat(t["steps"]))
             for t in doc["tasks"]}
    check("lock: each thread's sleeps and waits for the lock are in its derived steps",
          all(total.get("locker-%d" % i, 0) >= 30 for i in range(3)), total)


def holds(steps, key):
    """The "lock" or "limit" steps among steps, repeats and bodies included."""
    out = []
    for st in steps:
        if key in st:
            out.append(st)
        if "steps" in st:
            out += holds(st["steps"], key)
    return out


LOCKS = """
import threading, time
lock = threading.Lock()
def crunch(n):
    x = 0
    for i in range(n):
        x += i
def worker(i):
    # Each hold is longer than the switch interval: the GIL goes to the
    # others meanwhile, and they wait for the lock.
    for _ in range(4):
        with lock:
            crunch(300000)
        time.sleep(0.005)
ts = [threading.Thread(target=worker, args=(i,), name=f"locker-{i}") for i in range(3)]
for t in ts: t.start()
for t in ts: t.join()
print("locks done")
"""


@case
def lock_contended():
    prog = program("locks.py", LOCKS)
    r, out = record(prog)
    s = summary(r)
    check("lock: a contended threading.Lock is recorded as waits for one lock",
          r.returncode == 0 and "locks done" in r.stdout and s["lock_waits"] >= 3 and s["locks"] >= 1, (r.stderr, s))
    check("lock: waiters wake with the thread that let go of the lock as the cause",
          s["lock_handoffs"] >= 3, s)
    res, doc = derive_check(out)
    lockers = [t for t in doc["tasks"] if t["name"].startswith("locker-")]
    names = {h["lock"] for t in lockers for h in holds(t["steps"], "lock")}
    check("lock: derive writes each thread's holds as lock steps of one lock, around its computing",
          len(lockers) == 3 and len(names) == 1
          and all(len(holds(t["steps"], "lock")) >= 3 for t in lockers)
          and all(any("cpu" in b for h in holds(t["steps"], "lock") for b in flat(h["steps"])) for t in lockers),
          [t["steps"] for t in lockers])
    check("lock: the waits for the lock are no I/O waits any more (the simulation makes them)",
          all(sum(st.get("io", 0) for st in flat(t["steps"])) < 2 for t in lockers),
          [t["steps"] for t in lockers])
    res = reproduced(prog)
    check("lock: derived makespan within 10 % of the recording", res["makespan_error"] <= 0.10, res)


@case
def lock_calls_unchanged():
    prog = program("lockargs.py", """
        import threading
        out = []
        for L in (threading.Lock, threading.RLock):
            lock = L()
            for call in (lambda: lock.acquire(False, 1), lambda: lock.acquire(True, -5),
                         lambda: lock.acquire(bogus=1), lambda: lock.acquire(1, 2, 3, 4)):
                try:
                    out.append(repr(call()))
                except Exception as e:
                    out.append("%s: %s" % (type(e).__name__, e))
                try:
                    lock.release()
                except RuntimeError as e:
                    out.append("release: %s" % e)
            out += [repr(lock.acquire(timeout=0.01)), repr(lock.acquire(True, 0.01)), repr(lock.acquire(False))]
            lock.release()
            if L is threading.RLock:
                lock.release()
                lock.release()
            with lock:
                out.append(repr(lock.locked()) if hasattr(lock, "locked") else "held")
        print("\\n".join(out))
        """)
    plain = subprocess.run([PY, prog], capture_output=True, text=True, timeout=60)
    r, out = record(prog)
    check("lock: calls the lock refuses or answers at once give the same results recorded",
          r.returncode == 0 and plain.returncode == 0 and r.stdout.startswith(plain.stdout) and "ValueError" in plain.stdout,
          (plain.stdout, r.stdout, r.stderr))


@case
def sync_objects():
    prog = program("sync.py", """
        import queue, threading, time
        sem = threading.BoundedSemaphore(2)
        rlock = threading.RLock()
        ev = threading.Event()
        cond = threading.Condition()
        q = queue.Queue(maxsize=1)
        arrived = []
        def crunch(n):
            x = 0
            for i in range(n):
                x += i
        def worker(i):
            ev.wait()
            for _ in range(2):
                with sem:
                    crunch(50000)
                    time.sleep(0.01)
            arrived.append(i)
            with rlock:
                with rlock:
                    crunch(50000)
        def producer():
            for i in range(4):
                q.put(i)
        def consumer():
            for i in range(4):
                time.sleep(0.005)
                q.get()
            with cond:
                cond.wait(0.01)
        ts = [threading.Thread(target=worker, args=(i,), name=f"sem-{i}") for i in range(4)]
        ts += [threading.Thread(target=producer, name="producer"), threading.Thread(target=consumer, name="consumer")]
        for t in ts: t.start()
        time.sleep(0.02)
        # The main thread holds the RLock until every worker has come to
        # it: the first to wait makes it contended, so every hold is written.
        rlock.acquire()
        ev.set()
        while len(arrived) < 4:
            time.sleep(0.001)
        time.sleep(0.02)
        rlock.release()
        for t in ts: t.join()
        print("sync done")
        """)
    r, out = record(prog)
    s = summary(r)
    # Four waits on the event, three blocked puts, the condition's wait,
    # waits for the semaphore; each object counted once (the threads'
    # start-up events too).
    check("sync: waits on an event, a full queue, a condition and a semaphore are recorded",
          r.returncode == 0 and "sync done" in r.stdout and s["lock_waits"] >= 10 and s["locks"] >= 4, (r.stderr, s))
    res, doc = derive_check(out)
    sems = [t for t in doc["tasks"] if t["name"].startswith("sem-")]
    check("sync: semaphore holds become limit steps with the semaphore's capacity",
          len(sems) == 4 and all(len(holds(t["steps"], "limit")) == 2 for t in sems)
          and list(doc.get("limits", {}).values()) == [2], doc)
    rlock_holds = [h for t in sems for h in holds(t["steps"], "lock")]
    check("sync: an RLock taken twice by its owner is one hold, with no hold of it inside",
          all(len(holds(t["steps"], "lock")) == 1 for t in sems)
          and len({h["lock"] for h in rlock_holds}) == 1
          and not any(holds(h["steps"], "lock") for h in rlock_holds), [t["steps"] for t in sems])


@case
def files_and_c_extensions():
    prog = program("fileio.py", """
        import hashlib, os, tempfile, threading, zlib
        data = os.urandom(1 << 21)
        path = os.path.join(tempfile.mkdtemp(), "blob")
        def files():
            for _ in range(5):
                with open(path, "wb") as f:
                    f.write(data)
                with open(path, "rb") as f:
                    assert f.read() == data
                fd = os.open(path, os.O_RDONLY)
                os.read(fd, 1 << 20)
                os.close(fd)
        def hashing():
            for _ in range(5):
                hashlib.sha256(data).hexdigest()
                h = hashlib.sha1()
                h.update(data)
                assert zlib.decompress(zlib.compress(data[:1 << 19], 1)) == data[:1 << 19]
        ts = [threading.Thread(target=files, name="files"), threading.Thread(target=hashing, name="hashing")]
        for t in ts: t.start()
        for t in ts: t.join()
        print("io done")
        """)
    r, out = record(prog)
    s = summary(r)
    check("files: reads and writes of files and os.read are recorded as file calls",
          r.returncode == 0 and "io done" in r.stdout and s["file_calls"] >= 15, (r.stderr, s))
    check("C extensions: hashlib and zlib calls are recorded", s["c_calls"] >= 20, s)
    res, doc = derive_check(out)
    steps = [st for t in doc["tasks"] if t["name"] == "hashing" for st in flat(t["steps"])]
    c_ms = sum(st["c"] for st in steps if "c" in st)
    cpu_ms = sum(st.get("cpu", 0) for st in steps)
    check("C extensions: derive writes hashlib and zlib as C calls that release the GIL, most of the hashing",
          all(st.get("gil") == "release" for st in steps if "c" in st) and c_ms > cpu_ms,
          (c_ms, cpu_ms, steps[:12]))
    files_steps = [st for t in doc["tasks"] if t["name"] == "files" for st in flat(t["steps"])]
    check("C extensions: the thread that only does file I/O has no C steps",
          files_steps and not any("c" in st for st in files_steps), files_steps[:12])
    check("C extensions: the derived scenario simulates in every mode",
          all(predicted(derived_path(out), m)[0] > 0 for m in ("threads", "free-threading", "processes")), res)


@case
def drop_requests():
    prog = program("gil4.py", """
        import threading
        def f(x):
            return x + 1
        def work():
            x = 0
            for i in range(300_000):
                x = f(x)
        ts = [threading.Thread(target=work, name=f"w{i}") for i in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        """)
    for python in (PY, "/root/.pyenv/versions/3.13.0/bin/python3"):
        if not os.path.exists(python) or not has_recorder(python):
            check(f"drop requests with {python}: # SKIP not on this machine", True)
            continue
        # A drop request is set for the few microseconds until the holder
        # lets go: a sampler every 20 us sees some of the ~16 in a run, but
        # on a loaded machine, where its sleeps stretch, it may see none.
        # Such a run says nothing about the recorder: record again.
        for _ in range(3):
            r, out = record(prog, python=python)
            s = summary(r)
            s["load"] = os.getloadavg()[0]
            if r.returncode == 0 and s["drop_requests"] >= 1 and s["gil_switches"] >= 10:
                break
        check(f"drop requests: seen with Python {s['python']} (four GIL-heavy threads, up to 3 recordings)",
              r.returncode == 0 and s["drop_requests"] >= 1 and s["gil_switches"] >= 10, s)


@case
def multiprocessing_pool():
    prog = program("mppool.py", """
        import multiprocessing as mp, sys
        def work(n):
            x = 0
            for i in range(n):
                x += i
            return x
        def add(a, b):
            return a + b
        if __name__ == "__main__":
            with mp.get_context(sys.argv[1]).Pool(2) as pool:
                r = pool.map(work, [100000] * 4, chunksize=2)
                a = pool.apply_async(work, (50000,)).get()
                i = list(pool.imap(work, [20000] * 3))
                s = pool.starmap(add, [(1, 2), (3, 4)])
            print(sum(r), a, sum(i), s)
        """)
    for method in ("fork", "spawn"):
        r, out = record(prog, method)
        s = summary(r)
        check(f"multiprocessing.Pool ({method}): the results pass through",
              r.returncode == 0 and r.stdout.startswith("19999800000 1249975000 599970000 [3, 7]"), r.stderr)
        check(f"multiprocessing.Pool ({method}): each of the ten work items is recorded in its worker",
              s["work_items"] == 10 and s["mode"] == "processes", s)
        res, doc = derive_check(out)
        jobs = sorted(t["name"].split(" #")[0] for t in doc["tasks"])
        check(f"multiprocessing.Pool ({method}): items are named by function and job, in a pool of two",
              jobs == ["add (job 3)"] * 2 + ["work (job 0)"] * 4 + ["work (job 1)"] + ["work (job 2)"] * 3
              and doc["workers"] == 2, (jobs, doc.get("workers")))


@case
def join_is_await():
    prog = program("join.py", """
        import threading, time
        def crunch(n):
            x = 0
            for i in range(n):
                x += i
        def first():
            crunch(100000)
            time.sleep(0.02)
        def second(t):
            time.sleep(0.01)
            t.join()
            crunch(50000)
        a = threading.Thread(target=first, name="first")
        a.start()
        b = threading.Thread(target=second, args=(a,), name="second")
        b.start()
        b.join()
        """)
    r, out = record(prog)
    res, doc = derive_check(out)
    second = [t for t in doc["tasks"] if t["name"] == "second"]
    check("join: a thread joining another awaits it in the derived scenario",
          r.returncode == 0 and second and {"await": "first"} in second[0]["steps"], doc)


@case
def process_pools():
    prog = program("pool.py", """
        import concurrent.futures as cf, multiprocessing as mp, sys
        def work(n):
            x = 0
            for i in range(n):
                x += i
            return x
        if __name__ == "__main__":
            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context(sys.argv[1])) as ex:
                print(sum(ex.map(work, [100000] * 4)))
        """)
    for method in ("fork", "spawn", "forkserver"):
        r, out = record(prog, method)
        s = summary(r)
        check(f"process pool ({method}): the result passes through", r.returncode == 0
              and r.stdout.startswith("19999800000\n"), r.stderr)
        check(f"process pool ({method}): the workers are recorded as processes of their own",
              s["processes"] >= 3 and s["mode"] == "processes", s)
        res, doc = derive_check(out)
        check(f"process pool ({method}): the four work items ran in the worker processes", s["work_items"] == 4, s)
        check(f"process pool ({method}): the derived scenario runs them in a pool of two processes",
              doc["mode"] == "processes" and doc["workers"] == 2 and doc.get("start_method") == method
              and sum(t["name"].startswith("work #") for t in doc["tasks"]) == 4, doc)


@case
def processes_named():
    prog = program("procs.py", """
        import multiprocessing as mp, time
        def crunch(n):
            x = 0
            for i in range(n):
                x += i
            time.sleep(0.02)
        if __name__ == "__main__":
            ps = [mp.Process(target=crunch, args=(200000,), name=f"proc-{i}") for i in range(2)]
            for p in ps:
                p.start()
            for p in ps:
                p.join()
        """)
    res = reproduced(prog)
    names = sorted(t["name"] for t in res["recorded"]["tasks"])
    check("processes: each child is a task named as multiprocessing named it", names == ["proc-0", "proc-1"], names)
    check("processes: the derived scenario reproduces each process within 10 %",
          res["makespan_error"] <= 0.10 and res["worst_finish_error"] <= 0.10, res)


# What if: a recording predicts the modes the program did not run in
# (tools/validate-crossmode.py checks the numbers against real runs; here
# only the ratios that hold on any machine, however loaded: the derived
# steps are what the recording measured, the simulation is deterministic).
@case
def what_if_cpu_threads():
    prog = program("cpu_threads.py", """
        import threading
        def crunch(n):
            x = 0
            for i in range(n):
                x += i * i
        ts = [threading.Thread(target=crunch, args=(1_200_000,), name=f"cpu-{k}") for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        """)
    r, out = record(prog)
    derive_check(out)
    scen = derived_path(out)
    doc = json.load(open(scen))
    starts = [t.get("start", 0) for t in doc["tasks"]]
    # From the first start, as the program's own clock would measure.
    ms = {m: predicted(scen, m)[0] - min(starts) for m in ("sequential", "threads", "asyncio", "processes")}
    cpu = sum(st.get("cpu", 0) for t in doc["tasks"] for st in flat(t["steps"]))
    check("what if: the threads were started back to back (the GIL's delays are left to the simulation)",
          max(starts) - min(starts) < 0.1 * ms["sequential"], (starts, ms))
    # Processes use both cores: as long as the longest task or half the
    # work, whichever is more, plus the spread of the starts (the OS's time to
    # bring each thread up, which a loaded machine stretches) and the forks.
    # A task's work is all its steps: on a loaded machine the recorded
    # threads show waits beside their CPU (preemption, teardown) that a
    # process makes too, and their CPU is uneven, so neither the longest
    # task's CPU alone nor the 2x of four equal tasks is a given (on an idle
    # one the ratio is 1.9-2.0).  Both cores still save at least a quarter
    # of the CPU against the threads, which take it in turns.
    def work(t):
        return sum(st.get("cpu", 0) + st.get("io", 0) + st.get("sleep", 0) for st in flat(t["steps"]))
    longest = max(work(t) for t in doc["tasks"])
    total = sum(work(t) for t in doc["tasks"])
    check("what if: CPU-bound threads predict processes running on both cores",
          ms["processes"] <= 1.25 * max(longest, total / 2) + (max(starts) - min(starts)) + 15
          and ms["threads"] - ms["processes"] >= 0.25 * cpu, (cpu, longest, total, starts, ms, os.getloadavg()[0]))
    # On a loaded machine the recorded threads show short waits beside
    # their CPU (thread teardown, preemption), which the modes overlap
    # differently: bound by the derived CPU rather than by each other.
    check("what if: CPU-bound threads predict threads and asyncio no faster than their CPU in a row (the GIL)",
          min(ms["threads"], ms["asyncio"]) >= 0.95 * cpu, (cpu, ms))


@case
def what_if_io_asyncio():
    prog = program("io_asyncio.py", """
        import asyncio
        async def request(k):
            await asyncio.sleep(0.05)
            sum(range(2000))
        async def main():
            await asyncio.gather(*(asyncio.create_task(request(k), name=f"req-{k}") for k in range(8)))
        asyncio.run(main())
        """)
    r, out = record(prog)
    res, doc = derive_check(out)
    scen = derived_path(out)
    main = [t for t in doc["tasks"] if any("await" in st for st in t["steps"])]
    check("what if: the task gathering the requests awaits each of them",
          len(main) == 1 and sum("await" in st for st in main[0]["steps"]) == 8, doc)
    t0 = min(t.get("start", 0) for t in doc["tasks"])
    seq, thr, aio = (predicted(scen, m)[0] - t0 for m in ("sequential", "threads", "asyncio"))
    check("what if: asyncio requests predict sequential as the sum of their waits (8 x 50 ms)",
          380 <= seq <= 520, (seq, t0))
    check("what if: asyncio requests predict threads as fast as asyncio, far faster than sequential",
          thr < 0.3 * seq and abs(thr - aio) < 0.2 * aio, (seq, thr, aio))


POOL_FROM = {
    "threads": """
        import threading, time, concurrent.futures as cf, multiprocessing as mp
        def crunch(n):
            x = 0
            for i in range(n):
                x += i * i
        def job(ex, k):
            time.sleep(0.02 * (k + 1))
            ex.submit(crunch, 600_000).result()
        if __name__ == "__main__":
            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
                ts = [threading.Thread(target=job, args=(ex, k), name=f"job-{k}") for k in range(3)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
        """,
    "asyncio": """
        import asyncio, concurrent.futures as cf, multiprocessing as mp
        def crunch(n):
            x = 0
            for i in range(n):
                x += i * i
        async def job(ex, k):
            await asyncio.sleep(0.02 * (k + 1))
            await asyncio.get_running_loop().run_in_executor(ex, crunch, 600_000)
        async def main():
            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
                await asyncio.gather(*(asyncio.create_task(job(ex, k), name=f"job-{k}") for k in range(3)))
        if __name__ == "__main__":
            asyncio.run(main())
        """,
}


@case
def to_process_derived():
    for form, code in POOL_FROM.items():
        prog = program(f"pool_from_{form}.py", code)
        r, out = record(prog)
        res, doc = derive_check(out)
        jobs = {t["name"]: t for t in doc["tasks"] if t["name"].startswith("job-")}
        handed = {n: sum("to_process" in st for st in flat(t["steps"])) for n, t in jobs.items()}
        check(f"to_process ({form}): each job hands its work item to a process",
              r.returncode == 0 and doc["mode"] == form and doc.get("start_method") == "fork"
              and handed == {"job-0": 1, "job-1": 1, "job-2": 1}, (r.stderr, doc))
        check(f"to_process ({form}): the derived scenario reproduces the recording within 10 %",
              res["makespan_error"] <= 0.10, res)


@case
def endings():
    prog = program("end.py", """
        import os, sys, threading, time
        def spin():
            x = 0
            while True:
                x += 1
        threading.Thread(target=spin, daemon=True, name="spinner").start()
        time.sleep(0.1)
        print("before", flush=True)
        if sys.argv[1] == "exit":
            os._exit(7)
        if sys.argv[1] == "raise":
            raise RuntimeError("boom")
        time.sleep(30)
        """)
    r, out = record(prog, "exit")
    check("os._exit: its code passes through and the recording loads",
          r.returncode == 7 and r.stdout.startswith("before") and info(out)["exit_code"] == 7, r.stderr)
    r, out = record(prog, "raise")
    check("an exception: exit 1, the traceback on stderr, the recording loads",
          r.returncode == 1 and "RuntimeError: boom" in r.stderr and info(out)["threads"] >= 2, r.stderr)

    out = os.path.join(TMP, "term.itrace")
    p = subprocess.Popen([CLI, "record-python", "-o", out, "--python", PY, "--", prog, "wait"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    i = info(out)
    check("SIGTERM: passed on to the program (exit 143) and the recording loads with the spinner",
          p.returncode == 143 and i["threads"] >= 2 and i["gil_switches"] >= 1, (p.returncode, i))

    out = os.path.join(TMP, "int.itrace")
    p = subprocess.Popen([CLI, "record-python", "-o", out, "--python", PY, "--", prog, "wait"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    p.stdout.readline()
    os.killpg(p.pid, signal.SIGINT)  # as Ctrl+C in a terminal: the whole group
    _, err = p.communicate(timeout=60)
    check("Ctrl+C: KeyboardInterrupt in the program, the recording loads",
          p.returncode in (1, 130) and "KeyboardInterrupt" in err and info(out)["threads"] >= 2, (p.returncode, err))


@case
def aiohttp_client():
    ok = subprocess.run([PY, "-c", "import aiohttp"], capture_output=True).returncode == 0
    if not ok:
        check("aiohttp: # SKIP python3-aiohttp is not installed", True)
        return
    prog = program("http_demo.py", """
        import asyncio
        from aiohttp import web, ClientSession, TCPConnector
        async def hello(request):
            await asyncio.sleep(0.02)
            return web.Response(text="hi")
        async def main():
            app = web.Application()
            app.router.add_get("/", hello)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]
            async with ClientSession(connector=TCPConnector(limit=2)) as session:
                async def get(i):
                    async with session.get(f"http://127.0.0.1:{port}/") as resp:
                        return await resp.text()
                texts = await asyncio.gather(*(asyncio.create_task(get(i), name=f"get-{i}") for i in range(6)))
            await runner.cleanup()
            print(len(texts), texts[0])
        asyncio.run(main())
        """)
    r, out = record(prog)
    s = summary(r)
    check("aiohttp: six requests through a connection limit of two", r.returncode == 0 and "6 hi" in r.stdout, r.stderr)
    check("aiohttp: client and server tasks and many loop iterations recorded",
          s["tasks"] >= 12 and s["loop_iterations"] >= 20, s)
    res, doc = derive_check(out)
    check("aiohttp: the client tasks are in the derived scenario",
          {"get-%d" % i for i in range(6)} <= {t["name"] for t in doc["tasks"]}, [t["name"] for t in doc["tasks"]])


@case
def anyio_task_group():
    ok = subprocess.run([PY, "-c", "import anyio"], capture_output=True).returncode == 0
    if not ok:
        check("anyio: # SKIP python3-anyio is not installed", True)
        return
    prog = program("any.py", """
        import anyio
        async def child(i):
            await anyio.sleep(0.01 * (i + 1))
        async def main():
            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(child, i, name=f"child-{i}")
            print("group done")
        anyio.run(main)
        """)
    r, out = record(prog)
    s = summary(r)
    check("anyio: the task group's children are recorded as tasks",
          r.returncode == 0 and "group done" in r.stdout and s["tasks"] >= 5 and s["loop_iterations"] >= 4, (r.stderr, s))


@case
def other_interpreters():
    # 3.11.7 loads the module built for Debian's 3.11.2 (one per minor
    # version) and must still say which interpreter ran.
    for version in ("3.10.13", "3.11.7", "3.12.1", "3.13.0"):
        python = f"/root/.pyenv/versions/{version}/bin/python3"
        if not os.path.exists(python) or not has_recorder(python):
            check(f"Python {version}: # SKIP not on this machine", True)
            continue
        prog = program("threads.py", THREADS)
        r, out = record(prog, python=python)
        s = summary(r)
        check(f"Python {version}: threads recorded with GIL switches",
              r.returncode == 0 and s["python"] == version and s["threads"] == 4 and s["gil_switches"] >= 10, (r.stderr, s))
        prog = program("aio.py", ASYNCIO)
        r, out = record(prog, python=python)
        s = summary(r)
        check(f"Python {version}: asyncio tasks and iterations recorded",
              r.returncode == 0 and s["tasks"] >= 7 and s["loop_iterations"] >= 12, (r.stderr, s))


@case
def socket_gil_wait():
    # Four threads wait in recv for data a writer sends after 80 ms, while a
    # CPU-bound thread holds the GIL for up to 30 ms at a time: the time a
    # reader spends getting the GIL back once its data came is a GIL wait
    # (the simulation makes it), not part of the I/O.
    prog = program("sockwait.py", """
        import socket, sys, threading, time
        sys.setswitchinterval(0.03)
        pairs = [socket.socketpair() for _ in range(4)]
        began = {}
        def reader(k):
            began[k] = time.monotonic()
            pairs[k][1].recv(16)
        sent = {}
        def writer():
            time.sleep(0.08)
            # Each send waits for the GIL again: the next reader's data
            # comes when the writer has it back.
            for k, (a, _) in enumerate(pairs):
                sent[k] = time.monotonic()
                a.send(b"x")
        def spin():
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                pass
        ts = [threading.Thread(target=reader, args=(k,), name="reader-%d" % k) for k in range(4)]
        ts += [threading.Thread(target=writer, name="writer"), threading.Thread(target=spin, name="spin")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print({"reader-%d" % k: round((sent[k] - began[k]) * 1000, 3) for k in range(4)})
        """)
    r, out = record(prog)
    expected = eval(r.stdout.splitlines()[0])
    res, doc = derive_check(out)
    got = {t["name"]: max([st["io"] for st in flat(t["steps"]) if "io" in st] or [0])
           for t in doc["tasks"] if t["name"] in expected}
    check("socket: a recv's I/O ends when its data came, not when the GIL came back (within 10 % or 3 ms)",
          len(got) == 4 and all(abs(got[n] - expected[n]) <= max(3.0, 0.1 * expected[n]) for n in expected),
          (expected, got, os.getloadavg()[0]))


@case
def socket_signals():
    # The recorder waits for a blocking socket's data itself: a signal in
    # that wait still runs its handler, and Ctrl-C still ends the recv.
    prog = program("socksig.py", """
        import os, signal, socket, threading, time
        a, b = socket.socketpair()
        hits = []
        signal.signal(signal.SIGUSR1, lambda *x: hits.append(1))
        def later():
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)
            a.send(b"hi")
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=later).start()
        print(b.recv(10), hits)
        try:
            b.recv(10)
        except KeyboardInterrupt:
            print("interrupted")
        """)
    r, out = record(prog, timeout=30)
    check("socket: a signal during a recorded recv runs its handler and Ctrl-C ends the recv",
          r.returncode == 0 and r.stdout.startswith("b'hi' [1]\ninterrupted"), (r.returncode, r.stdout, r.stderr))


@case
def socket_dontwait():
    # recv(n, MSG_DONTWAIT) on a blocking socket does not wait: the
    # recorder's own wait for data must not either (it hung for ever).
    prog = program("sockdontwait.py", """
        import socket
        a, b = socket.socketpair()
        for call in (lambda: b.recv(10, socket.MSG_DONTWAIT), lambda: b.recvfrom(10, socket.MSG_DONTWAIT),
                     lambda: b.recv_into(bytearray(10), 0, socket.MSG_DONTWAIT)):
            try:
                call()
            except BlockingIOError:
                print("would block")
        a.send(b"hi")
        print(b.recv(10, socket.MSG_DONTWAIT | socket.MSG_PEEK), b.recv(10))
        """)
    try:
        r, out = record(prog, timeout=20)
    except subprocess.TimeoutExpired:
        check("socket: a recv with MSG_DONTWAIT does not wait when recorded", False, "hung for 20 s")
        return
    check("socket: a recv with MSG_DONTWAIT does not wait when recorded",
          r.returncode == 0 and r.stdout.startswith("would block\n" * 3 + "b'hi' b'hi'\n"),
          (r.returncode, r.stdout, r.stderr))


@case
def socket_not_blocking_underneath():
    # Python thinks these sockets block (no timeout), but the descriptor is
    # non-blocking or has a kernel receive timeout: the real recv returns at
    # once or after 0.2 s, and so must the recorded one.
    prog = program("sockunder.py", """
        import os, socket, struct, time
        a, b = socket.socketpair()
        os.set_blocking(b.fileno(), False)
        try:
            b.recv(10)
        except BlockingIOError:
            print("would block")
        c, d = socket.socketpair()
        d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 200000))
        t = time.monotonic()
        try:
            d.recv(10)
        except OSError:
            print("timed out", round(time.monotonic() - t, 1))
        """)
    try:
        r, out = record(prog, timeout=20)
    except subprocess.TimeoutExpired:
        check("socket: a recv on a descriptor that does not block returns as unrecorded", False, "hung for 20 s")
        return
    plain = subprocess.run([PY, prog], capture_output=True, text=True, timeout=20)
    check("socket: a recv on a descriptor that does not block returns as unrecorded",
          r.returncode == 0 and plain.stdout == "would block\ntimed out 0.2\n" and r.stdout.startswith(plain.stdout),
          (r.returncode, r.stdout, plain.stdout, r.stderr))


@case
def sleep_gil_wait():
    # Eight threads sleep 3 x 20 ms beside a CPU-bound thread holding the
    # GIL for up to 30 ms at a time: the sleeps are derived as their length,
    # the wait for the GIL after each left to the simulation.
    prog = program("sleepwait.py", """
        import sys, threading, time
        sys.setswitchinterval(0.03)
        def sleeper():
            for _ in range(3):
                time.sleep(0.02)
        def spin():
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                pass
        ts = [threading.Thread(target=sleeper, name="sleeper-%d" % k) for k in range(8)]
        ts.append(threading.Thread(target=spin, name="spin"))
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        """)
    r, out = record(prog)
    res, doc = derive_check(out)
    got = {t["name"]: sum(st.get("sleep", 0) + st.get("io", 0) for st in flat(t["steps"]))
           for t in doc["tasks"] if t["name"].startswith("sleeper-")}
    check("sleep: each thread's derived sleep is the 60 ms it slept, without its GIL waits (within 10 %)",
          len(got) == 8 and all(abs(v - 60) <= 6 for v in got.values()), (got, os.getloadavg()[0]))


def queue_steps(steps, op):
    return sum(1 for st in flat(steps) if op in st)


@case
def queue_threads():
    # A producer (24 items, 0.7 ms of CPU each) feeding three consumers
    # (6 ms each) through a queue.Queue of maxsize 3; a consumer stops when
    # its get(timeout=0.03) times out, and the main thread's get_nowait
    # finds the queue empty.
    prog = program("pcthreads.py", """
        import queue, threading, time
        q = queue.Queue(maxsize=3)
        def crunch(n):
            x = 0
            for i in range(n):
                x += i
        def producer():
            for i in range(24):
                crunch(15000)
                q.put(i)
        def consumer():
            while True:
                try:
                    q.get(timeout=0.03)
                except queue.Empty:
                    break
                time.sleep(0.006)
        try:
            q.get_nowait()
        except queue.Empty:
            pass
        ts = [threading.Thread(target=producer, name="producer")]
        ts += [threading.Thread(target=consumer, name="consumer-%d" % k) for k in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print("pc done")
        """)
    s, res, doc, out = derived_best(prog)
    check("queue: every put and get that moved an item is recorded, waiters woken by the put or get that served them",
          s["queues"] == 1 and s["queue_ops"] == 48 and s["queue_handoffs"] >= 3, s)
    tasks = {t["name"]: t for t in doc["tasks"]}
    consumers = [tasks.get("consumer-%d" % k, {"steps": []}) for k in range(3)]
    check("queue: derived with its maxsize, the producer's 24 puts and the consumers' 24 gets as steps",
          list(doc.get("queues", {}).values()) == [3] and "producer" in tasks
          and queue_steps(tasks["producer"]["steps"], "put") == 24
          and sum(queue_steps(c["steps"], "get") for c in consumers) == 24, doc)
    check("queue: the consumers' waits for items are left to the simulation (no io steps)",
          all(queue_steps(c["steps"], "io") == 0 for c in consumers), [c["steps"] for c in consumers])
    timeouts = [[st["sleep"] for st in flat(c["steps"]) if st.get("sleep", 0) > 10] for c in consumers]
    check("queue: each consumer's get(timeout=0.03) that timed out is a sleep of its wait",
          all(len(x) == 1 and 29 <= x[0] <= 40 for x in timeouts), timeouts)
    check("queue: derived makespan within 10 % of the recording", res["makespan_error"] <= 0.10, res)
    # What if the producer were four times slower: the consumers wait for
    # its items, so they end after its last put (fixed waits of the
    # recorded length would end them at their old pace).
    slow = json.loads(json.dumps(doc))
    for st in slow["tasks"]:
        if st["name"] == "producer":
            def scale(steps):
                for x in steps:
                    if "cpu" in x:
                        x["cpu"] *= 4
                    if "steps" in x:
                        scale(x["steps"])
            scale(st["steps"])
    cpu = sum(x["cpu"] for x in flat([t for t in slow["tasks"] if t["name"] == "producer"][0]["steps"]) if "cpu" in x)
    path = os.path.join(TMP, "pcslow.json")
    with open(path, "w") as f:
        json.dump(slow, f)
    outcomes = {}
    for mode in ("threads", "asyncio", "processes"):
        makespan, finish = predicted(path, mode)
        outcomes[mode] = (makespan, finish)
    check("queue: a slower producer makes every consumer finish after it, in every mode",
          all(min(f["consumer-%d" % k] for k in range(3)) >= f["producer"]
              and max(f["consumer-%d" % k] for k in range(3)) >= f["producer"] + 25 and m >= cpu
              for m, f in outcomes.values()), (cpu, outcomes))


@case
def queue_asyncio():
    prog = program("pcasync.py", """
        import asyncio
        def crunch(n):
            x = 0
            for i in range(n):
                x += i
        async def producer(q):
            for i in range(24):
                crunch(15000)
                await q.put(i)
            for _ in range(3):
                await q.put(None)
        async def consumer(q):
            while await q.get() is not None:
                await asyncio.sleep(0.006)
        async def main():
            q = asyncio.Queue(maxsize=3)
            await asyncio.gather(producer(q), *(consumer(q) for _ in range(3)))
            print("pc done")
        asyncio.run(main())
        """)
    s, res, doc, out = derived_best(prog)
    puts = [queue_steps(t["steps"], "put") for t in doc["tasks"]]
    gets = [queue_steps(t["steps"], "get") for t in doc["tasks"]]
    check("queue: an asyncio.Queue's puts and gets are recorded (waiting tasks woken by the task that served them)"
          " and derived as steps, with its maxsize",
          s["queue_ops"] == 54 and s["queue_handoffs"] >= 3 and list(doc.get("queues", {}).values()) == [3] and sorted(puts)[-1] == 27
          and sum(gets) == 27, (s, doc))
    check("queue: the asyncio consumers' waits for items are left to the simulation",
          all(queue_steps(t["steps"], "io") == 0 for t in doc["tasks"] if queue_steps(t["steps"], "get")), doc)
    check("queue: derived asyncio makespan within 10 % of the recording", res["makespan_error"] <= 0.10, res)


def cause_arrows_into(path, lane_name, cause):
    """The lanes whose `cause` arrows end on the lane named `lane_name`, in
    the recording exported as Chrome JSON."""
    out = os.path.join(TMP, os.path.basename(path) + ".json")
    subprocess.run([CLI, "convert", path, "-o", out], check=True, capture_output=True, timeout=60)
    with open(out) as f:
        events = json.load(f)["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    starts = {e["id"]: (e["pid"], e["tid"]) for e in events if e.get("cat") == "cause" and e["ph"] == "s"}
    return [names.get(starts.get(e["id"]), "?") for e in events
            if e.get("cat") == "cause" and e["ph"] == "f" and e["name"] == cause
            and names.get((e["pid"], e["tid"])) == lane_name]


AQUEUE_TASKS = """
import asyncio, inspect
async def main():
    q = asyncio.Queue()
    print("coroutine functions:", inspect.iscoroutinefunction(q.get), inspect.iscoroutinefunction(q.put),
          asyncio.iscoroutinefunction(asyncio.Queue.get), inspect.isfunction(asyncio.Queue.put))
    # The coroutine is made here, in main (Task-1), but runs (and waits) in getter.
    getter = asyncio.create_task(q.get(), name="getter")
    await asyncio.sleep(0.02)
    q.put_nowait(7)
    print("got", await getter)
asyncio.run(main(), debug=False)
"""

# A queue that says itself when it is full or empty (here: by the items'
# total size, maxsize 0): put and get wait on it as unrecorded, rather than
# raising QueueFull / QueueEmpty.
AQUEUE_SUBCLASS = """
import asyncio
class Bytes(asyncio.Queue):
    def full(self):
        return sum(map(len, self._queue)) >= 4
class Flagged(asyncio.Queue):
    open = False
    def empty(self):
        return not self.open or super().empty()
async def main():
    b = Bytes()
    b.put_nowait(b"abcd")
    putter = asyncio.create_task(b.put(b"ef"))
    await asyncio.sleep(0.01)
    print("bytes queue:", putter.done(), b.get_nowait(), await putter, b.qsize())
    f = Flagged()
    f.put_nowait(1)
    getter = asyncio.create_task(f.get())
    await asyncio.sleep(0.01)
    waited = not getter.done()
    f.open = True
    f.put_nowait(2)
    print("flagged queue:", waited, await getter)
asyncio.run(main())
"""


@case
def queue_asyncio_tasks():
    # asyncio.Queue's get and put stay coroutine functions when recorded, and
    # a get made by one task but run by another (create_task(q.get()),
    # gather(q.get(), …)) waits in the task that runs it.
    pythons = [(PY, "")] + [(f"/root/.pyenv/versions/{v}/bin/python3", f" (Python {v})")
                            for v in ("3.10.13", "3.12.1", "3.13.0")]
    for python, label in pythons:
        if not os.path.exists(python) or not has_recorder(python):
            check(f"queue: asyncio.Queue get run by another task{label}: # SKIP not on this machine", True)
            continue
        prog = program("aqtasks.py", AQUEUE_TASKS)
        r, out = record(prog, python=python)
        check(f"queue: asyncio.Queue's get and put are coroutine functions (Python functions) when recorded{label}",
              r.returncode == 0 and "coroutine functions: True True True True" in r.stdout and "got 7" in r.stdout,
              (r.stdout, r.stderr))
        sub, _ = record(program("aqsub.py", AQUEUE_SUBCLASS), python=python)
        check(f"queue: put and get on asyncio.Queue subclasses whose full() and empty() say so wait, as unrecorded{label}",
              sub.returncode == 0 and "bytes queue: False b'abcd' None 1" in sub.stdout
              and "flagged queue: True 1" in sub.stdout, (sub.stdout, sub.stderr))
        s = summary(r)
        arrows = cause_arrows_into(out, "getter", "queue put or get")
        check(f"queue: a get made in main and run by create_task waits in the new task, woken by main's put{label}",
              s["queue_ops"] == 2 and s["queue_handoffs"] == 1 and arrows == ["Task-1"], (s, arrows))


@case
def sync_objects_reused():
    # Each round makes a lock a helper thread waits for, a queue an item goes
    # through and an Event, and drops them: the next round's objects are
    # made at the addresses just freed, and must still be objects of their
    # own in the recording (not one lock, one queue, with the first one's kind).
    prog = program("reused.py", """
        import queue, threading, time
        N = 40
        go, done = queue.Queue(), queue.Queue()
        def helper():
            while True:
                lock = go.get()
                if lock is None:
                    return
                with lock:  # waits: the main thread holds it
                    pass
                done.put(1)
        t = threading.Thread(target=helper, name="helper")
        t.start()
        for i in range(N):
            lock = threading.Lock()
            lock.acquire()
            go.put(lock)
            time.sleep(0.002)
            lock.release()
            done.get()
            q = queue.Queue()
            q.put(i)
            q.get()
            ev = threading.Event()
            ev.set()
            del lock, q, ev
        go.put(None)
        t.join()
        print("rounds done")
        """)
    r, out = record(prog)
    s = summary(r)
    n = 40
    check("reused addresses: each round's queue is a queue of its own (40 and the two long-lived ones)",
          r.returncode == 0 and "rounds done" in r.stdout and s["queues"] == n + 2, (r.stderr, s))
    # Objects: every round's lock (waited for) and queue, go and done, and
    # the helper's start-up Event if the main thread waited for it.
    check("reused addresses: each round's lock is a lock of its own, waited for and handed over once",
          2 * n + 2 <= s["locks"] <= 2 * n + 3 and s["lock_waits"] >= n and s["lock_handoffs"] >= n - 2, s)


SYNC_IDS = """
import asyncio, copy, queue, threading, time
sem, q, cond, ev = threading.Semaphore(1), queue.Queue(), threading.Condition(), threading.Event()
def until_waited(cond):
    while not cond._waiters:
        time.sleep(0.001)
def hold(s, held):
    with s:
        held.set()
        until_waited(s._cond)
def put_later(q):
    until_waited(q.not_empty)
    q.put(1)
def waits(s, q):
    # The main thread waits for the semaphore a helper holds, then for an
    # item a helper puts (each helper lets go once the main thread waits).
    held = threading.Event()
    t = threading.Thread(target=hold, args=(s, held))
    t.start()
    held.wait()
    s.acquire()
    s.release()
    t.join()
    t = threading.Thread(target=put_later, args=(q,))
    t.start()
    q.get()
    t.join()
async def aqueue():
    aq = asyncio.Queue()
    asyncio.get_running_loop().call_later(0.01, aq.put_nowait, 1)
    await aq.get()
    return aq
waits(sem, q)
with cond:
    cond.wait(0.005)
ev.wait(0.005)
aq = asyncio.run(aqueue())
print("attributes:", [type(o).__name__ for o in (sem, q, cond, ev, aq) if "_interleave_id" in vars(o)])
# Copies made after the originals were used, waited on the same way.
waits(copy.copy(sem), copy.copy(q))
# Thousands of queues alive at once, dropped, and as many again.
for _ in range(2):
    qs = [queue.Queue() for _ in range(3000)]
    for x in qs:
        x.put(0)
        x.get()
    del qs, x
# An object without weak references that borrows the semaphore's methods.
class Slotted:
    __slots__ = ("_cond", "_value")
    acquire = __enter__ = threading.Semaphore.acquire
    release = threading.Semaphore.release
    def __exit__(self, *exc):
        self.release()
    def __init__(self):
        self._cond, self._value = threading.Condition(threading.Lock()), 1
waits(Slotted(), queue.Queue())
print("ids done")
"""


def raw_records(directory):
    """The records of the recorder's per-process files in `directory`:
    (kind, thread, a, b) each (interleave-recorder.h)."""
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.rec"))):
        with open(path, "rb") as f:
            data = f.read()[8:]
        i = 0
        while i + 32 <= len(data):
            kind, _cpu, slen, thread, _t, a, b = struct.unpack_from("=BBHIqqq", data, i)
            out.append((kind, thread, a, b))
            i += 32 + slen
    return out


REC_CALL_BEGIN, REC_QUEUE, CALL_SEMAPHORE, CALL_QUEUE = 6, 24, 9, 12


@case
def sync_object_ids():
    # The recorder keeps the numbers of semaphores, conditions, events and
    # queues in a table by address, not on the objects: nothing shows in
    # their vars(), a copy made after the original was used is an object of
    # its own, and objects made where freed ones lay stay apart.
    pythons = [(PY, "")] + [(f"/root/.pyenv/versions/{v}/bin/python3", f" (Python {v})")
                            for v in ("3.10.13", "3.12.1", "3.13.0")]
    prog = program("syncids.py", SYNC_IDS)
    for python, label in pythons:
        if not os.path.exists(python) or not has_recorder(python):
            check(f"ids: objects keep no attribute{label}: # SKIP not on this machine", True)
            continue
        raw = os.path.join(TMP, "syncids-raw")
        shutil.rmtree(raw, ignore_errors=True)
        out = os.path.join(TMP, "syncids.itrace")
        r = subprocess.run([CLI, "record-python", "-o", out, "--raw", raw, "--python", python, "--json", "--", prog],
                           capture_output=True, text=True, timeout=120)
        check(f"ids: a semaphore, queue, condition, event and asyncio.Queue have no attribute of the recorder{label}",
              r.returncode == 0 and "attributes: []" in r.stdout and "ids done" in r.stdout and "Error" not in r.stderr,
              (r.stdout, r.stderr))
        recs = raw_records(raw)
        sem_waits = [b for kind, th, a, b in recs if kind == REC_CALL_BEGIN and a == CALL_SEMAPHORE and th == 1]
        queue_waits = [b for kind, th, a, b in recs if kind == REC_CALL_BEGIN and a == CALL_QUEUE and th == 1]
        check(f"ids: a copy of a used semaphore and of a used queue are objects of their own{label}",
              len(sem_waits) == 3 and len(queue_waits) == 3
              and all(i % 2 == 1 for i in sem_waits[:2] + queue_waits[:2])
              and len(set(sem_waits)) == 3 and len(set(queue_waits)) == 3, (sem_waits, queue_waits))
        check(f"ids: an object without weak references is named by its address{label}",
              len(sem_waits) == 3 and sem_waits[2] > 0 and sem_waits[2] % 2 == 0, sem_waits)
        queue_ids = {a for kind, th, a, b in recs if kind == REC_QUEUE}
        s = summary(r)
        # q, its copy, 6000 short-lived queues, the last one, and asyncio's.
        check(f"ids: 6000 queues, 3000 alive at once, each an object of its own{label}",
              len(queue_ids) == 6004 and s["queues"] == 6004, (len(queue_ids), s.get("queues")))


@case
def bad_use():
    r = subprocess.run([CLI, "record-python", "-o", os.path.join(TMP, "x.itrace")], capture_output=True, text=True)
    check("record-python without a program: exit 2 and a message", r.returncode == 2 and "PROGRAM" in r.stderr, r.stderr)
    r = subprocess.run([CLI, "record-python", "-o", os.path.join(TMP, "x.itrace"), "--python", "/nonexistent/python",
                        "--", "x.py"], capture_output=True, text=True)
    check("record-python with a missing interpreter: exit 2", r.returncode == 2 and "nonexistent" in r.stderr, r.stderr)
    scen = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "data", "lessons", "07-convoy-effect.json")
    simulated = os.path.join(TMP, "sim.itrace")
    subprocess.run([CLI, "record", scen, "-o", simulated], check=True, capture_output=True)
    r = subprocess.run([CLI, "derive", simulated, "-o", os.path.join(TMP, "d.json")], capture_output=True, text=True)
    check("derive of a simulated trace: exit 2, says it is no recording", r.returncode == 2 and "recording" in r.stderr,
          r.stderr)


print(f"1..{len(results)}")
for name, detail in retried:
    print(f"# failed in the first run, recorded again: {name}: {str(detail)[:300]}")
failed = 0
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        failed += 1
        print(f"# {detail}")
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if failed else 0)
