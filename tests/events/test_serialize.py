"""The bounded snapshot of arbitrary values (``tripwire._serialize``)."""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque

from tripwire._serialize import (
    BUDGET_PLACEHOLDER,
    RECURSION_PLACEHOLDER,
    NotedDict,
    NotedList,
    NotedStr,
    ReprBudget,
    Snapshotter,
    cut_text,
    snapshot,
)


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


class NonStrRepr:
    def __repr__(self):  # type: ignore[no-untyped-def]
        return 42


class HookRepr:
    def __tripwire_repr__(self) -> str:
        return "hooked"


class HookDict:
    def __tripwire_repr__(self) -> object:
        return {"kind": "hook", "items": [1, 2]}


class HookDeclines:
    def __tripwire_repr__(self) -> None:
        return None

    def __repr__(self) -> str:
        return "plain-repr"


class SlowRepr:
    calls = 0

    def __repr__(self) -> str:
        SlowRepr.calls += 1
        time.sleep(0.02)
        return "slow"


class FakeArray:
    """Looks like numpy: dtype and shape on the type."""

    dtype = "float64"

    def __init__(self, shape: tuple[int, ...], value: float = 1.5) -> None:
        self._shape = shape
        self._value = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    def item(self) -> float:
        return self._value

    def __repr__(self) -> str:
        return f"FakeArray(shape={self.shape})"


def test_builtins_pass_through() -> None:
    """Strings, ints, bools, None and finite floats come back unchanged."""
    value = {"s": "x", "i": 3, "b": True, "n": None, "f": 1.5}
    assert snapshot(value) == value


def test_non_finite_floats_become_strings() -> None:
    """nan and infinities are not valid JSON, so they become their repr."""
    out = snapshot([float("nan"), float("inf"), float("-inf")])
    assert out == ["nan", "inf", "-inf"]
    json.dumps(out, allow_nan=False)


def test_huge_ints_become_strings() -> None:
    """Integers beyond 64 bits are sent as text rather than as lossy JSON numbers."""
    assert snapshot(2**70) == str(2**70)
    assert snapshot(2**63 - 1) == 2**63 - 1


def test_repr_that_raises_is_a_placeholder() -> None:
    """An object whose __repr__ raises yields a placeholder naming the type."""
    out = snapshot(BadRepr())
    assert isinstance(out, str)
    assert "BadRepr" in out and "RuntimeError" in out


def test_repr_returning_non_str_is_a_placeholder() -> None:
    """A __repr__ returning a non-string is handled like one that raises."""
    out = snapshot(NonStrRepr())
    assert isinstance(out, str) and "NonStrRepr" in out


def test_recursive_structures_terminate() -> None:
    """A container holding itself is cut with a recursion placeholder."""
    data: dict[str, object] = {"a": 1}
    data["self"] = data
    items: list[object] = [1]
    items.append(items)
    assert snapshot(data) == {"a": 1, "self": RECURSION_PLACEHOLDER}
    assert snapshot(items) == [1, RECURSION_PLACEHOLDER]


def test_bytes_decoded_with_replacement() -> None:
    """Bytes are decoded as UTF-8, invalid sequences replaced."""
    assert snapshot(b"ok\xff") == "ok\ufffd"
    assert snapshot(bytearray(b"ab")) == "ab"


def test_non_string_keys_become_strings() -> None:
    """Dict keys that are not strings are turned into their repr."""
    out = snapshot({1: "a", None: "b", (1, 2): "c"})
    assert out == {"1": "a", "None": "b", "(1, 2)": "c"}


def test_breadth_limit_records_original_length() -> None:
    """Containers longer than the breadth keep their first items and note the length."""
    out = snapshot(list(range(50)), breadth=10)
    assert out == list(range(10))
    assert isinstance(out, NotedList) and out.meta == {"len": 50}
    mapping = snapshot({str(i): i for i in range(20)}, breadth=5)
    assert isinstance(mapping, NotedDict) and len(mapping) == 5 and mapping.meta == {"len": 20}


def test_depth_limit_summarises_containers() -> None:
    """Containers nested deeper than the depth limit become a short summary."""
    deep = {"l1": {"l2": {"l3": {"l4": {"l5": {"l6": 1}}}}}}
    out = snapshot(deep, depth=5)
    assert out["l1"]["l2"]["l3"]["l4"] == {"l5": "<dict: 1 items>"}  # type: ignore[index]


