"""Exceptions and stacks as the ``exception`` and ``stacktrace`` payload interfaces.

Two halves, split by thread. :func:`exception_values` and :func:`current_stack`
run on the caller's thread and do only what needs the live frames: walk the
traceback, read each frame's code and locals, snapshot the locals. They keep no
reference to a frame, traceback or local once they return. Source context
lines are read later, on the worker, by :func:`fill_context_lines`.
"""

from __future__ import annotations

import builtins
import importlib
import linecache
import os
import sys
import threading
from collections import deque
from itertools import islice
from types import CodeType, FrameType, TracebackType
from typing import Dict, List, Optional, Tuple

from ._options import Options
from ._serialize import ReprBudget, Snapshotter, cut_text
from ._typing import TypeAlias

Frame: TypeAlias = Dict[str, object]

#: Exceptions reported per event (chain links plus group members); the rest of
#: a longer chain is cut, the exceptions nearest the raised one kept.
MAX_EXCEPTIONS = 32
#: Depth and breadth of each frame's ``vars``, as sentry_sdk.
VARS_DEPTH = 5
VARS_BREADTH = 10
#: Context lines read before and after the current line.
CONTEXT_LINES = 5
#: Characters kept per source line (minified or generated code can be huge).
MAX_LINE_LENGTH = 1000
#: Source files bigger than this are not read for context lines.
MAX_SOURCE_BYTES = 8 * 1024 * 1024

_HAS_QUALNAME = sys.version_info >= (3, 11)

# BaseExceptionGroup is builtin on 3.11+; before, the ``exceptiongroup`` backport
# provides it when installed.
_BaseGroup: Optional[type] = getattr(builtins, "BaseExceptionGroup", None)
if _BaseGroup is None:  # pragma: no cover - exercised on 3.9/3.10 only
    try:
        _BaseGroup = importlib.import_module("exceptiongroup").BaseExceptionGroup
    except (ImportError, AttributeError):
        _BaseGroup = None

_FileInfo: TypeAlias = Tuple[str, str, bool]
# (co_filename, module) -> (abs_path, filename, in_app by location). Bounded:
# cleared when full, since code objects of a long-running process are finite.
_file_cache: dict[tuple[str, object], _FileInfo] = {}
_FILE_CACHE_SIZE = 4096
# (code, instruction offset) -> column: decoding co_positions() costs ~10 us a
# frame, and the same raise sites are captured again and again.
_colno_cache: dict[tuple[int, int], tuple[CodeType, int | None]] = {}
_SEPS = ("/", "\\") if os.altsep or os.sep == "\\" else ("/",)
_stdlib_dirs: tuple[str, ...] | None = None


# --- per-frame facts ----------------------------------------------------------------


def _library_dirs() -> tuple[str, ...]:
    global _stdlib_dirs
    if _stdlib_dirs is None:
        stdlib = os.path.dirname(os.path.abspath(os.__file__))
        _stdlib_dirs = (stdlib + os.sep,)
    return _stdlib_dirs


def _is_library_path(abs_path: str) -> bool:
    if "site-packages" in abs_path or "dist-packages" in abs_path:
        return True
    return abs_path.startswith(_library_dirs())


def _relative_filename(abs_path: str, module: object) -> str:
    """``abs_path`` relative to the ``sys.path`` entry its module was imported from."""
    parts_path = abs_path.replace("\\", "/").split("/") if len(_SEPS) > 1 else abs_path.split("/")
    if isinstance(module, str) and module and module != "__main__":
        parts = module.split(".")
        base = parts_path[-1]
        count = len(parts) + (1 if base.startswith("__init__.") else 0)
        if len(parts_path) > count:
            tail = parts_path[-count:]
            stem = tail[-1].split(".", 1)[0]
            expected_dirs = parts if count > len(parts) else parts[:-1]
            expected_stem = "__init__" if count > len(parts) else parts[-1]
            if tail[:-1] == expected_dirs and stem == expected_stem:
                return "/".join(tail)
    best = ""
    for entry in sys.path:
        if not isinstance(entry, str) or not entry:
            continue
        prefix = entry.rstrip("/\\") + os.sep
        if abs_path.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if best:
        return abs_path[len(best) :].replace("\\", "/")
    return abs_path


