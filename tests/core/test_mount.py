"""Sentiero mounted under a prefix inside another ASGI app (Starlette)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from sentiero_core import Settings, create_app
from sentiero_core.testing import make_batch

PREFIX = "/admin/rec"
LINK = re.compile(r'(?:href|src|action)="([^"]+)"')


def _host(sentiero: Any) -> Starlette:
    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("the host app")

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await sentiero.startup()
        try:
            yield
        finally:
            await sentiero.shutdown()

    return Starlette(routes=[Route("/", home), Mount(PREFIX, app=sentiero)], lifespan=lifespan)


def _events() -> list[dict[str, Any]]:
    return [
        {
            "type": 4,
            "timestamp": 1_700_000_000_000,
            "data": {"href": "https://shop.example/", "width": 800, "height": 600},
        },
        {
            "type": 2,
            "timestamp": 1_700_000_000_010,
            "data": {"node": {"type": 0, "childNodes": []}, "initialOffset": {"left": 0, "top": 0}},
        },
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("mount_path", ["/", "/sentiero"])
async def test_links_and_redirects_keep_the_prefix(mount_path: str) -> None:
    sentiero = create_app(Settings(store_url="memory://", mount_path=mount_path))
    base = PREFIX + ("" if mount_path == "/" else mount_path)
    host = _host(sentiero)
    async with host.router.lifespan_context(host):
        store = sentiero.extensions["sentiero"].store
        await store.append(make_batch("sessionAAAA1", "windowAAAA1", _events()))
        transport = httpx.ASGITransport(app=host)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/")).text == "the host app"
            pages = [base + "/", base + "/sessions/sessionAAAA1"]
            for url in pages:
                response = await client.get(url)
                assert response.status_code == 200, url
                links = [link for link in LINK.findall(response.text) if link.startswith("/")]
                assert links, f"no links on {url}"
                for link in links:
                    assert link.startswith(base + "/"), f"{link} on {url} ignores the mount"
            plugins = await client.get(base + "/api/plugins")
            assert plugins.status_code == 200
            recorder = await client.get(base + "/recorder.js")
            assert recorder.status_code == 200
            # no endpoint in the config: the recorder posts to "events" beside
            # its own src, which is under the prefix
            assert '"endpoint"' not in recorder.text.partition("\n")[0]
            envelope = {
                "v": 1,
                "session_id": "sessionBBBB1",
                "window_id": "windowBBBB1",
                "seq": 1,
                "sent_at": 1_700_000_000_100,
                "dropped": 0,
                "events": _events(),
            }
            posted = await client.post(base + "/events", json=envelope)
            assert posted.status_code < 300, posted.text
            assert await store.get_session("sessionBBBB1") is not None
            # Deleting answers with a redirect that stays under the prefix.
            page = await client.get(base + "/sessions/sessionAAAA1")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token, "the session page has a delete form with a CSRF token"
            deleted = await client.post(
                base + "/sessions/sessionAAAA1/delete",
                data={"csrf_token": token.group(1)},
                headers={"Origin": "http://testserver"},
            )
            assert deleted.status_code in (302, 303)
            assert deleted.headers["location"].startswith(base + "/")
