"""pypool.dspy against real DSPy 3.3.1 with DummyLM or a custom BaseLM.

Skipped where DSPy is missing, unless PYPOOL_DSPY_REQUIRED=1 (the build's real-DSPy run sets it),
where a missing DSPy fails them.
"""

import datetime
import os

import pytest

if os.environ.get("PYPOOL_DSPY_REQUIRED") == "1":
    import dspy
else:
    dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter "
                                              "(.ci/run makes a virtualenv with it; see docs/DSPY.md)")

from pypool import dspy as commands  # noqa: E402
from pypool._registry import BadArguments, Session  # noqa: E402
from pypool.dspy_errors import LmConfigError  # noqa: E402


def dummy(*answers):
    commands.configure_lm("pypool/dummy", answers=list(answers))


def test_predict_and_chain_of_thought_each_get_their_own_answer():
    dummy({"answer": "42"}, {"reasoning": "because", "answer": "43"})
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    assert commands.execute_program("qa", {"question": "?"}, session=session)["outputs"] == {"answer": "42"}
    commands.create_program("cot", "question -> answer", "chain_of_thought", session=session)
    result = commands.execute_program("cot", {"question": "?"}, session=session)
    assert result["outputs"] == {"answer": "43"} and result["reasoning"] == "because"


def test_commas_inside_types_are_not_field_separators():
    dummy({"b": "three"}, {"label": "pos"})
    session = Session("s")
    info = commands.create_program("d", "a: dict[str, int] -> b", session=session)
    assert info["inputs"] == ["a"] and info["outputs"] == ["b"]
    assert commands.execute_program("d", {"a": {"x": 1, "y": 2}}, session=session)["outputs"] == {"b": "three"}
    commands.create_program("lit", "text -> label: Literal['pos', 'neg']", session=session)
    assert commands.execute_program("lit", {"text": "good"}, session=session)["outputs"] == {"label": "pos"}


def test_typed_fields_list_literal_optional_and_json_schema():
    dummy({"tags": ["a", "b"], "label": "neg", "score": None,
           "person": {"name": "Ada", "age": 36, "langs": ["en"]}})
    session = Session("s")
    schema = {"type": "object", "title": "Person", "required": ["name", "age"],
              "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                             "langs": {"type": "array", "items": {"type": "string"}}}}
    commands.create_program("typed", {"inputs": [{"name": "text", "type": "str"}],
                                      "outputs": [{"name": "tags", "type": "list[str]"},
                                                  {"name": "label", "type": "Literal['pos', 'neg']"},
                                                  {"name": "score", "type": "Optional[int]"},
                                                  {"name": "person", "schema": schema}]}, session=session)
    out = commands.execute_program("typed", {"text": "t"}, session=session)["outputs"]
    assert out == {"tags": ["a", "b"], "label": "neg", "score": None,
                   "person": {"name": "Ada", "age": 36, "langs": ["en"]}}


def test_a_type_dspy_cannot_read_is_refused_naming_the_field():
    with pytest.raises(BadArguments, match="field 'x' has type 'list\\[nope'"):
        commands.create_program("bad", {"inputs": [{"name": "x", "type": "list[nope"}],
                                        "outputs": [{"name": "y"}]}, session=Session("s"))


def test_outputs_are_converted_deeply_dates_included():
    dummy({"days": ["2024-01-02", "2024-02-03"]})
    session = Session("s")
    commands.create_program("dates", "question -> days: list[datetime.date]", session=session)
    out = commands.execute_program("dates", {"question": "when?"}, session=session)["outputs"]
    assert out == {"days": ["2024-01-02", "2024-02-03"]}


def test_inputs_are_converted_to_their_declared_types():
    dummy({"answer": "ok"})
    session = Session("s")
    info = commands.create_program("chat", "question, history: dspy.History, when: datetime.date -> answer",
                                   session=session)
    assert info["inputs"] == ["question", "history", "when"]
    history = {"messages": [{"question": "hi", "answer": "hello"}]}
    result = commands.execute_program("chat", {"question": "and?", "history": history, "when": "2024-01-02"},
                                      session=session)
    assert result["outputs"] == {"answer": "ok"}
    with pytest.raises(BadArguments, match="input 'when' of program 'chat' must be date"):
        commands.execute_program("chat", {"question": "q", "history": history, "when": "not a date"},
                                 session=session)


def test_usage_and_several_completions():
    dummy({"answer": "a"}, {"answer": "b"})
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    result = commands.execute_program("qa", {"question": "?"}, {"n": 2}, session=session)
    assert [c["answer"] for c in result["completions"]] == ["a", "b"]
    assert result["usage"]["dummy"]["total_tokens"] == 0


def test_a_refused_lm_leaves_the_configured_one_in_place():
    dummy({"answer": "still dummy"})
    with pytest.raises(LmConfigError, match="needs LiteLLM"):
        commands.configure_lm("openai/gpt-4o-mini", api_key="k")
    with pytest.raises(LmConfigError, match="'temperature' must be a number"):
        commands.configure_lm("pypool/dummy", answers=[{"a": 1}], temperature="hot")
    assert commands.status()["lm"] == "pypool/dummy"
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    assert commands.execute_program("qa", {"question": "?"}, session=session)["outputs"] == {"answer": "still dummy"}


def test_check_lm_reports_without_configuring():
    dummy({"answer": "x"})
    assert commands.check_lm("py:test_dspy_real:EchoLM", text="hi") == {
        "model": "py:test_dspy_real:EchoLM", "backend": "custom", "class": "EchoLM"}
    assert commands.status()["lm_check"]["backend"] == "dummy"


class EchoLM(dspy.BaseLM):
    """Answers every output field with its text: a custom BaseLM as a user would write one."""

    forward_contract = "legacy"

    def __init__(self, text="echo", **kwargs):
        super().__init__(model="test/echo", **kwargs)
        self.text = text

    def forward(self, prompt=None, messages=None, **kwargs):
        from dspy.dsp.utils.utils import dotdict
        content = f"[[ ## answer ## ]]\n{self.text}\n\n[[ ## completed ## ]]"
        return dotdict(choices=[dotdict(message=dotdict(content=content, tool_calls=None), finish_reason="stop")],
                       usage=dotdict(prompt_tokens=3, completion_tokens=2, total_tokens=5), model="test/echo")


def test_a_custom_base_lm_by_reference_with_its_usage():
    commands.configure_lm("py:test_dspy_real:EchoLM", text="from echo")
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    result = commands.execute_program("qa", {"question": "?"}, session=session)
    assert result["outputs"] == {"answer": "from echo"}
    assert result["usage"]["test/echo"]["total_tokens"] == 5
