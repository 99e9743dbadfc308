"""Callbacks to Java through a real worker's pipes: the test plays the host, reading CALL_JAVA
frames and answering them with JAVA_RESULT or JAVA_ERROR."""

import json
import time

import pytest

import pypool
from pypool import protocol
from workerproc import WorkerProcess


def start(concurrency=1):
    w = WorkerProcess("pypool.examples", "handlers_conversations", extra=["--concurrency", str(concurrency)])
    w.read_hello()
    return w


# One worker per mode for the module: each test leaves it with nothing in flight.
@pytest.fixture(scope="module", params=[1, 4], ids=["one-thread", "four-threads"])
def worker(request):
    w = start(request.param)
    w.concurrency = request.param
    yield w
    w.kill()


@pytest.fixture(scope="module")
def alone():
    w = start(1)
    yield w
    w.kill()


def test_round_trip_names_the_function_its_arguments_and_the_request(worker):
    rid = worker.send("j.call", {"fn": "twice", "args": {"x": 21}})
    cid, body = worker.read_call_java()
    assert body["fn"] == "twice" and body["args"] == {"x": 21} and body["request"] == rid
    assert body["timeout_ms"] == 30_000  # no deadline, no timeout: the default
    worker.java_result(cid, 42)
    assert worker.reply(rid) == (protocol.REPLY_OK, 42)
    assert worker.call("stats")[1]["callbacks"] == 0


def test_the_worker_serves_other_requests_while_a_handler_waits_on_java(worker):
    rid = worker.send("j.call", {"fn": "slow", "args": None})
    cid, _ = worker.read_call_java()
    others = [worker.send("echo", {"value": i}) for i in range(3)]
    if worker.concurrency > 1:
        # Other handler threads serve them while the first waits.
        assert [worker.reply(other) for other in others] == [(protocol.REPLY_OK, i) for i in range(3)]
        assert worker.call("stats")[1]["callbacks"] == 1
        worker.java_result(cid, "done")
        assert worker.reply(rid) == (protocol.REPLY_OK, "done")
    else:
        # The one handler thread waits; what it reads meanwhile waits its turn, in order, and
        # nothing is lost.
        assert worker.quiet()
        worker.java_result(cid, "done")
        assert worker.reply(rid) == (protocol.REPLY_OK, "done")
        assert [worker.reply(other) for other in others] == [(protocol.REPLY_OK, i) for i in range(3)]


def test_one_thread_reads_control_frames_while_it_waits_on_java(alone, tmp_path):
    rid = alone.send("j.call", {"fn": "slow"})
    cid, _ = alone.read_call_java()
    queued = alone.send("t.never", {})  # not even a known command: it must never run
    alone.cancel(queued)
    stream = alone.stream("s.count", {"n": 2}, items=0)
    alone.credit(stream, 10)  # read by the waiting thread, kept for the stream
    alone.java_result(cid, [1, 2])
    assert alone.reply(rid) == (protocol.REPLY_OK, [1, 2])
    kind, err = alone.reply(queued)
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "cancelled")
    frames = [alone.read() for _ in range(3)]
    assert [(kind, reply_id, body) for kind, reply_id, body in frames] == [
        (protocol.STREAM_ITEM, stream, b"0"), (protocol.STREAM_ITEM, stream, b"1"),
        (protocol.REPLY_OK, stream, b'{"items":2}')]


def test_java_error_raises_java_error_with_type_and_message(worker):
    rid = worker.send("j.catching", {"fn": "fails"})
    cid, _ = worker.read_call_java()
    worker.java_error(cid, "java.lang.IllegalStateException", "boom")
    assert worker.reply(rid) == (protocol.REPLY_OK, {
        "type": "java.lang.IllegalStateException", "message": "boom",
        "str": "java.lang.IllegalStateException: boom", "timeout": False, "timeout_error": False})


def test_an_uncaught_java_error_fails_the_call(worker):
    rid = worker.send("j.call", {"fn": "fails"})
    cid, _ = worker.read_call_java()
    worker.java_error(cid, "java.lang.IllegalArgumentException", None)  # Java's null message
    kind, err = worker.reply(rid)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "exception", "pypool.java.JavaError")
    assert err["message"] == "java.lang.IllegalArgumentException: "


def test_a_malformed_java_error_is_a_java_error_and_the_worker_lives(worker):
    rid = worker.send("j.catching", {"fn": "fails"})
    cid, _ = worker.read_call_java()
    worker.send_frame(protocol.JAVA_ERROR, cid, b"{not json")
    kind, value = worker.reply(rid)
    assert (kind, value["type"]) == (protocol.REPLY_OK, "pypool.BadAnswer")
    assert worker.call("echo", {"value": 5}) == (protocol.REPLY_OK, 5)


def test_timeout_raises_java_timeout_and_a_late_answer_is_dropped(worker):
    rid = worker.send("j.catching", {"fn": "slow", "timeout": 0.1})
    cid, body = worker.read_call_java()
    assert body["timeout_ms"] == 100
    kind, value = worker.reply(rid)
    assert kind == protocol.REPLY_OK
    assert (value["type"], value["timeout"], value["timeout_error"]) == ("pypool.JavaTimeout", True, True)
    worker.java_result(cid, "too late")
    worker.java_error(cid, "java.lang.Error", "later still")
    assert worker.call("echo", {"value": 6}) == (protocol.REPLY_OK, 6)
    assert worker.call("stats")[1]["callbacks"] == 0
    assert worker.quiet()


