"""Handlers for pypool's own Java tests."""

import os
import sys
import time

import pypool


@pypool.command("t.noisy")
def noisy(text: str) -> str:
    print("printed by handler:", text)
    os.write(1, f"written to fd 1: {text}\n".encode())
    sys.stdout.flush()
    return text.upper()


@pypool.command("t.boom")
def boom(message: str = "kaboom") -> None:
    raise ValueError(message)


@pypool.command("t.set")
def returns_set() -> object:
    return {1, 2, 3}


@pypool.command("t.pid")
def pid() -> int:
    return os.getpid()


@pypool.command("t.echo")
def echo(nonce: str, work_ms: float = 0) -> dict:
    if work_ms:
        time.sleep(work_ms / 1000.0)
    return {"nonce": nonce, "pid": os.getpid()}


@pypool.command("t.wait_for_file")
def wait_for_file(path: str, limit_s: float = 60) -> str:
    """Holds its worker until `path` exists, so a test can occupy a worker and release it exactly."""
    end = time.monotonic() + limit_s
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError(f"{path} did not appear within {limit_s}s")
        time.sleep(0.005)
    return path


@pypool.command("t.remember")
def remember(key: str, value, *, session) -> dict:
    session[key] = value
    return {"pid": os.getpid(), "keys": sorted(session.keys())}


@pypool.command("t.recall")
def recall(key: str, *, session):
    return {"pid": os.getpid(), "value": session.get(key), "keys": sorted(session.keys())}


@pypool.command("t.crash_after_print")
def crash_after_print(line: str) -> None:
    import signal
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


@pypool.command("t.crash_when_file")
def crash_when_file(path: str) -> None:
    """Holds its worker until `path` exists, then dies: a crash at a moment the test chooses."""
    import signal
    wait_for_file(path)
    os.kill(os.getpid(), signal.SIGKILL)


@pypool.command("t.crash_once")
def crash_once(marker: str) -> int:
    """Dies the first time it runs anywhere (it leaves a marker file), succeeds after that."""
    import signal
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


@pypool.command("t.env")
def env(name: str):
    return os.environ.get(name)


# ---- hostile and heavy handlers for the engine's tests ------------------------------------------

@pypool.command("t.session_rmw")
def session_rmw(pause_ms: float = 2, *, session) -> int:
    """Read, pause, write: loses updates if two calls of one session ever run at once."""
    value = session.get("counter", 0)
    time.sleep(pause_ms / 1000.0)
    session["counter"] = value + 1
    return value + 1


@pypool.command("t.raise_surrogate")
def raise_surrogate() -> None:
    raise ValueError("bad\ud800 message")


@pypool.command("t.surrogate_result")
def surrogate_result() -> str:
    return "x\ud800y"


@pypool.command("t.deep")
def deep(depth: int, value=None) -> object:
    """A list nested `depth` deep; with `value` given, returns how deep that argument was nested."""
    if value is not None:
        n = 0
        while isinstance(value, list):
            value = value[0] if value else None
            n += 1
        return n
    out: object = 0
    for _ in range(depth):
        out = [out]
    return out


@pypool.command("t.big_string")
def big_string(chars: int) -> str:
    return "x" * chars


@pypool.command("t.fork_child")
def fork_child(libc: bool = False, seconds: float = 120) -> int:
    """Leaves a forked child running, through os.fork (Python's fork hooks run) or libc's fork (they do not)."""
    if libc:
        import ctypes
        c = ctypes.CDLL(None, use_errno=True)
        child = c.fork()
        if child == 0:
            c.sleep(int(seconds))
            c._exit(0)
        return child
    child = os.fork()
    if child == 0:
        time.sleep(seconds)
        os._exit(0)
    return child


@pypool.command("t.spawn_child")
def spawn_child(seconds: float = 120) -> int:
    import subprocess
    return subprocess.Popen(["sleep", str(int(seconds))]).pid


_waiting = {"count": 0}


@pypool.command("t.async_meet")
async def async_meet(parties: int, timeout_s: float = 20.0) -> int:
    """Waits, without holding a thread, until `parties` calls wait here at once."""
    import asyncio
    _waiting["count"] += 1
    end = time.monotonic() + timeout_s
    while _waiting["count"] < parties:
        if time.monotonic() > end:
            raise TimeoutError(f"only {_waiting['count']} of {parties} calls met")
        await asyncio.sleep(0.002)
    return os.getpid()


