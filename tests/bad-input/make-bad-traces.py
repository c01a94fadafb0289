#!/usr/bin/env python3
"""Writes the damaged .itrace files of tests/bad-input/trace/ from a good
trace with slice args (interleave-cli convert tests/traces/begin-end-args.json
-o good.itrace): each breaks one thing in the ARGS section, the rest of the
file intact and the checksum sealed again, so that the loader's own checks
must catch it.  Run it again only to change the corpus on purpose:

    python3 tests/bad-input/make-bad-traces.py good.itrace tests/bad-input/trace

SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import struct
import sys
import zlib


def sections(data):
    off = 12
    while off + 12 <= len(data):
        tag, length = struct.unpack_from("<4sQ", data, off)
        yield tag, off, length
        off += 12 + length


def seal(data):
    data = bytearray(data)
    data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    return bytes(data)


def main():
    good = open(sys.argv[1], "rb").read()
    out = sys.argv[2]
    (_, at, length), = [s for s in sections(good) if s[0] == b"ARGS"]
    p = at + 12                          # payload
    n_refs, n_texts = struct.unpack_from("<II", good, p)
    refs = p + length - 8 * n_refs
    first_text_len, = struct.unpack_from("<I", good, p + 8)
    events = [struct.unpack_from("<I", good, refs + 8 * i)[0] for i in range(n_refs)]
    (_, head, _), = [s for s in sections(good) if s[0] == b"HEAD"]
    n_events, = struct.unpack_from("<Q", good, head + 12 + 16)

    def patched(offset, raw):
        d = bytearray(good)
        d[offset:offset + len(raw)] = raw
        return seal(d)

    cases = {
        "args-counts-too-large.itrace": patched(p, struct.pack("<I", 0xFFFFFFFF)),
        "args-text-runs-past.itrace": patched(p + 8, struct.pack("<I", 0x7FFFFFFF)),
        "args-text-not-utf8.itrace": patched(p + 12, b"\xff"),
        "args-text-nul.itrace": patched(p + 12 + first_text_len - 1, b"\x00"),
        "args-refs-fewer.itrace": patched(p, struct.pack("<I", n_refs - 1)),
        "args-event-unknown.itrace": patched(refs, struct.pack("<I", 0xFFFFFFF0)),
        # The last event of a trace is a slice's end.
        "args-event-not-a-slice.itrace": patched(refs + 8 * (n_refs - 1), struct.pack("<I", n_events - 1)),
        "args-out-of-order.itrace": patched(refs + 8, struct.pack("<I", events[0])),
        "args-unknown-text.itrace": patched(refs + 4, struct.pack("<I", n_texts)),
    }
    # A payload too short for its two counts.
    short = good[:at] + struct.pack("<4sQ", b"ARGS", 4) + good[p:p + 4] + good[at + 12 + length:]
    cases["args-section-short.itrace"] = seal(short)
    # The section twice.
    whole = good[at:at + 12 + length]
    cases["args-twice.itrace"] = seal(good[:at] + whole + whole + good[at + 12 + length:])
    # Cut off inside the section (no checksum to reach).
    cases["args-cut-off.itrace"] = good[:p + 10]
    for name, data in cases.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
