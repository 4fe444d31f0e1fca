"""Benchmark suite: tripwire side by side with sentry_sdk (run ``python benchmarks/run.py``)."""
