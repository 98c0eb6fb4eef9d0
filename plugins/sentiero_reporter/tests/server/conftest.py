from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sentiero_reporter import server as reporter_plugin
from sentiero_reporter.server.keys import create_key

from sentiero_core import Settings, create_app, get_plugin_manager

T0 = int(time.time() * 1000) - 60_000


class Server:
    """The app with the reporter plugin on a memory store, and a key for ``shop``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.token = token
        self.store = app.extensions["sentiero"].store

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def post(self, kind: str, payload: Any, token: str | None = None) -> Any:
        return await self.client.post(
            f"/sentiero/ingest/{kind}", json=payload, headers=self.auth(token)
        )

    async def text(self, path: str) -> str:
        response = await self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return str(await response.get_data(as_text=True))


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Server]:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(reporter_plugin, name="reporter")
    app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
    async with app.test_app():
        token, _ = await create_key(app.extensions["sentiero"].store, "shop")
        yield Server(app, token)


def error_payload(
    message: str = "order 1234 not found",
    exc_type: str = "myapp.errors.NotFound",
    line: int = 10,
    **fields: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "project": "shop",
        "timestamp": T0,
        "level": "error",
        "exception": {
            "type": exc_type,
            "message": message,
            "frames": [
                {
                    "filename": "/usr/lib/python3/asyncio/events.py",
                    "function": "run",
                    "lineno": 80,
                    "module": "asyncio.events",
                    "in_app": False,
                },
                {
                    "filename": "/srv/app/orders.py",
                    "function": "load_order",
                    "lineno": line,
                    "module": "myapp.orders",
                    "in_app": True,
                    "context_line": "    raise NotFound(f'order {order_id} not found')",
                    "pre_context": ["def load_order(order_id):"],
                    "post_context": [""],
                },
            ],
        },
    }
    payload.update(fields)
    return payload
