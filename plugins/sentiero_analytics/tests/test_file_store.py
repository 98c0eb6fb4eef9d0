"""The plugin on the file store, end to end: an app serving ``file://``
ingests batches over HTTP, folds them, serves reports with their numbers,
and a second app over the same directory serves the same numbers until a
session is deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sentiero_analytics import flush
from sentiero_analytics.collector import SESSION_KEY
from sentiero_store_file import FileStore

from sentiero_core import Settings, create_app
from sentiero_core.testing import T0, click, meta

pytestmark = pytest.mark.asyncio

RANGE = "from=2023-11-01&to=2023-11-30"
A, B = "session-a", "session-b"  # ids the ingest accepts
HOME, CART = "https://shop.example/home", "https://shop.example/cart"


async def _post(client: Any, sid: str, seq: int, events: list[dict[str, Any]]) -> None:
    envelope = {"v": 1, "session_id": sid, "window_id": "window-1", "seq": seq}
    envelope |= {"sent_at": events[-1]["timestamp"] + 100, "dropped": 0, "events": events}
    response = await client.post(
        "/sentiero/events",
        data=orjson.dumps(envelope),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 204, await response.get_data(as_text=True)


async def _pages(client: Any) -> dict[str, dict[str, Any]]:
    response = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}")
    assert response.status_code == 200, await response.get_data(as_text=True)
    return {r["page"]: r for r in (await response.get_json())["report"]["rows"]}


async def test_analytics_runs_on_the_file_store(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'recordings'}"
    app = create_app(Settings(store_url=url))
    async with app.test_app() as running:
        store = app.extensions["sentiero"].store
        assert isinstance(store, FileStore)
        client = running.test_client()
        # a: home, clicks, then the cart 4 s later; b: home only
        await _post(client, A, 1, [meta(T0, HOME), click(T0 + 50, 5, 5)])
        await _post(client, A, 2, [meta(T0 + 4_000, CART), click(T0 + 4_500, 9, 9)])
        await _post(client, B, 1, [meta(T0 + 60_000, HOME)])
        await _post(client, A, 2, [meta(T0 + 4_000, CART), click(T0 + 4_500, 9, 9)])  # again
        # the serving app folds fold_interval later: nothing counted yet
        assert await store.unfolded_sessions(SESSION_KEY) == [A, B]
        assert await _pages(client) == {}
        await flush(store)
        assert await store.unfolded_sessions(SESSION_KEY) == []
        pages = await _pages(client)
        assert {p: (r["views"], r["sessions"]) for p, r in pages.items()} == {
            HOME: (2, 2),
            CART: (1, 1),
        }
        assert pages[HOME]["entries"] == 2 and pages[CART]["exits"] == 1
        assert pages[HOME]["avg_time_ms"] == 2_000  # a stayed 4 s, b bounced at 0
        first = await (await client.get(f"/sentiero/api/analyzers/engagement?{RANGE}")).get_json()
        assert first["report"]["sessions"] == 2

    # the numbers are on disk: a new app over the directory serves them
    app = create_app(Settings(store_url=url))
    async with app.test_app() as running:
        store = app.extensions["sentiero"].store
        client = running.test_client()
        assert await _pages(client) == pages
        again = await (await client.get(f"/sentiero/api/analyzers/engagement?{RANGE}")).get_json()
        assert again["report"] == first["report"]
        # deleting a session takes its numbers along, for good
        assert await store.delete_sessions([A]) == 1
        left = {p: (r["views"], r["sessions"]) for p, r in (await _pages(client)).items()}
        assert left == {HOME: (1, 1)}

    app = create_app(Settings(store_url=url))
    async with app.test_app() as running:
        left_after = await _pages(running.test_client())
        assert {p: (r["views"], r["sessions"]) for p, r in left_after.items()} == left
