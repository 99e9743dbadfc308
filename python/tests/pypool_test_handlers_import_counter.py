"""Appends this process's pid to the file PYPOOL_TEST_IMPORT_RECORD names each time it is imported."""
import os

_record = os.environ.get("PYPOOL_TEST_IMPORT_RECORD")
if _record:
    with open(_record, "a") as f:
        f.write(f"{os.getpid()}\n")
