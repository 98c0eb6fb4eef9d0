"""The optional TTL: refreshed by every append, and what Redis expires is
reported (as purged) by the next purge, never silently forgotten."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from sentiero_store_redis import RedisSettings, RedisStore

from sentiero_core.testing import T0, make_batch, text_mutation

MakeStore = Callable[..., Awaitable[RedisStore]]

pytestmark = pytest.mark.asyncio


async def test_every_session_key_expires_and_each_append_refreshes_it(
    make_store: MakeStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    store = await make_store(settings=RedisSettings(key_prefix=prefix, ttl_seconds=100))
    await store.append(make_batch("s1", "w1", [text_mutation(T0, "a")], seq=1))
    for tag in ("s:", "m:", "e:", "d:"):
        assert 0 < await raw_redis.ttl(f"{prefix}{tag}s1") <= 100
    await raw_redis.expire(f"{prefix}s:s1", 5)
    await store.append(make_batch("s1", "w1", [text_mutation(T0 + 1, "b")], seq=2))
    assert await raw_redis.ttl(f"{prefix}s:s1") > 5
    # The indexes are shared by every session and never expire.
    assert await raw_redis.ttl(f"{prefix}started") == -1


async def test_without_ttl_nothing_expires(
    make_store: MakeStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    store = await make_store()
    await store.append(make_batch("s1", "w1", [text_mutation(T0, "a")], seq=1))
    assert await raw_redis.ttl(f"{prefix}s:s1") == -1


async def test_an_expired_session_disappears_and_the_next_purge_reports_it_once(
    make_store: MakeStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    store = await make_store(settings=RedisSettings(key_prefix=prefix, ttl_seconds=60))
    heard: list[tuple[str, list[str]]] = []
    store.add_removal_listener(lambda ids, reason: heard.append((reason, list(ids))))
    await store.append(make_batch("gone", "w1", [text_mutation(T0, "a")], seq=1))
    await store.append(make_batch("kept", "w1", [text_mutation(T0 + 10_000, "b")], seq=1))
    for tag in ("s:", "m:", "e:", "d:"):
        await raw_redis.pexpire(f"{prefix}{tag}gone", 1)
    await asyncio.sleep(0.05)
    assert await store.get_session("gone") is None
    assert [s.session_id for s in (await store.list_sessions()).sessions] == ["kept"]
    assert heard == []  # Redis expired it silently ...
    assert await store.purge_before(T0 + 1) == 1  # ... the purge notices and reports it
    assert heard == [("purged", ["gone"])]
    assert await raw_redis.zscore(f"{prefix}active", "gone") is None
    assert await store.count_sessions() == 1
