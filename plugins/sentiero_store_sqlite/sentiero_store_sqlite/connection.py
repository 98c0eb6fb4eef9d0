"""Opening connections with Sentiero's pragmas, and naming SQLite failures."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

import aiosqlite

from sentiero_core.store import StoreError, StoreUnavailable

from .url import MEMORY, SQLiteLocation

DEFAULT_BUSY_TIMEOUT_MS = 5_000
#: DELETE ... RETURNING (eviction) arrived in 3.35; row values and JSON earlier.
MIN_SQLITE = (3, 35, 0)

T = TypeVar("T")


class Connection(aiosqlite.Connection):
    """An aiosqlite connection that can also run a whole unit of work in its
    thread in one go.

    Each awaited aiosqlite call is a round trip to the connection's thread:
    a queue put, a wake-up of that thread, then a write to the event loop's
    self-pipe and a wake-up of the loop, and both threads fighting over the
    GIL in between. An append group made ten to twenty of them, and those
    hops, not SQLite, were most of what an append cost. :meth:`run` makes a
    transaction one hop: the function gets the plain ``sqlite3`` connection
    and runs start to finish in the thread that owns it.
    """

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in the connection's thread; its result.

        Queued behind calls already made on this connection, as any other
        call. ``work`` must not touch the connection from another thread or
        keep it. If the caller is cancelled, ``work`` still runs to its end
        (SQLite cannot be interrupted half-way through a statement).
        """
        # _execute and _conn are aiosqlite's own way to run a call in its
        # thread (every public method goes through them); a subclass is the
        # one place that may rely on them.
        result: T = await self._execute(lambda: work(self._conn))
        return result


def check_sqlite_version(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    if version < MIN_SQLITE:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_SQLITE))
        raise StoreUnavailable(
            f"the SQLite library this Python uses is {have}; sentiero-store-sqlite needs "
            f"{need} or newer: use a Python built against a newer SQLite"
        )


async def connect(
    location: SQLiteLocation, *, busy_timeout_ms: int, read_only: bool = False
) -> Connection:
    """A connection in autocommit mode: every transaction is explicit.

    Pragmas that only affect this connection are set here; the WAL journal
    mode lives in the file and is set once by the writer (see
    :func:`enable_wal`), after the file is known to be ours.
    """
    check_sqlite_version()
    if location.path is not None:
        parent = location.path.parent
        if not parent.is_dir():
            raise StoreUnavailable(
                f"cannot open SQLite database {location}: directory {parent} does not exist"
            )
        if location.path.is_dir():
            raise StoreUnavailable(f"cannot open SQLite database {location}: it is a directory")
    target = MEMORY if location.path is None else str(location.path)
    # What aiosqlite.connect() does, with our subclass.
    db = Connection(partial(sqlite3.connect, target, isolation_level=None), iter_chunk_size=64)
    try:
        await db  # starts the thread, which opens the file
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open SQLite database {location}: {exc}") from exc
    try:
        await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            await db.execute("PRAGMA query_only = ON")
    except BaseException:
        await db.close()
        raise
    return db


async def enable_wal(db: aiosqlite.Connection, location: SQLiteLocation) -> None:
    """Switch a file database to WAL: readers then never wait for the writer."""
    if location.in_memory:
        return
    rows = list(await db.execute_fetchall("PRAGMA journal_mode = WAL"))
    mode = str(rows[0][0]).lower()
    if mode != "wal":
        raise StoreUnavailable(
            f"SQLite database {location}: could not enable WAL journal mode (got {mode!r}); "
            f"WAL needs a local file system with shared memory support"
        )


@contextmanager
def sqlite_errors(location: SQLiteLocation) -> Iterator[None]:
    """Re-raise driver errors as store errors that name the database.

    Lock timeouts and I/O failures may pass (:class:`StoreUnavailable`);
    corruption or a foreign file does not (:class:`StoreError`).
    """
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"SQLite database {location}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "not a database" in message or "malformed" in message:
            raise StoreError(
                f"SQLite database {location} is damaged or not a SQLite file ({message})"
            ) from exc
        raise StoreError(f"SQLite database {location}: {message}") from exc


async def rollback(db: aiosqlite.Connection) -> None:
    """Roll back if a transaction is still open (some errors end it already)."""
    if db.in_transaction:
        await db.execute("ROLLBACK")
