"""``retention_period``: a background purge removes sessions whose last
activity is older than the period, from start-up on and then periodically,
and reports each purge to ``audit_log``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sentiero_store_sqlite import SQLiteStore

from sentiero_core import Settings, create_app, get_plugin_manager
from sentiero_core.builtins import retention
from sentiero_core.store import MemoryStore
from sentiero_core.testing import make_batch
from sentiero_core.utils import now_ms

HOUR_S = 3600


def events_ending(at_ms: int) -> list[dict[str, Any]]:
    return [
        {"type": 4, "timestamp": at_ms - 2_000, "data": {"href": "https://a.example/"}},
        {"type": 3, "timestamp": at_ms, "data": {"source": 1, "positions": []}},
    ]


async def wait_until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def app_for(db: Path, records: list[dict[str, Any]], **options: Any) -> Any:
    settings = Settings(store_url=f"sqlite:///{db}", audit_log=records.append, **options)
    return create_app(settings)


async def seed(db: Path, sessions: dict[str, int]) -> None:
    """A real SQLite file holding sessions whose last activity is at the given times."""
    store = SQLiteStore(db)
    await store.open()
    try:
        for sid, ended in sessions.items():
            await store.append(make_batch(sid, "window-1", events_ending(ended)))
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_sessions_past_the_period_are_purged_at_start_up(tmp_path: Path) -> None:
    db = tmp_path / "retention.db"
    now = now_ms()
    await seed(db, {"old-session-1": now - 2 * HOUR_S * 1000, "fresh-session-1": now - 60_000})
    records: list[dict[str, Any]] = []
    app = app_for(db, records, retention_period=HOUR_S)
    async with app.test_app():
        store = app.extensions["sentiero"].store

        async def purged() -> bool:
            return await store.get_session("old-session-1") is None

        await wait_until(purged)
        assert await store.get_session("fresh-session-1") is not None
        assert await store.count_sessions() == 1
    assert [r["action"] for r in records] == ["sessions_purged"]
    assert records[0]["count"] == 1 and records[0]["reason"] == "retention_period"
    assert now - HOUR_S * 1000 <= records[0]["before"] <= now_ms() - HOUR_S * 1000


@pytest.mark.asyncio
async def test_a_session_is_purged_once_it_ages_past_the_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ensure the purge runs again at each interval, not only at start-up."""
    monkeypatch.setattr(retention, "interval_for", lambda _seconds: 0.05)
    db = tmp_path / "aging.db"
    # inside the period by 3 s when the app starts
    await seed(db, {"aging-session-1": now_ms() - HOUR_S * 1000 + 3_000})
    records: list[dict[str, Any]] = []
    app = app_for(db, records, retention_period=HOUR_S)
    async with app.test_app():
        store = app.extensions["sentiero"].store
        await asyncio.sleep(0.3)  # several purges have run by now
        assert await store.get_session("aging-session-1") is not None

        async def purged() -> bool:
            return await store.get_session("aging-session-1") is None

        await wait_until(purged, timeout=10.0)

        # The session is gone once the purge commits; its audit record comes
        # right after: stopping the app in between would cancel the record.
        async def audited() -> bool:
            return bool(records)

        await wait_until(audited)
    assert [r["count"] for r in records] == [1]


@pytest.mark.asyncio
async def test_without_a_period_nothing_is_purged(tmp_path: Path) -> None:
    db = tmp_path / "keep.db"
    await seed(db, {"ancient-session-1": 1_000_000_000_000})
    records: list[dict[str, Any]] = []
    app = app_for(db, records)
    async with app.test_app():
        assert "sentiero.retention" not in app.extensions
        await asyncio.sleep(0.2)
        assert await app.extensions["sentiero"].store.count_sessions() == 1
    assert records == []


class FlakyStore(MemoryStore):
    """A memory store whose first purge fails, as a store that lost its
    connection for a moment would."""

    def __init__(self) -> None:
        super().__init__()
        self.purges = 0

    async def purge_before(self, before: int) -> int:
        self.purges += 1
        if self.purges == 1:
            raise ConnectionError("store unreachable")
        return await super().purge_before(before)


@pytest.mark.asyncio
async def test_a_failed_purge_is_logged_and_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(retention, "interval_for", lambda _seconds: 0.05)
    store = FlakyStore()
    await store.append(make_batch("old-session-2", "window-1", events_ending(1_000_000_000_000)))
    records: list[dict[str, Any]] = []
    settings = Settings(store_url="memory://", retention_period=HOUR_S, audit_log=records.append)
    app = create_app(
        settings, plugin_manager=get_plugin_manager(load_entrypoints=False), store=store
    )
    async with app.test_app():

        async def purged() -> bool:
            return await store.count_sessions() == 0

        await wait_until(purged)
        # the app kept serving through the failure
        assert (await app.test_client().get("/sentiero/recorder.js")).status_code == 200
    assert store.purges >= 2
    assert "the purge failed" in caplog.text and "store unreachable" in caplog.text
    assert [r["count"] for r in records] == [1]


@pytest.mark.asyncio
async def test_shutdown_stops_the_purge(tmp_path: Path) -> None:
    app = app_for(tmp_path / "stop.db", [], retention_period=HOUR_S)
    async with app.test_app():
        task = app.extensions["sentiero.retention"]
        assert not task.done()
    assert task.cancelled() or task.done()
    assert "sentiero.retention" not in app.extensions


@pytest.mark.parametrize(
    ("period_s", "interval_s"),
    [(1, 1.0), (24, 1.0), (240, 10.0), (86_400, 3600.0), (30 * 86_400, 3600.0)],
)
def test_the_interval_is_a_24th_of_the_period_within_bounds(
    period_s: int, interval_s: float
) -> None:
    assert retention.interval_for(period_s) == interval_s
