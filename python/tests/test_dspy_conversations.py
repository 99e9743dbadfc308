"""pypool.dspy's streams and Java tools through a real worker's pipes: the test plays the host,
granting credit, reading STREAM_ITEM and CALL_JAVA frames, answering and cancelling.

The worker also loads this module, for its LM (``py:test_dspy_conversations:ChunkLM``) and for
``test.lm_cancelled``, which says whether that LM saw its cancel."""

import asyncio
import json
import os
import re
import threading

import pytest

if os.environ.get("PYPOOL_DSPY_REQUIRED") == "1":
    import dspy
else:
    dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter")

import pypool  # noqa: E402
from dspy.dsp.utils.utils import dotdict  # noqa: E402
from pypool import protocol  # noqa: E402
from workerproc import WorkerProcess  # noqa: E402

CANCELLED = threading.Event()


class ModelResponseStream:
    """A streamed chunk as LiteLLM gives it to dspy.LM, as far as DSPy reads it (by class name and module)."""

    def __init__(self, text, predict_id):
        self.choices = [dotdict(delta=dotdict(content=text))]
        self.predict_id = predict_id


ModelResponseStream.__module__ = "litellm.types.utils"


class ChunkLM(dspy.BaseLM):
    """Answers ``answers`` in turn; inside dspy.streamify it first streams each answer a word at a
    time, as dspy.LM streams LiteLLM's chunks. After ``hang_after`` words it waits to be cancelled."""

    forward_contract = "legacy"

    def __init__(self, answers=(), hang_after=None, **kwargs):
        super().__init__(model="test/chunks", cache=False, **kwargs)
        self.answers = ["".join(f"[[ ## {k} ## ]]\n{v if isinstance(v, str) else json.dumps(v)}\n\n"
                                for k, v in a.items()) + "[[ ## completed ## ]]" for a in answers]
        self.hang_after, self.turn = hang_after, 0

    async def aforward(self, prompt=None, messages=None, **kwargs):
        content = self.answers[self.turn % len(self.answers)]
        self.turn += 1
        stream, caller = dspy.settings.send_stream, dspy.settings.caller_predict
        if stream is not None:
            for i, piece in enumerate(re.findall(r"\S+\s*|\s+", content)):
                if i == self.hang_after:
                    try:
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        CANCELLED.set()
                        raise
                await stream.send(ModelResponseStream(piece, id(caller) if caller else None))
        return dotdict(choices=[dotdict(message=dotdict(content=content, tool_calls=None), finish_reason="stop")],
                       usage=dotdict(prompt_tokens=1, completion_tokens=1, total_tokens=2), model=self.model)


@pypool.command("test.lm_cancelled")
def lm_cancelled(timeout_s: float) -> bool:
    return CANCELLED.wait(timeout_s)


@pytest.fixture
def worker():
    w = WorkerProcess("pypool.dspy", "test_dspy_conversations")
    w.read_hello()
    yield w
    w.kill()


def ok(w, cmd, args):
    kind, body = w.call(cmd, args)
    assert kind == protocol.REPLY_OK, body
    return body


def define(w, program_id, signature, module="predict", **definition):
    ok(w, "dspy.define_pool_program", {"definition": dict(definition, id=program_id, module=module,
                                                          signature=signature)})


def items_and_end(w, rid):
    items = []
    while True:
        kind, reply_id, body = w.read()
        assert reply_id == rid, (kind, body)
        if kind != protocol.STREAM_ITEM:
            return items, kind, json.loads(body)
        items.append(protocol.decode_body(body))


def step(tool, args):
    return {"next_thought": f"use {tool}", "next_tool_name": tool, "next_tool_args": args}


