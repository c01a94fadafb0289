#!/usr/bin/env python3
"""Compare Interleave's predictions with real CPython on this machine.

For every scenario in validation/*.json and every mode it lists ("modes", else
"mode"), this script

  (a) generates Python code that performs the workload for real (cpu = a pure
      Python busy loop until the thread's CPU time has advanced by that many ms;
      io/sleep = time.sleep / asyncio.sleep; threads, asyncio, processes with
      fork, pools), runs it in a fresh `python3 -c` subprocess N times and takes
      the median makespan and per-task finish times;
  (b) asks the CLI for its prediction (`interleave-cli simulate FILE --mode M --json`);
  (c) prints a markdown table of both, with the relative errors.

It is a report, not a test: the exit status is always 0.

Usage: tools/validate.py [--cli PATH] [--only NAME] [--runs N] [--dir DIR]
                         [--output FILE]
"""

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --------------------------------------------------------------------------
# The real workload.  This code runs in a clean `python3 -c` process:
#   argv[1] = scenario JSON text, argv[2] = mode
# and prints {"makespan_ms": …, "finish_ms": {name: ms}} on stdout.
# --------------------------------------------------------------------------
RUNNER = r'''
import asyncio, json, sys, threading, time

SCEN = json.loads(sys.argv[1])
MODE = sys.argv[2]
T0 = 0.0

def crunch(ms, clock):
    """Pure Python until `clock` (thread_time / process_time) has advanced by ms.
    Named as in the code view (core/il-code.c): a "cpu" step is crunch(ms)."""
    end = clock() + ms / 1000.0
    x = 0
    while clock() < end:
        for _ in range(20):
            x += 1
    return x

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
        else:
            raise SystemExit("unsupported step %r" % (s,))

async def arun_steps(steps):
    for s in steps:
        if "repeat" in s:
            for _ in range(int(s["repeat"])):
                await arun_steps(s["steps"])
        elif "cpu" in s:
            crunch(s["cpu"], time.thread_time)
        elif "io" in s:
            await asyncio.sleep(s["io"] / 1000.0)
        elif "sleep" in s:
            await asyncio.sleep(s["sleep"] / 1000.0)
        else:
            raise SystemExit("unsupported step %r" % (s,))

def task_in_thread(steps):
    run_steps(steps, time.thread_time)
    return time.perf_counter()

def task_in_process(steps):
    # Called in a forked child (pool worker or Process).
    run_steps(steps, time.process_time)
    return time.perf_counter()

def process_target(steps, q, name):
    q.put((name, task_in_process(steps)))

def main():
    global T0
    tasks = SCEN["tasks"]
    workers = int(SCEN.get("workers") or 0)
    finish = {}
    if MODE == "sequential":
        T0 = time.perf_counter()
        for t in tasks:
            finish[t["name"]] = task_in_thread(t["steps"])
        end = time.perf_counter()
    elif MODE == "threads":
        if workers:
            from concurrent.futures import ThreadPoolExecutor
            ex = ThreadPoolExecutor(max_workers=workers)
            T0 = time.perf_counter()
            futs = [(t["name"], ex.submit(task_in_thread, t["steps"])) for t in tasks]
            for name, f in futs:
                finish[name] = f.result()
            end = time.perf_counter()
            ex.shutdown()
        else:
            def body(t):
                finish[t["name"]] = task_in_thread(t["steps"])
            ths = [threading.Thread(target=body, args=(t,)) for t in tasks]
            T0 = time.perf_counter()
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            end = time.perf_counter()
    elif MODE == "processes":
        import multiprocessing as mp
        ctx = mp.get_context("fork")
        if workers:
            from concurrent.futures import ProcessPoolExecutor
            ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            T0 = time.perf_counter()
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
    elif MODE == "asyncio":
        async def amain():
            sem = asyncio.Semaphore(workers) if workers else None
            async def one(t):
                if sem is not None:
                    async with sem:
                        await arun_steps(t["steps"])
                else:
                    await arun_steps(t["steps"])
                finish[t["name"]] = time.perf_counter()
            global T0
            T0 = time.perf_counter()
            await asyncio.gather(*(one(t) for t in tasks))
            return time.perf_counter()
        end = asyncio.run(amain())
    else:
        raise SystemExit("mode %s cannot be measured here" % MODE)
    print(json.dumps({
        "makespan_ms": (end - T0) * 1000.0,
        "finish_ms": {k: (v - T0) * 1000.0 for k, v in finish.items()},
    }))

if __name__ == "__main__":
    main()
'''


