#!/usr/bin/env python3
"""Every damaged trace gets a clear answer from `interleave-cli info`: exit 2
with one line naming the file, or exit 0 with what it could load (and a
warning when the file was cut off) -- never a crash or a hang.  Prints TAP.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import subprocess
import sys

cli = os.environ["INTERLEAVE_CLI"]
corpus = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "tests", "bad-input", "chrome")

# What each file must give: 2 = refused, 0 = loaded what makes sense.
expected = {
    "empty.json": 2, "whitespace.json": 2, "binary-junk.json": 2, "png-header.json": 2,
    "truncated-mid-event.json": 0, "truncated-mid-string.json": 2, "not-a-trace.json": 2,
    "numbers-only.json": 2, "trace-events-not-list.json": 2, "wrong-types.json": 2,
    "nan-infinity.json": 2, "huge-numbers.json": 0, "negative-duration.json": 0,
    "enormous-string.json": 0, "deep-nesting.json": 2, "deep-args.json": 2,
    "duplicate-keys.json": 0, "unknown-phases.json": 0, "unmatched-begin-end.json": 0,
    "flows-without-ends.json": 0, "time-goes-backwards.json": 0, "invalid-utf8.json": 2,
    "nul-bytes.json": 2, "trailing-garbage.json": 0, "single-quotes.json": 2,
}

files = sorted(os.listdir(corpus))
print(f"1..{len(files) + 1}")
failures = 0
n = 0
for name in files:
    n += 1
    path = os.path.join(corpus, name)
    problem = None
    try:
        r = subprocess.run([cli, "info", path], capture_output=True, text=True, timeout=20,
                           errors="replace")
    except subprocess.TimeoutExpired:
        problem = "hung for 20 s"
    else:
        err = r.stderr.strip().splitlines()
        if r.returncode < 0:
            problem = f"killed by signal {-r.returncode}"
        elif name in expected and r.returncode != expected[name]:
            problem = f"exit {r.returncode}, expected {expected[name]}: {r.stderr.strip()[:200]}"
        elif r.returncode == 2 and (len(err) != 1 or not err[0].startswith(path)):
            problem = f"message is not one line naming the file: {err!r}"
        elif r.returncode == 0 and "slices:" not in r.stdout:
            problem = f"loaded but printed no summary: {r.stdout[:200]!r}"
        elif name.startswith("truncated") and r.returncode == 0 and "damaged" not in r.stderr:
            problem = "a cut-off file loaded without a warning"
    if name not in expected:
        problem = problem or None  # new corpus files only need the general rules
    if problem:
        failures += 1
        print(f"not ok {n} - {name}: {problem}")
    else:
        print(f"ok {n} - {name}")

n += 1
missing = sorted(set(expected) - set(files))
if missing:
    failures += 1
    print(f"not ok {n} - corpus files missing: {missing}")
else:
    print(f"ok {n} - the corpus has every expected file")
sys.exit(1 if failures else 0)
