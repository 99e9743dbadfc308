"""Programs from their definitions: a structure (a module type or a user's factory) plus state.

A definition is plain JSON that the Java side keeps, so that the program can be rebuilt on any
worker (after a lost worker, an expired session, or on every worker for pool-wide programs):

    {"id": "qa", "module": "chain_of_thought", "signature": "question -> answer",
     "state": {...what program.dump_state() wrote...}, "lm": {"temperature": 0.2}, "adapter": "json"}
    {"id": "agent", "module": "react", "signature": "question -> answer",
     "tools": ["py:my_pkg.tools:search", "java:lookup_order"], "args": {"max_iters": 5},
     "java_tools": {"lookup_order": {"description": "...", "args": {...}, "required": [...]}}}
    {"id": "support", "module": "py:my_pkg.agents:make_support_agent", "args": {...},
     "state_path": "/srv/programs/support.json"}
    {"id": "legacy", "pickle_path": "/srv/programs/legacy_dir", "allow_pickle": true}

A whole-program pickle runs arbitrary code when loaded: it is refused unless ``allow_pickle`` is
true in that very definition.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Dict, List, Optional

from . import dspy_signatures, dspy_tools
from ._registry import BadArguments
from .dspy_errors import PickleNotAllowed, ProgramBuildError, ReferenceNotFound
from .dspy_refs import is_reference, resolve

MODULES = ("predict", "chain_of_thought", "react")
ADAPTERS = ("chat", "json")


class Program:
    """A built program and what is needed to call it: its fields, their types, its settings."""

    def __init__(self, definition: Dict[str, Any], module: Any, sig: Any = None) -> None:
        self.definition = definition
        self.id: str = definition["id"]
        self.module = module
        own = getattr(module, "signature", None)
        sig = own if own is not None and hasattr(own, "input_fields") else sig
        predictors = [p for _, p in module.named_predictors()]
        if sig is not None and hasattr(sig, "input_fields"):
            self.input_types: Optional[Dict[str, Any]] = {n: f.annotation for n, f in sig.input_fields.items()}
            self.inputs: Optional[List[str]] = list(sig.input_fields)
            self.outputs: List[str] = list(sig.output_fields)
            # A loaded state may have changed the instructions: one predictor's are the program's.
            self.instructions: Optional[str] = (predictors[0].signature.instructions if len(predictors) == 1
                                                else getattr(sig, "instructions", None))
        else:  # any dspy.Module: its inputs are forward()'s parameters
            params = list(inspect.signature(type(module).forward).parameters.values())[1:]  # past self
            self.inputs = None if any(p.kind is p.VAR_KEYWORD for p in params) else [
                p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            self.input_types, self.outputs, self.instructions = None, [], None
        self.lm_settings: Dict[str, Any] = dict(definition.get("lm") or {})
        self.adapter: Optional[str] = definition.get("adapter")
        self._lm_copy: Any = None
        self._lm_base: Any = None

    def lm_for(self, base: Any) -> Any:
        """The pool's LM with this program's own settings (temperature, max_tokens, n...)."""
        if not self.lm_settings:
            return base
        if self._lm_base is not base:
            self._lm_copy, self._lm_base = base.copy(**self.lm_settings), base
        return self._lm_copy

    def info(self) -> Dict[str, Any]:
        d = self.definition
        module_type = "pickle" if d.get("pickle_path") else d.get("module", "predict")
        return {"id": self.id, "module_type": module_type, "signature": d.get("signature"),
                "inputs": self.inputs, "outputs": self.outputs, "instructions": self.instructions,
                "module_class": type(self.module).__name__, "lm": self.lm_settings, "adapter": self.adapter,
                "demos": sum(len(getattr(p, "demos", []) or []) for _, p in self.module.named_predictors())}


def _structure(dspy: Any, d: Dict[str, Any]) -> Any:
    module = d.get("module", "predict")
    args = dict(d.get("args") or {})
    if "tools" in d:
        args["tools"] = dspy_tools.build(dspy, d["tools"], d.get("java_tools"))
    if is_reference(module):
        factory = resolve(module, "program factory")
        try:
            built = factory(**args)
        except Exception as e:
            raise ProgramBuildError(f"program '{d['id']}': factory '{module}' raised "
                                    f"{type(e).__name__}: {e}") from e
        if not isinstance(built, dspy.Module):
            raise ProgramBuildError(f"program '{d['id']}': factory '{module}' returned a "
                                    f"{type(built).__name__}, not a dspy.Module")
        return built, None
    if module not in MODULES:
        raise BadArguments(f"module must be one of {list(MODULES)} or a factory 'py:my_pkg.module:make', "
                           f"got '{module}'")
    if d.get("signature") is None:
        raise BadArguments(f"program '{d['id']}': module '{module}' needs a signature")
    sig = dspy_signatures.build(dspy, d["signature"])
    if module == "react":
        if "tools" not in args:
            raise BadArguments(f"program '{d['id']}': a react program needs 'tools'")
        return dspy.ReAct(sig, **args), sig
    return (dspy.Predict if module == "predict" else dspy.ChainOfThought)(sig, **args), sig


def _load_pickle(dspy: Any, d: Dict[str, Any]) -> Any:
    path = d["pickle_path"]
    if d.get("allow_pickle") is not True:
        raise PickleNotAllowed(f"program '{d['id']}': '{path}' is a whole-program pickle, which runs "
                               "arbitrary code when loaded; accept it only from a source you trust, "
                               "with ProgramSpec.fromPickle(path).allowPickle()")
    try:
        return dspy.load(path, allow_pickle=True)
    except Exception as e:
        raise ProgramBuildError(f"program '{d['id']}': the pickle '{path}' cannot be loaded: "
                                f"{type(e).__name__}: {e}") from e


def build(dspy: Any, d: Any) -> Program:
    if not isinstance(d, dict):
        raise BadArguments(f"a program definition is an object, got {d!r}")
    if not isinstance(d.get("id"), str) or not d["id"]:
        raise BadArguments("program_id must be a non-empty string")
    if d.get("adapter") is not None and d["adapter"] not in ADAPTERS:
        raise BadArguments(f"adapter must be one of {list(ADAPTERS)}, got '{d['adapter']}'")
    if d.get("lm") is not None and not isinstance(d["lm"], dict):
        raise BadArguments(f"lm must be an object of LM settings, got {d['lm']!r}")
    try:
        module, sig = (_load_pickle(dspy, d), None) if d.get("pickle_path") else _structure(dspy, d)
        if d.get("state_path"):
            path = d["state_path"]
            if not os.path.isfile(path):
                raise ProgramBuildError(f"program '{d['id']}': no state file '{path}'")
            if not path.endswith(".json") and d.get("allow_pickle") is not True:
                raise PickleNotAllowed(f"program '{d['id']}': '{path}' is not a .json state file; a .pkl "
                                       "state runs arbitrary code when loaded: opt in with allowPickle()")
            module.load(path, allow_pickle=d.get("allow_pickle") is True)
        if d.get("state") is not None:
            module.load_state(d["state"])
    except (BadArguments, PickleNotAllowed, ProgramBuildError):
        raise
    except ReferenceNotFound as e:
        raise ProgramBuildError(str(e)) from None
    except Exception as e:
        raise ProgramBuildError(f"program '{d['id']}' cannot be built from its definition: "
                                f"{type(e).__name__}: {e}") from e
    return Program(d, module, sig)
