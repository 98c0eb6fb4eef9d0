"""A store that is unavailable: the ingest answers 503 with ``Retry-After``
(which a cross-origin recorder may read), never 500, and the batch sent
again once the store is back is stored once. The MongoDB server going away
under a real recorder is in tests/recording/test_store_outage_browser.py."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import orjson
import pytest

from sentiero_core import MemoryStore, Settings, create_app, get_plugin_manager
from sentiero_core.ingest.pipeline import STORE_RETRY_AFTER
from sentiero_core.store import Batch, StoreUnavailable
from tests.ingest.helpers import EVENTS_URL, JSON, SESSION, body, envelope, plugin_manager

ORIGIN = "https://shop.example"


class UnavailableStore(MemoryStore):
    """Down until ``up`` is set, then a memory store."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False

    async def append(self, batch: Batch) -> bool | None:
        if not self.up:
            raise StoreUnavailable("connection refused")
        return await super().append(batch)


@pytest.mark.asyncio
async def test_an_unavailable_store_is_503_with_retry_after_and_the_retry_is_stored_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = UnavailableStore()
    settings = Settings(cors_origins=[ORIGIN])
    app = create_app(settings, store=store, plugin_manager=plugin_manager())
    headers = {**JSON, "Origin": ORIGIN}
    async with app.test_app() as test_app:
        client = test_app.test_client()
        with caplog.at_level(logging.ERROR, logger="sentiero.ingest"):
            refused = await client.post(EVENTS_URL, data=body(envelope()), headers=headers)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == str(STORE_RETRY_AFTER)
        # the recorder on the shop's origin may read it
        assert refused.headers["Access-Control-Expose-Headers"] == "Retry-After"
        assert orjson.loads(await refused.get_data()) == {"error": "store unavailable, retry later"}
        assert "store unavailable" in caplog.text

        store.up = True
        for _ in range(2):  # the retry, then a repeat of it
            answer = await client.post(EVENTS_URL, data=body(envelope()), headers=headers)
            assert answer.status_code == 204
            assert "Retry-After" not in answer.headers
        summary = await store.get_session(SESSION)
        assert summary is not None and (summary.batch_count, summary.event_count) == (1, 2)


@pytest.mark.asyncio
async def test_other_refusals_carry_no_retry_after() -> None:
    app = create_app(Settings(), store=MemoryStore(), plugin_manager=plugin_manager())
    async with app.test_app() as test_app:
        client = test_app.test_client()
        for data in (b"{", body(envelope(session_id="x"))):
            response = await client.post(EVENTS_URL, data=data, headers=JSON)
            assert response.status_code in (400, 422)
            assert "Retry-After" not in response.headers


@pytest.mark.asyncio
async def test_a_locked_sqlite_database_is_503_and_the_retry_is_stored_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the write lock for longer than the busy timeout."""
    db_path = tmp_path / "sentiero.db"
    settings = Settings(
        store_url=f"sqlite:///{db_path}",
        plugins={"store_sqlite": {"busy_timeout_ms": 200}},
    )
    pm = get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "store_sqlite"})
    app = create_app(settings, plugin_manager=pm)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        store = app.extensions["sentiero"].store
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # the write lock, held
            with caplog.at_level(logging.ERROR, logger="sentiero.ingest"):
                refused = await client.post(EVENTS_URL, data=body(envelope()), headers=JSON)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == str(STORE_RETRY_AFTER)
            assert "locked" in caplog.text
        finally:
            other.execute("ROLLBACK")
            other.close()
        for _ in range(2):
            answer = await client.post(EVENTS_URL, data=body(envelope()), headers=JSON)
            assert answer.status_code == 204
        summary = await store.get_session(SESSION)
        assert summary is not None and (summary.batch_count, summary.event_count) == (1, 2)
        assert len((await store.read_events(SESSION)).events) == 2
