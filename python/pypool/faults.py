"""Fault injection: workers that misbehave on purpose, for resilience tests of pypool and of code
that uses it. Load it as a handler module (``handlerModules("pypool.faults")``); nothing here runs
unless a test asks for it.

At each worker's start (after the imports, or after the fork), environment variables shape how
the worker starts; each applies only to the workers
named in ``PYPOOL_FAULT_WORKERS`` (comma-separated ids such as ``w1,w3``; unset means every worker,
replacements included) and not named in ``PYPOOL_FAULT_SPARE_WORKERS``. Replacements get new ids,
so naming ids limits a fault to first starts, and sparing ids limits it to all the others:

- ``PYPOOL_FAULT_START_DELAY_S``: sleep this long before saying hello (a slow import).
- ``PYPOOL_FAULT_START_FAIL``: raise an ImportError with this text (a broken module).
- ``PYPOOL_FAULT_START_CRASH``: exit with this code during start (a crash loop).

And while the worker serves (counting only registered commands, never ping or stats):

- ``PYPOOL_FAULT_CRASH_ON_CALL``: die with SIGKILL at the start of the Nth call.
- ``PYPOOL_FAULT_HANG_ON``: calls of these commands (comma-separated) never return.
- ``PYPOOL_FAULT_REPLY_DELAY_MS``: every call waits this long first.
- ``PYPOOL_FAULT_GARBAGE_ON``: calls of these commands write text onto the protocol channel.
- ``PYPOOL_FAULT_PRINT``: every call prints this text to stdout (which the pool logs).

The ``fault.*`` commands inject the same faults on demand.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import threading
import time

from . import _registry, command, current_worker, forksafe, protocol
from . import worker as _worker


def _env_list(var: str) -> set:
    """A comma-separated environment variable (worker ids, command names) as a set."""
    return {item.strip() for item in os.environ.get(var, "").split(",") if item.strip()}


def _applies() -> bool:
    chosen = _env_list("PYPOOL_FAULT_WORKERS")
    return (not chosen or current_worker() in chosen) and current_worker() not in _env_list("PYPOOL_FAULT_SPARE_WORKERS")


@forksafe.at_worker_start
def _start_faults() -> None:
    # At each worker's start, not at import: a fork server imports this module once for all workers.
    if not _applies():
        return
    if os.environ.get("PYPOOL_FAULT_START_DELAY_S"):
        time.sleep(float(os.environ["PYPOOL_FAULT_START_DELAY_S"]))
    if os.environ.get("PYPOOL_FAULT_START_CRASH"):
        os._exit(int(os.environ["PYPOOL_FAULT_START_CRASH"]))
    if os.environ.get("PYPOOL_FAULT_START_FAIL"):
        raise ImportError(os.environ["PYPOOL_FAULT_START_FAIL"])


class _CallFaults:
    """The per-call faults the environment asks for, run before each handler."""

    def __init__(self) -> None:
        self.calls = 0
        self.crash_on = int(os.environ.get("PYPOOL_FAULT_CRASH_ON_CALL", "0") or 0)
        self.hang_on = _env_list("PYPOOL_FAULT_HANG_ON")
        self.garbage_on = _env_list("PYPOOL_FAULT_GARBAGE_ON")
        self.delay_s = float(os.environ.get("PYPOOL_FAULT_REPLY_DELAY_MS", "0") or 0) / 1000.0
        self.print_text = os.environ.get("PYPOOL_FAULT_PRINT")

    def wanted(self) -> bool:
        return bool(self.crash_on or self.hang_on or self.garbage_on or self.delay_s or self.print_text)

    def __call__(self, name: str) -> None:
        self.calls += 1
        if self.crash_on and self.calls == self.crash_on:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.print_text is not None:
            print(self.print_text, flush=True)
        if self.delay_s:
            time.sleep(self.delay_s)
        if name in self.garbage_on:
            _raw(f"garbage from a faulty worker during '{name}'\n".encode("utf-8"))
            time.sleep(3600)
        if name in self.hang_on:
            time.sleep(10 ** 6)


if _applies():
    _faults = _CallFaults()
    if _faults.wanted():
        _registry.BEFORE_CALL.append(_faults)


def _raw(data: bytes) -> None:
    """Bytes for the host, written in turn with the worker's frames, as they are."""
    channel = _worker.CHANNEL
    if channel is None:
        raise RuntimeError("pypool.faults needs a running worker")
    channel.send_raw(data)


@command("fault.crash")
def crash(signal_number: int = signal.SIGKILL, exit_code: int = -1) -> None:
    """Dies mid-call: by a signal (default SIGKILL) or, with exit_code >= 0, by exiting."""
    if exit_code >= 0:
        os._exit(exit_code)
    os.kill(os.getpid(), signal_number)
    time.sleep(60)


@command("fault.hang")
def hang(seconds: float = 3600.0) -> None:
    """Never returns (within any sensible deadline)."""
    time.sleep(seconds)


@command("fault.stop")
def stop() -> None:
    """Stops the whole process with SIGSTOP, mid-call. Sent to this very thread: sent to the
    process, it may be taken by another thread, and this one could still send its reply before
    the stop reaches it."""
    signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)


@command("fault.garbage")
def garbage(text: str = "this is not a frame\n") -> None:
    """Writes text straight onto the protocol channel, as a stray print() to the real stdout would."""
    _raw(text.encode("utf-8"))
    time.sleep(3600)


@command("fault.oversized_frame")
def oversized_frame() -> None:
    """Announces a frame far larger than any limit."""
    _raw(struct.pack(">IBBHQ", 0x7FFFFFF0, protocol.REPLY_OK, 0, 0, _worker.CURRENT_REQUEST.get()))
    time.sleep(3600)


@command("fault.invalid_json")
def invalid_json() -> None:
    """Replies to the current request with a body that is not JSON."""
    _raw(protocol.encode(protocol.REPLY_OK, _worker.CURRENT_REQUEST.get(), b"{not json"))
    time.sleep(3600)


@command("fault.unknown_request")
def unknown_request() -> None:
    """Replies to a request the host never sent."""
    _raw(protocol.encode(protocol.REPLY_OK, 987654321, json.dumps("surprise").encode()))
    time.sleep(3600)


_barriers: dict = {}
_barriers_lock = threading.Lock()


@command("fault.meet")
def meet(parties: int, timeout_s: float = 20.0) -> bool:
    """Returns only once `parties` calls are inside it at the same moment: a probe that proves
    calls really run concurrently (it fails with BrokenBarrierError if they do not)."""
    with _barriers_lock:
        barrier = _barriers.setdefault(parties, threading.Barrier(parties, timeout=timeout_s))
    barrier.wait()
    return True


@command("fault.echo")
def echo(nonce: str, delay_ms: float = 0) -> dict:
    """Echoes a nonce after an optional delay, with the worker that answered."""
    if delay_ms:
        time.sleep(delay_ms / 1000.0)
    return {"nonce": nonce, "worker": current_worker(), "pid": os.getpid()}


@command("fault.print")
def print_text(text: str) -> str:
    """Prints to stdout, which pypool sends to the log, never into the protocol."""
    print(text)
    return text


@command("fault.rss")
def allocate(megabytes: int) -> int:
    """Grows the process's resident memory by about this much, and keeps it."""
    _HOARD.append(bytearray(os.urandom(1)) * (megabytes << 20))
    return sum(len(b) for b in _HOARD) >> 20


_HOARD: list = []
