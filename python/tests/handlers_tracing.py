"""Handlers that report the trace context their call runs in."""

import asyncio
import logging
import threading

import pypool

_records = []


class _Keep(logging.Handler):
    def emit(self, record):
        _records.append(getattr(record, "traceparent", "missing"))


_log = logging.getLogger("tracing_test")
_log.addHandler(_Keep())
_log.propagate = False
_log.setLevel(logging.INFO)


@pypool.command("tr.seen")
def seen():
    _log.info("in the handler")
    return {"traceparent": pypool.traceparent(), "logged": _records[-1]}


@pypool.command("tr.stream")
def stream(n: int):
    for _ in range(n):
        yield pypool.traceparent()


@pypool.command("tr.async")
async def seen_async():
    await asyncio.sleep(0)
    return [pypool.traceparent(), await asyncio.to_thread(pypool.traceparent)]


@pypool.command("tr.outside")
def outside():
    """What a plain thread started by the handler sees: no call of its own."""
    got = []
    t = threading.Thread(target=lambda: got.append(pypool.traceparent()))
    t.start()
    t.join()
    return got[0]


@pypool.command("tr.warn")
def warn(message: str):
    """A record through the root logger: the bridge writes it to stderr for the JVM."""
    logging.getLogger("tr.bridge").warning(message)
    return True
