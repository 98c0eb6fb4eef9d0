"""The memory store runs the contract suite exactly as a third party would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from sentiero_core.store import StoreLimits
from sentiero_core.store.memory import MemoryStore
from sentiero_core.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, store_limits: StoreLimits) -> AsyncIterator[MemoryStore]:
        s = MemoryStore(limits=store_limits)
        await s.open()
        yield s
        await s.close()
