"""A sample Flask app reporting through the WSGI middleware."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sentiero_reporter import WSGIReporterMiddleware

from .shop import load_order, page


def create_app(sentiero_url: str) -> Any:
    app = Flask(__name__)
    # Unhandled errors reach the middleware (the WSGI server then answers 500).
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.get("/")
    def home() -> str:
        return page("Flask shop", sentiero_url, [("order-999", "/orders/999")])

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> str:
        return f"<p>{load_order(order_id)}</p>"

    app.wsgi_app = WSGIReporterMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
