"""Exceptions and stacks as payloads (``tripwire._stacktrace``)."""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import weakref

import pytest

from tripwire._options import Options
from tripwire._stacktrace import (
    MAX_EXCEPTIONS,
    current_stack,
    exception_values,
    fill_context_lines,
)

OPTIONS = Options()


def _with(**changes: object) -> Options:
    return dataclasses.replace(OPTIONS, **changes)  # type: ignore[arg-type]


def _caught(func) -> BaseException:  # type: ignore[no-untyped-def]
    try:
        func()
    except BaseException as exc:  # noqa: BLE001 - the tests inspect whatever was raised
        return exc
    raise AssertionError("nothing raised")


def _raise_value_error() -> None:
    local_number = 42
    local_text = "hello"
    raise ValueError(f"bad {local_number} {local_text}")


def _raise_chain() -> None:
    try:
        _raise_value_error()
    except ValueError as exc:
        raise RuntimeError("wrapped") from exc


def _raise_implicit() -> None:
    try:
        _raise_value_error()
    except ValueError:
        raise KeyError("during handling")  # noqa: B904 - an implicit __context__ is the point


def _raise_suppressed() -> None:
    try:
        _raise_value_error()
    except ValueError:
        raise KeyError("hidden") from None


def test_single_exception_shape() -> None:
    """One exception: type, value, no module for builtins, mechanism and frames."""
    [value] = exception_values(_caught(_raise_value_error), OPTIONS)
    assert value["type"] == "ValueError"
    assert value["value"] == "bad 42 hello"
    assert "module" not in value
    assert value["mechanism"] == {"type": "generic", "handled": True, "exception_id": 0}
    frames = value["stacktrace"]["frames"]  # type: ignore[index]
    assert [f["function"] for f in frames][-1].endswith("_raise_value_error")
    top = frames[-1]
    assert top["abs_path"] == os.path.abspath(__file__)
    assert top["module"] == __name__
    assert top["filename"].endswith("test_stacktrace.py")
    assert not os.path.isabs(top["filename"])
    assert isinstance(top["lineno"], int)
    assert top["vars"] == {"local_number": 42, "local_text": "hello"}
    assert "context_line" not in top


def test_mechanism_type_and_handled_are_passed_through() -> None:
    """The caller's mechanism type and handled flag land on the raised exception."""
    [value] = exception_values(
        _caught(_raise_value_error), OPTIONS, mechanism_type="excepthook", handled=False
    )
    assert value["mechanism"]["type"] == "excepthook"  # type: ignore[index]
    assert value["mechanism"]["handled"] is False  # type: ignore[index]


def test_explicit_chain_is_oldest_first() -> None:
    """raise ... from ...: the cause comes first, the raised exception last."""
    values = exception_values(_caught(_raise_chain), OPTIONS)
    assert [v["type"] for v in values] == ["ValueError", "RuntimeError"]
    cause = values[0]["mechanism"]
    assert cause["source"] == "__cause__" and cause["parent_id"] == 0  # type: ignore[index]
    assert cause["exception_id"] == 1 and cause["type"] == "chained"  # type: ignore[index]


def test_implicit_context_is_included() -> None:
    """An exception raised while handling another carries it as __context__."""
    values = exception_values(_caught(_raise_implicit), OPTIONS)
    assert [v["type"] for v in values] == ["ValueError", "KeyError"]
    assert values[0]["mechanism"]["source"] == "__context__"  # type: ignore[index]


def test_suppressed_context_is_left_out() -> None:
    """raise ... from None hides the context."""
    values = exception_values(_caught(_raise_suppressed), OPTIONS)
    assert [v["type"] for v in values] == ["KeyError"]


def test_cycles_in_the_chain_terminate() -> None:
    """Two exceptions that are each other's context are each reported once."""
    first, second = ValueError("a"), KeyError("b")
    first.__context__ = second
    second.__context__ = first
    values = exception_values(first, OPTIONS)
    assert [v["type"] for v in values] == ["KeyError", "ValueError"]


def test_long_chains_are_cut() -> None:
    """A chain longer than the limit keeps the exceptions nearest the raised one."""
    exc: BaseException = ValueError("0")
    for i in range(1, 100):
        new = ValueError(str(i))
        new.__cause__ = exc
        exc = new
    values = exception_values(exc, OPTIONS)
    assert len(values) == MAX_EXCEPTIONS
    assert values[-1]["value"] == "99"


def test_module_of_non_builtin_exception() -> None:
    """The module of an exception type defined outside builtins is sent."""

    class Custom(Exception):
        pass

    [value] = exception_values(Custom("x"), OPTIONS)
    assert value["module"] == __name__
    assert value["type"].endswith("Custom")  # type: ignore[union-attr]


def test_exception_without_traceback_has_no_stacktrace() -> None:
    """An exception that was never raised has no stacktrace key."""
    [value] = exception_values(ValueError("never raised"), OPTIONS)
    assert "stacktrace" not in value


