"""The wire format shared with the JVM side (FrameCodec.java). Keep the two in step.

Every frame is::

    u32  length of what follows (header rest + body), big-endian
    u8   kind
    u8   flags      (bit 0 reserved for binary attachments; none are defined yet)
    u16  reserved   (zero)
    u64  request id (0 for frames that answer no request, such as HELLO)
    ...  body: UTF-8 JSON

Kinds 1-6 exist today; new kinds (stream chunks, cancellation, attachments) take new numbers and a
peer that does not know a kind treats the frame as a protocol error.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Optional, Tuple

HEADER = struct.Struct(">IBBHQ")
HEADER_REST = HEADER.size - 4  # bytes counted by the length field besides the body

HELLO = 1            # worker -> host: ready, with pid, versions and capabilities
REQUEST = 2          # host -> worker: {"cmd", "args", "session"}
REPLY_OK = 3         # worker -> host: the result, as JSON
REPLY_ERROR = 4      # worker -> host: {"kind", "type", "message", "traceback"}
STARTUP_FAILED = 5   # worker -> host: the worker could not start (import error), then it exits
CANCEL = 6           # host -> worker: reserved; a worker ignores it today

DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not a valid frame."""


def encode(kind: int, request_id: int, body: bytes) -> bytes:
    return HEADER.pack(HEADER_REST + len(body), kind, 0, 0, request_id) + body


def read_frame(stream: BinaryIO, max_frame_bytes: int) -> Optional[Tuple[int, int, bytes]]:
    """Reads one frame as (kind, request id, body); None at a clean end of input."""
    head = stream.read(HEADER.size)
    if not head:
        return None
    if len(head) < HEADER.size:
        raise ProtocolError(f"input ended inside a frame header ({len(head)} of {HEADER.size} bytes)")
    length, kind, _flags, _reserved, request_id = HEADER.unpack(head)
    if length < HEADER_REST or length - HEADER_REST > max_frame_bytes:
        raise ProtocolError(f"frame length {length} is outside 12..{max_frame_bytes + HEADER_REST}")
    size = length - HEADER_REST
    body = stream.read(size) if size else b""
    if len(body) < size:
        raise ProtocolError(f"input ended inside a frame body ({len(body)} of {size} bytes)")
    return kind, request_id, body


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
