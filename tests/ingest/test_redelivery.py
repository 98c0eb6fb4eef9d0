"""A batch delivered twice (its answer was lost, the recorder retried) is
stored once: over real HTTP, in every store, with hooks called once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pluggy
import pytest

from sentiero_core import Batch, Settings, create_app, get_plugin_manager, hookimpl
from sentiero_core.store import Store
from tests.ingest.helpers import body, envelope, gz, plugin_manager, running
from tests.support.live_server import LiveServer

GZIP_JSON = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


def _plugins(store_url: str) -> pluggy.PluginManager:
    if store_url.startswith("sqlite"):
        import sentiero_store_sqlite

        pm = get_plugin_manager(load_entrypoints=False)
        pm.register(sentiero_store_sqlite, name="store_sqlite")
        return pm
    return plugin_manager()


@pytest.fixture(params=["memory", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'x.db'}"
    app = create_app(Settings(store_url=url), plugin_manager=_plugins(url))
    with LiveServer(app) as live:
        yield live


def _store(server: LiveServer) -> Store:
    store = server.app.extensions["sentiero"].store
    assert isinstance(store, Store)
    return store


def _batches(server: LiveServer) -> int:
    return server.run(_store(server).stats()).batches


def test_same_envelope_twice_is_stored_once(server: LiveServer) -> None:
    doc = envelope(session_id="redeliver_01", seq=4)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        first = client.post("/sentiero/events", content=gz(doc), headers=GZIP_JSON)
        # the same bytes again, as the recorder's retry sends them
        second = client.post("/sentiero/events", content=gz(doc), headers=GZIP_JSON)
        assert (first.status_code, second.status_code) == (204, 204)
        assert first.content == second.content == b""
        summary = server.run(_store(server).get_session("redeliver_01"))
        assert summary is not None
        assert (summary.event_count, summary.batch_count, summary.click_count) == (2, 1, 1)
        assert _batches(server) == 1
        events = server.run(_store(server).read_events("redeliver_01")).events
        assert events == doc["events"]
        # the window's next batch is new, and so is seq 4 in another window
        for fresh in ({**doc, "seq": 5}, {**doc, "window_id": "win_other_01"}):
            response = client.post("/sentiero/events", content=gz(fresh), headers=GZIP_JSON)
            assert response.status_code == 204
    summary = server.run(_store(server).get_session("redeliver_01"))
    assert summary is not None
    assert (summary.event_count, summary.batch_count) == (6, 3)


def test_concurrent_deliveries_of_one_envelope_store_one_batch(server: LiveServer) -> None:
    doc = envelope(session_id="redeliver_02", seq=1)

    async def post_all() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            responses = await asyncio.gather(
                *(client.post("/sentiero/events", content=body(doc)) for _ in range(12))
            )
        return [r.status_code for r in responses]

    assert asyncio.run(post_all()) == [204] * 12
    summary = server.run(_store(server).get_session("redeliver_02"))
    assert summary is not None
    assert (summary.event_count, summary.batch_count) == (2, 1)
    assert _batches(server) == 1


def test_envelope_without_seq_is_stored_each_time(server: LiveServer) -> None:
    doc = envelope(session_id="redeliver_03")
    del doc["seq"]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(2):
            assert client.post("/sentiero/events", content=body(doc)).status_code == 204
    summary = server.run(_store(server).get_session("redeliver_03"))
    assert summary is not None
    assert (summary.event_count, summary.batch_count) == (4, 2)


@pytest.mark.asyncio
async def test_repeat_is_not_collected_or_notified_again() -> None:
    seen: list[str] = []

    class Watcher:
        @hookimpl
        def collect_batch(self, batch: Batch) -> None:
            seen.append(f"collect {batch.seq}")

        @hookimpl
        def after_batch_stored(self, batch: Batch, settings: Any) -> None:
            seen.append(f"stored {batch.seq}")

    pm = plugin_manager()
    pm.register(Watcher(), name="watcher")
    try:
        async with running(pm) as r:
            for seq in (1, 1, 2, 1):
                assert (await r.post(body(envelope(seq=seq)))).status_code == 204
            assert seen == ["collect 1", "stored 1", "collect 2", "stored 2"]
    finally:
        pm.unregister(name="watcher")
