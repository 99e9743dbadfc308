"""JSON bodies: the nesting limit, lone surrogates and error bodies that cannot fail."""

import json

import pytest

from pypool import protocol

LIMIT = protocol.MAX_NESTING_DEPTH


def nested(depth):
    return ("[" * depth + "]" * depth).encode()


def test_nesting_is_counted_up_to_the_limit_exactly():
    assert not protocol.too_deep(nested(LIMIT))
    assert protocol.too_deep(nested(LIMIT + 1))
    assert protocol.too_deep(b'{"a":' * (LIMIT + 1) + b"1" + b"}" * (LIMIT + 1))


def test_many_shallow_values_are_not_too_deep():
    assert not protocol.too_deep(json.dumps([{"k": [i]} for i in range(5000)]).encode())


def test_brackets_inside_strings_do_not_count():
    assert not protocol.too_deep(json.dumps(["[" * 5000, "{" * 5000]).encode())
    assert not protocol.too_deep(json.dumps(['\\"' + "[" * 5000]).encode())  # escaped quote first


def test_decode_refuses_what_is_too_deep_and_strict_utf8_only():
    assert protocol.decode_body(b'{"a":"\xc3\xa9"}') == {"a": "\u00e9"}
    with pytest.raises(protocol.NestingTooDeep):
        protocol.decode_body(nested(LIMIT + 1))
    with pytest.raises(UnicodeDecodeError):
        protocol.decode_body(b'"\xff"')


def test_encode_escapes_lone_surrogates_and_keeps_other_text_as_utf8():
    assert protocol.encode_body("\u00e9") == "\"\u00e9\"".encode("utf-8")
    assert protocol.encode_body(["x\ud800"]) == b'["x\\ud800"]'


def test_encode_refuses_too_deep_and_values_json_has_no_form_for():
    with pytest.raises(protocol.NestingTooDeep, match="limit of 1000 levels"):
        protocol.encode_body(_deep_list(LIMIT + 1))
    with pytest.raises(ValueError):
        protocol.encode_body(float("nan"))


def _deep_list(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_error_body_never_fails():
    assert json.loads(protocol.error_body("exception", "ValueError", "bad\ud800", "tb\udfff")) == {
        "kind": "exception", "type": "ValueError", "message": "bad\ud800", "traceback": "tb\udfff"}
    minimal = json.loads(protocol.error_body("exception", "X", object()))
    assert minimal["message"] == "the error could not be encoded"
