"""A Starlette app reporting its errors through tripwire's ASGI middleware.

``AsgiMiddleware`` gives each request its own scope (tags set while handling one
request never leak into another's events), attaches the request to every event
captured while handling it, names the event after the route template
(``/orders/{order_id}``), and reports exceptions the app raises. Starlette still
answers 500.

The DSN comes from the SENTRY_DSN environment variable.

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/starlette_app.py --port 8001
    curl http://127.0.0.1:8001/orders/7        # a 500, reported

``main()`` serves ``app`` with ``uvicorn.run``; under uvicorn's own command line
or another ASGI server, call ``tripwire.init()`` where the app is created.

Add ``--requests N`` to stop after N requests (a smoke test); otherwise it serves
until Ctrl-C. Tests import ``app`` and serve it themselves.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import tripwire
from tripwire.integrations.asgi import AsgiMiddleware

ORDERS = {"1": "3 apples", "2": "1 pear"}


async def index(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


async def show_order(request: Request) -> PlainTextResponse:
    order_id = request.path_params["order_id"]
    tripwire.set_tag("order_id", order_id)  # only this request's events get it
    return PlainTextResponse(f"order {order_id}: {ORDERS[order_id]}\n")  # KeyError if unknown


starlette_app = Starlette(
    routes=[Route("/", index), Route("/orders/{order_id}", show_order)],
)
# The outermost layer, so it sees what Starlette's error handling re-raises.
app = AsgiMiddleware(starlette_app)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the example Starlette app on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--requests", type=int, default=0, help="stop after N requests")
    args = parser.parse_args(argv)

    tripwire.init(release="starlette-example@1.0.0")
    # uvicorn handles Ctrl-C itself and returns; the client's exit hook then
    # sends what is still queued.
    uvicorn.run(app, host="127.0.0.1", port=args.port, limit_max_requests=args.requests or None)
    tripwire.flush(5.0)


if __name__ == "__main__":
    main()
