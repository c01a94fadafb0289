#!/usr/bin/env python3
"""Every bad scenario in tests/bad-input/scenario gets exit status 2 and one
line on stderr naming the file and the place (LINE:COL for syntax, a JSON
path for the rest) -- never a crash, never a hang.  Prints TAP.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import re
import subprocess
import sys

cli = os.environ["INTERLEAVE_CLI"]
corpus = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "tests", "bad-input", "scenario")
place = re.compile(r":\d+:\d+: |: \$[.\[]|: ")

files = sorted(os.listdir(corpus))
print(f"1..{len(files)}")
failures = 0
for n, name in enumerate(files, 1):
    path = os.path.join(corpus, name)
    problem = None
    try:
        r = subprocess.run([cli, "simulate", path], capture_output=True, text=True, timeout=20, errors="replace")
    except subprocess.TimeoutExpired:
        problem = "hung for 20 s"
    else:
        lines = r.stderr.strip().splitlines()
        if r.returncode < 0:
            problem = f"killed by signal {-r.returncode}"
        elif r.returncode != 2:
            problem = f"exit {r.returncode}, expected 2"
        elif len(lines) != 1:
            problem = f"expected one line on stderr, got {lines!r}"
        elif not lines[0].startswith(path):
            problem = f"message does not start with the file name: {lines[0]!r}"
        elif not re.search(r"^.*?:\d+:\d+: ", lines[0]) and "$" not in lines[0]:
            problem = f"message names no place (LINE:COL or $.path): {lines[0]!r}"
    if problem:
        failures += 1
        print(f"not ok {n} - {name}: {problem}")
    else:
        print(f"ok {n} - {name}")
sys.exit(1 if failures else 0)
