"""Runs a real fork server the way the JVM does: its control channel on pipes, and a Unix socket
that the workers it forks connect to."""

import json
import os
import socket
import subprocess
import tempfile

from pypool import protocol
from workerproc import HERE, PYTHON, RUNTIME, WORKER_SCRIPT


class ForkServerProcess:
    def __init__(self, *modules, env=None):
        args = [PYTHON, WORKER_SCRIPT, "--fork-server", "--pool", "t", "--parent-pid", str(os.getpid())]
        for m in modules:
            args += ["--module", m]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([RUNTIME, HERE]), **(env or {}))
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.dir = tempfile.mkdtemp(prefix="pypool-fs-test-")
        self.path = os.path.join(self.dir, "w.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.listener.settimeout(10)
        self.next_id = 1
        self.exits = []

    def read(self):
        return protocol.read_frame(self.proc.stdout, protocol.DEFAULT_MAX_FRAME_BYTES)

    def read_json(self, expected_kind):
        kind, rid, body = self.read()
        assert kind == expected_kind, (kind, body)
        return rid, json.loads(body)

    def fork(self, worker_id, token="tok"):
        """Asks for a worker; returns its pid and its three connections by role."""
        rid = self.next_id
        self.next_id += 1
        body = json.dumps({"cmd": "fork", "args": {"worker": worker_id, "socket": self.path, "token": token}})
        self.proc.stdin.write(protocol.encode(protocol.REQUEST, rid, body.encode()))
        self.proc.stdin.flush()
        reply_id, reply = self.read_json(protocol.REPLY_OK)
        while reply_id == 0:  # an earlier worker's exit report
            self.exits.append(reply)
            reply_id, reply = self.read_json(protocol.REPLY_OK)
        assert reply_id == rid
        conns = {}
        while len(conns) < 3:
            conn, _ = self.listener.accept()
            line = b""
            while not line.endswith(b"\n"):
                line += conn.recv(1)
            got_token, role = line.decode().split()
            assert got_token == token
            conns[role] = conn
        return reply["pid"], conns

    def close(self):
        self.proc.stdin.close()
        code = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        err = self.proc.stderr.read().decode()
        self.proc.stderr.close()
        self.listener.close()
        return code, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.listener.close()


def call(conns, cmd, rid=1, args=None):
    body = json.dumps({"cmd": cmd, "args": args, "session": None}).encode()
    conns["in"].sendall(protocol.encode(protocol.REQUEST, rid, body))
    return read_frame(conns["out"])


def read_frame(conn):
    return protocol.read_frame(conn.makefile("rb"), protocol.DEFAULT_MAX_FRAME_BYTES)
