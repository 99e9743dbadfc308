"""The worker process: ``python -m pypool.worker --module my_handlers ...``.

Order matters at start: the protocol descriptors are taken over before any user module is imported,
so that nothing user code prints can ever land inside a frame.
"""

from __future__ import annotations

import argparse
import contextvars
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

from . import __version__, _registry, protocol
from ._registry import BadArguments, Session

CHANNEL: Optional["Channel"] = None  # the running worker's channel; fault injection (pypool.faults) writes to it
_ANSWERED = object()  # a handler path that already sent its reply

CURRENT_REQUEST: "contextvars.ContextVar[int]" = contextvars.ContextVar("pypool_request", default=0)

CAPABILITIES = ["sessions", "concurrency", "startup_failed_frame"]


class Channel:
    """The protocol's two descriptors, moved off fd 0/1 so that fd 1 can point at stderr."""

    def __init__(self) -> None:
        in_fd = os.dup(0)
        self.out_fd = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)    # user code reading stdin gets EOF, never our frames
        os.close(devnull)
        os.dup2(2, 1)          # print(), C libraries and subprocesses writing fd 1 reach stderr
        for fd in (in_fd, self.out_fd):
            os.set_inheritable(fd, False)  # a subprocess of a handler must not hold the pipes open
        self.reader = os.fdopen(in_fd, "rb", buffering=1 << 16)
        self._write_lock = threading.Lock()

    def send(self, kind: int, request_id: int, body: bytes) -> None:
        frame = protocol.encode(kind, request_id, body)
        with self._write_lock:
            protocol.write_all(self.out_fd, frame)


