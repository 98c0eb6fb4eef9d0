"""A MongoDB wire-protocol server for the whole test session.

SecantusDB (a GPL test-only dependency) runs in this process, in memory.
With ``SENTIERO_TEST_MONGO_URL`` set, every test uses that server instead
(a real replica set, say). Each test gets a database of its own, dropped
afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient
from sentiero_store_mongo import MongoSettings, MongoStore

from sentiero_core.store import StoreLimits

EXTERNAL_URL_ENV = "SENTIERO_TEST_MONGO_URL"

#: Short timeouts so a broken test server fails a test quickly.
FAST = MongoSettings(server_selection_timeout_ms=3_000, connect_timeout_ms=2_000)


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database``, keeping its hosts and options."""
    scheme, _, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    options = path.partition("?")[2]
    return f"{scheme}://{netloc}/{database}" + (f"?{options}" if options else "")


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        yield external
        return
    from secantus import SecantusDBServer

    server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=":memory:")
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest_asyncio.fixture
async def database(mongo_url: str) -> AsyncIterator[str]:
    """A fresh database name, dropped after the test."""
    name = f"sentiero_test_{uuid.uuid4().hex[:12]}"
    yield name
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=3_000)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
def database_url(mongo_url: str, database: str) -> str:
    """The test server's URL naming the test database."""
    return with_database(mongo_url, database)


@pytest_asyncio.fixture
async def raw_db(mongo_url: str, database: str) -> AsyncIterator[Any]:
    """Direct access to the test database, to look behind the store's back."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=3_000)
    try:
        yield client[database]
    finally:
        await client.close()


MakeStore = Callable[..., Awaitable[MongoStore]]


@pytest.fixture
def fast_settings() -> MongoSettings:
    return FAST


@pytest_asyncio.fixture
async def make_store(mongo_url: str, database: str) -> AsyncIterator[MakeStore]:
    """Opened stores over the test database; all closed after the test."""
    opened: list[MongoStore] = []

    async def make(
        limits: StoreLimits | None = None,
        settings: MongoSettings = FAST,
        retention_period: int | None = None,
    ) -> MongoStore:
        store = MongoStore(
            with_database(mongo_url, database),
            settings=settings,
            limits=limits,
            retention_period=retention_period,
        )
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
