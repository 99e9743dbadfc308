"""Starts a pypool worker: ``python /RUNTIME/pypool_worker.py --worker ID --module MODULE ...``
(the arguments of pypool.worker.main).

Started by its path, Python puts this script's folder, the runtime folder, first on sys.path, and
not the working directory as ``python -m`` would: a ``json.py`` or ``pypool/`` in the JVM's working
directory cannot stand in for the real ones. A working directory that PYTHONPATH brings in through
an empty or relative entry is taken off sys.path too, before anything is imported.
"""

import os
import sys


def isolate_sys_path() -> None:
    """Keeps this script's folder first on sys.path and the working directory off it, unless
    PYTHONPATH names the working directory by its absolute path."""
    runtime = os.path.dirname(os.path.abspath(__file__))
    runtime_real = os.path.realpath(runtime)
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:  # the working directory was removed: nothing of it can be imported
        cwd = None
    explicit = {os.path.realpath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                if p and os.path.isabs(p)}
    kept = [runtime]
    for entry in sys.path:
        if entry in ("", ".") or entry == runtime:
            continue
        real = os.path.realpath(entry)
        if real == runtime_real or (real == cwd and real not in explicit):
            continue
        kept.append(entry)
    sys.path[:] = kept


if __name__ == "__main__":
    isolate_sys_path()
    from pypool import worker

    code = worker.main()
    sys.stderr.flush()
    os._exit(code)  # handler threads must not hold the exit
