import os
import sys

import pypool


@pypool.command("t.noisy")
def noisy(text: str) -> str:
    print("printed:", text)
    os.write(1, b"raw fd1 write\n")
    sys.stdout.flush()
    return text.upper()


@pypool.command("t.boom")
def boom() -> None:
    raise ValueError("kaboom")


@pypool.command("t.inner_type_error")
def inner_type_error(x: int) -> int:
    return x + "text"  # raises TypeError inside the handler, not a bad call


@pypool.command("t.set")
def returns_set() -> object:
    return {1, 2}
