#!/usr/bin/env python3
"""From reality to "what if": check the derived scenario's predictions for the
modes a program did not run in against real runs of that program rewritten
for those modes.

Each workload below is one piece of work written by hand in several
equivalent forms, as a person would write it:

  sequential  plain calls, one after another
  threads     one threading.Thread per job, then join
  asyncio     one task per job (asyncio.create_task, gather); waits are
              awaited, CPU work runs inline on the loop
  processes   one multiprocessing.Process per job (fork), then join

Every form names its jobs alike (thread, task and process names) and prints
one JSON line: the makespan (from just before the first job starts to the
last join) and each job's finish, in ms.  For each workload the script

  1. records the forms listed in "record" with `interleave-cli record-python`
     (several recordings), derives a scenario from each (`derive`) and
     simulates it in every mode (`simulate --mode M --json --reference`): the
     prediction is measured from the earliest task start in the scenario, as
     the real forms measure from just before their first job starts;
  2. runs every form for real (--runs times, median and spread), in rounds
     with the recordings (one of each per round) so that a change in the
     machine's speed touches predictions and real runs alike;
  3. prints a markdown table of predicted against real makespans, each job's
     finish where the jobs correspond, and the ratios between modes.

Real runs and recordings go under SCHED_RR (`chrt -r 10`) with --realtime, as
tools/validate.py does: on this shared 2-core machine CFS would otherwise give
them a fraction of a core.  A report, not a test: the exit status is 0.

Usage: tools/validate-crossmode.py [--cli PATH] [--python PATH] [--runs N]
                                   [--recordings N] [--realtime] [--only NAME]
                                   [--output FILE] [--keep DIR]
                                   [--print-program WORKLOAD FORM]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("sequential", "threads", "asyncio", "processes")

# Shared by every form: the CPU work (a pure Python loop of a fixed count, the
# same in every form), the report, and the job list of the workload.
PRELUDE = r'''
import json, sys, time

def crunch(n):
    x = 0
    for i in range(n):
        x += i * i
    return x

def report(t0, end, finish):
    print(json.dumps({"makespan_ms": (end - t0) * 1000.0,
                      "finish_ms": {k: (v - t0) * 1000.0 for k, v in finish.items()}}))
'''

# How each form runs the jobs.  A workload supplies `JOBS` (names), `job(name)`
# (blocking) and `ajob(name)` (its coroutine); the processes form reports each
# child's finish through a queue (perf_counter is the system-wide monotonic
# clock, so the parent and children agree).
DRIVERS = {
    "sequential": r'''
finish = {}
t0 = time.perf_counter()
for name in JOBS:
    job(name)
    finish[name] = time.perf_counter()
report(t0, time.perf_counter(), finish)
''',
    "threads": r'''
import threading
finish = {}
def body(name):
    job(name)
    finish[name] = time.perf_counter()
ts = [threading.Thread(target=body, args=(name,), name=name) for name in JOBS]
t0 = time.perf_counter()
for t in ts:
    t.start()
for t in ts:
    t.join()
report(t0, time.perf_counter(), finish)
''',
    "asyncio": r'''
import asyncio
finish = {}
async def one(name):
    await ajob(name)
    finish[name] = time.perf_counter()
async def main():
    t0 = time.perf_counter()
    await asyncio.gather(*(asyncio.create_task(one(name), name=name) for name in JOBS))
    report(t0, time.perf_counter(), finish)
asyncio.run(main())
''',
    "processes": r'''
import multiprocessing as mp
def body(name, q):
    job(name)
    q.put((name, time.perf_counter()))
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    q = ctx.SimpleQueue()
    ps = [ctx.Process(target=body, args=(name, q), name=name) for name in JOBS]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    end = time.perf_counter()
    finish = {}
    while not q.empty():
        name, at = q.get()
        finish[name] = at
    report(t0, end, finish)
''',
}

# The workloads: the job code in its blocking and its asyncio spelling.
WORKLOADS = {
    # Each job waits for a reply (a sleep standing for a request), parses it,
    # twice; the jobs differ in wait and CPU so each one's finish can be told
    # apart.
    "mixed-4": {
        "title": "4 jobs: 2 × (wait 50–80 ms, parse 0.5–0.8 M loop steps)",
        "record": ["threads", "asyncio"],
        "code": r'''
JOBS = ["job-%d" % k for k in range(4)]
def job(name):
    k = int(name[-1])
    for _ in range(2):
        time.sleep(0.05 + 0.01 * k)
        crunch(500_000 + 100_000 * k)
async def ajob(name):
    import asyncio
    k = int(name[-1])
    for _ in range(2):
        await asyncio.sleep(0.05 + 0.01 * k)
        crunch(500_000 + 100_000 * k)
''',
    },
    # Pure CPU: the GIL story.  Threads take as long as calls in a row;
    # processes use both cores.
    "cpu-4": {
        "title": "4 jobs of 2.4 M loop steps each (pure CPU)",
        "record": ["threads"],
        "code": r'''
JOBS = ["cpu-%d" % k for k in range(4)]
def job(name):
    crunch(2_400_000)
async def ajob(name):
    crunch(2_400_000)
''',
    },
    # CPU work handed to a ProcessPoolExecutor (2 workers, fork) after a
    # wait: `to_process` in the derived scenario.  In the processes form
    # each job is a process already and calls the function itself.
    "offload-3": {
        "title": "3 jobs: wait 20/40/60 ms, then 1.5 M loop steps in a ProcessPoolExecutor(2)",
        "record": ["asyncio", "threads"],
        "code": r'''
import concurrent.futures as cf, multiprocessing as mp, threading
JOBS = ["job-%d" % k for k in range(3)]
POOL = []
POOL_LOCK = threading.Lock()
def pool():
    with POOL_LOCK:
        if not POOL:
            POOL.append(cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")))
    return POOL[0]
def job(name):
    k = int(name[-1])
    time.sleep(0.02 * (k + 1))
    if mp.current_process().name != "MainProcess":
        crunch(1_500_000)
    else:
        pool().submit(crunch, 1_500_000).result()
async def ajob(name):
    import asyncio
    k = int(name[-1])
    await asyncio.sleep(0.02 * (k + 1))
    await asyncio.get_running_loop().run_in_executor(pool(), crunch, 1_500_000)
''',
    },
    # I/O-bound requests to a local server (another process, started by this
    # script) that answers each after 40 ms; the reply is parsed briefly.
    "requests-16": {
        "title": "16 requests to a local socket server answering after 40 ms, each parsed (20 k loop steps)",
        "record": ["asyncio", "threads"],
        "server": True,
        "code": r'''
import socket
PORT = int(sys.argv[1])
JOBS = ["req-%02d" % k for k in range(16)]
def job(name):
    with socket.create_connection(("127.0.0.1", PORT)) as s:
        s.sendall(b"get\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    crunch(20_000)
async def ajob(name):
    import asyncio
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"get\n")
    await writer.drain()
    await reader.readline()
    writer.close()
    await writer.wait_closed()
    crunch(20_000)
''',
    },
}

# The server for "requests-16": one asyncio loop, each answer after DELAY.
SERVER = r'''
import asyncio, sys
DELAY = float(sys.argv[1])
async def handle(reader, writer):
    await reader.readline()
    await asyncio.sleep(DELAY)
    writer.write(b"ok " + b"x" * 200 + b"\n")
    await writer.drain()
    writer.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=128)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
'''

REALTIME = []


def program_text(workload, form):
    return PRELUDE + textwrap.dedent(workload["code"]) + DRIVERS[form]


def write_program(tmp, name, form, workload):
    path = os.path.join(tmp, "%s_%s.py" % (name.replace("-", "_"), form))
    with open(path, "w") as f:
        f.write(program_text(workload, form))
    return path


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{") and line.endswith("}"):
            return json.loads(line)
    raise RuntimeError("no JSON line in the program's output: %r" % text[-300:])


def run_real(python, path, args, runs):
    out = []
    for _ in range(runs):
        p = subprocess.run(REALTIME + [python, path] + args, capture_output=True, text=True, timeout=120,
                           cwd=os.path.dirname(path))
        if p.returncode != 0:
            raise RuntimeError("%s failed: %s" % (path, p.stderr.strip()[-400:]))
        out.append(last_json(p.stdout))
    return out


def record_and_derive(cli, python, path, args, tmp, tag):
    rec = os.path.join(tmp, tag + ".itrace")
    scen = os.path.join(tmp, tag + ".json")
    p = subprocess.run(REALTIME + [cli, "record-python", "-o", rec, "--python", python, "--", path] + args,
                       capture_output=True, text=True, timeout=120, cwd=os.path.dirname(path))
    if p.returncode != 0:
        raise RuntimeError("record-python failed: " + p.stderr.strip()[-400:])
    p = subprocess.run([cli, "derive", rec, "-o", scen, "--json"], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("derive failed: " + p.stderr.strip()[-400:])
    return scen, json.loads(p.stdout)


def predict(cli, scen, mode):
    """The simulated makespan and task finishes, measured from the earliest
    task start the scenario gives (when the program began its jobs)."""
    p = subprocess.run([cli, "simulate", scen, "--mode", mode, "--json", "--reference"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("simulate failed: " + (p.stderr or p.stdout).strip()[-400:])
    sim = json.loads(p.stdout)
    with open(scen) as f:
        doc = json.load(f)
    t0 = min(float(t.get("start", 0)) for t in doc["tasks"])
    return {"makespan_ms": sim["makespan_ms"] - t0,
            "finish_ms": {t["name"]: t["finish_ms"] - t0 for t in sim["tasks"]}}


def med_spread(vals):
    m = statistics.median(vals)
    return m, min(vals), max(vals)


def err(real, pred):
    return (pred - real) / real * 100.0 if real else None


def start_server(python, delay):
    p = subprocess.Popen(REALTIME + [python, "-c", SERVER, str(delay)], stdout=subprocess.PIPE, text=True)
    port = p.stdout.readline().strip()
    if not port.isdigit():
        p.kill()
        raise RuntimeError("the request server did not start")
    return p, port


def evaluate(args, name, workload, tmp, emit, notes, summary, ratio_ok):
    server = None
    extra = []
    if workload.get("server"):
        server, port = start_server(args.python, 0.04)
        extra = [port]
    try:
        paths = {form: write_program(tmp, name, form, workload) for form in MODES}
        real = {form: [] for form in MODES}
        preds = {}   # source form -> mode -> [prediction per recording]
        fidelity = {}
        # Rounds: each form once, each recorded form once, so a change in the
        # machine's speed (other work, the cores' clocks) touches all alike.
        for k in range(max(args.runs, args.recordings)):
            for form in MODES:
                if k < args.runs:
                    real[form] += run_real(args.python, paths[form], extra, 1)
            for src in workload["record"]:
                if k >= args.recordings:
                    continue
                scen, check = record_and_derive(args.cli, args.python, paths[src], extra, tmp,
                                                "%s-%s-%d" % (name, src, k))
                fidelity.setdefault(src, []).append(check["makespan_error"] * 100.0)
                for mode in MODES:
                    preds.setdefault(src, {}).setdefault(mode, []).append(predict(args.cli, scen, mode))
    finally:
        if server is not None:
            server.kill()
            server.wait()

    real_ms = {form: med_spread([r["makespan_ms"] for r in real[form]]) for form in MODES}
    for src in workload["record"]:
        fid = statistics.median(fidelity[src])
        for mode in MODES:
            pl = preds[src][mode]
            pm = med_spread([p["makespan_ms"] for p in pl])
            rm = real_ms[mode]
            e = err(rm[0], pm[0])
            # Each job's finish: median over the real runs against the
            # median prediction; the worst relative error among them.
            worst = None
            for job in real[mode][0]["finish_ms"]:
                rv = statistics.median(r["finish_ms"][job] for r in real[mode])
                pv = statistics.median(p["finish_ms"].get(job, float("nan")) for p in pl)
                je = err(rv, pv)
                if je is not None and je == je and (worst is None or abs(je) > abs(worst[1])):
                    worst = (job, je, rv, pv)
            ok = abs(e) <= 10.0
            summary.append(ok)
            # The same against the recorded form, round by round: the
            # machine's speed (other work on the other core slows this one
            # too) cancels out of a ratio taken within one round.
            rr = statistics.median(a["makespan_ms"] / b["makespan_ms"] for a, b in zip(real[mode], real[src]))
            pr = statistics.median(p["makespan_ms"] / q["makespan_ms"] for p, q in zip(pl, preds[src][src]))
            re_ = err(rr, pr)
            ratio_ok.append(abs(re_) <= 10.0)
            emit("| %s | %s | %s%s | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %+.1f | %s | %s | %.2f / %.2f (%+.1f %%) |"
                 % (name, src, mode, " (recorded)" if mode == src else "", rm[0], rm[1], rm[2],
                    pm[0], pm[1], pm[2], e,
                    "%s %.1f→%.1f (%+.1f %%)" % (worst[0], worst[2], worst[3], worst[1]) if worst else "—",
                    "yes" if ok else "**no**", rr, pr, re_))
        notes.append("%s, recorded as %s: derived vs its own recording, makespan error %.1f %% (median of %d)"
                     % (name, src, fid, len(fidelity[src])))
    # The ratios people ask about, real and predicted (from the first
    # recorded form).
    src = workload["record"][0]
    pmed = {m: statistics.median(p["makespan_ms"] for p in preds[src][m]) for m in MODES}
    notes.append("%s ratios (real / predicted from %s): sequential÷threads %.2f / %.2f, "
                 "sequential÷processes %.2f / %.2f, sequential÷asyncio %.2f / %.2f"
                 % (name, src, real_ms["sequential"][0] / real_ms["threads"][0], pmed["sequential"] / pmed["threads"],
                    real_ms["sequential"][0] / real_ms["processes"][0], pmed["sequential"] / pmed["processes"],
                    real_ms["sequential"][0] / real_ms["asyncio"][0], pmed["sequential"] / pmed["asyncio"]))
    for mode in MODES:
        notes.append("%s %s real finishes (median of %d): %s" % (
            name, mode, args.runs, ", ".join("%s %.1f" % (j, statistics.median(r["finish_ms"][j] for r in real[mode]))
                                            for j in sorted(real[mode][0]["finish_ms"]))))


# The block this script owns in validation/RESULTS.md; tools/validate.py
# keeps it when it rewrites the rest of the file.
BEGIN = "<!-- cross-mode: tools/validate-crossmode.py -->"
END = "<!-- /cross-mode -->"


def put_block(path, text):
    try:
        with open(path) as f:
            old = f.read()
    except OSError:
        old = ""
    block = "%s\n%s%s\n" % (BEGIN, text, END)
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END) + 1:]
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + block
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


def default_cli():
    return os.path.join(ROOT, "build", "app", "interleave-cli")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=default_cli(), help="path to interleave-cli")
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable,
                    help="the CPython to measure (it must have the recorder built)")
    ap.add_argument("--runs", type=int, default=5, help="real runs per form (median)")
    ap.add_argument("--recordings", type=int, default=3, help="recordings per recorded form")
    ap.add_argument("--only", help="only workloads whose name contains this")
    ap.add_argument("--realtime", action="store_true", help="run under SCHED_RR (chrt -r 10, needs root)")
    ap.add_argument("--output", help="also write the report (markdown) to this file")
    ap.add_argument("--keep", help="keep the programs, recordings and derived scenarios in this folder")
    ap.add_argument("--results", help="put the report into this markdown file (validation/RESULTS.md) between "
                    "the cross-mode markers, replacing the block there or appending it")
    ap.add_argument("--print-program", nargs=2, metavar=("WORKLOAD", "FORM"),
                    help="print one form of a workload and exit")
    args = ap.parse_args()
    if args.print_program:
        print(program_text(WORKLOADS[args.print_program[0]], args.print_program[1]))
        return
    if args.realtime:
        REALTIME.extend(["chrt", "-r", "10"])

    out = []

    def emit(line=""):
        print(line, flush=True)
        out.append(line)

    version = subprocess.run([args.python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    emit("## Cross-mode: predictions from a recording against real runs of the other forms")
    emit()
    emit("- date: %s; python: %s (%s); cores: %s; load average at the start: %.1f"
         % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), version, args.python, os.cpu_count(),
            os.getloadavg()[0]))
    emit("- %d real runs per form (median, min–max), %d recordings per recorded form (median, min–max of the "
         "predictions); reference parameters%s" % (args.runs, args.recordings,
                                                  "; real runs and recordings under SCHED_RR (`chrt -r 10`)"
                                                  if args.realtime else ""))
    emit("- workloads: " + "; ".join("**%s**: %s" % (n, w["title"]) for n, w in WORKLOADS.items()
                                     if not args.only or args.only in n))
    emit()
    emit("| workload | recorded form | mode | real ms (spread) | predicted ms (spread) | error % "
         "| worst job finish real→predicted | makespan within 10 %? | ÷ recorded form, real / predicted |")
    emit("|---|---|---|---:|---:|---:|---|---|---:|")
    notes = []
    summary = []
    ratio_ok = []
    with tempfile.TemporaryDirectory(prefix="interleave-crossmode-") as scratch:
        tmp = scratch
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            tmp = os.path.abspath(args.keep)
        for name, workload in WORKLOADS.items():
            if args.only and args.only not in name:
                continue
            try:
                evaluate(args, name, workload, tmp, emit, notes, summary, ratio_ok)
            except Exception as e:  # noqa: BLE001 (a report: say what failed and go on)
                emit("| %s | — | — | error: %s | | | | | |" % (name, str(e).replace("|", "/")[:200]))
    emit()
    emit("**%d of %d predictions within 10 %% of the real makespan; %d of %d ratios to the recorded form "
         "within 10 %%.**" % (sum(summary), len(summary), sum(ratio_ok), len(ratio_ok)))
    emit()
    for n in notes:
        emit("- " + n)
    if args.output:
        with open(args.output, "w") as f:
            f.write("\n".join(out) + "\n")
    if args.results:
        put_block(args.results, "\n".join(out) + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
