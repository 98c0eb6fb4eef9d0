"""SentieroDispatcher: Sentiero and another ASGI app in one application."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentiero_core import SentieroDispatcher, Settings, create_app


async def other(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The other app: answers every request with its path."""
    assert scope["type"] == "http", "the other app gets no lifespan events"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"other {scope['path']}".encode()})


def dispatcher(**settings: Any) -> SentieroDispatcher:
    options = {"store_url": "memory://", **settings}
    sentiero = create_app(Settings(**options))
    return SentieroDispatcher(other, sentiero, options.get("mount_path", "/sentiero"))


async def lifespan(app: SentieroDispatcher, *events: str) -> list[str]:
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for event in events:
        await incoming.put({"type": f"lifespan.{event}"})
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send)
    return sent


@pytest.mark.asyncio
async def test_the_mount_goes_to_sentiero_the_rest_to_the_other_app() -> None:
    app = dispatcher(mount_path="/rec")
    async with (
        app.running(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/")).text == "other /"
        assert (await client.get("/recx/")).text == "other /recx/"  # not under the mount
        assert (await client.get("/rec/api/sessions")).json()["sessions"] == []
        assert (await client.get("/rec/")).status_code == 200


@pytest.mark.asyncio
async def test_the_root_path_is_not_part_of_the_mount() -> None:
    app = dispatcher()
    scope = {"type": "http", "root_path": "/shop", "path": "/shop/sentiero/events"}
    assert app.routes_to_sentiero(scope)
    assert not app.routes_to_sentiero({**scope, "path": "/shop/cart"})


@pytest.mark.asyncio
async def test_lifespan_starts_and_stops_sentiero() -> None:
    events = await lifespan(dispatcher(), "startup", "shutdown")
    assert events == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.asyncio
async def test_a_store_that_cannot_open_fails_the_startup(tmp_path: Path) -> None:
    app = dispatcher(store_url=f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    assert await lifespan(app, "startup") == ["lifespan.startup.failed"]


@pytest.mark.parametrize("mount", ["/", "", "//"])
def test_the_mount_cannot_be_the_root(mount: str) -> None:
    with pytest.raises(ValueError, match="mount_path must be a prefix"):
        SentieroDispatcher(other, create_app(Settings(store_url="memory://")), mount)
