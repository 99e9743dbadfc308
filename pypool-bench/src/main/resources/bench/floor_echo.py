"""The floor: the least a Python process does to answer a framed message over pipes.

Same framing as pypool (16-byte header: u32 length, kind, flags, reserved u16, u64 request id) and
the same interpreter as the pool under test. A frame of kind 2 carries JSON: it is decoded with
json.loads and re-encoded with json.dumps, as any JSON worker must. Kind 9 is this script's own:
raw bytes echoed untouched, the floor for byte payloads (no JSON, no base64).
"""
import json
import os
import struct
import sys

RAW = 9
inp = os.fdopen(0, "rb", buffering=1 << 16)
out = 1


def write_all(data):
    # A large reply may take several writes: a pipe write can be partial.
    view = memoryview(data)
    while view:
        view = view[os.write(out, view):]


while True:
    head = inp.read(16)
    if len(head) < 16:
        break
    (length,) = struct.unpack(">I", head[:4])
    body = inp.read(length - 12)
    if head[4] != RAW:
        body = json.dumps(json.loads(body)).encode("utf-8")
    write_all(struct.pack(">I", len(body) + 12) + head[4:] + body)
sys.exit(0)
