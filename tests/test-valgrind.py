#!/usr/bin/env python3
"""The CLI's paths under valgrind memcheck: no invalid reads or writes, no
definite leaks.  Prints TAP.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import shutil
import subprocess
import sys
import tempfile

cli = os.environ["INTERLEAVE_CLI"]
src = os.environ["INTERLEAVE_SOURCE_DIR"]
valgrind = shutil.which("valgrind")
out = tempfile.mkdtemp(prefix="interleave-valgrind-")
lesson = lambda n: os.path.join(src, "data", "lessons", n)
bad = lambda *p: os.path.join(src, "tests", "bad-input", *p)

runs = [
    ("simulate all modes", ["simulate", lesson("07-convoy-effect.json"), "--mode", "all", "--json"]),
    ("simulate asyncio", ["simulate", lesson("15-task-group.json")]),
    ("simulate processes", ["simulate", lesson("05-process-startup-cost.json"), "--mode", "processes"]),
    ("record native", ["record", lesson("10-event-loop.json"), "-o", os.path.join(out, "a.itrace")]),
    ("info native", ["info", os.path.join(out, "a.itrace"), "--json"]),
    ("record chrome", ["record", lesson("06-thread-pool.json"), "-o", os.path.join(out, "a.json")]),
    ("info chrome", ["info", os.path.join(out, "a.json")]),
    ("info truncated chrome", ["info", bad("chrome", "truncated-mid-event.json")]),
    ("info junk", ["info", bad("chrome", "binary-junk.json")]),
    ("bad scenario", ["simulate", bad("scenario", "truncated-object.json")]),
    ("deep scenario", ["simulate", bad("scenario", "deep-nesting.json")]),
    ("render svg", ["render", lesson("02-gil-cpu-threads.json"), "--mode", "all", "-o", os.path.join(out, "a.svg")]),
]

print(f"1..{len(runs)}")
if valgrind is None:
    for i, (name, _) in enumerate(runs, 1):
        print(f"ok {i} - {name} # SKIP valgrind is not installed")
    sys.exit(0)

failures = 0
for i, (name, args) in enumerate(runs, 1):
    supp = os.path.join(src, "tests", "valgrind.supp")
    cmd = [valgrind, "--quiet", "--error-exitcode=99", "--leak-check=full", f"--suppressions={supp}",
           "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", cli] + args
    env = dict(os.environ, G_SLICE="always-malloc", G_DEBUG="gc-friendly")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, errors="replace")
    if r.returncode == 99 or r.returncode < 0:
        failures += 1
        print(f"not ok {i} - {name}")
        for line in r.stderr.splitlines()[:40]:
            print(f"# {line}")
    else:
        print(f"ok {i} - {name}")
shutil.rmtree(out, ignore_errors=True)
sys.exit(1 if failures else 0)
