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
This package uses the standard library only.
"""

from ._registry import Session, command, current_worker, registered_commands

__all__ = ["command", "Session", "current_worker", "registered_commands", "__version__"]

__version__ = "0.1.0"
