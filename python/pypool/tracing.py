"""The trace a call belongs to: the W3C ``traceparent`` the host sent with the request (set on
the JVM side with ``PythonPoolBuilder.tracer``; pypool-micrometer's ``PypoolObservation`` sends
the current span's). A handler reads it with ``pypool.traceparent()``, on its own thread, in a
stream's thread and in async tasks alike, and can pass it on (an outgoing HTTP header, an
OpenTelemetry context). Logging records carry it as ``record.traceparent`` (logbridge.py)."""

from __future__ import annotations

from typing import Optional

from .inflight import TRACEPARENT


def traceparent() -> Optional[str]:
    """The traceparent of the call the calling code runs for, like
    ``00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01``; None outside a call, and for a
    call sent without one (or with one not in the W3C form)."""
    return TRACEPARENT.get()
