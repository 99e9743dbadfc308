"""The W3C traceparent a request carries: pypool.traceparent() and logging records see it."""

import logging

import pytest

from pypool import inflight, logbridge, protocol
from workerproc import WorkerProcess

TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
OTHER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


@pytest.fixture(scope="module")
def worker():
    w = WorkerProcess("handlers_tracing", extra=["--concurrency", "2"])
    w.read_hello()
    yield w
    w.kill()


def test_the_handler_and_its_logging_records_see_the_traceparent(worker):
    assert worker.call("tr.seen", traceparent=TP) == (protocol.REPLY_OK, {"traceparent": TP, "logged": TP})


def test_a_call_without_one_sees_none_even_on_a_thread_that_ran_a_traced_call(worker):
    for _ in range(4):  # both handler threads ran a traced call before
        assert worker.call("tr.seen", traceparent=OTHER)[1]["traceparent"] == OTHER
        assert worker.call("tr.seen") == (protocol.REPLY_OK, {"traceparent": None, "logged": None})


@pytest.mark.parametrize("bad", [
    "not a traceparent",
    TP.upper(),
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    TP + "-extra",
    42,
])
def test_an_invalid_traceparent_is_ignored(worker, bad):
    assert worker.call("tr.seen", traceparent=bad) == (protocol.REPLY_OK, {"traceparent": None, "logged": None})


def test_a_streams_items_are_made_in_the_calls_trace(worker):
    rid = worker.stream("tr.stream", {"n": 2}, traceparent=TP)
    items = []
    for _ in range(2):
        kind, reply_id, body = worker.read()
        assert (kind, reply_id) == (protocol.STREAM_ITEM, rid), body
        items.append(protocol.decode_body(body))
    assert items == [TP, TP]
    assert worker.reply(rid) == (protocol.REPLY_OK, {"items": 2})


def test_an_async_handler_and_the_threads_it_hands_work_to_see_it(worker):
    assert worker.call("tr.async", traceparent=TP) == (protocol.REPLY_OK, [TP, TP])


def test_a_plain_thread_started_by_the_handler_is_outside_the_call(worker):
    assert worker.call("tr.outside", traceparent=TP) == (protocol.REPLY_OK, None)


def test_the_bridge_writes_the_traceparent_of_a_traced_call_beside_the_level(worker):
    assert worker.call("tr.warn", {"message": "traced"}, traceparent=TP)[1] is True
    assert worker.call("tr.warn", {"message": "untraced"})[1] is True
    assert worker.proc.stderr.readline() == f"\x1epypool-log 30;{TP} tr.bridge\ttraced\n".encode()
    assert worker.proc.stderr.readline() == b"\x1epypool-log 30 tr.bridge\tuntraced\n"


def test_valid_traceparent():
    assert inflight.valid_traceparent(TP) == TP
    assert inflight.valid_traceparent(None) is None
    assert inflight.valid_traceparent(TP[:-1]) is None


def test_records_made_outside_a_call_carry_none():
    logbridge.install_traceparent()
    logbridge.install_traceparent()  # a second time wraps nothing more
    record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert record.traceparent is None
    token = inflight.TRACEPARENT.set(TP)
    try:
        assert logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None).traceparent == TP
    finally:
        inflight.TRACEPARENT.reset(token)
