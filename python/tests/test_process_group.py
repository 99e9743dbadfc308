"""A worker is its process tree: it leads its own group, ends it on TERM and at end of input, and
its forked children do not hold the protocol's pipes."""

import os
import signal

import pytest

from pypool import protocol
from workerproc import WorkerProcess, gone, wait_until


@pytest.fixture
def worker():
    w = WorkerProcess("pypool.examples", "handlers_for_tests")
    w.hello = w.read_hello()
    yield w
    w.kill()


def test_worker_leads_its_own_process_group_and_says_so(worker):
    assert os.getpgid(worker.proc.pid) == worker.proc.pid != os.getpgid(0)
    assert worker.hello["pgid"] == worker.proc.pid
    assert {"process_group", "deadlines"} <= set(worker.hello["capabilities"])


def test_term_ends_the_worker_with_everything_it_started(worker):
    child = worker.call("t.spawn_sleeper")[1]
    assert os.getpgid(child) == worker.proc.pid
    os.kill(worker.proc.pid, signal.SIGTERM)
    assert worker.proc.wait(timeout=10) == -signal.SIGKILL
    wait_until(lambda: gone(child), what=f"the handler's child {child} to end")


def test_end_of_input_terminates_the_rest_of_the_group_and_exits_0(worker):
    child = worker.call("t.spawn_sleeper")[1]
    code, _ = worker.close()
    assert code == 0
    wait_until(lambda: gone(child), what=f"the handler's child {child} to end")


def test_host_that_stops_reading_ends_the_worker_and_its_group(worker):
    child = worker.call("t.spawn_sleeper")[1]
    worker.proc.stdout.close()
    worker.send("ping")  # its reply cannot be written
    assert worker.proc.wait(timeout=10) == 0
    wait_until(lambda: gone(child), what=f"the handler's child {child} to end")


def test_end_of_input_answers_every_request_read_first():
    w = WorkerProcess("pypool.examples")
    w.read_hello()
    w.send("sleep", {"ms": 100}, flush=False)
    w.send("add", {"a": 1, "b": 2})
    w.proc.stdin.close()
    assert [w.read()[:2] for _ in range(2)] == [(protocol.REPLY_OK, 1), (protocol.REPLY_OK, 2)]
    assert w.proc.wait(timeout=10) == 0
    w.kill()


def test_forked_child_does_not_hold_the_protocol_pipes(worker):
    assert worker.call("t.fork_probe") == (protocol.REPLY_OK, {
        "in_fd": "closed", "out_fd": "closed", "send": "ChannelClosed", "ended_by": signal.SIGTERM})
    assert worker.call("ping")[0] == protocol.REPLY_OK  # nothing from the child reached the host
