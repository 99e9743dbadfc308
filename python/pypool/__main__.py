import os
import sys

from .worker import main

code = main()
sys.stderr.flush()
os._exit(code)
