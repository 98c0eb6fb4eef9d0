"""The core store contract suite, run with each client the store supports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import bson
import pytest
import pytest_asyncio
from motor.motor_asyncio import AsyncIOMotorClient
from sentiero_store_mongo import MongoSettings, MongoStore

from sentiero_core.store import Store, StoreLimits, decode_blob
from sentiero_core.testing import RawStorage, StoreContract

MakeStore = Callable[..., Awaitable[MongoStore]]

pytestmark = pytest.mark.mongo


async def database_contents(db: Any) -> list[bytes | str]:
    """Every document of every collection in ``db`` as BSON, and every
    batch blob decompressed."""
    chunks: list[bytes | str] = []
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            chunks.append(bson.encode(doc))
            if isinstance(doc.get("blob"), bytes):
                chunks.append(repr(decode_blob(bytes(doc["blob"]))))
    return chunks


def raw_storage_of(raw_db: Any) -> RawStorage:
    async def everything() -> list[bytes | str]:
        return await database_contents(raw_db)

    return everything


class TestMongoStoreWithPyMongo(StoreContract):
    """The store building its own PyMongo ``AsyncMongoClient`` from a URL."""

    @pytest_asyncio.fixture
    async def store(self, make_store: MakeStore, store_limits: StoreLimits) -> MongoStore:
        return await make_store(limits=store_limits)

    @pytest.fixture
    def reopen_store(self, make_store: MakeStore) -> Callable[[], Awaitable[Store]]:
        return make_store

    @pytest.fixture
    def raw_storage(self, raw_db: Any) -> RawStorage:
        return raw_storage_of(raw_db)


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

    @pytest.fixture
    def raw_storage(self, raw_db: Any) -> RawStorage:
        return raw_storage_of(raw_db)
