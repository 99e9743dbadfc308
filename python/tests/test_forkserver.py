import json
import os
import signal
import sys

import pytest

from forkserverproc import ForkServerProcess, call, read_frame
from pypool import forksafe, protocol
from workerproc import gone, wait_until


@pytest.fixture
def server():
    s = ForkServerProcess("pypool.examples")
    yield s
    s.kill()


def parent_of(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[1])


def pgid_of(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[2])


def test_template_says_hello_safe_and_forks_workers_that_serve(server, tmp_path):
    _, hello = server.read_json(protocol.HELLO)
    assert hello["unsafe"] == []
    pid, conns = server.fork("w1")
    kind, _, body = read_frame(conns["out"])
    assert kind == protocol.HELLO
    worker_hello = json.loads(body)
    assert worker_hello["pid"] == pid and worker_hello["worker"] == "w1"
    assert "process_group" in worker_hello["capabilities"]
    assert parent_of(pid) == hello["pid"]  # the template's child, not ours
    assert pgid_of(pid) == pid  # the leader of its own group
    kind, rid, body = call(conns, "add", 7, [2, 3])
    assert (kind, rid, json.loads(body)) == (protocol.REPLY_OK, 7, 5)


def test_modules_are_imported_once_in_the_template(tmp_path):
    record = tmp_path / "imports"
    s = ForkServerProcess("pypool_test_handlers_import_counter", env={"PYPOOL_TEST_IMPORT_RECORD": str(record)})
    try:
        _, hello = s.read_json(protocol.HELLO)
        workers = [s.fork(f"w{n}", token=f"t{n}") for n in range(3)]
        assert len({pid for pid, _ in workers}) == 3
        assert record.read_text().split() == [str(hello["pid"])]
    finally:
        s.kill()


def test_worker_prints_reach_its_own_stderr_connection_not_its_frames():
    s = ForkServerProcess("handlers_for_tests")
    try:
        s.read_json(protocol.HELLO)
        _, conns = s.fork("w1")
        assert read_frame(conns["out"])[0] == protocol.HELLO
        kind, _, body = call(conns, "t.noisy", 1, ["hi"])
        assert (kind, json.loads(body)) == (protocol.REPLY_OK, "HI")
        conns["in"].shutdown(2)  # end of input: the worker leaves, closing its stderr
        err = conns["err"].makefile("rb").read()
        assert b"printed: hi" in err and b"raw fd1 write" in err
    finally:
        s.kill()


def test_killed_worker_is_reported_at_once_with_its_signal(server):
    server.read_json(protocol.HELLO)
    pid, conns = server.fork("w1")
    read_frame(conns["out"])
    os.kill(pid, signal.SIGKILL)
    rid, report = server.read_json(protocol.REPLY_OK)
    assert rid == 0 and report == {"exited": pid, "status": 128 + signal.SIGKILL}


def test_clean_end_of_input_reports_exit_0(server):
    server.read_json(protocol.HELLO)
    pid, conns = server.fork("w1")
    read_frame(conns["out"])
    conns["in"].shutdown(2)
    rid, report = server.read_json(protocol.REPLY_OK)
    assert report == {"exited": pid, "status": 0}


def test_end_of_template_input_ends_it_and_its_workers(server):
    server.read_json(protocol.HELLO)
    workers = [server.fork(f"w{n}", token=f"t{n}") for n in range(2)]
    pids = [pid for pid, _ in workers]
    code, _ = server.close()
    assert code == 0
    wait_until(lambda: all(gone(p) for p in pids), what="the workers to end")


def test_killed_template_takes_its_workers_along(server):
    server.read_json(protocol.HELLO)
    pid, _ = server.fork("w1")
    server.proc.kill()
    wait_until(lambda: gone(pid), what="the worker to die with its template")


def test_import_failure_is_reported_like_a_worker_s_and_exits_3():
    s = ForkServerProcess("broken_handlers")
    try:
        _, failure = s.read_json(protocol.STARTUP_FAILED)
        assert failure["kind"] == "startup_failed"
        assert "module_that_does_not_exist" in failure["message"]
        code, err = s.close()
        assert code == 3 and "ModuleNotFoundError" in err
    finally:
        s.kill()


def test_thread_left_running_at_import_makes_forking_unsafe():
    s = ForkServerProcess("fork_unsafe_thread")
    try:
        _, hello = s.read_json(protocol.HELLO)
        assert any("left-running" in r for r in hello["unsafe"]), hello
        assert s.close()[0] == 0
    finally:
        s.kill()


def hello_of(module, env=None):
    s = ForkServerProcess(module, env=env)
    try:
        return s.read_json(protocol.HELLO)[1]
    finally:
        s.kill()


def test_open_sqlite_database_makes_forking_unsafe():
    hello = hello_of("fork_unsafe_sqlite")
    assert any("SQLite database" in r and "cache.db" in r for r in hello["unsafe"]), hello


def test_before_fork_hook_that_closes_the_database_makes_forking_safe():
    assert hello_of("fork_unsafe_sqlite", env={"PYPOOL_TEST_CLOSE_BEFORE_FORK": "1"})["unsafe"] == []


def test_unsafe_reasons_sees_sockets_and_threads(tmp_path):
    import socket
    import threading
    a, b = socket.socketpair()
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="probe-thread")
    t.start()
    try:
        reasons = forksafe.unsafe_reasons()
        assert any("socket" in r for r in reasons)
        assert any("probe-thread" in r for r in reasons)
        assert not [r for r in forksafe.unsafe_reasons({a.fileno(), b.fileno()}) if "socket" in r]
    finally:
        stop.set()
        t.join()
        a.close()
        b.close()


def test_failing_before_fork_hook_is_a_reason(monkeypatch):
    monkeypatch.setattr(forksafe, "_hooks", [])

    @forksafe.before_fork
    def broken():
        raise RuntimeError("nope")

    assert any("nope" in r for r in forksafe.run_hooks())


def test_dspy_module_is_safe_to_fork_and_its_workers_serve():
    pytest.importorskip("dspy")
    s = ForkServerProcess("pypool.dspy")
    try:
        _, hello = s.read_json(protocol.HELLO)
        assert hello["unsafe"] == []
        _, conns = s.fork("w1")
        assert read_frame(conns["out"])[0] == protocol.HELLO
        kind, _, body = call(conns, "dspy.status", 1)
        assert kind == protocol.REPLY_OK and json.loads(body)["available"] is True
    finally:
        s.kill()


def test_initialised_cuda_makes_forking_unsafe(monkeypatch):
    import types
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(is_initialized=lambda: True))
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert any("CUDA" in r for r in forksafe.unsafe_reasons())
    fake.cuda.is_initialized = lambda: False
    assert not any("CUDA" in r for r in forksafe.unsafe_reasons())


def test_platform_without_fork_is_unsafe(monkeypatch):
    monkeypatch.delattr(os, "fork")
    assert forksafe.unsafe_reasons() == [f"this platform ({sys.platform}) has no os.fork"]
