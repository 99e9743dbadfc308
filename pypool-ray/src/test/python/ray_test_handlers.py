"""Handlers for pypool-ray's tests: where a worker runs, state kept in a session, big bytes."""

import os
import time

import pypool


@pypool.command("where")
def where() -> dict:
    return {"pid": os.getpid(), "node": os.environ.get("PYPOOL_RAY_NODE_ID"),
            "actor": os.environ.get("PYPOOL_RAY_ACTOR_ID"), "marker": os.environ.get("PYPOOL_TEST_MARKER")}


@pypool.command("blob")
def blob(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


@pypool.command("count")
def count(pause_ms: float = 1, *, session) -> dict:
    """Read, pause, write: loses updates if two calls of one session ever run at once."""
    value = session.get("n", 0)
    time.sleep(pause_ms / 1000)
    session["n"] = value + 1
    return {"n": value + 1, "pid": os.getpid()}


@pypool.command("restore")
def restore(n: int, *, session) -> int:
    session["n"] = n
    return n


@pypool.command("ticks")
def ticks(n: int):
    for i in range(n):
        yield i


@pypool.command("spawn_child")
def spawn_child() -> int:
    """Starts a long sleep in the worker's process group and returns its pid: it must not outlive the worker."""
    import subprocess

    return subprocess.Popen(["sleep", "600"]).pid


@pypool.command("callback_echo")
def callback_echo(size: int, times: int = 1) -> int:
    """Asks Java to echo a string of ``size`` characters, ``times`` times: the results travel to the worker's node."""
    total = 0
    for _ in range(times):
        total += len(pypool.call_java("echo", {"pad": "q" * size})["pad"])
    return total
