"""The errors of ``pypool.dspy``, by name, as the Java side maps them (``io.pypool.dspy.Dspy``)."""

from __future__ import annotations

import json
from typing import Any, Dict, List

# A DSPy error's structured fields travel after this line of its message (the wire carries a
# type name and a message only); the Java side splits them off.
DETAILS_MARKER = "\n--pypool-dspy-details--\n"


class DspyUnavailable(RuntimeError):
    """DSPy cannot be imported in this worker's interpreter."""


class LmNotConfigured(RuntimeError):
    """A program ran before any LM was configured."""


class LmConfigError(ValueError):
    """configure_lm was refused: DSPy's own checks, a bad setting, or a backend that cannot be imported."""


class ProgramNotFound(LookupError):
    """The session (or the pool) has no program with that id."""


class ProgramBuildError(ValueError):
    """A program could not be built from its definition (module, factory, tools or state)."""


class ReferenceNotFound(LookupError):
    """A ``py:module:attribute`` reference names nothing importable."""


class PickleNotAllowed(PermissionError):
    """A whole-program pickle was offered without the explicit opt-in."""


class DspyCallFailed(RuntimeError):
    """DSPy raised one of its own errors (``dspy.utils.exceptions``) while a program ran."""

    def __init__(self, message: str, details: Dict[str, Any]) -> None:
        super().__init__(message + DETAILS_MARKER + json.dumps(details, default=str))
        self.details = details


def from_dspy_error(e: BaseException, program_id: str) -> DspyCallFailed:
    """Wraps a DSPyError: its class and its bases (most specific first) and its structured fields."""
    names: List[str] = [c.__name__ for c in type(e).__mro__
                        if c.__module__.startswith("dspy.") and c.__name__ != "object"]
    details: Dict[str, Any] = {"types": names, "program": program_id}
    for field in ("code", "model", "provider", "provider_code", "status", "request_id", "retry_after",
                  "adapter_name", "lm_response", "features", "issues"):
        value = getattr(e, field, None)
        if value is not None:
            details[field] = value
    parsed = getattr(e, "parsed_result", None)
    if isinstance(parsed, dict):
        details["parsed_fields"] = sorted(parsed)
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return DspyCallFailed(f"program '{program_id}': {type(e).__name__}: {first}", details)
