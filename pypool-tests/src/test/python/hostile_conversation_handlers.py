"""Handlers that misbehave on purpose, for the hostile tests of streams, cancellation and callbacks."""

import asyncio
import os
import signal
import time

import pypool


def _write(path, text):
    if path:
        with open(path, "w") as f:
            f.write(text)


# -- streams: items the worker cannot send -------------------------------------------------------
@pypool.command("hc.then_bad")
def then_bad(n: int, what: str, size: int = 0):
    """n good items, then one the worker cannot send (what: huge, nan, deep, set, circular)."""
    for i in range(n):
        yield i
    if what == "huge":
        yield "x" * size
    elif what == "nan":
        yield float("nan")
    elif what == "deep":
        item = []
        for _ in range(2000):
            item = [item]
        yield item
    elif what == "set":
        yield {1, 2, 3}
    elif what == "circular":
        item = {}
        item["self"] = item
        yield item
    yield "never"


@pypool.command("hc.odd_items")
def odd_items():
    yield "lone \ud800 surrogate"
    yield {"bytes": b"\xff\xfe\x00\x80"}
    yield {"k": ["\u2028", "\x00", "\U0001F600"]}
    yield 10 ** 30
    yield -0.0
    yield ""


@pypool.command("hc.surrogate_key")
def surrogate_key():
    """A dict whose key holds a lone surrogate (file names from os.listdir on a bad byte decode so)."""
    return {"name\udcff": 1}


@pypool.command("hc.surrogate_key_items")
def surrogate_key_items():
    yield "before"
    yield {"name\udcff": 1}


# -- streams: generators that will not stop ------------------------------------------------------
@pypool.command("hc.ignores_exit")
def ignores_exit(marker: str):
    """Yields again when closed: Python raises RuntimeError from close()."""
    i = 0
    while True:
        try:
            yield i
        except GeneratorExit:
            _write(marker, "ignored GeneratorExit")
            yield -1
        i += 1


@pypool.command("hc.stuck_in_finally")
def stuck_in_finally(marker: str, stuck_s: float = 3600):
    """Streams until closed, then blocks in its finally block (a lock never released, a hung socket)."""
    try:
        i = 0
        while True:
            yield i
            i += 1
    finally:
        _write(marker, "stuck in finally")
        time.sleep(stuck_s)


@pypool.command("hc.stuck_after_first")
def stuck_after_first(stuck_s: float = 3600):
    """One item, then blocks without ever reaching its next yield (nor any checkpoint)."""
    yield "first"
    time.sleep(stuck_s)
    yield "late"


@pypool.command("hc.async_ignores_cancel")
async def async_ignores_cancel(marker: str):
    """An async generator that swallows the cancellation of its task and waits on."""
    yield "first"
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            _write(marker, "swallowed CancelledError")


@pypool.command("hc.swallows_checkpoint_stream")
def swallows_checkpoint_stream(marker: str):
    """Calls checkpoint() and swallows Cancelled, then tries to go on yielding."""
    swallowed = 0
    i = 0
    while True:
        try:
            pypool.checkpoint()
        except pypool.Cancelled:
            swallowed += 1
            _write(marker, f"swallowed {swallowed}")
        yield i
        i += 1
        time.sleep(0.001)


# -- streams: generators that attack their own process -------------------------------------------
@pypool.command("hc.fork_midstream")
def fork_midstream(n: int):
    """Forks in the middle of the stream; the child runs on in the generator too (and must be kept
    from writing into the parent's protocol channel)."""
    yield {"i": 0, "pid": os.getpid()}
    os.fork()
    for i in range(1, n):
        yield {"i": i, "pid": os.getpid()}


@pypool.command("hc.fork_child_then_die")
def fork_child_then_die(n: int):
    """Leaves a child behind that holds the worker's pipes, then dies."""
    if os.fork() == 0:
        while True:  # the child lives on, holding every descriptor it inherited
            time.sleep(1)
    for i in range(n):
        yield i
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGKILL)


