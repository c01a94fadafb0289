#!/usr/bin/env python3
"""interleave-cli as scripts use it: exit codes, the text summary, the --json
contract, --mode all, the options that change a run, render/record/info,
and determinism.  Prints TAP; exits 1 if anything failed.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

CLI = os.environ["INTERLEAVE_CLI"]
SRC = os.environ["INTERLEAVE_SOURCE_DIR"]
LESSONS = os.path.join(SRC, "data", "lessons")
TMP = tempfile.mkdtemp(prefix="interleave-cli-test-")
# Every run sees an empty configuration unless a case puts a calibration
# there: the user's own must never change what these tests expect.
os.environ["XDG_CONFIG_HOME"] = os.path.join(TMP, "config")
MODES = ["sequential", "asyncio", "threads", "free-threading", "processes"]

results = []


def lesson(name):
    return os.path.join(LESSONS, name)


def run(*args, timeout=120):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def sim_json(*args):
    r = run("simulate", *args, "--json")
    if r.returncode != 0:
        raise AssertionError(f"exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def case(fn):
    try:
        fn()
    except Exception as e:  # a broken case is a failed case, not a crashed script
        check(fn.__name__, False, repr(e))
    return fn


@case
def summary_text():
    r = run("simulate", lesson("07-convoy-effect.json"))
    check("simulate prints a summary and exits 0", r.returncode == 0 and "makespan" in r.stdout
          and "io_thread" in r.stdout and "GIL switches" in r.stdout, r.stderr)


@case
def json_contract():
    d = sim_json(lesson("07-convoy-effect.json"))
    check("--json has mode and makespan_ms", d["mode"] == "threads" and isinstance(d["makespan_ms"], (int, float)))
    names = [t["name"] for t in d["tasks"]]
    check("--json lists every task by name", names == ["io_thread", "cpu_thread"], names)
    keys = {"name", "start_ms", "finish_ms", "cpu_ms", "gil_wait_ms"}
    check("--json tasks carry start/finish/cpu/gil_wait", all(keys <= set(t) for t in d["tasks"]))
    cpu = {t["name"]: t["cpu_ms"] for t in d["tasks"]}
    check("cpu_ms equals the CPU the scenario asks for", abs(cpu["cpu_thread"] - 1000) < 1e-6
          and abs(cpu["io_thread"] - 5.0) < 1e-6, cpu)
    check("the makespan is the last finish", abs(d["makespan_ms"] - max(t["finish_ms"] for t in d["tasks"])) < 1e-6)
    io = next(t for t in d["tasks"] if t["name"] == "io_thread")
    check("the convoy: the I/O thread waits for the GIL most of its life", io["gil_wait_ms"] > 400, io)


@case
def mode_all():
    d = sim_json(lesson("02-gil-cpu-threads.json"), "--mode", "all")
    check("--mode all has an object per mode", sorted(d["modes"]) == sorted(MODES), list(d["modes"]))
    seq = d["modes"]["sequential"]["makespan_ms"]
    ok = all(abs(m["speedup"] - seq / m["makespan_ms"]) < 1e-3 for m in d["modes"].values())
    check("each mode's speedup is sequential / its makespan", ok)
    check("CPU-bound threads do not beat sequential (the GIL)", d["modes"]["threads"]["speedup"] < 1.05)
    check("processes and free-threading use both cores", d["modes"]["processes"]["speedup"] > 1.5
          and d["modes"]["free-threading"]["speedup"] > 1.5)
    one = sim_json(lesson("02-gil-cpu-threads.json"), "--mode", "threads")
    check("--mode all agrees with a single-mode run", abs(one["makespan_ms"] - d["modes"]["threads"]["makespan_ms"]) < 1e-9)


@case
def mode_all_with_a_failing_mode():
    # Sequential code deadlocks on a full queue that only a later task drains;
    # the other modes still run and print, and the exit status says one failed.
    f = lesson("19-producer-consumer.json")
    r = run("simulate", f, "--mode", "all", "--json")
    d = json.loads(r.stdout)
    seq = d["modes"]["sequential"]
    check("--mode all: a failed mode has its error and no numbers", r.returncode == 1
          and "deadlock" in seq.get("error", "") and "makespan_ms" not in seq, (r.returncode, seq))
    ok = [m for m in MODES if m != "sequential" and d["modes"][m]["makespan_ms"] > 0
          and "speedup" not in d["modes"][m]]
    check("--mode all: the other modes still run, with no speed-up against a failed baseline",
          len(ok) == len(MODES) - 1, ok)
    t = run("simulate", f, "--mode", "all")
    check("--mode all text: the failed mode's row says why, the others have makespans", t.returncode == 1
          and "sequential      failed: deadlock" in t.stdout and t.stdout.count(" — ") >= 1
          and "deadlock" in t.stderr, t.stdout)


@case
def options_change_the_run():
    two = sim_json(lesson("04-processes-parallel.json"), "--mode", "processes", "--cores", "2")
    one = sim_json(lesson("04-processes-parallel.json"), "--mode", "processes", "--cores", "1")
    check("--cores 1 makes processes slower than --cores 2", one["makespan_ms"] > 1.5 * two["makespan_ms"],
          (one["makespan_ms"], two["makespan_ms"]))
    check("--cores is reported", one["cores"] == 1 and two["cores"] == 2)
    fast = sim_json(lesson("07-convoy-effect.json"), "--switch-interval", "1")
    slow = sim_json(lesson("07-convoy-effect.json"), "--switch-interval", "20")
    f = next(t for t in fast["tasks"] if t["name"] == "io_thread")["finish_ms"]
    s = next(t for t in slow["tasks"] if t["name"] == "io_thread")["finish_ms"]
    check("a shorter switch interval shortens the convoy", f < s / 4, (f, s))
    check("--switch-interval is reported", fast["switch_interval_ms"] == 1)
    spawn = sim_json(lesson("05-process-startup-cost.json"), "--mode", "processes", "--param", "start_method=spawn")
    fork = sim_json(lesson("05-process-startup-cost.json"), "--mode", "processes", "--param", "start_method=fork",
                    "--param", "fork_ms=1")
    check("--param sets any model parameter (spawn is slower than a 1 ms fork)",
          spawn["makespan_ms"] > fork["makespan_ms"], (spawn["makespan_ms"], fork["makespan_ms"]))
    w1 = sim_json(lesson("06-thread-pool.json"), "--mode", "threads", "--workers", "1")
    w4 = sim_json(lesson("06-thread-pool.json"), "--mode", "threads", "--workers", "4")
    check("--workers is honoured", w1["workers"] == 1 and w4["workers"] == 4 and w1["makespan_ms"] != w4["makespan_ms"])


@case
def deterministic():
    a = run("simulate", lesson("16-http-requests.json"), "--mode", "all", "--json").stdout
    b = run("simulate", lesson("16-http-requests.json"), "--mode", "all", "--json").stdout
    check("the same input gives the same output, byte for byte", a == b and len(a) > 100)


@case
def bad_usage():
    for args, what in [(["simulate"], "no file"), (["simulate", lesson("01-sync-vs-async.json"), "--mode", "fast"], "unknown mode"),
                       (["simulate", lesson("01-sync-vs-async.json"), "--cores", "0"], "zero cores"),
                       (["simulate", lesson("01-sync-vs-async.json"), "--bogus"], "unknown option"),
                       (["simulate", os.path.join(TMP, "missing.json")], "missing file"),
                       (["frobnicate"], "unknown command"),
                       (["render", lesson("01-sync-vs-async.json"), "-o", os.path.join(TMP, "x.jpeg")], "unknown image type"),
                       (["info", os.path.join(TMP, "missing.json")], "missing trace")]:
        r = run(*args)
        check(f"{what}: exit 2 with a message on stderr", r.returncode == 2 and r.stderr.strip() != "", (r.returncode, r.stderr))


@case
def render_images():
    for ext, magic in [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")]:
        out = os.path.join(TMP, f"t.{ext}")
        r = run("render", lesson("02-gil-cpu-threads.json"), "--mode", "all", "--from", "10", "--to", "60", "-o", out)
        with open(out, "rb") as f:
            head = f.read(32)
        check(f"render writes {ext.upper()}", r.returncode == 0 and head.startswith(magic), r.stderr)
    out = os.path.join(TMP, "size.png")
    run("render", lesson("07-convoy-effect.json"), "--width", "900", "--height", "500", "-o", out)
    with open(out, "rb") as f:
        w, h = struct.unpack(">II", f.read(24)[16:24])
    check("render honours --width and --height", (w, h) == (900, 500), (w, h))
    out2 = os.path.join(TMP, "scaled.png")
    run("render", lesson("07-convoy-effect.json"), "--width", "900", "--height", "500", "--scale", "2", "-o", out2)
    with open(out2, "rb") as f:
        w, h = struct.unpack(">II", f.read(24)[16:24])
    check("render --scale 2 doubles the pixels", (w, h) == (1800, 1000), (w, h))


@case
def record_and_info():
    native = os.path.join(TMP, "run.itrace")
    chrome = os.path.join(TMP, "run.json")
    r1 = run("record", lesson("10-event-loop.json"), "-o", native)
    r2 = run("record", lesson("10-event-loop.json"), "-o", chrome)
    check("record writes a native and a Chrome trace", r1.returncode == 0 and r2.returncode == 0
          and os.path.getsize(native) > 100 and os.path.getsize(chrome) > 100, r1.stderr + r2.stderr)
    with open(chrome) as f:
        doc = json.load(f)
    check("the Chrome export is a traceEvents object", isinstance(doc.get("traceEvents"), list) and doc["traceEvents"])
    a = json.loads(run("info", native, "--json").stdout)
    b = json.loads(run("info", chrome, "--json").stdout)
    check("info reads both formats", a["format"] == "interleave" and b["format"] == "chrome")
    d = sim_json(lesson("10-event-loop.json"))
    check("info's span is the run's makespan", abs(a["span_ms"] - d["makespan_ms"]) < 1e-6, (a["span_ms"], d["makespan_ms"]))
    # The export adds tracks of its own (cores, the GIL, the loop) to the task lanes.
    check("info counts the lanes with slices", a["threads"] == 4 and b["threads"] >= a["threads"] + 3, (a, b))


def args_lines(path):
    """The lines info --args prints for a trace: one per slice with args."""
    r = run("info", "--args", path)
    if r.returncode != 0:
        raise AssertionError(f"info --args {path}: exit {r.returncode}: {r.stderr}")
    lines = r.stdout.splitlines()
    at = [i for i, line in enumerate(lines) if line.startswith("  args:")]
    return lines[at[0]:] if at else []


@case
def imported_args_kept():
    """A Chrome trace converted to .itrace shows the same args (E args merged
    into their B/E slice), and info --json only gains fields."""
    traces = os.path.join(SRC, "tests", "traces")
    shared = os.environ.get("INTERLEAVE_SHARED_TRACES", os.path.join(SRC, "..", "shared", "traces"))
    files = [os.path.join(traces, n) for n in ("viztracer-args.json", "begin-end-args.json", "pytorch-epoch.json.gz")]
    real = os.path.join(shared, "viztracer_function_args_return.json")
    if os.path.exists(real):
        files.append(real)
    for src in files:
        name = os.path.basename(src)
        out = os.path.join(TMP, name + ".itrace")
        again = os.path.join(TMP, name + "-again.itrace")
        r = run("convert", src, "-o", out)
        check(f"convert {name} to .itrace", r.returncode == 0 and os.path.getsize(out) > 100, r.stderr)
        before, after = args_lines(src), args_lines(out)
        check(f"{name}: the saved trace shows the same args", len(before) > 1 and before == after, (before, after))
        r = run("convert", out, "-o", again)
        with open(out, "rb") as f1, open(again, "rb") as f2:
            check(f"{name}: saving the loaded trace again gives the same bytes", r.returncode == 0
                  and f1.read() == f2.read(), r.stderr)
        a = json.loads(run("info", "--json", src).stdout)
        b = json.loads(run("info", "--json", out).stdout)
        check(f"{name}: info --json counts the same slices with args", a["slices_with_args"] == b["slices_with_args"]
              == len(before) - 1 and b["slice_args_not_kept"] == 0, (a, b))
        # The fields info --json printed before args were counted are all still there.
        old_native = {"file", "format", "slices", "threads", "processes", "span_ms", "events", "skipped"}
        check(f"{name}: info --json keeps its fields", old_native <= set(b) and b["format"] == "interleave"
              and b["events"] == a["events"], b)
    doc = json.loads(run("info", "--json", os.path.join(traces, "nestable-async.json")).stdout)
    check("a trace without args has none counted", doc["slices_with_args"] == 0, doc)
    r = run("info", "--args", os.path.join(traces, "begin-end-args.json"))
    check("an E event's args are merged into its slice's", '  request: {"url":"/a","status":200,"size":512}' in r.stdout
          and "  tie: {\"at\":\"end\"}" in r.stdout, r.stdout)


def write_scenario(name, doc):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


# Defaults of the model (core/il-params.c) that the exact numbers below follow from.
FORK_MS = 2.0  # core/il-params.c: fork_ms
THREAD_START_MS = 0.125
TASK_STEP_MS = 0.002
FREE_THREADING_OVERHEAD = 0.10


@case
def exact_small_scenario():
    two = write_scenario("two.json", {"tasks": [{"name": "a", "steps": [{"cpu": 100}]},
                                                {"name": "b", "steps": [{"cpu": 100}]}]})
    seq = sim_json(two, "--mode", "sequential")
    check("sequential: two 100 ms CPU tasks take exactly 200 ms", seq["makespan_ms"] == 200.0, seq["makespan_ms"])
    check("sequential: one after the other",
          [(t["start_ms"], t["finish_ms"]) for t in seq["tasks"]] == [(0.0, 100.0), (100.0, 200.0)], seq["tasks"])
    check("cpu_ms is each task's CPU in sequential, threads and processes",
          all(t["cpu_ms"] == 100.0 for m in ("sequential", "threads", "processes")
              for t in sim_json(two, "--mode", m)["tasks"]))
    check("in asyncio cpu_ms also counts one Task.__step (task_step_ms)",
          all(abs(t["cpu_ms"] - (100 + TASK_STEP_MS)) < 1e-9 for t in sim_json(two, "--mode", "asyncio")["tasks"]))
    p2 = sim_json(two, "--mode", "processes", "--cores", "2")
    p1 = sim_json(two, "--mode", "processes", "--cores", "1")
    check("processes on 2 cores: forked one by one, then in parallel",
          abs(p2["makespan_ms"] - (2 * FORK_MS + 100)) < 1e-9, p2["makespan_ms"])
    check("processes on 1 core: everything adds up", abs(p1["makespan_ms"] - (2 * FORK_MS + 200)) < 1e-9
          and p1["utilisation"] == 1.0, (p1["makespan_ms"], p1["utilisation"]))
    ft = sim_json(two, "--mode", "free-threading")
    slower = 1 + FREE_THREADING_OVERHEAD
    check("free-threading: in parallel, Python code 10% slower, no GIL",
          abs(ft["makespan_ms"] - (2 * THREAD_START_MS * slower + 100 * slower)) < 1e-6
          and ft["gil_switches"] == 0 and ft["total_gil_wait_ms"] == 0, ft["makespan_ms"])
    th = sim_json(two, "--mode", "threads")
    check("threads: the GIL switches and both threads wait for it",
          th["gil_switches"] > 0 and th["forced_switches"] > 0
          and all(t["gil_wait_ms"] > 90 for t in th["tasks"]) and th["makespan_ms"] >= 200, th)
    check("utilisation is the mean of the per-core utilisations, within [0, 1]",
          all(0 <= d["utilisation"] <= 1 and len(d["core_utilisation"]) == d["cores"]
              and abs(sum(d["core_utilisation"]) / d["cores"] - d["utilisation"]) < 1e-5
              for d in (seq, p1, p2, ft, th)))


@case
def text_agrees_with_json():
    path = lesson("02-gil-cpu-threads.json")
    text = run("simulate", path).stdout
    d = sim_json(path)
    line = next((l for l in text.splitlines() if l.startswith("makespan:")), "")
    value = float(line.split()[1]) if line else -1
    check("the text makespan is the JSON makespan", abs(value - d["makespan_ms"]) < 0.0005, (line, d["makespan_ms"]))
    check("the text names every task", all(t["name"] in text for t in d["tasks"]))


@case
def every_lesson_runs():
    bad = []
    for name in sorted(os.listdir(LESSONS)):
        if not name.endswith(".json"):
            continue
        r = run("simulate", lesson(name), "--json")
        try:
            d = json.loads(r.stdout)
            ok = (r.returncode == 0 and d["mode"] in MODES and d["makespan_ms"] > 0 and d["tasks"]
                  and all(0 <= t["start_ms"] <= t["finish_ms"] <= d["makespan_ms"] + 1e-9 for t in d["tasks"]))
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            bad.append((name, r.returncode, r.stderr[:200]))
    check("every lesson simulates with --json, tasks inside the makespan", not bad, bad)


@case
def usage_messages():
    good = lesson("01-sync-vs-async.json")
    r = run("simulate", good, "--bogus")
    check("an unknown option is named on stderr, nothing on stdout",
          r.returncode == 2 and "--bogus" in r.stderr and r.stdout == "", r.stderr)
    missing = os.path.join(TMP, "missing.json")
    r = run("simulate", missing)
    check("a missing file is named on stderr", r.returncode == 2 and "missing.json" in r.stderr and r.stdout == "", r.stderr)
    r = run("simulate", good, "--switch-interval", "0")
    check("--switch-interval 0 is refused", r.returncode == 2 and "--switch-interval" in r.stderr, r.stderr)
    r = run("simulate", good, "--cores", "257")
    check("--cores above 256 is refused", r.returncode == 2 and "--cores" in r.stderr, r.stderr)
    r = run("simulate", good, "--param", "os_slice_ms=0")
    check("--param os_slice_ms=0 is refused naming the field and the limit",
          r.returncode == 2 and "os_slice_ms=0" in r.stderr and "0.001 ms" in r.stderr and r.stdout == "", r.stderr)
    r = run("simulate", good, "--param", "no_such_ms=1")
    check("--param with an unknown key lists the keys", r.returncode == 2 and "os_slice_ms" in r.stderr, r.stderr)
    r = run("--help")
    check("--help prints the usage on stdout and exits 0", r.returncode == 0 and "Usage" in r.stdout, r.returncode)
    r = run()
    check("no command: exit 2 with the usage on stderr", r.returncode == 2 and "Usage" in r.stderr, r.returncode)


@case
def calibrate():
    # A tiny probe budget: every probe still runs (at least three samples,
    # one process per start method) in a couple of seconds.
    config = os.environ["XDG_CONFIG_HOME"]
    path = os.path.join(config, "interleave", "calibration.json")
    two = os.path.join(TMP, "calibrate-two-processes.json")
    with open(two, "w") as f:
        json.dump({"title": "two", "mode": "processes", "cores": 2,
                   "tasks": [{"name": "a", "steps": [{"cpu": 100}]}, {"name": "b", "steps": [{"cpu": 100}]}]}, f)
    before = sim_json(two)
    check("without a calibration the reference parameters are used", before["parameters"] == "reference", before)
    r = run("calibrate", "--budget", "0", "--python", sys.executable, "--json", timeout=300)
    check("calibrate exits 0 and prints JSON", r.returncode == 0 and r.stdout.lstrip().startswith("{"), r.stderr)
    check("calibrate keeps the file in the user's configuration, without a temporary left",
          os.path.isfile(path) and os.listdir(os.path.dirname(path)) == ["calibration.json"],
          os.listdir(os.path.dirname(path)) if os.path.isdir(os.path.dirname(path)) else "no folder")
    saved = json.load(open(path))
    names = {"wake_latency_ms", "timer_slack_ms", "loop_iteration_ms", "task_step_ms", "task_create_ms",
             "thread_start_ms", "pool_item_ms", "fork_ms", "forkserver_ms", "spawn_ms", "ipc_item_ms"}
    import platform
    check("the file holds every measured parameter, the Python version and the date",
          set(saved["params"]) == names and saved["python"] == platform.python_version()
          and saved["measured_at"].endswith("Z")
          and all(0 <= v < 60000 for v in saved["params"].values()), saved)
    check("--json prints what the file holds", json.loads(r.stdout)["params"] == saved["params"])
    # Make the effect exact: a known fork cost, then two forked processes.
    saved["params"]["fork_ms"] = 7.5
    with open(path, "w") as f:
        json.dump(saved, f)
    d = sim_json(two)
    check("simulate uses the calibration and says so",
          d["parameters"].startswith("calibrated on " + saved["measured_at"][:10])
          and d["parameters"].endswith("with Python " + saved["python"])
          and abs(d["makespan_ms"] - (2 * 7.5 + 100)) < 1e-9, (d["parameters"], d["makespan_ms"]))
    ref = sim_json(two, "--reference")
    check("--reference goes back to the built-in values",
          ref["parameters"] == "reference" and abs(ref["makespan_ms"] - before["makespan_ms"]) < 1e-9, ref)
    text = run("simulate", two).stdout
    check("the text summary names the source of the numbers", "parameters: calibrated on" in text, text[:200])
    # A scenario's own params win over the calibration.
    own = os.path.join(TMP, "calibrate-own.json")
    with open(own, "w") as f:
        json.dump({"title": "own", "mode": "processes", "cores": 2, "params": {"fork_ms": 3},
                   "tasks": [{"name": "a", "steps": [{"cpu": 100}]}, {"name": "b", "steps": [{"cpu": 100}]}]}, f)
    check("a scenario's own params win", abs(sim_json(own)["makespan_ms"] - 106) < 1e-9)
    with open(path, "w") as f:
        f.write('{"python": "3.11.7", "params": {"fork_ms": "fast"}}')
    r = run("simulate", two, "--json")
    check("a broken calibration is named with its place, and the reference values are used",
          r.returncode == 0 and "calibration.json" in r.stderr and "$.params.fork_ms" in r.stderr
          and json.loads(r.stdout)["parameters"] == "reference", r.stderr)
    r = run("calibrate", "--python", os.path.join(TMP, "no-such-python"))
    check("calibrate with a missing interpreter: exit 2 and its name", r.returncode == 2
          and "no-such-python" in r.stderr, (r.returncode, r.stderr))
    os.remove(path)


@case
def deterministic_text():
    a = run("simulate", lesson("07-convoy-effect.json"), "--mode", "all")
    b = run("simulate", lesson("07-convoy-effect.json"), "--mode", "all")
    check("the text summary is the same twice", a.returncode == 0 and a.stdout == b.stdout and "makespan" in a.stdout)


print(f"1..{len(results)}")
failed = 0
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        failed += 1
        print(f"# {detail}")
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if failed else 0)
