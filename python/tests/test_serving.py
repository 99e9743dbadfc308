"""The worker's threads, deadlines and last-resort guards, through a real worker's pipes."""

import json
import threading
import time

import pytest

from pypool import protocol
from workerproc import WorkerProcess, wait_until


@pytest.fixture
def worker():
    w = WorkerProcess("pypool.examples", "handlers_for_tests")
    w.read_hello()
    yield w
    w.kill()


def assert_alive(w):
    assert w.call("ping")[0] == protocol.REPLY_OK


def write_in_background(w, data):
    """Writes to the worker's input on another thread; the event is set once every byte is in."""
    written = threading.Event()

    def write():
        try:
            w.proc.stdin.write(data)
            w.proc.stdin.flush()
            written.set()
        except (OSError, ValueError):
            pass  # the worker was killed while this write was stuck

    threading.Thread(target=write, daemon=True).start()
    return written


# -- threads ----------------------------------------------------------------------------------
def test_reader_keeps_reading_while_the_only_handler_blocks(worker, tmp_path):
    release = tmp_path / "release"
    first = worker.send("t.wait_for", {"path": str(release)})
    big = "x" * (1 << 20)  # far more than a pipe holds: the write ends only if the worker reads it
    body = json.dumps({"cmd": "echo", "args": {"value": big}}).encode()
    written = write_in_background(worker, protocol.encode(protocol.REQUEST, 2, body))
    assert written.wait(10), "the worker stopped reading its input while a handler ran"
    release.touch()
    assert worker.reply(first) == (protocol.REPLY_OK, True)
    assert worker.reply(2) == (protocol.REPLY_OK, big)


def test_pipelined_large_requests_with_a_slow_reader_do_not_deadlock():
    w = WorkerProcess("pypool.examples", extra=["--concurrency", "1"])
    w.read_hello()
    value = "y" * 300_000
    frames = b"".join(protocol.encode(protocol.REQUEST, rid, json.dumps(
        {"cmd": "echo", "args": {"value": value}}).encode()) for rid in range(1, 41))
    try:
        # The replies are read only once every request is written: a worker that blocks writing a
        # reply while the host blocks writing requests would never get there.
        written = write_in_background(w, frames)
        assert written.wait(20), "the worker stopped reading while its replies were not read"
        replies = [w.read() for _ in range(40)]
        assert [(kind, rid) for kind, rid, _ in replies] == [(protocol.REPLY_OK, rid) for rid in range(1, 41)]
        assert all(json.loads(body) == value for _, _, body in replies)
    finally:
        w.kill()


def test_replies_to_requests_that_arrive_together_go_out_together(worker):
    first = worker.send("t.corked", flush=False)
    second = worker.send("t.corked")  # one write: both requests are read at once
    assert worker.reply(first) == (protocol.REPLY_OK, True)
    assert worker.reply(second) == (protocol.REPLY_OK, True)
    assert worker.call("t.corked") == (protocol.REPLY_OK, False)  # alone: written at once


def test_a_reply_held_back_goes_out_while_a_slow_handler_after_it_runs(worker, tmp_path):
    release = tmp_path / "release"
    fast = worker.send("echo", {"value": 1}, flush=False)
    slow = worker.send("t.wait_for", {"path": str(release), "timeout_s": 20})
    # Read before the slow handler is released: if the first reply waited for it, the slow one
    # would answer False after its own timeout instead of True.
    assert worker.reply(fast) == (protocol.REPLY_OK, 1)
    release.touch()
    assert worker.reply(slow) == (protocol.REPLY_OK, True)


def test_handlers_do_not_wait_for_the_host_to_read_replies(worker, tmp_path):
    marker = tmp_path / "second call ran"
    first = worker.send("echo", {"value": "z" * (1 << 20)}, flush=False)  # more than a pipe holds
    second = worker.send("t.touch", {"path": str(marker)})
    # Nothing is read yet: the one handler thread must have handed the first reply on and moved on.
    wait_until(marker.exists, what="the second call to run while the first reply was unread")
    assert worker.read()[:2] == (protocol.REPLY_OK, first)
    assert worker.reply(second) == (protocol.REPLY_OK, str(marker))


def test_cancel_frames_are_read_and_ignored(worker):
    worker.proc.stdin.write(protocol.encode(protocol.CANCEL, 12345, b""))
    worker.proc.stdin.flush()
    assert_alive(worker)


# -- deadlines --------------------------------------------------------------------------------
def test_call_whose_deadline_passed_while_queued_is_not_started(worker):
    slow = worker.send("sleep", {"ms": 500}, flush=False)
    late = worker.send("counter.add", {"by": 1}, session="s", deadline_ms=100)
    assert worker.reply(slow) == (protocol.REPLY_OK, 500)
    kind, err = worker.reply(late)
    assert (kind, err["kind"], err["type"], err["traceback"]) == (
        protocol.REPLY_ERROR, "expired", "DeadlineExpired", "")
    assert err["message"].startswith("call 'counter.add' was not started: its deadline passed after ")
    assert err["message"].endswith(" ms waiting in the worker")
    waited = int(err["message"].split("after ")[1].split(" ms")[0])
    assert 100 <= waited < 5000
    assert worker.call("counter.get", session="s")[1]["total"] == 0  # the handler never ran


def test_call_with_time_left_runs(worker):
    slow = worker.send("sleep", {"ms": 50}, flush=False)
    queued = worker.send("counter.add", {"by": 1}, session="s", deadline_ms=60_000)
    assert worker.reply(slow) == (protocol.REPLY_OK, 50)
    assert worker.reply(queued)[1]["total"] == 1


