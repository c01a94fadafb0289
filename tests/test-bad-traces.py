#!/usr/bin/env python3
"""Every damaged trace gets a clear answer from `interleave-cli info`: exit 2
with one line naming the file, or exit 0 with what it could load (and a
warning when the file was cut off) -- never a crash or a hang.  Prints TAP.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

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
    "gzip-cut.json": 0, "gzip-junk.json": 2, "trailing-comma.json": 0,
}

# Native traces whose run configuration no engine can run: the loader must
# refuse them naming the file and the field (os_slice_ns=0 used to hang the
# window when the mode changed).  Made by recording a lesson and editing the
# CONF text in place (same length), then sealing the CRC-32 again.
native_cases = [
    ("os_slice_ns=3000000\n", "os_slice_ns=0000000\n", "os_slice_ns"),
    ("cores=2\n", "cores=0\n", "cores"),
    ("switch_interval_ns=5000000\n", "switch_interval_ns=5000abc\n", "switch_interval_ns"),
]

files = sorted(os.listdir(corpus))
# Native traces with a damaged slice args section (made by
# tests/bad-input/make-bad-traces.py): refused, naming the file and the byte.
native_corpus = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "tests", "bad-input", "trace")
native_files = sorted(f for f in os.listdir(native_corpus) if f.endswith(".itrace"))
traces = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "tests", "traces")
# File names JSON must escape, and bytes that are not UTF-8.
odd_names = [b'quo"te.json', b'back\\slash.json', b'ctl\x01\x1f\ttab.json', b'bad-\xff\xfe-utf8.json',
             b'new\nline.json']
print(f"1..{len(files) + 1 + len(native_files) + 1 + len(native_cases) + 1 + len(odd_names) + 2}")
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
        elif (name.startswith("truncated") or name == "gzip-cut.json") and r.returncode == 0 \
                and "damaged" not in r.stderr:
            problem = "a cut-off file loaded without a warning"
        elif name.startswith("gzip") and "gzip" not in r.stderr:
            problem = f"the message does not say gzip: {r.stderr.strip()[:200]}"
        elif name == "trailing-comma.json" and "slices:     2" not in r.stdout:
            problem = f"a trailing comma lost events: {r.stdout[:200]!r}"
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

for name in native_files:
    n += 1
    path = os.path.join(native_corpus, name)
    problem = None
    try:
        r = subprocess.run([cli, "info", path], capture_output=True, text=True, timeout=20, errors="replace")
    except subprocess.TimeoutExpired:
        problem = "hung for 20 s"
    else:
        err = r.stderr.strip().splitlines()
        if r.returncode != 2:
            problem = f"exit {r.returncode}, expected 2: {r.stderr.strip()[:200]}"
        elif len(err) != 1 or not err[0].startswith(path + ": byte "):
            problem = f"message is not one line naming the file and the byte: {err!r}"
    if problem:
        failures += 1
        print(f"not ok {n} - {name}: {problem}")
    else:
        print(f"ok {n} - {name} is refused: {r.stderr.strip()[len(path) + 2:]}")
n += 1
if len(native_files) < 12:
    failures += 1
    print(f"not ok {n} - the native corpus has {len(native_files)} files, expected 12")
else:
    print(f"ok {n} - the native corpus has every file")

lesson = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "data", "lessons", "07-convoy-effect.json")
with tempfile.TemporaryDirectory() as tmp:
    good = os.path.join(tmp, "good.itrace")
    r = subprocess.run([cli, "record", lesson, "-o", good], capture_output=True, text=True, timeout=60)
    data = open(good, "rb").read() if r.returncode == 0 else b""
    for old, new, field in native_cases:
        n += 1
        path = os.path.join(tmp, f"bad-{field}.itrace")
        problem = None
        if old.encode() not in data:
            problem = f"the recorded trace has no {old.strip()!r} to edit (record: {r.stderr.strip()[:200]})"
        else:
            bad = data.replace(old.encode(), new.encode(), 1)
            bad = bad[:-4] + zlib.crc32(bad[:-4]).to_bytes(4, "little")
            open(path, "wb").write(bad)
            try:
                res = subprocess.run([cli, "info", path], capture_output=True, text=True, timeout=20)
            except subprocess.TimeoutExpired:
                problem = "hung for 20 s"
            else:
                err = res.stderr.strip().splitlines()
                if res.returncode != 2:
                    problem = f"exit {res.returncode}, expected 2: {res.stderr.strip()[:200]}"
                elif len(err) != 1 or not err[0].startswith(path) or field not in err[0]:
                    problem = f"message is not one line naming the file and {field}: {err!r}"
        if problem:
            failures += 1
            print(f"not ok {n} - {field} out of range in a native trace: {problem}")
        else:
            print(f"ok {n} - {field} out of range in a native trace is refused")

# A trace with queues is format version 3 (IL_CAUSE_QUEUE is new): the same
# bytes marked version 2 hold a cause version 2 did not have, and are refused.
n += 1
queue_lesson = os.path.join(os.environ["INTERLEAVE_SOURCE_DIR"], "data", "lessons", "19-producer-consumer.json")
with tempfile.TemporaryDirectory() as tmp:
    good = os.path.join(tmp, "queues.itrace")
    path = os.path.join(tmp, "queues-as-v2.itrace")
    r = subprocess.run([cli, "record", queue_lesson, "--mode", "threads", "-o", good], capture_output=True,
                       text=True, timeout=60)
    data = bytearray(open(good, "rb").read()) if r.returncode == 0 else bytearray()
    problem = None
    if len(data) < 12 or data[8] != 3:
        problem = f"the recorded trace is not version 3 ({r.stderr.strip()[:200]})"
    else:
        data[8] = 2
        bad = bytes(data[:-4]) + zlib.crc32(bytes(data[:-4])).to_bytes(4, "little")
        open(path, "wb").write(bad)
        res = subprocess.run([cli, "info", path], capture_output=True, text=True, timeout=20)
        err = res.stderr.strip().splitlines()
        if res.returncode != 2 or len(err) != 1 or not err[0].startswith(path) or "cause" not in err[0]:
            problem = f"exit {res.returncode}: {res.stderr.strip()[:200]}"
    if problem:
        failures += 1
        print(f"not ok {n} - a queue trace marked version 2: {problem}")
    else:
        print(f"ok {n} - a queue trace marked version 2 is refused (its cause is new in version 3)")

# info --json is valid JSON for any file name, and carries what the text says.
tmp = tempfile.mkdtemp(prefix="interleave-bad-traces-")
src = os.path.join(traces, "skipped-reasons.json")
for raw in odd_names:
    n += 1
    path = os.path.join(os.fsencode(tmp), raw)
    shutil.copyfile(src, path)
    r = subprocess.run([os.fsencode(cli), b"info", b"--json", path], capture_output=True, timeout=20)
    problem = None
    try:
        doc = json.loads(r.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        problem = f"not JSON ({e}): {r.stdout[:200]!r}"
    else:
        want = os.fsdecode(path)
        got = doc["file"]
        if raw.startswith(b"bad-"):
            want = path.decode("utf-8", errors="replace")
        if got != want:
            problem = f"file is {got!r}, expected {want!r}"
        elif doc["skipped_phases"].get("P") != 2 or doc["skipped_reasons"].get("time-out-of-range") != 2:
            problem = f"no per-phase breakdown: {doc}"
    if r.returncode != 0:
        problem = f"exit {r.returncode}: {r.stderr[:200]!r}"
    if problem:
        failures += 1
        print(f"not ok {n} - info --json {raw!r}: {problem}")
    else:
        print(f"ok {n} - info --json {raw!r}")
shutil.rmtree(tmp)

# The text output and the JSON say the same about what was skipped.
n += 1
text = subprocess.run([cli, "info", src], capture_output=True, text=True, timeout=20).stdout
doc = json.loads(subprocess.run([cli, "info", "--json", src], capture_output=True, text=True, timeout=20).stdout)
breakdown = ", ".join(f"{k}: {v}" for k, v in doc["skipped_phases"].items())
if f"({breakdown})" not in text or any(line not in text for line in doc["skipped_why"]) \
        or "2 events had timestamps beyond" not in text:
    failures += 1
    print(f"not ok {n} - text and JSON disagree on skipped events: {text!r} {doc!r}")
else:
    print(f"ok {n} - text and JSON agree on skipped events, in words")

# gzip is read, and said.
n += 1
r = subprocess.run([cli, "info", "--json", os.path.join(traces, "pytorch-epoch.json.gz")],
                   capture_output=True, text=True, timeout=20)
doc = json.loads(r.stdout) if r.returncode == 0 else {}
if doc.get("compression") != "gzip" or doc.get("slices") != 5 or doc.get("metadata_only_processes") != 1:
    failures += 1
    print(f"not ok {n} - gzip trace: {r.stdout[:300]!r} {r.stderr[:300]!r}")
else:
    print(f"ok {n} - gzip trace read and named")
sys.exit(1 if failures else 0)
