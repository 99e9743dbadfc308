"""Starts a pool's group reaper: ``python /RUNTIME/pypool_reaper.py --pool NAME --run-id ID``
(see pypool.reaper). Like pypool_worker.py, it imports nothing from the working directory."""

import os
import sys

if __name__ == "__main__":
    from pypool_worker import isolate_sys_path  # this script's folder is first on sys.path

    isolate_sys_path()
    from pypool import reaper

    code = reaper.main()
    sys.stderr.flush()
    os._exit(code)
