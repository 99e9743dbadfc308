"""Runs real worker and reaper processes through their pipes, the way the JVM does.

PYPOOL_TEST_PYTHON names another interpreter to run them with (the tests themselves run on the
one running pytest), to check the runtime on every Python version it supports."""

import json
import os
import select
import subprocess
import sys
import time

from pypool import protocol

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.dirname(HERE)
PYTHON = os.environ.get("PYPOOL_TEST_PYTHON") or sys.executable
WORKER_SCRIPT = os.path.join(RUNTIME, "pypool_worker.py")
REAPER_SCRIPT = os.path.join(RUNTIME, "pypool_reaper.py")


class WorkerProcess:
    def __init__(self, *modules, extra=(), env=None, cwd=None, pythonpath=None):
        args = [PYTHON, WORKER_SCRIPT, "--worker", "t-0", "--parent-pid", str(os.getpid())]
        for m in modules:
            args += ["--module", m]
        args += list(extra)
        path = os.pathsep.join([RUNTIME, HERE]) if pythonpath is None else pythonpath
        env = dict(os.environ, PYTHONPATH=path, **(env or {}))
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.next_id = 1

    def read(self):
        return protocol.read_frame(self.proc.stdout, protocol.DEFAULT_MAX_FRAME_BYTES)

    def read_hello(self):
        kind, _, body = self.read()
        assert kind == protocol.HELLO, body
        return json.loads(body)

    def send(self, cmd, args=None, session=None, rid=None, flush=True, **fields):
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        body = json.dumps({"cmd": cmd, "args": args, "session": session, **fields}).encode()
        self.proc.stdin.write(protocol.encode(protocol.REQUEST, rid, body))
        if flush:
            self.proc.stdin.flush()
        return rid

    def send_body(self, body, rid):
        self.proc.stdin.write(protocol.encode(protocol.REQUEST, rid, body))
        self.proc.stdin.flush()

    def reply(self, rid):
        kind, reply_id, payload = self.read()
        assert reply_id == rid
        return kind, json.loads(payload)

    def call(self, cmd, args=None, session=None, **fields):
        return self.reply(self.send(cmd, args, session, **fields))

    def call_raw(self, cmd, args=None):
        """A call whose reply body is returned as read (bytes, or an Attached)."""
        rid = self.send(cmd, args)
        kind, reply_id, body = self.read()
        assert (kind, reply_id) == (protocol.REPLY_OK, rid), body
        return body

    # -- conversations: control frames the host sends, and what the worker sends besides replies --
    def send_frame(self, kind, rid, body=b"", flush=True):
        self.proc.stdin.write(protocol.encode(kind, rid, body))
        if flush:
            self.proc.stdin.flush()

    def cancel(self, rid):
        self.send_frame(protocol.CANCEL, rid)

    def credit(self, rid, items, nbytes=1 << 40):
        self.send_frame(protocol.CREDIT, rid, json.dumps({"items": items, "bytes": nbytes}).encode())

    def stream(self, cmd, args=None, items=1 << 30, nbytes=1 << 40, **fields):
        """Sends a request for a stream with that much credit; returns its id."""
        return self.send(cmd, args, stream={"items": items, "bytes": nbytes}, **fields)

    def read_call_java(self):
        """The next frame, which must be a CALL_JAVA: (callback id, its body decoded)."""
        kind, cid, body = self.read()
        assert kind == protocol.CALL_JAVA, (kind, cid, body)
        return cid, protocol.decode_body(body)

    def java_result(self, cid, value):
        payload, parts = protocol.encode_result(value)
        if parts:
            self.proc.stdin.write(protocol.encode_attached(protocol.JAVA_RESULT, cid, payload, parts))
            self.proc.stdin.flush()
        else:
            self.send_frame(protocol.JAVA_RESULT, cid, payload)

    def java_error(self, cid, java_type, message):
        self.send_frame(protocol.JAVA_ERROR, cid, json.dumps({"type": java_type, "message": message}).encode())

    def quiet(self, seconds=0.15):
        """Whether the worker sends nothing more for that long (nothing buffered here either)."""
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        try:
            if self.proc.stdout.peek(1):  # read ahead already, or readable at once
                return False
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(fd, True)
        return not select.select([fd], [], [], seconds)[0]

    def close(self):
        self.proc.stdin.close()
        code = self.proc.wait(timeout=10)
        err = self.proc.stderr.read().decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code, err

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)  # the worker leads its own group
            except OSError:
                self.proc.kill()
        self.proc.wait(timeout=10)
        if not self.proc.stderr.closed:
            self.stderr_text = self.proc.stderr.read()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


def wait_until(condition, timeout=10.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def gone(pid):
    """Whether a process has ended; a zombie nobody has reaped yet counts as ended."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
