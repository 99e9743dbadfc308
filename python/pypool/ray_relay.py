"""A pool worker inside a Ray actor: the actor relays pypool's frames to a worker process it starts.

pypool-ray makes each worker of a pool a Ray actor of this class (through a small bundle package
that puts this runtime on ``sys.path``). The actor starts pypool's own runtime, ``pypool_worker.py``,
as a child process on its node, so a worker behaves there exactly as it does beside the JVM:
its own process group, its handler threads, its signals, and a group reaper that ends its
children when the actor dies, however it dies.

The JVM speaks to the actor through two methods, and both move opaque bytes only, so nothing in
between needs to understand pypool's protocol:

- ``push(data)``: ``data`` is an 8-byte big-endian sequence number, then one op byte: ``W``
  (the rest is bytes for the worker's stdin) or ``C`` (close its stdin). Pushes are applied in
  sequence order, whatever order they arrive in.
- ``kill()``: SIGKILLs the worker's process group; its exit is then reported as any other.
- ``pull()``: waits up to a second for something to report and returns records, each a tag byte,
  a 4-byte big-endian length and the payload: ``O`` bytes from the worker's stdout (the protocol),
  ``E`` stderr text (lines joined by newlines), ``X`` the exit status as text (128 + n for signal
  n), sent once, last, after everything the worker wrote. An empty reply means nothing happened.

``info()`` returns JSON: the worker's pid, the actor's pid, and the node it was placed on.

The actor must be created with ``max_restarts=0`` and ``max_task_retries=0``: a restarted actor
would be a fresh worker that no session knows of, and the pool must see the death instead.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional

PULL_WAIT_S = 1.0
THREAD_CAPS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")


# Run as ``python -c _DETACH PYTHON SCRIPT ARGS...``: forks, and the child execs the reaper, keeping
# stdin; the parent prints the reaper's pid and exits at once, so the reaper is nobody's child in the
# actor's process tree.
_DETACH = ("import os, sys\npid = os.fork()\nif pid == 0:\n"
           "    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)\n"  # the pid's reader must see the end of this pipe
           "    os.execv(sys.argv[1], sys.argv[1:])\n"
           "os.write(1, str(pid).encode())\nos._exit(0)\n")


def _record(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack(">I", len(payload)) + payload


def _placement() -> Dict[str, str]:
    """The actor's node and id, for the worker's environment (PYPOOL_RAY_NODE_ID, PYPOOL_RAY_ACTOR_ID)."""
    try:
        import ray  # only inside a Ray actor; the relay itself needs nothing of Ray

        ctx = ray.get_runtime_context()
        return {"PYPOOL_RAY_NODE_ID": ctx.get_node_id(), "PYPOOL_RAY_ACTOR_ID": ctx.get_actor_id() or ""}
    except Exception:  # outside Ray (the relay's own tests), or an older Ray
        return {}


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie (a reparented one may wait to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def exit_status(returncode: int) -> int:
    """Popen's returncode (negative for a signal) as the JVM reports statuses: 128 + n for signal n."""
    return 128 - returncode if returncode < 0 else returncode


