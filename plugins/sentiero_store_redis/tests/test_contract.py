"""The core store contract suite, unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from sentiero_store_redis import RedisStore

from sentiero_core.store import Store, StoreLimits, decode_blob
from sentiero_core.testing import RawStorage, StoreContract

MakeStore = Callable[..., Awaitable[RedisStore]]


async def everything_under(client: Any, prefix: str) -> list[bytes | str]:
    """Every key under ``prefix`` with its whole value, batch blobs decompressed."""
    chunks: list[bytes | str] = []
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        chunks.append(key)
        kind = (await client.type(key)).decode()
        if kind == "string":
            chunks.append(await client.get(key))
        elif kind == "hash":
            blobs = key.startswith(f"{prefix}e:".encode())
            for field, value in (await client.hgetall(key)).items():
                chunks.append(field)
                chunks.append(repr(decode_blob(value)) if blobs else value)
        elif kind == "set":
            chunks.extend(await client.smembers(key))
        elif kind == "zset":
            chunks.extend(m for m, _s in await client.zrange(key, 0, -1, withscores=True))
        else:
            raise AssertionError(f"unexpected {kind} at {key!r}")
    return chunks


class TestRedisStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, make_store: MakeStore, store_limits: StoreLimits) -> RedisStore:
        return await make_store(limits=store_limits)

    @pytest.fixture
    def reopen_store(self, make_store: MakeStore) -> Callable[[], Awaitable[Store]]:
        return make_store

    @pytest.fixture
    def raw_storage(self, raw_redis: aioredis.Redis, prefix: str) -> RawStorage:
        async def everything() -> list[bytes | str]:
            return await everything_under(raw_redis, prefix)

        return everything
