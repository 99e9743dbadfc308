"""The Ray actor's relay, without Ray: its byte protocol, ordering, a worker's exit and its group."""

import io
import json
import os
import signal
import struct
import time

import pytest

from pypool import protocol
from pypool.ray_relay import Relay, exit_status

HERE = os.path.dirname(os.path.abspath(__file__))


def relay(*modules):
    args = ["--pool", "p", "--worker", "w0", "--run-id", "r1", "--concurrency", "1"]
    for m in modules:
        args += ["--module", m]
    # paths are relative to the folder holding the runtime: the tests sit beside pypool/ there
    spec = {"args": args, "paths": [os.path.relpath(HERE, os.path.dirname(os.path.dirname(HERE)))], "pool": "p",
            "run_id": "r1"}
    return Relay(json.dumps(spec).encode())


class Pulled:
    """Reads a relay's pull records until a condition holds."""

    def __init__(self, r):
        self.r = r
        self.out = b""
        self.err = b""
        self.exit = None

    def until(self, done, timeout=20.0):
        end = time.monotonic() + timeout
        while not done(self):
            assert time.monotonic() < end, f"timed out; out={self.out[:200]!r} err={self.err[-500:]!r}"
            data = self.r.pull_now(0.2)
            while data:
                tag, n = data[:1], struct.unpack(">I", data[1:5])[0]
                payload, data = data[5:5 + n], data[5 + n:]
                if tag == b"O":
                    self.out += payload
                elif tag == b"E":
                    self.err += payload
                else:
                    assert tag == b"X" and self.exit is None, "exit reported twice"
                    self.exit = int(payload)
        return self

    def frames(self):
        stream, found = io.BytesIO(self.out), []
        while True:
            frame = protocol.read_frame(stream, protocol.DEFAULT_MAX_FRAME_BYTES)
            if frame is None:
                return found
            found.append(frame)


def push(r, seq, op, data=b""):
    r.push_now(struct.pack(">Q", seq) + op + data)


def request(rid, cmd, args):
    return protocol.encode(protocol.REQUEST, rid, json.dumps({"cmd": cmd, "args": args, "session": None}).encode())


def test_hello_then_calls_in_sequence_order_even_when_pushes_arrive_out_of_order():
    r = relay("pypool.examples")
    p = Pulled(r).until(lambda p: len(p.frames()) >= 1)
    assert p.frames()[0][0] == protocol.HELLO
    # seq 1 arrives before seq 0: nothing reaches the worker until 0 is there
    push(r, 1, b"W", request(2, "echo", {"value": 2}))
    push(r, 0, b"W", request(1, "echo", {"value": 1}))
    p.until(lambda p: len(p.frames()) >= 3)
    replies = p.frames()[1:]
    assert [f[1] for f in replies] == [1, 2]
    assert [f[0] for f in replies] == [protocol.REPLY_OK] * 2, replies
    push(r, 2, b"C")
    p.until(lambda p: p.exit is not None)
    assert p.exit == 0
    assert r.pull_now(0.05) == b"", "the exit is reported once"


def test_a_killed_worker_is_reported_with_its_signal_after_its_output():
    r = relay("pypool.examples")
    p = Pulled(r).until(lambda p: len(p.frames()) >= 1)
    pid = json.loads(r.info())["pid"]
    os.kill(pid, signal.SIGKILL)
    p.until(lambda p: p.exit is not None)
    assert p.exit == 128 + signal.SIGKILL


def test_a_bad_push_is_refused_and_changes_nothing():
    r = relay("pypool.examples")
    with pytest.raises(ValueError):
        r.push_now(b"short")
    with pytest.raises(ValueError):
        push(r, 0, b"Z")
    push(r, 1, b"C")  # seq 0 was used by the refused op: the close is the next in order
    Pulled(r).until(lambda p: p.exit is not None)