class Relay:
    """One pool worker, relayed. ``spec`` is JSON: ``args`` (the runtime's arguments but for
    ``--parent-pid``), ``env`` (variables to set), ``paths`` (folders for the Python path, relative
    to the bundle holding this runtime, or absolute), ``pool`` and ``run_id`` for the reaper."""

    def __init__(self, spec: bytes) -> None:
        opts = json.loads(spec)
        runtime = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        bundle = os.path.dirname(runtime)
        env = dict(os.environ)
        for cap in THREAD_CAPS:  # N workers on a node each spawning a thread per core would starve it;
            env.setdefault(cap, "1")  # Ray's own setting (from num_cpus) or the runtime env's wins
        env.update(opts.get("env", {}))
        env["PYTHONUNBUFFERED"] = "1"
        paths = [runtime] + [os.path.join(bundle, p) for p in opts.get("paths", [])]
        inherited = opts.get("env", {}).get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        paths += [p for p in inherited.split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env.update(_placement())

        self._lock = threading.Condition()
        self._wake = None  # set while an async pull waits: wakes it through its event loop
        self._out: List[bytes] = []
        self._err: List[bytes] = []
        self._exit: Optional[int] = None
        self._exit_sent = False
        self._next_seq = 0
        self._early: Dict[int, bytes] = {}
        self._input: "queue.Queue[Optional[bytes]]" = queue.Queue()

        self._reaper = self._start_reaper(runtime, opts)
        command = [sys.executable, os.path.join(runtime, "pypool_worker.py"), "--parent-pid", str(os.getpid())]
        command += [str(a) for a in opts.get("args", [])]
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=env, bufsize=0)
        self._tell_reaper(f"watch {self._proc.pid}")
        self._readers = [
            threading.Thread(target=self._read_into, args=(self._proc.stdout, self._out), name="pypool-relay-out",
                             daemon=True),
            threading.Thread(target=self._read_into, args=(self._proc.stderr, self._err), name="pypool-relay-err",
                             daemon=True),
        ]
        for t in self._readers:
            t.start()
        threading.Thread(target=self._write_in, name="pypool-relay-in", daemon=True).start()
        threading.Thread(target=self._wait_exit, name="pypool-relay-exit", daemon=True).start()

    # ---- what the JVM calls ----------------------------------------------------------------------

    def info(self) -> bytes:
        ip = None
        try:
            import ray

            ip = ray.util.get_node_ip_address()
        except Exception:
            pass
        node = _placement().get("PYPOOL_RAY_NODE_ID")
        return json.dumps({"pid": self._proc.pid, "relay_pid": os.getpid(), "node": node, "ip": ip}).encode()

    async def push(self, data: bytes) -> bytes:
        self.push_now(data)
        return b""

    def push_now(self, data: bytes) -> None:
        if len(data) < 9:
            raise ValueError(f"a push needs 9 bytes of header, got {len(data)}")
        (seq,) = struct.unpack(">Q", data[:8])
        with self._lock:
            self._early[seq] = data[8:]
            while self._next_seq in self._early:
                op = self._early.pop(self._next_seq)
                self._next_seq += 1
                if op[:1] == b"W":
                    self._input.put(op[1:])
                elif op[:1] == b"C":
                    self._input.put(None)
                else:
                    raise ValueError(f"unknown push op {op[:1]!r}")

    async def kill(self) -> bytes:
        self.kill_now()
        return b""

    def kill_now(self) -> None:
        """Ends the worker and its process group now; its exit is reported as usual, after its reaper."""
        with self._lock:
            if self._proc.returncode is not None or self._exit is not None:
                return  # already reaped: its pid may belong to someone else by now
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)  # it leads its own group once it has started
            except OSError:
                pass
            try:
                self._proc.kill()
            except OSError:
                pass

    async def pull(self) -> bytes:
        """Waits on the actor's event loop, not on a thread: the readers wake it through the loop."""
        import asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            reply = self.pull_now(0)
            if reply:
                return reply
            event = asyncio.Event()
            self._wake = lambda: loop.call_soon_threadsafe(event.set)
        try:
            await asyncio.wait_for(event.wait(), PULL_WAIT_S)
        except asyncio.TimeoutError:
            pass
        with self._lock:
            self._wake = None
            return self.pull_now(0)

    def pull_now(self, wait_s: float) -> bytes:
        with self._lock:
            if wait_s > 0 and not (self._out or self._err or self._exit_ready()):
                self._lock.wait(wait_s)
            reply = b""
            if self._out:
                reply += _record(b"O", b"".join(self._out))
                self._out.clear()
            if self._err:
                reply += _record(b"E", b"".join(self._err))
                self._err.clear()
            if self._exit_ready():
                reply += _record(b"X", str(self._exit).encode())
                self._exit_sent = True
            return reply

    # ---- the worker process ----------------------------------------------------------------------

    def _notify(self) -> None:
        """With the lock held: something to report. Wakes a waiting pull, wherever it waits."""
        self._lock.notify_all()
        if self._wake is not None:
            self._wake()
            self._wake = None

    def _exit_ready(self) -> bool:
        return self._exit is not None and not self._exit_sent

    def _read_into(self, stream, sink: List[bytes]) -> None:
        """Moves what the worker writes on one of its outputs into ``sink`` for the next pull."""
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                return
            with self._lock:
                sink.append(chunk)
                self._notify()

    def _write_in(self) -> None:
        stdin = self._proc.stdin
        while True:
            data = self._input.get()
            try:
                if data is None:
                    stdin.close()
                    return
                stdin.write(data)
            except (OSError, ValueError):
                return  # it died: its exit says how

    def _wait_exit(self) -> None:
        code = None
        try:
            code = exit_status(self._proc.wait())
            # Whatever it started goes with it, and its pipes close with them.
            self._tell_reaper(f"kill {self._proc.pid}")
            for t in self._readers:
                t.join(2.0)
            self._end_reaper()
        finally:  # however the clean-up went, the end is reported: a lost end would leave a worker that looks alive
            with self._lock:
                self._exit = code if code is not None else exit_status(self._proc.returncode or 0)
                self._notify()

    # ---- the reaper ------------------------------------------------------------------------------

    @staticmethod
    def _start_reaper(runtime: str, opts: dict) -> Optional[subprocess.Popen]:
        """Starts the worker's group reaper, not as the actor's child but as its grandchild: when Ray
        ends an actor it also SIGKILLs the actor's direct children, and a reaper killed with the
        actor could not end the worker's handler children. Reparented away, it outlives the actor,
        sees the end of its input (this relay's pipe) and kills the group it watches."""
        script = os.path.join(runtime, "pypool_reaper.py")
        try:
            launcher = subprocess.Popen(
                [sys.executable, "-c", _DETACH, sys.executable, script, "--pool", str(opts.get("pool", "ray")),
                 "--run-id", str(opts.get("run_id", "ray"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            pid = launcher.stdout.read()  # it exits as soon as the reaper is started; the pipe stays with the reaper
            launcher.wait(10)
            launcher.reaper_pid = int(pid)
            return launcher
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return None

    def _end_reaper(self) -> None:
        """The worker's group is gone: its reaper has nothing left to watch. It ends at the end of its
        input; the exit is reported only once it has, so nothing of the worker outlives the report."""
        if self._reaper is None:
            return
        try:
            self._reaper.stdin.close()
        except OSError:
            pass
        deadline = time.monotonic() + 5
        while _running(self._reaper.reaper_pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def _tell_reaper(self, line: str) -> None:
        if line.startswith("kill "):  # here too: a reaper that failed to start must not leave the group alive
            try:
                os.killpg(int(line.split()[1]), signal.SIGKILL)
            except OSError:
                pass
        if self._reaper is None:
            return
        try:
            self._reaper.stdin.write((line + "\n").encode())
            self._reaper.stdin.flush()
        except OSError:
            pass
