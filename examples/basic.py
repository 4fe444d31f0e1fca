"""The basics: initialise tripwire, describe the context, report an error and a message.

It sets the user and a tag, leaves a breadcrumb, reports a caught exception from
an ``except`` block and a plain message, then waits for both to be sent. The DSN
comes from the SENTRY_DSN environment variable (without one, tripwire stays
disabled and the script still runs).

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/basic.py
"""

from __future__ import annotations

import tripwire


def parse_quantity(text: str) -> int:
    return int(text)


def main() -> None:
    tripwire.init(release="basic-example@1.0.0", environment="example")

    # Everything set on the scope goes with every event sent afterwards.
    tripwire.set_user({"id": "42", "username": "ada"})
    tripwire.set_tag("shop", "north")
    tripwire.add_breadcrumb(category="cart", message="added 3 apples", level="info")

    try:
        parse_quantity("three")
    except ValueError:
        # With no argument, the exception being handled is reported.
        event_id = tripwire.capture_exception()
        print(f"reported the ValueError as event {event_id}")

    event_id = tripwire.capture_message("checkout was slow", level="warning")
    print(f"reported the message as event {event_id}")

    # Events leave on a background thread; wait (at most 5 s) until they are sent.
    result = tripwire.flush(5.0)
    print(f"flushed: {result}")


if __name__ == "__main__":
    main()