def test_exit_status_maps_signals_as_the_jvm_does():
    assert exit_status(-9) == 137
    assert exit_status(3) == 3


RELAY_HOST = """
import json, os, struct, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from pypool import protocol
from pypool.ray_relay import Relay
spec = {"args": ["--pool", "p", "--worker", "w0", "--run-id", "r1", "--module", "handlers_for_tests"],
        "paths": [sys.argv[3]], "pool": "p", "run_id": "r1"}
r = Relay(json.dumps(spec).encode())
body = json.dumps({"cmd": "t.spawn_sleeper", "args": None, "session": None}).encode()
r.push_now(struct.pack(">Q", 0) + b"W" + protocol.encode(protocol.REQUEST, 1, body))
print(json.loads(r.info())["pid"], flush=True)
time.sleep(600)
"""


def test_when_the_actor_and_its_direct_children_are_killed_the_workers_handler_children_die_too():
    """Ray SIGKILLs an ending actor's direct children: the reaper must not be one of them."""
    import subprocess
    import sys

    runtime = os.path.dirname(HERE)
    host = subprocess.Popen([sys.executable, "-c", RELAY_HOST, runtime, HERE,
                             os.path.relpath(HERE, os.path.dirname(runtime))], stdout=subprocess.PIPE)
    try:
        worker = int(host.stdout.readline())
        end = time.monotonic() + 20
        sleeper = None
        while sleeper is None:
            assert time.monotonic() < end, "the handler's child never appeared"
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != worker:
                    try:
                        with open(f"/proc/{pid}/stat") as f:
                            fields = f.read().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    if int(fields[1]) == worker:  # its parent is the worker
                        sleeper = int(pid)
            time.sleep(0.05)
        direct = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == host.pid]
        assert worker in direct
        for pid in direct + [host.pid]:  # as Ray ends an actor
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        host.wait()
        end = time.monotonic() + 10
        while _alive(sleeper) or _alive(worker):
            assert time.monotonic() < end, "the worker's handler child outlived its actor"
            time.sleep(0.05)
    finally:
        host.kill()


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_exit_is_reported_after_the_workers_reaper_has_ended():
    """Nothing of a worker outlives the report of its end: the pool's close() checks for leftovers."""
    r = relay("pypool.examples")
    Pulled(r).until(lambda p: len(p.frames()) >= 1)
    reaper = r._reaper.reaper_pid
    assert _alive(reaper)
    push(r, 0, b"C")
    Pulled(r).until(lambda p: p.exit is not None)
    assert not _alive(reaper)


def test_kill_ends_the_workers_group_and_reports_its_signal():
    r = relay("pypool.examples")
    p = Pulled(r).until(lambda p: len(p.frames()) >= 1)
    r.kill_now()
    p.until(lambda p: p.exit is not None)
    assert p.exit == 128 + signal.SIGKILL


def test_the_async_pull_is_woken_by_output_and_returns_empty_when_idle():
    import asyncio

    r = relay("pypool.examples")

    async def until_hello():
        out = b""
        while not out:
            data = await r.pull()
            while data:
                tag, n = data[:1], struct.unpack(">I", data[1:5])[0]
                if tag == b"O":
                    out += data[5:5 + n]
                data = data[5 + n:]
        return out

    hello = asyncio.run(asyncio.wait_for(until_hello(), 20))
    assert protocol.read_frame(io.BytesIO(hello), protocol.DEFAULT_MAX_FRAME_BYTES)[0] == protocol.HELLO
    started = time.monotonic()
    assert asyncio.run(r.pull()) == b"", "nothing to report: an empty reply after the wait"
    assert time.monotonic() - started >= 0.9
    push(r, 0, b"W", request(1, "echo", {"value": 5}))
    started = time.monotonic()
    reply = asyncio.run(asyncio.wait_for(r.pull(), 5))
    assert reply[:1] == b"O" and time.monotonic() - started < 0.9, "woken by the reply, not by the timeout"