@pypool.command("hc.close_fds")
def close_fds(n: int):
    """Closes every descriptor past stderr in the middle of a stream."""
    for i in range(n):
        yield i
    time.sleep(0.2)
    os.closerange(3, 65536)
    for i in range(n, 2 * n):
        yield i


@pypool.command("hc.exit_midstream")
def exit_midstream(n: int, how: str):
    for i in range(n):
        yield i
    if how == "sys.exit":
        raise SystemExit(3)
    if how == "_exit":
        time.sleep(0.2)
        os._exit(0)
    if how == "keyboard":
        raise KeyboardInterrupt()


@pypool.command("hc.slow_count")
def slow_count(n: int, delay_ms: float = 1):
    for i in range(n):
        time.sleep(delay_ms / 1000.0)
        yield i


# -- cancellation --------------------------------------------------------------------------------
@pypool.command("hc.swallow_cancel")
def swallow_cancel(run_s: float, marker: str = ""):
    """Polls checkpoint() and swallows every Cancelled, for run_s seconds."""
    end = time.monotonic() + run_s
    swallowed = 0
    while time.monotonic() < end:
        try:
            pypool.checkpoint()
        except pypool.Cancelled:
            if swallowed == 0:
                _write(marker, "swallowed")
            swallowed += 1
        time.sleep(0.005)
    return swallowed


@pypool.command("hc.sleep")
def sleep(s: float) -> float:
    time.sleep(s)
    return s


@pypool.command("hc.fast")
def fast(i: int) -> int:
    return i


# -- callbacks -----------------------------------------------------------------------------------
@pypool.command("hc.recurse_async")
async def recurse_async(depth: int):
    if depth <= 0:
        return 0
    return 1 + await pypool.call_java_async("recurse", {"depth": depth - 1})


@pypool.command("hc.recurse_sync")
def recurse_sync(depth: int):
    if depth <= 0:
        return 0
    return 1 + pypool.call_java("recurse", {"depth": depth - 1})


@pypool.command("hc.sync_java_in_async")
async def sync_java_in_async(name: str, args=None):
    return pypool.call_java(name, args)  # blocks the event loop while Java runs


@pypool.command("hc.catch_java")
def catch_java(name: str, args=None, timeout: float = None, pad: int = 0):
    if pad:
        args = {"blob": "z" * pad}
    try:
        return {"result": pypool.call_java(name, args, timeout=timeout)}
    except pypool.JavaTimeout as e:
        return {"type": "timeout", "message": str(e)}
    except pypool.JavaError as e:
        return {"type": e.java_type, "message": e.message}
    except (TypeError, ValueError) as e:
        return {"type": "python:" + type(e).__name__, "message": str(e)}


@pypool.command("hc.call_java_in_session")
def call_java_in_session(name: str, args=None, *, session):
    session["calls"] = session.get("calls", 0) + 1
    return pypool.call_java(name, args)


@pypool.command("hc.session_calls")
def session_calls(*, session):
    return session.get("calls", 0)


@pypool.command("hc.java_from_thread")
def java_from_thread(name: str):
    """call_java from a thread the handler started: it knows no request."""
    import threading
    out = {}

    def run():
        try:
            out["result"] = pypool.call_java(name, None, timeout=10)
        except BaseException as e:  # noqa: BLE001
            out["error"] = repr(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out


@pypool.command("hc.java_stream")
def java_stream(name: str, n: int):
    for i in range(n):
        yield pypool.call_java(name, {"i": i})


@pypool.command("hc.pid")
def pid() -> int:
    return os.getpid()


@pypool.command("hc.silent_until_cancelled")
def silent_until_cancelled(limit_s: float = 60):
    """One item, then nothing, watching for its cancel."""
    yield "first"
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        pypool.checkpoint()
        time.sleep(0.005)
    yield "late"
