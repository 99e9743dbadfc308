"""Streamed results through a real worker's pipes: the test plays the host, reading STREAM_ITEM
frames and granting credit."""

import json
import time

import pytest

from pypool import protocol
from workerproc import WorkerProcess


def start(*extra):
    w = WorkerProcess("pypool.examples", "handlers_conversations", extra=list(extra))
    w.read_hello()
    return w


@pytest.fixture(scope="module")
def worker():
    """One worker for the tests that leave it as they found it: every stream they start ends."""
    w = start()
    yield w
    w.kill()


def read_item(w, rid):
    kind, reply_id, body = w.read()
    assert (kind, reply_id) == (protocol.STREAM_ITEM, rid), body
    return protocol.decode_body(body)


def read_items(w, rid, n):
    return [read_item(w, rid) for _ in range(n)]


def final(w, rid):
    kind, reply_id, body = w.read()
    assert reply_id == rid and kind in (protocol.REPLY_OK, protocol.REPLY_ERROR), (kind, body)
    return kind, json.loads(body)


def test_empty_stream_ends_at_once(worker):
    rid = worker.stream("s.count", {"n": 0})
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 0})


def test_stream_of_one_item(worker):
    rid = worker.stream("s.count", {"n": 1})
    assert read_item(worker, rid) == 0
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 1})


def test_hundred_thousand_items_arrive_in_order_as_the_host_grants_credit(worker):
    n, window = 100_000, 1000
    started = time.monotonic()
    rid = worker.stream("s.count", {"n": n}, items=window)
    consumed = 0
    while True:
        kind, reply_id, body = worker.read()
        assert reply_id == rid
        if kind != protocol.STREAM_ITEM:
            break
        assert int(body) == consumed
        consumed += 1
        if consumed % (window // 2) == 0:  # the credit back per half window, as the JVM does
            worker.credit(rid, window // 2)
    took = time.monotonic() - started
    assert (kind, json.loads(body)) == (protocol.REPLY_OK, {"items": n})
    assert consumed == n
    assert took < 20, f"{n} items took {took:.1f} s"


def test_no_item_is_sent_beyond_the_items_granted(worker):
    rid = worker.stream("s.count", {"n": 100}, items=3)
    assert read_items(worker, rid, 3) == [0, 1, 2]
    assert worker.quiet(), "an item came without credit"
    worker.credit(rid, 2)
    assert read_items(worker, rid, 2) == [3, 4]
    assert worker.quiet()
    worker.credit(rid, 1000)
    assert read_items(worker, rid, 95) == list(range(5, 100))
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 100})


def test_byte_credit_lets_the_last_item_overdraw_then_waits_until_it_is_repaid(worker):
    # Each item's body is '"xxxx"': 6 bytes.
    rid = worker.stream("s.sized", {"n": 10, "size": 4}, nbytes=10)
    assert read_items(worker, rid, 2) == ["xxxx"] * 2  # 6 bytes, then 6 more: 12 of 10 spent
    assert worker.quiet()
    worker.credit(rid, 0, 2)  # 12 granted, 12 spent: still nothing to spend
    assert worker.quiet()
    worker.credit(rid, 0, 1)  # 13 > 12: one item
    assert read_item(worker, rid) == "xxxx"
    assert worker.quiet()
    worker.credit(rid, 0, 1 << 20)
    assert read_items(worker, rid, 7) == ["xxxx"] * 7
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 10})


def test_cancel_closes_the_generator_and_is_answered_cancelled(worker, tmp_path):
    marker = str(tmp_path / "made")
    rid = worker.stream("s.marked", {"n": 1000, "path": marker}, items=3)
    assert read_items(worker, rid, 3) == [0, 1, 2]
    worker.cancel(rid)
    kind, err = final(worker, rid)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "cancelled", "Cancelled")
    with open(marker) as f:  # written by the generator's finally, before the reply
        assert f.read() == "3"
    assert worker.quiet()  # exactly one final reply, and no item after it
    assert worker.call("echo", {"value": 1}) == (protocol.REPLY_OK, 1)


