"""Handlers bundled with the runtime, used by ``pypool demo`` and the README's example."""

from __future__ import annotations

import time
from typing import Any, Dict, List

from . import call_java, checkpoint, command


@command("echo")
def echo(value: Any = None) -> Any:
    return value


@command("add")
def add(a: float, b: float) -> float:
    return a + b


@command("text.stats")
def text_stats(text: str) -> Dict[str, Any]:
    words = text.split()
    return {"chars": len(text), "words": len(words),
            "longest": max(words, key=len) if words else None}


@command("primes")
def primes(below: int) -> List[int]:
    """A little CPU work: the primes below a bound, by trial division."""
    found: List[int] = []
    for n in range(2, below):
        if all(n % p for p in found if p * p <= n):
            found.append(n)
    return found


@command("sleep")
def sleep(ms: float) -> float:
    """Sleeps through a cancel, as a handler stuck in a C call would (the tests of hangs use it)."""
    time.sleep(ms / 1000.0)
    return ms


@command("wait")
def wait(ms: float) -> float:
    """Waits in short steps, and stops early (pypool.Cancelled) once the caller gave up."""
    end = time.monotonic() + ms / 1000.0
    while True:
        checkpoint()
        left = end - time.monotonic()
        if left <= 0:
            return ms
        time.sleep(min(left, 0.01))


@command("counter.add")
def counter_add(by: int = 1, *, session) -> Dict[str, Any]:
    """Session state in action: a running total kept in the worker the session is pinned to."""
    session["total"] = session.get("total", 0) + by
    session["calls"] = session.get("calls", 0) + 1
    return {"session": session.id, "total": session["total"], "calls": session["calls"]}


@command("counter.get")
def counter_get(*, session) -> Dict[str, Any]:
    return {"session": session.id, "total": session.get("total", 0), "calls": session.get("calls", 0)}


@command("tokens")
def tokens(text: str, delay_ms: float = 0):
    """A generator: its words stream to Java one by one (``pool.stream("tokens", ...)``)."""
    for word in text.split():
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        yield word


@command("quote")
def quote(sku: str, qty: int = 1) -> Dict[str, Any]:
    """A callback into Java: the unit price comes from the Java function 'prices.lookup'."""
    unit = call_java("prices.lookup", {"sku": sku})
    return {"sku": sku, "qty": qty, "unit": unit, "total": unit * qty}


@command("traceparent")
def traceparent_of_call() -> Any:
    """The W3C traceparent this call was sent with (None without one): what a handler passes on."""
    from . import traceparent
    return traceparent()
