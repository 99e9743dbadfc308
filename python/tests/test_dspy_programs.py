"""Programs from structure plus state, user factories, ReAct with tools, pool-wide programs, pickles."""

import os

import pytest

if os.environ.get("PYPOOL_DSPY_REQUIRED") == "1":
    import dspy
else:
    dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter")

from pypool import dspy as commands  # noqa: E402
from pypool._registry import Session  # noqa: E402
from pypool.dspy_errors import PickleNotAllowed, ProgramBuildError, ProgramNotFound  # noqa: E402

SEARCHED = []


def search(query: str) -> str:
    """Looks a query up (a tool for the ReAct test)."""
    SEARCHED.append(query)
    return f"found: {query} is 42"


class TwoStep(dspy.Module):
    """A user's composed module: draft, then polish."""

    def __init__(self, style: str = "plain"):
        super().__init__()
        self.style = style
        self.draft = dspy.Predict("topic -> draft")
        self.polish = dspy.ChainOfThought("draft -> text")

    def forward(self, topic):
        return self.polish(draft=self.draft(topic=topic).draft)


def make_two_step(style="plain"):
    return TwoStep(style)


def optimized_qa_state():
    """What an optimizer leaves behind: a Predict with two demos and new instructions."""
    qa = dspy.Predict("question -> answer")
    qa.demos = [dspy.Example(question="2+2?", answer="4"), dspy.Example(question="3+3?", answer="6")]
    qa.signature = qa.signature.with_instructions("Answer with a number only.")
    return qa.dump_state()


def test_state_from_json_carries_demos_and_instructions_and_exports_back():
    session = Session("s")
    info = commands.create_program("qa", "question -> answer", "predict",
                                   {"state": optimized_qa_state()}, session=session)
    assert info["demos"] == 2 and info["instructions"] == "Answer with a number only."
    exported = commands.export_state("qa", session=session)
    assert [d["answer"] for d in exported["demos"]] == ["4", "6"]
    commands.restore_programs([{"id": "qa", "module": "predict", "signature": "question -> answer",
                                "state": exported}], session=session)
    assert commands.get_program_info("qa", session=session)["demos"] == 2


def test_state_from_a_file_that_program_save_wrote(tmp_path):
    qa = dspy.ChainOfThought("question -> answer")
    qa.predict.demos = [dspy.Example(question="q", reasoning="r", answer="a")]
    path = str(tmp_path / "qa.json")
    qa.save(path)
    info = commands.create_program("cot", "question -> answer", "chain_of_thought", {"state_path": path},
                                   session=Session("s"))
    assert info["demos"] == 1


def test_whole_program_pickles_need_the_explicit_opt_in(tmp_path):
    folder = str(tmp_path / "whole")
    dspy.Predict("question -> answer").save(folder, save_program=True)
    with pytest.raises(PickleNotAllowed, match="runs arbitrary code"):
        commands.create_program("p", definition={"pickle_path": folder}, session=Session("s"))
    info = commands.create_program("p", definition={"pickle_path": folder, "allow_pickle": True},
                                   session=Session("s"))
    assert info["module_class"] == "Predict" and info["inputs"] == ["question"] and info["module_type"] == "pickle"


def test_react_with_python_tools_by_reference():
    SEARCHED.clear()
    commands.configure_lm("pypool/dummy", answers=[
        {"next_thought": "look it up", "next_tool_name": "search", "next_tool_args": {"query": "life"}},
        {"next_thought": "done", "next_tool_name": "finish", "next_tool_args": {}},
        {"reasoning": "the tool said so", "answer": "42"}])
    session = Session("s")
    commands.create_program("agent", "question -> answer", "react",
                            {"tools": ["py:test_dspy_programs:search"], "args": {"max_iters": 3}}, session=session)
    result = commands.execute_program("agent", {"question": "meaning of life?"}, session=session)
    assert SEARCHED == ["life"]
    assert result["outputs"]["answer"] == "42"
    assert result["outputs"]["trajectory"]["observation_0"] == "found: life is 42"


def test_a_users_factory_builds_any_module():
    commands.configure_lm("pypool/dummy", answers=[{"draft": "d"}, {"reasoning": "r", "text": "polished"}])
    session = Session("s")
    info = commands.create_program("writer", module_type="py:test_dspy_programs:make_two_step",
                                   definition={"args": {"style": "terse"}}, session=session)
    assert info["inputs"] == ["topic"] and info["module_class"] == "TwoStep"
    assert commands.execute_program("writer", {"topic": "t"}, session=session)["outputs"] == {"text": "polished"}