def test_a_stream_waiting_for_credit_holds_no_handler_thread(worker):
    rid = worker.stream("s.count", {"n": 5}, items=1)
    assert read_item(worker, rid) == 0
    assert worker.call("echo", {"value": "served"}) == (protocol.REPLY_OK, "served")  # one handler thread
    stats = worker.call("stats")[1]
    assert (stats["streams"], stats["in_flight"]) == (1, 2)  # the stream, and the stats call itself
    worker.credit(rid, 10)
    assert read_items(worker, rid, 4) == [1, 2, 3, 4]
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 5})
    assert worker.call("stats")[1]["streams"] == 0


def test_credit_sent_before_the_stream_starts_is_kept(worker):
    blocker = worker.send("sleep", {"ms": 100}, flush=False)
    rid = worker.stream("s.count", {"n": 4}, items=1, flush=False)
    # Read while the stream's request waits behind the sleep. The end, too, needs credit: finding
    # it takes one more next() of the generator.
    worker.credit(rid, 4)
    frames = [worker.read() for _ in range(6)]  # the sleep's reply may come among the items
    assert [(kind, body) for kind, reply_id, body in frames if reply_id == blocker] == [
        (protocol.REPLY_OK, b"100")]
    assert [(kind, json.loads(body)) for kind, reply_id, body in frames if reply_id == rid] == [
        (protocol.STREAM_ITEM, 0), (protocol.STREAM_ITEM, 1), (protocol.STREAM_ITEM, 2),
        (protocol.STREAM_ITEM, 3), (protocol.REPLY_OK, {"items": 4})]


def test_async_generator_stream(worker):
    rid = worker.stream("s.async_count", {"n": 5}, items=2)
    assert read_items(worker, rid, 2) == [{"i": 0, "request": rid}, {"i": 1, "request": rid}]
    assert worker.quiet()
    worker.credit(rid, 10)
    assert [item["i"] for item in read_items(worker, rid, 3)] == [2, 3, 4]
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 5})


def test_async_def_handler_whose_result_is_a_generator_streams_it(worker):
    rid = worker.stream("s.async_def_stream", {"n": 3})
    assert read_items(worker, rid, 3) == [0, 10, 20]
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 3})


def test_cancel_reaches_an_async_generator_inside_an_await(worker, tmp_path):
    marker = tmp_path / "closed"
    rid = worker.stream("s.async_slow", {"path": str(marker)})
    assert read_item(worker, rid) == "first"
    worker.cancel(rid)
    started = time.monotonic()
    kind, err = final(worker, rid)
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "cancelled")
    assert time.monotonic() - started < 10  # not the generator's 30 s sleep
    assert marker.read_text() == "closed"


def test_stream_of_a_handler_that_returns_no_iterator_is_not_a_stream(worker):
    rid = worker.stream("s.not_a_stream")
    kind, err = final(worker, rid)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "not_a_stream", "NotAStream")
    assert "'s.not_a_stream'" in err["message"] and "list" in err["message"]


def test_stream_items_carry_bytes_as_attachments(worker):
    rid = worker.stream("s.blobs", {"n": 3, "size": 5000})
    for i in range(3):
        kind, reply_id, body = worker.read()
        assert (kind, reply_id) == (protocol.STREAM_ITEM, rid)
        assert isinstance(body, protocol.Attached)
        assert protocol.decode_body(body) == {"i": i, "data": bytes([i]) * 5000}
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 3})


def test_a_generator_that_raises_after_some_items_is_an_exception(worker):
    rid = worker.stream("s.fail_after", {"n": 2})
    assert read_items(worker, rid, 2) == [0, 1]
    kind, err = final(worker, rid)
    assert (kind, err["kind"], err["type"], err["message"]) == (
        protocol.REPLY_ERROR, "exception", "ValueError", "failed after 2")
    assert "fail_after" in err["traceback"]


