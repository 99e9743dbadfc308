"""References in definitions that travel from Java: ``py:my_pkg.tools:search`` names a Python
object (a tool, a program factory, a custom LM); ``java:name`` names a Java function registered
with the pool, which only a tool can be (``dspy_tools`` makes it one).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from .dspy_errors import ReferenceNotFound

_PY = re.compile(r"py:([A-Za-z_][\w.]*):([A-Za-z_][\w.]*)")
JAVA_PREFIX = "java:"


def is_reference(text: Any) -> bool:
    return isinstance(text, str) and (text.startswith("py:") or text.startswith(JAVA_PREFIX))


def java_name(ref: Any) -> "str | None":
    """The Java function's name in a ``java:name`` reference; None for anything else."""
    if isinstance(ref, str) and ref.startswith(JAVA_PREFIX):
        name = ref[len(JAVA_PREFIX):]
        if not name.strip():
            raise ReferenceNotFound(f"'{ref}' names no Java function; write java:name, the name it was "
                                    "registered under (JavaTool.register or PythonPoolBuilder.javaFunction)")
        return name
    return None


def resolve(ref: str, what: str) -> Any:
    """The object ``py:module:attr.path`` names; ``what`` says what it is for, in errors."""
    if java_name(ref) is not None:
        raise ReferenceNotFound(f"{what} '{ref}': a java: reference names a Java function, which can "
                                "only be a ReAct tool; name a Python object as py:module:attribute")
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
