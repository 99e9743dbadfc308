"""Commands the DSPy tests ask the workers with (a handler module: ``handlerModules("dspy_app.probes")``)."""

import pypool

from . import lms


@pypool.command("dspy_app.lm_cancelled")
def lm_cancelled(timeout_s: float) -> bool:
    """Whether a StreamingLM waiting in this worker was cancelled, waiting for it up to ``timeout_s``."""
    return lms.CANCELLED.wait(timeout_s)
