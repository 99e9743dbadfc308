"""DSPy's own errors (dspy.utils.exceptions) reach the caller by kind, with their structured fields."""

import json
import os

import pytest

if os.environ.get("PYPOOL_DSPY_REQUIRED") == "1":
    import dspy
else:
    dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter")

from dspy.utils import exceptions as dx  # noqa: E402

from pypool import dspy as commands  # noqa: E402
from pypool._registry import Session  # noqa: E402
from pypool.dspy_errors import DETAILS_MARKER, DspyCallFailed  # noqa: E402

RAISES = {
    "LMRateLimitError": lambda: dx.LMRateLimitError("slow down", model="m", status=429, retry_after=2.5),
    "ContextWindowExceededError": lambda: dx.ContextWindowExceededError(model="m"),
    "LMAuthError": lambda: dx.LMAuthError("bad key", model="m", status=401),
    "LMTimeoutError": lambda: dx.LMTimeoutError("too slow", model="m"),
    "LMServerError": lambda: dx.LMServerError("oops", model="m", status=500),
    "LMTransportError": lambda: dx.LMTransportError("no route", model="m"),
}


class RaisingLM(dspy.BaseLM):
    """Raises the DSPy error named ``error``, or answers ``reply`` as raw text."""

    forward_contract = "legacy"

    def __init__(self, error=None, reply=None, **kwargs):
        super().__init__(model="test/raising", **kwargs)
        self.error, self.reply = error, reply

    def forward(self, prompt=None, messages=None, **kwargs):
        from dspy.dsp.utils.utils import dotdict
        if self.error:
            raise RAISES[self.error]()
        return dotdict(choices=[dotdict(message=dotdict(content=self.reply, tool_calls=None), finish_reason="stop")],
                       usage=dotdict(prompt_tokens=0, completion_tokens=0, total_tokens=0), model="test/raising")


def run(**lm):
    commands.configure_lm("py:test_dspy_errors:RaisingLM", **lm)
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    with pytest.raises(DspyCallFailed) as caught:
        commands.execute_program("qa", {"question": "?"}, session=session)
    message, details = str(caught.value).split(DETAILS_MARKER)
    return message, json.loads(details)


@pytest.mark.parametrize("error", sorted(RAISES))
def test_each_lm_error_arrives_with_its_kind_and_fields(error):
    message, details = run(error=error)
    assert details["types"][0] == error and "DSPyError" in details["types"]
    assert message.startswith(f"program 'qa': {error}")
    if error == "LMRateLimitError":
        assert details["retry_after"] == 2.5 and details["status"] == 429 and details["code"] == "rate_limit"


def test_an_unparseable_reply_carries_the_raw_lm_response():
    message, details = run(reply="I will not use your format")
    assert details["types"][0] == "AdapterParseError"
    assert details["lm_response"] == "I will not use your format"
