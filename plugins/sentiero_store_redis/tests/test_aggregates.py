"""Aggregates with several app servers on one Redis: two stores (each its
own client) setting contributions, merging facts and removing sessions at
once keep totals exactly the sum of the contributions of the sessions that
remain; and what Redis holds for them is bounded and goes with them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from sentiero_store_redis import RedisSettings, RedisStore

from sentiero_core.store import AggregateRow, StoreLimits, Tally
from sentiero_core.testing import T0, make_batch, meta, text_mutation

MakeStore = Callable[..., Awaitable[RedisStore]]

pytestmark = pytest.mark.asyncio

DAY = T0 // 86_400_000


async def _session(store: RedisStore, sid: str, start: int = T0) -> None:
    await store.append(make_batch(sid, "w1", [meta(start, f"https://x.example/{sid}")], seq=1))


def _rows(page: str, n: int, day: int = DAY) -> list[AggregateRow]:
    return [
        AggregateRow("views", day, (page,), n, n * 0.1),
        AggregateRow("views", day + 1, (page, "late"), 1, 2.5),
    ]


async def _views(store: RedisStore) -> dict[tuple[str, ...], Tally]:
    return await store.aggregate("views", DAY - 5, DAY + 5, group_by=(0,))


async def test_two_app_servers_setting_the_same_contributions_keep_totals_exact(
    make_store: MakeStore,
) -> None:
    one, two = await make_store(), await make_store()
    sessions = [f"s{i}" for i in range(10)]
    for sid in sessions:
        await _session(one, sid)
    calls = []
    for sid in sessions:
        for version in range(1, 11):
            rows = _rows(f"/v{version}", version)
            # every fold delivered through both servers, versions shuffled
            calls += [(one, sid, version, rows), (two, sid, version, rows)]
        calls.append((two, sid, 0, _rows("/batch", 3)))  # a per-batch key, twice
        calls.append((one, sid, 0, _rows("/batch", 3)))
    random.Random(3).shuffle(calls)
    answers = await asyncio.gather(
        *(
            s.set_contribution(sid, "batch" if v == 0 else "fold", rows, version=max(v, 1))
            for s, sid, v, rows in calls
        )
    )
    assert answers.count(True) >= len(sessions) * 2  # each key won at least once per session
    for store in (one, two):
        got = await _views(store)
        assert set(got) == {("/v10",), ("/batch",)}
        assert got[("/v10",)].count == 100 + 10  # the late row of every session
        assert got[("/v10",)].total == pytest.approx(10 * 1.0 + 10 * 2.5)
        assert got[("/batch",)].count == 30 + 10
        assert got[("/batch",)].total == pytest.approx(10 * 0.3 + 10 * 2.5)
    merged = await asyncio.gather(
        *((one, two)[i % 2].merge_facts("s0", {f"f{i}": i}) for i in range(30))
    )
    versions = [m.version for m in merged if m is not None]
    assert sorted(versions) == list(range(1, 31)), "every merge a version of its own"
    facts = await two.session_facts("s0")
    assert facts is not None and facts.facts == {f"f{i}": i for i in range(30)}


async def test_removal_racing_sets_on_another_server_subtracts_exactly(
    make_store: MakeStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    one, two = await make_store(), await make_store()
    kept, doomed = [f"k{i}" for i in range(5)], [f"d{i}" for i in range(5)]
    for sid in kept + doomed:
        await _session(one, sid)
        await one.merge_facts(sid, {"f": sid})
    sets = [
        one.set_contribution(sid, "fold", _rows("/p", version), version=version)
        for sid in kept + doomed
        for version in range(1, 6)
    ]
    random.Random(5).shuffle(sets)
    # the deletes land somewhere among the sets: before, between or after
    await asyncio.gather(*sets[:20], two.delete_sessions(doomed), *sets[20:])
    got = await _views(two)
    assert got[("/p",)].count == len(kept) * (5 + 1)
    assert got[("/p",)].total == pytest.approx(len(kept) * (0.5 + 2.5))
    for sid in doomed:
        assert await raw_redis.exists(f"{prefix}gc:{sid}", f"{prefix}gf:{sid}") == 0
        assert await raw_redis.zscore(f"{prefix}gs", sid) is None
        assert not await two.set_contribution(sid, "fold", _rows("/p", 9), version=9)
    assert await two.unfolded_sessions("fold") == []
    await one.delete_sessions(kept)
    assert await _views(two) == {}
    # totals at zero are deleted, and their day and name index entries
    left = [k async for k in raw_redis.scan_iter(match=f"{prefix}g*")]
    assert left == []


async def test_eviction_by_another_server_subtracts(make_store: MakeStore) -> None:
    one = await make_store(limits=StoreLimits(max_sessions=2))
    two = await make_store(limits=StoreLimits(max_sessions=2))
    await _session(one, "old", T0)
    await _session(two, "mid", T0 + 1_000)
    await one.set_contribution("old", "k", _rows("/old", 1))
    await two.set_contribution("mid", "k", _rows("/mid", 1))
    await _session(two, "new", T0 + 2_000)  # evicts "old"
    got = await _views(one)
    assert set(got) == {("/mid",)}


async def test_contributions_outlive_the_ttl_until_the_purge_subtracts_them(
    make_store: MakeStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    store = await make_store(settings=RedisSettings(key_prefix=prefix, ttl_seconds=60))
    await store.append(make_batch("gone", "w1", [text_mutation(T0, "a")], seq=1))
    await store.append(make_batch("kept", "w1", [text_mutation(T0 + 10_000, "b")], seq=1))
    await store.merge_facts("gone", {"f": 1})
    await store.set_contribution("gone", "k", _rows("/gone", 1))
    await store.set_contribution("kept", "k", _rows("/kept", 1))
    assert await raw_redis.ttl(f"{prefix}gc:gone") == -1
    assert await raw_redis.ttl(f"{prefix}gf:gone") == -1
    for tag in ("s:", "m:", "e:", "d:"):
        await raw_redis.pexpire(f"{prefix}{tag}gone", 1)
    await asyncio.sleep(0.05)
    # expired, not yet purged: its numbers still count (plugins hear of it at the purge)
    assert set(await _views(store)) == {("/gone",), ("/kept",)}
    assert await store.purge_before(T0 + 1) == 1
    assert set(await _views(store)) == {("/kept",)}


async def test_a_day_range_reads_only_the_days_holding_totals(
    make_store: MakeStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    store = await make_store()
    await _session(store, "a")
    await store.set_contribution("a", "k", [AggregateRow("views", DAY + 3, ("/x",), 2, 1.0)])
    assert await raw_redis.zrange(f"{prefix}gd:views", 0, -1, withscores=True) == [
        (str(DAY + 3).encode(), float(DAY + 3))
    ]
    assert await raw_redis.hgetall(f"{prefix}gt:{DAY + 3}:views") == {b'["/x"]': b"2 1"}
    # a range of a million days costs what its one day with totals costs
    rows = await store.aggregate_rows(["views"], DAY - 1_000_000, DAY + 1_000_000)
    assert rows == [AggregateRow("views", DAY + 3, ("/x",), 2, 1.0)]
    assert await store.aggregate_rows(["views"], DAY + 4, DAY + 1_000_000) == []
