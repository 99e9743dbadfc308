"""One execution as a stream of JSON chunks, through ``dspy.streamify``::

    {"type": "token", "predictor": "predict", "field": "answer", "text": "Paris", "last": false}
    {"type": "status", "text": "Calling tool weather..."}
    {"type": "prediction", "outputs": {...}, "reasoning": ..., "usage": ...}   # as execute gives; last
    {"type": "custom", "value": ...}     # anything else a custom LM put in DSPy's stream

Token chunks come from DSPy's stream listeners, one per output field of every predictor, fed by
an LM that streams: ``dspy.LM`` does, through LiteLLM. DummyLM and a custom ``BaseLM`` do not, unless
the LM itself sends chunks into ``dspy.settings.send_stream`` while it runs (LiteLLM-shaped ones
are read by the listeners; ``dspy.streaming.StreamResponse`` objects pass as they are). Status
chunks are DSPy's default status messages: one before and one after each tool call.

DSPy's stream runs in a task of its own, which puts each value in a queue this generator takes
from. The worker advances a stream generator one item at a time, each in a new task, while what
is held across the yields (the ``dspy.context`` of the execution, ``streamify``'s anyio task group)
must be left in the task that entered it; the queue keeps all of it in one task. The queue has no bound: DSPy sends
status messages from the event loop's thread and waits until they are taken, so a full buffer
would stall the loop. What it holds is at most one execution's output, since nothing is made
faster than the LM makes it; the host's credit paces what leaves the worker.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Dict, List

from . import dspy_results

try:
    _GROUP: Any = BaseExceptionGroup
except NameError:  # Python 3.10: anyio's task groups raise the backport's groups
    from exceptiongroup import BaseExceptionGroup as _GROUP

_VALUE, _END, _FAILED = 0, 1, 2


def listeners(dspy: Any, module: Any) -> List[Any]:
    """A listener on every output field of every predictor; reusable, since a predictor may run
    several times in one execution (ReAct's steps)."""
    return [dspy.streaming.StreamListener(signature_field_name=field, predict=predictor,
                                          predict_name=name, allow_reuse=True)
            for name, predictor in module.named_predictors()
            for field in predictor.signature.output_fields]


async def chunks(dspy: Any, module: Any, kwargs: Dict[str, Any], settings: Dict[str, Any], awaits: bool,
                 reply: Callable[[Any], Dict[str, Any]]) -> AsyncIterator[Dict[str, Any]]:
    """The chunks of one execution of ``module`` with ``kwargs`` under ``settings`` (LM, adapter).
    ``awaits``: the module and LM can await (else DSPy runs the module on a thread); ``reply``
    turns the final Prediction into the result JSON. Raises what the program raised."""
    program = dspy.streamify(module, stream_listeners=listeners(dspy, module), is_async_program=awaits)
    queue: "asyncio.Queue[tuple[int, Any]]" = asyncio.Queue()

    async def produce() -> None:
        try:
            with dspy.context(**settings):
                async for value in program(**kwargs):
                    queue.put_nowait((_VALUE, value))
        except BaseException as e:  # pypool.Cancelled from a tool included: the consumer must hear of it
            queue.put_nowait((_FAILED, _single(e)))
            if isinstance(e, asyncio.CancelledError):
                raise
        else:
            queue.put_nowait((_END, None))

    task = asyncio.ensure_future(produce())
    try:
        while True:
            kind, value = await queue.get()
            if kind == _END:
                return
            if kind == _FAILED:
                raise value
            yield chunk(dspy, value, reply)
    finally:
        # The consumer is gone (closed, cancelled) or the stream ended: never leave the program running.
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def chunk(dspy: Any, value: Any, reply: Callable[[Any], Dict[str, Any]]) -> Dict[str, Any]:
    if isinstance(value, dspy.Prediction):
        return {"type": "prediction", **reply(value)}
    if isinstance(value, dspy.streaming.StreamResponse):
        return {"type": "token", "predictor": value.predict_name, "field": value.signature_field_name,
                "text": value.chunk, "last": bool(value.is_last_chunk)}
    if isinstance(value, dspy.streaming.StatusMessage):
        return {"type": "status", "text": value.message}
    return {"type": "custom", "value": dspy_results.jsonable(value)}


def _single(error: BaseException) -> BaseException:
    """The program's own error out of the task groups streamify runs it in."""
    while isinstance(error, _GROUP) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error
