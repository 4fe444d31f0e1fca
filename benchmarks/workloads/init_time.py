"""Workload 1b: wall time of ``import sdk`` + ``sdk.init(dsn=...)`` in a fresh interpreter.

Only ``sys`` and ``time`` (already loaded at interpreter start) are imported
before the clock starts, so nothing the SDK needs is pre-loaded for it.
"""

import sys
import time

t0 = time.perf_counter()


def main() -> None:
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    name, dsn = args["--sdk"], args["--dsn"]
    try:
        sdk = __import__(name)
        t_import = time.perf_counter()
        sdk.init(dsn=dsn)
    except (ImportError, AttributeError) as exc:
        from _bench import unsupported

        unsupported(f"{type(exc).__name__}: {exc}")
    t_init = time.perf_counter()
    from _bench import emit

    emit({"import_ms": (t_import - t0) * 1000, "import_init_ms": (t_init - t0) * 1000})


if __name__ == "__main__":
    main()
