"""A handler module whose import costs BENCH_IMPORT_SECONDS of CPU (default 1 s), as a heavy
import such as DSPy's does: unlike a sleep, parallel imports compete for the cores."""
import os
import time

import pypool

_end = time.process_time() + float(os.environ.get("BENCH_IMPORT_SECONDS", "1"))
while time.process_time() < _end:
    pass


@pypool.command("bench.noop")
def noop():
    return None
