"""The SQLite store runs the contract suite exactly as a third party would,
on a real database file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
import pytest_asyncio
from sentiero_store_sqlite import SQLiteStore

from sentiero_core.store import Store, StoreLimits, decode_blob
from sentiero_core.testing import RawStorage, ReopenStore, StoreContract


def database_contents(path: Path) -> list[bytes | str]:
    """Everything the database holds: the bytes of its files (the main
    file and the WAL, after the checkpoint SQLite runs on its own sooner or
    later), every row of every table, and every batch blob decompressed."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        chunks: list[bytes | str] = []
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            chunks += [repr(row) for row in db.execute(f'SELECT * FROM "{table}"')]
        chunks += [events_text(blob) for (blob,) in db.execute("SELECT blob FROM batches")]
    for suffix in ("", "-wal"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            chunks.append(file.read_bytes())
    return chunks


def events_text(blob: bytes) -> str:
    return repr(decode_blob(blob))


class TestSQLiteStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, tmp_path: Path, store_limits: StoreLimits) -> AsyncIterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "contract.db", limits=store_limits)
        await s.open()
        yield s
        await s.close()

    @pytest.fixture
    def reopen_store(self, tmp_path: Path, store: SQLiteStore) -> ReopenStore:
        async def reopen() -> Store:
            again = SQLiteStore(tmp_path / "contract.db", limits=store.limits)
            await again.open()
            return again

        return reopen

    @pytest.fixture
    def raw_storage(self, tmp_path: Path, store: SQLiteStore) -> RawStorage:
        async def everything() -> list[bytes | str]:
            return database_contents(tmp_path / "contract.db")

        return everything
