"""Filtering and editing events before they are sent, with a ``before_send`` hook.

The hook drops every event caused by a ``ConnectionResetError`` (clients hanging
up are expected, not bugs), removes a card number the application put in
``extra``, and tags every event it keeps with the host's region. Three errors are
reported; two reach the server.

The DSN comes from the SENTRY_DSN environment variable.

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/before_send_filtering.py
"""

from __future__ import annotations

from typing import Any

import tripwire

IGNORED_ERRORS = (ConnectionResetError,)


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """Return the event to send it (changed or not), or None to drop it."""
    # `hint["exc_info"]` is the (type, value, traceback) of a captured exception.
    exc_info = hint.get("exc_info")
    if exc_info is not None and isinstance(exc_info[1], IGNORED_ERRORS):
        return None

    extra = event.get("extra")
    if isinstance(extra, dict) and "card_number" in extra:
        extra["card_number"] = "[removed]"
    event.setdefault("tags", {})["region"] = "eu-west"
    return event


def handle_upload(size: int) -> None:
    if size > 10:
        raise ValueError(f"upload of {size} MB is over the 10 MB limit")


def stream_report() -> None:
    raise ConnectionResetError("client went away")


def main() -> None:
    tripwire.init(release="before-send-example@1.0.0", before_send=before_send)

    try:
        stream_report()
    except ConnectionResetError:
        print("ConnectionResetError reported:", tripwire.capture_exception())  # dropped: None

    tripwire.set_extra("card_number", "4111 1111 1111 1111")
    try:
        handle_upload(25)
    except ValueError:
        print("ValueError reported:", tripwire.capture_exception())

    print("message reported:", tripwire.capture_message("payment provider is slow"))
    tripwire.flush(5.0)


if __name__ == "__main__":
    main()
