"""pypool.dspy against real DSPy with its DummyLM; skipped, with the reason, where DSPy is missing."""

import pytest

dspy = pytest.importorskip("dspy", reason="real DSPy is not installed in this interpreter "
                                          "(python -m pip install dspy to run these tests)")

from pypool import dspy as commands  # noqa: E402
from pypool._registry import BadArguments, Session  # noqa: E402


def test_predict_and_chain_of_thought_with_dummy_lm():
    commands.configure_lm("pypool/dummy", answers=[{"reasoning": "because", "answer": "42"}])
    session = Session("s")
    commands.create_program("qa", "question -> answer", session=session)
    assert commands.execute_program("qa", {"question": "?"}, session=session)["outputs"] == {"answer": "42"}
    commands.create_program("cot", "question -> answer", "chain_of_thought", session=session)
    result = commands.execute_program("cot", {"question": "?"}, session=session)
    assert result["outputs"]["answer"] == "42" and result["reasoning"] == "because"


def test_field_signature_with_instructions():
    session = Session("s")
    info = commands.create_program("typed", {"inputs": [{"name": "text", "description": "input text"}],
                                             "outputs": [{"name": "label", "description": "one word"}],
                                             "instructions": "Label the text."}, session=session)
    assert info["inputs"] == ["text"] and info["outputs"] == ["label"]
    assert info["instructions"] == "Label the text."


def test_bad_signature_is_refused():
    with pytest.raises(BadArguments, match="exactly one '->'"):
        commands.create_program("bad", "a -> b -> c", session=Session("s"))
