"""Schema versions, migrations, and refusing files that are not ours."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import orjson
import pytest
from sentiero_store_sqlite import SQLiteStore
from sentiero_store_sqlite.schema import APPLICATION_ID, LATEST, migrate

from sentiero_core.store import AggregateRow, SessionFilter, SessionSummary, StoreError, Tally
from sentiero_core.testing import T0, make_batch, meta


def _versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT version FROM schema_version ORDER BY version")]


@pytest.mark.asyncio
async def test_a_new_file_gets_every_migration_and_our_application_id(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    await store.close()
    assert _versions(db_path) == list(range(1, LATEST + 1))
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


@pytest.mark.asyncio
async def test_opening_twice_applies_nothing_again(db_path: Path, make_batch) -> None:
    first = SQLiteStore(db_path)
    await first.open()
    await first.append(make_batch("s1", 1_000))
    await first.close()
    second = SQLiteStore(db_path)
    await second.open()
    try:
        assert (await second.get_session("s1")) is not None
    finally:
        await second.close()
    assert _versions(db_path) == list(range(1, LATEST + 1))


@pytest.mark.asyncio
async def test_a_database_at_version_1_migrates_and_its_sessions_become_searchable(
    db_path: Path,
) -> None:
    """Version 2 added the page and custom-event tables: sessions written
    before it must be found by those filters after the upgrade."""
    summary = SessionSummary(
        session_id="old",
        started_at=1_000,
        ended_at=2_000,
        pages=["https://shop.example/Checkout"],
        custom_events=["signup"],
    )
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        assert migrate(db, str(db_path), upto=1) == 1
        db.execute(
            "INSERT INTO sessions (session_id, started_at, ended_at, duration_ms, error_count, "
            "summary) VALUES ('old', 1000, 2000, 1000, 0, ?)",
            (orjson.dumps(summary.to_dict()).decode(),),
        )
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert _versions(db_path) == list(range(1, LATEST + 1))
        assert await store.count_sessions(SessionFilter(url_contains="checkout")) == 1
        assert await store.count_sessions(SessionFilter(custom_event="signup")) == 1
        assert await store.count_sessions(SessionFilter(custom_event="other")) == 0
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    await store.close()
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO schema_version VALUES (?, 0)", (LATEST + 1,))
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1}, newer"):
        await SQLiteStore(db_path).open()


@pytest.mark.asyncio
async def test_another_programs_database_is_refused_and_left_untouched(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO invoices (total) VALUES (9.5)")
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match=r"another program .*tables: invoices"):
        await SQLiteStore(db_path).open()
    assert db_path.read_bytes() == before
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


@pytest.mark.asyncio
async def test_a_file_that_is_not_sqlite_gives_a_clear_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreError, match="damaged or not a SQLite file"):
        await SQLiteStore(db_path).open()


@pytest.mark.asyncio
async def test_a_damaged_database_gives_a_clear_error(db_path: Path, make_batch) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    for i in range(20):
        await store.append(make_batch(f"s{i}", 1_000 * i, count=50))
    await store.close()
    data = bytearray(db_path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # wipe every page after the first
    db_path.write_bytes(bytes(data))
    damaged = SQLiteStore(db_path)
    with pytest.raises(StoreError, match="damaged or not a SQLite file"):
        await damaged.open()


@pytest.mark.asyncio
async def test_a_records_database_gains_the_aggregate_tables_after_them(db_path: Path) -> None:
    """Version 4 (the reporter's records) shipped before version 5 (the
    aggregates): a file already at 4 keeps its records and gets 5 on open."""
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        assert migrate(db, str(db_path), upto=4) == 4
        db.execute("INSERT INTO records VALUES ('issues', 'i1', '{\"count\": 2}')")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "records" in tables and "agg_totals" not in tables
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert _versions(db_path)[:5] == [1, 2, 3, 4, 5]
        assert _versions(db_path) == list(range(1, LATEST + 1))
        assert await store.get_record("issues", "i1") == {"count": 2}
        await _session_with_rows(store)
        totals = await store.aggregate("views", 0, 10, group_by=(0,))
        assert totals == {("/home",): Tally(3, 0.0)}
    finally:
        await store.close()


async def _session_with_rows(store: SQLiteStore) -> None:
    await store.append(make_batch("s1", "w1", [meta(T0, "https://shop.example/")], seq=1))
    assert await store.set_contribution("s1", "k", [AggregateRow("views", 1, ("/home",), 3, 0.0)])


@pytest.mark.asyncio
async def test_totals_written_at_version_5_read_and_subtract_the_same_at_6(db_path: Path) -> None:
    """Version 6 moved the totals' dims from JSON into columns: totals and
    contributions written before it give the same numbers after, and a
    session removed afterwards still takes exactly its rows along."""
    wide = tuple(f"d{i}" for i in range(20))  # more dims than there are columns
    rows = {
        "a": [
            AggregateRow("views", 7, ("chrome", "/home"), 2, 30.0),
            AggregateRow("views", 7, ("chrome", "/home", ""), 1, 5.0),
            AggregateRow("wide", 8, wide, 1, 1.5),
        ],
        "b": [AggregateRow("views", 7, ("chrome", "/home"), 1, 10.0)],
    }
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        assert migrate(db, str(db_path), upto=5) == 5
        for rowid, (sid, mine) in enumerate(rows.items(), start=1):
            db.execute(
                "INSERT INTO sessions (id, session_id, started_at, ended_at, duration_ms, "
                "error_count, summary) VALUES (?, ?, 1000, 2000, 1000, 0, ?)",
                (
                    rowid,
                    sid,
                    orjson.dumps(
                        SessionSummary(session_id=sid, started_at=1000, ended_at=2000).to_dict()
                    ).decode(),
                ),
            )
            dumped = [
                [r.name, r.day, orjson.dumps(list(r.dims)).decode(), r.count, r.total] for r in mine
            ]
            db.execute(
                "INSERT INTO agg_contributions VALUES (?, 'k', 1, ?)",
                (rowid, orjson.dumps(dumped).decode()),
            )
            for name, day, dims, count, total in dumped:
                db.execute(
                    "INSERT INTO agg_totals VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "count = count + excluded.count, total = total + excluded.total",
                    (name, day, dims, count, total),
                )
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert _versions(db_path) == list(range(1, LATEST + 1))
        got = await store.aggregate_rows(["views", "wide"], 0, 10)
        assert sorted((r.name, r.dims, r.count, r.total) for r in got) == [
            ("views", ("chrome", "/home"), 3, 40.0),
            ("views", ("chrome", "/home", ""), 1, 5.0),
            ("wide", wide, 1, 1.5),
        ]
        assert await store.aggregate("wide", 0, 10, where={19: "d19"}) == {(): Tally(1, 1.5)}
        assert await store.delete_sessions(["a"]) == 1
        got = await store.aggregate_rows(["views", "wide"], 0, 10)
        assert [(r.name, r.dims, r.count, r.total) for r in got] == [
            ("views", ("chrome", "/home"), 1, 10.0)
        ]
    finally:
        await store.close()
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("SELECT count(*) FROM agg_totals").fetchone()[0] == 1


@pytest.mark.asyncio
async def test_totals_back_at_zero_are_found_through_their_own_index(db_path: Path) -> None:
    """Totals brought back to zero are deleted after every change, the
    removal trigger's included: that must read the partial index holding
    only them, never the whole table."""
    from sentiero_store_sqlite.totals import DELETE_ZEROS, ZEROS_IN_TRIGGER

    store = SQLiteStore(db_path)
    await store.open()
    await store.close()
    with closing(sqlite3.connect(db_path)) as db:
        for sql in (DELETE_ZEROS, ZEROS_IN_TRIGGER):
            plan = " ".join(str(r[-1]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING INDEX agg_totals_zero" in plan, plan
        trigger = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'agg_contribution_removed'"
        ).fetchone()[0]
        assert ZEROS_IN_TRIGGER in trigger
