"""The worker process, started by the JVM as
``python /RUNTIME/pypool_worker.py --worker ID --module my_handlers ...`` (``python -m pypool.worker``
also works, but puts the working directory on sys.path), or forked by the fork server
(forkserver.py), which has imported the handler modules, with its sockets on fds 0-2. Both run the
same functions from become_worker on.

Order matters at start: the protocol descriptors are taken over (channel.py) and the worker becomes
the leader of its own process group before any user module is imported, so that nothing user code
prints can land inside a frame and everything user code starts belongs to the worker's group.

A worker is its process tree:

- TERM ends the whole group at once with SIGKILL, the worker included ("end now, with everything you
  started");
- at a clean end of input the worker answers every request it read, sends TERM to the rest of its
  group and exits 0;
- when the JVM is gone (PR_SET_PDEATHSIG, and a watch of the parent pid) the worker dies; the pool's
  reaper process (reaper.py) then ends what is left of the group;
- a process forked from the worker does not hold the protocol's descriptors.

Exit codes: 0 clean end of input (or the host stopped reading), 3 a handler module failed to import
or a worker-start hook failed (after a STARTUP_FAILED frame), 4 the host sent something that is not a frame, 70 the parent died
(when the worker cannot lead its group), killed by SIGKILL after TERM or when the parent died.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Optional

from . import __version__, _registry, forksafe, logbridge, protocol
from .channel import Channel
from .serving import CURRENT_REQUEST, Worker  # noqa: F401  (CURRENT_REQUEST: used by pypool.faults)

CHANNEL: Optional[Channel] = None  # the running worker's channel; fault injection (pypool.faults) writes to it

CAPABILITIES = ["sessions", "concurrency", "startup_failed_frame", "deadlines", "cancel", "streams",
                "call_java"]


def leads_group() -> bool:
    return hasattr(os, "getpgrp") and os.getpgrp() == os.getpid()


def lead_process_group() -> bool:
    """Makes this process the leader of a new session and process group (pgid == pid), so that the
    host and the reaper can end it and everything it started as one group."""
    if hasattr(os, "setsid") and not leads_group():
        try:
            os.setsid()
        except OSError:
            try:
                os.setpgid(0, 0)
            except OSError:
                pass
    return leads_group()


def end_group_now() -> None:
    """SIGKILL to the whole group, this process included; just this process when it leads none
    (never a group that the JVM shares)."""
    if leads_group():
        os.killpg(0, signal.SIGKILL)
    os._exit(70)


_leaving = False  # set once the worker sends TERM to its own group: then TERM is not for it


def on_term(*_: object) -> None:
    if not _leaving:
        end_group_now()


def terminate_rest_of_group() -> None:
    """TERM to every other process of this worker's group, as the worker leaves (from any thread)."""
    global _leaving
    if leads_group():
        _leaving = True
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            os.killpg(0, signal.SIGTERM)
        except OSError:
            pass


def _reset_signals_in_child() -> None:
    # A forked child inherits the worker's TERM handler; its TERM (from multiprocessing, say) must
    # end the child, not the worker's group.
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass


