"""pypool's code as shipped to a Ray cluster: the runtime (``runtime/``) and the pool's Python
path (``path0/``, ``path1/`` ...). Ray puts this package on the actor's ``sys.path``; importing it
puts the runtime there too and gives Ray the relay actor class (see pypool.ray_relay)."""

import os as _os
import sys as _sys

_runtime = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "runtime")
if _runtime not in _sys.path:
    _sys.path.insert(0, _runtime)

from pypool.ray_relay import Relay  # noqa: E402,F401
