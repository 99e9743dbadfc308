"""Serving requests: the reader loop, the handler threads and the built-in commands.

Three kinds of threads share the work so that reading the host's input never waits:

- the main thread reads frames and only dispatches them (it never runs a handler, never writes);
- ``--concurrency`` handler threads (at least one) take requests in arrival order, decode them,
  check their deadline, run the handler and encode the result;
- the channel's writer thread writes the replies (see channel.py).

No request can end the worker: whatever a body holds and whatever a handler returns or raises, the
request gets a REPLY_OK or a REPLY_ERROR and the threads live on.
"""

from __future__ import annotations

import contextvars
import os
import queue
import sys
import threading
import time
import traceback
from typing import Any, Dict, Optional

from . import _registry, protocol
from ._registry import BadArguments, Session
from .channel import Channel

CURRENT_REQUEST: "contextvars.ContextVar[int]" = contextvars.ContextVar("pypool_request", default=0)
_ANSWERED = object()  # a handler path that already sent its reply

# JSON up to MAX_NESTING_DEPTH levels must decode and encode on a handler thread, whatever the
# handler's own stack depth: the recursion limit and the handler threads' stacks leave room for it.
RECURSION_LIMIT = 4 * protocol.MAX_NESTING_DEPTH
HANDLER_STACK_BYTES = 16 << 20


class Request:
    """A request from the moment its frame was read until its reply is queued."""

    __slots__ = ("request_id", "body", "received")

    def __init__(self, request_id: int, body: bytes) -> None:
        self.request_id = request_id
        self.body = body
        self.received = time.monotonic()


class Worker:
    def __init__(self, channel: Channel, worker_id: str, max_frame_bytes: int) -> None:
        self.channel = channel
        self.worker_id = worker_id
        self.max_frame_bytes = max_frame_bytes
        self.started = time.monotonic()
        self.calls_served = 0
        self.errors = 0
        self.sessions: Dict[str, Session] = {}
        # Requests read and not yet answered, by id: where a future CANCEL will find its call.
        self.requests: Dict[int, Request] = {}
        self._requests_changed = threading.Condition()
        self._queue: "queue.SimpleQueue[Request]" = queue.SimpleQueue()
        self._count_lock = threading.Lock()
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
                "threads": threading.active_count(), "in_flight": len(self.requests),
                "commands": _registry.registered_commands()}

    def _close_session(self, session_id: Optional[str]) -> Dict[str, Any]:
        return {"closed": session_id is not None and self.sessions.pop(session_id, None) is not None}

    # -- the reader (main thread) ------------------------------------------------------------
    def serve(self, concurrency: int) -> None:
        """Reads frames until a clean end of input, then waits until every request read is
        answered and written. Raises ProtocolError on input that is not frames."""
        self._start_handlers(max(1, concurrency))
        while True:
            frame = protocol.read_frame(self.channel.reader, self.max_frame_bytes)
            if frame is None:
                break
            kind, request_id, body = frame
            if kind == protocol.REQUEST:
                request = Request(request_id, body)
                with self._requests_changed:
                    self.requests[request_id] = request
                self._queue.put(request)
            elif kind == protocol.CANCEL:
                self.cancel(request_id)
            else:
                raise protocol.ProtocolError(f"unexpected frame kind {kind} from the host")
        with self._requests_changed:
            self._requests_changed.wait_for(lambda: not self.requests)
        self.channel.drain()

    def cancel(self, request_id: int) -> None:
        """CANCEL is read and ignored for now; a cancellable call would be found in self.requests."""

    def _start_handlers(self, count: int) -> None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
        previous = threading.stack_size()
        try:
            threading.stack_size(max(previous, HANDLER_STACK_BYTES))
        except (ValueError, RuntimeError):  # a platform that cannot size stacks keeps its own
            pass
        try:
            for n in range(count):
                threading.Thread(target=self._handler_loop, name=f"pypool-handler-{n}", daemon=True).start()
        finally:
            threading.stack_size(previous)

    # -- handler threads ---------------------------------------------------------------------
    def _handler_loop(self) -> None:
        while True:
            request = self._queue.get()
            try:
                self.handle(request)
            except BaseException as e:  # a bug of ours: still answer, and keep the thread
                try:
                    self._error(request.request_id, "exception", "pypool.InternalError",
                                f"the worker failed to handle this request: "
                                f"{_describe(e, use_repr=True)}", _format(e))
                except BaseException:
                    pass
            finally:
                with self._requests_changed:
                    self.requests.pop(request.request_id, None)
                    self._requests_changed.notify_all()

    def handle(self, request: Request) -> None:
        request_id = request.request_id
        try:
            decoded = protocol.decode_body(request.body)
            name = decoded["cmd"]
            args = decoded.get("args")
            session_id = decoded.get("session")
            deadline_ms = decoded.get("deadline_ms")
            if not isinstance(name, str):
                raise TypeError(f"'cmd' must be a string, got {type(name).__name__}")
            if deadline_ms is not None and (isinstance(deadline_ms, bool)
                                            or not isinstance(deadline_ms, (int, float))):
                raise TypeError(f"'deadline_ms' must be a number, got {type(deadline_ms).__name__}")
        except BaseException as e:  # invalid UTF-8 or JSON, too deep, not an object...
            self._error(request_id, "bad_request", type(e).__name__, f"malformed request: "
                        f"{e if isinstance(e, protocol.NestingTooDeep) else _describe(e, use_repr=True)}")
            return
        if deadline_ms is not None:
            now = time.monotonic()
            if now >= request.received + deadline_ms / 1000.0:
                self._error(request_id, "expired", "DeadlineExpired",
                            f"call '{name}' was not started: its deadline passed after "
                            f"{int((now - request.received) * 1000)} ms waiting in the worker")
                return
        CURRENT_REQUEST.set(request_id)
        try:
            result = self._dispatch(request_id, name, args, session_id)
        except BadArguments as e:
            self._error(request_id, "bad_arguments", "BadArguments", _describe(e))
            return
        except BaseException as e:  # a handler may raise anything, SystemExit included
            self._exception(request_id, e)
            return
        if result is _ANSWERED:
            return
        try:
            payload = protocol.encode_body(result)
        except protocol.NestingTooDeep as e:
            self._error(request_id, "unserializable_result", "NestingTooDeep",
                        f"the result of '{name}' cannot be sent: {e}")
            return
        except BaseException as e:
            self._error(request_id, "unserializable_result", type(e).__name__,
                        f"the result of '{name}' is not JSON-serializable: {_describe(e)}")
            return
        if len(payload) > self.max_frame_bytes:
            self._error(request_id, "result_too_large", "ResultTooLarge",
                        f"the result of '{name}' is {len(payload)} bytes, over the frame limit of "
                        f"{self.max_frame_bytes} bytes")
            return
        self._count(error=False)
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
        self._error(request_id, "exception", qualified, _describe(e), _format(e))

    def _error(self, request_id: int, kind: str, type_name: str, message: str, tb: str = "") -> None:
        self._count(error=True)
        self.channel.send(protocol.REPLY_ERROR, request_id, protocol.error_body(kind, type_name, message, tb))

    def _count(self, error: bool) -> None:
        with self._count_lock:
            self.calls_served += 1
            self.errors += error


def _describe(e: BaseException, use_repr: bool = False) -> str:
    """str(e) (or repr(e)), even for exceptions whose str() or repr() raises."""
    try:
        return repr(e) if use_repr else str(e)
    except BaseException:
        return f"<{type(e).__name__} that cannot be printed>"


def _format(e: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(e), e, e.__traceback__))
    except BaseException:
        return ""


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return -1
