"""Cancellation as handler code sees it: the host sent CANCEL for the call it runs for.

A synchronous handler cannot be interrupted from outside; it asks::

    for chunk in work:
        pypool.checkpoint()      # raises pypool.Cancelled once the host gave up on the call
        ...

and the worker answers a call that ends with ``Cancelled`` with kind ``cancelled``. An async
handler's task is cancelled for it; a stream's generator is closed at its next item.
"""

from __future__ import annotations

from . import inflight


class Cancelled(BaseException):
    """The host cancelled the call this code runs for. A BaseException, like KeyboardInterrupt, so
    that ``except Exception`` in user code (retry loops, tool wrappers) lets it through."""


def cancelled() -> bool:
    """Whether the host cancelled the call the calling code runs for; False outside a call (and on
    threads a handler started itself: they do not know which call they serve)."""
    request = inflight.current()
    return request is not None and request.cancelled


def checkpoint() -> None:
    """Raises Cancelled if the host cancelled the call the calling code runs for."""
    if cancelled():
        raise Cancelled("the host cancelled this call")
