"""A Flask app reporting its errors through tripwire's WSGI middleware.

``WsgiMiddleware`` gives each request its own scope (tags set while handling one
request never leak into another's events) and attaches the request (URL,
method, headers) to every event captured while handling it. Flask turns a view's
exception into a 500 page and logs it on ``app.logger``; tripwire's default
logging integration reports that record, with the exception and the request.

The DSN comes from the SENTRY_DSN environment variable.

    SENTRY_DSN=http://<key>@127.0.0.1:8000/1 python examples/flask_app.py --port 5000
    curl http://127.0.0.1:5000/orders/7        # a 500, reported

Add ``--requests N`` to stop after N requests (a smoke test); otherwise it serves
until Ctrl-C. Tests import ``app`` and serve it themselves.
"""

from __future__ import annotations

import argparse

from flask import Flask
from werkzeug.serving import make_server

import tripwire
from tripwire.integrations.wsgi import WsgiMiddleware

app = Flask(__name__)
# Wrapping `wsgi_app` (not `app`) keeps `app.run()`, `app.test_client()` and
# Flask's CLI working as before.
app.wsgi_app = WsgiMiddleware(app.wsgi_app)  # type: ignore[method-assign]

ORDERS = {"1": "3 apples", "2": "1 pear"}


@app.route("/")
def index() -> str:
    return "ok\n"


@app.route("/orders/<order_id>")
def show_order(order_id: str) -> str:
    tripwire.set_tag("order_id", order_id)  # only this request's events get it
    return f"order {order_id}: {ORDERS[order_id]}\n"  # KeyError for an unknown id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the example Flask app on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=0, help="stop after N requests")
    args = parser.parse_args(argv)

    tripwire.init(release="flask-example@1.0.0")
    # werkzeug's development server, one request at a time; in production run
    # `app` under gunicorn, uWSGI or waitress instead.
    server = make_server("127.0.0.1", args.port, app)
    print(f"serving on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        if args.requests:
            for _ in range(args.requests):
                server.handle_request()
        else:
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        tripwire.flush(5.0)


if __name__ == "__main__":
    main()
