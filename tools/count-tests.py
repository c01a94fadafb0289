#!/usr/bin/env python3
"""Counts the results of meson test runs: one line "N passed, N failed".

A GTest suite run with --tap reports each test case; meson's JSON log keeps
one entry per suite, so this reads the TAP output in the log to count cases.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import re
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        lines = open(f"{build}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        entry = json.loads(line)
        result = entry.get("result")
        out = entry.get("stdout") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
        nots = len(re.findall(r"^not ok \d+", out, re.M))
        if oks or nots:
            passed += oks - skips
            skipped += skips
            failed += nots
            if result not in ("OK", "SKIP", "EXPECTEDFAIL") and nots == 0:
                failed += 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
if skipped:
    print(f"({skipped} skipped: their inputs, such as ../shared/traces, are not on this machine)")
print(f"{passed} passed, {failed} failed")
