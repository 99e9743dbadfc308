"""Workers started by the bootstrap script's path import nothing from the working directory."""

import os

import pytest

from pypool import protocol
from workerproc import HERE, RUNTIME, WorkerProcess


@pytest.fixture
def hostile_cwd(tmp_path):
    """A working directory whose pypool/ and json.py would break any worker that imported them."""
    (tmp_path / "pypool").mkdir()
    (tmp_path / "pypool" / "__init__.py").write_text(
        "raise RuntimeError('pypool from the working directory')\n")
    (tmp_path / "json.py").write_text("raise RuntimeError('json from the working directory')\n")
    return tmp_path


# An empty PYTHONPATH entry stands for the working directory; a relative one is resolved against it.
@pytest.mark.parametrize("pythonpath", [None, os.pathsep.join([RUNTIME, HERE, ""]),
                                        os.pathsep.join([".", HERE])])
def test_worker_ignores_modules_in_the_working_directory(hostile_cwd, pythonpath):
    w = WorkerProcess("pypool.examples", cwd=str(hostile_cwd), pythonpath=pythonpath)
    try:
        hello = w.read_hello()
        assert hello["pid"] == w.proc.pid
        assert w.call("add", {"a": 2, "b": 3}) == (protocol.REPLY_OK, 5)
    finally:
        w.kill()
    assert b"from the working directory" not in w.stderr_text


def test_working_directory_named_explicitly_stays_on_the_path(tmp_path):
    (tmp_path / "cwd_handlers.py").write_text(
        "import pypool\n\n@pypool.command('cwd.hi')\ndef hi():\n    return 'hi'\n")
    w = WorkerProcess("cwd_handlers", cwd=str(tmp_path), pythonpath=str(tmp_path))
    try:
        w.read_hello()
        assert w.call("cwd.hi") == (protocol.REPLY_OK, "hi")
    finally:
        w.kill()
