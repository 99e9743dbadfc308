"""DSPy programs as pypool commands: ``handlerModules("pypool.dspy")``.

Session programs live in the calling session's state, so one session never sees another's;
pool-wide programs live in every worker (defined through a setup step) and answer any caller.
The LM is kept here, per process, and applied through ``dspy.context`` on whatever thread runs
the call (DSPy lets only one thread change its global settings, and a pool runs several calls at
once). DSPy is imported when this module is, so the import cost is paid at worker start. Where
DSPy is missing, every command says so, naming this interpreter and how to install it.

The pieces: signatures (``dspy_signatures``), programs from definitions (``dspy_programs``), the LM
(``dspy_lm``), results and inputs (``dspy_results``), errors (``dspy_errors``), tools
(``dspy_tools``), streamed executions (``dspy_stream``).
"""

from __future__ import annotations

import asyncio

import importlib
import importlib.util
import sys
import threading
from typing import Any, AsyncIterator, Dict, List, Optional

from . import _registry, command, dspy_lm, dspy_programs, dspy_results, dspy_stream, forksafe
from ._registry import Session
from .dspy_errors import (DspyUnavailable, LmNotConfigured, ProgramNotFound,  # noqa: F401 (names Java maps)
                          from_dspy_error)

PROGRAMS = "pypool.dspy.programs"

try:
    _dspy: Any = importlib.import_module("dspy")
    _import_error: Optional[BaseException] = None
except Exception as e:  # ImportError, or a broken install raising anything at import
    _dspy = None
    _import_error = e



@forksafe.before_fork
def _close_disk_cache() -> None:
    """Importing DSPy opens the SQLite files of its disk cache; a fork would share those
    connections between workers, which SQLite does not allow. Closed in the fork server, each
    worker opens its own on first use (diskcache connects lazily, per thread)."""
    disk = getattr(getattr(_dspy, "cache", None), "disk_cache", None)
    if disk is not None and hasattr(disk, "close"):
        disk.close()


_lock = threading.Lock()
_lm: Any = None
_lm_report: Optional[Dict[str, Any]] = None
_pool_programs: Dict[str, dspy_programs.Program] = {}


def _require_dspy() -> Any:
    if _dspy is None:
        raise DspyUnavailable(
            f"DSPy is not importable in {sys.executable} ({type(_import_error).__name__}: {_import_error}); "
            f"install it into that interpreter: {sys.executable} -m pip install dspy")
    return _dspy


def status() -> Dict[str, Any]:
    return {"available": _dspy is not None,
            "version": getattr(_dspy, "__version__", None) if _dspy is not None else None,
            "error": None if _import_error is None else f"{type(_import_error).__name__}: {_import_error}",
            "lm": None if _lm_report is None else _lm_report["model"],
            "lm_check": _lm_report, "pool_programs": sorted(_pool_programs),
            # dspy.LM sends its requests through LiteLLM; without it only DummyLM and custom BaseLMs work.
            "litellm": importlib.util.find_spec("litellm") is not None}


_registry.PING_EXTRAS["dspy"] = status


@command("dspy.status")
def dspy_status() -> Dict[str, Any]:
    return dict(status(), executable=sys.executable)


def _lm_options(api_key: Optional[str], temperature: Optional[float], max_tokens: Optional[int],
                kwargs: Dict[str, Any]) -> Dict[str, Any]:
    options = {k: v for k, v in (("api_key", api_key), ("temperature", temperature),
                                 ("max_tokens", max_tokens)) if v is not None}
    options.update(kwargs)
    return options


@command("dspy.check_lm")
def check_lm(model: str, api_key: Optional[str] = None, temperature: Optional[float] = None,
             max_tokens: Optional[int] = None, **kwargs: Any) -> Dict[str, Any]:
    """Builds the LM and runs every check that needs no request, without keeping it."""
    _, report = dspy_lm.build(_require_dspy(), model, _lm_options(api_key, temperature, max_tokens, kwargs))
    return report


@command("dspy.configure_lm")
def configure_lm(model: str, api_key: Optional[str] = None, temperature: Optional[float] = None,
                 max_tokens: Optional[int] = None, **kwargs: Any) -> Dict[str, Any]:
    """Sets this worker's LM once it passed its checks; a refused one leaves the old LM in place."""
    global _lm, _lm_report
    lm, report = dspy_lm.build(_require_dspy(), model, _lm_options(api_key, temperature, max_tokens, kwargs))
    with _lock:
        _lm, _lm_report = lm, report
    return dict(report, configured=True)


def _programs(session: Session) -> Dict[str, dspy_programs.Program]:
    return session.setdefault(PROGRAMS, {})


