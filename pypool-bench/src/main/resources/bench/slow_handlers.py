"""A handler module that takes as long to import as DSPy does (about 2 s)."""
import os
import time

import pypool

time.sleep(float(os.environ.get("BENCH_IMPORT_SECONDS", "2")))


@pypool.command("bench.noop")
def noop():
    return None
