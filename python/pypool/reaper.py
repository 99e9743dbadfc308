"""A pool's group reaper: ends its workers' process groups when nobody else can.

Each worker leads its own process group, which holds whatever its handlers started. A worker killed
by SIGKILL (or a JVM killed by SIGKILL) cannot end that group; this small process outlives both and
does. The JVM starts one per pool::

    python /RUNTIME/pypool_reaper.py --pool NAME --run-id ID

It leads its own session, writes ``ready`` and a newline on stdout once, then reads commands on
stdin, one per line:

- ``watch PGID``: remember a worker's process group;
- ``kill PGID``: SIGKILL the group now (a group already gone is fine) and forget it;
- ``forget PGID``: stop watching the group.

Every half second it forgets groups that no longer exist. At end of stdin (the JVM closed the pool,
or died, however it died) and on TERM it SIGKILLs every group it watches and exits 0. INT and HUP
are ignored. A line it cannot use is reported on stderr and skipped; nothing else ends it.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import time
from typing import Optional, Set

PRUNE_INTERVAL_S = 0.5


class Reaper:
    def __init__(self, label: str) -> None:
        self.label = label
        self.watched: Set[int] = set()

    def command(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        if len(words) != 2 or words[0] not in ("watch", "kill", "forget"):
            self.log(f"ignored {line.strip()!r}: expected 'watch PGID', 'kill PGID' or 'forget PGID'")
            return
        verb, arg = words
        try:
            pgid = int(arg)
        except ValueError:
            self.log(f"ignored {line.strip()!r}: {arg!r} is not a process group id")
            return
        if pgid <= 1 or pgid == os.getpgrp():
            self.log(f"ignored {line.strip()!r}: {pgid} is not a worker's process group")
            return
        if verb == "watch":
            self.watched.add(pgid)
        elif verb == "kill":
            self.watched.discard(pgid)
            self.kill(pgid)
        else:
            self.watched.discard(pgid)

    def kill(self, pgid: int) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except OSError as e:
            self.log(f"could not kill process group {pgid}: {e}")

    def kill_all(self) -> None:
        for pgid in list(self.watched):
            self.kill(pgid)
        self.watched.clear()

    def prune(self) -> None:
        """Forgets groups that are gone. A worker is watched from its spawn, before it has called
        setsid(): its group does not exist yet, but the worker does, so it is kept."""
        for pgid in list(self.watched):
            if not _exists(lambda: os.killpg(pgid, 0)) and not _exists(lambda: os.kill(pgid, 0)):
                self.watched.discard(pgid)

    def log(self, text: str) -> None:
        try:
            sys.stderr.write(f"pypool reaper ({self.label}): {text}\n")
            sys.stderr.flush()
        except BaseException:
            pass


def _exists(probe) -> bool:
    try:
        probe()
        return True
    except PermissionError:  # there, but no longer ours to signal: not ours to kill either
        return False
    except OSError:
        return False


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="pypool.reaper")
    parser.add_argument("--pool", default="pool")
    parser.add_argument("--run-id", default="")
    opts = parser.parse_args(argv)
    reaper = Reaper(f"pool {opts.pool}, run {opts.run_id}")

    if os.getpgrp() != os.getpid():
        try:
            os.setsid()  # out of the JVM's group: a signal meant for the JVM's group misses it
        except OSError as e:
            reaper.log(f"could not start a session of its own: {e}")
    for ignored in (signal.SIGINT, signal.SIGHUP):
        signal.signal(ignored, signal.SIG_IGN)

    def on_term(*_: object) -> None:
        reaper.kill_all()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    try:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
    except OSError:
        pass

    pending = b""
    next_prune = time.monotonic() + PRUNE_INTERVAL_S
    while True:
        try:
            readable, _, _ = select.select([0], [], [], max(0.0, next_prune - time.monotonic()))
            data = os.read(0, 65536) if readable else None
        except OSError as e:
            reaper.log(f"stdin failed ({e}); treating it as its end")
            data = b""
        if data == b"":
            break
        if data:
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                run(reaper, line)
        if time.monotonic() >= next_prune:
            reaper.prune()
            next_prune = time.monotonic() + PRUNE_INTERVAL_S
    run(reaper, pending)
    reaper.kill_all()
    return 0


def run(reaper: Reaper, line: bytes) -> None:
    try:
        reaper.command(line.decode("utf-8", "replace"))
    except BaseException as e:  # nothing a line holds may end the reaper
        reaper.log(f"failed on {line!r}: {e!r}")


if __name__ == "__main__":
    sys.exit(main())
