"""A handler module that keeps a SQLite database open after import; PYPOOL_TEST_CLOSE_BEFORE_FORK
makes it close the database in a before-fork hook, which makes forking safe again."""
import os
import sqlite3
import tempfile

from pypool import forksafe

_path = os.path.join(tempfile.mkdtemp(prefix="pypool-test-db-"), "cache.db")
connection = sqlite3.connect(_path)
connection.execute("create table if not exists t (k text)")
connection.commit()

if os.environ.get("PYPOOL_TEST_CLOSE_BEFORE_FORK"):
    forksafe.before_fork(connection.close)
