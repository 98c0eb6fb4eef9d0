"""The core store contract suite, run with each client the store supports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from motor.motor_asyncio import AsyncIOMotorClient
from sentiero_store_mongo import MongoSettings, MongoStore

from sentiero_core.store import Store, StoreLimits
from sentiero_core.testing import StoreContract

MakeStore = Callable[..., Awaitable[MongoStore]]

pytestmark = pytest.mark.mongo


class TestMongoStoreWithPyMongo(StoreContract):
    """The store building its own PyMongo ``AsyncMongoClient`` from a URL."""

    @pytest_asyncio.fixture
    async def store(self, make_store: MakeStore, store_limits: StoreLimits) -> MongoStore:
        return await make_store(limits=store_limits)

    @pytest.fixture
    def reopen_store(self, make_store: MakeStore) -> Callable[[], Awaitable[Store]]:
        return make_store


class TestMongoStoreWithMotor(StoreContract):
    """The store using an injected Motor ``AsyncIOMotorClient``."""

    @pytest_asyncio.fixture
    async def motor(self, mongo_url: str) -> AsyncIterator[Any]:
        client: Any = AsyncIOMotorClient(mongo_url, serverSelectionTimeoutMS=3_000)
        yield client
        client.close()

    @pytest_asyncio.fixture
    async def store(
        self, motor: Any, database: str, fast_settings: MongoSettings, store_limits: StoreLimits
    ) -> AsyncIterator[MongoStore]:
        store = MongoStore(
            client=motor, database=database, settings=fast_settings, limits=store_limits
        )
        await store.open()
        yield store
        await store.close()

    @pytest.fixture
    def reopen_store(
        self, motor: Any, database: str, fast_settings: MongoSettings
    ) -> Callable[[], Awaitable[Store]]:
        async def reopen() -> Store:
            store = MongoStore(client=motor, database=database, settings=fast_settings)
            await store.open()
            return store

        return reopen
