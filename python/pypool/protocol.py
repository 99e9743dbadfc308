"""The wire format shared with the JVM side (FrameCodec.java). Keep the two in step.

Every frame is::

    u32  length of what follows (header rest + body), big-endian
    u8   kind
    u8   flags      (bit 0: the body has binary attachments; other bits are zero)
    u16  reserved   (zero)
    u64  request id (0 for frames that answer no request, such as HELLO)
    ...  body: UTF-8 JSON, or with flag bit 0 JSON and attachments (attachments.py has the layout)

Frames that carry values may carry attachments (REQUEST, REPLY_OK, STREAM_ITEM, CALL_JAVA,
JAVA_RESULT): a ``bytes`` value (Java ``byte[]``) or a NumPy array (Java ``NdArray``) travels as raw
bytes beside the JSON, named in it by a marker object. A frame without them is bare JSON, byte for
byte as it always was. A peer that does not know a kind treats the frame as a protocol error.

Conversations (kinds 6-11). Every REQUEST still gets exactly one final REPLY_OK or REPLY_ERROR,
whatever else travels for it; that reply is what frees the call's slot on the host.

* CANCEL (host -> worker, the request's id, empty body): the host gave up on the call. A request
  not started yet is answered with REPLY_ERROR kind ``cancelled`` and never runs. A running one
  sees ``pypool.cancelled()`` turn true and ``pypool.checkpoint()`` raise ``pypool.Cancelled``; an
  async handler's task is cancelled; a stream's generator is closed at its next item. A handler
  that ends because of it is answered with kind ``cancelled``. A CANCEL for an id the worker does
  not hold (answered already) is ignored.
* Streams. A REQUEST whose body has ``"stream": {"items": N, "bytes": B}`` asks for a stream, with
  that much credit. The handler's result must be an iterator (a generator, sync or async); each
  item goes out as a STREAM_ITEM frame (the request's id, the item's JSON as body), and the end as
  REPLY_OK ``{"items": count}``; a failure after some items is a REPLY_ERROR as usual. The worker
  takes the next item from the generator only while it holds credit: at least one item and more
  than zero bytes (an item may overdraw the bytes; the next then waits). An item's size is its
  frame's body size (length field minus 12). CREDIT (host -> worker, the request's id, body
  ``{"items": i, "bytes": b}``) adds to a stream's credit; unknown ids are ignored. A stream
  request whose handler returns something else is answered with REPLY_ERROR kind ``not_a_stream``.
  A plain request whose handler returns a generator gets the list of its items.
* Callbacks. CALL_JAVA (worker -> host) asks the host to run a Java function: the frame's id is a
  callback id the worker chose (its own count from 1, apart from request ids); the body is
  ``{"fn": name, "args": value, "request": id of the request whose handler calls (0 if none),
  "timeout_ms": int or null}``. The host answers with JAVA_RESULT (same id, the result's JSON as
  body) or JAVA_ERROR (same id, ``{"type", "message"}``); it may never answer one whose worker
  stopped waiting, and the worker drops answers to callbacks it no longer waits for.

A REQUEST body is ``{"cmd": str, "args": object | array | null, "session": str | null,
"deadline_ms": int, "traceparent": str}``. ``deadline_ms`` (optional; absent or null = no deadline) is the call's
remaining time when the host sent it; the worker counts it from the moment it read the frame, and
a call whose deadline passed while it waited in the worker is not started: it is answered with
REPLY_ERROR kind ``expired``. ``traceparent`` (optional, after ``cmd``; sent when the host has a
``CallTracer``) is the call's W3C trace context, ``00-<32 hex>-<16 hex>-<2 hex>`` in lower case:
the handler reads it as ``pypool.traceparent()`` and logging records carry it as
``record.traceparent``; one not in that form is ignored, never an error.

A REPLY_ERROR body is ``{"kind", "type", "message", "traceback"}`` with kind one of
``exception``, ``bad_arguments``, ``unknown_command``, ``bad_request``, ``expired``,
``unserializable_result``, ``result_too_large``, ``cancelled``, ``not_a_stream``.

JSON nesting is limited to MAX_NESTING_DEPTH levels each way, the limit of the JVM side's parser:
a deeper request is a ``bad_request``, a deeper result is ``unserializable_result``. Bodies are
strict UTF-8; a result string holding lone surrogates is sent with ``\\ud800``-style escapes.
"""

