#!/usr/bin/env python3
"""Every bad scenario in tests/bad-input/scenario gets exit status 2, nothing
on stdout and exactly one line on stderr: "FILE:LINE:COL: what" for syntax,
"FILE:LINE:COL: $.path: what" for the rest -- never a crash (a signal), never
a hang (10 s).  Prints TAP, one line per file; exits 1 if any failed.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import re
import subprocess
import sys

cli = os.environ["INTERLEAVE_CLI"]
corpus = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "tests", "bad-input", "scenario")
TIMEOUT = 10

# after "FILE": ":LINE:COL: ", optionally a JSON path "$", "$.key", "$.tasks[0].steps[1]" and ": "
PLACE = re.compile(r":(\d+):(\d+): (\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*: )?\S")


def check(path):
    """Returns None if the file is refused as it should be, else what is wrong."""
    try:
        r = subprocess.run([cli, "simulate", path], capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"hung for more than {TIMEOUT} s"
    if r.returncode < 0:
        return f"killed by signal {-r.returncode}"
    if r.returncode != 2:
        return f"exit {r.returncode}, expected 2"
    if r.stdout:
        return f"printed on stdout: {r.stdout[:200]!r}"
    try:
        err = r.stderr.decode("utf-8")
    except UnicodeDecodeError:
        return f"stderr is not UTF-8: {r.stderr[:200]!r}"
    if not err.endswith("\n") or err.count("\n") != 1:
        return f"expected exactly one line on stderr, got {err!r}"
    line = err[:-1]
    if not line.startswith(path):
        return f"message does not start with the file name: {line!r}"
    m = PLACE.match(line, len(path))
    if not m:
        return f"no LINE:COL place right after the file name: {line!r}"
    if int(m.group(1)) < 1 or int(m.group(2)) < 1:
        return f"LINE:COL counts from 1: {line!r}"
    if m.group(3) is None and line[m.end() - 1] == "$":
        return f"a JSON path that is not well formed: {line!r}"
    return None


files = sorted(os.listdir(corpus))
print(f"1..{len(files)}")
failures = 0
for n, name in enumerate(files, 1):
    problem = check(os.path.join(corpus, name))
    if problem:
        failures += 1
        print(f"not ok {n} - {name}: {problem}")
    else:
        print(f"ok {n} - {name}")
sys.exit(1 if failures else 0)
