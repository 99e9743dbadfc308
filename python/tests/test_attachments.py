"""Binary attachments: the body layout, markers both ways, limits, and a real worker."""

import io
import json
import struct

import pytest

from pypool import attachments, protocol
from workerproc import WorkerProcess


def frame_bytes(kind, rid, value):
    payload, parts = protocol.encode_result(value)
    return protocol.encode_attached(kind, rid, payload, parts)


def read(data, limit=1 << 20):
    return protocol.read_frame(io.BufferedReader(io.BytesIO(data)), limit)


def test_the_layout_is_json_length_json_then_each_length_and_bytes():
    data = frame_bytes(protocol.REPLY_OK, 9, {"a": b"\x00\xff", "b": [bytearray(b"xyz")]})
    length, kind, flags, reserved, rid = protocol.HEADER.unpack_from(data)
    assert (kind, flags, reserved, rid) == (protocol.REPLY_OK, 1, 0, 9)
    body = data[protocol.HEADER.size:]
    assert length == protocol.HEADER_REST + len(body)
    json_len = struct.unpack_from(">I", body)[0]
    assert json.loads(body[4:4 + json_len]) == {"a": {"__pypool_bytes__": 0}, "b": [{"__pypool_bytes__": 1}]}
    assert body[4 + json_len:] == b"\x00\x00\x00\x02\x00\xff" + b"\x00\x00\x00\x03xyz"


def test_bytes_round_trip_in_place_of_their_markers_all_256_values_and_empty():
    every = bytes(range(256))
    value = {"top": every, "empty": b"", "list": [b"a", "text", 1, memoryview(b"mv")], "deep": {"x": [[b"z"]]}}
    kind, rid, body = read(frame_bytes(protocol.REQUEST, 3, value))
    assert isinstance(body, protocol.Attached)
    assert protocol.decode_body(body) == {"top": every, "empty": b"", "list": [b"a", "text", 1, b"mv"],
                                          "deep": {"x": [[b"z"]]}}


def test_a_value_without_bytes_is_bare_json_without_the_flag():
    assert protocol.encode_result({"a": [1, "x"]}) == (b'{"a":[1,"x"]}', ())
    data = protocol.encode(protocol.REQUEST, 1, b'{"a":1}')
    assert data[5] == 0
    assert read(data)[2] == b'{"a":1}'


def test_markers_count_only_in_frames_with_attachments_and_only_in_their_exact_form():
    plain = b'{"__pypool_bytes__":0}'
    assert protocol.decode_body(plain) == {"__pypool_bytes__": 0}
    payload = b'[{"__pypool_bytes__":0},{"__pypool_bytes__":0,"other":1}]'
    body = protocol.Attached(bytearray(attachments.LENGTH.pack(len(payload)) + payload + b"\x00\x00\x00\x01q"))
    assert protocol.decode_body(body) == [b"q", {"__pypool_bytes__": 0, "other": 1}]


@pytest.mark.parametrize("body, message", [
    (b"\x00\x00", "ends inside"),
    (b"\x00\x00\x00\x09{}", "claims 9 bytes"),
    (b"\x00\x00\x00\x02{}\x00\x00\x00\x05ab", "attachment 0 claims 5 bytes"),
    (b"\x00\x00\x00\x16{\"__pypool_bytes__\":3}", "names attachment 3"),
])
def test_a_malformed_attached_body_is_a_value_error_for_that_request_alone(body, message):
    with pytest.raises(ValueError, match=message):
        protocol.decode_body(protocol.Attached(bytearray(body)))


def test_unknown_flags_are_a_protocol_error():
    data = bytearray(protocol.encode(protocol.REQUEST, 1, b"{}"))
    data[5] = 2
    with pytest.raises(protocol.ProtocolError, match="flags"):
        read(bytes(data))


def test_the_size_counts_json_and_attachments():
    payload, parts = protocol.encode_result([b"x" * 100, b"y"])
    assert attachments.body_size(payload, parts) == 4 + len(payload) + 4 + 100 + 4 + 1


def test_types_json_has_no_form_for_still_fail():
    with pytest.raises(TypeError):
        protocol.encode_result({1, 2})
    with pytest.raises(TypeError):
        protocol.encode_result([b"x", object()])


def test_lone_surrogates_with_attachments_take_the_ascii_path_once():
    payload, parts = protocol.encode_result(["x\ud800", b"q"])
    assert payload == b'["x\\ud800",{"__pypool_bytes__":0}]'
    assert [bytes(p) for p in parts] == [b"q"]


def test_numpy_arrays_both_ways_zero_copy_on_arrival():
    np = pytest.importorskip("numpy")
    a = np.arange(6, dtype=">f8").reshape(2, 3)  # big-endian: sent little-endian
    value = {"a": a, "t": a.T, "n": np.int64(3), "z": np.array(2.5), "b": np.array([True, False])}
    payload, parts = protocol.encode_result(value)
    marker = json.loads(payload)["t"]
    assert marker == {"__pypool_ndarray__": 1, "dtype": "float64", "shape": [3, 2]}
    decoded = protocol.decode_body(read(protocol.encode_attached(protocol.REQUEST, 1, payload, parts))[2])
    assert decoded["a"].tolist() == a.tolist() and decoded["t"].tolist() == a.T.tolist()
    assert decoded["a"].dtype == np.dtype("<f8")
    assert not decoded["a"].flags.owndata and decoded["a"].flags.writeable
    assert decoded["n"] == 3 and decoded["z"].shape == () and decoded["b"].tolist() == [True, False]
    with pytest.raises(TypeError, match="dtype complex128"):
        protocol.encode_result(np.zeros(2, dtype=complex))


def test_a_worker_receives_bytes_returns_them_and_refuses_a_result_over_the_limit():
    w = WorkerProcess("pypool.examples", "handlers_for_tests", extra=["--max-frame-bytes", "1000"])
    try:
        w.read_hello()
        payload, parts = protocol.encode_result({"cmd": "echo", "args": {"value": [b"\x01\x02", "s"]}})
        w.proc.stdin.write(protocol.encode_attached(protocol.REQUEST, 1, payload, parts))
        w.proc.stdin.flush()
        kind, rid, body = w.read()
        assert (kind, rid) == (protocol.REPLY_OK, 1)
        assert protocol.decode_body(body) == [b"\x01\x02", "s"]
        assert protocol.decode_body(w.call_raw("t.bytes", {"size": 900})) == b"z" * 900
        kind, result = w.call("t.bytes", {"size": 990})
        assert kind == protocol.REPLY_ERROR and result["kind"] == "result_too_large", result
        assert "1 binary attachments" in result["message"]
        assert w.call("echo", {"value": "still here"}) == (protocol.REPLY_OK, "still here")
    finally:
        w.kill()
