"""Callbacks to the JVM: ``pypool.call_java(name, args)`` runs a Java function registered with the
pool and returns its result, from any handler (``await pypool.call_java_async(...)`` in async ones)::

    @pypool.command("price")
    def price(sku: str) -> float:
        quote = pypool.call_java("pricing.quote", {"sku": sku}, timeout=2.0)
        return quote["amount"]

The call is a CALL_JAVA frame whose id is a callback id of the worker's own; the reader hands the
host's JAVA_RESULT or JAVA_ERROR to whoever waits on that id (protocol.py has the contract).
A handler waiting here holds its handler thread; with one handler thread, the waiting thread
reads the input itself meanwhile (the answer comes through it), and requests read that way wait
their turn in the backlog.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from . import inflight, protocol, streams
from .cancellation import Cancelled
from .channel import Channel

if TYPE_CHECKING:
    import asyncio

DEFAULT_TIMEOUT_S = 30.0  # for a call made outside any request, or for one without a deadline
DEADLINE_MARGIN_S = 0.25  # how long past its request's deadline a call_java without a timeout waits
# How often the one handler thread, waiting, tries again to read the input itself while another
# thread (the watcher) is reading it.
RETRY_READ_S = 0.002

_INPUT_CLOSED = -1  # the kind a waiter is settled with when no answer can come any more


class JavaError(Exception):
    """The Java function failed (a JAVA_ERROR), or its answer could not be had: ``java_type`` is
    the Java exception's class name (``pypool.*`` for failures on the way), ``message`` its message."""

    def __init__(self, java_type: str, message: str) -> None:
        # One argument: JavaTimeout is an OSError too, which would read two as (errno, strerror).
        super().__init__(f"{java_type}: {message}")
        self.java_type = java_type
        self.message = message

    def __str__(self) -> str:
        return f"{self.java_type}: {self.message}"

    def __reduce__(self) -> Any:
        return type(self), (self.java_type, self.message)


class JavaTimeout(JavaError, TimeoutError):
    """No answer came within the timeout; the callback is forgotten (a late answer is dropped)."""

    def __init__(self, message: str) -> None:
        super().__init__("pypool.JavaTimeout", message)

    def __reduce__(self) -> Any:
        return type(self), (self.message,)


# Callback ids, counted apart from request ids; next() on it is atomic under the GIL.
_IDS = itertools.count(1)


class _Waiter:
    """One callback waiting for its answer: settled once, by the reader (or by the input closing)."""

    __slots__ = ("name", "kind", "body", "wake")

    def __init__(self, name: str, wake: Callable[[], None]) -> None:
        self.name = name
        self.kind: Optional[int] = None
        self.body: Any = None
        self.wake = wake

    def settle(self, kind: int, body: Any) -> None:
        self.body = body
        self.kind = kind
        self.wake()

    def result(self, callback_id: int) -> Any:
        """The answer's value; raises JavaError for a JAVA_ERROR or an answer that cannot be read."""
        if self.kind == protocol.JAVA_RESULT:
            try:
                return protocol.decode_body(self.body)
            except BaseException as e:
                raise JavaError("pypool.BadAnswer", f"the host's answer to call_java('{self.name}') "
                                f"(callback {callback_id}) cannot be read: {e}") from None
        if self.kind == protocol.JAVA_ERROR:
            raise _java_error(self.body, self.name, callback_id)
        raise JavaError("pypool.InputClosed", f"no answer to call_java('{self.name}') can come: {self.body}")


def _java_error(body: Any, name: str, callback_id: int) -> JavaError:
    try:
        fields = protocol.decode_body(body)
        java_type, message = fields["type"], fields.get("message")
        if isinstance(java_type, str) and (message is None or isinstance(message, str)):
            return JavaError(java_type, message or "")
    except BaseException:
        pass
    return JavaError("pypool.BadAnswer", f"the host's error for call_java('{name}') (callback "
                     f"{callback_id}) is not {{\"type\", \"message\"}}: {_preview(body)}")