def die_with_parent(parent_pid: int, watch_thread: bool = True) -> None:
    """Ends this process (and its group) when the process that started it is gone, however it went.
    Without the watch thread (the fork server, which must stay single-threaded) the caller checks
    the parent itself."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    # The signal covers the usual case; this thread covers other platforms and the moment between
    # fork and prctl, when the parent may already have died (we would then be re-parented).
    if parent_pid > 0:
        if os.getppid() != parent_pid:
            end_group_now()
        if not watch_thread:
            return

        def watch() -> None:
            while True:
                time.sleep(1.0)
                if os.getppid() != parent_pid:
                    end_group_now()

        threading.Thread(target=watch, name="pypool-parent-watch", daemon=True).start()


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pypool.worker")
    parser.add_argument("--worker", default="worker")
    parser.add_argument("--pool", default="pool")
    parser.add_argument("--run-id", default="")
    parser.add_argument("--parent-pid", type=int, default=0)
    parser.add_argument("--module", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--max-frame-bytes", type=int, default=protocol.DEFAULT_MAX_FRAME_BYTES)
    parser.add_argument("--fork-server", action="store_true",
                        help="import the modules once and fork workers on request (pypool.forkserver)")
    return parser.parse_args(argv)


def main(argv: Optional[list] = None) -> int:
    opts = parse_args(argv)
    if opts.fork_server:
        from . import forkserver
        return forkserver.main(opts)
    channel, own_group = become_worker(opts)
    return start(channel, opts, own_group, opts.module)


def start(channel: Channel, opts: argparse.Namespace, own_group: bool, modules: "list[str]") -> int:
    """Imports the handler modules (none in a forked worker: its template did), runs the
    worker-start hooks, and serves; returns the exit code."""
    logbridge.install_traceparent()  # before the modules, so that every record has the field
    failure = import_handler_modules(modules) or run_worker_start_hooks()
    if failure is not None:
        channel.send(protocol.STARTUP_FAILED, 0, failure)
        channel.drain()
        return leave(3)
    logbridge.install()  # after the modules: one that configured logging itself is left alone
    return serve(channel, opts, own_group)


def become_worker(opts: argparse.Namespace) -> "tuple[Channel, bool]":
    """Everything a worker does before user code runs: the channel takes fds 0 and 1, the worker
    leads its own group and dies with its parent. A spawned worker does this first thing; a forked
    one right after the fork, with its sockets on fds 0-2."""
    channel = Channel()
    global CHANNEL
    CHANNEL = channel
    own_group = lead_process_group()
    signal.signal(signal.SIGTERM, on_term)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_reset_signals_in_child)
    _registry.set_worker_id(opts.worker)
    die_with_parent(opts.parent_pid)
    channel.on_broken = lambda: os._exit(leave(0))
    return channel, own_group


def leave(code: int) -> int:
    terminate_rest_of_group()
    return code


def import_handler_modules(modules: "list[str]") -> Optional[bytes]:
    """Imports the handler modules; for the first that fails, writes its traceback to stderr and
    returns the body of a STARTUP_FAILED frame."""
    for module in modules:
        try:
            importlib.import_module(module)
        except BaseException as e:
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            sys.stderr.write(tb)
            return protocol.error_body("startup_failed", type(e).__name__,
                                       f"importing handler module '{module}' failed: {e}", tb)
    return None


def run_worker_start_hooks() -> Optional[bytes]:
    """Runs the ``forksafe.at_worker_start`` hooks; for the first that fails, like an import error."""
    for hook in forksafe.worker_start_hooks():
        try:
            hook()
        except BaseException as e:
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            sys.stderr.write(tb)
            name = f"{getattr(hook, '__module__', '?')}.{getattr(hook, '__qualname__', hook)}"
            return protocol.error_body("startup_failed", type(e).__name__,
                                       f"starting worker {_registry.current_worker()} failed in {name}: {e}", tb)
    return None


def serve(channel: Channel, opts: argparse.Namespace, own_group: bool) -> int:
    """Says hello and serves until the end of input; returns the exit code."""
    worker = Worker(channel, opts.worker, opts.max_frame_bytes)
    capabilities = CAPABILITIES + (["process_group"] if own_group else [])
    hello = {"pid": os.getpid(), "pgid": os.getpid() if own_group else None, "worker": opts.worker,
             "python": sys.version.split()[0], "executable": sys.executable, "runtime": __version__,
             "capabilities": capabilities, "concurrency": opts.concurrency,
             "commands": _registry.registered_commands(), "async_commands": _registry.async_commands()}
    channel.send(protocol.HELLO, 0, json.dumps(hello).encode("utf-8"))
    try:
        worker.serve(max(1, opts.concurrency))
    except protocol.ProtocolError as e:
        sys.stderr.write(f"pypool worker {opts.worker}: protocol error from the host: {e}\n")
        channel.drain(timeout=2.0)
        return leave(4)
    return leave(0)


if __name__ == "__main__":
    # Run as `python -m pypool.worker`, this file is `__main__`; serve from the canonical
    # `pypool.worker` module instead, so that code importing it (pypool.faults) sees the live state.
    from pypool import worker as _canonical
    code = _canonical.main()
    sys.stderr.flush()
    os._exit(code)  # handler threads must not hold the exit
