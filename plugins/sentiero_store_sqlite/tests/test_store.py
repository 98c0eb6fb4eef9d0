"""What the SQLite store adds to the contract: files, pragmas, concurrency."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from sentiero_store_sqlite import SQLiteStore
from sentiero_store_sqlite.connection import MIN_SQLITE, check_sqlite_version

from sentiero_core.store import (
    MemoryStore,
    SessionFilter,
    StoreError,
    StoreLimits,
    StoreUnavailable,
    decompress,
)

TABLES = ("sessions", "batches", "session_pages", "session_custom_events")


def _rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.mark.asyncio
async def test_the_file_is_in_wal_mode(store: SQLiteStore, db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.asyncio
async def test_connections_use_normal_sync_foreign_keys_and_a_busy_timeout(
    store: SQLiteStore,
) -> None:
    writer = store._open_writer()
    pragmas = {}
    for name in ("synchronous", "foreign_keys", "busy_timeout"):
        rows = list(await writer.execute_fetchall(f"PRAGMA {name}"))
        pragmas[name] = rows[0][0]
    assert pragmas == {"synchronous": 1, "foreign_keys": 1, "busy_timeout": 5000}


@pytest.mark.asyncio
async def test_data_survives_closing_and_reopening(db_path: Path, make_batch) -> None:
    first = SQLiteStore(db_path)
    await first.open()
    await first.append(make_batch("s1", 1_000, href="https://a.example/"))
    await first.append(make_batch("s1", 2_000))
    await first.close()
    second = SQLiteStore(db_path)
    await second.open()
    try:
        summary = await second.get_session("s1")
        assert summary is not None
        assert (summary.event_count, summary.batch_count) == (7, 2)
        events = (await second.read_events("s1")).events
        assert [e["timestamp"] for e in events] == [1000, 1000, 1001, 1002, 2000, 2001, 2002]
    finally:
        await second.close()


@pytest.mark.asyncio
async def test_concurrent_appends_lose_nothing_and_share_transactions(
    store: SQLiteStore, make_batch
) -> None:
    batches = [make_batch(f"s{i % 5}", 10_000 + i * 10, count=4) for i in range(200)]
    await asyncio.gather(*(store.append(b) for b in batches))
    stats = await store.stats()
    assert (stats.sessions, stats.batches, stats.events) == (5, 200, 800)
    for n in range(5):
        events = (await store.read_events(f"s{n}", limit=10_000)).events
        assert len(events) == 160
        assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert store.groups_committed < 20, store.groups_committed


@pytest.mark.asyncio
async def test_close_commits_appends_already_queued(db_path: Path, make_batch) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    tasks = [asyncio.create_task(store.append(make_batch(f"s{i}", 1_000 + i))) for i in range(30)]
    await asyncio.sleep(0)  # every task has queued its batch
    await store.close()
    assert all(t.done() and t.exception() is None for t in tasks)
    assert _rows(db_path)["sessions"] == 30


@pytest.mark.asyncio
async def test_close_lets_reads_in_flight_finish(db_path: Path, make_batch) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    await store.append(make_batch("s1", 1_000, count=500))
    reads = [asyncio.create_task(store.read_events("s1", limit=100)) for _ in range(8)]
    await asyncio.sleep(0)  # every read has started
    await store.close()
    assert [len((await r).events) for r in reads] == [100] * 8
    with pytest.raises(StoreError, match="not open"):
        await store.list_sessions()


@pytest.mark.asyncio
async def test_a_batch_sqlite_cannot_hold_is_refused_before_it_is_queued(
    store: SQLiteStore, make_batch
) -> None:
    # A lone surrogate has no UTF-8 form: refused up front, so it can never
    # fail a transaction that other requests share.
    with pytest.raises(ValueError, match="session_id is not valid Unicode"):
        await store.append(make_batch("bad\udc00", 1_000))
    huge = make_batch("s1", 1_000)
    huge.digest = replace(huge.digest, last_ts=2**63)
    with pytest.raises(ValueError, match="outside the 64-bit range"):
        await store.append(huge)
    assert await store.count_sessions() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "limits",
    [
        StoreLimits(max_sessions=3),
        StoreLimits(max_events_per_session=7),
        StoreLimits(max_sessions=2, max_events_per_session=5),
    ],
)
async def test_a_shared_transaction_equals_appending_one_by_one(
    db_path: Path, make_batch, limits: StoreLimits
) -> None:
    """Limits inside a group: a session evicted mid-group and appended to
    again starts afresh, as it does one batch at a time (memory store)."""
    plan = [
        ("a", 1_000),
        ("b", 2_000),
        ("a", 9_000),
        ("c", 3_000),
        ("d", 4_000),
        ("b", 8_000),
        ("e", 5_000),
        ("c", 10_000),
        ("a", 11_000),
        ("f", 500),
    ]
    reference = MemoryStore(limits)
    for sid, start in plan:
        await reference.append(make_batch(sid, start, count=3, href=f"https://x.example/{sid}"))
    store = SQLiteStore(db_path, limits)
    await store.open()
    try:
        await asyncio.gather(
            *(
                store.append(make_batch(sid, start, count=3, href=f"https://x.example/{sid}"))
                for sid, start in plan
            )
        )
        assert store.groups_committed == 1
        expected = (await reference.list_sessions(limit=100)).sessions
        got = (await store.list_sessions(limit=100)).sessions
        assert [s.to_dict() for s in got] == [s.to_dict() for s in expected]
        for s in expected:
            want = (await reference.read_events(s.session_id)).events
            assert (await store.read_events(s.session_id)).events == want
        stats, want_stats = await store.stats(), await reference.stats()
        assert (stats.sessions, stats.batches, stats.events) == (
            want_stats.sessions,
            want_stats.batches,
            want_stats.events,
        )
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_reads_do_not_wait_for_a_writer(
    store: SQLiteStore, db_path: Path, make_batch
) -> None:
    await store.append(make_batch("s1", 1_000))
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        blocker.execute("DELETE FROM batches")
        started = time.monotonic()
        page = await store.list_sessions()
        events = await store.read_events("s1")
        assert time.monotonic() - started < 1.0
        assert [s.session_id for s in page.sessions] == ["s1"]
        assert len(events.events) == 3
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@pytest.mark.asyncio
async def test_a_write_waits_for_another_writer_then_succeeds(
    store: SQLiteStore, db_path: Path, make_batch
) -> None:
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, blocker.execute, "COMMIT")
    try:
        await store.append(make_batch("s1", 1_000))
    finally:
        blocker.close()
    assert await store.count_sessions() == 1


@pytest.mark.asyncio
async def test_delete_erase_and_purge_leave_no_row_behind(
    store: SQLiteStore, db_path: Path, make_batch
) -> None:
    for n in range(6):
        await store.append(
            make_batch(f"s{n}", 1_000 * (n + 1), href=f"https://a.example/{n}", custom="signup")
        )
    assert _rows(db_path) == {t: 6 for t in TABLES}
    assert await store.delete_sessions(["s0", "s1"]) == 2
    assert await store.erase(SessionFilter(url_contains="/2")) == 1
    assert await store.purge_before(5_000) == 1
    assert _rows(db_path) == {t: 2 for t in TABLES}
    stats = await store.stats()
    assert (stats.sessions, stats.batches, stats.events) == (2, 2, 10)


@pytest.mark.asyncio
async def test_the_event_cap_rewrites_only_old_batches(db_path: Path, make_batch) -> None:
    store = SQLiteStore(db_path, StoreLimits(max_events_per_session=10))
    await store.open()
    try:
        for n in range(5):
            await store.append(make_batch("s1", 1_000 * (n + 1), count=4))
        events = (await store.read_events("s1")).events
        assert [e["timestamp"] for e in events] == [
            3002,
            3003,
            4000,
            4001,
            4002,
            4003,
            5000,
            5001,
            5002,
            5003,
        ]
        summary = await store.get_session("s1")
        assert summary is not None
        assert (summary.event_count, summary.batch_count) == (10, 3)
        stats = await store.stats()
        assert (stats.events, stats.batches) == (10, 3)
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_the_memory_url_works_without_a_file(tmp_path: Path, make_batch) -> None:
    store = SQLiteStore.from_url("sqlite:///:memory:")
    await store.open()
    try:
        await asyncio.gather(*(store.append(make_batch(f"s{i}", 1_000 + i)) for i in range(10)))
        assert await store.count_sessions() == 10
        assert len((await store.list_sessions(limit=3)).sessions) == 3
    finally:
        await store.close()
    assert list(tmp_path.iterdir()) == []


def test_an_old_sqlite_library_is_refused_with_both_versions() -> None:
    check_sqlite_version(MIN_SQLITE)
    with pytest.raises(StoreUnavailable, match=r"is 3\.31\.1; .* needs 3\.35\.0 or newer"):
        check_sqlite_version((3, 31, 1))


@pytest.mark.asyncio
async def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"directory .*nowhere does not exist"):
        await SQLiteStore(tmp_path / "nowhere" / "x.db").open()


@pytest.mark.asyncio
async def test_listing_walks_an_index_instead_of_sorting(store: SQLiteStore) -> None:
    """Newest-first pages must not sort the whole table (100,000 sessions)."""
    writer = store._open_writer()
    for sql in (
        "SELECT summary FROM sessions s WHERE 1 ORDER BY s.started_at DESC, "
        "s.session_id DESC LIMIT 51",
        "SELECT summary FROM sessions s WHERE s.error_count > 0 AND (s.started_at, "
        "s.session_id) < (1, 'x') ORDER BY s.started_at DESC, s.session_id DESC LIMIT 51",
    ):
        plan = " | ".join(r[3] for r in await writer.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}"))
        assert "TEMP B-TREE" not in plan, plan
        assert "USING INDEX" in plan, plan


@pytest.mark.asyncio
async def test_stats_report_raw_and_compressed_bytes(store: SQLiteStore, make_batch) -> None:
    await store.append(make_batch("s1", 1_000, count=300))
    stats = await store.stats()
    assert stats.raw_bytes > 20_000
    assert 0 < stats.stored_bytes < stats.raw_bytes / 4
    assert stats.compression_ratio == stats.stored_bytes / stats.raw_bytes


@pytest.mark.asyncio
async def test_a_closed_store_refuses_work(db_path: Path, make_batch) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.append(make_batch("s1", 1_000))


@pytest.mark.asyncio
async def test_an_append_keeps_the_events_json_it_is_given(
    store: SQLiteStore, db_path: Path, make_batch
) -> None:
    """The pipeline's text is stored as it is, not serialized again."""
    batch = make_batch("s1", 1_000)
    text = orjson.dumps(batch.events, option=orjson.OPT_INDENT_2)  # same events, other bytes
    batch.events_json = text
    await store.append(batch)
    with sqlite3.connect(db_path) as db:
        blob, raw_bytes = db.execute("SELECT blob, raw_bytes FROM batches").fetchone()
    assert (decompress(blob), raw_bytes) == (text, len(text))
    assert (await store.read_events("s1")).events == batch.events