def test_bad_references_say_what_is_wrong():
    with pytest.raises(ProgramBuildError, match="module 'no_such_pkg.agents' cannot be imported"):
        commands.create_program("x", module_type="py:no_such_pkg.agents:make", session=Session("s"))
    with pytest.raises(ProgramBuildError, match="a java: reference names a Java function"):
        commands.create_program("x", module_type="java:make_agent", session=Session("s"))
    with pytest.raises(ProgramBuildError, match="returned a str, not a dspy.Module"):
        commands.create_program("x", module_type="py:os.path:basename", definition={"args": {"p": "/a"}},
                                session=Session("s"))


def test_pool_programs_answer_without_a_session_and_behind_session_ones():
    commands.configure_lm("pypool/dummy", answers=[{"answer": "pool"}, {"answer": "pool again"}])
    commands.define_pool_program({"id": "shared", "module": "predict", "signature": "question -> answer"})
    try:
        assert commands.execute_pool_program("shared", {"question": "?"})["outputs"] == {"answer": "pool"}
        assert commands.execute_program("shared", {"question": "?"}, session=Session("any"))["outputs"] == {
            "answer": "pool again"}
        assert "shared" in commands.status()["pool_programs"]
    finally:
        assert commands.drop_pool_program("shared") == {"deleted": True}
    with pytest.raises(ProgramNotFound, match="pool has no program 'shared'"):
        commands.execute_pool_program("shared", {"question": "?"})


def test_per_program_lm_settings_reach_the_lm():
    commands.configure_lm("pypool/dummy", answers=[{"answer": "one"}, {"answer": "two"}])
    session = Session("s")
    info = commands.create_program("qa", "question -> answer", "predict", {"lm": {"n": 2}}, session=session)
    assert info["lm"] == {"n": 2}
    result = commands.execute_program("qa", {"question": "?"}, session=session)
    assert [c["answer"] for c in result["completions"]] == ["one", "two"]


def test_the_adapter_choice_is_the_one_that_reads_the_reply():
    from pypool.dspy_errors import DspyCallFailed
    # DummyLM answers in the chat format: the JSON adapter, chosen for this program, cannot read it.
    commands.configure_lm("pypool/dummy", answers=[{"answer": "chat"}] * 4)
    session = Session("s")
    commands.create_program("chat", "question -> answer", "predict", {"adapter": "chat"}, session=session)
    assert commands.execute_program("chat", {"question": "?"}, session=session)["outputs"] == {"answer": "chat"}
    commands.create_program("json", "question -> answer", "predict", {"adapter": "json"}, session=session)
    with pytest.raises(DspyCallFailed, match="JSONAdapter"):
        commands.execute_program("json", {"question": "?"}, session=session)


def test_the_execute_commands_await_the_lm_on_the_event_loop():
    """The commands the JVM calls are async: with an LM that can await, many executions wait in
    one worker without a thread each; a module that cannot await runs on a thread instead."""
    import asyncio
    import threading

    commands.configure_lm("pypool/dummy", answers=[{"answer": "async"}] * 8 + [{"draft": "d"},
                                                                               {"reasoning": "r", "text": "t"}])
    session = Session("s")
    commands.create_program("qa", "question -> answer", "predict", session=session)
    main = threading.get_ident()
    threads = set()
    original = dspy.utils.DummyLM.aforward

    async def watched(self, *args, **kwargs):
        threads.add(threading.get_ident())
        return await original(self, *args, **kwargs)

    dspy.utils.DummyLM.aforward = watched
    try:
        async def eight_at_once():
            return await asyncio.gather(*[commands.execute_program_async("qa", {"question": str(i)}, session=session)
                                          for i in range(8)])
        results = asyncio.run(eight_at_once())
    finally:
        dspy.utils.DummyLM.aforward = original
    assert [r["outputs"] for r in results] == [{"answer": "async"}] * 8
    assert threads == {main}  # awaited on the loop's own thread, none other
    commands.create_program("two", module_type="py:test_dspy_programs:make_two_step", session=session)
    assert asyncio.run(commands.execute_program_async("two", {"topic": "x"}, session=session))["outputs"] == {
        "text": "t"}  # a user module with forward only: run on a thread, same result
