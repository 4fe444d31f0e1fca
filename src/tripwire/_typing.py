"""Typing names from the standard library where it has them.

``typing_extensions`` costs several milliseconds to import; on Python 3.10+
everything tripwire needs is in ``typing``, so it is only imported on 3.9.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 10):
    from typing import ParamSpec, TypeAlias
else:  # pragma: no cover - exercised on 3.9 only
    from typing_extensions import ParamSpec, TypeAlias

__all__ = ["ParamSpec", "TypeAlias"]
