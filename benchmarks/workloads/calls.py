"""Workload 2: caller-thread time per API call, real HTTP transport to the loopback sink.

``--mode enabled``: capture_message, capture_exception (12 frames, locals on),
add_breadcrumb, set_tag. ``--mode nolocals``: capture_exception with
``include_local_variables=False``. ``--mode disabled``: every call after
``init()`` without a DSN.
"""

from __future__ import annotations

import os
import statistics
import time

from _bench import (
    deep_exception,
    emit,
    init_sdk,
    load_sdk,
    parser,
    quiet_gc,
    timed_captures,
    timed_loop,
    us_per_call,
)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--mode", choices=("enabled", "nolocals", "disabled"), default="enabled")
    args = p.parse_args()
    sdk = load_sdk(args.sdk)
    os.environ.pop("SENTRY_DSN", None)
    if args.mode == "disabled":
        init_sdk(sdk, None)
    elif args.mode == "nolocals":
        init_sdk(sdk, args.dsn, include_local_variables=False)
    else:
        init_sdk(sdk, args.dsn)

    scale = 1 if args.quick else 2
    crumbs = 10_000 * scale
    result: dict[str, object] = {}

    # Warm up every path once (first-event caches such as the module list).
    sdk.capture_message("warm-up")
    sdk.capture_exception(deep_exception("warm"))
    sdk.flush(10)
    quiet_gc()

    # Captures first, on a clean scope (as in a fresh request); the cheap calls after the
    # worker has drained, so its sending does not compete with them for the GIL.
    if args.mode in ("enabled", "disabled"):

        def message() -> None:
            sdk.capture_message("benchmark message")

        result["capture_message_us"] = us_per_call(timed_loop(message), 5, 60 * scale)
        sdk.flush(10)
        quiet_gc()

    captures = timed_captures(sdk, 60 * scale)
    batches = [sum(captures[i : i + 10]) / 10 / 1000 for i in range(0, len(captures), 10)]
    result["capture_exception_us"] = statistics.median(batches)
    sdk.flush(10)
    quiet_gc()

    if args.mode in ("enabled", "disabled"):
        data = {"step": 1, "path": "/checkout"}

        # Direct loops (no wrapper closure): these calls take well under a microsecond.
        def crumbs_batch(n: int) -> int:
            add_breadcrumb = sdk.add_breadcrumb
            t0 = time.perf_counter_ns()
            for _ in range(n):
                add_breadcrumb(category="bench", message="step", level="info", data=data)
            return time.perf_counter_ns() - t0

        result["add_breadcrumb_us"] = us_per_call(crumbs_batch, 5, crumbs // 5)

        keys = [f"key{i % 10}" for i in range(crumbs // 5)]

        def tags_batch(n: int) -> int:
            set_tag = sdk.set_tag
            t0 = time.perf_counter_ns()
            for key in keys[:n]:
                set_tag(key, "value")
            return time.perf_counter_ns() - t0

        result["set_tag_us"] = us_per_call(tags_batch, 5, len(keys))
    emit(result)


if __name__ == "__main__":
    main()