def _file_info(co_filename: str, module: object) -> _FileInfo:
    key = (co_filename, module)
    info = _file_cache.get(key)
    if info is not None:
        return info
    if co_filename.startswith("<") and co_filename.endswith(">"):
        # "<string>", "<stdin>", "<frozen importlib._bootstrap>": no file to point at.
        info = (co_filename, co_filename, not co_filename.startswith("<frozen"))
    else:
        abs_path = os.path.abspath(co_filename)
        info = (abs_path, _relative_filename(abs_path, module), not _is_library_path(abs_path))
    if isinstance(module, str) and (module == "tripwire" or module.startswith("tripwire.")):
        info = (info[0], info[1], False)
    if len(_file_cache) >= _FILE_CACHE_SIZE:
        _file_cache.clear()
    _file_cache[key] = info
    return info


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _colno(code: CodeType, lasti: int) -> int | None:
    # Keyed by id(): hashing a code object hashes its bytecode. The entry holds
    # the code object itself, so an id reused after garbage collection misses.
    entry = _colno_cache.get((id(code), lasti))
    if entry is not None and entry[0] is code:
        return entry[1]
    colno = None
    if lasti >= 0:
        try:
            col = next(islice(code.co_positions(), lasti // 2, None))[2]
            colno = None if col is None else col + 1
        except (StopIteration, ValueError):
            pass
    if len(_colno_cache) >= _FILE_CACHE_SIZE:
        _colno_cache.clear()
    _colno_cache[(id(code), lasti)] = (code, colno)
    return colno


class _FrameReader:
    """Turns live frames into frame payloads; one per captured event."""

    __slots__ = ("exclude", "include", "walker")

    def __init__(self, options: Options, budget: ReprBudget | None) -> None:
        self.include = options.in_app_include
        self.exclude = options.in_app_exclude
        self.walker: Snapshotter | None = None
        if options.include_local_variables:
            self.walker = Snapshotter(
                breadth=VARS_BREADTH,
                max_length=options.max_value_length,
                budget=budget if budget is not None else ReprBudget(options.repr_time_budget),
                custom_repr=options.custom_repr,
            )

    def frame(self, frame: FrameType, lineno: int | None, lasti: int) -> Frame:
        code = frame.f_code
        module = frame.f_globals.get("__name__")
        info = _file_cache.get((code.co_filename, module))
        abs_path, filename, in_app = info or _file_info(code.co_filename, module)
        out: Frame = {
            "filename": filename,
            "abs_path": abs_path,
            "function": code.co_qualname if _HAS_QUALNAME else code.co_name,
        }
        if isinstance(module, str):
            out["module"] = module
            if self.include and _matches(module, self.include):
                in_app = True
            elif self.exclude and _matches(module, self.exclude):
                in_app = False
        out["in_app"] = in_app
        if isinstance(lineno, int) and lineno > 0:
            out["lineno"] = lineno
            if _HAS_QUALNAME:
                colno = _colno(code, lasti)
                if colno is not None:
                    out["colno"] = colno
        walker = self.walker
        if walker is not None:
            local_vars = frame.f_locals
            if code.co_name == "<module>":
                # Module frames' locals are the globals: skip the dunder noise.
                items = [
                    (k, v)
                    for k, v in local_vars.items()
                    if not (isinstance(k, str) and k.startswith("__"))
                ]
                out["vars"] = walker.snapshot_items(items, len(items), VARS_DEPTH)
            else:
                out["vars"] = walker.snapshot_items(local_vars.items(), len(local_vars), VARS_DEPTH)
        return out


def _limits(total: int, limit: int) -> tuple[int, int]:
    """Frames kept at the oldest end and at the newest end of a stack of ``total``."""
    if total <= limit:
        return total, 0
    if limit <= 0:
        return 0, 0
    head = limit // 2
    return head, limit - head


def _stacktrace(frames: list[Frame], total: int, head: int) -> dict[str, object]:
    trace: dict[str, object] = {"frames": frames}
    if len(frames) < total:
        # 1-based [start, end) of the frames left out, as the protocol defines it.
        trace["frames_omitted"] = [head + 1, total - (len(frames) - head) + 1]
    return trace


def _traceback_frames(
    tb: TracebackType | None, reader: _FrameReader, limit: int
) -> dict[str, object] | None:
    if tb is None or limit <= 0:
        return None
    kept: list[TracebackType] = []
    while tb is not None and len(kept) < limit:
        kept.append(tb)
        tb = tb.tb_next
    total = len(kept)
    head = total
    if tb is not None:
        # Deeper than the limit: keep both ends and only count the middle.
        head, tail_size = _limits(limit + 1, limit)
        tail: deque[TracebackType] = deque(kept[head:], maxlen=tail_size)
        while tb is not None:
            tail.append(tb)
            tb = tb.tb_next
            total += 1
        kept = kept[:head] + list(tail)
        del tail
    frames = [reader.frame(t.tb_frame, t.tb_lineno, t.tb_lasti) for t in kept]
    del kept
    return _stacktrace(frames, total, head)


# --- exceptions ---------------------------------------------------------------------


def _type_module(cls: type) -> str | None:
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or module in ("builtins", "__builtin__", "exceptions"):
        return None
    return module


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = f"<{type(exc).__name__}: str() failed>"
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, (list, tuple)) and notes:
        lines = [n if isinstance(n, str) else "<note>" for n in notes]
        text = "\n".join([text, *lines]) if text else "\n".join(lines)
    return text


def _members(exc: BaseException) -> tuple[BaseException, ...]:
    if _BaseGroup is None or not isinstance(exc, _BaseGroup):
        return ()
    members = getattr(exc, "exceptions", ())
    return tuple(m for m in members if isinstance(m, BaseException))


def exception_values(
    exc: BaseException,
    options: Options,
    *,
    mechanism_type: str = "generic",
    handled: bool = True,
    budget: ReprBudget | None = None,
) -> list[dict[str, object]]:
    """The ``exception.values`` list for ``exc``: its chain and groups, oldest first.

    The raised exception is last and has ``mechanism.exception_id`` 0; every
    other value names its ``parent_id`` and how it hangs off it (``source``:
    ``__cause__``, ``__context__`` or ``exceptions[i]``).
    """
    reader = _FrameReader(options, budget)
    limit = options.max_stack_frames
    values: list[dict[str, object]] = []
    seen: set[int] = set()
    pending: list[tuple[BaseException, int | None, str | None]] = [(exc, None, None)]
    while pending and len(values) < MAX_EXCEPTIONS:
        error, parent_id, source = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        exception_id = len(values)
        cls = type(error)
        mechanism: dict[str, object] = {
            "type": mechanism_type if parent_id is None else "chained",
            "handled": handled,
            "exception_id": exception_id,
        }
        if parent_id is not None:
            mechanism["parent_id"] = parent_id
            mechanism["source"] = source
        members = _members(error)
        if _BaseGroup is not None and isinstance(error, _BaseGroup):
            mechanism["is_exception_group"] = True
        errno = getattr(error, "errno", None) if isinstance(error, OSError) else None
        if type(errno) is int:
            mechanism["meta"] = {"errno": {"number": errno}}
        value: dict[str, object] = {
            "type": getattr(cls, "__qualname__", cls.__name__),
            "value": _message(error),
            "mechanism": mechanism,
        }
        module = _type_module(cls)
        if module is not None:
            value["module"] = module
        trace = _traceback_frames(error.__traceback__, reader, limit)
        if trace is not None:
            value["stacktrace"] = trace
        values.append(value)

        children: list[tuple[BaseException, int | None, str | None]] = []
        cause = error.__cause__
        if cause is not None:
            children.append((cause, exception_id, "__cause__"))
        elif not error.__suppress_context__ and error.__context__ is not None:
            children.append((error.__context__, exception_id, "__context__"))
        for index, member in enumerate(members):
            children.append((member, exception_id, f"exceptions[{index}]"))
        pending.extend(reversed(children))
        del error, cause, members, children
    del pending
    values.reverse()
    return values


def _is_own(frame: FrameType) -> bool:
    module = frame.f_globals.get("__name__")
    return isinstance(module, str) and (module == "tripwire" or module.startswith("tripwire."))


def current_stack(options: Options, *, skip: int = 0) -> dict[str, object]:
    """The calling thread's stack as a ``stacktrace`` payload, oldest frame first.

    ``skip`` frames above the caller are left out, and so are tripwire's own
    frames at the top of the stack.
    """
    reader = _FrameReader(options, None)
    newest_first: list[FrameType] = []
    frame: FrameType | None = sys._getframe(1 + max(skip, 0))
    while frame is not None:
        newest_first.append(frame)
        frame = frame.f_back
    start = 0
    while start < len(newest_first) - 1 and _is_own(newest_first[start]):
        start += 1
    stack = newest_first[start:][::-1]
    del newest_first, frame
    total = len(stack)
    head, tail = _limits(total, max(options.max_stack_frames, 0))
    if head + tail < total:
        stack = stack[:head] + stack[total - tail :]
    frames = [reader.frame(f, f.f_lineno, f.f_lasti) for f in stack]
    del stack
    return _stacktrace(frames, total, head)


# --- context lines (worker thread) --------------------------------------------------


def _source_lines(path: str, cache: dict[str, list[str]]) -> list[str]:
    lines = cache.get(path)
    if lines is not None:
        return lines
    lines = []
    try:
        if path not in linecache.cache and os.stat(path).st_size > MAX_SOURCE_BYTES:
            cache[path] = lines
            return lines
        lines = linecache.getlines(path)
    except Exception:
        lines = []
    cache[path] = lines
    return lines


def _line(text: str) -> str:
    return cut_text(text.rstrip("\r\n"), MAX_LINE_LENGTH)


def _frames_of(event: dict[str, object]) -> List[object]:
    found: list[object] = []
    containers: list[object] = []
    exception = event.get("exception")
    if isinstance(exception, dict):
        containers.extend(exception.get("values") or ())
    threads = event.get("threads")
    if isinstance(threads, dict):
        containers.extend(threads.get("values") or ())
    containers.append(event)
    for holder in containers:
        if isinstance(holder, dict):
            trace = holder.get("stacktrace")
            if isinstance(trace, dict) and isinstance(trace.get("frames"), list):
                found.extend(trace["frames"])
    return found


def fill_context_lines(event: dict[str, object]) -> None:
    """Add ``context_line``, ``pre_context`` and ``post_context`` to the event's frames.

    Only frames with an ``abs_path`` and ``lineno`` and no ``context_line`` yet;
    unreadable, missing or binary files are skipped. Never raises.
    """
    try:
        cache: dict[str, list[str]] = {}
        for frame in _frames_of(event):
            if not isinstance(frame, dict) or "context_line" in frame:
                continue
            path = frame.get("abs_path")
            lineno = frame.get("lineno")
            if not isinstance(path, str) or type(lineno) is not int or lineno < 1:
                continue
            if path.startswith("<"):
                continue
            lines = _source_lines(path, cache)
            index = lineno - 1
            if index >= len(lines):
                continue
            frame["context_line"] = _line(lines[index])
            frame["pre_context"] = [_line(x) for x in lines[max(0, index - CONTEXT_LINES) : index]]
            frame["post_context"] = [_line(x) for x in lines[index + 1 : index + 1 + CONTEXT_LINES]]
    except Exception:
        # Context lines are a nicety: never let them cost the event.
        return


def current_thread(options: Options, *, skip: int = 0) -> dict[str, object]:
    """The ``threads`` interface value of the calling thread, with its stack."""
    thread = threading.current_thread()
    return {
        "id": thread.ident,
        "name": thread.name,
        "current": True,
        "main": thread is threading.main_thread(),
        "stacktrace": current_stack(options, skip=skip + 1),
    }
