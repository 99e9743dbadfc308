"""References to Python objects in definitions that travel from Java: ``py:my_pkg.tools:search``.

One kind of reference for tools, program factories and custom LMs; the ``java:`` kind is kept for
callbacks into the JVM and refused for now with a message that says so.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from .dspy_errors import ReferenceNotFound

_PY = re.compile(r"py:([A-Za-z_][\w.]*):([A-Za-z_][\w.]*)")


def is_reference(text: Any) -> bool:
    return isinstance(text, str) and (text.startswith("py:") or text.startswith("java:"))


def resolve(ref: str, what: str) -> Any:
    """The object ``py:module:attr.path`` names; ``what`` says what it is for, in errors."""
    if isinstance(ref, str) and ref.startswith("java:"):
        raise ReferenceNotFound(f"{what} '{ref}': java: references need callbacks into the JVM, "
                                "which this version does not have; name a Python object as py:module:attribute")
    m = _PY.fullmatch(ref) if isinstance(ref, str) else None
    if m is None:
        raise ReferenceNotFound(f"{what} '{ref}' is not a reference; write py:package.module:attribute")
    module_name, path = m.groups()
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:
        raise ReferenceNotFound(f"{what} '{ref}': module '{module_name}' cannot be imported "
                                f"({type(e).__name__}: {e}); is it on the pool's pythonPath?") from e
    for part in path.split("."):
        if not hasattr(obj, part):
            raise ReferenceNotFound(f"{what} '{ref}': '{module_name}' has no attribute '{path}'")
        obj = getattr(obj, part)
    return obj
