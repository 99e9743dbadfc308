"""The fork server: one template process that imports the handler modules once and forks workers.

Started by the JVM like a worker, with ``--fork-server`` added to a worker's arguments. Its stdin
and stdout are the control channel, in the worker protocol's frames:

- to the JVM, HELLO once the modules are imported: ``{"pid", "python", "unsafe": [reasons]}``;
  with reasons, it forks nothing and exits at the end of its input (the pool spawns instead);
- to the JVM, STARTUP_FAILED (the body a worker would send) when a module fails to import; it
  then exits 3 at the end of its input;
- from the JVM, REQUEST ``{"cmd": "fork", "args": {"worker", "socket", "token"}}``: it forks, and
  answers REPLY_OK ``{"pid"}`` with the request's id (REPLY_ERROR if the fork failed);
- to the JVM, REPLY_OK with request id 0 ``{"exited": pid, "status": code}`` as soon as a worker
  ends (``status`` 128 + n for signal n, like the JVM reports its own children).

It forks from its main thread and runs no other (a thread of its own would be copied into every
worker half-dead, and would make its own safety check fail). It leads its own process group and
dies with the JVM; its workers die with it. At the end of its input it kills what is left of its
workers' groups and exits.

A forked worker connects to the JVM's Unix socket three times, presenting ``TOKEN in``, ``TOKEN
out`` and ``TOKEN err``: the sockets become its fds 0, 1 and 2, and from there it starts exactly as a
spawned worker does (worker.become_worker and worker.serve).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import select
import signal
import socket
import sys
import traceback
from typing import Dict, List, Optional, Tuple

from . import __version__, forksafe, protocol, worker
from .channel import take_over_stdio

ROLES = ("in", "out", "err")


class ForkServer:
    def __init__(self, opts: argparse.Namespace, control_in: int, control_out: int) -> None:
        self.opts = opts
        self.control_in = control_in
        self.control_out = control_out
        self.pid = os.getpid()
        self.children: set = set()
        self.wake_r, self.wake_w = os.pipe()
        self.buffer = bytearray()

    def send(self, kind: int, request_id: int, body: object) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        protocol.write_all(self.control_out, protocol.encode(kind, request_id, data))

    # -- the loop -------------------------------------------------------------------------------
    def serve(self) -> int:
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        # SIGCHLD only writes to the wake pipe; the loop reaps, so no handler runs amid a write.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        while True:
            if os.getppid() != self.opts.parent_pid:  # the JVM is gone: so are we, and our workers
                self.kill_children()
                return 70
            readable, _, _ = select.select([self.control_in, self.wake_r], [], [], 1.0)
            if self.wake_r in readable:
                _drain(self.wake_r)
            self.reap()
            if self.control_in in readable:
                data = os.read(self.control_in, 1 << 16)
                if not data:
                    self.kill_children()
                    return 0
                self.buffer += data
                for kind, request_id, body in take_frames(self.buffer, self.opts.max_frame_bytes):
                    self.handle(kind, request_id, body)

    def handle(self, kind: int, request_id: int, body: bytes) -> None:
        request = json.loads(body) if kind == protocol.REQUEST else None
        if not request or request.get("cmd") != "fork":
            raise protocol.ProtocolError(f"unexpected frame kind {kind} or request on the fork server's input")
        args = request["args"]
        try:
            pid = os.fork()
        except OSError as e:
            self.send(protocol.REPLY_ERROR, request_id,
                      protocol.error_body("exception", type(e).__name__, f"fork failed: {e}"))
            return
        if pid == 0:
            code = 1
            try:
                code = self.become_child(args)
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        self.children.add(pid)
        self.send(protocol.REPLY_OK, request_id, {"pid": pid})

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send(protocol.REPLY_OK, 0, {"exited": pid, "status": exit_status(status)})

    def kill_children(self) -> None:
        for pid in list(self.children):
            for kill in (os.killpg, os.kill):  # its group, or itself if it never got one
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    # -- in the child ---------------------------------------------------------------------------
    def become_child(self, args: Dict[str, str]) -> int:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in (self.wake_r, self.wake_w, self.control_in, self.control_out):
            os.close(fd)
        sockets = [connect(args["socket"], args["token"], role) for role in ROLES]
        for target, sock in enumerate(sockets):  # in -> 0, out -> 1, err -> 2
            os.dup2(sock.fileno(), target)
            sock.close()
        opts = copy.copy(self.opts)
        opts.worker = args["worker"]
        opts.parent_pid = self.pid  # the worker dies with its template
        channel, own_group = worker.become_worker(opts)
        return worker.start(channel, opts, own_group, [])


def connect(path: str, token: str, role: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.sendall(f"{token} {role}\n".encode("ascii"))
    return sock


def exit_status(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def take_frames(buffer: bytearray, max_frame_bytes: int) -> List[Tuple[int, int, bytes]]:
    """Takes the complete frames off the front of ``buffer``."""
    frames = []
    while len(buffer) >= protocol.HEADER.size:
        length, kind, _flags, _reserved, request_id = protocol.HEADER.unpack_from(buffer)
        if length < protocol.HEADER_REST or length - protocol.HEADER_REST > max_frame_bytes:
            raise protocol.ProtocolError(f"frame length {length} on the fork server's input")
        end = 4 + length
        if len(buffer) < end:
            break
        frames.append((kind, request_id, bytes(buffer[protocol.HEADER.size:end])))
        del buffer[:end]
    return frames


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _await_end_of_input(fd: int) -> None:
    while os.read(fd, 4096):
        pass


def main(opts: argparse.Namespace) -> int:
    control_in, control_out = take_over_stdio()
    worker.lead_process_group()
    worker.die_with_parent(opts.parent_pid, watch_thread=False)
    server = ForkServer(opts, control_in, control_out)
    failure = worker.import_handler_modules(opts.module)
    if failure is not None:
        server.send(protocol.STARTUP_FAILED, 0, failure)
        _await_end_of_input(control_in)
        return 3
    own = {control_in, control_out, server.wake_r, server.wake_w}
    reasons = forksafe.run_hooks() + forksafe.unsafe_reasons(own)
    # Objects that exist now are never collected in a worker: the collector would otherwise touch
    # (and so copy) every page of them in every worker.
    gc.collect()
    gc.freeze()
    server.send(protocol.HELLO, 0, {"pid": os.getpid(), "python": sys.version.split()[0],
                                    "runtime": __version__, "unsafe": reasons})
    if reasons:
        _await_end_of_input(control_in)
        return 0
    try:
        return server.serve()
    except protocol.ProtocolError as e:
        sys.stderr.write(f"pypool fork server: protocol error from the host: {e}\n")
        server.kill_children()
        return 4