def test_max_length_cuts_strings_with_meta() -> None:
    """Strings over max_length are cut, end in ..., and carry a Relay-style note."""
    out = snapshot("x" * 100, max_length=10)
    assert out == "x" * 7 + "..."
    assert isinstance(out, NotedStr)
    assert out.meta == {"len": 100, "rem": [["!limit", "s", 7, 10]]}


def test_repr_of_unknown_objects_is_cut() -> None:
    """The repr of an unknown object is cut at the length limit."""

    class Long:
        def __repr__(self) -> str:
            return "y" * 5000

    out = snapshot(Long(), max_length=50)
    assert isinstance(out, str) and len(out) == 50
    assert len(snapshot(Long())) == 1024  # type: ignore[arg-type]


def test_tripwire_repr_hook_is_used() -> None:
    """A __tripwire_repr__ on the type replaces the repr, and may return data."""
    assert snapshot(HookRepr()) == "hooked"
    assert snapshot(HookDict()) == {"kind": "hook", "items": [1, 2]}
    assert snapshot(HookDeclines()) == "plain-repr"


def test_custom_repr_callback_and_fallback() -> None:
    """custom_repr decides for unknown objects; None means the default repr."""

    class Secretive:
        def __repr__(self) -> str:
            return "default"

    def custom(value: object) -> str | None:
        return "custom!" if isinstance(value, Secretive) else None

    assert snapshot(Secretive(), custom_repr=custom) == "custom!"
    assert snapshot(HookDeclines(), custom_repr=custom) == "plain-repr"
    assert snapshot([1, "a"], custom_repr=custom) == [1, "a"]


def test_custom_repr_that_raises_is_contained() -> None:
    """A custom_repr that raises yields a placeholder, not an exception."""

    def custom(value: object) -> str:
        raise ValueError("bad")

    out = snapshot(object(), custom_repr=custom)
    assert isinstance(out, str) and "failed" in out


def test_time_budget_turns_later_reprs_into_placeholders() -> None:
    """Once the per-event repr budget is spent, unknown objects are not repr'd any more."""
    SlowRepr.calls = 0
    budget = ReprBudget(0.03)
    out = snapshot([SlowRepr() for _ in range(6)], budget=budget)
    assert SlowRepr.calls <= 3
    assert out[-1] == BUDGET_PLACEHOLDER  # type: ignore[index]
    assert budget.exhausted


def test_numpy_like_scalars_and_arrays() -> None:
    """Array-likes: 0-d ones become their item, others their (bounded) repr."""
    assert snapshot(FakeArray(())) == 1.5
    assert snapshot(FakeArray((3, 4))) == "FakeArray(shape=(3, 4))"


def test_other_containers_are_walked() -> None:
    """Sets, deques, tuples and dict subclasses are walked like lists and dicts."""
    assert sorted(snapshot({3, 1, 2})) == [1, 2, 3]  # type: ignore[type-var]
    assert snapshot(deque([1, 2])) == [1, 2]
    assert snapshot((1, "a")) == [1, "a"]
    assert snapshot(OrderedDict(a=1)) == {"a": 1}


def test_generators_are_not_consumed() -> None:
    """Iterators are shown by repr, never iterated (that would have side effects)."""
    consumed = []

    def gen():  # type: ignore[no-untyped-def]
        consumed.append(1)
        yield 1

    out = snapshot(gen())
    assert isinstance(out, str) and "generator" in out
    assert consumed == []


def test_snapshot_output_is_json() -> None:
    """Whatever goes in, the snapshot encodes as strict JSON."""
    value = {"a": [BadRepr(), b"\x00\xff", {1.5: float("nan")}], "b": object(), "c": {1, 2}}
    json.dumps(snapshot(value), allow_nan=False)


def test_noted_values_keep_their_meta_when_snapshotted_again() -> None:
    """Snapshotting an already trimmed value keeps its note."""
    first = snapshot(list(range(20)))
    again = Snapshotter().snapshot({"x": first})
    assert isinstance(again["x"], NotedList) and again["x"].meta == {"len": 20}  # type: ignore[index]


def test_cut_text_leaves_short_text_alone() -> None:
    """cut_text returns short strings unchanged (the same object)."""
    text = "short"
    assert cut_text(text, 10) is text
