"""A handler module whose import costs CPU time, as importing DSPy does (about 1 s here).

The cost is CPU time burnt in a loop, not a sleep: workers importing it at once compete for the
cores, exactly as real imports do, so the cold-start figures show what parallel starts can and
cannot win. BENCH_IMPORT_SECONDS sets it (default 1).
"""
import os
import time

import pypool

_cost = float(os.environ.get("BENCH_IMPORT_SECONDS", "1"))
_end = time.process_time() + _cost
_spins = 0
while time.process_time() < _end:
    _spins += 1


@pypool.command("bench.noop")
def noop():
    return None


@pypool.command("bench.pid")
def pid():
    """Which process answered: tells a replacement worker from the one that was killed."""
    return os.getpid()
