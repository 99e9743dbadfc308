import pytest

import pypool
from pypool._registry import BadArguments, Command, Session


def f(a, b=2, *, c=3):
    return a + b + c


def with_session(x, *, session):
    session["x"] = x
    return dict(session)


def test_keyword_arguments_are_bound_to_parameters():
    assert Command("f", f).invoke({"a": 1, "c": 10}, None) == 13


def test_positional_arguments_from_a_json_array():
    assert Command("f", f).invoke([1, 1], None) == 5


def test_missing_argument_names_the_parameter_and_signature():
    with pytest.raises(BadArguments, match=r"command 'f' rejected its arguments: .*'a'.*\(handler f\(a, b=2"):
        Command("f", f).invoke({"b": 1}, None)


def test_unexpected_argument_is_reported():
    with pytest.raises(BadArguments, match="unexpected keyword argument 'zzz'"):
        Command("f", f).invoke({"a": 1, "zzz": 1}, None)


def test_scalar_arguments_are_rejected():
    with pytest.raises(BadArguments, match="takes a JSON object"):
        Command("f", f).invoke(5, None)


def test_session_handler_receives_its_session():
    s = Session("s1")
    assert Command("w", with_session).invoke({"x": 4}, s) == {"x": 4}
    assert s["x"] == 4 and s.id == "s1"


def test_session_handler_called_without_session_says_how_to_call_it():
    with pytest.raises(BadArguments, match="through a session"):
        Command("w", with_session).invoke({"x": 4}, None)


def test_registering_two_functions_under_one_name_fails():
    @pypool.command("reg.twice")
    def one():
        return 1

    with pytest.raises(ValueError, match="registered twice"):
        @pypool.command("reg.twice")
        def two():
            return 2