def _preview(body: Any) -> str:
    raw = bytes(body.buffer if isinstance(body, protocol.Attached) else body)
    return repr(raw[:200]) + ("..." if len(raw) > 200 else "")


class Callbacks:
    """The callbacks of one worker: what it waits on, by callback id."""

    def __init__(self, channel: Channel, max_frame_bytes: int,
                 may_read: Callable[[], bool],
                 read_while_waiting: Callable[[Callable[[], bool], float], bool]) -> None:
        self.channel = channel
        self.max_frame_bytes = max_frame_bytes
        self.waiting: Dict[int, _Waiter] = {}
        self._closed: Optional[str] = None
        # Whether the calling thread is the one that reads the input when idle (one handler
        # thread), and the function that reads it until done() or a time: False when it could not.
        self._may_read = may_read
        self._read_while_waiting = read_while_waiting

    # -- the reader's side ---------------------------------------------------------------------
    def answer(self, kind: int, callback_id: int, body: Any) -> None:
        """A JAVA_RESULT or JAVA_ERROR; an answer nobody waits for (any more) is dropped."""
        waiter = self.waiting.pop(callback_id, None)
        if waiter is not None:
            waiter.settle(kind, body)

    def close(self, why: str) -> None:
        """The input ended: no answer can come, and waiting for one would hold the worker's exit."""
        self._closed = why
        for callback_id in list(self.waiting):
            waiter = self.waiting.pop(callback_id, None)
            if waiter is not None:
                waiter.settle(_INPUT_CLOSED, why)

    # -- the caller's side ---------------------------------------------------------------------
    def call(self, name: str, args: Any, timeout: Optional[float]) -> Any:
        request = inflight.current()
        seconds = _timeout_s(name, timeout, request)
        event = threading.Event()
        waiter = _Waiter(name, event.set)
        forget_cancel = request.on_cancel(event.set) if request is not None else None
        try:
            callback_id = self._send(name, args, request, seconds, waiter)
            self._wait(event, time.monotonic() + _wait_s(seconds, timeout, request))
        finally:
            if forget_cancel is not None:
                forget_cancel()
        if self.waiting.pop(callback_id, None) is not None:  # still ours: no answer came
            if request is not None and request.cancelled:
                raise Cancelled(f"the host cancelled this call while it waited on call_java('{name}')")
            raise JavaTimeout(f"no answer to call_java('{name}') within {seconds:.3g} s")
        return waiter.result(callback_id)

    def _wait(self, event: threading.Event, until: float) -> None:
        reads = self._may_read()
        while not event.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return
            if reads and self._read_while_waiting(event.is_set, until):
                continue
            event.wait(min(left, RETRY_READ_S) if reads else left)

    def call_async(self, name: str, args: Any, timeout: Optional[float]) -> "asyncio.Future[Any]":
        import asyncio  # here: importing pypool in a plain script need not load asyncio
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[Any]" = loop.create_future()
        request = inflight.current()
        seconds = _timeout_s(name, timeout, request)

        def settled() -> None:
            if not future.done():
                try:
                    future.set_result(waiter.result(callback_id))
                except BaseException as e:
                    future.set_exception(e)

        def give_up(error: BaseException) -> None:
            if self.waiting.pop(callback_id, None) is not None and not future.done():
                future.set_exception(error)

        waiter = _Waiter(name, lambda: loop.call_soon_threadsafe(settled))
        callback_id = self._send(name, args, request, seconds, waiter)
        timer = loop.call_later(_wait_s(seconds, timeout, request), give_up, JavaTimeout(
            f"no answer to call_java_async('{name}') within {seconds:.3g} s"))
        forget_cancel = None
        if request is not None:
            forget_cancel = request.on_cancel(lambda: loop.call_soon_threadsafe(give_up, Cancelled(
                f"the host cancelled this call while it waited on call_java_async('{name}')")))

        def done(_: "asyncio.Future[Any]") -> None:  # answered, timed out, or the awaiting task cancelled
            timer.cancel()
            self.waiting.pop(callback_id, None)
            if forget_cancel is not None:
                forget_cancel()
        future.add_done_callback(done)
        return future

    def _send(self, name: str, args: Any, request: Optional[inflight.Request], seconds: float,
              waiter: _Waiter) -> int:
        if self._closed is not None:
            raise JavaError("pypool.InputClosed", f"call_java('{name}') cannot be answered: {self._closed}")
        if request is not None and request.cancelled:  # nobody would use the answer
            raise Cancelled(f"the host cancelled this call before it called call_java('{name}')")
        body = {"fn": name, "args": args, "request": request.request_id if request is not None else 0,
                "timeout_ms": max(1, int(seconds * 1000))}
        try:
            payload, parts = protocol.encode_result(body)
        except BaseException as e:
            raise TypeError(f"the arguments of call_java('{name}') cannot be sent: {e}") from None
        size = protocol.attachments.body_size(payload, parts) if parts else len(payload)
        if size > self.max_frame_bytes:
            raise ValueError(f"the arguments of call_java('{name}') are {size} bytes, over the frame "
                             f"limit of {self.max_frame_bytes} bytes")
        callback_id = next(_IDS)
        streams.flush_held()  # a generator's items made before this callback go out before it
        self.waiting[callback_id] = waiter  # before the frame goes: the answer may come at once
        try:
            if parts:
                self.channel.send_raw(protocol.encode_attached(protocol.CALL_JAVA, callback_id, payload, parts))
            else:
                self.channel.send(protocol.CALL_JAVA, callback_id, payload)
            if self.channel.has_corked():  # a serving thread's corked frames: this one cannot wait
                self.channel.flush_corked()
        except BaseException:
            self.waiting.pop(callback_id, None)
            raise
        return callback_id


