"""DSPy programs as pypool commands: ``handlerModules("pypool.dspy")``.

Programs live in the calling session's state, so one session never sees another's. The LM is
kept here, per process, and used through ``dspy.context`` on whatever thread runs the call (DSPy
lets only one thread change its global settings, and a pool may run several calls at once).
DSPy is imported when this module is, so the import cost is paid at worker start, not at the first
call. Where DSPy is missing, every command says so, naming this interpreter and how to install it.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any, Dict, List, Optional

from . import _registry, command
from ._registry import BadArguments, Session

PROGRAMS = "pypool.dspy.programs"
DUMMY_MODEL = "pypool/dummy"
MODULES = ("predict", "chain_of_thought")
TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


class DspyUnavailable(RuntimeError):
    """DSPy cannot be imported in this worker's interpreter."""


class LmNotConfigured(RuntimeError):
    """A program ran before any LM was configured."""


class ProgramNotFound(LookupError):
    """The session has no program with that id."""


try:
    _dspy: Any = importlib.import_module("dspy")
    _import_error: Optional[BaseException] = None
except Exception as e:  # ImportError, or a broken install raising anything at import
    _dspy = None
    _import_error = e

_lm_lock = threading.Lock()
_lm: Any = None
_lm_model: Optional[str] = None


def _require_dspy() -> Any:
    if _dspy is None:
        raise DspyUnavailable(
            f"DSPy is not importable in {sys.executable} ({type(_import_error).__name__}: {_import_error}); "
            f"install it into that interpreter: {sys.executable} -m pip install dspy")
    return _dspy


def status() -> Dict[str, Any]:
    return {"available": _dspy is not None,
            "version": getattr(_dspy, "__version__", None) if _dspy is not None else None,
            "error": None if _import_error is None else f"{type(_import_error).__name__}: {_import_error}",
            "lm": _lm_model}


_registry.PING_EXTRAS["dspy"] = status


@command("dspy.status")
def dspy_status() -> Dict[str, Any]:
    return dict(status(), executable=sys.executable)


@command("dspy.configure_lm")
def configure_lm(model: str, api_key: Optional[str] = None, temperature: Optional[float] = None,
                 max_tokens: Optional[int] = None, **kwargs: Any) -> Dict[str, Any]:
    """Sets this worker's LM. The Java side sends it to every worker, and again to each new one."""
    global _lm, _lm_model
    dspy = _require_dspy()
    if not isinstance(model, str) or not model:
        raise BadArguments("configure_lm needs a model name such as 'openai/gpt-4o-mini'")
    if model == DUMMY_MODEL:
        # DSPy's own test LM: deterministic answers, no network. For tests of code that uses DSPy.
        answers = kwargs.pop("answers", None)
        if answers is None:
            raise BadArguments(f"model '{DUMMY_MODEL}' needs 'answers' (a list of field->value dicts)")
        lm = dspy.utils.DummyLM(answers, **kwargs)
    else:
        options = {k: v for k, v in (("api_key", api_key), ("temperature", temperature),
                                     ("max_tokens", max_tokens)) if v is not None}
        options.update(kwargs)
        lm = dspy.LM(model, **options)
    with _lm_lock:
        _lm, _lm_model = lm, model
    return {"model": model, "configured": True}


def _programs(session: Session) -> Dict[str, Dict[str, Any]]:
    return session.setdefault(PROGRAMS, {})


def _parse_signature_string(text: str) -> None:
    """Checks DSPy's string form ourselves, so that every DSPy version gives the same clear error."""
    hint = "write it as 'input1, input2 -> output1, output2'"
    if text.count("->") != 1:
        raise BadArguments(f"signature '{text}' must have exactly one '->'; {hint}")
    for side, part in zip(("inputs", "outputs"), text.split("->")):
        names = [n.split(":")[0].strip() for n in part.split(",")]
        if not part.strip() or any(not n.isidentifier() for n in names):
            raise BadArguments(f"signature '{text}' has invalid {side} {names}; {hint}")


