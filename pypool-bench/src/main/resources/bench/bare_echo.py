"""The baseline: the least a Python process can do to answer a framed request over pipes."""
import os
import struct
import sys

inp = os.fdopen(0, "rb", buffering=1 << 16)
out = 1
while True:
    head = inp.read(16)
    if len(head) < 16:
        break
    (length,) = struct.unpack(">I", head[:4])
    body = inp.read(length - 12)
    os.write(out, head + body)
