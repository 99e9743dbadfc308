"""Streamed results: a handler returns a generator (sync or async) and each item goes to the host as
a STREAM_ITEM frame as it is made, paced by the host's credit (protocol.py has the contract)::

    @pypool.command("lines")
    def lines(path: str):
        with open(path) as f:
            for line in f:
                yield line.rstrip("\\n")

A stream runs on a thread of its own, from the handler's invocation to its last item: waiting for
credit never holds a handler thread. Items the generator gives faster than CORK_THROUGH_S each
are written together (up to CORK_MAX_BYTES); a slower item goes out before the next is asked for,
and items held back go out within HOLD_AT_MOST_S when the generator turns slow after all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from . import inflight, protocol
from .cancellation import Cancelled
from .channel import CORK_MAX_BYTES, CORK_THROUGH_S, Channel, log

_END = object()  # what a step gives when the generator has no more items
# Items held back while the generator makes the next go out anyway once it has taken this long.
HOLD_AT_MOST_S = 0.005
_NO_PARTS: Tuple[Any, ...] = ()


class StreamEnded(Exception):
    """The stream stops for a reason that is the worker's to report (not the generator's own
    exception): its final REPLY_ERROR's kind, type and message."""

    def __init__(self, kind: str, type_name: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.type_name = type_name
        self.message = message


def parse_credit(value: Any) -> Tuple[int, int]:
    """``{"items": N, "bytes": B}`` as (N, B); ValueError unless both are non-negative integers."""
    if not isinstance(value, dict):
        raise ValueError(f"credit must be an object {{\"items\", \"bytes\"}}, got {type(value).__name__}")
    numbers = []
    for key in ("items", "bytes"):
        n = value.get(key)
        if type(n) is not int or n < 0:
            raise ValueError(f"credit '{key}' must be a non-negative integer, got {n!r}")
        numbers.append(n)
    return numbers[0], numbers[1]


class Credit:
    """What a stream may still send. The reader adds to the grants (CREDIT frames) under the lock;
    the stream's own thread is the only one to count what it spent, so spending takes no lock."""

    __slots__ = ("items", "bytes", "spent_items", "spent_bytes", "closed", "_changed")

    def __init__(self) -> None:
        self.items = 0
        self.bytes = 0
        self.spent_items = 0
        self.spent_bytes = 0
        self.closed = False  # the input ended: no more credit can come
        self._changed = threading.Condition(threading.Lock())

    def add(self, items: int, nbytes: int) -> None:
        with self._changed:
            self.items += items
            self.bytes += nbytes
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def available(self) -> bool:
        """At least one item and more than zero bytes (the item may overdraw the bytes)."""
        return self.items > self.spent_items and self.bytes > self.spent_bytes

    def spend(self, size: int) -> None:
        self.spent_items += 1
        self.spent_bytes += size

    def wait(self, stop: Callable[[], bool], until: Optional[float]) -> bool:
        """Waits until credit is available (True), or stop(), the input's end or ``until`` (False)."""
        with self._changed:
            while not self.available():
                if stop() or self.closed:
                    return False
                left = None if until is None else until - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
        return True


class Stream:
    """Sends one streamed result's items, on the stream's own thread."""

    def __init__(self, channel: Channel, request: inflight.Request, name: str, credit: Credit,
                 max_frame_bytes: int, loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self.channel = channel
        self.request = request
        self.name = name
        self.credit = credit
        self.max_frame_bytes = max_frame_bytes
        self.loop = loop  # the worker's event loop, started on first use
        self.count = 0
        self._batch: List[bytes] = []
        self._batch_bytes = 0

    def run(self, result: Any) -> int:
        """Sends the items of the handler's result and returns how many; raises StreamEnded,
        Cancelled, or what the generator raised. The generator is closed on the way out."""
        if inspect.iscoroutine(result):  # an async def handler: what it returns is the stream
            coroutine = result
            try:
                result = self.on_loop(lambda: coroutine)
            finally:
                coroutine.close()  # nothing once awaited; a cancel before it started leaves no warning
        step, close = self._steps(result)
        forget_cancel = self.request.on_cancel(self.credit.wake)
        _FLUSHER.watch(self)
        try:
            self._send_items(step)
        finally:
            _FLUSHER.forget(self)
            forget_cancel()
            try:
                self._flush()  # what was made before the end or the failure goes first
            finally:
                self._close(close)
        return self.count

    def _steps(self, result: Any) -> Tuple[Callable[[], Any], Optional[Callable[[], Any]]]:
        """How to take the next item (_END at the end) and how to close the generator early."""
        if hasattr(type(result), "__anext__"):  # an async generator, or any async iterator
            async def anext() -> Any:
                try:
                    return await result.__anext__()
                except StopAsyncIteration:
                    return _END
            aclose = getattr(result, "aclose", None)
            return (lambda: self.on_loop(anext),
                    None if aclose is None else lambda: self.on_loop(aclose, cancellable=False))
        if hasattr(type(result), "__next__"):
            return (lambda: next(result, _END)), getattr(result, "close", None)
        raise StreamEnded("not_a_stream", "NotAStream",
                          f"command '{self.name}' was called as a stream, but returned "
                          f"{type(result).__name__}, not an iterator or a generator")

    def _send_items(self, step: Callable[[], Any]) -> None:
        credit = self.credit
        request = self.request
        fast = False  # whether the generator's last item came within CORK_THROUGH_S
        while True:
            if not credit.available():
                self._flush()
                self._wait_for_credit()
            if request.cancelled:
                raise Cancelled("the host cancelled this stream")
            if not fast:
                self._flush()  # the next item may be slow: what is made goes out first
            started = time.perf_counter()
            item = self._step_holding(step, started) if self._batch else step()
            fast = time.perf_counter() - started < CORK_THROUGH_S
            if item is _END:
                return
            self._add(item)

    def _step_holding(self, step: Callable[[], Any], started: float) -> Any:
        """step() while items are held back: should it take long after all, the flusher writes
        them meanwhile (a generator fast so far may block now, on a callback or on I/O)."""
        parked = _FLUSHER.parked
        parked[self] = (self._batch, started)
        _HOLDING.stream = self
        try:
            return step()
        finally:
            _HOLDING.stream = None
            if parked.pop(self, None) is None:  # the flusher took the batch
                _FLUSHER.written()
                self._batch = []
                self._batch_bytes = 0

    def _wait_for_credit(self) -> None:
        request = self.request
        if self.credit.wait(lambda: request.cancelled, request.deadline):
            return
        if request.cancelled:
            raise Cancelled("the host cancelled this stream")
        if self.credit.closed:
            raise Cancelled(f"the host closed the worker's input while stream '{self.name}' "
                            f"waited for credit, after {self.count} items")
        raise StreamEnded("expired", "DeadlineExpired",
                          f"stream '{self.name}' waited for credit past its deadline, after {self.count} items")

    def _add(self, item: Any) -> None:
        frame, size = self._frame(item)
        self.credit.spend(size)
        self.count += 1
        self._batch.append(frame)
        self._batch_bytes += len(frame)
        if self._batch_bytes >= CORK_MAX_BYTES:
            self._flush()

    def _frame(self, item: Any) -> Tuple[bytes, int]:
        """The item's STREAM_ITEM frame, and its body's size (what credit counts)."""
        try:
            if type(item) is int:  # the commonest small item: the JSON encoder's set-up costs more
                payload, parts = b"%d" % item, _NO_PARTS
            else:
                payload, parts = protocol.encode_result(item)
        except protocol.NestingTooDeep as e:
            raise StreamEnded("unserializable_result", "NestingTooDeep",
                              f"item {self.count} of stream '{self.name}' cannot be sent: {e}") from None
        except BaseException as e:
            raise StreamEnded("unserializable_result", type(e).__name__,
                              f"item {self.count} of stream '{self.name}' is not JSON-serializable: "
                              f"{_describe(e)}") from None
        size = protocol.attachments.body_size(payload, parts) if parts else len(payload)
        if size > self.max_frame_bytes:
            raise StreamEnded("result_too_large", "ResultTooLarge",
                              f"item {self.count} of stream '{self.name}' is {size} bytes, over the "
                              f"frame limit of {self.max_frame_bytes} bytes")
        if parts:
            return protocol.encode_attached(protocol.STREAM_ITEM, self.request.request_id, payload, parts), size
        return protocol.encode(protocol.STREAM_ITEM, self.request.request_id, payload), size

    def _flush(self) -> None:
        batch = self._batch
        if batch:
            self._batch = []
            self._batch_bytes = 0
            self.channel.send_raw(batch[0] if len(batch) == 1 else b"".join(batch))

    def _close(self, close: Optional[Callable[[], Any]]) -> None:
        """Closes the generator (GeneratorExit at its yield: its finally blocks run); a finished
        one is left as it is. What closing raises cannot change the stream's outcome any more."""
        if close is None:
            return
        try:
            close()
        except BaseException as e:
            log(f"closing stream '{self.name}' raised {_describe(e)}")

    def on_loop(self, make: Callable[[], Awaitable[Any]], cancellable: bool = True) -> Any:
        """Awaits ``make()`` on the worker's event loop, from the stream's thread, in the request's
        context. A cancel of the request cancels that task, and this returns only once the task
        has ended: an async generator is never closed while it still runs."""
        request = self.request
        loop = self.loop()
        tasks: List["asyncio.Task[Any]"] = []

        async def run() -> Any:
            inflight.enter(request)
            tasks.append(asyncio.current_task())  # type: ignore[arg-type]
            if cancellable and request.cancelled:
                raise Cancelled("the host cancelled this stream")
            return await make()

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        forget_cancel = None
        if cancellable:
            forget_cancel = request.on_cancel(lambda: loop.call_soon_threadsafe(_cancel, tasks))
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            if request.cancelled:
                raise Cancelled("the host cancelled this stream") from None
            raise
        finally:
            if forget_cancel is not None:
                forget_cancel()


class _Flusher:
    """Writes the items a stream holds back once its generator has spent HOLD_AT_MOST_S on the
    next one. One thread for all the worker's streams, started with the first, looking every
    HOLD_AT_MOST_S while any runs. A held batch is handed over through one dict: whichever of the
    stream's thread and the flusher pops it owns it."""

    def __init__(self) -> None:
        # Held batches, with since when their generator makes the next item: Stream._step_holding
        # puts one here and pops it back (one dict operation each, atomic under the GIL).
        self.parked: Dict[Stream, Tuple[List[bytes], float]] = {}
        self._running: Set[Stream] = set()
        self._writing = threading.Lock()  # held while the flusher takes a batch and writes it
        self._wake = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()

    def watch(self, stream: Stream) -> None:
        self._running.add(stream)
        if not self._started:
            with self._start_lock:
                if not self._started:
                    threading.Thread(target=self._run, name="pypool-stream-flush", daemon=True).start()
                    self._started = True
        self._wake.set()

    def forget(self, stream: Stream) -> None:
        self._running.discard(stream)

    def written(self) -> None:
        """Returns once the batch the flusher took is written: a stream writes nothing before it."""
        with self._writing:
            pass

    def _run(self) -> None:
        while True:
            if not self._running:
                self._wake.wait()
                self._wake.clear()
                continue
            time.sleep(HOLD_AT_MOST_S)
            now = time.perf_counter()
            for stream, (_, since) in list(self.parked.items()):
                if now - since >= HOLD_AT_MOST_S:
                    self._write(stream)

    def _write(self, stream: Stream) -> None:
        with self._writing:
            parked = self.parked.pop(stream, None)
            if parked is not None:
                try:
                    stream.channel.send_raw(b"".join(parked[0]))
                except BaseException as e:  # the flusher serves every stream: it must live on
                    log(f"writing held items of stream '{stream.name}' failed: {_describe(e)}")


_FLUSHER = _Flusher()
# The stream whose generator this thread is running while items are held back, if any.
_HOLDING = threading.local()


def flush_held() -> None:
    """Writes the items the calling generator's stream holds back, now: called before the
    generator sends a frame of its own (a callback into Java), so that its items go first, and
    are not lost if what it starts ends the worker."""
    stream = getattr(_HOLDING, "stream", None)
    if stream is not None:
        _FLUSHER._write(stream)


def _cancel(tasks: "List[asyncio.Task[Any]]") -> None:
    for task in tasks:
        task.cancel()


def _describe(e: BaseException) -> str:
    try:
        return str(e)
    except BaseException:
        return f"<{type(e).__name__} that cannot be printed>"