def _build_signature(dspy: Any, signature: Any) -> Any:
    if isinstance(signature, str):
        _parse_signature_string(signature)
        try:
            return dspy.Signature(signature)
        except Exception as e:
            raise BadArguments(f"DSPy rejected signature '{signature}': {e}") from None
    if not isinstance(signature, dict):
        raise BadArguments("signature must be a string such as 'question -> answer' or an object "
                           "with 'inputs', 'outputs' and optional 'instructions'")
    fields: Dict[str, Any] = {}
    for side, make in (("inputs", dspy.InputField), ("outputs", dspy.OutputField)):
        entries = signature.get(side) or []
        if not entries:
            raise BadArguments(f"signature needs at least one entry in '{side}'")
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name.isidentifier():
                raise BadArguments(f"every field in '{side}' needs a 'name' that is an identifier, got {entry!r}")
            type_name = entry.get("type", "str")
            if type_name not in TYPES:
                raise BadArguments(f"field '{name}' has type '{type_name}'; use one of {sorted(TYPES)}")
            desc = entry.get("description") or entry.get("desc")
            fields[name] = (TYPES[type_name], make(desc=desc) if desc else make())
    try:
        return dspy.make_signature(fields, signature.get("instructions") or None)
    except Exception as e:
        raise BadArguments(f"DSPy rejected the signature fields {sorted(fields)}: {e}") from None


def _build(program_id: str, signature: Any, module: str) -> Dict[str, Any]:
    dspy = _require_dspy()
    if not isinstance(program_id, str) or not program_id:
        raise BadArguments("program_id must be a non-empty string")
    if module not in MODULES:
        raise BadArguments(f"module must be one of {list(MODULES)}, got '{module}'")
    sig = _build_signature(dspy, signature)
    built = dspy.Predict(sig) if module == "predict" else dspy.ChainOfThought(sig)
    return {"id": program_id, "module_type": module, "signature": signature, "program": built,
            "inputs": list(sig.input_fields.keys()), "outputs": list(sig.output_fields.keys()),
            "instructions": getattr(sig, "instructions", None)}


def _info(p: Dict[str, Any]) -> Dict[str, Any]:
    return {k: p[k] for k in ("id", "module_type", "signature", "inputs", "outputs", "instructions")}


def _find(session: Session, program_id: str) -> Dict[str, Any]:
    p = _programs(session).get(program_id)
    if p is None:
        raise ProgramNotFound(f"session '{session.id}' has no program '{program_id}'; it has: "
                              f"{sorted(_programs(session)) or 'none'}")
    return p


@command("dspy.create_program")
def create_program(program_id: str, signature: Any, module_type: str = "predict", *,
                   session: Session) -> Dict[str, Any]:
    p = _build(program_id, signature, module_type)
    _programs(session)[program_id] = p
    return _info(p)


@command("dspy.restore_programs")
def restore_programs(programs: List[Dict[str, Any]], *, session: Session) -> Dict[str, Any]:
    """Rebuilds a session's programs on a new worker, from the definitions the host kept."""
    rebuilt = {p["id"]: _build(p["id"], p["signature"], p.get("module_type", "predict")) for p in programs}
    _programs(session).clear()
    _programs(session).update(rebuilt)
    return {"restored": sorted(rebuilt)}


@command("dspy.execute_program")
def execute_program(program_id: str, inputs: Dict[str, Any], *, session: Session) -> Dict[str, Any]:
    dspy = _require_dspy()
    p = _find(session, program_id)
    if not isinstance(inputs, dict):
        raise BadArguments(f"inputs of program '{program_id}' must be an object of field -> value")
    missing = [f for f in p["inputs"] if f not in inputs]
    unknown = [f for f in inputs if f not in p["inputs"]]
    if missing or unknown:
        raise BadArguments(f"program '{program_id}' takes inputs {p['inputs']}; "
                           + "; ".join(x for x in (f"missing {missing}" if missing else "",
                                                   f"unknown {unknown}" if unknown else "") if x))
    with _lm_lock:
        lm = _lm
    if lm is None:
        raise LmNotConfigured("no LM is configured in this pool: call configure_lm first")
    with dspy.context(lm=lm):
        prediction = p["program"](**inputs)
    outputs = {name: _jsonable(getattr(prediction, name, None)) for name in p["outputs"]}
    reasoning = getattr(prediction, "reasoning", None) or getattr(prediction, "rationale", None)
    return {"outputs": outputs, "reasoning": None if reasoning is None else str(reasoning)}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


@command("dspy.list_programs")
def list_programs(*, session: Session) -> List[str]:
    return sorted(_programs(session))


@command("dspy.get_program_info")
def get_program_info(program_id: str, *, session: Session) -> Dict[str, Any]:
    return _info(_find(session, program_id))


@command("dspy.delete_program")
def delete_program(program_id: str, *, session: Session) -> Dict[str, Any]:
    return {"deleted": _programs(session).pop(program_id, None) is not None}


@command("dspy.reset")
def reset(*, session: Session) -> Dict[str, Any]:
    programs = _programs(session)
    count = len(programs)
    programs.clear()
    return {"deleted": count}
