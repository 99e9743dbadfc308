"""A STAND-IN for DSPy, for pypool's tests only. It is not DSPy.

DSPy cannot be installed where pypool's tests run, so this module implements the small part of
DSPy's API that ``pypool.dspy`` calls (LM, configure, context, Signature, make_signature,
InputField, OutputField, Predict, ChainOfThought, Prediction, utils.DummyLM), with an LM that
answers deterministically from the model name and the inputs. The tests that run against real
DSPy skip themselves where ``import dspy`` finds this stand-in or nothing.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, Optional

from . import utils  # noqa: F401  (dspy.utils.DummyLM)

__version__ = "0.0.0+pypool-standin"
IS_STANDIN = True


class LM:
    def __init__(self, model: str, **kwargs: Any) -> None:
        self.model = model
        self.kwargs = kwargs

    def answer(self, signature: "Signature", inputs: Dict[str, Any], reasoning: bool) -> Dict[str, Any]:
        shown = ", ".join(f"{k}={inputs[k]}" for k in sorted(inputs))
        out = {name: f"{name} from {self.model} for {shown}" for name in signature.output_fields}
        if reasoning:
            out["reasoning"] = f"{self.model} reasoned about {shown}"
        return out


class _Settings(threading.local):
    def __init__(self) -> None:
        self.overrides: list = []


_configured: Dict[str, Any] = {"lm": None}
_settings = _Settings()


def configure(lm: Any = None, **_: Any) -> None:
    _configured["lm"] = lm


@contextlib.contextmanager
def context(lm: Any = None, **_: Any):
    _settings.overrides.append(lm)
    try:
        yield
    finally:
        _settings.overrides.pop()


def _current_lm() -> Any:
    if _settings.overrides:
        return _settings.overrides[-1]
    return _configured["lm"]


class _Field:
    def __init__(self, kind: str, desc: Optional[str] = None, **_: Any) -> None:
        self.kind = kind
        self.desc = desc


def InputField(desc: Optional[str] = None, **kwargs: Any) -> _Field:  # noqa: N802 (DSPy's name)
    return _Field("input", desc, **kwargs)


def OutputField(desc: Optional[str] = None, **kwargs: Any) -> _Field:  # noqa: N802
    return _Field("output", desc, **kwargs)


class Signature:
    def __init__(self, spec: Any, instructions: Optional[str] = None) -> None:
        if isinstance(spec, str):
            if spec.count("->") != 1:
                raise ValueError(f"Invalid signature format: '{spec}'")
            ins, outs = spec.split("->")
            self.input_fields = {n.split(":")[0].strip(): _Field("input") for n in ins.split(",")}
            self.output_fields = {n.split(":")[0].strip(): _Field("output") for n in outs.split(",")}
        else:
            self.input_fields = {k: f for k, (_t, f) in spec.items() if f.kind == "input"}
            self.output_fields = {k: f for k, (_t, f) in spec.items() if f.kind == "output"}
        for name in list(self.input_fields) + list(self.output_fields):
            if not name.isidentifier():
                raise ValueError(f"Invalid field name: '{name}'")
        self.instructions = instructions or "Given the fields, produce the outputs."


def make_signature(spec: Any, instructions: Optional[str] = None, signature_name: str = "StringSignature") -> Signature:
    return Signature(spec, instructions)


class Prediction:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class Predict:
    reasoning = False

    def __init__(self, signature: Signature, **_: Any) -> None:
        self.signature = signature

    def __call__(self, **inputs: Any) -> Prediction:
        lm = _current_lm()
        if lm is None:
            raise AssertionError("No LM is loaded.")
        return Prediction(**lm.answer(self.signature, inputs, self.reasoning))


class ChainOfThought(Predict):
    reasoning = True
