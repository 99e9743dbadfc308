"""Building and checking the LM a pool's workers use, before anything is saved.

``dspy.LM(...)`` checks little when it is built and imports its backend (LiteLLM) only when it
sends its first request. Here every check that can run without a request runs at configure time:
the settings' types, DSPy's own constructor checks, and whether the backend can be imported.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Dict, Tuple

from .dspy_errors import LmConfigError, ReferenceNotFound
from .dspy_refs import is_reference, resolve

DUMMY_MODEL = "pypool/dummy"
_NUMBERS = {"temperature": (int, float), "top_p": (int, float), "max_tokens": int, "num_retries": int,
            "n": int, "timeout": (int, float)}


def _check_types(options: Dict[str, Any]) -> None:
    for name, kinds in _NUMBERS.items():
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise LmConfigError(f"LM setting '{name}' must be a number, got {value!r}")
    if options.get("max_tokens") is not None and options["max_tokens"] < 1:
        raise LmConfigError(f"LM setting 'max_tokens' must be positive, got {options['max_tokens']}")
    if options.get("cache") is not None and not isinstance(options["cache"], bool):
        raise LmConfigError(f"LM setting 'cache' must be true or false, got {options['cache']!r}")


def _check_backend(model: str) -> str:
    """dspy.LM sends its requests through LiteLLM: it must be importable now, not at the first call."""
    try:
        importlib.import_module("litellm")
    except Exception as e:
        raise LmConfigError(
            f"model '{model}' needs LiteLLM (dspy.LM sends its requests through it), which cannot be "
            f"imported in {sys.executable}: {type(e).__name__}: {e}. Install it there "
            f"({sys.executable} -m pip install litellm), or give a custom dspy.BaseLM as "
            f"LmConfig.custom(\"py:my_pkg.lms:MyLM\")") from None
    return "litellm"


def build(dspy: Any, model: Any, options: Dict[str, Any]) -> Tuple[Any, Dict[str, Any]]:
    """The LM for ``model`` with ``options``, and what was checked; raises LmConfigError."""
    if not isinstance(model, str) or not model:
        raise LmConfigError("configure_lm needs a model name such as 'openai/gpt-4o-mini'")
    options = dict(options)
    _check_types(options)
    if model == DUMMY_MODEL:
        # DSPy's own test LM: answers in turn (a list) or by a text in the prompt (a dict); no network.
        answers = options.pop("answers", None)
        if not isinstance(answers, (list, dict)) or not answers:
            raise LmConfigError(f"model '{DUMMY_MODEL}' needs 'answers': a list of field->value objects, "
                                "or an object from a text in the prompt to field->value objects")
        try:
            return dspy.utils.DummyLM(answers, **options), {"model": model, "backend": "dummy"}
        except TypeError as e:
            raise LmConfigError(f"DummyLM refused its settings: {e}") from None
    if is_reference(model):
        try:
            factory = resolve(model, "LM")
        except ReferenceNotFound as e:
            raise LmConfigError(str(e)) from None
        try:
            lm = factory(**options)
        except Exception as e:
            raise LmConfigError(f"LM '{model}' refused its settings: {type(e).__name__}: {e}") from None
        if not isinstance(lm, dspy.BaseLM):
            raise LmConfigError(f"LM '{model}' made a {type(lm).__name__}, not a dspy.BaseLM")
        return lm, {"model": model, "backend": "custom", "class": type(lm).__qualname__}
    try:
        lm = dspy.LM(model, **options)  # DSPy's own checks (reasoning models' settings, model type...)
    except Exception as e:
        raise LmConfigError(f"DSPy refused LM '{model}': {type(e).__name__}: {e}") from None
    return lm, {"model": model, "backend": _check_backend(model)}
