"""Workload 4: captures against a dead port or a sink answering 429 + ``Retry-After: 60``.

Measures caller-thread time per capture, peak RSS growth over the captures,
and ``flush(2)``; the runner measures interpreter exit from ``@@mark`` and
counts the requests that reached the sink after its first 429.
"""

from __future__ import annotations

import time

from _bench import (
    emit,
    init_sdk,
    load_sdk,
    mark,
    maxrss_mb,
    parser,
    quiet_gc,
    reset_peak_rss,
    timed_loop,
    us_per_call,
)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--captures", type=int, default=10_000)
    args = p.parse_args()
    sdk = load_sdk(args.sdk)
    init_sdk(sdk, args.dsn)
    sdk.capture_message("warm-up")
    time.sleep(0.2)  # let the first request fail (or meet the 429) before measuring
    quiet_gc()
    reset_peak_rss()
    rss_before = maxrss_mb()

    counter = iter(range(10**9))

    def capture() -> None:
        sdk.capture_message(f"failing server message {next(counter)}")

    batches = 20
    per_call = us_per_call(timed_loop(capture), batches, args.captures // batches)
    rss_after = maxrss_mb()
    t0 = time.perf_counter()
    sdk.flush(2)
    flush_s = time.perf_counter() - t0
    emit(
        {
            "capture_message_us": per_call,
            "rss_growth_mb": rss_after - rss_before,
            "flush_s": flush_s,
        }
    )
    mark()


if __name__ == "__main__":
    main()
