#!/usr/bin/env python3
"""interleave-cli code and narrate: the code view and the narration as text,
their options and exit codes.  Prints TAP; exits 1 if anything failed.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import ast
import os
import subprocess
import sys

CLI = os.environ["INTERLEAVE_CLI"]
SRC = os.environ["INTERLEAVE_SOURCE_DIR"]
LESSONS = os.path.join(SRC, "data", "lessons")

results = []


def lesson(name):
    return os.path.join(LESSONS, name)


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120)


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def case(fn):
    try:
        fn()
    except Exception as e:  # a broken case is a failed case, not a crashed script
        check(fn.__name__, False, repr(e))
    return fn


@case
def code_per_mode():
    r = run("code", lesson("13-offload-to-thread.json"))
    check("code prints the asyncio program", r.returncode == 0
          and "async def crunch_a():\n    await asyncio.to_thread(crunch, 200)\n" in r.stdout, r.stderr)
    ast.parse(r.stdout)
    r = run("code", lesson("13-offload-to-thread.json"), "--mode", "threads")
    check("code --mode threads prints threads", r.returncode == 0
          and "def crunch_a():\n    crunch(200)\n" in r.stdout and "threading.Thread(target=task)" in r.stdout,
          r.stderr)
    for name in sorted(os.listdir(LESSONS)):
        for mode in ["sequential", "asyncio", "threads", "free-threading", "processes"]:
            r = run("code", lesson(name), "--mode", mode)
            ast.parse(r.stdout)
    check("every lesson's code parses as Python in every mode", True)


@case
def code_at():
    r = run("code", lesson("12-blocking-in-coroutine.json"), "--at", "100")
    lines = r.stdout.splitlines()
    marked = [l for l in lines if l.startswith("> ")]
    # the ticker's wake-up waits behind the blocking call, which is on its I/O line
    check("code --at marks the line each task is on", r.returncode == 0 and len(marked) == 2
          and any("blocking_io(0.2)" in l and "# <- blocking_fetch" in l for l in marked)
          and any("await asyncio.sleep(0.005)" in l and "# <- ticker" in l for l in marked), r.stdout)


@case
def narrate_steps():
    r = run("narrate", lesson("03-gil-switch-interval.json"), "--from", "5", "--steps", "3")
    lines = r.stdout.splitlines()
    check("narrate tells the requested number of steps", r.returncode == 0 and len(lines) == 3, r.stdout)
    check("narrate says a waiter sets a drop request", "sets a drop request on" in lines[0], r.stdout)
    check("narrate lines carry the time and the zoom range", lines[0].split()[1] == "ms" and "[" in lines[0]
          and float(lines[0].split()[0]) > 5, r.stdout)


@case
def bad_input():
    for args, what in [(["code"], "no file"), (["code", "missing.json"], "missing file"),
                       (["code", lesson("01-sync-vs-async.json"), "--at", "soon"], "bad --at"),
                       (["code", lesson("01-sync-vs-async.json"), "--mode", "all"], "--mode all"),
                       (["narrate", lesson("01-sync-vs-async.json"), "--steps", "0"], "zero steps"),
                       (["narrate", lesson("01-sync-vs-async.json"), "--from", "-3"], "negative --from")]:
        r = run(*args)
        check(f"{what}: exit 2 with a message on stderr", r.returncode == 2 and r.stderr.strip() != "", r.stderr)


print(f"1..{len(results)}")
failed = 0
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        failed += 1
        for line in str(detail).splitlines():
            print(f"# {line}")
sys.exit(1 if failed else 0)