class Worker:
    def __init__(self, channel: Channel, worker_id: str, max_frame_bytes: int) -> None:
        self.channel = channel
        self.worker_id = worker_id
        self.max_frame_bytes = max_frame_bytes
        self.started = time.monotonic()
        self.calls_served = 0
        self.errors = 0
        self.sessions: Dict[str, Session] = {}
        self._builtins = {"ping": self._ping, "stats": self._stats, "close_session": self._close_session}

    # -- built-in commands -------------------------------------------------------------------
    def _ping(self, session_id: Optional[str]) -> Dict[str, Any]:
        reply = {"worker": self.worker_id, "pid": os.getpid(),
                 "uptime_s": round(time.monotonic() - self.started, 3),
                 "calls_served": self.calls_served, "python": sys.version.split()[0],
                 "executable": sys.executable}
        for name, extra in _registry.PING_EXTRAS.items():
            reply[name] = extra()
        return reply

    def _stats(self, session_id: Optional[str]) -> Dict[str, Any]:
        return {"worker": self.worker_id, "pid": os.getpid(),
                "uptime_s": round(time.monotonic() - self.started, 3),
                "calls_served": self.calls_served, "errors": self.errors,
                "sessions": len(self.sessions), "rss_bytes": rss_bytes(),
                "threads": threading.active_count(),
                "commands": _registry.registered_commands()}

    def _close_session(self, session_id: Optional[str]) -> Dict[str, Any]:
        return {"closed": session_id is not None and self.sessions.pop(session_id, None) is not None}

    # -- serving -----------------------------------------------------------------------------
    def handle(self, request_id: int, body: bytes) -> None:
        try:
            request = json.loads(body)
            name = request["cmd"]
            args = request.get("args")
            session_id = request.get("session")
            if not isinstance(name, str):
                raise TypeError(f"'cmd' must be a string, got {type(name).__name__}")
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            self._error(request_id, "bad_request", type(e).__name__, f"malformed request: {e!r}")
            return
        CURRENT_REQUEST.set(request_id)
        try:
            result = self._dispatch(request_id, name, args, session_id)
        except BadArguments as e:
            self._error(request_id, "bad_arguments", "BadArguments", str(e))
            return
        except BaseException as e:  # a handler may raise anything, SystemExit included
            self._exception(request_id, e)
            return
        if result is _ANSWERED:
            return
        try:
            payload = json.dumps(result, separators=(",", ":"), ensure_ascii=False,
                                 allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as e:
            self._error(request_id, "unserializable_result", type(e).__name__,
                        f"the result of '{name}' is not JSON-serializable: {e}")
            return
        if len(payload) > self.max_frame_bytes:
            self._error(request_id, "result_too_large", "ResultTooLarge",
                        f"the result of '{name}' is {len(payload)} bytes, over the frame limit of "
                        f"{self.max_frame_bytes} bytes")
            return
        self.calls_served += 1
        self.channel.send(protocol.REPLY_OK, request_id, payload)

    def _dispatch(self, request_id: int, name: str, args: Any, session_id: Optional[str]) -> Any:
        builtin = self._builtins.get(name)
        if builtin is not None:
            return builtin(session_id)
        cmd = _registry.lookup(name)
        if cmd is None:
            self._error(request_id, "unknown_command", "UnknownCommand",
                        f"unknown command '{name}'; this worker serves: "
                        f"{', '.join(sorted(self._builtins) + _registry.registered_commands())}")
            return _ANSWERED
        if _registry.BEFORE_CALL:
            for hook in _registry.BEFORE_CALL:
                hook(name)
        session = None
        if cmd.wants_session and session_id is not None:
            session = self.sessions.get(session_id)
            if session is None:
                session = self.sessions[session_id] = Session(session_id)
        return cmd.invoke(args, session)

    def _exception(self, request_id: int, e: BaseException) -> None:
        kind = type(e)
        qualified = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        tb = "".join(traceback.format_exception(kind, e, e.__traceback__))
        self._error(request_id, "exception", qualified, str(e), tb)

    def _error(self, request_id: int, kind: str, type_name: str, message: str, tb: str = "") -> None:
        self.errors += 1
        self.calls_served += 1
        body = json.dumps({"kind": kind, "type": type_name, "message": message, "traceback": tb},
                          ensure_ascii=False).encode("utf-8")
        self.channel.send(protocol.REPLY_ERROR, request_id, body)

    def serve(self, concurrency: int) -> None:
        executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pypool-handler") \
            if concurrency > 1 else None
        while True:
            frame = protocol.read_frame(self.channel.reader, self.max_frame_bytes)
            if frame is None:
                return
            kind, request_id, body = frame
            if kind == protocol.REQUEST:
                if executor is None:
                    self.handle(request_id, body)
                else:
                    executor.submit(self.handle, request_id, body)
            elif kind == protocol.CANCEL:
                continue
            else:
                raise protocol.ProtocolError(f"unexpected frame kind {kind} from the host")


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return -1


def die_with_parent(parent_pid: int) -> None:
    """Ends this process when the JVM that started it is gone, however it went."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    # The signal covers the usual case; this thread covers other platforms and the moment between
    # fork and prctl, when the parent may already have died (we would then be re-parented).
    if parent_pid > 0:
        if os.getppid() != parent_pid:
            os._exit(70)

        def watch() -> None:
            while True:
                time.sleep(1.0)
                if os.getppid() != parent_pid:
                    os._exit(70)

        threading.Thread(target=watch, name="pypool-parent-watch", daemon=True).start()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="pypool.worker")
    parser.add_argument("--worker", default="worker")
    parser.add_argument("--pool", default="pool")
    parser.add_argument("--run-id", default="")
    parser.add_argument("--parent-pid", type=int, default=0)
    parser.add_argument("--module", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--max-frame-bytes", type=int, default=protocol.DEFAULT_MAX_FRAME_BYTES)
    opts = parser.parse_args(argv)

    channel = Channel()
    global CHANNEL
    CHANNEL = channel
    _registry.set_worker_id(opts.worker)
    die_with_parent(opts.parent_pid)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    for module in opts.module:
        try:
            importlib.import_module(module)
        except BaseException as e:
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            sys.stderr.write(tb)
            body = json.dumps({"kind": "startup_failed", "type": type(e).__name__,
                               "message": f"importing handler module '{module}' failed: {e}",
                               "traceback": tb}).encode("utf-8")
            channel.send(protocol.STARTUP_FAILED, 0, body)
            return 3

    worker = Worker(channel, opts.worker, opts.max_frame_bytes)
    hello = {"pid": os.getpid(), "worker": opts.worker, "python": sys.version.split()[0],
             "executable": sys.executable, "runtime": __version__, "capabilities": CAPABILITIES,
             "concurrency": opts.concurrency, "commands": _registry.registered_commands()}
    channel.send(protocol.HELLO, 0, json.dumps(hello).encode("utf-8"))
    try:
        worker.serve(max(1, opts.concurrency))
    except protocol.ProtocolError as e:
        sys.stderr.write(f"pypool worker {opts.worker}: protocol error from the host: {e}\n")
        return 4
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    # Run as `python -m pypool.worker`, this file is `__main__`; serve from the canonical
    # `pypool.worker` module instead, so that code importing it (pypool.faults) sees the live state.
    from pypool import worker as _canonical
    code = _canonical.main()
    sys.stderr.flush()
    os._exit(code)  # handler threads (concurrency > 1) must not hold the exit