from __future__ import annotations

import json
import os
import re
import struct
from typing import Any, BinaryIO, Optional, Sequence, Tuple, Union

from . import attachments
from .attachments import Attached

HEADER = struct.Struct(">IBBHQ")
HEADER_REST = HEADER.size - 4  # bytes counted by the length field besides the body

HELLO = 1            # worker -> host: ready, with pid, versions and capabilities
REQUEST = 2          # host -> worker: {"cmd", "args", "session", "deadline_ms", "traceparent"}
REPLY_OK = 3         # worker -> host: the result, as JSON
REPLY_ERROR = 4      # worker -> host: {"kind", "type", "message", "traceback"}
STARTUP_FAILED = 5   # worker -> host: the worker could not start (import error), then it exits
CANCEL = 6           # host -> worker: give up on a request (empty body)
STREAM_ITEM = 7      # worker -> host: one item of a streamed result
CREDIT = 8           # host -> worker: {"items", "bytes"} more a stream may send
CALL_JAVA = 9        # worker -> host: {"fn", "args", "request", "timeout_ms"}, id = callback id
JAVA_RESULT = 10     # host -> worker: a callback's result, id = callback id
JAVA_ERROR = 11      # host -> worker: {"type", "message"}, id = callback id

DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
MAX_NESTING_DEPTH = 1000  # arrays and objects, counted like the JVM side's Jackson limit


class ProtocolError(Exception):
    """The peer sent something that is not a valid frame."""


class NestingTooDeep(ValueError):
    """A JSON value nested deeper than MAX_NESTING_DEPTH."""

    def __init__(self) -> None:
        super().__init__(f"it is nested deeper than the limit of {MAX_NESTING_DEPTH} levels "
                         f"of arrays and objects")


def encode(kind: int, request_id: int, body: bytes) -> bytes:
    return HEADER.pack(HEADER_REST + len(body), kind, 0, 0, request_id) + body


def encode_attached(kind: int, request_id: int, payload: bytes, parts: Sequence[Any]) -> bytes:
    """A frame whose body is JSON and attachments (see attachments.py)."""
    pieces = attachments.body_pieces(payload, parts)
    size = attachments.body_size(payload, parts)
    return b"".join([HEADER.pack(HEADER_REST + size, kind, attachments.FLAG, 0, request_id), *pieces])


