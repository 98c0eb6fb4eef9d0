"""The client adapter: PyMongo's async client and Motor behave the same to the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient
from sentiero_store_mongo import driver

pytestmark = pytest.mark.mongo


@pytest_asyncio.fixture(params=["pymongo", "motor"])
async def client(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[Any]:
    if request.param == "motor":
        made: Any = AsyncIOMotorClient(mongo_url, serverSelectionTimeoutMS=3_000)
    else:
        made = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=3_000)
    assert driver.is_motor(made) is (request.param == "motor")
    yield made
    await driver.close_client(made)


@pytest.mark.asyncio
async def test_aggregate_returns_the_documents(client: Any, database: str) -> None:
    collection = client[database]["numbers"]
    await collection.insert_many([{"n": n} for n in range(5)])
    rows = await driver.aggregate(collection, [{"$group": {"_id": None, "t": {"$sum": "$n"}}}])
    assert rows == [{"_id": None, "t": 10}]


@pytest.mark.asyncio
async def test_client_hosts_names_the_seed_servers(client: Any, mongo_url: str) -> None:
    named = driver.client_hosts(client)
    seeds = mongo_url.split("://")[1].split("/")[0].rpartition("@")[2].split(",")
    assert all(seed.split(":")[0] in named for seed in seeds), named