def test_oserror_errno_in_mechanism_meta() -> None:
    """OSError's errno is reported in mechanism.meta."""
    [value] = exception_values(FileNotFoundError(2, "missing"), OPTIONS)
    assert value["mechanism"]["meta"] == {"errno": {"number": 2}}  # type: ignore[index]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="notes and groups are 3.11+ builtins")
def test_exception_notes_are_appended() -> None:
    """add_note() text follows the message."""
    exc = ValueError("msg")
    exc.add_note("more context")
    [value] = exception_values(exc, OPTIONS)
    assert value["value"] == "msg\nmore context"


def _group() -> BaseException:
    if sys.version_info >= (3, 11):
        group_type = ExceptionGroup  # noqa: F821
    else:  # pragma: no cover
        group_type = pytest.importorskip("exceptiongroup").ExceptionGroup

    def raise_group() -> None:
        inner = group_type("inner", [KeyError("k")])
        raise group_type("outer", [ValueError("v"), inner])

    return _caught(raise_group)


def test_exception_groups_are_flattened_with_their_tree() -> None:
    """Group members follow the group with exception_id/parent_id/source naming the tree."""
    values = exception_values(_group(), OPTIONS)
    by_id = {v["mechanism"]["exception_id"]: v for v in values}  # type: ignore[index]
    root = values[-1]
    assert root["mechanism"]["exception_id"] == 0  # type: ignore[index]
    assert root["mechanism"]["is_exception_group"] is True  # type: ignore[index]
    assert len(values) == 4
    children = {
        v["type"]: (v["mechanism"]["parent_id"], v["mechanism"]["source"])  # type: ignore[index]
        for v in values[:-1]
    }
    assert children["ValueError"] == (0, "exceptions[0]")
    inner_id = children["KeyError"][0]
    assert by_id[inner_id]["mechanism"]["source"] == "exceptions[1]"  # type: ignore[index]
    assert by_id[inner_id]["mechanism"]["is_exception_group"] is True  # type: ignore[index]


def test_locals_off_means_no_vars() -> None:
    """include_local_variables=False sends no vars."""
    [value] = exception_values(_caught(_raise_value_error), _with(include_local_variables=False))
    assert all("vars" not in f for f in value["stacktrace"]["frames"])  # type: ignore[index]


def test_in_app_defaults_and_options() -> None:
    """Library frames are not in_app; in_app_include/exclude override by module prefix."""

    def call_json() -> None:
        import json

        json.loads("{bad")

    exc = _caught(call_json)
    frames = exception_values(exc, OPTIONS)[-1]["stacktrace"]["frames"]  # type: ignore[index]
    mine = [f for f in frames if f.get("module") == __name__]
    stdlib = [f for f in frames if str(f.get("module", "")).startswith("json")]
    assert mine and all(f["in_app"] for f in mine)
    assert stdlib and not any(f["in_app"] for f in stdlib)

    frames = exception_values(exc, _with(in_app_include=("json",), in_app_exclude=(__name__,)))[-1][
        "stacktrace"
    ]["frames"]  # type: ignore[index]
    assert all(f["in_app"] for f in frames if str(f.get("module", "")).startswith("json"))
    assert not any(f["in_app"] for f in frames if f.get("module") == __name__)


def _recurse(n: int) -> int:
    return _recurse(n + 1)


def test_deep_stack_keeps_both_ends_and_marks_omission() -> None:
    """A stack deeper than max_stack_frames keeps the ends and sets 1-based frames_omitted."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(3000)
    try:
        exc = _caught(lambda: _recurse(0))
    finally:
        sys.setrecursionlimit(limit)
    total = 0
    tb = exc.__traceback__
    while tb is not None:
        total += 1
        tb = tb.tb_next
    [value] = exception_values(exc, _with(max_stack_frames=20))
    trace = value["stacktrace"]
    frames = trace["frames"]  # type: ignore[index]
    assert len(frames) == 20
    assert trace["frames_omitted"] == [11, total - 10 + 1]  # type: ignore[index]
    assert frames[0]["function"].endswith("_caught")
    assert frames[-1]["function"].endswith("_recurse")


class _CountingRepr:
    calls = 0

    def __repr__(self) -> str:
        _CountingRepr.calls += 1
        return "counted"


def _recurse_with(n: int, marker: _CountingRepr) -> int:
    return _recurse_with(n + 1, marker)


def test_recursion_error_only_reads_kept_frames() -> None:
    """A RecursionError thousands of frames deep snapshots only the frames it keeps."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        exc = _caught(lambda: _recurse_with(0, _CountingRepr()))
    finally:
        sys.setrecursionlimit(limit)
    _CountingRepr.calls = 0
    [value] = exception_values(exc, OPTIONS)
    frames = value["stacktrace"]["frames"]  # type: ignore[index]
    assert len(frames) == 100
    assert value["stacktrace"]["frames_omitted"][1] > 9000  # type: ignore[index]
    assert 0 < _CountingRepr.calls <= 100


