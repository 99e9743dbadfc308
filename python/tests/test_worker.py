"""Drives a real worker process through its pipes, the way the JVM does."""

import json

import pytest

from pypool import protocol
from workerproc import WorkerProcess


@pytest.fixture
def worker():
    w = WorkerProcess("pypool.examples", "handlers_for_tests")
    w.hello = w.read_hello()
    yield w
    if w.proc.poll() is None:
        w.close()


def test_hello_names_pid_versions_and_capabilities(worker):
    assert worker.hello["pid"] == worker.proc.pid
    assert worker.hello["runtime"]
    assert "sessions" in worker.hello["capabilities"]
    assert "add" in worker.hello["commands"]


def test_result_of_a_handler_is_returned(worker):
    assert worker.call("add", {"a": 2, "b": 3}) == (protocol.REPLY_OK, 5)


def test_print_and_fd1_writes_go_to_stderr_not_the_protocol(worker):
    assert worker.call("t.noisy", {"text": "hi"}) == (protocol.REPLY_OK, "HI")
    assert worker.call("ping")[0] == protocol.REPLY_OK
    code, err = worker.close()
    assert code == 0
    assert "printed: hi" in err and "raw fd1 write" in err


def test_exception_carries_type_message_and_traceback(worker):
    kind, err = worker.call("t.boom")
    assert kind == protocol.REPLY_ERROR
    assert (err["kind"], err["type"], err["message"]) == ("exception", "ValueError", "kaboom")
    assert "handlers_for_tests.py" in err["traceback"] and "raise ValueError" in err["traceback"]
    assert worker.call("add", {"a": 1, "b": 1}) == (protocol.REPLY_OK, 2)


def test_type_error_inside_a_handler_is_an_exception_not_bad_arguments(worker):
    kind, err = worker.call("t.inner_type_error", {"x": 1})
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "exception", "TypeError")


def test_arguments_that_do_not_fit_are_bad_arguments(worker):
    kind, err = worker.call("add", {"a": 1})
    assert (kind, err["kind"], err["type"]) == (protocol.REPLY_ERROR, "bad_arguments", "BadArguments")
    assert err["message"].startswith("command 'add' rejected its arguments: ")


def test_unknown_command_lists_what_is_served(worker):
    kind, err = worker.call("nope")
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "unknown_command")
    assert "unknown command 'nope'" in err["message"] and "add" in err["message"]


def test_unserializable_result_is_a_clear_error(worker):
    kind, err = worker.call("t.set")
    assert (kind, err["kind"]) == (protocol.REPLY_ERROR, "unserializable_result")
    assert "not JSON-serializable" in err["message"] and "set" in err["message"]


def test_sessions_keep_separate_state_and_close_frees_it(worker):
    assert worker.call("counter.add", {"by": 2}, session="a")[1]["total"] == 2
    assert worker.call("counter.add", {"by": 5}, session="b")[1]["total"] == 5
    assert worker.call("counter.add", {"by": 1}, session="a")[1]["total"] == 3
    assert worker.call("stats")[1]["sessions"] == 2
    assert worker.call("close_session", session="a")[1] == {"closed": True}
    assert worker.call("counter.get", session="a")[1]["total"] == 0


def test_malformed_request_body_is_answered_with_bad_request(worker):
    worker.proc.stdin.write(protocol.encode(protocol.REQUEST, 77, b"{not json"))
    worker.proc.stdin.flush()
    kind, rid, body = worker.read()
    assert (kind, rid, json.loads(body)["kind"]) == (protocol.REPLY_ERROR, 77, "bad_request")


def test_oversized_frame_from_host_ends_the_worker_with_a_message():
    w = WorkerProcess("pypool.examples", extra=["--max-frame-bytes", "100"])
    assert w.read()[0] == protocol.HELLO
    w.proc.stdin.write(protocol.encode(protocol.REQUEST, 1, b"x" * 500))
    w.proc.stdin.flush()
    code, err = w.close()
    assert code == 4 and "frame length" in err


def test_import_failure_sends_startup_failed_and_exits():
    w = WorkerProcess("broken_handlers")
    kind, _, body = w.read()
    err = json.loads(body)
    assert kind == protocol.STARTUP_FAILED
    assert err["type"] == "ModuleNotFoundError" and "module_that_does_not_exist" in err["message"]
    code, _ = w.close()
    assert code == 3


def test_end_of_input_ends_the_worker(worker):
    code, _ = worker.close()
    assert code == 0


def test_concurrent_mode_runs_handlers_at_once():
    w = WorkerProcess("pypool.faults", extra=["--concurrency", "4"])
    assert w.read()[0] == protocol.HELLO
    for rid in range(1, 5):
        body = json.dumps({"cmd": "fault.meet", "args": {"parties": 4}}).encode()
        w.proc.stdin.write(protocol.encode(protocol.REQUEST, rid, body))
    w.proc.stdin.flush()
    replies = sorted((w.read()[:2]) for _ in range(4))
    assert replies == [(protocol.REPLY_OK, rid) for rid in range(1, 5)]
    w.close()


def test_fault_injection_crashes_on_the_nth_registered_call_only():
    w = WorkerProcess("pypool.examples", "pypool.faults", env={"PYPOOL_FAULT_CRASH_ON_CALL": "2"})
    assert w.read()[0] == protocol.HELLO
    assert w.call("ping")[0] == protocol.REPLY_OK          # built-ins are not counted
    assert w.call("add", {"a": 1, "b": 1}) == (protocol.REPLY_OK, 2)
    body = json.dumps({"cmd": "add", "args": {"a": 1, "b": 1}}).encode()
    w.proc.stdin.write(protocol.encode(protocol.REQUEST, 99, body))
    w.proc.stdin.flush()
    assert w.read() is None                                  # died before replying
    assert w.proc.wait(timeout=10) == -9


def test_fault_injection_is_limited_to_the_named_workers():
    w = WorkerProcess("pypool.examples", "pypool.faults",
                      env={"PYPOOL_FAULT_CRASH_ON_CALL": "1", "PYPOOL_FAULT_WORKERS": "w9"})
    assert w.read()[0] == protocol.HELLO
    assert w.call("add", {"a": 1, "b": 1}) == (protocol.REPLY_OK, 2)
    w.close()


def test_logging_records_reach_the_host_marked_with_their_level_and_logger():
    import logging
    from pypool import logbridge
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = []
    try:
        assert logbridge.install() is True
        assert logbridge.install() is False  # the root logger has a handler now: left alone
        handler = root.handlers[-1]
        record = logging.LogRecord("my.mod", logging.WARNING, __file__, 1, "line one\nline two \\ end", None, None)
        import io
        import sys
        captured = io.StringIO()
        old, sys.stderr = sys.stderr, captured
        try:
            handler.emit(record)
        finally:
            sys.stderr = old
        assert captured.getvalue() == "\x1epypool-log 30 my.mod\tline one\\nline two \\\\ end\n"
    finally:
        root.handlers[:] = saved
