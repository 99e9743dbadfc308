"""A handler module that is slow to import, like one that pulls in DSPy or torch."""

import os
import time

import pypool

time.sleep(float(os.environ.get("PYPOOL_TEST_IMPORT_DELAY_S", "0")))
_IMPORTED_AT = time.time()


@pypool.command("slow.imported_at")
def imported_at() -> float:
    return _IMPORTED_AT
