"""Python ``logging`` records reach the JVM at their own level.

A worker whose handler modules left the root logger without handlers gets one handler there that
writes each record to stderr as one line the pool recognizes: a marker, the level number, the
logger's name and the formatted message (with its traceback), newlines escaped. The pool logs it
through SLF4J at the matching level (DEBUG, INFO, WARN, ERROR); every other stderr line stays a
plain INFO line. Levels stay Python's to set: the root logger keeps WARNING unless a module
changes it, so nothing extra crosses the pipe by default. A module that configures logging itself
(``logging.basicConfig``, its own handlers) is left alone.

The line format is shared with PythonLogLine.java: ``\\x1epypool-log LEVELNO NAME\\tMESSAGE``, or
``\\x1epypool-log LEVELNO;TRACEPARENT NAME\\tMESSAGE`` for a record logged in a traced call (the
JVM puts it into the MDC as ``traceparent``).

Every record made in a worker, whoever handles it, carries ``record.traceparent``: the W3C trace
context of the call it was logged for (``pypool.traceparent()``), or None. A format string may
use ``%(traceparent)s``.
"""

from __future__ import annotations

import logging
import sys

from .inflight import TRACEPARENT

MARK = "\x1epypool-log "


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class BridgeHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            traceparent = getattr(record, "traceparent", None)
            level = f"{record.levelno};{traceparent}" if traceparent else record.levelno
            line = f"{MARK}{level} {record.name}\t{escape(self.format(record))}\n"
            stream = sys.stderr
            stream.write(line)
            stream.flush()
        except Exception:  # a record that cannot be written must not fail the handler that logged it
            self.handleError(record)


def install() -> bool:
    """Adds the bridge to the root logger if nothing else handles records there; True if it did."""
    root = logging.getLogger()
    if root.handlers:
        return False
    handler = BridgeHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    return True


def install_traceparent() -> None:
    """Makes every logging record carry ``record.traceparent`` (wraps the record factory, once)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_pypool_traceparent", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.traceparent = TRACEPARENT.get()
        return record

    factory._pypool_traceparent = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
