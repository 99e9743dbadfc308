"""Handlers for the tests of streams, cancellation and callbacks into Java."""

import asyncio
import os
import signal
import time

import pypool

# Items produced by s.tracked, per worker process: how far a generator ran ahead of its consumer.
PRODUCED = {"count": 0}


@pypool.command("s.count")
def count(n: int, delay_ms: float = 0):
    for i in range(n):
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        yield i


@pypool.command("s.list")
def as_list(n: int):
    return list(range(n))


@pypool.command("s.marked")
def marked(n: int, marker: str):
    """Writes how it ended to the marker file: 'done N' or 'closed after N' (GeneratorExit)."""
    produced = 0
    try:
        for i in range(n):
            produced += 1
            yield i
        _write(marker, f"done {produced}")
    except GeneratorExit:
        _write(marker, f"closed after {produced}")
        raise


@pypool.command("s.tracked")
def tracked(n: int, size: int = 10):
    PRODUCED["count"] = 0
    for i in range(n):
        PRODUCED["count"] += 1
        yield {"i": i, "pad": "x" * size}


@pypool.command("s.produced")
def produced() -> int:
    return PRODUCED["count"]


@pypool.command("s.blobs")
def blobs(n: int, size: int):
    for i in range(n):
        yield {"i": i, "data": bytes([i % 256]) * size}


@pypool.command("s.async_count")
async def async_count(n: int):
    for i in range(n):
        await asyncio.sleep(0)
        yield {"i": i}


@pypool.command("s.fail_after")
def fail_after(n: int):
    for i in range(n):
        yield i
    raise ValueError(f"failed after {n} items")


@pypool.command("s.die_after")
def die_after(n: int):
    for i in range(n):
        yield i
    time.sleep(0.2)  # the items reach the host first
    os.kill(os.getpid(), signal.SIGKILL)


@pypool.command("s.die_at_once")
def die_at_once(marker: str):
    """Dies before its first item the first time (the marker file says so), then streams."""
    if not os.path.exists(marker):
        _write(marker, "died once")
        os.kill(os.getpid(), signal.SIGKILL)
    yield "after the retry"


@pypool.command("s.then_silent")
def then_silent(sleep_s: float):
    yield "first"
    time.sleep(sleep_s)
    yield "late"


@pypool.command("s.session_items")
def session_items(n: int, *, session):
    for i in range(n):
        session["streamed"] = session.get("streamed", 0) + 1
        yield session["streamed"]


@pypool.command("s.session_total")
def session_total(*, session) -> int:
    return session.get("streamed", 0)


@pypool.command("s.not_a_generator")
def not_a_generator() -> int:
    return 42


# -- cancellation -------------------------------------------------------------------------------
@pypool.command("c.until_cancelled")
def until_cancelled(marker: str, limit_s: float = 30):
    """Polls pypool.checkpoint(); writes 'cancelled' to the marker when it sees the cancel."""
    end = time.monotonic() + limit_s
    try:
        while time.monotonic() < end:
            pypool.checkpoint()
            time.sleep(0.005)
    except pypool.Cancelled:
        _write(marker, "cancelled")
        raise
    return "not cancelled"


@pypool.command("c.ignores_cancel")
def ignores_cancel(sleep_s: float, marker: str):
    time.sleep(sleep_s)
    _write(marker, f"finished, cancelled={pypool.cancelled()}")
    return "finished"


@pypool.command("c.async_until_cancelled")
async def async_until_cancelled(marker: str):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        _write(marker, "cancelled")
        raise
    return "not cancelled"


@pypool.command("c.touch")
def touch(marker: str) -> str:
    _write(marker, "ran")
    return "ran"


# -- callbacks into Java ----------------------------------------------------------------------
@pypool.command("j.call")
def call_java(name: str, args=None, timeout: float = None):
    return pypool.call_java(name, args, timeout=timeout)


@pypool.command("j.call_in_session")
def call_java_in_session(name: str, args=None, *, session):
    session["calls"] = session.get("calls", 0) + 1
    return pypool.call_java(name, args)


@pypool.command("j.call_async")
async def call_java_async(name: str, args=None):
    return await pypool.call_java_async(name, args)


@pypool.command("j.catch")
def catch_java_error(name: str, args=None, timeout: float = None):
    try:
        return {"result": pypool.call_java(name, args, timeout=timeout)}
    except pypool.JavaTimeout as e:
        return {"timeout": str(e)}
    except pypool.JavaError as e:
        return {"type": e.java_type, "message": e.message}


@pypool.command("j.stream")
def stream_with_java(name: str, n: int):
    for i in range(n):
        yield pypool.call_java(name, {"i": i})


@pypool.command("j.pid")
def pid() -> int:
    return os.getpid()


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
