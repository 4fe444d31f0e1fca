"""Fitting an encoded event under Relay's size limit, and the ``_meta`` trees that record it.

The order of what goes first when an event is too big: the locals of the frames
farthest from the crash, breadcrumb data, the oldest breadcrumbs, ``extra``
values (largest first), then any long string. Every trim is noted in ``_meta``
at the path of the value, the way Relay writes it.
"""

from __future__ import annotations

import json
from typing import Dict, Tuple

from ._protocol import Event
from ._serialize import Meta, cut_text

#: Relay refuses events whose JSON is larger than this.
MAX_EVENT_BYTES = 1_000_000
#: Nesting deeper than this is replaced (Relay's JSON parser stops at 128 levels).
MAX_NESTING = 64
#: A string longer than this may be cut when the event is too big.
LONG_STRING = 1024

_REMOVED: Meta = {"rem": [["!limit", "x"]]}
MetaTree = Dict[str, object]
_Path = Tuple[str, ...]


def dumps(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Lone surrogates cannot be UTF-8; they become "?" rather than fail the event.
    return text.encode("utf-8", "replace")


# --- meta trees ---------------------------------------------------------------------


def merge_meta(into: MetaTree, other: MetaTree) -> None:
    for key, value in other.items():
        if not isinstance(value, dict):
            continue
        mine = into.get(key)
        if not isinstance(mine, dict):
            into[key] = value
        elif key == "":
            if "len" in value:
                mine.setdefault("len", value["len"])
            rems = list(mine.get("rem") or ())
            for rem in value.get("rem") or ():
                if rem not in rems:
                    rems.append(rem)
            if rems:
                mine["rem"] = rems
        else:
            merge_meta(mine, value)


def _note(tree: MetaTree, path: _Path, entry: Meta) -> None:
    node = tree
    for part in path:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    merge_meta(node, {"": dict(entry)})


def _drop_meta(tree: MetaTree, path: _Path) -> None:
    node: object = tree
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


# --- shrinking an event that is too big ---------------------------------------------


def _size(value: object) -> int:
    try:
        return len(dumps(value))
    except Exception:
        return 0


def _frames_by_distance(event: Event) -> list[tuple[_Path, dict[str, object]]]:
    """Frames with ``vars``, farthest from the crash first."""
    found: list[tuple[_Path, dict[str, object]]] = []
    for section in ("threads", "exception"):
        holder = event.get(section)
        values = holder.get("values") if isinstance(holder, dict) else None
        if not isinstance(values, list):
            continue
        for i, value in enumerate(values):
            trace = value.get("stacktrace") if isinstance(value, dict) else None
            frames = trace.get("frames") if isinstance(trace, dict) else None
            if not isinstance(frames, list):
                continue
            for j, frame in enumerate(frames):
                if isinstance(frame, dict) and frame.get("vars") is not None:
                    found.append(
                        ((section, "values", str(i), "stacktrace", "frames", str(j)), frame)
                    )
    return found


class _Shrinker:
    def __init__(self, event: Event, meta: MetaTree, size: int) -> None:
        self.event = event
        self.meta = meta
        self.size = size

    def fits(self) -> bool:
        return self.size <= MAX_EVENT_BYTES

    def _removed(self, path: _Path, holder: dict[str, object], key: str) -> None:
        # The member stays as null: Relay keeps a note only where the key exists.
        self.size -= _size(holder[key]) - 4
        holder[key] = None
        _drop_meta(self.meta, path)
        _note(self.meta, path, _REMOVED)

    def drop_vars(self) -> None:
        for path, frame in _frames_by_distance(self.event):
            if self.fits():
                return
            self._removed((*path, "vars"), frame, "vars")

    def drop_breadcrumb_data(self) -> None:
        crumbs = self.event.get("breadcrumbs")
        values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
        if not isinstance(values, list):
            return
        prefix: _Path = ("breadcrumbs", "values") if isinstance(crumbs, dict) else ("breadcrumbs",)
        for index, crumb in enumerate(values):
            if self.fits():
                return
            if isinstance(crumb, dict) and crumb.get("data") is not None:
                self._removed((*prefix, str(index), "data"), crumb, "data")
        original = len(values)
        while values and not self.fits():
            # Oldest breadcrumbs first, a quarter at a time.
            drop = max(1, len(values) // 4)
            for crumb in values[:drop]:
                self.size -= _size(crumb) + 1
            del values[:drop]
        if len(values) < original:
            # Per-crumb notes would now point at the wrong index.
            _drop_meta(self.meta, prefix)
            _note(self.meta, prefix, {"len": original})

    def drop_extra(self) -> None:
        extra = self.event.get("extra")
        if not isinstance(extra, dict):
            return
        by_size = sorted(extra, key=lambda k: _size(extra[k]), reverse=True)
        for key in by_size:
            if self.fits():
                return
            if extra[key] is not None:
                self._removed(("extra", key), extra, key)

    def cut_long_strings(self) -> None:
        found: list[tuple[int, object, object, _Path]] = []
        _long_strings(self.event, (), found, 0)
        found.sort(key=lambda entry: entry[0], reverse=True)
        for length, holder, key, path in found:
            if self.fits():
                return
            text = holder[key]  # type: ignore[index]
            holder[key] = cut_text(text, LONG_STRING)  # type: ignore[index]
            self.size -= length - LONG_STRING
            _note(
                self.meta,
                path,
                {"len": length, "rem": [["!limit", "s", LONG_STRING - 3, LONG_STRING]]},
            )


def _long_strings(
    node: object, path: _Path, found: list[tuple[int, object, object, _Path]], depth: int
) -> None:
    if depth > MAX_NESTING or path[:1] == ("_meta",):
        return
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if isinstance(value, str):
            if len(value) > LONG_STRING:
                found.append((len(value), node, key, (*path, str(key))))
        elif isinstance(value, (dict, list)):
            _long_strings(value, (*path, str(key)), found, depth + 1)


def shrink(event: Event, meta: MetaTree, data: bytes) -> bytes | None:
    shrinker = _Shrinker(event, meta, len(data))
    for step in (
        shrinker.drop_vars,
        shrinker.drop_breadcrumb_data,
        shrinker.drop_extra,
        shrinker.cut_long_strings,
    ):
        step()
        if shrinker.fits():
            set_meta(event, meta)
            data = dumps(event)
            if len(data) <= MAX_EVENT_BYTES:
                return data
            shrinker.size = len(data)
    return None


def set_meta(event: Event, meta: MetaTree) -> None:
    if meta:
        event["_meta"] = meta
    else:
        event.pop("_meta", None)
