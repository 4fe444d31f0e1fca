"""A bounded, side-effect-aware snapshot of any Python value as JSON-safe data.

Local variables and ``extra`` values are arbitrary user objects. Their
``repr()`` may raise, return garbage, run a database query or block, so this
module walks builtins and containers directly (within a depth and a breadth
limit) and only calls user code (``__tripwire_repr__``, the ``custom_repr``
option, ``repr()``) for everything else, under a per-event time budget.

Trims are not lost: a trimmed string, dict or list comes back as a
:class:`NotedStr`, :class:`NotedDict` or :class:`NotedList`, which encode as
plain JSON but carry the Relay-style ``_meta`` entry for that node
(``{"len": original_length}``, ``rem`` remarks). The finalizer collects them
into the event's ``_meta`` on the worker thread.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Dict, Iterable, List, Optional

from ._typing import TypeAlias

Meta: TypeAlias = Dict[str, object]
"""The Relay metadata of one node: ``len``, ``rem`` (remarks)."""

CustomRepr: TypeAlias = Callable[[object], Optional[str]]

#: Characters kept from ``repr()`` of an unknown object when ``max_value_length``
#: is unset: the object's own repr has no natural bound.
REPR_MAX_LENGTH = 1024
#: Bytes decoded from a ``bytes`` value when ``max_value_length`` is unset.
BYTES_MAX_LENGTH = 16 * 1024

BUDGET_PLACEHOLDER = "<repr skipped: time budget exhausted>"
RECURSION_PLACEHOLDER = "<recursion>"
FAILED_PLACEHOLDER = "<snapshot failed>"

_INT_MIN = -(2**63)
# Returned by a hook that answered None: use the default representation.
_DECLINED = object()
_INT_MAX = 2**64 - 1


class NotedStr(str):
    """A string that was cut or substituted; ``meta`` says how (Relay ``_meta``)."""

    meta: Meta


class NotedDict(Dict[str, object]):
    """A mapping that was trimmed; ``meta`` says how (Relay ``_meta``)."""

    __slots__ = ("meta",)
    meta: Meta


class NotedList(List[object]):
    """A sequence that was trimmed; ``meta`` says how (Relay ``_meta``)."""

    __slots__ = ("meta",)
    meta: Meta


# How a type is represented, decided once per type (the isinstance chain and
# the failed attribute lookups cost more than the walk of a small value).
_HOOK, _SEQUENCE, _MAPPING, _STR, _NOTED, _BYTES, _FLOAT, _ARRAY, _OBJECT = range(9)
_kinds: dict[type, int] = {}
_KINDS_SIZE = 2048


def _kind_of(cls: type) -> int:
    if getattr(cls, "__tripwire_repr__", None) is not None:
        kind = _HOOK
    elif issubclass(cls, (NotedStr, NotedDict, NotedList)):
        kind = _NOTED
    elif issubclass(cls, str):
        kind = _STR
    elif issubclass(cls, (bytes, bytearray, memoryview)):
        kind = _BYTES
    elif issubclass(cls, dict):
        kind = _MAPPING
    elif issubclass(cls, (list, tuple, set, frozenset, deque)):
        kind = _SEQUENCE
    elif issubclass(cls, float):
        kind = _FLOAT
    elif hasattr(cls, "dtype") and hasattr(cls, "shape"):
        kind = _ARRAY
    else:
        kind = _OBJECT
    if len(_kinds) >= _KINDS_SIZE:
        _kinds.clear()
    _kinds[cls] = kind
    return kind


def noted_str(text: str, meta: Meta) -> NotedStr:
    """``text`` carrying ``meta`` for the event's ``_meta``."""
    noted = NotedStr(text)
    noted.meta = meta
    return noted


def cut_text(text: str, max_length: int) -> str:
    """``text`` cut to ``max_length`` characters (ending in ``...``), with a note when cut."""
    length = len(text)
    if length <= max_length:
        return text
    keep = max(max_length - 3, 0)
    return noted_str(
        text[:keep] + "..."[: max_length - keep],
        {"len": length, "rem": [["!limit", "s", keep, max_length]]},
    )


class ReprBudget:
    """Seconds an event may still spend in user code (``repr()``, hooks) while snapshotting.

    One budget is shared by every value of an event, so a slow ``__repr__`` on
    one local cannot stall the caller for each frame in turn.
    """

    __slots__ = ("remaining",)

    def __init__(self, seconds: float) -> None:
        self.remaining = seconds

    @property
    def exhausted(self) -> bool:
        """True once the budget has been spent."""
        return self.remaining <= 0.0

    def spend(self, seconds: float) -> None:
        """Charge ``seconds`` to the budget."""
        self.remaining -= seconds


def _type_name(cls: type) -> str:
    try:
        return str(cls.__qualname__)
    except Exception:
        return "object"