def read_frame(stream: BinaryIO, max_frame_bytes: int) -> Optional[Tuple[int, int, Union[bytes, Attached]]]:
    """Reads one frame as (kind, request id, body); None at a clean end of input. The body is
    bytes, or an Attached when the frame carries attachments (decode_body reads both)."""
    head = stream.read(HEADER.size)
    if not head:
        return None
    if len(head) < HEADER.size:
        raise ProtocolError(f"input ended inside a frame header ({len(head)} of {HEADER.size} bytes)")
    length, kind, flags, _reserved, request_id = HEADER.unpack(head)
    if length < HEADER_REST or length - HEADER_REST > max_frame_bytes:
        raise ProtocolError(f"frame length {length} is outside 12..{max_frame_bytes + HEADER_REST}")
    if flags & ~attachments.FLAG:
        raise ProtocolError(f"unknown frame flags {flags:#04x}")
    size = length - HEADER_REST
    if flags:
        # Read into a bytearray: NumPy arguments become writable views of it, with no copy.
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            n = stream.readinto(view[got:])
            if not n:
                raise ProtocolError(f"input ended inside a frame body ({got} of {size} bytes)")
            got += n
        return kind, request_id, Attached(buffer)
    body = stream.read(size) if size else b""
    if len(body) < size:
        raise ProtocolError(f"input ended inside a frame body ({len(body)} of {size} bytes)")
    return kind, request_id, body


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# -- JSON bodies ------------------------------------------------------------------------------
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(payload: bytes) -> bool:
    """Whether JSON text nests arrays and objects deeper than MAX_NESTING_DEPTH. Text with fewer
    opening brackets than that is never scanned; otherwise strings are cut out and only the
    brackets are walked."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_NESTING_DEPTH:
        return False
    depth = 0
    for c in _STRING.sub(b"", payload).translate(None, _NOT_BRACKETS):
        if c == 91 or c == 123:  # [ {
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                return True
        else:
            depth -= 1
    return False


def decode_body(body: Union[bytes, Attached]) -> Any:
    """A request body as a JSON value: strict UTF-8, MAX_NESTING_DEPTH at most. An Attached body
    has its attachments where their markers were: bytes, or NumPy arrays."""
    hook = None
    if isinstance(body, Attached):
        body, parts = attachments.split(body.buffer)
        hook = attachments.marker_hook(parts)
    if len(body) > MAX_NESTING_DEPTH and too_deep(body):  # shorter text cannot nest that deep
        raise NestingTooDeep()
    try:
        return json.loads(body.decode("utf-8"), object_hook=hook)
    except RecursionError:
        raise NestingTooDeep() from None


# Made once: json.dumps with these options would build a new encoder for every call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_ENCODE_ASCII = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def encode_body(value: Any) -> bytes:
    """A value as a JSON body. Raises NestingTooDeep past MAX_NESTING_DEPTH, and whatever the
    encoder raises for values JSON has no form for (sets, NaN, circular references...)."""
    # The hot path: kept inline (it is _encode_with, without a call more per reply).
    try:
        text = _ENCODE(value)
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: UTF-8 has no form for them, JSON escapes do
            payload = _ENCODE_ASCII(value).encode("ascii")
    except RecursionError:
        raise NestingTooDeep() from None
    if len(payload) > MAX_NESTING_DEPTH and too_deep(payload):
        raise NestingTooDeep()
    return payload


_NO_PARTS: Tuple[Any, ...] = ()


def encode_result(value: Any) -> Tuple[bytes, Sequence[Any]]:
    """A result as (JSON payload, attachments). Values without bytes or arrays take the plain
    encoder (no attachments); the encoder refusing a type is the sign to look for them."""
    try:
        return encode_body(value), _NO_PARTS
    except TypeError:
        pass
    collector = attachments.Collector()
    options = dict(separators=(",", ":"), allow_nan=False, default=collector.default)
    payload = _encode_with(json.JSONEncoder(ensure_ascii=False, **options).encode,
                           lambda v: json.JSONEncoder(**options).encode(v), value,
                           reset=collector.parts.clear)
    return payload, collector.parts


def _encode_with(encode: Any, encode_ascii: Any, value: Any, reset: Any = None) -> bytes:
    """encode_body with other encoders; reset runs before the ASCII pass."""
    try:
        text = encode(value)
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: UTF-8 has no form for them, JSON escapes do
            if reset is not None:
                reset()  # the second pass collects the attachments again
            payload = encode_ascii(value).encode("ascii")
    except RecursionError:
        raise NestingTooDeep() from None
    if len(payload) > MAX_NESTING_DEPTH and too_deep(payload):
        raise NestingTooDeep()
    return payload


_MINIMAL_ERROR = b'{"kind":"exception","type":"UnencodableError",' \
                 b'"message":"the error could not be encoded","traceback":""}'


def error_body(kind: str, type_name: str, message: str, tb: str = "") -> bytes:
    """A REPLY_ERROR body; never raises, whatever the texts hold."""
    fields = {"kind": kind, "type": type_name, "message": message, "traceback": tb}
    try:
        return json.dumps(fields, ensure_ascii=False).encode("utf-8")
    except BaseException:
        pass
    try:
        return json.dumps(fields).encode("ascii")
    except BaseException:
        return _MINIMAL_ERROR
