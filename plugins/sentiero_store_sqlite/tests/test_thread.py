"""The connection's own thread: one per connection, calls in order, errors
and cancellation carried back to the caller, a clean end."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sentiero_store_sqlite.thread import Connection


async def _open(path: Path) -> Connection:
    # sqlite3's own check (check_same_thread) fails any use from another thread
    return await Connection.open(lambda: sqlite3.connect(path, isolation_level=None), "t")


def _thread_named(name: str) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == name), None)


@pytest.mark.asyncio
async def test_every_call_runs_on_one_thread_of_its_own(db_path: Path) -> None:
    db = await _open(db_path)
    try:
        threads = {await db.run(lambda _: threading.get_ident()) for _ in range(5)}
        assert len(threads) == 1
        assert threads != {threading.get_ident()}
        await db.execute("CREATE TABLE t (x)")
        await db.execute("INSERT INTO t VALUES (?)", (7,))
        assert await db.execute_fetchall("SELECT x FROM t") == [(7,)]
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_calls_made_at_once_run_in_the_order_they_were_made(db_path: Path) -> None:
    db = await _open(db_path)
    try:
        await db.execute("CREATE TABLE t (x)")
        await asyncio.gather(*(db.execute("INSERT INTO t VALUES (?)", (i,)) for i in range(50)))
        rows = await db.execute_fetchall("SELECT x FROM t ORDER BY rowid")
        assert [r[0] for r in rows] == list(range(50))
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_an_error_reaches_the_caller_and_the_connection_goes_on(db_path: Path) -> None:
    db = await _open(db_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await db.execute_fetchall("SELECT * FROM missing")

        def fails(_: sqlite3.Connection) -> None:
            raise KeyError("inside")

        with pytest.raises(KeyError, match="inside"):
            await db.run(fails)
        assert await db.execute_fetchall("SELECT 1") == [(1,)]
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_work_whose_caller_is_cancelled_still_runs_to_its_end(db_path: Path) -> None:
    db = await _open(db_path)
    started = threading.Event()

    def slow(conn: sqlite3.Connection) -> None:
        started.set()
        time.sleep(0.2)
        conn.execute("CREATE TABLE done (x)")

    try:
        call = asyncio.ensure_future(db.run(slow))
        await asyncio.to_thread(started.wait, 5)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # queued behind the cancelled call, so it sees what that call did
        assert await db.execute_fetchall("SELECT name FROM sqlite_master") == [("done",)]
    finally:
        await db.close()


@pytest.mark.asyncio
async def test_close_waits_for_queued_calls_then_ends_the_thread(db_path: Path) -> None:
    db = await Connection.open(
        lambda: sqlite3.connect(db_path, isolation_level=None), "sentiero-test-closing"
    )
    thread = _thread_named("sentiero-test-closing")
    assert thread is not None and thread.is_alive()
    await db.execute("CREATE TABLE t (x)")
    pending = [asyncio.ensure_future(db.execute("INSERT INTO t VALUES (1)")) for _ in range(10)]
    await asyncio.sleep(0)  # the inserts are queued before close()
    await db.close()
    await asyncio.gather(*pending)
    thread.join(5)
    assert not thread.is_alive()
    with sqlite3.connect(db_path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (10,)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await db.execute("SELECT 1")
    await db.close()  # a second close is harmless
    assert db.closed


@pytest.mark.asyncio
async def test_a_failed_open_raises_and_leaves_no_thread(tmp_path: Path) -> None:
    def refuses() -> sqlite3.Connection:
        return sqlite3.connect(tmp_path / "no" / "such" / "dir.db")

    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await Connection.open(refuses, "sentiero-test-refused")
    deadline = time.monotonic() + 5
    while _thread_named("sentiero-test-refused") and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert _thread_named("sentiero-test-refused") is None


class _Recorded(sqlite3.Connection):
    closed_on: list[int] = []

    def close(self) -> None:
        self.closed_on.append(threading.get_ident())
        super().close()


@pytest.mark.asyncio
async def test_a_connection_dropped_without_close_is_closed_on_its_thread(
    db_path: Path,
) -> None:
    db = await Connection.open(
        lambda: sqlite3.connect(db_path, factory=_Recorded), "sentiero-test-dropped"
    )
    thread = _thread_named("sentiero-test-dropped")
    assert thread is not None
    del db
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()
    assert _Recorded.closed_on == [thread.ident]