def test_a_stream_gives_each_fields_tokens_then_the_prediction_execute_gives(worker):
    ok(worker, "dspy.configure_lm", {"model": "py:test_dspy_conversations:ChunkLM",
                                     "answers": [{"reasoning": "it is the capital", "answer": "Paris is big"}]})
    define(worker, "cot", "question -> answer", "chain_of_thought")
    args = {"program_id": "cot", "inputs": {"question": "?"}}

    items, kind, end = items_and_end(worker, worker.stream("dspy.stream_pool_program", args))

    assert (kind, end) == (protocol.REPLY_OK, {"items": len(items)})
    tokens = [i for i in items if i["type"] == "token"]
    assert {(t["predictor"], t["field"]) for t in tokens} == {("predict", "reasoning"), ("predict", "answer")}
    assert "".join(t["text"] for t in tokens if t["field"] == "answer").strip() == "Paris is big"
    assert len(tokens) > 4 and [t["last"] for t in tokens].count(True) == 2
    assert [i["type"] for i in items].count("prediction") == 1
    prediction = items[-1]
    assert prediction.pop("type") == "prediction"
    assert prediction == ok(worker, "dspy.execute_pool_program", args)


def test_closing_a_stream_cancels_the_lm_it_waits_on_and_the_worker_serves_on(worker):
    ok(worker, "dspy.configure_lm", {"model": "py:test_dspy_conversations:ChunkLM",
                                     "answers": [{"answer": "Partial answer"}], "hang_after": 6})
    define(worker, "qa", "question -> answer")
    rid = worker.stream("dspy.stream_pool_program", {"program_id": "qa", "inputs": {"question": "?"}})
    kind, _, body = worker.read()
    assert kind == protocol.STREAM_ITEM and protocol.decode_body(body)["text"] == "Partial "

    worker.cancel(rid)

    kind, reply_id, body = worker.read()
    assert (kind, reply_id, json.loads(body)["kind"]) == (protocol.REPLY_ERROR, rid, "cancelled")
    assert ok(worker, "test.lm_cancelled", {"timeout_s": 10}) is True


def test_a_java_tool_sends_the_lms_arguments_to_java_and_reads_its_answer_or_its_error(worker):
    ok(worker, "dspy.configure_lm", {"model": "pypool/dummy", "answers": [
        step("weather", {"city": "Paris"}), step("weather", {"city": "Atlantis"}), step("finish", {}),
        {"reasoning": "r", "answer": "21 in Paris"}]})
    define(worker, "agent", "question -> answer", "react", tools=["java:weather"],
           java_tools={"weather": {"description": "The weather.", "args": {"city": {"type": "string"}}}})
    rid = worker.send("dspy.execute_pool_program", {"program_id": "agent", "inputs": {"question": "?"}})

    cid, call = worker.read_call_java()
    assert (call["fn"], call["args"], call["request"]) == ("weather", {"city": "Paris"}, rid)
    worker.java_result(cid, {"temp_c": 21})
    cid, call = worker.read_call_java()
    worker.java_error(cid, "java.lang.IllegalStateException", "no station")

    kind, result = worker.reply(rid)
    assert kind == protocol.REPLY_OK, result
    trajectory = result["outputs"]["trajectory"]
    assert trajectory["observation_0"] == {"temp_c": 21}
    assert "java.lang.IllegalStateException: no station" in trajectory["observation_1"]
    assert result["outputs"]["answer"] == "21 in Paris"


def test_a_cancel_while_a_tool_waits_on_java_ends_the_execution(worker):
    ok(worker, "dspy.configure_lm", {"model": "pypool/dummy", "answers": [
        step("slow", {"x": 1}), step("finish", {}), {"reasoning": "r", "answer": "never"}]})
    define(worker, "agent", "question -> answer", "react", tools=["java:slow"])
    rid = worker.send("dspy.execute_pool_program", {"program_id": "agent", "inputs": {"question": "?"}})
    worker.read_call_java()

    worker.cancel(rid)

    kind, body = worker.reply(rid)
    assert (kind, body["kind"]) == (protocol.REPLY_ERROR, "cancelled"), body
    assert ok(worker, "ping", None)["pid"]
