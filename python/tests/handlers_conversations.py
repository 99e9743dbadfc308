"""Handlers for the conversation tests: streams, cancellation and callbacks to Java. Handlers that
must prove what happened inside the worker write it to files the test names."""

import asyncio
import os
import threading
import time

import pypool


def _write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)  # whole, so a test polling for the file never reads half


def _wait_until(condition, timeout_s=20.0):
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.002)
    return True


# -- streams --------------------------------------------------------------------------------
@pypool.command("s.count")
def count(n: int):
    yield from range(n)


# Generators whose finally blocks write markers are kept here: only the worker closing them can
# run those blocks then, never the garbage collector.
_KEPT = []


def _kept(generator):
    _KEPT.append(generator)
    return generator


@pypool.command("s.marked")
def marked(n: int, path: str):
    return _kept(_marked(n, path))


def _marked(n, path):
    """Yields 0..n-1; its finally block writes how many items it had made when it ended."""
    made = 0
    try:
        for i in range(n):
            made += 1
            yield i
    finally:
        _write(path, str(made))


@pypool.command("s.sized")
def sized(n: int, size: int):
    for _ in range(n):
        yield "x" * size


@pypool.command("s.blobs")
def blobs(n: int, size: int):
    for i in range(n):
        yield {"i": i, "data": bytes([i % 256]) * size}


@pypool.command("s.fail_after")
def fail_after(n: int):
    yield from range(n)
    raise ValueError(f"failed after {n}")


@pypool.command("s.unserializable")
def unserializable(path: str):
    return _kept(_unserializable(path))


def _unserializable(path):
    try:
        yield 1
        yield {1, 2}
        yield 3
    finally:
        _write(path, "closed")


@pypool.command("s.not_a_stream")
def not_a_stream():
    return [1, 2, 3]


@pypool.command("s.async_count")
async def async_count(n: int):
    for i in range(n):
        await asyncio.sleep(0)
        yield {"i": i, "request": _current_request()}


def _current_request():
    from pypool import serving
    return serving.CURRENT_REQUEST.get()


@pypool.command("s.async_def_stream")
async def async_def_stream(n: int):
    """An async def handler whose result is the stream: awaited first, then iterated."""
    await asyncio.sleep(0)
    return (i * 10 for i in range(n))


@pypool.command("s.async_slow")
def async_slow(path: str):
    return _kept(_async_slow(path))


async def _async_slow(path):
    """Yields one item, then waits long inside the generator: a cancel must reach it there."""
    try:
        yield "first"
        await asyncio.sleep(30)
        yield "second"
    finally:
        _write(path, "closed")


@pypool.command("s.with_java")
def with_java(n: int, timeout: float = None):
    """Each item comes from Java: a stream's own thread waits on call_java."""
    for i in range(n):
        yield pypool.call_java("twice", {"x": i}, timeout=timeout)


# -- plain calls of generators ---------------------------------------------------------------
@pypool.command("g.plain")
def plain(n: int):
    for i in range(n):
        yield i * i


@pypool.command("g.async_plain")
async def async_plain(n: int):
    for i in range(n):
        await asyncio.sleep(0)
        yield -i


@pypool.command("g.fails")
def plain_fails():
    yield 1
    raise KeyError("in the generator")


# -- cancellation ---------------------------------------------------------------------------
@pypool.command("c.poll")
def poll(started: str):
    """Works in slices, checking for a cancel between them."""
    _write(started, "")
    end = time.monotonic() + 20
    while time.monotonic() < end:
        pypool.checkpoint()
        time.sleep(0.002)
    return "never cancelled"


@pypool.command("c.swallow")
def swallow(started: str):
    """A catch-all for Exception, as user code has: Cancelled must go through it."""
    _write(started, "")
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            pypool.checkpoint()
            time.sleep(0.002)
    except Exception:
        return "swallowed"
    return "never cancelled"


@pypool.command("c.ignore")
def ignore(started: str):
    """Sees the cancel and finishes anyway: its normal reply must come."""
    _write(started, "")
    saw = _wait_until(pypool.cancelled)
    return {"saw_cancel": saw, "outside_a_request": _cancelled_on_own_thread()}


def _cancelled_on_own_thread():
    seen = []
    t = threading.Thread(target=lambda: seen.append(pypool.cancelled()))
    t.start()
    t.join()
    return seen[0]


@pypool.command("c.async_wait")
async def async_wait(started: str, marker: str):
    _write(started, "")
    try:
        await asyncio.sleep(30)
    finally:
        _write(marker, "cancelled" if pypool.cancelled() else "not cancelled")
    return "slept"


# -- callbacks to Java ----------------------------------------------------------------------
@pypool.command("j.call")
def call(fn: str, args=None, timeout: float = None):
    return pypool.call_java(fn, args, timeout=timeout)


@pypool.command("j.catching")
def catching(fn: str, args=None, timeout: float = None):
    try:
        return {"value": pypool.call_java(fn, args, timeout=timeout)}
    except pypool.JavaError as e:
        return {"type": e.java_type, "message": e.message, "str": str(e),
                "timeout": isinstance(e, pypool.JavaTimeout), "timeout_error": isinstance(e, TimeoutError)}


@pypool.command("j.bytes")
def java_bytes(size: int):
    sent = bytes(range(256)) * (size // 256)
    answer = pypool.call_java("echo_bytes", {"blob": sent, "note": "raw"})
    blob = answer["blob"]
    return {"type": type(blob).__name__, "size": len(blob), "reversed": blob == sent[::-1]}


@pypool.command("j.async_call")
async def async_call(fn: str, args=None, timeout: float = None):
    return await pypool.call_java_async(fn, args, timeout=timeout)


@pypool.command("j.async_catching")
async def async_catching(fn: str, args=None, timeout: float = None):
    try:
        return {"value": await pypool.call_java_async(fn, args, timeout=timeout)}
    except pypool.JavaError as e:
        return {"type": e.java_type, "message": e.message, "timeout": isinstance(e, pypool.JavaTimeout)}


@pypool.command("j.in_child")
def in_child():
    """A process forked from the worker cannot call Java: it has no channel."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            pypool.call_java("twice", {"x": 1}, timeout=1)
            outcome = "sent"
        except RuntimeError as e:
            outcome = type(e).__name__
        except BaseException as e:
            outcome = f"other: {type(e).__name__}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        outcome = f.read().decode()
    os.waitpid(pid, 0)
    return outcome
