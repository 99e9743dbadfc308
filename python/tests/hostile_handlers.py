"""Handlers that misbehave in ways the interpreter cannot interrupt, for the corking tests."""

import ctypes
import os

import pypool


@pypool.command("h.hold_gil_until_readable")
def hold_gil_until_readable(path: str) -> str:
    """Blocks in C while holding the GIL (a PyDLL call does not release it), as a long regex, sort or
    C extension does, until the FIFO at `path` gets a byte."""
    fd = os.open(path, os.O_RDWR)  # O_RDWR: the open itself does not wait for a writer
    try:
        buf = ctypes.create_string_buffer(1)
        ctypes.PyDLL(None).read(fd, buf, 1)
    finally:
        os.close(fd)
    return "released"


@pypool.command("h.hard_exit")
def hard_exit(code: int = 7) -> None:
    """Leaves at once, as a segfault in a C extension or the OOM killer would end the process."""
    os._exit(code)