class Snapshotter:
    """Walks values into JSON-safe data; one instance serves a whole event.

    ``depth`` counts container levels (the outermost container is level 1);
    a container beyond it becomes a short summary such as ``"<dict: 3 items>"``.
    """

    __slots__ = ("_active", "breadth", "budget", "custom_repr", "max_length", "repr_length")

    def __init__(
        self,
        *,
        breadth: int = 10,
        max_length: int | None = None,
        budget: ReprBudget | None = None,
        custom_repr: CustomRepr | None = None,
    ) -> None:
        self.breadth = breadth
        self.max_length = max_length
        self.repr_length = REPR_MAX_LENGTH if max_length is None else max_length
        self.budget = budget
        self.custom_repr = custom_repr
        self._active: set[int] = set()

    def snapshot(self, value: object, depth: int = 5) -> object:
        """``value`` as JSON-safe data; never raises."""
        try:
            return self._walk(value, depth)
        except Exception:
            return FAILED_PLACEHOLDER

    def snapshot_items(
        self, items: Iterable[tuple[object, object]], count: int, depth: int
    ) -> object:
        """A mapping given as ``(key, value)`` pairs (e.g. frame locals) as a JSON object."""
        try:
            return self._mapping(items, count, depth, None)
        except Exception:
            return FAILED_PLACEHOLDER

    # --- dispatch -------------------------------------------------------------------

    def _walk(self, value: object, depth: int) -> object:
        cls = type(value)
        if cls is str:
            return self._text(value)  # type: ignore[arg-type]
        if value is None or cls is bool:
            return value
        if cls is int:
            if _INT_MIN <= value <= _INT_MAX:  # type: ignore[operator]
                return value
            return self._big_int(value)  # type: ignore[arg-type]
        if cls is float:
            return value if math.isfinite(value) else repr(value)  # type: ignore[arg-type]
        if cls is dict:
            return self._dict(value, depth)  # type: ignore[arg-type]
        if cls is list or cls is tuple:
            return self._sequence(value, depth)  # type: ignore[arg-type]
        return self._other(value, cls, depth)

    def _other(self, value: object, cls: type, depth: int) -> object:
        kind = _kinds.get(cls)
        if kind is None:
            kind = _kind_of(cls)
        if kind == _HOOK:
            hook = getattr(cls, "__tripwire_repr__", None)
            shown = _DECLINED if hook is None else self._user_code(value, cls, depth, hook)
            if shown is not _DECLINED:
                return shown
            kind = _OBJECT
        if kind == _SEQUENCE:
            return self._sequence(value, depth)  # type: ignore[arg-type]
        if kind == _MAPPING:
            return self._dict(value, depth)  # type: ignore[arg-type]
        if kind == _STR:
            return self._text(str.__str__(value))
        if kind == _NOTED:
            return self._noted(value, depth)  # type: ignore[arg-type]
        if kind == _BYTES:
            return self._bytes(value)  # type: ignore[arg-type]
        if kind == _FLOAT:
            number = float.__float__(value)  # type: ignore[arg-type]
            return number if math.isfinite(number) else repr(number)
        if self.custom_repr is not None:
            shown = self._user_code(value, cls, depth, self.custom_repr)
            if shown is not _DECLINED:
                return shown
        if kind == _ARRAY:
            return self._array_like(value, cls, depth)
        return self._repr(value, cls)

    # --- builtins -------------------------------------------------------------------

    def _text(self, text: str) -> str:
        if self.max_length is not None and len(text) > self.max_length:
            return cut_text(text, self.max_length)
        return text

    def _big_int(self, value: int) -> str:
        try:
            return self._text(int.__repr__(value))
        except ValueError:
            # Python 3.11+ refuses to format ints past 4300 digits.
            return f"<int of {value.bit_length()} bits>"

    def _bytes(self, value: bytes | bytearray | memoryview) -> str:
        limit = BYTES_MAX_LENGTH if self.max_length is None else self.max_length
        raw = bytes(value[: limit * 4]) if len(value) > limit * 4 else bytes(value)
        text = raw.decode("utf-8", "replace")
        if len(text) > limit or len(raw) < len(value):
            cut = text[:limit]
            return noted_str(cut, {"len": len(value), "rem": [["!limit", "s", len(cut), len(cut)]]})
        return text

    def _enter(self, value: object) -> bool:
        key = id(value)
        if key in self._active:
            return False
        self._active.add(key)
        return True

    def _dict(self, value: dict[object, object], depth: int) -> object:
        count = dict.__len__(value)
        if depth <= 0:
            return f"<{_type_name(type(value))}: {count} items>"
        if not self._enter(value):
            return RECURSION_PLACEHOLDER
        try:
            return self._mapping(dict.items(value), count, depth, None)
        finally:
            self._active.discard(id(value))

    def _mapping(
        self,
        items: Iterable[tuple[object, object]],
        count: int,
        depth: int,
        meta: Meta | None,
    ) -> dict[str, object]:
        out: dict[str, object] = NotedDict() if count > self.breadth or meta else {}
        left = self.breadth
        limit = self.max_length
        for key, raw in items:
            if left <= 0:
                break
            left -= 1
            cls = type(raw)
            item = raw
            if not (
                (cls is str and (limit is None or len(raw) <= limit))  # type: ignore[arg-type]
                or raw is None
                or cls is bool
                or (cls is int and _INT_MIN <= raw <= _INT_MAX)  # type: ignore[operator]
            ):
                item = self._walk(raw, depth - 1)
            out[key if type(key) is str else self.key(key)] = item
        if type(out) is NotedDict:
            out.meta = dict(meta) if meta else {}
            if count > self.breadth:
                out.meta["len"] = count
        return out

    def key(self, key: object) -> str:
        """A dict key as a JSON object key: strings as they are, anything else its repr."""
        if isinstance(key, str):
            return str.__str__(key)
        if key is None or isinstance(key, (bool, int, float)):
            return repr(key)
        return self._repr(key, type(key))

    def _sequence(self, value: Iterable[object], depth: int, meta: Meta | None = None) -> object:
        count = len(value)  # type: ignore[arg-type]
        if depth <= 0:
            return f"<{_type_name(type(value))}: {count} items>"
        if not self._enter(value):
            return RECURSION_PLACEHOLDER
        try:
            out: list[object] = NotedList() if count > self.breadth or meta else []
            left = self.breadth
            limit = self.max_length
            for raw in value:
                if left <= 0:
                    break
                left -= 1
                cls = type(raw)
                item = raw
                if not (
                    (cls is str and (limit is None or len(raw) <= limit))  # type: ignore[arg-type]
                    or raw is None
                    or cls is bool
                    or (cls is int and _INT_MIN <= raw <= _INT_MAX)  # type: ignore[operator]
                ):
                    item = self._walk(raw, depth - 1)
                out.append(item)
        finally:
            self._active.discard(id(value))
        if type(out) is NotedList:
            out.meta = dict(meta) if meta else {}
            if count > self.breadth:
                out.meta["len"] = count
        return out

    def _noted(self, value: NotedStr | NotedDict | NotedList, depth: int) -> object:
        meta = getattr(value, "meta", None) or {}
        if isinstance(value, NotedStr):
            return noted_str(str.__str__(value), dict(meta))
        if isinstance(value, NotedDict):
            if depth <= 0 or not self._enter(value):
                return RECURSION_PLACEHOLDER if depth > 0 else f"<dict: {len(value)} items>"
            try:
                return self._mapping(value.items(), len(value), depth, meta)
            finally:
                self._active.discard(id(value))
        return self._sequence(value, depth, meta)

    # --- user code ------------------------------------------------------------------

    def _user_code(
        self, value: object, cls: type, depth: int, func: Callable[[object], object]
    ) -> object:
        budget = self.budget
        if budget is not None and budget.exhausted:
            return BUDGET_PLACEHOLDER
        start = time.perf_counter()
        try:
            result = func(value)
        except Exception as exc:
            return f"<{_type_name(cls)}: custom repr failed: {_type_name(type(exc))}>"
        finally:
            if budget is not None:
                budget.spend(time.perf_counter() - start)
        if result is None:
            return _DECLINED
        if type(result) is str:
            return cut_text(result, self.repr_length)
        return self._walk(result, depth - 1)

    def _array_like(self, value: object, cls: type, depth: int) -> object:
        try:
            if value.shape == ():  # type: ignore[attr-defined]
                item = value.item()  # type: ignore[attr-defined]
                if item is None or type(item) in (bool, int, float, str, complex):
                    return self._walk(item if type(item) is not complex else repr(item), depth)
        except Exception:
            pass
        # numpy, pandas and torch summarise large arrays in their own repr.
        return self._repr(value, cls)

    def _repr(self, value: object, cls: type) -> str:
        budget = self.budget
        if budget is not None and budget.exhausted:
            return BUDGET_PLACEHOLDER
        start = time.perf_counter()
        try:
            text = repr(value)
            if type(text) is not str:
                text = str.__str__(text)
        except Exception as exc:
            return f"<{_type_name(cls)}: repr failed: {_type_name(type(exc))}>"
        finally:
            if budget is not None:
                budget.spend(time.perf_counter() - start)
        return cut_text(text, self.repr_length)


def snapshot(
    value: object,
    *,
    depth: int = 5,
    breadth: int = 10,
    max_length: int | None = None,
    budget: ReprBudget | None = None,
    custom_repr: CustomRepr | None = None,
) -> object:
    """``value`` as bounded JSON-safe data (see :class:`Snapshotter`); never raises."""
    walker = Snapshotter(
        breadth=breadth, max_length=max_length, budget=budget, custom_repr=custom_repr
    )
    return walker.snapshot(value, depth)
