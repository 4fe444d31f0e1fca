"""Workload 5: capture exceptions whose frames hold hostile locals.

Cases: a 100 000-key dict, a 1 000-deep nested list, an object whose
``__repr__`` raises, a 10 MB string, a recursive structure. Each event carries
the tag ``bench_case`` so the sink can tell which ones arrived and their size
(the sink, like Relay, refuses events over 1 MiB with a 413).
"""

from __future__ import annotations

import base64
import os
import time
from types import ModuleType

from _bench import emit, init_sdk, load_sdk, parser


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    def __str__(self) -> str:
        raise RuntimeError("str exploded")


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def _recursive() -> dict[str, object]:
    node: dict[str, object] = {"name": "root"}
    node["self"] = node
    node["children"] = [node, {"parent": node}]
    return node


CASES = {
    "dict_100k": lambda: {f"key{i}": i for i in range(100_000)},
    "list_1000_deep": lambda: _nested(1000),
    "repr_raises": BadRepr,
    # Random text, so compression cannot hide its size on the wire.
    "string_10mb": lambda: base64.b64encode(os.urandom(10 * 1024 * 1024 * 3 // 4)).decode(),
    "recursive": _recursive,
}


def _fail(payload: object, case: str) -> None:
    local_copy = payload
    raise RuntimeError(f"serializer stress: {case} ({type(local_copy).__name__})")


def _capture(sdk: ModuleType, payload: object, case: str) -> int:
    try:
        _fail(payload, case)
    except RuntimeError as exc:
        t0 = time.perf_counter_ns()
        sdk.capture_exception(exc)
        return time.perf_counter_ns() - t0
    return 0


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    sdk = load_sdk(args.sdk)
    init_sdk(sdk, args.dsn)
    result: dict[str, object] = {}
    for case, make in CASES.items():
        payload = make()
        sdk.set_tag("bench_case", case)
        times = [_capture(sdk, payload, case) for _ in range(args.repeat)]
        result[case] = {"captured": len(times), "ms_per_capture": sum(times) / len(times) / 1e6}
        del payload
    sdk.flush(30)
    emit(result)


if __name__ == "__main__":
    main()
