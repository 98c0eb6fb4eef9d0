"""A sample Quart app reporting through the ASGI middleware."""

from __future__ import annotations

from typing import Any

from quart import Quart
from sentiero_reporter import ReporterMiddleware

from .shop import load_order, page


def create_app(sentiero_url: str) -> Any:
    app = Quart(__name__)
    # Unhandled errors reach the middleware (Hypercorn then answers 500).
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.get("/")
    async def home() -> str:
        return page(
            "Quart shop", sentiero_url, [("order-1", "/orders/1"), ("order-404", "/orders/404")]
        )

    @app.get("/orders/<int:order_id>")
    async def order(order_id: int) -> str:
        return f"<p>{load_order(order_id)}</p>"

    return ReporterMiddleware(app)
