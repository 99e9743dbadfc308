"""Stand-in for dspy.utils: DummyLM returns the given answers in turn."""

from typing import Any, Dict, List


class DummyLM:
    def __init__(self, answers: List[Dict[str, Any]], **_: Any) -> None:
        self.model = "dummy"
        self.answers = list(answers)
        self.calls = 0

    def answer(self, signature: Any, inputs: Dict[str, Any], reasoning: bool) -> Dict[str, Any]:
        reply = dict(self.answers[self.calls % len(self.answers)])
        self.calls += 1
        return reply
