"""The memory store runs the contract suite exactly as a third party would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from sentiero_core.store import MemoryStore, StoreLimits
from sentiero_core.testing import RawStorage, StoreContract, reachable_data


class TestMemoryStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, store_limits: StoreLimits) -> AsyncIterator[MemoryStore]:
        s = MemoryStore(limits=store_limits)
        await s.open()
        yield s
        await s.close()

    @pytest.fixture
    def raw_storage(self, store: MemoryStore) -> RawStorage:
        async def everything() -> list[bytes | str]:
            return reachable_data(store)

        return everything