def _definition(program_id: str, signature: Any, module_type: Optional[str],
                definition: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    d = dict(definition or {})
    d["id"] = program_id
    if signature is not None:
        d["signature"] = signature
    if module_type is not None:
        d["module"] = module_type
    return d


def _find(session: Optional[Session], program_id: str) -> dspy_programs.Program:
    if session is not None:
        p = _programs(session).get(program_id)
        if p is not None:
            return p
    p = _pool_programs.get(program_id)
    if p is None:
        where = "the pool has" if session is None else f"session '{session.id}' has"
        mine = sorted(_programs(session)) if session is not None else []
        raise ProgramNotFound(f"{where} no program '{program_id}'; session programs: {mine or 'none'}, "
                              f"pool-wide programs: {sorted(_pool_programs) or 'none'}")
    return p


@command("dspy.create_program")
def create_program(program_id: str, signature: Any = None, module_type: Optional[str] = None,
                   definition: Optional[Dict[str, Any]] = None, *, session: Session) -> Dict[str, Any]:
    p = dspy_programs.build(_require_dspy(), _definition(program_id, signature, module_type, definition))
    _programs(session)[program_id] = p
    return p.info()


@command("dspy.restore_programs")
def restore_programs(programs: List[Dict[str, Any]], *, session: Session) -> Dict[str, Any]:
    """Rebuilds a session's programs on a new worker, from the definitions the host kept."""
    dspy = _require_dspy()
    rebuilt = {d["id"]: dspy_programs.build(dspy, d) for d in programs}
    _programs(session).clear()
    _programs(session).update(rebuilt)
    return {"restored": sorted(rebuilt)}


@command("dspy.check_program")
def check_program(definition: Dict[str, Any]) -> Dict[str, Any]:
    """Builds a program without keeping it: what a definition gives, before it is saved anywhere."""
    return dspy_programs.build(_require_dspy(), definition).info()


@command("dspy.define_pool_program")
def define_pool_program(definition: Dict[str, Any]) -> Dict[str, Any]:
    """A pool-wide program, on this worker; run on every worker as a setup step."""
    p = dspy_programs.build(_require_dspy(), definition)
    with _lock:
        _pool_programs[p.id] = p
    return p.info()


@command("dspy.drop_pool_program")
def drop_pool_program(program_id: str) -> Dict[str, Any]:
    with _lock:
        return {"deleted": _pool_programs.pop(program_id, None) is not None}


def _prepare(dspy: Any, p: dspy_programs.Program, inputs: Any,
             options: Optional[Dict[str, Any]]) -> "tuple[Dict[str, Any], Dict[str, Any]]":
    """The program's inputs converted to their types, and the settings (LM, adapter) of one execution."""
    kwargs = dspy_results.convert_inputs(p, inputs)
    n = dspy_results.completion_count(options)
    with _lock:
        base = _lm
    if base is None:
        raise LmNotConfigured("no LM is configured in this pool: call configure_lm first")
    lm = p.lm_for(base)
    if n is not None:
        lm = lm.copy(n=n)
    elif dspy_results.wants_history(options):
        lm = lm.copy()  # a history of its own: this execution's LM calls and nothing else
    settings: Dict[str, Any] = {"lm": lm, "track_usage": True}
    if p.adapter is not None:
        settings["adapter"] = dspy.JSONAdapter() if p.adapter == "json" else dspy.ChatAdapter()
    return kwargs, settings


def _run(dspy: Any, p: dspy_programs.Program, inputs: Any, options: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    kwargs, settings = _prepare(dspy, p, inputs, options)
    try:
        with dspy.context(**settings):
            prediction = p.module(**kwargs)
    except dspy.utils.exceptions.DSPyError as e:
        raise from_dspy_error(e, p.id) from e
    return _reply(prediction, settings, options)


async def _arun(dspy: Any, p: dspy_programs.Program, inputs: Any,
                options: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """One execution on the worker's event loop: with a module and an LM that can await (DSPy's
    own modules, dspy.LM, DummyLM), many LM calls wait in one worker without a thread each.
    A module or LM that has only a synchronous form runs on a thread instead, as it would anyway."""
    kwargs, settings = _prepare(dspy, p, inputs, options)
    if not _awaits(dspy, p, settings["lm"]):
        return await asyncio.to_thread(_run, dspy, p, inputs, options)
    try:
        with dspy.context(**settings):
            prediction = await p.module.acall(**kwargs)
    except dspy.utils.exceptions.DSPyError as e:
        raise from_dspy_error(e, p.id) from e
    return _reply(prediction, settings, options)


def _awaits(dspy: Any, p: dspy_programs.Program, lm: Any) -> bool:
    """Whether the module and the LM both have an awaitable form (else they run on a thread)."""
    return hasattr(type(p.module), "aforward") and type(lm).aforward is not dspy.BaseLM.aforward


def _reply(prediction: Any, settings: Dict[str, Any], options: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    reply = dspy_results.result(prediction)
    if dspy_results.wants_history(options):
        reply["lm_history"] = dspy_results.lm_history(settings["lm"])
    return reply


def execute_program(program_id: str, inputs: Dict[str, Any], options: Optional[Dict[str, Any]] = None, *,
                    session: Session) -> Dict[str, Any]:
    """Runs a session program, or a pool-wide one of that id where the session has none."""
    return _run(_require_dspy(), _find(session, program_id), inputs, options)


def execute_pool_program(program_id: str, inputs: Dict[str, Any],
                         options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Runs a pool-wide program, from any session or none."""
    return _run(_require_dspy(), _find(None, program_id), inputs, options)


# The commands: the same, awaited on the worker's event loop (see _arun).
@command("dspy.execute_program")
async def execute_program_async(program_id: str, inputs: Dict[str, Any], options: Optional[Dict[str, Any]] = None,
                                *, session: Session) -> Dict[str, Any]:
    return await _arun(_require_dspy(), _find(session, program_id), inputs, options)


@command("dspy.execute_pool_program")
async def execute_pool_program_async(program_id: str, inputs: Dict[str, Any],
                                     options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return await _arun(_require_dspy(), _find(None, program_id), inputs, options)


def _stream(dspy: Any, p: dspy_programs.Program, inputs: Any,
            options: Optional[Dict[str, Any]]) -> AsyncIterator[Dict[str, Any]]:
    """One execution as chunks (``dspy_stream``): tokens, status messages, then the prediction.
    Inputs and the LM are checked now, so that what is wrong with them fails the call as execute's
    would, before the stream starts."""
    kwargs, settings = _prepare(dspy, p, inputs, options)
    return _chunks(dspy, p, kwargs, settings, options)


async def _chunks(dspy: Any, p: dspy_programs.Program, kwargs: Dict[str, Any], settings: Dict[str, Any],
                  options: Optional[Dict[str, Any]]) -> AsyncIterator[Dict[str, Any]]:
    chunks = dspy_stream.chunks(dspy, p.module, kwargs, settings, _awaits(dspy, p, settings["lm"]),
                                lambda prediction: _reply(prediction, settings, options))
    try:
        async for chunk in chunks:
            yield chunk
    except dspy.utils.exceptions.DSPyError as e:
        raise from_dspy_error(e, p.id) from e
    finally:
        await chunks.aclose()  # with this one: its program never outlives the stream


@command("dspy.stream_program")
def stream_program(program_id: str, inputs: Dict[str, Any], options: Optional[Dict[str, Any]] = None, *,
                   session: Session) -> AsyncIterator[Dict[str, Any]]:
    """execute_program as a stream of chunks."""
    return _stream(_require_dspy(), _find(session, program_id), inputs, options)


@command("dspy.stream_pool_program")
def stream_pool_program(program_id: str, inputs: Dict[str, Any],
                        options: Optional[Dict[str, Any]] = None) -> AsyncIterator[Dict[str, Any]]:
    return _stream(_require_dspy(), _find(None, program_id), inputs, options)


@command("dspy.export_state")
def export_state(program_id: str, *, session: Session) -> Dict[str, Any]:
    """What ``program.dump_state()`` gives, in JSON: demos, instructions, signatures."""
    return dspy_results.jsonable(_find(session, program_id).module.dump_state())


@command("dspy.export_pool_state")
def export_pool_state(program_id: str) -> Dict[str, Any]:
    return dspy_results.jsonable(_find(None, program_id).module.dump_state())


@command("dspy.list_programs")
def list_programs(*, session: Session) -> List[str]:
    return sorted(_programs(session))


@command("dspy.get_program_info")
def get_program_info(program_id: str, *, session: Session) -> Dict[str, Any]:
    return _find(session, program_id).info()


@command("dspy.get_pool_program_info")
def get_pool_program_info(program_id: str) -> Dict[str, Any]:
    return _find(None, program_id).info()


@command("dspy.delete_program")
def delete_program(program_id: str, *, session: Session) -> Dict[str, Any]:
    return {"deleted": _programs(session).pop(program_id, None) is not None}


@command("dspy.reset")
def reset(*, session: Session) -> Dict[str, Any]:
    programs = _programs(session)
    count = len(programs)
    programs.clear()
    return {"deleted": count}
