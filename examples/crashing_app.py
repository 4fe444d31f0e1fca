"""A small order-processing job that reports to a Sentry-compatible server, then crashes.

It sets who and what it is working for, leaves breadcrumbs and log lines while
it works, logs one handled error with its traceback, and finally dies of an
uncaught exception chained to the error that caused it. tripwire reports the
logged error and the crash; the DSN comes from the SENTRY_DSN environment
variable (without one, tripwire stays disabled and the program just crashes).

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/crashing_app.py
"""

from __future__ import annotations

import logging
import os

import tripwire

log = logging.getLogger("orders")

STOCK = {"apple": 12, "pear": 3, "plum": 0}

ORDERS = [
    {"id": "A-1001", "customer": "ada", "lines": [("apple", 2), ("pear", 1)]},
    {"id": "A-1002", "customer": "bob", "lines": [("kiwi", 1)]},
    {"id": "A-1003", "customer": "cyd", "lines": [("apple", 1), ("plum", 4)]},
]


class OutOfStock(Exception):
    """An order asked for more than the warehouse holds."""


def reserve(item: str, quantity: int) -> None:
    available = STOCK.get(item)
    if available is None:
        raise KeyError(item)
    if quantity > available:
        raise OutOfStock(f"{item}: wanted {quantity}, {available} left")
    STOCK[item] = available - quantity


def charge(customer: str, lines: list[tuple[str, int]], db_password: str) -> None:
    tripwire.add_breadcrumb(
        category="payment",
        message=f"charged {customer} for {sum(q for _, q in lines)} items",
        data={"authenticated": bool(db_password)},
    )


def process(order: dict[str, object]) -> None:
    order_id = order["id"]
    lines = order["lines"]
    # A secret in a local variable: tripwire reports locals, but scrubs this one.
    db_password = os.environ.get("ORDERS_DB_PASSWORD", "hunter2-do-not-leak")
    assert isinstance(lines, list)
    tripwire.add_breadcrumb(category="order", message=f"processing {order_id}", level="info")
    try:
        for item, quantity in lines:
            reserve(item, quantity)
    except OutOfStock as exc:
        raise RuntimeError(f"order {order_id} cannot be fulfilled") from exc
    charge(str(order["customer"]), lines, db_password)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s %(name)s: %(message)s")
    tripwire.init(
        release=os.environ.get("SENTRY_RELEASE") or "crashing-app@1.0.0",
        environment=os.environ.get("SENTRY_ENVIRONMENT") or "demo",
    )
    tripwire.set_user({"id": "7", "username": "warehouse-bot"})
    tripwire.set_tag("warehouse", "east")

    log.info("starting a batch of %d orders", len(ORDERS))
    for order in ORDERS:
        try:
            process(order)
        except KeyError:
            # Handled: logged with its traceback, reported, and the batch goes on.
            log.error("order %s names an unknown item; skipped", order["id"], exc_info=True)
            continue
        log.info("order %s done", order["id"])
    log.info("batch finished")


if __name__ == "__main__":
    main()