# -- data that must not end a worker ----------------------------------------------------------
def nested(depth):
    return "[" * depth + "]" * depth


def test_exception_message_with_a_lone_surrogate_is_answered(worker):
    kind, err = worker.call("t.surrogate_error")
    assert (kind, err["kind"], err["type"], err["message"]) == (
        protocol.REPLY_ERROR, "exception", "ValueError", "bad\ud800")
    assert_alive(worker)


def test_exception_that_cannot_be_printed_is_answered(worker):
    kind, err = worker.call("t.unprintable_error")
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "exception")
    assert err["type"] == "handlers_for_tests.Unprintable" and "cannot be printed" in err["message"]
    assert_alive(worker)


def test_result_with_a_lone_surrogate_is_sent_escaped(worker):
    rid = worker.send("t.surrogate_result")
    kind, reply_id, payload = worker.read()
    assert (kind, reply_id) == (protocol.REPLY_OK, rid)
    assert payload == b'"x\\ud800"' and json.loads(payload.decode("utf-8")) == "x\ud800"
    assert_alive(worker)


def test_result_whose_encoding_fails_in_any_way_is_unserializable(worker):
    kind, err = worker.call("t.failing_result")
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "unserializable_result", "SystemExit")
    assert_alive(worker)


def test_deep_argument_and_result_within_the_limit_go_through(worker):
    # Built and compared as text: this test's own deep stack would not decode them.
    worker.send_body(b'{"cmd":"echo","args":{"value":' + nested(990).encode() + b"}}", 4)
    assert worker.read() == (protocol.REPLY_OK, 4, nested(990).encode())
    rid = worker.send("t.nest", {"depth": protocol.MAX_NESTING_DEPTH})
    kind, _, payload = worker.read()
    assert (kind, payload) == (protocol.REPLY_OK, nested(protocol.MAX_NESTING_DEPTH).encode())
    assert_alive(worker)


def test_result_deeper_than_the_limit_is_refused_naming_it(worker):
    for depth in (protocol.MAX_NESTING_DEPTH + 1, 50_000):
        kind, err = worker.call("t.nest", {"depth": depth})
        assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "unserializable_result")
        assert "deeper than the limit of 1000 levels" in err["message"]
        assert_alive(worker)


def test_argument_deeper_than_the_limit_is_a_bad_request(worker):
    body = b'{"cmd":"echo","args":{"value":' + nested(protocol.MAX_NESTING_DEPTH).encode() + b"}}"
    worker.send_body(body, 5)
    kind, err = worker.reply(5)
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "bad_request")
    assert "deeper than the limit of 1000 levels" in err["message"]
    assert_alive(worker)


def test_non_utf8_request_body_is_a_bad_request(worker):
    worker.send_body(b'{"cmd":"echo","args":{"value":"\xff\xfe"}}', 6)
    kind, err = worker.reply(6)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "bad_request", "UnicodeDecodeError")
    assert_alive(worker)


def test_request_body_that_is_not_an_object_is_a_bad_request(worker):
    for rid, body in ((7, b"[1,2]"), (8, b'"just a string"'), (9, b'{"cmd":"ping","deadline_ms":"soon"}')):
        worker.send_body(body, rid)
        assert worker.reply(rid)[1]["kind"] == "bad_request"
    assert_alive(worker)


def test_large_replies_from_many_handler_threads_never_interleave():
    """Handlers write their own replies when the pipe is free; a reply the pipe takes only in part
    must still come out whole, with no other frame inside it, while the host reads slowly."""
    w = WorkerProcess("pypool.examples", extra=["--concurrency", "8"])
    w.read_hello()
    try:
        values = {rid: chr(ord("a") + rid % 26) * (20_000 + (rid * 7919) % 150_000) for rid in range(1, 301)}
        for rid, value in values.items():
            w.send("echo", {"value": value}, rid=rid, flush=False)
        w.proc.stdin.flush()
        seen = {}
        for _ in values:
            time.sleep(0.001)  # a slow host: the pipe fills, and handlers' own writes are cut short
            kind, rid, body = w.read()  # a broken frame boundary fails here or in the checks below
            assert kind == protocol.REPLY_OK
            seen[rid] = json.loads(body)
        assert seen == values
    finally:
        w.kill()


# -- async handlers ---------------------------------------------------------------------------
def test_async_handlers_wait_together_on_one_handler_thread():
    w = WorkerProcess("pypool.examples", "handlers_for_tests", extra=["--concurrency", "1"])
    hello = w.read_hello()
    # The host learns which commands hold no handler thread: it judges which calls are running by it.
    assert "t.async_meet" in hello["async_commands"] and "echo" not in hello["async_commands"]
    try:
        ids = list(range(1, 9))
        for rid in ids:  # eight calls that each wait until all eight wait: one thread could not
            w.send("t.async_meet", {"parties": 8}, rid=rid, flush=False)
        w.proc.stdin.flush()
        replies = {}
        for _ in ids:  # in any order: they finish together
            kind, rid, body = w.read()
            replies[rid] = (kind, json.loads(body))
        assert replies == {rid: (protocol.REPLY_OK, rid) for rid in ids}  # each knows its own request id
        kind, err = w.call("t.async_fail", {"message": "async boom"})
        assert (kind, err["type"], err["message"]) == (protocol.REPLY_ERROR, "ValueError", "async boom")
        assert "async_fail" in err["traceback"]
        assert w.call("t.async_session", {"by": 2}, session="s") == (protocol.REPLY_OK, 2)
        assert w.call("t.async_session", {"by": 3}, session="s") == (protocol.REPLY_OK, 5)
        assert_alive(w)
    finally:
        w.kill()
