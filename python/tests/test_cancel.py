"""CANCEL through a real worker's pipes: calls not started never run, running ones see it, and
every request still gets exactly one final reply."""

import json
import threading
import time

import pytest

from pypool import protocol
from workerproc import WorkerProcess, wait_until


def start(concurrency):
    w = WorkerProcess("pypool.examples", "handlers_for_tests", "handlers_conversations",
                      extra=["--concurrency", str(concurrency)])
    w.read_hello()
    return w


# One worker per mode for the module: each test leaves it with no call in flight.
@pytest.fixture(scope="module", params=[1, 4], ids=["one-thread", "four-threads"])
def worker(request):
    w = start(request.param)
    yield w
    w.kill()


@pytest.fixture(scope="module")
def alone():
    w = start(1)
    yield w
    w.kill()


def cancelled(w, rid):
    kind, err = w.reply(rid)
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "cancelled", "Cancelled"), err
    return err


def all_read(w, data):
    """Writes data, more than a pipe holds, and returns once the worker has read all of it: what
    was sent before it has been read too."""
    written = []

    def write():
        w.proc.stdin.write(data)
        w.proc.stdin.flush()
        written.append(True)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    t.join(10)
    assert written, "the worker stopped reading its input"


def filler(rid):
    body = json.dumps({"cmd": "echo", "args": {"value": "f" * (1 << 20)}}).encode()
    return protocol.encode(protocol.REQUEST, rid, body)


def test_a_call_cancelled_before_it_starts_never_runs(alone, tmp_path):
    release, marker = tmp_path / "release", tmp_path / "ran"
    blocker = alone.send("t.wait_for", {"path": str(release)})
    queued = alone.send("t.touch", {"path": str(marker)})
    alone.cancel(queued)
    filled = alone.next_id
    alone.next_id += 1
    all_read(alone, filler(filled))  # the cancel is read while the only handler thread is busy
    release.touch()
    assert alone.reply(blocker) == (protocol.REPLY_OK, True)
    err = cancelled(alone, queued)
    assert err["message"] == "call 't.touch' was cancelled before it started"
    assert alone.reply(filled)[0] == protocol.REPLY_OK
    assert not marker.exists()


def test_a_running_handler_that_checks_ends_cancelled_and_the_worker_serves_on(worker, tmp_path):
    started = tmp_path / "started"
    rid = worker.send("c.poll", {"started": str(started)})
    wait_until(started.exists, what="the handler to start")
    worker.cancel(rid)
    err = cancelled(worker, rid)
    assert "checkpoint" in err["traceback"]
    assert worker.quiet()  # one final reply, no more
    assert worker.call("echo", {"value": 7}) == (protocol.REPLY_OK, 7)


def test_cancelled_is_not_swallowed_by_except_exception(worker, tmp_path):
    started = tmp_path / "started"
    rid = worker.send("c.swallow", {"started": str(started)})
    wait_until(started.exists, what="the handler to start")
    worker.cancel(rid)
    cancelled(worker, rid)


def test_a_handler_that_ignores_the_cancel_gets_its_normal_reply(worker, tmp_path):
    started = tmp_path / "started"
    rid = worker.send("c.ignore", {"started": str(started)})
    wait_until(started.exists, what="the handler to start")
    worker.cancel(rid)
    # It saw the flag; a thread of its own, outside any request, does not.
    assert worker.reply(rid) == (protocol.REPLY_OK, {"saw_cancel": True, "outside_a_request": False})
    worker.cancel(rid)  # answered already: ignored
    assert worker.call("echo", {"value": 1}) == (protocol.REPLY_OK, 1)


def test_cancel_of_an_async_handler_cancels_its_task(worker, tmp_path):
    started, marker = tmp_path / "started", tmp_path / "marker"
    rid = worker.send("c.async_wait", {"started": str(started), "marker": str(marker)})
    wait_until(started.exists, what="the handler to start")
    begun = time.monotonic()
    worker.cancel(rid)
    cancelled(worker, rid)
    assert time.monotonic() - begun < 10  # not its 30 s sleep
    assert marker.read_text() == "cancelled"
    assert worker.call("echo", {"value": 2}) == (protocol.REPLY_OK, 2)


def test_cancel_for_an_unknown_id_is_ignored(worker):
    worker.cancel(424242)
    assert worker.call("echo", {"value": 3}) == (protocol.REPLY_OK, 3)
    assert worker.quiet()
