"""Replies held back (corked) while the requests read with them are served, against handlers
that misbehave: a reply already computed must not depend on what the handler after it does."""

import os
import queue
import threading

import pytest

from pypool import protocol
from workerproc import WorkerProcess


@pytest.fixture
def worker():
    w = WorkerProcess("pypool.examples", "hostile_handlers")
    w.read_hello()
    yield w
    w.kill()


def read_in_background(w):
    """Frames as the worker writes them (None at the end of its output), on a queue."""
    frames: "queue.Queue" = queue.Queue()

    def read():
        while True:
            try:
                frame = w.read()
            except (OSError, ValueError):
                frame = None
            frames.put(frame)
            if frame is None:
                return

    threading.Thread(target=read, daemon=True).start()
    return frames


def test_a_finished_reply_is_not_held_back_by_a_handler_that_holds_the_gil(worker, tmp_path):
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    frames = read_in_background(worker)
    fast = worker.send("echo", {"value": 1}, flush=False)
    worker.send("h.hold_gil_until_readable", {"path": str(fifo)})  # one write: read together
    try:
        # The echo finished before the second handler started; its reply was computed. It must
        # reach the host while the second one runs, however that one runs.
        frame = frames.get(timeout=5)
        assert frame is not None and frame[:2] == (protocol.REPLY_OK, fast), frame
    finally:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"x")
        os.close(fd)


def test_a_finished_reply_is_not_lost_when_the_next_handler_ends_the_process(worker):
    frames = read_in_background(worker)
    fast = worker.send("echo", {"value": 1}, flush=False)
    worker.send("h.hard_exit", {"code": 7})  # one write: read together
    frame = frames.get(timeout=10)
    # The echo was done before the process ended: a host that sees it crash should still have
    # its answer, as it did before replies were held back.
    assert frame is not None and frame[:2] == (protocol.REPLY_OK, fast), \
        "the echo's reply, computed before the crash, never left the worker"
