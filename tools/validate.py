#!/usr/bin/env python3
"""Compare Interleave's predictions with real CPython on this machine.

For every scenario in validation/*.json and every mode it lists ("modes", else
"mode"), this script

  (a) generates a Python program that performs the workload for real (cpu = a
      pure Python busy loop until the thread's CPU time has advanced by that
      many ms; io/sleep = time.sleep / asyncio.sleep; lock / limit =
      threading or asyncio Lock / Semaphore; put / get = queue.Queue or
      asyncio.Queue (not in processes mode); to_thread = asyncio.to_thread, or
      loop.run_in_executor(None, ...) for tasks named executor*; threads,
      asyncio, processes and ProcessPoolExecutor with the scenario's
      start_method; switch_interval_ms; each task's start), runs it N times in
      a fresh interpreter and records the makespan, every task's finish, the
      GIL hand-overs the busy loops saw and asyncio's loop iterations;
  (b) asks the CLI for its prediction
      (`interleave-cli simulate FILE --mode M --json --reference`);
  (c) prints a markdown table of both with the relative errors, and per-task
      details.

It is a report, not a test: the exit status is always 0.

Usage: tools/validate.py [--cli PATH] [--python PATH] [--only NAME] [--runs N]
                         [--dir DIR] [--output FILE] [--real-cache FILE]
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --------------------------------------------------------------------------
# The real workload.  This code runs in a clean `python3 -c` process:
#   argv[1] = scenario JSON text, argv[2] = mode
# and prints {"makespan_ms": …, "finish_ms": {name: ms}} on stdout.
# --------------------------------------------------------------------------
RUNNER = r'''
import asyncio, json, os, sys, threading, time

T0 = 0.0
PC = time.perf_counter_ns
GAP_NS = 200_000      # a pause longer than this in a busy loop: the thread lost the GIL or its core
SEGMENTS = {}         # thread ident -> [[start_ns, end_ns], ...] of busy-loop running
TASK_RUN = {}         # task name -> [first_ns, last_ns, running_ns] of its busy loops
CURRENT = threading.local()   # .task: the task a thread works for
SEG_LOCK = threading.Lock()
SYNC = {}             # lock / semaphore objects by name
SCEN = {}
MODE = ""
PROCESS_POOL = []     # the ProcessPoolExecutor behind to_process, made on first use

def process_pool():
    if not PROCESS_POOL:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        ctx = mp.get_context(SCEN.get("start_method", "fork"))
        n = int(SCEN.get("workers") or 0) if MODE == "processes" else 0
        PROCESS_POOL.append(ProcessPoolExecutor(max_workers=n or int(SCEN.get("cores", 2)),
                                                mp_context=ctx))
    return PROCESS_POOL[0]

def crunch(ms, clock):
    """Pure Python until `clock` (thread_time / process_time) has advanced by ms;
    records when this thread was seen running (for GIL switch counts).
    Named as in the code view (core/il-code.c): a "cpu" step is crunch(ms)."""
    end = clock() + ms / 1000.0
    ident = threading.get_ident()
    segs = []
    s = last = PC()
    x = 0
    while clock() < end:
        for _ in range(20):
            x += 1
        now = PC()
        if now - last > GAP_NS:
            segs.append([s, last])
            s = now
        last = now
    segs.append([s, last])
    with SEG_LOCK:
        SEGMENTS.setdefault(ident, []).extend(segs)
        name = getattr(CURRENT, "task", None)
        if name is not None:
            run = TASK_RUN.setdefault(name, [segs[0][0], segs[-1][1], 0])
            run[0] = min(run[0], segs[0][0])
            run[1] = max(run[1], segs[-1][1])
            run[2] += sum(b - a for a, b in segs)
    return x

def sync_object(kind, name, aio):
    key = (kind, name, aio)
    if key not in SYNC:
        if kind == "lock":
            SYNC[key] = asyncio.Lock() if aio else threading.Lock()
        else:
            n = int(SCEN.get("limits", {}).get(name, 1))
            SYNC[key] = asyncio.Semaphore(n) if aio else threading.Semaphore(n)
    return SYNC[key]

def queue_object(name, aio):
    """The scenario's queue `name`: asyncio.Queue or queue.Queue(maxsize)."""
    key = ("queue", name, aio)
    if key not in SYNC:
        import queue
        n = int(SCEN.get("queues", {}).get(name, 0))
        SYNC.setdefault(key, asyncio.Queue(maxsize=n) if aio else queue.Queue(maxsize=n))
    return SYNC[key]

