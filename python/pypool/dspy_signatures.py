"""Signatures from what Java sends: DSPy's string form, or fields with types and descriptions.

Types are written as in Python annotations (``list[str]``, ``Literal['pos', 'neg']``,
``Optional[int]``, ``dict[str, int]``, ``datetime.date``, ``dspy.History``) and parsed by DSPy's own
signature parser, so a string signature and a field list accept the same types. A field may
instead carry a JSON Schema (``"schema"``), for structured outputs: it becomes a pydantic model.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Tuple

from ._registry import BadArguments

HINT = "write it as 'input1, input2: list[str] -> output1, output2: int'"


def from_string(dspy: Any, text: str) -> Any:
    if text.count("->") != 1:
        raise BadArguments(f"signature '{text}' must have exactly one '->'; {HINT}")
    try:
        return dspy.Signature(text)
    except Exception as e:
        raise BadArguments(f"DSPy rejected signature '{text}' ({type(e).__name__}: {e}); every field "
                           f"needs a name that is an identifier and an optional type; {HINT}") from None


def annotation(dspy: Any, type_text: str, field: str) -> Any:
    """The annotation ``type_text`` stands for, parsed the way DSPy parses a string signature."""
    if type_text == "str":
        return str
    try:
        return dspy.Signature(f"pypool_field: {type_text} -> pypool_out").input_fields["pypool_field"].annotation
    except Exception as e:
        raise BadArguments(f"field '{field}' has type '{type_text}' that DSPy cannot read "
                           f"({type(e).__name__}: {e}); write a Python annotation such as "
                           "list[str], Literal['a', 'b'], Optional[int] or dict[str, int]") from None


_JSON_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}


def from_json_schema(schema: Dict[str, Any], name: str) -> Any:
    """A Python type for a JSON Schema: objects become pydantic models, enums Literal types."""
    import pydantic

    if not isinstance(schema, dict):
        raise BadArguments(f"the JSON Schema of '{name}' must be an object, got {schema!r}")
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]  # type: ignore[misc]
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):  # ["string", "null"]
        kinds = [k for k in kind if k != "null"]
        inner = from_json_schema({**schema, "type": kinds[0]}, name) if kinds else type(None)
        return Optional[inner] if "null" in kind else inner
    if kind in _JSON_TYPES:
        return _JSON_TYPES[kind]
    if kind == "array":
        return List[from_json_schema(schema.get("items", {}), name + "_item")] if "items" in schema else list
    if kind == "object":
        props = schema.get("properties")
        if not props:
            return Dict[str, Any]
        required = set(schema.get("required", []))
        fields: Dict[str, Tuple[Any, Any]] = {}
        for prop, sub in props.items():
            t = from_json_schema(sub, f"{name}_{prop}")
            desc = sub.get("description") if isinstance(sub, dict) else None
            default = ... if prop in required else None
            fields[prop] = (t if prop in required else Optional[t],
                            pydantic.Field(default, description=desc))
        model_name = schema.get("title") or "".join(p.capitalize() for p in name.split("_"))
        return pydantic.create_model(model_name, **fields)
    raise BadArguments(f"the JSON Schema of '{name}' has type {kind!r}; pypool reads object, array, string, "
                       "integer, number, boolean, null and enum")


def from_fields(dspy: Any, signature: Dict[str, Any]) -> Any:
    fields: Dict[str, Any] = {}
    for side, make in (("inputs", dspy.InputField), ("outputs", dspy.OutputField)):
        entries = signature.get(side) or []
        if not entries:
            raise BadArguments(f"signature needs at least one entry in '{side}'")
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name.isidentifier():
                raise BadArguments(f"every field in '{side}' needs a 'name' that is an identifier, got {entry!r}")
            if entry.get("schema") is not None:
                kind = from_json_schema(entry["schema"], name)
            else:
                kind = annotation(dspy, entry.get("type") or "str", name)
            desc = entry.get("description") or entry.get("desc")
            fields[name] = (kind, make(desc=desc) if desc else make())
    try:
        return dspy.make_signature(fields, signature.get("instructions") or None)
    except Exception as e:
        raise BadArguments(f"DSPy rejected the signature fields {sorted(fields)}: {e}") from None


def build(dspy: Any, signature: Any) -> Any:
    if isinstance(signature, str):
        return from_string(dspy, signature)
    if isinstance(signature, dict):
        return from_fields(dspy, signature)
    raise BadArguments("signature must be a string such as 'question -> answer' or an object "
                       "with 'inputs', 'outputs' and optional 'instructions'")
