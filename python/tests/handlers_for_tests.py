import json
import os
import signal
import subprocess
import sys
import time

import pypool


@pypool.command("t.noisy")
def noisy(text: str) -> str:
    print("printed:", text)
    os.write(1, b"raw fd1 write\n")
    sys.stdout.flush()
    return text.upper()


@pypool.command("t.boom")
def boom() -> None:
    raise ValueError("kaboom")


@pypool.command("t.inner_type_error")
def inner_type_error(x: int) -> int:
    return x + "text"  # raises TypeError inside the handler, not a bad call


@pypool.command("t.set")
def returns_set() -> object:
    return {1, 2}


@pypool.command("t.corked")
def corked() -> bool:
    """Whether this reply is held back to go out with others (the worker's channel is corked)."""
    import threading
    from pypool import worker
    return worker.CHANNEL._cork_owner == threading.get_ident()


@pypool.command("t.wait_for")
def wait_for(path: str, timeout_s: float = 30.0) -> bool:
    """Blocks until a file exists: a handler the test releases when it wants."""
    deadline = time.monotonic() + timeout_s
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pypool.command("t.nest")
def nest(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pypool.command("t.surrogate_error")
def surrogate_error() -> None:
    raise ValueError("bad\ud800")


@pypool.command("t.surrogate_result")
def surrogate_result() -> str:
    return "x\ud800"


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str")

    def __repr__(self):
        raise RuntimeError("no repr")


@pypool.command("t.unprintable_error")
def unprintable_error() -> None:
    raise Unprintable()


class ItemsFail(dict):
    def items(self):
        raise SystemExit("items() of a result failed")


@pypool.command("t.failing_result")
def failing_result() -> dict:
    return ItemsFail(a=1)


_CHILDREN = []


@pypool.command("t.spawn_sleeper")
def spawn_sleeper() -> int:
    """Starts a child that would outlive the worker if nobody ended it."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _CHILDREN.append(child)
    return child.pid


@pypool.command("t.fork_probe")
def fork_probe() -> dict:
    """Forks; the child reports whether it still holds the protocol's descriptors and whether it
    could send on the worker's channel."""
    from pypool import worker
    channel = worker.CHANNEL
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        report = {}
        for name, fd in (("in_fd", channel.in_fd), ("out_fd", channel.out_fd)):
            try:
                os.fstat(fd)
                report[name] = "open"
            except OSError:
                report[name] = "closed"
        try:
            channel.send(3, 424242, b'"from the child"')
            report["send"] = "sent"
        except Exception as e:
            report["send"] = type(e).__name__
        os.write(write_end, json.dumps(report).encode())
        os.close(write_end)
        os.kill(os.getpid(), signal.SIGTERM)  # must end this child only, not the worker's group
        time.sleep(30)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        report = json.loads(f.read())
    _, status = os.waitpid(pid, 0)
    report["ended_by"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    return report


@pypool.command("t.touch")
def touch(path: str) -> str:
    open(path, "a").close()
    return path


# -- async handlers ---------------------------------------------------------------------------
_met = {"count": 0}


@pypool.command("t.async_meet")
async def async_meet(parties: int, timeout_s: float = 10.0) -> int:
    """Waits, without holding a thread, until `parties` calls wait here at once."""
    import asyncio
    _met["count"] += 1
    end = time.monotonic() + timeout_s
    while _met["count"] < parties:
        if time.monotonic() > end:
            raise TimeoutError(f"only {_met['count']} of {parties} calls met")
        await asyncio.sleep(0.002)
    from pypool import serving
    return serving.CURRENT_REQUEST.get()  # the request it serves, in its own task's context


@pypool.command("t.async_fail")
async def async_fail(message: str) -> None:
    raise ValueError(message)


@pypool.command("t.async_session")
async def async_session(by: int, *, session) -> int:
    session["n"] = session.get("n", 0) + by
    return session["n"]


@pypool.command("t.bytes")
def make_bytes(size: int) -> bytes:
    return b"z" * size