@pypool.command("t.async_sleep")
async def async_sleep(ms: float) -> float:
    import asyncio
    await asyncio.sleep(ms / 1000.0)
    return ms


# -- binary data: bytes and NumPy arrays travel as attachments ----------------------------------
def _describe_binary(value):
    """What arrived, as JSON: bytes as their type, length and hash, containers walked."""
    import hashlib
    if isinstance(value, bytes):
        return {"type": "bytes", "len": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, dict):
        return {k: _describe_binary(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_describe_binary(v) for v in value]
    return type(value).__name__


@pypool.command("bin.describe")
def bin_describe(value=None):
    return _describe_binary(value)


@pypool.command("bin.whole")
def bin_whole(*values):
    """Called with raw bytes as the whole argument: they are its one positional argument."""
    return _describe_binary(list(values))


@pypool.command("bin.make")
def bin_make(size: int, nested: bool = False):
    data = bytes(i % 256 for i in range(256)) * (size // 256) + bytes(i % 256 for i in range(size % 256))
    if not nested:
        return data
    return {"data": data, "list": [bytearray(data[:3]), "text", memoryview(data)[:2]], "size": size}


@pypool.command("bin.huge")
def bin_huge(size: int):
    return b"\x00" * size


@pypool.command("np.info")
def np_info(array):
    import numpy as np
    assert isinstance(array, np.ndarray), type(array)
    return {"type": type(array).__name__, "dtype": array.dtype.name, "shape": list(array.shape),
            "sum": float(array.sum()), "view": not array.flags.owndata,
            "writeable": bool(array.flags.writeable), "first": array.reshape(-1)[:3].tolist()}


@pypool.command("np.make")
def np_make(rows: int, cols: int, dtype: str = "float64"):
    import numpy as np
    return np.arange(rows * cols).astype(dtype).reshape(rows, cols)


@pypool.command("np.nested")
def np_nested():
    import numpy as np
    return {"t": np.arange(6, dtype=">i4").reshape(2, 3).T, "scalar": np.int64(7), "list": [np.zeros(2, np.float32)]}


@pypool.command("np.double")
def np_double(array):
    return array * 2


# -- the README's binary examples, as written there ---------------------------------------------
@pypool.command("blob.digest")
def digest(data: bytes, algorithm: str = "sha256") -> dict:
    import hashlib
    return {"algorithm": algorithm, "digest": hashlib.new(algorithm, data).digest(), "size": len(data)}


@pypool.command("stats.standardize")
def standardize(x):                      # np.ndarray, float64, shape (2, 3)
    return (x - x.mean()) / x.std()      # arrives in Java as an NdArray


# -- a hostile worker's replies with attachments, written by hand ------------------------------
@pypool.command("h.raw_attached_reply")
def raw_attached_reply(json_text: str, parts: list):
    """Replies to this request with a flagged frame of this JSON and these attachments (hex)."""
    import struct
    from pypool import protocol, serving, worker
    payload = json_text.encode()
    body = struct.pack(">I", len(payload)) + payload
    for part in parts:
        data = bytes.fromhex(part)
        body += struct.pack(">I", len(data)) + data
    header = struct.pack(">IBBHQ", 12 + len(body), protocol.REPLY_OK, 1, 0, serving.CURRENT_REQUEST.get())
    worker.CHANNEL.send_raw(header + body)
    return serving._ANSWERED


@pypool.command("h.async_wait_for_file")
async def async_wait_for_file(path: str, limit_s: float = 60) -> str:
    """Holds no thread while it waits for `path` to exist."""
    import asyncio
    end = time.monotonic() + limit_s
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError(f"{path} did not appear within {limit_s}s")
        await asyncio.sleep(0.005)
    return path


@pypool.command("h.slow_then_wait")
def slow_then_wait(path: str, min_ms: float = 20) -> str:
    """Always takes at least `min_ms` (so the pool learns it is slow), then waits for `path`."""
    time.sleep(min_ms / 1000.0)
    return wait_for_file(path)


@pypool.command("t.log")
def log(level: str, message: str, with_traceback: bool = False):
    """Logs through Python's logging (the worker's bridge reports it at its level) and prints a line."""
    import logging
    logger = logging.getLogger("pypool_test_handlers.logs")
    logger.setLevel(logging.DEBUG)
    if with_traceback:
        try:
            raise ValueError("the cause")
        except ValueError:
            logger.log(getattr(logging, level), message, exc_info=True)
    else:
        logger.log(getattr(logging, level), message)
    print(f"printed beside {message}")
    return True
