"""Streamed executions in-process: what DSPy 3.3.1's streamify gives with LMs that do not stream
(DummyLM), with a custom LM that puts its own chunks in the stream, and with failures."""

import asyncio
import os

import pytest

if os.environ.get("PYPOOL_DSPY_REQUIRED") == "1":
    import dspy
else:
    dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter")

from dspy.dsp.utils.utils import dotdict  # noqa: E402
from dspy.utils import exceptions as dx  # noqa: E402

from pypool import dspy as commands  # noqa: E402
from pypool._registry import BadArguments, Session  # noqa: E402
from pypool.dspy_errors import DspyCallFailed  # noqa: E402


class OwnChunksLM(dspy.BaseLM):
    """Sends chunks it makes itself into DSPy's stream: a StreamResponse per word of the answer,
    then an object of its own; or raises ``error``."""

    forward_contract = "legacy"

    def __init__(self, error=None, **kwargs):
        super().__init__(model="test/own-chunks", cache=False, **kwargs)
        self.error = error

    async def aforward(self, prompt=None, messages=None, **kwargs):
        if self.error:
            raise dx.LMRateLimitError("slow down", model=self.model, status=429)
        stream = dspy.settings.send_stream
        if stream is not None:
            words = ["made ", "by ", "me"]
            for i, word in enumerate(words):
                await stream.send(dspy.streaming.StreamResponse("mine", "answer", word, i == len(words) - 1))
            await stream.send({"progress": 1.0})
        return dotdict(choices=[dotdict(message=dotdict(content="[[ ## answer ## ]]\nmade by me\n\n[[ ## completed ## ]]",
                                                        tool_calls=None), finish_reason="stop")],
                       usage=dotdict(prompt_tokens=1, completion_tokens=1, total_tokens=2), model=self.model)


def chunks(program_id, inputs, session):
    async def collect():
        return [c async for c in commands.stream_program(program_id, inputs, session=session)]
    return asyncio.run(collect())


def test_with_dummy_lm_the_stream_is_the_prediction_alone_the_same_as_execute():
    commands.configure_lm("pypool/dummy", answers=[{"reasoning": "r", "answer": "42"}] * 2)
    session = Session("s")
    commands.create_program("cot", "question -> answer", "chain_of_thought", session=session)
    got = chunks("cot", {"question": "?"}, session)
    assert [c["type"] for c in got] == ["prediction"]
    prediction = dict(got[0])
    del prediction["type"]
    assert prediction == commands.execute_program("cot", {"question": "?"}, session=session)


def test_a_custom_lms_own_chunks_pass_as_tokens_and_custom_values():
    commands.configure_lm("py:test_dspy_stream:OwnChunksLM")
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    got = chunks("qa", {"question": "?"}, session)
    assert got[:3] == [{"type": "token", "predictor": "mine", "field": "answer", "text": w, "last": last}
                       for w, last in (("made ", False), ("by ", False), ("me", True))]
    assert got[3] == {"type": "custom", "value": {"progress": 1.0}}
    assert got[4]["type"] == "prediction" and got[4]["outputs"] == {"answer": "made by me"}


def test_failures_are_execute_failures():
    commands.configure_lm("py:test_dspy_stream:OwnChunksLM", error="LMRateLimitError")
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    with pytest.raises(DspyCallFailed, match="LMRateLimitError: .*slow down"):
        chunks("qa", {"question": "?"}, session)
    # Inputs are checked when the stream is asked for, before any of it runs.
    with pytest.raises(BadArguments, match="missing \\['question'\\]"):
        commands.stream_program("qa", {}, session=session)
