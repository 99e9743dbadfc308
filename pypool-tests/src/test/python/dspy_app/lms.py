"""Custom dspy.BaseLM classes for the tests: no network, answers in DSPy's chat format."""

import time

import dspy
from dspy.dsp.utils.utils import dotdict
from dspy.utils import exceptions as dx


def _reply(content, model):
    return dotdict(choices=[dotdict(message=dotdict(content=content, tool_calls=None), finish_reason="stop")],
                   usage=dotdict(prompt_tokens=10, completion_tokens=5, total_tokens=15), model=model)


def chat_format(fields):
    return "".join(f"[[ ## {k} ## ]]\n{v}\n\n" for k, v in fields.items()) + "[[ ## completed ## ]]"


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
