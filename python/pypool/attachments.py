"""Binary attachments: bytes and NumPy arrays carried beside a frame's JSON, never as base64.

A frame whose flags have ``FLAG`` (bit 0) set has this body instead of bare JSON::

    u32  length of the JSON text, big-endian
    ...  the JSON text (UTF-8)
    then, until the body ends, for each attachment in order (index 0, 1, ...):
    u32  its length, big-endian
    ...  its bytes

Inside that JSON an attachment is named by a marker object, in place of the value::

    {"__pypool_bytes__": i}                                        bytes (Java byte[] / ByteBuffer)
    {"__pypool_ndarray__": i, "dtype": "float64", "shape": [2, 3]}  a NumPy array (Java NdArray):
                                                                   C order, little-endian

Markers are read only in frames with the flag, and only in exactly these forms (one key, or these
three keys); user data would have to hold such an object with such a key to be mistaken for one.
A frame without attachments is bare JSON, byte for byte as before.

NumPy is optional: it is never imported here. An array argument needs it in the worker (an
error reply says so otherwise); an array result can only exist if the handler imported it.
"""

from __future__ import annotations

import struct
import sys
from typing import Any, Callable, List, Sequence

FLAG = 0x01
LENGTH = struct.Struct(">I")
BYTES_MARKER = "__pypool_bytes__"
NDARRAY_MARKER = "__pypool_ndarray__"
# Fixed-size dtypes both sides know; names as NumPy spells them (dtype.name).
DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float32", "float64")


class Attached:
    """A frame body with attachments, as read: one writable buffer, so that an array argument can
    be a zero-copy view of it (``np.frombuffer``)."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: bytearray) -> None:
        self.buffer = buffer

    def __len__(self) -> int:
        return len(self.buffer)


def split(buffer: bytearray) -> "tuple[bytes, List[memoryview]]":
    """The JSON text and the attachments (views into the buffer) of an attached body."""
    view = memoryview(buffer)
    end = 4 + _length_at(view, 0)
    if end > len(view):
        raise ValueError(f"the JSON part of the body claims {end - 4} bytes; the body has {len(view)}")
    text = bytes(view[4:end])
    parts: List[memoryview] = []
    pos = end
    while pos < len(view):
        start = pos + 4
        stop = start + _length_at(view, pos)
        if stop > len(view):
            raise ValueError(f"attachment {len(parts)} claims {stop - start} bytes; "
                             f"{len(view) - start} are left in the body")
        parts.append(view[start:stop])
        pos = stop
    return text, parts


def _length_at(view: memoryview, pos: int) -> int:
    if pos + 4 > len(view):
        raise ValueError(f"the body ends inside an attachment length at byte {pos}")
    return LENGTH.unpack_from(view, pos)[0]


def marker_hook(parts: Sequence[memoryview]) -> Callable[[dict], Any]:
    """A json object_hook that puts each attachment where its marker is."""
    def hook(d: dict) -> Any:
        if len(d) == 1 and BYTES_MARKER in d:
            return bytes(_part(parts, d[BYTES_MARKER]))
        if len(d) == 3 and NDARRAY_MARKER in d:
            return _to_ndarray(_part(parts, d[NDARRAY_MARKER]), d.get("dtype"), d.get("shape"))
        return d
    return hook


def _part(parts: Sequence[memoryview], index: Any) -> memoryview:
    if type(index) is not int or not 0 <= index < len(parts):
        raise ValueError(f"a marker names attachment {index!r}; the frame has {len(parts)}")
    return parts[index]


def _to_ndarray(data: memoryview, dtype: Any, shape: Any) -> Any:
    try:
        import numpy as np
    except ImportError:
        raise ValueError("an NdArray argument needs NumPy in the worker's Python, "
                         "and it is not installed there") from None
    if dtype not in DTYPES:
        raise ValueError(f"NdArray dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"NdArray shape {shape!r} is not a list of sizes")
    # A view of the frame's own buffer: no copy, and writable (the buffer is a bytearray).
    return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


class Collector:
    """A json ``default`` that turns binary values into markers and keeps their bytes aside."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: List[Any] = []  # bytes-like, each with len() == its size in bytes

    def default(self, o: Any) -> Any:
        if isinstance(o, (bytes, bytearray)):
            return self._add(o, {BYTES_MARKER: len(self.parts)})
        if isinstance(o, memoryview):
            return self._add(_flat(o), {BYTES_MARKER: len(self.parts)})
        np = sys.modules.get("numpy")  # only if a handler imported it
        if np is not None:
            if isinstance(o, np.ndarray):
                return self._ndarray(np, o)
            if isinstance(o, np.generic):  # np.int64(3), np.bool_(True)...: their Python value
                return o.item()
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    def _ndarray(self, np: Any, a: Any) -> Any:
        name = a.dtype.name
        if name not in DTYPES:
            raise TypeError(f"a NumPy array of dtype {name} cannot be sent; the dtypes that can: "
                            f"{', '.join(DTYPES)}")
        # Copies only what is not C-contiguous little-endian already.
        flat = a.astype(a.dtype.newbyteorder("<"), order="C", copy=False).reshape(-1).view(np.uint8)
        return self._add(memoryview(flat),
                         {NDARRAY_MARKER: len(self.parts), "dtype": name, "shape": list(a.shape)})

    def _add(self, data: Any, marker: dict) -> dict:
        self.parts.append(data)
        return marker


def _flat(m: memoryview) -> memoryview:
    """A memoryview as one run of bytes (len() = its size in bytes)."""
    if m.c_contiguous and m.ndim == 1 and m.itemsize == 1:
        return m
    if m.c_contiguous:
        try:
            return m.cast("B")
        except TypeError:
            pass
    return memoryview(m.tobytes())


def body_size(payload: bytes, parts: Sequence[Any]) -> int:
    """The size of an attached body: what the frame limit applies to."""
    return 4 + len(payload) + sum(4 + len(p) for p in parts)


def body_pieces(payload: bytes, parts: Sequence[Any]) -> List[Any]:
    pieces: List[Any] = [LENGTH.pack(len(payload)), payload]
    for p in parts:
        pieces.append(LENGTH.pack(len(p)))
        pieces.append(p)
    return pieces