def test_no_frame_or_local_is_kept_alive() -> None:
    """After exception_values returns, the traceback's frames and locals can be collected."""

    class Marker:
        pass

    class Boom(Exception):
        pass

    def raiser() -> None:
        marker = Marker()  # noqa: F841 - a local that must not outlive the capture
        raise Boom("x")

    exc = _caught(raiser)
    tb = exc.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    # Frames and tracebacks refuse weak references; the frame owns the local,
    # so the local dying proves the frame died.
    marker_ref = weakref.ref(tb.tb_frame.f_locals["marker"])
    exc_ref = weakref.ref(exc)
    values = exception_values(exc, OPTIONS)
    del exc, tb
    gc.collect()
    assert values[-1]["stacktrace"]["frames"][-1]["vars"]["marker"].startswith("<")  # type: ignore[index]
    assert exc_ref() is None
    assert marker_ref() is None


def test_current_stack_of_calling_thread() -> None:
    """current_stack lists the caller's frames oldest first, the caller last."""

    def here() -> dict[str, object]:
        marker_local = "present"  # noqa: F841
        return current_stack(OPTIONS)

    trace = here()
    frames = trace["frames"]
    assert frames[-1]["function"].endswith("here")  # type: ignore[index]
    assert frames[-1]["vars"] == {"marker_local": "present"}  # type: ignore[index]
    assert frames[-2]["function"].endswith("test_current_stack_of_calling_thread")  # type: ignore[index]
    assert "frames_omitted" not in trace


def test_current_stack_skip() -> None:
    """skip leaves out frames above the caller."""

    def inner() -> dict[str, object]:
        return current_stack(OPTIONS, skip=1)

    frames = inner()["frames"]
    assert frames[-1]["function"].endswith("test_current_stack_skip")  # type: ignore[index]


def test_fill_context_lines() -> None:
    """Context lines come from the source file: 5 before, the line, 5 after."""
    values = exception_values(_caught(_raise_value_error), OPTIONS)
    event: dict[str, object] = {"exception": {"values": values}}
    fill_context_lines(event)
    top = values[-1]["stacktrace"]["frames"][-1]  # type: ignore[index]
    assert top["context_line"].strip() == 'raise ValueError(f"bad {local_number} {local_text}")'
    assert len(top["pre_context"]) == 5
    assert len(top["post_context"]) == 5
    before = dict(top)
    fill_context_lines(event)
    assert top == before


def test_fill_context_lines_survives_bad_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Missing, binary and short files, odd linenos and junk frames never raise."""
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\xff\xfe" * 100)
    short = tmp_path / "short.py"
    short.write_text("one line\n")
    frames: list[object] = [
        {"abs_path": str(tmp_path / "missing.py"), "lineno": 3},
        {"abs_path": str(binary), "lineno": 1},
        {"abs_path": str(short), "lineno": 50},
        {"abs_path": str(short), "lineno": 0},
        {"abs_path": "<string>", "lineno": 1},
        {"abs_path": str(short), "lineno": "1"},
        "not a frame",
        {"abs_path": str(short), "lineno": 1},
    ]
    event = {"threads": {"values": [{"stacktrace": {"frames": frames}}]}}
    fill_context_lines(event)
    assert frames[-1]["context_line"] == "one line"  # type: ignore[index]
    assert frames[-1]["pre_context"] == [] and frames[-1]["post_context"] == []  # type: ignore[index]
    assert all("context_line" not in f for f in frames[:6])  # type: ignore[operator]


def test_filename_relative_to_sys_path_entry(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A module in a package gets a filename relative to the sys.path entry it came from."""
    package = tmp_path / "twpkg_rel" / "sub"
    package.mkdir(parents=True)
    (tmp_path / "twpkg_rel" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("def boom():\n    raise ValueError('x')\n")
    (package / "mod.py").write_text("def boom():\n    raise KeyError('y')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    mod = importlib.import_module("twpkg_rel.sub.mod")
    sub = importlib.import_module("twpkg_rel.sub")
    top = exception_values(_caught(mod.boom), OPTIONS)[-1]["stacktrace"]["frames"][-1]  # type: ignore[index]
    assert top["filename"] == "twpkg_rel/sub/mod.py"
    assert top["module"] == "twpkg_rel.sub.mod"
    top = exception_values(_caught(sub.boom), OPTIONS)[-1]["stacktrace"]["frames"][-1]  # type: ignore[index]
    assert top["filename"] == "twpkg_rel/sub/__init__.py"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="column positions are 3.11+")
def test_colno_on_311_plus() -> None:
    """Frames carry a 1-based column on Python 3.11+."""
    top = exception_values(_caught(_raise_value_error), OPTIONS)[-1]["stacktrace"]["frames"][-1]  # type: ignore[index]
    assert top["colno"] == 5
