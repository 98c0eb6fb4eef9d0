"""Batches delivered twice: the recorder_seq column, its unique index, and
repeats inside one group commit."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from sentiero_store_sqlite import SQLiteStore
from sentiero_store_sqlite.schema import migrate

from sentiero_core.store import StoreLimits
from sentiero_core.testing import T0, labels, make_batch, read_all, text_mutation


def _batch(seq: int | None, session_id: str = "s1", window_id: str = "w1", start: int = T0):
    events = [text_mutation(start + i, f"{window_id}.{seq}.{i}") for i in range(3)]
    return make_batch(session_id, window_id, events, seq=seq)


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


@pytest.mark.asyncio
async def test_the_seq_is_stored_beside_the_batch_and_unique(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert await store.append(_batch(4)) is True
        assert await store.append(_batch(None, start=T0 + 10)) is True
        assert await store.append(_batch(4)) is False
    finally:
        await store.close()
    assert _rows(db_path, "SELECT recorder_seq FROM batches ORDER BY seq") == [(4,), (None,)]
    with sqlite3.connect(db_path) as db, pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(
            "INSERT INTO batches (session_rowid, window_id, min_ts, max_ts, event_count, "
            "raw_bytes, blob, recorder_seq) SELECT session_rowid, window_id, min_ts, max_ts, "
            "event_count, raw_bytes, blob, recorder_seq FROM batches WHERE recorder_seq = 4"
        )


@pytest.mark.asyncio
async def test_repeats_in_one_group_are_stored_once(store: SQLiteStore) -> None:
    before = store.groups_committed
    batches = [_batch(1), _batch(1, window_id="w2"), _batch(1), _batch(2), _batch(2), _batch(1)]
    results = await asyncio.gather(*(store.append(b) for b in batches))
    assert store.groups_committed - before == 1  # all six shared one transaction
    assert results == [True, True, False, True, False, False]
    summary = await store.get_session("s1")
    assert summary is not None
    assert (summary.event_count, summary.batch_count, sorted(summary.windows)) == (
        9,
        3,
        ["w1", "w2"],
    )
    assert (await store.stats()).batches == 3


@pytest.mark.asyncio
async def test_a_session_evicted_and_restarted_in_one_group_takes_its_seq_again(
    db_path: Path,
) -> None:
    """One batch at a time, an evicted session forgets its seqs: so must a group."""
    store = SQLiteStore(db_path, StoreLimits(max_sessions=1))
    await store.open()
    try:
        batches = [_batch(1, "a"), _batch(1, "b", start=T0 + 100), _batch(1, "a", start=T0 + 200)]
        results = await asyncio.gather(*(store.append(b) for b in batches))
        assert results == [True, True, True]
        assert labels(await read_all(store, "a")) == ["w1.1.0", "w1.1.1", "w1.1.2"]
        summary = await store.get_session("a")
        assert summary is not None and summary.started_at == T0 + 200
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_version_2_database_migrates_and_keeps_its_batches(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        assert migrate(db, str(db_path), upto=2) == 2
    # a store of that time wrote batches without any seq column
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO sessions (session_id, started_at, ended_at, duration_ms, error_count, "
            "summary) VALUES ('old', 1, 2, 1, 0, '{}')"
        )
        db.execute(
            "INSERT INTO batches (session_rowid, window_id, min_ts, max_ts, event_count, "
            "raw_bytes, blob) VALUES (1, 'w1', 1, 2, 0, 0, x'')"
        )
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert _rows(db_path, "SELECT recorder_seq FROM batches") == [(None,)]
        indexes = _rows(db_path, "SELECT name FROM sqlite_master WHERE type = 'index'")
        assert ("batches_delivered",) in indexes
        assert await store.append(_batch(1)) is True
        assert await store.append(replace(_batch(1), events=[text_mutation(T0, "x")])) is False
    finally:
        await store.close()
