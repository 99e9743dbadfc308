"""pypool's Python runtime: the worker side of a pool of warm Python processes driven from the JVM.

User code only needs the decorator::

    import pypool

    @pypool.command("add")
    def add(a: int, b: int) -> int:
        return a + b

    @pypool.command("counter.increment")
    def increment(by: int = 1, *, session):
        session["count"] = session.get("count", 0) + by
        return session["count"]

A handler that has a parameter named ``session`` receives its session's state (a dict that lives
as long as the session, in the one worker the session is pinned to). Results must be JSON values.

A handler may also:

- return a generator (sync or async): called as a stream, each item goes to the host as it is
  made, paced by the host's credit; called plainly, the host gets the list of the items;
- ask ``pypool.cancelled()``, or call ``pypool.checkpoint()``, which raises ``pypool.Cancelled``
  once the host gave up on the call (an async handler's task is cancelled for it);
- call a Java function registered with the pool: ``pypool.call_java(name, args)``, or
  ``await pypool.call_java_async(name, args)`` in an async handler; a Java failure raises
  ``pypool.JavaError``, no answer in time ``pypool.JavaTimeout``;
- read the W3C trace context its call was sent with: ``pypool.traceparent()`` (None if none);
  its logging records carry it as ``record.traceparent`` too.

This package uses the standard library only.
"""

from ._registry import Session, command, current_worker, registered_commands
from .cancellation import Cancelled, cancelled, checkpoint
from .java import JavaError, JavaTimeout, call_java, call_java_async
from .tracing import traceparent

__all__ = ["command", "Session", "current_worker", "registered_commands",
           "Cancelled", "cancelled", "checkpoint",
           "call_java", "call_java_async", "JavaError", "JavaTimeout", "traceparent", "__version__"]

__version__ = "0.1.0"