def queue_step(s):
    """put / get on a thread; sequential code cannot wait (nobody else runs)."""
    import queue
    q = queue_object(s.get("put", s.get("get")), False)
    try:
        if "put" in s:
            q.put(getattr(CURRENT, "task", None), block=MODE != "sequential")
        else:
            q.get(block=MODE != "sequential")
    except (queue.Full, queue.Empty):
        raise SystemExit("deadlock: sequential code would wait for ever on queue %r" % (s,))

def run_steps(steps, clock):
    for s in steps:
        if "repeat" in s:
            for _ in range(int(s["repeat"])):
                run_steps(s["steps"], clock)
        elif "cpu" in s:
            crunch(s["cpu"], clock)
        elif "io" in s:
            time.sleep(s["io"] / 1000.0)
        elif "sleep" in s:
            time.sleep(s["sleep"] / 1000.0)
        elif "yield" in s:
            time.sleep(0)
        elif "lock" in s or "limit" in s:
            kind = "lock" if "lock" in s else "limit"
            with sync_object(kind, s[kind], False):
                run_steps(s["steps"], clock)
        elif "to_thread" in s:
            run_steps(s["to_thread"], clock)
        elif "to_process" in s:
            process_pool().submit(task_in_process, s["to_process"]).result()
        elif ("put" in s or "get" in s) and MODE != "processes":
            queue_step(s)
        else:
            raise SystemExit("unsupported step %r" % (s,))

async def arun_steps(steps, name):
    for s in steps:
        if "repeat" in s:
            for _ in range(int(s["repeat"])):
                await arun_steps(s["steps"], name)
        elif "cpu" in s:
            crunch(s["cpu"], time.thread_time)
        elif ("io" in s or "sleep" in s) and s.get("blocking"):
            time.sleep(s.get("io", s.get("sleep")) / 1000.0)
        elif "io" in s:
            await asyncio.sleep(s["io"] / 1000.0)
        elif "sleep" in s:
            await asyncio.sleep(s["sleep"] / 1000.0)
        elif "yield" in s:
            await asyncio.sleep(0)
        elif "to_process" in s:
            await asyncio.get_running_loop().run_in_executor(
                process_pool(), task_in_process, s["to_process"])
        elif "lock" in s or "limit" in s:
            kind = "lock" if "lock" in s else "limit"
            async with sync_object(kind, s[kind], True):
                await arun_steps(s["steps"], name)
        elif "put" in s:
            await queue_object(s["put"], True).put(name)
        elif "get" in s:
            await queue_object(s["get"], True).get()
        elif "to_thread" in s:
            # Tasks named executor_* use run_in_executor(None, ...), the
            # others asyncio.to_thread: the same default executor.
            if name.startswith("executor"):
                await asyncio.get_running_loop().run_in_executor(
                    None, offloaded, name, s["to_thread"])
            else:
                await asyncio.to_thread(offloaded, name, s["to_thread"])
        else:
            raise SystemExit("unsupported step %r" % (s,))

def offloaded(name, steps):
    CURRENT.task = name
    try:
        run_steps(steps, time.thread_time)
    finally:
        CURRENT.task = None

def task_in_thread(task):
    CURRENT.task = task["name"]
    if task.get("start"):
        time.sleep(task["start"] / 1000.0)
    run_steps(task["steps"], time.thread_time)
    return time.perf_counter()

def task_in_process(steps):
    # Called in a child (pool worker or Process).
    run_steps(steps, time.process_time)
    return time.perf_counter()

def process_target(steps, q, name):
    q.put((name, task_in_process(steps)))

