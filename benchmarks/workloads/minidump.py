"""Workload 6: upload a 100 MB minidump; peak RSS growth and time.

The dump is a sparse file with a minimal valid header (``MDMP``, version,
no streams), so generating it costs no disk and almost no time.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time

from _bench import emit, init_sdk, load_sdk, maxrss_mb, parser, quiet_gc, reset_peak_rss

# 100 MB (decimal): the upload body (dump + multipart fields) must stay under
# tripwire's 100 MiB body limit, which an exactly-100 MiB dump would exceed.
SIZE = 100_000_000


def write_dump(path: str, size: int = SIZE) -> None:
    # MINIDUMP_HEADER: signature, version, stream count, stream directory RVA,
    # checksum, timestamp, flags.
    header = struct.pack("<4sIIIIIQ", b"MDMP", 0xA793, 0, 32, 0, int(time.time()), 0)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(size)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    sdk = load_sdk(args.sdk, ("init", "flush", "capture_minidump"))
    init_sdk(sdk, args.dsn)
    with tempfile.TemporaryDirectory(prefix="bench-minidump-") as tmp:
        path = os.path.join(tmp, "crash.dmp")
        write_dump(path)
        quiet_gc()
        reset_peak_rss()
        rss_before = maxrss_mb()
        t0 = time.perf_counter()
        event_id = sdk.capture_minidump(path)
        t_captured = time.perf_counter()
        sdk.flush(60)
        t_flushed = time.perf_counter()
        rss_after = maxrss_mb()
    emit(
        {
            "event_id": event_id,
            "capture_ms": (t_captured - t0) * 1000,
            "total_ms": (t_flushed - t0) * 1000,
            "rss_growth_mb": rss_after - rss_before,
        }
    )


if __name__ == "__main__":
    main()
