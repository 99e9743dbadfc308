"""Whether a process may be forked into workers once its handler modules are imported.

A fork copies one thread and every open descriptor. A thread that held a lock at the fork leaves
that lock held forever in the child; a socket or a database file open in the template would be
shared by every worker, their writes interleaved (SQLite's locks are per process and do not survive
a fork); a CUDA context cannot be used in a forked child at all. The fork server asks
``unsafe_reasons`` after running the ``before_fork`` hooks, and where anything is found the pool
spawns its workers instead.

A handler module that holds such a resource and can let go of it registers a hook::

    from pypool import forksafe
    forksafe.before_fork(my_cache.close)   # reopened on first use in each worker

(pypool.dspy closes DSPy's disk cache this way.) What must happen in each worker rather than once
for all goes in an ``at_worker_start`` hook, which runs before the worker's hello whether it was
spawned or forked.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, Iterable, List

_hooks: List[Callable[[], None]] = []
_worker_start_hooks: List[Callable[[], None]] = []

SQLITE_MAGIC = b"SQLite format 3\x00"


def before_fork(hook: Callable[[], None]) -> Callable[[], None]:
    """Runs ``hook`` in the fork server after the handler modules are imported and before the
    safety checks and the first fork. Usable as a decorator."""
    _hooks.append(hook)
    return hook


def at_worker_start(hook: Callable[[], None]) -> Callable[[], None]:
    """Runs ``hook`` in every worker before it says hello: after the imports in a spawned worker,
    after the fork in a forked one. Whatever it raises fails the worker's start, as an import
    error would. Usable as a decorator."""
    _worker_start_hooks.append(hook)
    return hook


def worker_start_hooks() -> List[Callable[[], None]]:
    return list(_worker_start_hooks)


def run_hooks() -> List[str]:
    """Runs the hooks; a failing hook is a reason not to fork (what it should have closed may be open)."""
    problems = []
    for hook in list(_hooks):
        try:
            hook()
        except BaseException as e:
            problems.append(f"the before-fork hook {getattr(hook, '__qualname__', hook)!r} failed: {e!r}")
    return problems


def unsafe_reasons(own_fds: Iterable[int] = ()) -> List[str]:
    """Why forking this process now would be unsafe; empty when it is safe. ``own_fds`` are the
    fork server's own descriptors, which it closes in every child."""
    if not hasattr(os, "fork"):
        return [f"this platform ({sys.platform}) has no os.fork"]
    reasons = []
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        reasons.append(f"Python threads are running after import: {', '.join(sorted(others))}")
    tasks = _os_threads()
    if tasks > 1 and not others:
        reasons.append(f"{tasks - 1} native thread(s) besides the main one are running after import")
    reasons.extend(_descriptor_reasons(set(own_fds)))
    if _cuda_initialised():
        reasons.append("CUDA was initialised (torch.cuda) before the fork")
    return reasons


def _os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc: Python threads are all that can be checked
        return 1


def _descriptor_reasons(own: set) -> List[str]:
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return []
    reasons = []
    for fd in fds:
        if fd in own:
            continue
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if target.startswith("socket:"):
            reasons.append(f"a socket is open (fd {fd})")
        elif target.startswith("/dev/nvidia") or target.startswith("/dev/dri"):
            reasons.append(f"a GPU device is open (fd {fd}: {target})")
        elif target.startswith("/") and _is_sqlite(fd):
            reasons.append(f"a SQLite database is open (fd {fd}: {target})")
    return reasons


def _is_sqlite(fd: int) -> bool:
    try:
        # pread: the descriptor's offset, shared with whoever opened it, is not moved
        return os.pread(fd, len(SQLITE_MAGIC), 0) == SQLITE_MAGIC
    except OSError:  # a directory, a device, a pipe: not a database file
        return False


def _cuda_initialised() -> bool:
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    try:
        return bool(cuda is not None and cuda.is_initialized())
    except Exception:
        return False