def main():
    global T0, SCEN, MODE
    SCEN = json.loads(sys.argv[1])
    mode = MODE = sys.argv[2]
    sys.setswitchinterval(float(SCEN.get("switch_interval_ms", 5)) / 1000.0)
    tasks = SCEN["tasks"]
    workers = int(SCEN.get("workers") or 0)
    finish = {}
    iterations = [0]
    if mode == "sequential":
        T0 = time.perf_counter()
        for t in tasks:
            finish[t["name"]] = task_in_thread(t)
        end = time.perf_counter()
    elif mode == "threads":
        if workers:
            from concurrent.futures import ThreadPoolExecutor
            ex = ThreadPoolExecutor(max_workers=workers)
            T0 = time.perf_counter()
            futs = [(t["name"], ex.submit(task_in_thread, t)) for t in tasks]
            for name, f in futs:
                finish[name] = f.result()
            end = time.perf_counter()
            ex.shutdown()
        else:
            def body(t):
                finish[t["name"]] = task_in_thread(t)
            ths = [threading.Thread(target=body, args=(t,)) for t in tasks]
            T0 = time.perf_counter()
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            end = time.perf_counter()
    elif mode == "processes":
        import multiprocessing as mp
        ctx = mp.get_context(SCEN.get("start_method", "fork"))
        if workers:
            from concurrent.futures import ProcessPoolExecutor
            T0 = time.perf_counter()
            ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            futs = [(t["name"], ex.submit(task_in_process, t["steps"])) for t in tasks]
            for name, f in futs:
                finish[name] = f.result()
            end = time.perf_counter()
            ex.shutdown()
        else:
            q = ctx.SimpleQueue()
            T0 = time.perf_counter()
            procs = [ctx.Process(target=process_target, args=(t["steps"], q, t["name"]))
                     for t in tasks]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            end = time.perf_counter()
            while not q.empty():
                name, tf = q.get()
                finish[name] = tf
    elif mode == "asyncio":
        base = asyncio.base_events.BaseEventLoop
        plain = base._run_once
        def counted(self):
            iterations[0] += 1
            return plain(self)
        base._run_once = counted
        async def amain():
            sem = asyncio.Semaphore(workers) if workers else None
            async def one(t):
                if t.get("start"):
                    await asyncio.sleep(t["start"] / 1000.0)
                if sem is not None:
                    async with sem:
                        await arun_steps(t["steps"], t["name"])
                else:
                    await arun_steps(t["steps"], t["name"])
                finish[t["name"]] = time.perf_counter()
            global T0
            T0 = time.perf_counter()
            await asyncio.gather(*(one(t) for t in tasks))
            return time.perf_counter()
        end = asyncio.run(amain())
    else:
        raise SystemExit("mode %s cannot be measured here" % mode)
    for pool in PROCESS_POOL:
        pool.shutdown()
    # GIL hand-overs seen by the busy loops: changes of running thread in
    # time order (only threads running Python busy loops are seen).
    segs = sorted((a, b, ident) for ident, ss in SEGMENTS.items() for a, b in ss)
    switches = 0
    prev = None
    for a, b, ident in segs:
        if prev is not None and ident != prev:
            switches += 1
        prev = ident
    print(json.dumps({
        "makespan_ms": (end - T0) * 1000.0,
        "finish_ms": {k: (v - T0) * 1000.0 for k, v in finish.items()},
        "switches": switches if mode in ("threads", "asyncio") else None,
        "iterations": iterations[0] if mode == "asyncio" else None,
        # Share of each thread task's busy period (first to last busy-loop
        # run) it spent not running: waiting for the GIL (or a core).
        "wait_share": {k: 1.0 - r[2] / (r[1] - r[0]) for k, r in TASK_RUN.items() if r[1] > r[0]}
                      if mode in ("threads", "asyncio") else {},
    }))

if __name__ == "__main__":
    main()