def test_an_item_that_cannot_be_sent_ends_the_stream_and_closes_the_generator(worker, tmp_path):
    marker = tmp_path / "closed"
    rid = worker.stream("s.unserializable", {"path": str(marker)})
    assert read_item(worker, rid) == 1
    kind, err = final(worker, rid)
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "unserializable_result")
    assert "item 1 of stream 's.unserializable'" in err["message"]
    assert marker.read_text() == "closed"


def test_an_item_over_the_frame_limit_is_result_too_large():
    w = start("--max-frame-bytes", "1000")
    try:
        rid = w.stream("s.sized", {"n": 3, "size": 10})
        assert read_items(w, rid, 3) == ["x" * 10] * 3
        assert final(w, rid) == (protocol.REPLY_OK, {"items": 3})
        rid = w.stream("s.sized", {"n": 3, "size": 2000})
        kind, err = final(w, rid)
        assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "result_too_large", "ResultTooLarge")
    finally:
        w.kill()


def test_a_stream_waiting_for_credit_past_its_deadline_expires(worker):
    rid = worker.stream("s.count", {"n": 10}, items=1, deadline_ms=150)
    assert read_item(worker, rid) == 0
    kind, err = final(worker, rid)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "expired", "DeadlineExpired")
    assert "after 1 items" in err["message"]


@pytest.mark.parametrize("stream", [{"items": -1, "bytes": 10}, {"items": 1}, "lots", {"items": True, "bytes": 1}])
def test_malformed_stream_credit_is_a_bad_request(worker, stream):
    rid = worker.send("s.count", {"n": 1}, stream=stream)
    kind, err = worker.reply(rid)
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "bad_request")


def test_malformed_credit_frames_are_ignored(worker):
    rid = worker.stream("s.count", {"n": 2}, items=1)
    assert read_item(worker, rid) == 0
    for body in (b"{", b'{"items": -1, "bytes": 1}', b"[]", b'{"items": 1}'):
        worker.send_frame(protocol.CREDIT, rid, body)
    worker.send_frame(protocol.CREDIT, 99999, b'{"items": 1, "bytes": 1}')  # no such stream
    assert worker.quiet()
    worker.credit(rid, 2)  # the item, and the end
    assert read_item(worker, rid) == 1
    assert final(worker, rid) == (protocol.REPLY_OK, {"items": 2})


@pytest.mark.parametrize("started_before_the_end", [True, False])
def test_end_of_input_ends_a_stream_waiting_for_credit_and_the_worker_exits(started_before_the_end):
    w = start()
    try:
        if not started_before_the_end:
            w.send("sleep", {"ms": 100}, flush=False)  # the stream starts after the input ended
        rid = w.stream("s.count", {"n": 10}, items=1)
        if started_before_the_end:
            assert read_item(w, rid) == 0
        w.proc.stdin.close()
        frames = []
        while not frames or frames[-1][:2] != (protocol.REPLY_ERROR, rid):
            frames.append(w.read())
        if not started_before_the_end:
            assert [(kind, body) for kind, reply_id, body in frames if reply_id == rid][-2] == (
                protocol.STREAM_ITEM, b"0")
        assert json.loads(frames[-1][2])["kind"] == "cancelled"
        assert w.proc.wait(timeout=10) == 0
    finally:
        w.kill()


# -- plain calls of generator handlers --------------------------------------------------------
def test_plain_call_of_a_generator_gets_the_list_of_its_items(worker):
    assert worker.call("g.plain", {"n": 4}) == (protocol.REPLY_OK, [0, 1, 4, 9])
    assert worker.call("g.async_plain", {"n": 3}) == (protocol.REPLY_OK, [0, -1, -2])
    kind, err = worker.call("g.fails")
    assert (kind, err["type"], err["message"]) == (protocol.REPLY_ERROR, "KeyError", "'in the generator'")
