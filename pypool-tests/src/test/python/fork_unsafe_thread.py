"""A handler module that leaves a thread running after import: its pool must not fork."""
import threading

_stop = threading.Event()
threading.Thread(target=_stop.wait, name="left-running", daemon=True).start()
