"""The public surface: every exported name resolves, and importing tripwire is lazy."""

from __future__ import annotations

import subprocess
import sys

import tripwire


def test_all_is_sorted_and_every_name_resolves() -> None:
    """__all__ is sorted and each name in it is an attribute of the package."""
    assert list(tripwire.__all__) == sorted(tripwire.__all__)
    for name in tripwire.__all__:
        assert getattr(tripwire, name) is not None, name


def test_unknown_attribute_raises_attribute_error() -> None:
    """A name tripwire does not export raises AttributeError, as for any module."""
    try:
        tripwire.not_a_thing  # noqa: B018
    except AttributeError as exc:
        assert "not_a_thing" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_import_loads_neither_the_api_nor_urllib3() -> None:
    """`import tripwire` alone loads no hub, no transport and no urllib3 or certifi."""
    code = (
        "import sys, tripwire\n"
        "loaded = [m for m in ('tripwire._hub', 'tripwire._transport', 'urllib3', 'certifi')"
        " if m in sys.modules]\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_init_with_dsn_defers_urllib3_until_the_first_send() -> None:
    """init(dsn=...) does not import urllib3 or certifi; the first send does."""
    code = (
        "import sys, tripwire\n"
        "tripwire.init(dsn='http://k@127.0.0.1:9/1', shutdown_timeout=0.5)\n"
        "print('urllib3' in sys.modules, 'certifi' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_init_patches_http_client_and_asyncio_only_once_they_are_imported() -> None:
    """init() imports neither http.client nor asyncio; each is patched when the program loads it."""
    code = (
        "import sys, tripwire\n"
        "tripwire.init(dsn='http://k@127.0.0.1:9/1', shutdown_timeout=0.5)\n"
        "print('http.client' in sys.modules, 'asyncio' in sys.modules)\n"
        "import http.client, asyncio.base_events\n"
        "print(hasattr(http.client.HTTPConnection.putrequest, '__tripwire_stdlib__'),\n"
        "      hasattr(asyncio.base_events.BaseEventLoop.create_task, '__tripwire_isolating__'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True", "True"]
