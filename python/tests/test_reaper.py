"""The pool's group reaper ends the groups it watches when told, at end of its input and on TERM."""

import os
import signal
import subprocess

import pytest

from pypool.reaper import Reaper
from workerproc import PYTHON, REAPER_SCRIPT, gone, wait_until

FAKE_WORKER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


class FakeWorker:
    """A process leading its own group, with a child in that group: a worker and what it started."""

    def __init__(self):
        self.proc = subprocess.Popen([PYTHON, "-c", FAKE_WORKER], stdout=subprocess.PIPE,
                                     start_new_session=True)
        self.child = int(self.proc.stdout.readline())
        self.pgid = self.proc.pid

    def assert_ended(self):
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        wait_until(lambda: gone(self.child), what=f"the fake worker's child {self.child} to end")

    def end(self):
        if self.proc.poll() is None:
            os.killpg(self.pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def fake():
    f = FakeWorker()
    yield f
    f.end()


@pytest.fixture
def reaper():
    proc = subprocess.Popen([PYTHON, REAPER_SCRIPT, "--pool", "p", "--run-id", "r1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if not stream.closed:
            stream.close()


def tell(reaper, *lines):
    reaper.stdin.write("".join(line + "\n" for line in lines).encode())
    reaper.stdin.flush()


def test_reaper_leads_its_own_session(reaper):
    assert os.getsid(reaper.pid) == reaper.pid != os.getsid(0)


def test_end_of_input_kills_every_watched_group(reaper, fake):
    tell(reaper, f"watch {fake.pgid}")
    reaper.stdin.close()
    fake.assert_ended()
    assert reaper.wait(timeout=10) == 0


def test_kill_ends_the_group_and_bad_lines_are_skipped(reaper, fake):
    reaper.stdin.write(b"\xff\xfe not utf-8\n")
    tell(reaper, "hello", "watch", "watch twelve", "watch 1", "kill -5", "kill 0",
         f"watch {fake.pgid}", f"kill {fake.pgid}")
    fake.assert_ended()
    assert reaper.poll() is None
    tell(reaper, f"kill {fake.pgid}")  # a group already gone is fine
    reaper.stdin.close()
    assert reaper.wait(timeout=10) == 0
    err = reaper.stderr.read().decode()
    assert "pool p, run r1" in err and "'hello'" in err and "'watch twelve'" in err and "'watch 1'" in err


def test_forgotten_group_is_left_alone_at_end_of_input(reaper, fake):
    tell(reaper, f"watch {fake.pgid}", f"forget {fake.pgid}")
    reaper.stdin.close()
    assert reaper.wait(timeout=10) == 0
    assert fake.proc.poll() is None and not gone(fake.child)


def test_term_kills_every_watched_group(reaper, fake):
    # The watch is in once the reaper has read it: an unknown line after it is logged in order.
    tell(reaper, f"watch {fake.pgid}", "sync")
    assert b"'sync'" in reaper.stderr.readline()
    reaper.terminate()
    fake.assert_ended()
    assert reaper.wait(timeout=10) == 0


def test_groups_that_are_gone_are_forgotten():
    lone = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(600)"], start_new_session=True)
    r = Reaper("test")
    r.command(f"watch {lone.pid}")
    r.prune()
    assert r.watched == {lone.pid}
    lone.kill()
    lone.wait(timeout=10)
    r.prune()
    assert r.watched == set()


def test_a_worker_watched_before_it_leads_its_group_is_kept(reaper):
    """The JVM says 'watch' at spawn; the worker calls setsid() a little later. A prune in between
    must not forget it, or its children would outlive a JVM killed with SIGKILL."""
    late = subprocess.Popen([PYTHON, "-c", (
        "import os, subprocess, sys, time\n"
        "time.sleep(1.2)\n"  # more than two prune intervals before it leads a group
        "os.setsid()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n")], stdout=subprocess.PIPE)
    try:
        tell(reaper, f"watch {late.pid}")
        child = int(late.stdout.readline())
        reaper.stdin.close()  # the JVM is gone
        assert late.wait(timeout=10) == -signal.SIGKILL
        wait_until(lambda: gone(child), what=f"the late group's child {child} to end")
    finally:
        if late.poll() is None:
            late.kill()
        late.wait(timeout=10)
        late.stdout.close()
