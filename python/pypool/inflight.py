"""The requests a worker holds, from the moment their frame is read until their final reply: what
a CANCEL or a CREDIT frame finds by id, and what ``pypool.cancelled()`` or ``pypool.call_java``
finds for the code running now (through CURRENT_REQUEST)."""

from __future__ import annotations

import contextvars
import re
import threading
import time
from typing import Any, Callable, Dict, List, Optional

# The request the calling code runs for: set on handler threads, stream threads and in async
# handlers' tasks (asyncio.to_thread copies it along); 0 elsewhere.
CURRENT_REQUEST: "contextvars.ContextVar[int]" = contextvars.ContextVar("pypool_request", default=0)

# The W3C traceparent the host sent with that request (``pypool.traceparent()``); None elsewhere
# and for requests sent without one. Set together with CURRENT_REQUEST by enter().
TRACEPARENT: "contextvars.ContextVar[Optional[str]]" = contextvars.ContextVar("pypool_traceparent", default=None)

# version-traceid-parentid-flags, lower-case hex; an all-zero trace or parent id is invalid, and
# version ff is forbidden (https://www.w3.org/TR/trace-context/#traceparent-header).
_TRACEPARENT = re.compile(r"(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


def valid_traceparent(value: Any) -> Optional[str]:
    """``value`` if it is a W3C traceparent of the form ``00-<32 hex>-<16 hex>-<2 hex>``, else None."""
    if isinstance(value, str) and len(value) == 55 and _TRACEPARENT.fullmatch(value):
        return value
    return None


def enter(request: "Request") -> None:
    """Makes ``request`` the one the calling code runs for, in the current context: its id and
    its traceparent (every request sets both, so a handler thread never keeps the last one's)."""
    CURRENT_REQUEST.set(request.request_id)
    TRACEPARENT.set(request.traceparent)


class Request:
    """A request from the moment its frame was read until its reply is queued."""

    __slots__ = ("request_id", "body", "received", "deadline", "cancelled", "credit", "traceparent", "_on_cancel")

    def __init__(self, request_id: int, body: Any) -> None:
        self.request_id = request_id
        self.body = body
        self.received = time.monotonic()
        self.deadline: Optional[float] = None  # time.monotonic() past which the host gave up
        self.cancelled = False
        self.credit: Any = None  # a stream's streams.Credit, made at its start or its first CREDIT
        self.traceparent: Optional[str] = None  # the host's W3C traceparent, if it sent a valid one
        self._on_cancel: List[Callable[[], None]] = []

    def time_left(self) -> Optional[float]:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def cancel(self) -> None:
        """On the reader: flags the request and wakes whatever waits on its behalf."""
        if self.cancelled:
            return
        self.cancelled = True
        for hook in list(self._on_cancel):
            try:
                hook()
            except BaseException:  # a hook must not cost the reader its thread
                pass

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Runs ``hook`` when the request is cancelled (at once if it is already); returns what
        forgets it. A hook may run twice when registering races a cancel: it must not mind."""
        self._on_cancel.append(hook)
        if self.cancelled:
            hook()

        def forget() -> None:
            try:
                self._on_cancel.remove(hook)
            except ValueError:
                pass
        return forget


_table: Dict[int, Request] = {}  # the serving worker's own table (Worker.requests)
_credit_lock = threading.Lock()


def track(table: Dict[int, Request]) -> None:
    """Makes ``table`` the one current() looks in: the serving worker's requests by id."""
    global _table
    _table = table


def current() -> Optional[Request]:
    """The request the calling code runs for, while it is held; None elsewhere."""
    request_id = CURRENT_REQUEST.get()
    return _table.get(request_id) if request_id else None


def credit_of(request: Request, make: Callable[[], Any]) -> Any:
    """The request's stream credit, made on first use: by a CREDIT frame on the reader or by the
    stream's start, whichever comes first, and never twice."""
    credit = request.credit
    if credit is None:
        with _credit_lock:
            credit = request.credit
            if credit is None:
                credit = request.credit = make()
    return credit
