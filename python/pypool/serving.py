"""Serving requests: the serving threads and the built-in commands.

``--concurrency + 1`` serving threads take turns at reading the host's input (see Worker.serve):
one reads while at most ``--concurrency`` run handlers, each usually the very request it read, so
reading never waits on a handler and the common path has no thread hand-off. A handler writes its
own reply when the pipe takes it at once; the channel's writer thread writes the rest (channel.py).

Control frames (CANCEL, CREDIT, a callback's JAVA_RESULT or JAVA_ERROR) are handled by whichever
thread reads them and never take a handler slot. A stream runs on a thread of its own from its
handler's invocation on (streams.py), so that waiting for credit holds no slot; a handler waiting
on Java (java.py) holds its slot, and with one handler thread reads the input itself meanwhile.

No request can end the worker: whatever a body holds and whatever a handler returns or raises, the
request gets a REPLY_OK or a REPLY_ERROR and the threads live on.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import inspect
import os
import select
import sys
import threading
import time
import traceback
import types
from typing import Any, Callable, Dict, Optional, Tuple

from . import _registry, inflight, java, protocol, streams
from ._registry import BadArguments, Session
from .cancellation import Cancelled
from .channel import CORK_THROUGH_S, Channel, log
from .inflight import CURRENT_REQUEST, Request  # noqa: F401  (CURRENT_REQUEST: pypool.faults, handlers)

_ANSWERED = object()  # a handler path that already sent its reply
# What a plain (not streamed) call answers with the list of its items.
_GENERATORS = (types.GeneratorType, types.AsyncGeneratorType)

# JSON up to MAX_NESTING_DEPTH levels must decode and encode on a handler thread, whatever the
# handler's own stack depth: the recursion limit and the handler threads' stacks leave room for it.
RECURSION_LIMIT = 4 * protocol.MAX_NESTING_DEPTH
HANDLER_STACK_BYTES = 16 << 20
# How long one handler may run before the watcher reads the input in its place (one handler thread).
WATCH_S = 0.005
WATCH_IDLE_S = 0.05  # how often the watcher looks while no handler runs
MAX_TIMED_COMMANDS = 4096
# At most this many threads run the synchronous parts that async handlers hand off (asyncio.to_thread).
ASYNC_OFFLOAD_THREADS = 256


class Worker:
    def __init__(self, channel: Channel, worker_id: str, max_frame_bytes: int) -> None:
        self.channel = channel
        self.worker_id = worker_id
        self.max_frame_bytes = max_frame_bytes
        self.started = time.monotonic()
        self.calls_served = 0
        self.errors = 0
        self.sessions: Dict[str, Session] = {}
        # Requests read and not yet answered, by id: where CANCEL and CREDIT find their call.
        self.requests: Dict[int, Request] = {}
        inflight.track(self.requests)
        self.active_streams: Dict[int, streams.Credit] = {}  # streams running, by request id
        self.callbacks = java.Callbacks(channel, max_frame_bytes, self._reads_input_when_idle,
                                        self._read_while_waiting)
        self._alone: Optional[int] = None  # the one handler thread's ident (one handler thread)
        self._control: Dict[int, Callable[[int, Any], None]] = {
            protocol.CANCEL: lambda request_id, _: self.cancel(request_id),
            protocol.CREDIT: self._credit,
            protocol.JAVA_RESULT: lambda callback_id, body: self.callbacks.answer(
                protocol.JAVA_RESULT, callback_id, body),
            protocol.JAVA_ERROR: lambda callback_id, body: self.callbacks.answer(
                protocol.JAVA_ERROR, callback_id, body),
        }
        self._event_loop: Optional[asyncio.AbstractEventLoop] = None
        self._event_loop_lock = threading.Lock()
        self._builtins = {"ping": self._ping, "stats": self._stats, "close_session": self._close_session}
        # A moving average of each command's handler time (sync handlers), in seconds.
        self._run_times: Dict[str, float] = {}

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
                "streams": len(self.active_streams), "callbacks": len(self.callbacks.waiting),
                "commands": _registry.registered_commands()}

    def _close_session(self, session_id: Optional[str]) -> Dict[str, Any]:
        return {"closed": session_id is not None and self.sessions.pop(session_id, None) is not None}

    # -- the reader (main thread) ------------------------------------------------------------
    def serve(self, concurrency: int) -> None:
        """Reads frames until a clean end of input, then waits until every request read is
        answered and written. Raises ProtocolError on input that is not frames.

        One handler thread (the default): it reads and runs each request itself, the fastest path,
        and a watcher thread reads on its behalf while a handler runs longer than WATCH_S.

        More: leader/follower, ``concurrency + 1`` threads take turns at reading. The thread that reads
        a request runs it itself when a handler slot is free and nothing older waits (no thread
        hand-off on the common path), after letting go of the input, so that another thread reads
        on meanwhile. At most ``concurrency`` threads run handlers, so one is always free to read:
        input is never left unread while handlers run. A request read while every slot is taken
        waits in a FIFO backlog, which a thread finishing a handler takes from first, so requests
        start in the order they were read."""
        self._permits = max(1, concurrency)
        self._backlog: "collections.deque[Request]" = collections.deque()
        self._state = threading.Lock()     # guards _permits and _backlog
        self._reading = threading.Lock()   # held by the one thread reading the input now
        self._eof = False
        self._fatal: Optional[BaseException] = None
        self._busy_since: Optional[float] = None
        java.serve_with(self.callbacks)
        if self._permits == 1:
            threads = self._start_threads(self._serve_alone, self._watch)
        else:
            threads = self._start_threads(*[self._loop] * (self._permits + 1))
        for t in threads:
            t.join()
        if self._fatal is not None:
            raise self._fatal
        while self.requests:  # every request read gets its answer before the worker leaves
            time.sleep(0.001)
        self.channel.drain()

    def _start_threads(self, *targets) -> "list[threading.Thread]":
        return [_start_thread(target, f"pypool-serve-{n}") for n, target in enumerate(targets)]

    # -- control frames: handled by whichever thread reads them, never as requests -------------
    def cancel(self, request_id: int) -> None:
        """CANCEL: the request is flagged, and what waits on its behalf is woken (see Request.cancel);
        one not started is answered when its turn comes. An id not held any more is ignored."""
        request = self.requests.get(request_id)
        if request is not None:
            request.cancel()

    def _credit(self, request_id: int, body: Any) -> None:
        request = self.requests.get(request_id)
        if request is None:  # answered already: the host's credit crossed the final reply
            return
        try:
            items, nbytes = streams.parse_credit(protocol.decode_body(body))
        except BaseException as e:
            log(f"a CREDIT frame for request {request_id} was ignored: {_describe(e)}")
            return
        # Kept on the request even before its stream starts: credit sent early is not lost.
        inflight.credit_of(request, streams.Credit).add(items, nbytes)

    def _end_of_input(self, fatal: Optional[BaseException] = None) -> None:
        """No frame will come any more: nothing may wait for one, or the worker could never leave."""
        self._fatal, self._eof = fatal, True
        why = "the host closed the worker's input" if fatal is None else f"the host's input is broken: {fatal}"
        self.callbacks.close(why)
        for credit in list(self.active_streams.values()):
            credit.close()

    # -- the serving threads -----------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._reading:
                request = self._read_locked()
                if request is None:
                    return
                # Decided while still holding the input, so requests take slots in the order read.
                with self._state:
                    mine = not self._backlog and self._permits > 0
                    if mine:
                        self._permits -= 1
                    else:
                        self._backlog.append(request)
            if mine:
                self._run_while_work(request)

    def _read_locked(self, stop: Optional[Callable[[], bool]] = None,
                     before_wait: Optional[Callable[[], None]] = None) -> Optional[Request]:
        """Reads frames up to the next request and returns it; control frames on the way are
        handled here. None at the end of input, or after a control frame once stop() is true.
        before_wait() runs whenever nothing is buffered, before a read that may block."""
        reader = self.channel.reader
        while not self._eof:
            if before_wait is not None and not reader.buffered():
                before_wait()
            try:
                frame = protocol.read_frame(self.channel.reader, self.max_frame_bytes)
            except BaseException as e:  # not frames: the worker ends (exit code 4)
                self._end_of_input(e)
                return None
            if frame is None:
                self._end_of_input()
                return None
            kind, request_id, body = frame
            if kind == protocol.REQUEST:
                request = Request(request_id, body)
                self.requests[request_id] = request  # one dict operation: atomic under the GIL
                return request
            control = self._control.get(kind)
            if control is None:
                self._end_of_input(protocol.ProtocolError(f"unexpected frame kind {kind} from the host"))
                return None
            try:
                control(request_id, body)
            except BaseException as e:  # the reader must outlive any frame
                log(f"handling a frame of kind {kind} for id {request_id} failed: {_describe(e, use_repr=True)}")
            if stop is not None and stop():
                return None
        return None

    # -- callbacks: a handler waiting on Java, with one handler thread, reads the input itself ---
    def _reads_input_when_idle(self) -> bool:
        """Whether the calling thread is the one handler thread: the thread that would read the
        input, were it not waiting. Elsewhere a thread free to read is always there (the leader
        in leader/follower mode, the one handler thread otherwise) and delivers the answer."""
        return self._alone == threading.get_ident()

    def _read_while_waiting(self, done: Callable[[], bool], until: float) -> bool:
        """Reads the input until done() (the answer came) or ``until``; requests read meanwhile
        wait in the backlog, in order, and this very thread takes them once its handler ends.
        False when another thread reads now (the watcher): that one delivers the answer."""
        if self._eof or not self._reading.acquire(blocking=False):
            return False
        reader = self.channel.reader
        try:
            while not done() and not self._eof:
                left = until - time.monotonic()
                if left <= 0 or (not reader.buffered() and not _readable(self.channel.in_fd, left)):
                    break
                # After a control frame, back here unless more is buffered: a read would block.
                request = self._read_locked(stop=lambda: done() or not reader.buffered())
                if request is not None:
                    with self._state:  # in the backlog before the input is let go: never overtaken
                        self._backlog.append(request)
        finally:
            self._reading.release()
        return True

    # -- one handler thread: it reads and runs; a watcher reads during long handlers ----------
    def _serve_alone(self) -> None:
        channel = self.channel
        corked = False
        self._alone = threading.get_ident()

        def release_corked() -> None:
            # The input may keep us waiting (what is buffered may be only control frames, which
            # answer nothing): replies held back must not wait on it.
            nonlocal corked
            if corked:
                channel.uncork()
                corked = False

        while True:
            request = self._next_in_backlog()  # what the watcher read meanwhile goes first
            if request is None:
                if not self._reading.acquire(blocking=False):
                    release_corked()  # the watcher is inside a read of its own, which may wait
                    self._reading.acquire()
                try:
                    request = self._next_in_backlog() or self._read_locked(before_wait=release_corked)
                finally:
                    self._reading.release()
            if request is None:
                if corked:
                    channel.uncork()
                return
            if not corked and channel.reader.buffered() > 0:
                # More requests arrived with this one (the host pipelines): their replies go out
                # together once none is left, or when a handler runs long (the watcher flushes).
                channel.cork()
                corked = True
            self._busy_since = time.monotonic()
            try:
                self._run(request)
            finally:
                self._busy_since = None
            if corked and not self._backlog and channel.reader.buffered() == 0:
                channel.uncork()  # the next read may wait: everything answered goes out now
                corked = False

    def _next_in_backlog(self) -> Optional[Request]:
        if not self._backlog:  # the common case, without the lock; a request missed here is seen under it
            return None
        with self._state:
            return self._backlog.popleft() if self._backlog else None

    def _watch(self) -> None:
        """While the handler thread runs one handler for more than WATCH_S, reads on its behalf
        (requests wait in the backlog, in order), so input, control frames included, is never
        left unread for long (at most WATCH_IDLE_S + WATCH_S after a handler starts). Short
        handlers never meet it."""
        while not self._eof:
            since = self._busy_since
            # An idle worker is looked at rarely; a busy one every WATCH_S.
            time.sleep(WATCH_S if since is not None else WATCH_IDLE_S)
            since = self._busy_since
            if since is None or time.monotonic() - since < WATCH_S:
                continue
            self.channel.flush_corked()  # replies done before this slow handler go out now
            while self._busy_since is not None and not self._eof:
                if not self._reading.acquire(timeout=WATCH_S):
                    continue
                try:
                    request = self._read_locked()
                    if request is None:
                        return
                    with self._state:  # in the backlog before the input is let go: never overtaken
                        self._backlog.append(request)
                finally:
                    self._reading.release()

    def _run_while_work(self, request: Optional[Request]) -> None:
        """Holding a handler slot: runs the request, then the backlog, then gives the slot back."""
        while request is not None:
            self._run(request)
            with self._state:
                if self._backlog:
                    request = self._backlog.popleft()
                else:
                    self._permits += 1
                    request = None

    def _run(self, request: Request) -> None:
        later = False
        try:
            later = self.handle(request)
        except BaseException as e:  # a bug of ours: still answer, and keep the thread
            self._internal_error(request.request_id, e)
        finally:
            if not later:
                self.requests.pop(request.request_id, None)

    def _internal_error(self, request_id: int, e: BaseException) -> None:
        try:
            self._error(request_id, "exception", "pypool.InternalError",
                        f"the worker failed to handle this request: {_describe(e, use_repr=True)}", _format(e))
        except BaseException:
            pass

    # -- async handlers: one event loop per worker ------------------------------------------
    def _loop_thread(self) -> asyncio.AbstractEventLoop:
        """The worker's event loop, started at the first async handler; it runs on its own thread."""
        with self._event_loop_lock:
            if self._event_loop is None:
                loop = asyncio.new_event_loop()
                # asyncio.to_thread (sync work an async handler hands off) would otherwise get
                # cpu_count + 4 threads: too few for many slow calls in flight. Threads start lazily.
                loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(
                    max_workers=ASYNC_OFFLOAD_THREADS, thread_name_prefix="pypool-offload"))
                threading.Thread(target=loop.run_forever, name="pypool-asyncio", daemon=True).start()
                self._event_loop = loop
            return self._event_loop

    def _run_async(self, request: Request, name: str, coroutine: Any) -> None:
        """An ``async def`` handler: its coroutine runs on the event loop, and the handler thread
        is free at once, so many such calls can wait on I/O in one worker without a thread each.
        A CANCEL cancels its task."""
        request_id = request.request_id
        loop = self._loop_thread()

        async def run() -> None:
            inflight.enter(request)
            task = asyncio.current_task()
            forget_cancel = request.on_cancel(lambda: loop.call_soon_threadsafe(task.cancel))  # type: ignore[union-attr]
            try:
                result = await coroutine
                if isinstance(result, _GENERATORS):
                    result = await _items_of(result)
            except BaseException as e:  # a handler may raise anything
                self._failed(request, name, e)
            else:
                self._reply(request_id, name, result)
            finally:
                forget_cancel()

        def done(future: "concurrent.futures.Future[None]") -> None:
            if not future.cancelled() and future.exception() is not None:
                self._internal_error(request_id, future.exception())
            self.requests.pop(request_id, None)

        asyncio.run_coroutine_threadsafe(run(), loop).add_done_callback(done)

    # -- streams: each on a thread of its own, from the invocation to the final reply ---------
    def _start_stream(self, request: Request, name: str, args: Any, session_id: Optional[str],
                      credit: Tuple[int, int]) -> bool:
        request_id = request.request_id
        stream_credit = inflight.credit_of(request, streams.Credit)
        stream_credit.add(*credit)
        self.active_streams[request_id] = stream_credit
        if self._eof:  # read before the input ended, started after: no credit can come any more
            stream_credit.close()
        try:
            _start_thread(lambda: self._stream(request, name, args, session_id, stream_credit),
                          f"pypool-stream-{request_id}")
        except BaseException:
            self.active_streams.pop(request_id, None)
            raise
        return True

    def _stream(self, request: Request, name: str, args: Any, session_id: Optional[str],
                credit: streams.Credit) -> None:
        request_id = request.request_id
        inflight.enter(request)
        try:
            try:
                result = self._dispatch(request_id, name, args, session_id)
                if result is _ANSWERED:
                    return
                stream = streams.Stream(self.channel, request, name, credit, self.max_frame_bytes,
                                        self._loop_thread)
                count = stream.run(result)
            except streams.StreamEnded as e:
                self._error(request_id, e.kind, e.type_name, e.message)
            except BaseException as e:  # the generator may raise anything
                self._failed(request, name, e)
            else:
                self._count(error=False)
                self.channel.send(protocol.REPLY_OK, request_id, b'{"items":%d}' % count)
        except BaseException as e:
            self._internal_error(request_id, e)
        finally:
            self.active_streams.pop(request_id, None)
            self.requests.pop(request_id, None)

    # -- one request -----------------------------------------------------------------------------
    def handle(self, request: Request) -> bool:
        """Runs one request and sends its reply; True when it is answered later (an async
        handler, a stream)."""
        parsed = self._parse(request)
        if parsed is None:
            return False
        name, args, session_id, credit = parsed
        request_id = request.request_id
        if request.cancelled:
            self._error(request_id, "cancelled", "Cancelled", f"call '{name}' was cancelled before it started")
            return False
        if request.deadline is not None:
            now = time.monotonic()
            if now >= request.deadline:
                self._error(request_id, "expired", "DeadlineExpired",
                            f"call '{name}' was not started: its deadline passed after "
                            f"{int((now - request.received) * 1000)} ms waiting in the worker")
                return False
        if credit is not None:
            return self._start_stream(request, name, args, session_id, credit)
        inflight.enter(request)
        channel = self.channel
        if channel.has_corked() and self._run_times.get(name, 1.0) > CORK_THROUGH_S:
            channel.flush_corked()  # replies already computed never wait on what this one does
        started = time.monotonic()
        try:
            result = self._dispatch(request_id, name, args, session_id)
            if isinstance(result, _GENERATORS):  # a plain call of a generator: the list of its items
                if inspect.isasyncgen(result):
                    self._run_async(request, name, _items_of(result))
                    return True
                result = list(result)
        except BaseException as e:  # a handler may raise anything, SystemExit included
            self._failed(request, name, e)
            return False
        if result is _ANSWERED:
            return False
        if inspect.iscoroutine(result):
            self._run_async(request, name, result)
            return True
        self._timed(name, time.monotonic() - started)
        self._reply(request_id, name, result)
        return False

    def _parse(self, request: Request) -> Optional[Tuple[str, Any, Optional[str], Optional[Tuple[int, int]]]]:
        """The request's command, arguments, session and stream credit; None once a malformed
        body is answered (bad_request). Sets the request's deadline."""
        try:
            decoded = protocol.decode_body(request.body)
            name = decoded["cmd"]
            args = decoded.get("args")
            session_id = decoded.get("session")
            deadline_ms = decoded.get("deadline_ms")
            stream = decoded.get("stream")
            if not isinstance(name, str):
                raise TypeError(f"'cmd' must be a string, got {type(name).__name__}")
            if deadline_ms is not None and (isinstance(deadline_ms, bool)
                                            or not isinstance(deadline_ms, (int, float))):
                raise TypeError(f"'deadline_ms' must be a number, got {type(deadline_ms).__name__}")
            credit = None if stream is None else streams.parse_credit(stream)
        except BaseException as e:  # invalid UTF-8 or JSON, too deep, not an object...
            self._error(request.request_id, "bad_request", type(e).__name__, f"malformed request: "
                        f"{e if isinstance(e, protocol.NestingTooDeep) else _describe(e, use_repr=True)}")
            return None
        if deadline_ms is not None:
            request.deadline = request.received + deadline_ms / 1000.0
        request.traceparent = inflight.valid_traceparent(decoded.get("traceparent"))  # an invalid one is ignored
        return name, args, session_id, credit

    def _timed(self, name: str, took: float) -> None:
        times = self._run_times
        typical = times.get(name)
        if typical is not None:
            times[name] = typical + (took - typical) / 8
        elif len(times) < MAX_TIMED_COMMANDS:
            times[name] = took

    def _reply(self, request_id: int, name: str, result: Any) -> None:
        try:
            # bytes, bytearray, memoryview and NumPy arrays become attachments beside the JSON
            payload, parts = protocol.encode_result(result)
        except protocol.NestingTooDeep as e:
            self._error(request_id, "unserializable_result", "NestingTooDeep",
                        f"the result of '{name}' cannot be sent: {e}")
            return
        except BaseException as e:
            self._error(request_id, "unserializable_result", type(e).__name__,
                        f"the result of '{name}' is not JSON-serializable: {_describe(e)}")
            return
        size = protocol.attachments.body_size(payload, parts) if parts else len(payload)
        if size > self.max_frame_bytes:
            what = f" ({len(parts)} binary attachments and their JSON)" if parts else ""
            self._error(request_id, "result_too_large", "ResultTooLarge",
                        f"the result of '{name}' is {size} bytes{what}, over the frame limit of "
                        f"{self.max_frame_bytes} bytes")
            return
        self._count(error=False)
        if parts:
            self.channel.send_raw(protocol.encode_attached(protocol.REPLY_OK, request_id, payload, parts))
        else:
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

    def _failed(self, request: Request, name: str, e: BaseException) -> None:
        """Answers a handler (or generator) that raised."""
        if isinstance(e, BadArguments):  # also from a handler that checks its own arguments
            self._error(request.request_id, "bad_arguments", "BadArguments", _describe(e))
        elif isinstance(e, Cancelled) or (isinstance(e, asyncio.CancelledError) and request.cancelled):
            detail = _describe(e)
            self._error(request.request_id, "cancelled", "Cancelled",
                        f"call '{name}' was cancelled" + (f": {detail}" if detail else ""), _format(e))
        else:
            self._exception(request.request_id, e)

    def _exception(self, request_id: int, e: BaseException) -> None:
        kind = type(e)
        qualified = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        self._error(request_id, "exception", qualified, _describe(e), _format(e))

    def _error(self, request_id: int, kind: str, type_name: str, message: str, tb: str = "") -> None:
        self._count(error=True)
        self.channel.send(protocol.REPLY_ERROR, request_id, protocol.error_body(kind, type_name, message, tb))

    def _count(self, error: bool) -> None:
        # Statistics only: an increment lost to a race between handler threads costs nothing.
        self.calls_served += 1
        if error:
            self.errors += 1


async def _items_of(generator: Any) -> list:
    if inspect.isasyncgen(generator):
        return [item async for item in generator]
    return list(generator)


_stack_size_lock = threading.Lock()


def _start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread with a stack deep enough for MAX_NESTING_DEPTH levels of JSON. The stack size
    is process-wide: it is raised only around the start, under a lock, for this thread alone."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    with _stack_size_lock:
        previous = threading.stack_size()
        try:
            threading.stack_size(max(previous, HANDLER_STACK_BYTES))
        except (ValueError, RuntimeError):  # a platform that cannot size stacks keeps its own
            pass
        try:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    return thread


def _readable(fd: int, timeout: float) -> bool:
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (OSError, ValueError):  # a descriptor gone: the read that follows says so
        return True


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
