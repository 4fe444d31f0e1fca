"""Logging and tripwire: log records become breadcrumbs and events.

Part 1 uses the logging integration tripwire turns on by default: INFO records
become breadcrumbs, and ``logging.error(..., exc_info=True)`` becomes an event
carrying the exception and those breadcrumbs.

Part 2 configures the integration explicitly: WARNING and above become
breadcrumbs, only CRITICAL becomes an event, and ``ignore_logger`` silences a
chatty logger entirely.

The DSN comes from the SENTRY_DSN environment variable.

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/logging_example.py
"""

from __future__ import annotations

import json
import logging

import tripwire
from tripwire.integrations.logging import LoggingIntegration, ignore_logger

log = logging.getLogger("inventory")


def load_settings(text: str) -> dict[str, object]:
    settings = json.loads(text)
    assert isinstance(settings, dict)
    return settings


def default_integration() -> None:
    # `with` closes the client at the end of the block, sending what is queued.
    with tripwire.init(release="logging-example@1.0.0"):
        tripwire.set_tag("part", "default")
        # Without this, the root logger's WARNING level drops INFO records
        # before tripwire (or any handler) sees them.
        logging.basicConfig(level=logging.INFO, format="%(levelname)-8s %(name)s: %(message)s")

        log.info("reading settings from %s", "settings.json")  # a breadcrumb
        try:
            load_settings("{not json")
        except ValueError:
            # An event with the exception, the message, and the breadcrumb above.
            log.error("settings file is broken; using defaults", exc_info=True)


def explicit_integration() -> None:
    integration = LoggingIntegration(level=logging.WARNING, event_level=logging.CRITICAL)
    # An instance whose identifier matches a default integration replaces it.
    with tripwire.init(release="logging-example@1.0.0", integrations=[integration]):
        tripwire.set_tag("part", "explicit")
        ignore_logger("inventory.poller")  # a glob such as "inventory.*" works too

        log.info("counting shelves")  # below `level`: not even a breadcrumb
        log.warning("shelf 7 is nearly empty")  # a breadcrumb
        log.error("scanner 2 did not answer")  # a breadcrumb only: below `event_level`
        logging.getLogger("inventory.poller").critical("poll timed out")  # ignored
        log.critical("warehouse database is read-only")  # an event


def main() -> None:
    default_integration()
    explicit_integration()


if __name__ == "__main__":
    main()
