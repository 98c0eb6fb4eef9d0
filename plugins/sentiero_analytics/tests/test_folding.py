"""The folds a serving app leaves for later: a clean stop folds what is
pending, and what a stopped process left unfolded is folded at the next
start-up, with the numbers a fold after every batch gives."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sentiero_analytics.collector import SESSION_KEY
from sentiero_analytics.folding import Folder
from sentiero_analytics.settings import AnalyticsSettings
from sentiero_store_sqlite import SQLiteStore

from sentiero_core import Settings, create_app
from sentiero_core.store import MemoryStore, Store
from sentiero_core.testing import T0, click, meta

from .test_exactness import deliver, reports, workload

pytestmark = pytest.mark.asyncio

SID = "session-1"


def _app(path: Path, **analytics: Any) -> Any:
    settings = Settings(store_url=f"sqlite:///{path}", plugins={"analytics": analytics})
    return create_app(settings)


async def _unfolded_gone(store: Store, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while await store.unfolded_sessions(SESSION_KEY):
        if time.monotonic() > deadline:
            raise AssertionError("the start-up sweep did not fold what was left")
        await asyncio.sleep(0.05)


async def test_a_clean_stop_folds_what_is_pending(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    app = _app(db)  # the default fold_interval: nothing is due while serving
    async with app.test_app() as running:
        client = running.test_client()
        for seq, events in enumerate(
            [[meta(T0, "https://shop.example/a")], [click(T0 + 50, 5, 5)]], start=1
        ):
            envelope = {"v": 1, "session_id": SID, "window_id": "window-1", "seq": seq}
            envelope |= {"sent_at": T0 + 100, "dropped": 0, "events": events}
            response = await client.post(
                "/sentiero/events",
                data=orjson.dumps(envelope),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 204
        store = app.extensions["sentiero"].store
        assert await store.unfolded_sessions(SESSION_KEY) == [SID]
    again = SQLiteStore(db)
    await again.open()
    try:
        assert await again.unfolded_sessions(SESSION_KEY) == []
        pages = (await reports(again))["pages"]["rows"]
        assert [(r["page"], r["views"]) for r in pages] == [("https://shop.example/a", 1)]
        clicks = await again.aggregate("clicks@all", 0, 100_000)
        assert sum(t.count for t in clicks.values()) == 1
    finally:
        await again.close()


async def test_what_a_stopped_process_left_is_folded_at_start_up(tmp_path: Path) -> None:
    batches = workload(seed=8, sessions=4)
    reference = MemoryStore()
    await reference.open()
    for b in batches:
        await deliver(reference, b)
    db = tmp_path / "b.db"
    crashed = SQLiteStore(db)
    await crashed.open()
    # facts merged, folds pending in a folder that never ran: a process
    # that died before its folds
    folder = Folder(crashed, AnalyticsSettings())
    for b in batches[: len(batches) // 2]:
        await deliver(crashed, b)  # some sessions folded after each batch
    for b in batches[len(batches) // 2 :]:
        await deliver(crashed, b, folder)
    left = await crashed.unfolded_sessions(SESSION_KEY)
    assert left and folder.pending == len(left)
    await crashed.close()

    app = _app(db)
    async with app.test_app():
        store = app.extensions["sentiero"].store
        await _unfolded_gone(store)
        assert await reports(store) == await reports(reference)
    await reference.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_stopping_while_folding_leaves_nothing_unfolded(tmp_path: Path, backend: str) -> None:
    """Sessions falling due while a stop waits for the fold in progress
    are folded by the stop, not dropped."""
    store: Store = MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "c.db")
    await store.open()
    try:
        folder = Folder(store, AnalyticsSettings(fold_interval=0))
        folder.start()
        # every delivery lets the folder fold what the previous ones marked,
        # so the stop comes while it folds, with the last marks waiting
        for b in workload(seed=9, sessions=8):
            await deliver(store, b, folder)
        await folder.stop()
        assert folder.pending == 0
        assert await store.unfolded_sessions(SESSION_KEY) == []
        with pytest.raises(RuntimeError, match="stopped"):
            folder.mark("s0")
    finally:
        await store.close()


async def test_a_session_is_folded_once_quiet_or_at_the_latest_after_the_max_delay() -> None:
    folder = Folder(MemoryStore(), AnalyticsSettings(fold_interval=30, fold_max_delay=300))
    # a visit with a batch every 10 s for 100 s, then nothing
    for t in range(0, 101, 10):
        folder.mark("visit", now=1000.0 + t)
        assert folder.take_due(1000.0 + t) == [], "not while batches keep coming"
    assert folder.take_due(1129.0) == []
    assert folder.take_due(1130.0) == ["visit"], "30 s after its last batch"
    # a visit that never pauses is folded 300 s after its first unfolded batch
    for t in range(0, 400, 10):
        folder.mark("long", now=2000.0 + t)
        due = folder.take_due(2000.0 + t)
        if due:
            assert (due, t) == (["long"], 300)
            break
    else:
        raise AssertionError("a session that never pauses must still be folded")
    # and a max delay below the interval counts as the interval
    short = Folder(MemoryStore(), AnalyticsSettings(fold_interval=30, fold_max_delay=5))
    short.mark("s", now=0.0)
    assert short.take_due(29.0) == [] and short.take_due(30.0) == ["s"]
