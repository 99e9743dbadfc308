"""The protocol's two descriptors and the one thread that writes frames to the host.

The descriptors are moved off fd 0/1 before any user module is imported, so that nothing user code
prints can ever land inside a frame. The thread reading the host's input never writes: a host that
writes many requests before it reads a reply cannot deadlock the worker. A handler thread writes
its reply itself when nothing else is being written or waits to be (no thread hand-off on the
common path); otherwise the frame goes to the writer thread's queue. While requests that arrived
together are served, their replies are corked and go out in one write (see Channel.cork).
"""

from __future__ import annotations

import os
import queue
import select
import sys
import threading
from typing import Callable, Optional, Union

from . import protocol


_WAKE = b""  # queued to make the writer thread finish a frame cut short
CORK_MAX_BYTES = 64 * 1024  # corked replies beyond this go out at once: one pipe's worth
# Replies stay corked only through commands whose handlers typically return within this: anything
# else (or a command not seen yet) may hold the GIL, hang or end the process, so what is corked
# goes out before it starts. A stream's items are held back the same way, while its generator
# gives them this fast.
CORK_THROUGH_S = 0.0002


class ChannelClosed(RuntimeError):
    """The channel cannot be used from here (a forked child of the worker)."""


def take_over_stdio() -> "tuple[int, int]":
    """Moves the host's input and output off fd 0 and 1 and returns them; fd 0 then reads nothing
    and fd 1 writes to stderr. The worker and the fork server both start with this."""
    in_fd = os.dup(0)
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)    # user code reading stdin gets EOF, never our frames
    os.close(devnull)
    os.dup2(2, 1)          # print(), C libraries and subprocesses writing fd 1 reach stderr
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)  # a subprocess of a handler must not hold the pipes open
    return in_fd, out_fd


