"""Java functions as ReAct tools (``java:name``), in-process: pypool.call_java is replaced by a fake
Java side here; test_dspy_conversations.py runs the same through a real worker's pipes."""

import asyncio
import os

import pytest

if os.environ.get("PYPOOL_DSPY_REQUIRED") == "1":
    import dspy
else:
    dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter")

from pypool import Cancelled, JavaError, java  # noqa: E402
from pypool import dspy as commands  # noqa: E402
from pypool import dspy_tools  # noqa: E402
from pypool._registry import BadArguments, Session  # noqa: E402
from pypool.dspy_errors import LmConfigError, ProgramBuildError  # noqa: E402

WEATHER = {"description": "The current weather in a city.",
           "args": {"city": {"type": "string", "description": "its name"},
                    "unit": {"type": "string", "description": "celsius or fahrenheit"}},
           "required": ["city"]}


class FakeJava:
    """Answers call_java like the host would: a function by name, its failures as JavaError."""

    def __init__(self, **functions):
        self.functions = functions
        self.calls = []

    def call(self, name, args=None, *, timeout=None):
        self.calls.append((name, args))
        return self.functions[name](args)

    async def call_async(self, name, args=None, *, timeout=None):
        return self.call(name, args, timeout=timeout)


@pytest.fixture
def fake_java(monkeypatch):
    def weather(args):
        if args["city"] == "Atlantis":
            raise JavaError("java.lang.IllegalStateException", "no weather station in Atlantis")
        return {"city": args["city"], "temp_c": 21}

    def cancelled(args):
        raise Cancelled("the host cancelled this call while it waited on call_java('stuck')")

    fake = FakeJava(weather=weather, shout=lambda args: str(args.get("text")).upper(), stuck=cancelled)
    monkeypatch.setattr(java, "call_java", fake.call)
    monkeypatch.setattr(java, "call_java_async", fake.call_async)
    return fake


def step(tool, args):
    return {"next_thought": f"use {tool}", "next_tool_name": tool, "next_tool_args": args}


FINISH = step("finish", {})


def agent(session, tools, specs=None, program_id="agent"):
    definition = {"tools": tools, "args": {"max_iters": 5}}
    if specs is not None:
        definition["java_tools"] = specs
    commands.create_program(program_id, "question -> answer", "react", definition, session=session)


def test_a_described_java_tool_is_a_dspy_tool_with_that_name_description_and_arguments():
    tool = dspy_tools.java_tool(dspy, "weather", WEATHER)
    assert (tool.name, tool.desc) == ("weather", "The current weather in a city.")
    assert tool.args == {"city": {"type": "string", "description": "its name"},
                         "unit": {"type": "string", "description": "celsius or fahrenheit", "default": None}}
    assert tool.format_as_litellm_function_call()["function"]["parameters"]["required"] == ["city"]
    assert not tool.has_kwargs


def test_a_bare_java_reference_takes_any_keyword_arguments(fake_java):
    tool = dspy_tools.java_tool(dspy, "shout", None)
    assert tool.desc == dspy_tools.GENERIC_DESCRIPTION and tool.has_kwargs
    assert tool(text="hi", times=2) == "HI"
    assert fake_java.calls == [("shout", {"text": "hi", "times": 2})]


@pytest.mark.parametrize("run", ["async", "thread"])
def test_react_calls_java_with_the_lms_arguments_and_reads_its_result(fake_java, run):
    commands.configure_lm("pypool/dummy", answers=[step("weather", {"city": "Paris"}), FINISH,
                                                   {"reasoning": "r", "answer": "21"}])
    session = Session("s")
    agent(session, ["java:weather"], {"weather": WEATHER})
    if run == "async":  # ReAct.aforward on the event loop: the tool awaits call_java_async
        result = asyncio.run(commands.execute_program_async("agent", {"question": "?"}, session=session))
    else:  # ReAct.forward on a thread: the tool blocks in call_java
        result = commands.execute_program("agent", {"question": "?"}, session=session)
    assert fake_java.calls == [("weather", {"city": "Paris"})]
    assert result["outputs"]["trajectory"]["observation_0"] == {"city": "Paris", "temp_c": 21}
    assert result["outputs"]["answer"] == "21"


def test_java_failures_and_bad_arguments_are_tool_errors_the_lm_reads(fake_java):
    commands.configure_lm("pypool/dummy", answers=[
        step("weather", {"city": "Atlantis"}), step("weather", {"town": "Paris"}), step("weather", {}),
        step("weather", {"city": 7}), FINISH, {"reasoning": "r", "answer": "unknown"}])
    session = Session("s")
    commands.create_program("a", "question -> answer", "react",
                            {"tools": ["java:weather"], "java_tools": {"weather": WEATHER}, "args": {"max_iters": 6}},
                            session=session)
    result = asyncio.run(commands.execute_program_async("a", {"question": "?"}, session=session))
    t = result["outputs"]["trajectory"]
    assert t["observation_0"].startswith("Execution error in weather")
    assert "JavaError: java.lang.IllegalStateException: no weather station in Atlantis" in t["observation_0"]
    assert "Arg town is not in the tool's args" in t["observation_1"]
    assert "Java tool 'weather' needs the arguments ['city']" in t["observation_2"]
    assert "Arg city is invalid: 7 is not of type 'string'" in t["observation_3"]
    assert fake_java.calls == [("weather", {"city": "Atlantis"})]
    assert result["outputs"]["answer"] == "unknown"


@pytest.mark.parametrize("run", ["async", "thread"])
def test_a_cancel_while_waiting_on_java_ends_the_program_instead_of_becoming_a_tool_error(fake_java, run):
    commands.configure_lm("pypool/dummy", answers=[step("stuck", {}), FINISH, {"reasoning": "r", "answer": "no"}])
    session = Session("s")
    agent(session, ["java:stuck"])
    with pytest.raises(Cancelled):
        if run == "async":
            asyncio.run(commands.execute_program_async("agent", {"question": "?"}, session=session))
        else:
            commands.execute_program("agent", {"question": "?"}, session=session)


def test_python_and_java_tools_mix_in_their_order(fake_java):
    session = Session("s")
    agent(session, ["py:test_dspy_programs:search", "java:weather", "java:shout"], {"weather": WEATHER})
    tools = commands._find(session, "agent").module.tools
    assert list(tools) == ["search", "weather", "shout", "finish"]


def test_definitions_that_cannot_make_tools_say_why():
    session = Session("s")
    with pytest.raises(BadArguments, match="java_tools describes \\['other'\\]"):
        agent(session, ["java:weather"], {"other": WEATHER})
    with pytest.raises(BadArguments, match="required must list some of its args"):
        agent(session, ["java:weather"], {"weather": dict(WEATHER, required=["town"])})
    with pytest.raises(ProgramBuildError, match="both named 'weather'"):
        agent(session, ["java:weather", "java:weather"])
    with pytest.raises(ProgramBuildError, match="names no Java function"):
        agent(session, ["java: "])
    with pytest.raises(ProgramBuildError, match="can only be a ReAct tool"):
        commands.create_program("x", module_type="java:make_agent", session=session)
    with pytest.raises(LmConfigError, match="can only be a ReAct tool"):
        commands.check_lm("java:my_lm")
