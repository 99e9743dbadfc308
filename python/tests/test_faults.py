"""Fault injection still reaches the host through the writer thread, in order with real frames."""

import json

import pytest

from pypool import protocol
from workerproc import WorkerProcess


@pytest.fixture
def worker():
    w = WorkerProcess("pypool.faults", extra=["--concurrency", "2"])
    w.read_hello()
    yield w
    w.kill()


def test_garbage_lands_on_the_protocol_channel(worker):
    worker.send("fault.garbage", {"text": "not a frame at all\n"})
    assert worker.proc.stdout.read(19) == b"not a frame at all\n"


def test_invalid_json_answers_the_current_request(worker):
    rid = worker.send("fault.invalid_json")
    assert worker.read() == (protocol.REPLY_OK, rid, b"{not json")


def test_oversized_frame_is_announced(worker):
    rid = worker.send("fault.oversized_frame")
    length, kind, _, _, reply_id = protocol.HEADER.unpack(worker.proc.stdout.read(protocol.HEADER.size))
    assert (length, kind, reply_id) == (0x7FFFFFF0, protocol.REPLY_OK, rid)


def test_reply_to_a_request_never_sent_reaches_the_host(worker):
    worker.send("fault.unknown_request")
    assert worker.read() == (protocol.REPLY_OK, 987654321, json.dumps("surprise").encode())