def test_the_default_timeout_is_the_time_left_to_the_call(worker):
    rid = worker.send("j.call", {"fn": "twice", "args": {"x": 1}}, deadline_ms=5000)
    cid, body = worker.read_call_java()
    assert 4000 < body["timeout_ms"] <= 5000
    worker.java_result(cid, 2)
    assert worker.reply(rid) == (protocol.REPLY_OK, 2)


def test_bytes_travel_as_attachments_both_ways(worker):
    rid = worker.send("j.bytes", {"size": 4096})
    kind, cid, raw = worker.read()
    assert kind == protocol.CALL_JAVA and isinstance(raw, protocol.Attached)
    body = protocol.decode_body(raw)
    assert body["args"]["note"] == "raw" and body["args"]["blob"] == bytes(range(256)) * 16
    worker.java_result(cid, {"blob": body["args"]["blob"][::-1]})
    assert worker.reply(rid) == (protocol.REPLY_OK, {"type": "bytes", "size": 4096, "reversed": True})


def test_async_handlers_wait_on_java_together(alone):
    ids = [alone.send("j.async_call", {"fn": "twice", "args": {"x": i}}) for i in range(3)]
    calls = [alone.read_call_java() for _ in ids]  # all three wait at once on one handler thread
    assert sorted(body["request"] for _, body in calls) == ids
    for cid, body in reversed(calls):
        alone.java_result(cid, body["args"]["x"] * 2)
    replies = dict(alone.read()[1:] for _ in ids)
    assert {rid: int(body) for rid, body in replies.items()} == {
        body["request"]: body["args"]["x"] * 2 for _, body in calls}


def test_async_java_error_and_timeout(alone):
    rid = alone.send("j.async_catching", {"fn": "fails"})
    cid, _ = alone.read_call_java()
    alone.java_error(cid, "java.io.IOException", "disk")
    assert alone.reply(rid) == (protocol.REPLY_OK, {"type": "java.io.IOException", "message": "disk", "timeout": False})
    rid = alone.send("j.async_catching", {"fn": "slow", "timeout": 0.1})
    cid, _ = alone.read_call_java()
    assert alone.reply(rid)[1]["timeout"] is True
    alone.java_result(cid, "late")
    assert alone.call("stats")[1]["callbacks"] == 0


def test_cancel_while_waiting_on_java_ends_the_call_cancelled(worker):
    rid = worker.send("j.catching", {"fn": "slow"})  # catching JavaError must not catch Cancelled
    cid, _ = worker.read_call_java()
    begun = time.monotonic()
    worker.cancel(rid)
    kind, err = worker.reply(rid)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "cancelled", "Cancelled")
    assert time.monotonic() - begun < 5
    worker.java_result(cid, "after the cancel")  # dropped
    assert worker.call("echo", {"value": 8}) == (protocol.REPLY_OK, 8)


def test_cancel_while_an_async_handler_waits_on_java(alone):
    rid = alone.send("j.async_call", {"fn": "slow"})
    cid, _ = alone.read_call_java()
    alone.cancel(rid)
    kind, err = alone.reply(rid)
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "cancelled")
    alone.java_result(cid, "dropped")
    assert alone.call("stats")[1]["callbacks"] == 0


def test_a_stream_thread_waits_on_java_while_the_handler_thread_reads(alone):
    rid = alone.stream("s.with_java", {"n": 3, "timeout": 5})
    items, waiting = [], []
    while True:
        kind, reply_id, body = alone.read()
        if kind == protocol.CALL_JAVA:
            waiting.append((reply_id, protocol.decode_body(body)))
        elif kind == protocol.STREAM_ITEM:
            items.append(int(body))
        else:
            break
        # A callback is answered only once every item made before it arrived: an item held back
        # while the generator waits on Java would stall the stream until its call timed out.
        while waiting and waiting[0][1]["args"]["x"] == len(items):
            cid, call = waiting.pop(0)
            assert call == {"fn": "twice", "args": {"x": len(items)}, "request": rid, "timeout_ms": 5000}
            alone.java_result(cid, call["args"]["x"] * 2)
    assert (kind, reply_id, json.loads(body)) == (protocol.REPLY_OK, rid, {"items": 3})
    assert items == [0, 2, 4]


def test_end_of_input_fails_the_callbacks_waiting_and_the_worker_exits():
    w = start(1)
    try:
        rid = w.send("j.catching", {"fn": "slow"})
        w.read_call_java()
        w.proc.stdin.close()
        kind, value = w.reply(rid)
        assert (kind, value["type"]) == (protocol.REPLY_OK, "pypool.InputClosed")
        assert w.proc.wait(timeout=10) == 0
    finally:
        w.kill()


def test_a_forked_child_cannot_call_java(alone):
    assert alone.call("j.in_child") == (protocol.REPLY_OK, "ChannelClosed")


def test_call_java_outside_a_worker_says_so():
    with pytest.raises(RuntimeError, match="only in a pypool worker"):
        pypool.call_java("anything")
    assert pypool.cancelled() is False
    pypool.checkpoint()  # outside a call: nothing to raise


def test_java_errors_are_exceptions_and_the_timeout_a_timeout_error():
    e = pypool.JavaTimeout("no answer")
    assert isinstance(e, pypool.JavaError) and isinstance(e, TimeoutError)
    assert (e.java_type, e.message, str(e)) == ("pypool.JavaTimeout", "no answer", "pypool.JavaTimeout: no answer")
    assert issubclass(pypool.Cancelled, BaseException) and not issubclass(pypool.Cancelled, Exception)
