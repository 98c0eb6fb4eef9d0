"""Opening connections with Sentiero's pragmas, and naming SQLite failures."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sentiero_core.store import StoreError, StoreUnavailable

from .thread import Connection
from .url import MEMORY, SQLiteLocation

__all__ = ["Connection", "connect", "enable_wal", "rollback", "sqlite_errors"]

DEFAULT_BUSY_TIMEOUT_MS = 5_000
#: DELETE ... RETURNING (eviction) arrived in 3.35; row values and JSON earlier.
MIN_SQLITE = (3, 35, 0)


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
    role = "reader" if read_only else "writer"
    try:
        db = await Connection.open(
            lambda: sqlite3.connect(target, isolation_level=None), name=f"sentiero-sqlite-{role}"
        )
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open SQLite database {location}: {exc}") from exc
    pragmas = [
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = NORMAL",
    ]
    if read_only:
        pragmas.append("PRAGMA query_only = ON")

    def setting(conn: sqlite3.Connection) -> None:
        for pragma in pragmas:
            conn.execute(pragma)

    try:
        await db.run(setting)
    except BaseException:
        await db.close()
        raise
    return db


async def enable_wal(db: Connection, location: SQLiteLocation) -> None:
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


async def rollback(db: Connection) -> None:
    """Roll back if a transaction is still open (some errors end it already)."""
    await db.run(rollback_now)


def rollback_now(db: sqlite3.Connection) -> None:
    """:func:`rollback`, for work already on the connection's thread."""
    if db.in_transaction:
        db.execute("ROLLBACK")