def run_real(scenario, mode, runs, group=None):
    """Median makespan, per-task finish, earliest finish within `group` and
    per-rank (sorted) finish times over `runs` real runs."""
    text = json.dumps(scenario)
    results = []
    for _ in range(runs):
        p = subprocess.run([sys.executable, "-c", RUNNER, text, mode],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("real run failed: " + p.stderr.strip()[-500:])
        results.append(json.loads(p.stdout.strip().splitlines()[-1]))
    makespan = statistics.median(r["makespan_ms"] for r in results)
    names = results[0]["finish_ms"].keys()
    finish = {n: statistics.median(r["finish_ms"][n] for r in results) for n in names}
    spread = (min(r["makespan_ms"] for r in results), max(r["makespan_ms"] for r in results))
    first = None
    if group:
        firsts = [min(r["finish_ms"][n] for n in group) for r in results]
        first = statistics.median(firsts)
        spread += (min(firsts), max(firsts))
    ranks = [statistics.median(vals) for vals in
             zip(*(sorted(r["finish_ms"].values()) for r in results))]
    return makespan, finish, spread, first, ranks


def run_predicted(cli, path, mode):
    p = subprocess.run([cli, "simulate", path, "--mode", mode, "--json"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("CLI failed: " + (p.stderr or p.stdout).strip()[-500:])
    d = json.loads(p.stdout)
    return d["makespan_ms"], {t["name"]: t["finish_ms"] for t in d["tasks"]}


def has_wait(steps):
    for s in steps:
        if "io" in s or "sleep" in s:
            return True
        if "repeat" in s and has_wait(s["steps"]):
            return True
    return False


def focus_task(scenario):
    """The I/O-bound / ticker task whose finish time we compare: the first task
    that waits (io or sleep) and is not the only kind of task in the scenario."""
    waiting = [t["name"] for t in scenario["tasks"] if has_wait(t["steps"])]
    if not waiting:
        return None
    return waiting[0]


def same_steps_group(scenario, name):
    """Names of the tasks whose steps equal `name`'s.  Which of several identical
    tasks finishes first is arbitrary (GIL and OS scheduling order), so rows
    compare the earliest finisher of the group, not one task by name."""
    if name is None:
        return None
    steps = {t["name"]: json.dumps(t["steps"], sort_keys=True) for t in scenario["tasks"]}
    return [n for n in steps if steps[n] == steps[name]]


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


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=default_cli(), help="path to interleave-cli")
    ap.add_argument("--only", help="only scenarios whose file name or title contains this")
    ap.add_argument("--runs", type=int, default=3, help="real runs per row (median)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "validation"),
                    help="folder of scenario files")
    ap.add_argument("--output", help="also write the report (markdown) to this file")
    args = ap.parse_args()

    out = []

    def emit(line=""):
        print(line, flush=True)
        out.append(line)

    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    emit("# Interleave vs real CPython")
    emit()
    emit("- date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    emit("- python: %s (%s)" % (platform.python_version(), sys.executable))
    emit("- nproc: %s" % nproc)
    emit("- machine: %s %s" % (platform.system(), platform.machine()))
    emit("- runs per row: %d (median); CLI: %s" % (args.runs, args.cli))
    emit("- target: 10% error (20% in processes mode, which starts processes)")
    emit()
    emit("| workload | mode | real makespan ms | predicted ms | error % "
         "| real finish of I/O/ticker task | predicted | error % | within target? |")
    emit("|---|---|---:|---:|---:|---:|---:|---:|---|")

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
        focus = focus_task(scenario)
        group = same_steps_group(scenario, focus)
        for mode in modes:
            if not focus:
                label = base
            elif len(group) > 1:
                label = "%s (first of %s…%s to finish)" % (base, group[0], group[-1])
            else:
                label = "%s (%s)" % (base, focus)
            if mode == "free-threading":
                try:
                    pm, pf = run_predicted(args.cli, path, mode)
                    pred = "%.1f" % pm
                    predf = fmt(min(pf[n] for n in group)) if focus else "—"
                except Exception as e:  # noqa: BLE001
                    pred, predf = "error", "—"
                    notes.append("%s %s: %s" % (base, mode, e))
                emit("| %s | %s | not measurable on 3.11 | %s | — | not measurable on 3.11 | %s | — | n/a |"
                     % (label, mode, pred, predf))
                continue
            try:
                rm, rf, spread, rfo, ranks = run_real(scenario, mode, args.runs, group)
                pm, pf = run_predicted(args.cli, path, mode)
            except Exception as e:  # noqa: BLE001
                notes.append("%s %s: %s" % (base, mode, e))
                emit("| %s | %s | error | error | — | — | — | — | n/a |" % (label, mode))
                continue
            target = 20.0 if mode == "processes" else 10.0
            e1 = err(rm, pm)
            pfo = min(pf[n] for n in group) if focus else None
            e2 = err(rfo, pfo)
            ok = abs(e1) <= target and (e2 is None or abs(e2) <= target)
            total += 1
            within += ok
            emit("| %s | %s | %.1f | %.1f | %+.1f | %s | %s | %s | %s |"
                 % (label, mode, rm, pm, e1, fmt(rfo), fmt(pfo),
                    fmt(e2, "%+.1f"), ("yes" if ok else "**no**") + " (%d%%)" % target))
            fspread = ("; real I/O/ticker finish spread %.1f–%.1f ms" % spread[2:4]
                       if len(spread) == 4 else "")
            notes.append("%s %s: real makespan spread %.1f–%.1f ms%s; finish times in order "
                         "(real median per rank → predicted): %s"
                         % (base, mode, spread[0], spread[1], fspread,
                            ", ".join("%.1f→%.1f" % rp for rp in
                                      list(zip(ranks, sorted(pf.values())))[:8])))
    emit()
    emit("**%d of %d measurable rows within target.**" % (within, total))
    emit()
    emit("## Details")
    emit()
    emit("Spreads are min–max over the real runs. \"Finish times in order\" pairs the k-th real")
    emit("finisher (median over runs) with the k-th predicted one (first 8 ranks).")
    emit()
    for n in notes:
        emit("- " + n)
    if args.output:
        with open(args.output, "w") as f:
            f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
