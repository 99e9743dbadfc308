"""Between JSON and DSPy: inputs to their declared types, outputs to JSON all the way down."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._registry import BadArguments


def convert_inputs(program: Any, inputs: Any) -> Dict[str, Any]:
    """Checks the field names, then turns each value into its declared type (pydantic validation)."""
    if not isinstance(inputs, dict):
        raise BadArguments(f"inputs of program '{program.id}' must be an object of field -> value")
    if program.inputs is not None:
        missing = [f for f in program.inputs if f not in inputs]
        unknown = [f for f in inputs if f not in program.inputs]
        if missing or unknown:
            raise BadArguments(f"program '{program.id}' takes inputs {program.inputs}; "
                               + "; ".join(x for x in (f"missing {missing}" if missing else "",
                                                       f"unknown {unknown}" if unknown else "") if x))
    if not program.input_types:
        return dict(inputs)
    import pydantic

    out = {}
    for name, value in inputs.items():
        kind = program.input_types.get(name)
        if kind is None or kind is str or value is None:
            out[name] = value
            continue
        try:
            out[name] = pydantic.TypeAdapter(kind).validate_python(value)
        except Exception as e:
            raise BadArguments(f"input '{name}' of program '{program.id}' must be "
                               f"{getattr(kind, '__name__', kind)}: {e}") from None
    return out


def jsonable(value: Any) -> Any:
    """Deep JSON form: pydantic models in JSON mode, dates as ISO text, sets as lists, tuples..."""
    import pydantic_core

    return pydantic_core.to_jsonable_python(value, fallback=str)


def _fields(prediction: Any) -> Dict[str, Any]:
    return {k: jsonable(v) for k, v in prediction.items()}


def result(prediction: Any) -> Dict[str, Any]:
    outputs = _fields(prediction)
    reasoning = outputs.pop("reasoning", None)
    if reasoning is None:
        reasoning = outputs.pop("rationale", None)
    reply: Dict[str, Any] = {"outputs": outputs, "reasoning": None if reasoning is None else str(reasoning)}
    usage = prediction.get_lm_usage() if hasattr(prediction, "get_lm_usage") else None
    reply["usage"] = jsonable(usage) if usage else None
    completions = getattr(prediction, "completions", None)
    if completions is not None and len(completions) > 1:
        reply["completions"] = [{k: jsonable(v) for k, v in completions[i].items()}
                                for i in range(len(completions))]
    return reply


def wants_history(options: Optional[Dict[str, Any]]) -> bool:
    return bool((options or {}).get("history"))


_HISTORY_FIELDS = ("model", "messages", "prompt", "outputs", "usage", "cost", "timestamp")


def lm_history(lm: Any) -> List[Dict[str, Any]]:
    """The LM calls of one execution: what was sent and what came back, as JSON. The execution ran
    on its own copy of the LM, so its history holds nothing of any other call."""
    return [jsonable({k: entry.get(k) for k in _HISTORY_FIELDS}) for entry in getattr(lm, "history", [])]


def completion_count(options: Optional[Dict[str, Any]]) -> Optional[int]:
    n = (options or {}).get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise BadArguments(f"n must be a positive number of completions, got {n!r}")
    return n
