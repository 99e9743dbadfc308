"""The command registry: what ``@pypool.command`` records and how a request is bound to a handler."""

from __future__ import annotations

import inspect
import sys
from typing import Any, Callable, Dict, List, Optional

SESSION_PARAMETER = "session"


class Session(dict):
    """A session's state: a plain dict that lives in one worker for as long as the session does."""

    __slots__ = ("id",)

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.id = session_id

    def __repr__(self) -> str:
        return f"Session({self.id!r}, {dict.__repr__(self)})"


class BadArguments(Exception):
    """The arguments of a request do not fit the handler's parameters."""


class Command:
    """One registered handler, with what is needed to check a request's arguments cheaply."""

    __slots__ = ("name", "fn", "signature", "wants_session", "accepted", "required", "takes_var_kw")

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.fn = fn
        self.signature = inspect.signature(fn)
        params = self.signature.parameters
        self.wants_session = SESSION_PARAMETER in params
        self.takes_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        self.accepted = frozenset(
            n for n, p in params.items()
            if n != SESSION_PARAMETER and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        )
        self.required = frozenset(
            n for n, p in params.items()
            if n != SESSION_PARAMETER and p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        )

    def invoke(self, args: Any, session: Optional[Session]) -> Any:
        if self.wants_session and session is None:
            raise BadArguments(
                f"command '{self.name}' keeps session state: call it through a session "
                f"(pool.session(id) or pool.newSession()), not anonymously")
        if args is None:
            args = {}
        elif not isinstance(args, (dict, list)) and _binary(args):
            args = [args]  # call("cmd", byteArray): the bytes are the one positional argument
        if isinstance(args, dict):
            # Checking names first (cheap) keeps a TypeError raised *inside* the handler from being
            # mistaken for a bad call; inspect's bind() is only used to word the error.
            keys = args.keys()
            if not (self.required <= keys and (self.takes_var_kw or keys <= self.accepted)):
                self._explain(lambda: self.signature.bind(**self._with_session(args, session)))
            if self.wants_session:
                return self.fn(**args, session=session)
            return self.fn(**args)
        if isinstance(args, list):
            kwargs = {SESSION_PARAMETER: session} if self.wants_session else {}
            self._explain(lambda: self.signature.bind(*args, **kwargs))
            return self.fn(*args, **kwargs)
        raise BadArguments(
            f"command '{self.name}' takes a JSON object (keyword arguments) or array (positional "
            f"arguments), got {type(args).__name__}")

    def _with_session(self, args: Dict[str, Any], session: Optional[Session]) -> Dict[str, Any]:
        return {**args, SESSION_PARAMETER: session} if self.wants_session else args

    def _explain(self, bind: Callable[[], Any]) -> None:
        try:
            bind()
        except TypeError as e:
            raise BadArguments(f"command '{self.name}' rejected its arguments: {e} "
                               f"(handler {self.fn.__name__}({self.describe_parameters()}))") from None

    def describe_parameters(self) -> str:
        """The parameters a caller may pass, as written in the source (no session, no quotes)."""
        shown = []
        for name, p in self.signature.parameters.items():
            if name == SESSION_PARAMETER:
                continue
            text = name
            if p.annotation is not p.empty:
                ann = p.annotation if isinstance(p.annotation, str) else getattr(
                    p.annotation, "__name__", repr(p.annotation))
                text += f": {ann}"
            if p.default is not p.empty:
                text += f"={p.default!r}"
            if p.kind is p.VAR_KEYWORD:
                text = "**" + text
            elif p.kind is p.VAR_POSITIONAL:
                text = "*" + text
            shown.append(text)
        return ", ".join(shown)


_COMMANDS: Dict[str, Command] = {}
# Called with the command's name before each registered handler runs; empty unless fault
# injection (pypool.faults) asks for it, so the ordinary path pays one truth test.
BEFORE_CALL: List[Callable[[str], None]] = []
# Extra fields for the built-in ping, by name: extensions report their own state (pypool.dspy
# says whether DSPy is importable).
PING_EXTRAS: Dict[str, Callable[[], Any]] = {}
_WORKER_ID = ""


def current_worker() -> str:
    """This process's worker id as the pool knows it (e.g. "w3"); empty outside a pool."""
    return _WORKER_ID


def set_worker_id(worker_id: str) -> None:
    global _WORKER_ID
    _WORKER_ID = worker_id


def command(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as the handler of ``name``; it stays callable as before."""
    if not isinstance(name, str) or not name:
        raise ValueError("pypool.command needs a non-empty command name")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        existing = _COMMANDS.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(
                f"command '{name}' is registered twice: by {_where(existing.fn)} and {_where(fn)}")
        _COMMANDS[name] = Command(name, fn)
        return fn

    return register


def lookup(name: str) -> Optional[Command]:
    return _COMMANDS.get(name)


def registered_commands() -> List[str]:
    return sorted(_COMMANDS)


def async_commands() -> List[str]:
    """Commands whose handler is ``async def``: they run on the event loop and hold no handler thread."""
    return sorted(name for name, cmd in _COMMANDS.items() if inspect.iscoroutinefunction(cmd.fn))


def _where(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"


def _binary(value: Any) -> bool:
    """bytes, or a NumPy array (only if NumPy is loaded already: it is never imported for this)."""
    if isinstance(value, bytes):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray)