class Channel:
    def __init__(self) -> None:
        self.in_fd, self.out_fd = take_over_stdio()
        os.set_blocking(self.out_fd, False)  # a handler's own write never waits on the host
        self.reader = InputBuffer(self.in_fd)
        self.closed = False
        self.on_broken: Callable[[], None] = lambda: None  # the host stopped reading our output
        self._queue: "queue.SimpleQueue[Union[bytes, threading.Event]]" = queue.SimpleQueue()
        # Frames handed to the writer thread and not yet written: queued, or taken off the queue
        # and not yet written (the queue looks empty then). A frame may skip the writer only while
        # this is zero, or it could overtake one sent before it.
        self._unwritten = 0
        self._unwritten_lock = threading.Lock()
        self._writing = threading.Lock()  # held by whoever writes to the pipe now
        self._rest: Optional[bytes] = None  # the unwritten end of a frame cut short; goes out first
        self._broken = False
        # Corked frames: replies held back while the thread that corked runs requests it has
        # already read, then written together in one write (see cork()).
        self._cork_lock = threading.Lock()
        self._cork_owner: Optional[int] = None
        self._corked: list = []
        self._corked_bytes = 0
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork_in_child)
        threading.Thread(target=self._write_loop, name="pypool-writer", daemon=True).start()

    def send(self, kind: int, request_id: int, body: bytes) -> None:
        """Queues a frame; never blocks."""
        self.send_raw(protocol.encode(kind, request_id, body))

    def send_raw(self, data: bytes) -> None:
        """Queues bytes for the host as they are (fault injection writes non-frames with this)."""
        if self.closed:
            raise ChannelClosed("the protocol channel belongs to the worker process, "
                                "not to a process forked from it")
        if self._cork_owner is not None and self._cork_owner == threading.get_ident():
            with self._cork_lock:
                if self._cork_owner is not None:
                    self._corked.append(data)
                    self._corked_bytes += len(data)
                    if self._corked_bytes < CORK_MAX_BYTES:
                        return
                    data = self._take_corked()
        self._send_now_or_queue(data)

    # -- corking: one write for the replies to requests that arrived together ---------------
    def cork(self) -> None:
        """Holds back frames this thread sends until uncork() or flush_corked(): the serving thread
        corks while requests it already read wait, so that their replies go out in one write (one
        system call here, one wake-up of the host's reader) instead of one each."""
        with self._cork_lock:
            self._cork_owner = threading.get_ident()

    def uncork(self) -> None:
        with self._cork_lock:
            self._cork_owner = None
            data = self._take_corked()
        if data:
            self._send_now_or_queue(data)

    def has_corked(self) -> bool:
        return bool(self._corked)  # a glance without the lock: flush_corked() takes it

    def flush_corked(self) -> None:
        """Sends what is corked now (from any thread): a reply must not wait on a slow handler
        that happens to run after it. The serving thread flushes before any handler not known to
        be fast (CORK_THROUGH_S); the watcher, when a handler runs long anyway."""
        with self._cork_lock:
            data = self._take_corked()
        if data:
            self._send_now_or_queue(data)

    def _take_corked(self) -> bytes:
        data = b"".join(self._corked) if len(self._corked) != 1 else self._corked[0]
        self._corked = []
        self._corked_bytes = 0
        return data

    def _send_now_or_queue(self, data: bytes) -> None:
        if not self._unwritten and self._writing.acquire(blocking=False):
            try:
                # Nothing with the writer and no frame cut short: this frame may go first, whole or in part.
                if not self._unwritten and self._rest is None:
                    self._write_now(data)
                    return
            finally:
                self._writing.release()
        self._hand_to_writer(data)

    def _hand_to_writer(self, item: "Union[bytes, threading.Event]") -> None:
        with self._unwritten_lock:
            self._unwritten += 1
        self._queue.put(item)

    def _write_now(self, data: bytes) -> None:
        """Holding the write lock: writes what the pipe takes without blocking. The rest of a frame
        cut short is kept in ``_rest``, which whoever takes the lock next writes before anything
        else, so that no other frame can ever come inside this one."""
        if self._broken:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.out_fd, view):]
        except BlockingIOError:
            self._rest = bytes(view)
            self._hand_to_writer(_WAKE)  # the writer thread finishes it
        except OSError as e:
            self._leave(e)

    def drain(self, timeout: Optional[float] = None) -> bool:
        """Waits until everything queued so far has been written (or can never be)."""
        if self.closed:
            return True
        written = threading.Event()
        self._hand_to_writer(written)
        return written.wait(timeout)

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                with self._writing:
                    try:
                        if self._rest is not None and not self._broken:
                            rest, self._rest = self._rest, None
                            self._write(rest)
                        if isinstance(item, threading.Event):
                            item.set()
                        elif item is not _WAKE and not self._broken:
                            self._write(item)
                    finally:
                        with self._unwritten_lock:  # still holding _writing: nothing skips ahead meanwhile
                            self._unwritten -= 1
            except OSError as e:
                self._leave(e)
            except BaseException as e:  # the writer must outlive anything
                log(f"writer error: {e!r}")

    def _leave(self, e: OSError) -> None:
        if self._broken:
            return
        self._broken = True
        log(f"the host stopped reading this worker's output ({e}); leaving")
        try:
            self.on_broken()
        except BaseException as e2:
            log(f"leaving failed: {e2!r}")

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.out_fd, view):]
            except BlockingIOError:  # someone made the pipe non-blocking: wait until it drains
                select.select([], [self.out_fd], [])

    def _after_fork_in_child(self) -> None:
        # A forked child (multiprocessing, os.fork in a handler) must not hold the host's pipes: the
        # host would not see end of output when the worker dies, and anything the child sent would
        # be mixed into the worker's frames.
        self.closed = True
        for fd in (self.in_fd, self.out_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def log(text: str) -> None:
    try:
        sys.stderr.write(f"pypool worker: {text}\n")
        sys.stderr.flush()
    except BaseException:
        pass


class InputBuffer:
    """The host's input, read in large chunks, that can tell how much it holds already read: the
    serving thread corks its replies while more requests wait here (a BufferedReader cannot say
    so without a read that may block)."""

    CHUNK = 1 << 16

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()
        self._pos = 0

    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def read(self, n: int) -> bytes:
        """n bytes, or fewer only at the end of input (like a blocking file's read)."""
        while len(self._buf) - self._pos < n:
            if self._pos:
                del self._buf[:self._pos]
                self._pos = 0
            chunk = os.read(self.fd, max(self.CHUNK, n - len(self._buf)))
            if not chunk:
                data = bytes(self._buf)
                self._buf.clear()
                return data
            self._buf += chunk
        end = self._pos + n
        with memoryview(self._buf) as view:  # one copy, and the view is gone before the buffer changes
            data = bytes(view[self._pos:end])
        if end == len(self._buf):
            self._buf.clear()
            self._pos = 0
        else:
            self._pos = end
        return data

    def readinto(self, view: memoryview) -> int:
        """Fills the start of ``view`` with what is buffered, or else with one read of the input
        straight into it (no copy for large bodies); 0 only at the end of input."""
        available = len(self._buf) - self._pos
        if not available:
            return os.readv(self.fd, [view])
        n = min(available, len(view))
        with memoryview(self._buf) as buf:
            view[:n] = buf[self._pos:self._pos + n]
        self._pos += n
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        return n
