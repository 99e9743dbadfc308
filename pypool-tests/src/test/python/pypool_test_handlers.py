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