def _wait_s(seconds: float, timeout: Optional[float], request: Optional[inflight.Request]) -> float:
    """How long to wait for the answer. Without a timeout of its own, a call waits a little past
    its request's deadline: the host ends the call at that deadline and sends CANCEL, which ends
    this wait (Cancelled, a reply the host drops), so that a JavaTimeout of ours never races the
    host's own timeout (the caller gets CallTimeoutException, never by chance a PythonException;
    the deadline the host sends is in whole milliseconds, rounded down)."""
    if timeout is None and request is not None and request.deadline is not None:
        return seconds + DEADLINE_MARGIN_S
    return seconds


def _timeout_s(name: str, timeout: Optional[float], request: Optional[inflight.Request]) -> float:
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"call_java('{name}'): timeout must be a positive number of seconds, got {timeout!r}")
        return float(timeout)
    left = request.time_left() if request is not None else None
    if left is None:
        return DEFAULT_TIMEOUT_S
    if left <= 0:
        raise JavaTimeout(f"call_java('{name}') was not sent: the deadline of the call it runs for has passed")
    return left


_ACTIVE: Optional[Callbacks] = None  # the serving worker's


def serve_with(callbacks: Optional[Callbacks]) -> None:
    global _ACTIVE
    _ACTIVE = callbacks


def _callbacks(name: Any) -> Callbacks:
    if not isinstance(name, str) or not name:
        raise TypeError(f"call_java needs the Java function's name as a non-empty string, got {name!r}")
    callbacks = _ACTIVE
    if callbacks is None:
        raise RuntimeError("pypool.call_java works only in a pypool worker: no worker serves in this process")
    return callbacks


def call_java(name: str, args: Any = None, *, timeout: Optional[float] = None) -> Any:
    """Runs the Java function ``name`` (registered with the pool) with ``args`` and returns its
    result; bytes and NumPy arrays travel as attachments both ways. Raises JavaError when the
    function failed, JavaTimeout when no answer came within ``timeout`` seconds (by default the
    time left to the call this runs for, or DEFAULT_TIMEOUT_S), Cancelled when the host cancelled
    that call meanwhile."""
    return _callbacks(name).call(name, args, timeout)


def call_java_async(name: str, args: Any = None, *, timeout: Optional[float] = None) -> "asyncio.Future[Any]":
    """call_java for async handlers: sends the call now and returns a future of the event loop it
    is called on, resolved when the answer is read (same errors)."""
    return _callbacks(name).call_async(name, args, timeout)
