"""Custom dspy.BaseLM classes for the tests: no network, answers in DSPy's chat format."""

import asyncio
import json
import re
import threading
import time

import anyio
import dspy
from dspy.dsp.utils.utils import dotdict
from dspy.utils import exceptions as dx


def _reply(content, model):
    return dotdict(choices=[dotdict(message=dotdict(content=content, tool_calls=None), finish_reason="stop")],
                   usage=dotdict(prompt_tokens=10, completion_tokens=5, total_tokens=15), model=model)


def chat_format(fields):
    """Fields as the ChatAdapter reads them; values other than text as JSON (tool arguments...)."""
    return "".join(f"[[ ## {k} ## ]]\n{v if isinstance(v, str) else json.dumps(v)}\n\n"
                   for k, v in fields.items()) + "[[ ## completed ## ]]"


class SlowLM(dspy.BaseLM):
    """Waits ``delay`` seconds (as a remote LM would), then gives ``fields`` (the same for every call)."""

    forward_contract = "legacy"

    def __init__(self, delay=0.3, fields=None, **kwargs):
        super().__init__(model="test/slow", cache=False, **kwargs)
        self.delay = delay
        self.fields = fields or {"reasoning": "thought", "answer": "slow answer"}

    def forward(self, prompt=None, messages=None, **kwargs):
        time.sleep(self.delay)
        return _reply(chat_format(self.fields), self.model)


class TurnsLM(dspy.BaseLM):
    """Answers with ``answers`` in turn (field -> value objects), and has only ``forward``: programs
    on it run on a thread, not on the worker's event loop."""

    forward_contract = "legacy"

    def __init__(self, answers=(), **kwargs):
        super().__init__(model="test/turns", cache=False, **kwargs)
        self.answers = [chat_format(a) for a in answers]
        self.turn = 0

    def forward(self, prompt=None, messages=None, **kwargs):
        content = self.answers[self.turn % len(self.answers)]
        self.turn += 1
        return _reply(content, self.model)


RAISES = {
    "LMRateLimitError": lambda: dx.LMRateLimitError("slow down", model="test/raising", status=429, retry_after=1.5),
    "ContextWindowExceededError": lambda: dx.ContextWindowExceededError(model="test/raising"),
    "LMAuthError": lambda: dx.LMAuthError("bad key", model="test/raising", status=401),
    "LMTimeoutError": lambda: dx.LMTimeoutError("too slow", model="test/raising"),
    "LMServerError": lambda: dx.LMServerError("provider down", model="test/raising", status=503),
}


class RaisingLM(dspy.BaseLM):
    """Raises the DSPy error named ``error``; without one, replies ``reply`` as raw text."""

    forward_contract = "legacy"

    def __init__(self, error=None, reply="", **kwargs):
        super().__init__(model="test/raising", cache=False, **kwargs)
        if error is not None and error not in RAISES:
            raise ValueError(f"unknown error {error}; one of {sorted(RAISES)}")
        self.error, self.reply = error, reply

    def forward(self, prompt=None, messages=None, **kwargs):
        if self.error:
            raise RAISES[self.error]()
        return _reply(self.reply, self.model)


class ModelResponseStream:
    """One chunk of a streamed reply, as LiteLLM gives it to ``dspy.LM`` (``litellm.ModelResponseStream``),
    as far as DSPy reads it: DSPy knows such a chunk by its class's name and module, and takes the text
    from ``choices[0].delta.content``."""

    def __init__(self, text, predict_id):
        self.choices = [dotdict(delta=dotdict(content=text))]
        self.predict_id = predict_id  # which predictor's listeners read it, as dspy.LM tags its chunks


ModelResponseStream.__module__ = "litellm.types.utils"


def _pieces(content):
    """The reply cut the way a provider streams it: a word and the spaces after it at a time."""
    return re.findall(r"\S+\s*|\s+", content)


class StreamingLM(dspy.BaseLM):
    """Answers with ``answers`` in turn (field -> value objects, as DummyLM's list), and while a
    ``dspy.streamify`` stream is open sends each answer's pieces into it first, the way ``dspy.LM``
    sends LiteLLM's chunks. ``hang_after`` pieces into an answer, it stops and waits until it is
    cancelled, which ``CANCELLED`` then records (``dspy_app.probes`` reports it)."""

    forward_contract = "legacy"

    def __init__(self, answers=(), hang_after=None, **kwargs):
        super().__init__(model="test/streaming", cache=False, **kwargs)
        self.answers = [chat_format(a) for a in answers]
        self.hang_after = hang_after
        self.turn = 0

    def _next(self):
        content = self.answers[self.turn % len(self.answers)]
        self.turn += 1
        return content

    def _chunks(self):
        caller = dspy.settings.caller_predict
        return [ModelResponseStream(p, id(caller) if caller else None) for p in _pieces(self._next())]

    async def aforward(self, prompt=None, messages=None, **kwargs):
        chunks = self._chunks()
        stream = dspy.settings.send_stream
        if stream is not None:
            for i, chunk in enumerate(chunks):
                if i == self.hang_after:
                    await _hang()
                await stream.send(chunk)
        return _reply("".join(c.choices[0].delta.content for c in chunks), self.model)

    def forward(self, prompt=None, messages=None, **kwargs):
        """On a thread (a module without aforward): sends through the stream's loop, as dspy.LM does."""
        chunks = self._chunks()
        stream = dspy.settings.send_stream
        if stream is not None:
            for chunk in chunks:
                anyio.from_thread.run(stream.send, chunk)
        return _reply("".join(c.choices[0].delta.content for c in chunks), self.model)


CANCELLED = threading.Event()


async def _hang():
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        CANCELLED.set()
        raise
