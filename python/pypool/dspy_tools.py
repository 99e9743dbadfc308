"""ReAct tools from the references in a definition: ``py:my_pkg.tools:search`` is the Python function
itself; ``java:name`` becomes a ``dspy.Tool`` whose body runs the Java function ``name`` registered
with the pool (``pypool.call_java``), with the arguments the LM chose, as a JSON object.

A Java tool's description and arguments come from the definition's ``java_tools`` (JavaTool fills
them in from Java)::

    "tools": ["java:weather", "py:my_pkg.tools:search"],
    "java_tools": {"weather": {"description": "The weather in a city.",
                               "args": {"city": {"type": "string", "description": "its name"}},
                               "required": ["city"]}}

Without them a ``java:name`` tool is described only as a Java function that takes keyword
arguments: the LM learns what to pass from the program's instructions, or not at all.

What the Java function throws arrives as ``pypool.JavaError``, an Exception: ReAct writes it in the
trajectory as the tool's error, for the LM to read, and goes on. ``pypool.Cancelled`` (the host gave
up on the call) is a BaseException, so it ends the program instead.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from . import java
from ._registry import BadArguments
from .dspy_errors import ProgramBuildError
from .dspy_refs import java_name, resolve

GENERIC_DESCRIPTION = ("A function of the Java application serving this program. Give its arguments "
                       "as a JSON object of name -> value.")


def build(dspy: Any, refs: Any, specs: Any) -> List[Any]:
    """The tools that ``refs`` name, in their order; ``specs`` describes the Java ones by name."""
    if not isinstance(refs, list):
        raise BadArguments(f"tools must be a list of references such as 'py:my_pkg.tools:search' or "
                           f"'java:lookup_order', got {refs!r}")
    specs = {} if specs is None else specs
    if not isinstance(specs, dict):
        raise BadArguments(f"java_tools must be an object of tool name -> description, got {specs!r}")
    named = {java_name(ref) for ref in refs}
    stray = sorted(set(specs) - named)
    if stray:
        raise BadArguments(f"java_tools describes {stray}, which the tools {refs} do not name as java:name")
    tools = []
    for ref in refs:
        name = java_name(ref)
        if name is not None:
            tools.append(java_tool(dspy, name, specs.get(name)))
            continue
        tool = resolve(ref, "tool")
        if not callable(tool):
            raise ProgramBuildError(f"tool '{ref}' is a {type(tool).__name__}, not a function")
        tools.append(tool)
    _check_unique(dspy, refs, tools)
    return tools


def java_tool(dspy: Any, name: str, spec: Optional[Dict[str, Any]]) -> Any:
    """A dspy.Tool that calls the Java function ``name``. With a spec, the LM sees its description
    and arguments, and DSPy checks the arguments it gives against their JSON schemas (an unknown or
    mistyped one is a tool error the LM reads); without one, any keyword arguments go to Java."""
    if spec is None:
        tool = dspy.Tool(_calls_java(name, ()), name=name, desc=GENERIC_DESCRIPTION, args={}, arg_types={})
        tool.has_kwargs = True
        return tool
    description, args, required = _parse_spec(name, spec)
    schemas = {}
    for arg, schema in args.items():
        schemas[arg] = dict(schema)
        if arg not in required:
            schemas[arg].setdefault("default", None)  # how DSPy marks an argument the LM may leave out
    tool = dspy.Tool(_calls_java(name, required), name=name, desc=description, args=schemas,
                     arg_types={arg: Any for arg in args})
    tool.has_kwargs = False  # the arguments are the declared ones: another is an error the LM sees
    return tool


def _calls_java(name: str, required: "tuple[str, ...] | List[str]") -> Any:
    def call_java_tool(**kwargs: Any) -> Any:
        missing = [arg for arg in required if arg not in kwargs]
        if missing:
            raise ValueError(f"Java tool '{name}' needs the arguments {missing}, got {sorted(kwargs)}")
        if _on_event_loop():
            # Called from ReAct.aforward on the worker's event loop: wait there, holding no thread.
            return _await_java(name, kwargs)
        return java.call_java(name, kwargs)
    call_java_tool.__name__ = name
    return call_java_tool


async def _await_java(name: str, kwargs: Dict[str, Any]) -> Any:
    return await java.call_java_async(name, kwargs)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _parse_spec(name: str, spec: Any) -> "tuple[str, Dict[str, Dict[str, Any]], List[str]]":
    if not isinstance(spec, dict):
        raise BadArguments(f"java_tools['{name}'] must be an object with description, args and required")
    description = spec.get("description") or GENERIC_DESCRIPTION
    args = spec.get("args") or {}
    if not isinstance(description, str):
        raise BadArguments(f"java_tools['{name}'].description must be text, got {description!r}")
    if not isinstance(args, dict) or not all(isinstance(s, dict) for s in args.values()):
        raise BadArguments(f"java_tools['{name}'].args must be an object of argument -> JSON schema, got {args!r}")
    required = spec.get("required", list(args))
    if not isinstance(required, list) or any(r not in args for r in required):
        raise BadArguments(f"java_tools['{name}'].required must list some of its args {list(args)}, "
                           f"got {required!r}")
    return description, args, required


def _check_unique(dspy: Any, refs: List[Any], tools: List[Any]) -> None:
    """ReAct keeps tools by name: of two with one name, the LM could only ever reach the last."""
    seen: Dict[str, Any] = {}
    for ref, tool in zip(refs, tools):
        name = tool.name if isinstance(tool, dspy.Tool) else getattr(tool, "__name__", type(tool).__name__)
        if name in seen:
            raise ProgramBuildError(f"tools '{seen[name]}' and '{ref}' are both named '{name}'; "
                                    "ReAct tells tools apart by name")
        seen[name] = ref
