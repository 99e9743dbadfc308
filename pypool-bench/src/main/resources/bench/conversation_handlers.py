"""Handlers for the benchmark of streams and callbacks into Java."""

import pypool


@pypool.command("bench.items")
def items(n: int, size: int = 0):
    """n items: small ints, or strings of ``size`` characters."""
    if size:
        text = "x" * size
        for _ in range(n):
            yield text
    else:
        yield from range(n)


@pypool.command("bench.callbacks")
def callbacks(n: int) -> int:
    """n round trips to the Java function 'bench.noop', one after another."""
    for _ in range(n):
        pypool.call_java("bench.noop")
    return n
