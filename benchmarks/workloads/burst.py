"""Workload 3: a burst of 2 000 messages and 500 exceptions, then ``flush()``.

The runner reads the sink's counts at ``@@mark`` (right after ``flush()``
returned) and again after the process exited.
"""

from __future__ import annotations

import time

from _bench import deep_exception, emit, init_sdk, load_sdk, mark, parser

MESSAGES = 2000
EXCEPTIONS = 500


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    sdk = load_sdk(args.sdk)
    init_sdk(sdk, args.dsn)
    errors = [deep_exception(f"burst{i}") for i in range(EXCEPTIONS)]
    t0 = time.perf_counter()
    for i in range(MESSAGES):
        sdk.capture_message(f"burst message {i}")
    for exc in errors:
        sdk.capture_exception(exc)
    t_captured = time.perf_counter()
    sdk.flush()
    t_flushed = time.perf_counter()
    emit(
        {
            "sent": MESSAGES + EXCEPTIONS,
            "capture_s": t_captured - t0,
            "flush_s": t_flushed - t_captured,
            "total_s": t_flushed - t0,
        }
    )
    mark()


if __name__ == "__main__":
    main()