'''


REALTIME = []   # ["chrt", "-r", "10"] with --realtime


def run_real(scenario, mode, runs, python, cache):
    """`runs` real runs of one scenario in one mode (or the cached ones)."""
    key = "%s|%s|%s%s" % (json.dumps(scenario, sort_keys=True), mode, python, "|rt" if REALTIME else "")
    if cache is not None and key in cache and len(cache[key]) >= runs:
        return cache[key][:runs]
    text = json.dumps(scenario)
    results = []
    # The runner goes into a file: spawn and forkserver children re-import
    # the main module, which `python -c` does not have.
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "interleave_validate_run.py")
        with open(script, "w") as f:
            f.write(RUNNER)
        for _ in range(runs):
            p = subprocess.run(REALTIME + [python, script, text, mode],
                               capture_output=True, text=True, timeout=300, cwd=tmp)
            if p.returncode != 0:
                raise RuntimeError("real run failed: " + p.stderr.strip()[-500:])
            results.append(json.loads(p.stdout.strip().splitlines()[-1]))
    if cache is not None:
        cache[key] = results
    return results


def run_predicted(cli, path, mode):
    p = subprocess.run([cli, "simulate", path, "--mode", mode, "--json", "--reference"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0 and "--reference" in (p.stderr or ""):
        p = subprocess.run([cli, "simulate", path, "--mode", mode, "--json"],
                           capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("CLI failed: " + (p.stderr or p.stdout).strip()[-500:])
    return json.loads(p.stdout)


def cpu_only(steps):
    for s in steps:
        if "repeat" in s:
            if not cpu_only(s["steps"]):
                return False
        elif "to_thread" in s:
            if not cpu_only(s["to_thread"]):
                return False
        elif "cpu" not in s:
            return False
    return True


def wait_shares(scenario, results, predicted):
    """Median over the CPU-only thread tasks of the share of their busy
    period spent waiting (real: from the busy loops' timestamps; predicted:
    (GIL wait + ready) / (finish - first run))."""
    if scenario.get("workers"):
        return None, None   # pool items: the prediction counts the queueing, the busy loops cannot
    names = [t["name"] for t in scenario["tasks"] if cpu_only(t["steps"])]
    real = [statistics.median(r["wait_share"][n] for r in results)
            for n in names if all(n in r.get("wait_share", {}) for r in results)]
    pred = []
    for t in predicted["tasks"]:
        if t["name"] in names:
            busy = t["cpu_ms"] + t["gil_wait_ms"] + t["ready_ms"]
            if busy > 0:
                pred.append((t["gil_wait_ms"] + t["ready_ms"]) / busy)
    if not real or not pred:
        return None, None
    return statistics.median(real), statistics.median(pred)


def groups_of(scenario):
    """Tasks with the same steps and start form a group: which of several
    identical tasks finishes first is arbitrary (GIL and OS order), so their
    finish times are compared by rank within the group, not by name."""
    groups = {}
    for t in scenario["tasks"]:
        key = json.dumps([t["steps"], t.get("start", 0)], sort_keys=True)
        groups.setdefault(key, []).append(t["name"])
    return list(groups.values())


def compare_tasks(scenario, results, predicted, target):
    """Per task (by rank within its group): real median, spread, predicted.
    A task's finish is *stable* when its spread over the runs, (max - min) /
    median, is below STABLE; only stable ones are held to the target."""
    pf = {t["name"]: t["finish_ms"] for t in predicted["tasks"]}
    rows = []
    for names in groups_of(scenario):
        real_ranked = [sorted(r["finish_ms"][n] for n in names) for r in results]
        pred_ranked = sorted(pf[n] for n in names)
        for k, pred in enumerate(pred_ranked):
            vals = [rr[k] for rr in real_ranked]
            med = statistics.median(vals)
            spread = (max(vals) - min(vals)) / med if med > 0 else 0.0
            label = names[0] if len(names) == 1 else "%s…%s #%d" % (names[0], names[-1], k + 1)
            e = err(med, pred)
            rows.append({"task": label, "real": med, "spread": spread, "pred": pred, "err": e,
                         "stable": spread < STABLE,
                         "ok": e is not None and abs(e) <= target})
    return rows


STABLE = 0.05


def err(real, pred):
    if real is None or pred is None or real == 0:
        return None
    return (pred - real) / real * 100.0


def fmt(v, spec="%.1f"):
    return "—" if v is None else spec % v


def default_cli():
    for c in (os.path.join(ROOT, "build", "app", "interleave-cli"),
              "/tmp/build-val/app/interleave-cli"):
        if os.access(c, os.X_OK):
            return c
    return os.path.join(ROOT, "build", "app", "interleave-cli")


def median_of(results, key):
    vals = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(vals) if vals else None


MEASURABLE = ("makespan", "speedup", "finish", "switches", "iterations")
PER_TASK = ("start", "finish", "cpu", "gil_wait", "io_wait", "sleeping", "ready", "blocked", "outcome")


class NotMeasurable(Exception):
    pass


def check_clauses(lesson, real):
    """Each `&&` clause of a lesson's check, evaluated on the real runs:
    (clause, text with the real values, True / False / None = not measurable)."""
    default = lesson.get("mode", "threads")
    out = []

    def value(m):
        fn, args = m.group(1), [a.strip() for a in m.group(2).split(",") if a.strip()]
        task = args.pop(0) if fn in PER_TASK else None
        mode = (args[0] if args else default).replace("_", "-")
        if fn not in MEASURABLE or mode not in real:
            raise NotMeasurable(fn)
        if fn == "speedup":
            if "sequential" not in real:
                raise NotMeasurable(fn)
            return "%.3f" % (median_of(real["sequential"], "makespan_ms") / median_of(real[mode], "makespan_ms"))
        if fn == "finish":
            return "%.3f" % statistics.median(r["finish_ms"][task] for r in real[mode])
        key = {"makespan": "makespan_ms", "switches": "switches", "iterations": "iterations"}[fn]
        v = median_of(real[mode], key)
        if v is None:
            raise NotMeasurable(fn)
        return "%.3f" % v

    for clause in lesson["lesson"].get("check", "").split("&&"):
        clause = clause.strip()
        if not clause:
            continue
        try:
            text = re.sub(r"(\w+)\(([^()]*)\)", value, clause)
            out.append((clause, text, bool(eval(text, {"__builtins__": {}}, {}))))  # noqa: S307 (our own files)
        except NotMeasurable:
            out.append((clause, "", None))
        except Exception as e:  # noqa: BLE001
            out.append((clause, repr(e), None))
    return out


def lessons_report(args, cache, emit):
    emit()
    emit("## Lessons against real runs")
    emit()
    emit("Each lesson's `check` evaluated on the real runs (median of %d); clauses on quantities a real run "
         "does not show (drop requests, per-state times, outcomes) or on free-threading are not measurable."
         % args.lesson_runs)
    emit()
    emit("| lesson | clause | real values | holds? |")
    emit("|---|---|---|---|")
    for path in sorted(glob.glob(os.path.join(ROOT, "data", "lessons", "*.json"))):
        lesson = json.load(open(path))
        base = os.path.splitext(os.path.basename(path))[0]
        if args.only and args.only not in base:
            continue
        real = {}
        problem = None
        for mode in lesson.get("modes") or [lesson.get("mode", "threads")]:
            if mode == "free-threading":
                continue
            try:
                real[mode] = run_real(lesson, mode, args.lesson_runs, args.python, cache)
            except Exception as e:  # noqa: BLE001
                problem = str(e).splitlines()[-1][:120]
        if problem and not real:
            emit("| %s | — | the runner cannot run it: %s | not measurable |" % (base, problem.replace("|", "/")))
            continue
        for clause, text, holds in check_clauses(lesson, real):
            emit("| %s | `%s` | %s | %s |" % (base, clause, text or "—",
                                            "yes" if holds else "—" if holds is None else "**no**"))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=default_cli(), help="path to interleave-cli")
    ap.add_argument("--python", default=sys.executable, help="the CPython to measure")
    ap.add_argument("--only", help="only scenarios whose file name or title contains this")
    ap.add_argument("--runs", type=int, default=5, help="real runs per row (median)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "validation"),
                    help="folder of scenario files")
    ap.add_argument("--output", help="also write the report (markdown) to this file")
    ap.add_argument("--realtime", action="store_true",
                    help="run the real programs under SCHED_RR (chrt -r 10, needs root): other work on "
                         "the machine then barely disturbs them, as on an idle machine")
    ap.add_argument("--lessons", action="store_true",
                    help="also run every lesson for real and evaluate its check on the real runs")
    ap.add_argument("--lesson-runs", type=int, default=3, help="real runs per lesson mode")
    ap.add_argument("--real-cache", help="JSON file keeping the real runs: reused when present, "
                    "so a model change can be re-checked without measuring again")
    args = ap.parse_args()
    if args.realtime:
        REALTIME.extend(["chrt", "-r", "10"])

    cache = None
    if args.real_cache:
        try:
            with open(args.real_cache) as f:
                cache = json.load(f)
        except (OSError, ValueError):
            cache = {}

    out = []

    def emit(line=""):
        print(line, flush=True)
        out.append(line)

    version = subprocess.run([args.python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = -1
    emit("# Interleave vs real CPython")
    emit()
    emit("- date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    emit("- python: %s (%s)" % (version, args.python))
    emit("- cores: %s; load average at the start: %.1f" % (os.cpu_count(), load))
    emit("- machine: %s %s" % (platform.system(), platform.machine()))
    emit("- runs per row: %d (median); CLI: %s (reference parameters)" % (args.runs, args.cli))
    if args.realtime:
        emit("- real runs under SCHED_RR (`chrt -r 10`): the machine's other work barely disturbs them; "
             "processes beyond the cores share them in 100 ms round-robin slices instead of CFS's few ms")
    emit("- target: makespan within 10%% (20%% in processes mode); each task's finish within the same "
         "target where the real runs are stable (spread (max − min) / median over the runs < %d%%)"
         % (STABLE * 100))
    emit()
    emit("| workload | mode | real ms (spread) | predicted ms | error % | stable tasks within target "
         "| worst stable task | GIL switches real / predicted | GIL-wait share real / predicted "
         "| loop iterations real / predicted | within target? |")
    emit("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|")

    files = sorted(glob.glob(os.path.join(args.dir, "*.json")))
    within = total = 0
    notes = []
    for path in files:
        scenario = json.load(open(path))
        base = os.path.splitext(os.path.basename(path))[0]
        title = scenario.get("title", base)
        if args.only and args.only not in base and args.only not in title:
            continue
        modes = scenario.get("modes") or [scenario.get("mode", "threads")]
        for mode in modes:
            if mode == "free-threading":
                try:
                    pd = run_predicted(args.cli, path, mode)
                    pred = "%.1f" % pd["makespan_ms"]
                except Exception as e:  # noqa: BLE001
                    pred = "error"
                    notes.append("%s %s: %s" % (base, mode, e))
                emit("| %s | %s | not measurable on a GIL build | %s | — | — | — | — | — | — | n/a |"
                     % (base, mode, pred))
                continue
            try:
                results = run_real(scenario, mode, args.runs, args.python, cache)
                pd = run_predicted(args.cli, path, mode)
            except Exception as e:  # noqa: BLE001
                notes.append("%s %s: %s" % (base, mode, e))
                emit("| %s | %s | error | error | — | — | — | — | — | — | n/a |" % (base, mode))
                continue
            target = 20.0 if mode == "processes" else 10.0
            rm = median_of(results, "makespan_ms")
            lo = min(r["makespan_ms"] for r in results)
            hi = max(r["makespan_ms"] for r in results)
            e1 = err(rm, pd["makespan_ms"])
            rows = compare_tasks(scenario, results, pd, target)
            stable = [r for r in rows if r["stable"]]
            good = [r for r in stable if r["ok"]]
            worst = max(stable, key=lambda r: abs(r["err"] or 0), default=None)
            ok = abs(e1) <= target and len(good) == len(stable)
            total += 1
            within += ok
            ws_real, ws_pred = wait_shares(scenario, results, pd) if mode in ("threads", "asyncio") else (None, None)
            sw = median_of(results, "switches")
            it = median_of(results, "iterations")
            emit("| %s | %s | %.1f (%.0f–%.0f) | %.1f | %+.1f | %d of %d | %s | %s | %s | %s | %s |"
                 % (base, mode, rm, lo, hi, pd["makespan_ms"], e1, len(good), len(stable),
                    "%s %+.1f %%" % (worst["task"], worst["err"]) if worst else "—",
                    "%s / %d" % (fmt(sw, "%.0f"), pd.get("gil_switches", 0)) if sw is not None else "—",
                    "%.0f %% / %.0f %%" % (100 * ws_real, 100 * ws_pred) if ws_real is not None else "—",
                    "%s / %d" % (fmt(it, "%.0f"), pd.get("loop_iterations", 0)) if it is not None else "—",
                    ("yes" if ok else "**no**") + " (%d%%)" % target))
            notes.append("%s %s: %s" % (base, mode, "; ".join(
                "%s %.1f%s→%.1f (%s)" % (r["task"], r["real"], "" if r["stable"] else "~",
                                         r["pred"], fmt(r["err"], "%+.1f%%"))
                for r in rows[:12])))
    emit()
    emit("**%d of %d measurable rows within target.**" % (within, total))
    if args.lessons:
        lessons_report(args, cache, emit)
    if cache is not None:
        with open(args.real_cache, "w") as f:
            json.dump(cache, f)
    emit()
    emit("## Details")
    emit()
    emit("Each task's finish: real median → predicted (error); `~` marks a task whose real finish")
    emit("spread over the runs is %d%% or more (not held to the target). Identical tasks are" % (STABLE * 100))
    emit("compared by rank (#1 finishes first). GIL switches are counted from the busy loops' own")
    emit("timestamps (a pause over 0.2 ms ends a run of the thread), so only threads running Python")
    emit("loops are seen; the simulation counts every hand-over, start and join included.")
    emit()
    for n in notes:
        emit("- " + n)
    if args.output:
        # Keep the block tools/validate-crossmode.py owns in the file.
        kept = ""
        try:
            with open(args.output) as f:
                old = f.read()
            begin, end = "<!-- cross-mode: tools/validate-crossmode.py -->", "<!-- /cross-mode -->"
            if begin in old and end in old:
                kept = "\n" + old[old.index(begin):old.index(end) + len(end)] + "\n"
        except OSError:
            pass
        with open(args.output, "w") as f:
            f.write("\n".join(out) + "\n" + kept)
    return 0


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
