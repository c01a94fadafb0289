#!/usr/bin/env python3
"""How much slower a program runs while recorded: a GIL-heavy threads
program, an asyncio program of thousands of task steps, threads taking
one lock many times (every acquire goes through the recorder), threads
taking a semaphore and waiting on a set Event many times (each call looks
up the object's number), and producer/consumer programs passing items
through a queue.Queue and an asyncio.Queue (every put and get is
recorded), each timed by the program itself (start-up and conversion
excluded), recorded and not, alternating, N runs each.  Prints median and
spread of the wall time and of the process's CPU time (all its threads,
the recorder's sampler included), and the slowdowns.  On a machine shared
with other work the wall time varies more than the recorder costs; the
CPU time does not.

  bench/recorder-overhead.py [--runs N] [--python PATH] [--recorder DIR] [--only WORD]

SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

THREADS = r"""
import threading, time
def f(x):
    return x + 1
def work():
    x = 0
    for i in range(300_000):
        x = f(x)
ts = [threading.Thread(target=work) for _ in range(4)]
t0 = time.perf_counter(); c0 = time.process_time()
for t in ts: t.start()
for t in ts: t.join()
print(time.perf_counter() - t0, time.process_time() - c0)
"""

LOCKS = r"""
import threading, time
lock = threading.Lock()
def work():
    for i in range(50_000):
        with lock:
            pass
ts = [threading.Thread(target=work) for _ in range(4)]
t0 = time.perf_counter(); c0 = time.process_time()
for t in ts: t.start()
for t in ts: t.join()
print(time.perf_counter() - t0, time.process_time() - c0)
"""

ASYNCIO = r"""
import asyncio, time
async def step(n):
    for _ in range(n):
        await asyncio.sleep(0)
async def main():
    await asyncio.gather(*(step(10) for _ in range(1000)))
t0 = time.perf_counter(); c0 = time.process_time()
asyncio.run(main())
print(time.perf_counter() - t0, time.process_time() - c0)
"""

SYNC = r"""
import threading, time
sem = threading.Semaphore(2)
ev = threading.Event()
ev.set()
def work():
    for i in range(50_000):
        with sem:
            ev.wait()
ts = [threading.Thread(target=work) for _ in range(4)]
t0 = time.perf_counter(); c0 = time.process_time()
for t in ts: t.start()
for t in ts: t.join()
print(time.perf_counter() - t0, time.process_time() - c0)
"""

QUEUE = r"""
import queue, threading, time
q = queue.Queue(maxsize=100)
def producer():
    for i in range(100_000):
        q.put(i)
    for _ in range(4):
        q.put(None)
def consumer():
    while q.get() is not None:
        pass
ts = [threading.Thread(target=producer)] + [threading.Thread(target=consumer) for _ in range(4)]
t0 = time.perf_counter(); c0 = time.process_time()
for t in ts: t.start()
for t in ts: t.join()
print(time.perf_counter() - t0, time.process_time() - c0)
"""

AQUEUE = r"""
import asyncio, time
async def producer(q):
    for i in range(100_000):
        await q.put(i)
    for _ in range(4):
        await q.put(None)
async def consumer(q):
    while await q.get() is not None:
        pass
async def main():
    q = asyncio.Queue(maxsize=100)
    await asyncio.gather(producer(q), *(consumer(q) for _ in range(4)))
t0 = time.perf_counter(); c0 = time.process_time()
asyncio.run(main())
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def run(python, code, env):
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit("benchmark program failed: " + r.stderr)
    wall, cpu = r.stdout.strip().splitlines()[-1].split()
    return float(wall) * 1e3, float(cpu) * 1e3


def spread(xs):
    return f"{statistics.median(xs):7.1f} ({min(xs):.1f}–{max(xs):.1f})"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--recorder", default=os.environ.get("INTERLEAVE_RECORDER_DIR",
                                                         os.path.join(here, "..", "build", "recorder")))
    ap.add_argument("--only", default="", help="run only the programs whose name has this word")
    args = ap.parse_args()

    plain = dict(os.environ)
    plain.pop("INTERLEAVE_RECORD_DIR", None)
    print(f"{'program':<31} {'':<4} {'plain ms, median (min–max)':>28} {'recorded ms':>24} {'slowdown':>9}")
    for name, code in (("4 threads, 1.2 M Python calls", THREADS), ("asyncio, 10 000 task steps", ASYNCIO),
                       ("4 threads, 200 000 lock holds", LOCKS),
                       ("semaphore+event, 200 000 holds", SYNC), ("queue.Queue, 100 000 items", QUEUE),
                       ("asyncio.Queue, 100 000 items", AQUEUE)):
        if args.only not in name:
            continue
        base, rec = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="interleave-bench-") as d:
                recorded = dict(plain, PYTHONPATH=args.recorder, INTERLEAVE_RECORD_DIR=d)
                base.append(run(args.python, code, plain))
                rec.append(run(args.python, code, recorded))
                if not any(f.endswith(".rec") for f in os.listdir(d)):
                    sys.exit("nothing was recorded: is the recorder built for " + args.python + "?")
        for i, what in ((0, "wall"), (1, "cpu")):
            b = [x[i] for x in base]
            r = [x[i] for x in rec]
            print(f"{name if i == 0 else '':<31} {what:<4} {spread(b):>28} {spread(r):>24}"
                  f" {statistics.median(r) / statistics.median(b):8.2f}×")


main()
