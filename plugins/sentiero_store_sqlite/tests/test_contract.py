"""The SQLite store runs the contract suite exactly as a third party would,
on a real database file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from sentiero_store_sqlite import SQLiteStore

from sentiero_core.store import Store, StoreLimits
from sentiero_core.testing import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, tmp_path: Path, store_limits: StoreLimits) -> AsyncIterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "contract.db", limits=store_limits)
        await s.open()
        yield s
        await s.close()

    @pytest.fixture
    def reopen_store(self, tmp_path: Path, store: SQLiteStore) -> Callable[[], Awaitable[Store]]:
        async def reopen() -> Store:
            again = SQLiteStore(tmp_path / "contract.db", limits=store.limits)
            await again.open()
            return again

        return reopen
