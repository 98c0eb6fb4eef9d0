"""Removing sessions leaves nothing of them in any collection."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from sentiero_core.store import SessionFilter, StoreLimits
from sentiero_core.testing import T0, error, make_batch, meta, text_mutation

pytestmark = pytest.mark.mongo


async def _leftovers(raw_db: Any, session_ids: set[str]) -> dict[str, int]:
    """Documents still mentioning any of ``session_ids``, per collection."""
    found = {}
    for name in await raw_db.list_collection_names():
        query = {"$or": [{"_id": {"$in": list(session_ids)}}, {"sid": {"$in": list(session_ids)}}]}
        found[name] = await raw_db[name].count_documents(query)
    return found


async def _fill(store: Any) -> None:
    for n in range(6):
        for w in ("w1", "w2"):
            events = [
                meta(T0 + n * 10_000, f"https://x.test/{n}"),
                text_mutation(T0 + n * 10_000 + 5, f"{n}{w}"),
            ]
            if n % 2:
                events.append(error(T0 + n * 10_000 + 6))
            await store.append(make_batch(f"s{n}", w, events))


@pytest_asyncio.fixture
async def filled(make_store: Any) -> Any:
    store = await make_store()
    await _fill(store)
    return store


@pytest.mark.asyncio
async def test_delete_leaves_nothing_behind(filled: Any, raw_db: Any) -> None:
    assert await filled.delete_sessions(["s0", "s1", "s1", "nope"]) == 2
    assert set((await _leftovers(raw_db, {"s0", "s1"})).values()) == {0}
    assert await raw_db["sentiero_batches"].count_documents({}) == 8


@pytest.mark.asyncio
async def test_erase_leaves_nothing_behind(filled: Any, raw_db: Any) -> None:
    assert await filled.erase(SessionFilter(has_errors=True)) == 3
    assert set((await _leftovers(raw_db, {"s1", "s3", "s5"})).values()) == {0}
    assert await filled.count_sessions() == 3


@pytest.mark.asyncio
async def test_purge_leaves_nothing_behind(filled: Any, raw_db: Any) -> None:
    assert await filled.purge_before(T0 + 30_000) == 3
    assert set((await _leftovers(raw_db, {"s0", "s1", "s2"})).values()) == {0}
    assert await raw_db["sentiero_batches"].count_documents({}) == 6


@pytest.mark.asyncio
async def test_eviction_by_max_sessions_leaves_nothing_behind(make_store: Any, raw_db: Any) -> None:
    store = await make_store(limits=StoreLimits(max_sessions=2))
    await _fill(store)
    assert [s.session_id for s in (await store.list_sessions()).sessions] == ["s5", "s4"]
    evicted = {f"s{n}" for n in range(4)}
    assert set((await _leftovers(raw_db, evicted)).values()) == {0}


@pytest.mark.asyncio
async def test_trimming_keeps_summary_counts_equal_to_what_is_stored(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store(limits=StoreLimits(max_events_per_session=7))
    for b in range(5):
        await store.append(
            make_batch("s", "w", [text_mutation(T0 + b * 3 + i, f"{b}.{i}") for i in range(3)])
        )
    summary = await store.get_session("s")
    stats = await store.stats()
    assert summary is not None
    assert (summary.event_count, summary.batch_count) == (7, 3) == (stats.events, stats.batches)
    assert await raw_db["sentiero_batches"].count_documents({"sid": "s"}) == 3


@pytest.mark.asyncio
async def test_trimming_overlapping_windows_keeps_what_the_memory_store_keeps(
    make_store: Any,
) -> None:
    import random

    from sentiero_core.store import MemoryStore
    from sentiero_core.testing import read_all

    limits = StoreLimits(max_events_per_session=23)
    mongo, memory = await make_store(limits=limits), MemoryStore(limits)
    rng = random.Random(11)
    for b in range(30):
        start = T0 + rng.randrange(0, 400)
        events = [
            text_mutation(start + rng.randrange(0, 200), f"{b}.{i}")
            for i in range(rng.randrange(1, 6))
        ]
        batch = make_batch("s", f"w{b % 3}", sorted(events, key=lambda e: e["timestamp"]))
        await mongo.append(batch)
        await memory.append(batch)
        assert await read_all(mongo, "s", limit=9) == await read_all(memory, "s"), b
    kept, expected = await mongo.get_session("s"), await memory.get_session("s")
    assert kept is not None and expected is not None
    assert (kept.event_count, kept.batch_count) == (expected.event_count, expected.batch_count)


@pytest.mark.asyncio
async def test_two_servers_removing_the_same_sessions_report_each_once(
    make_store: Any,
) -> None:
    """Two app servers (two stores over one database) delete, erase and
    purge the same sessions at once: every session is reported by exactly
    one of them, as MongoDB's counts alone could not tell."""
    import asyncio
    from collections import Counter

    one, two = await make_store(), await make_store()
    await _fill(one)
    ids = [f"s{n}" for n in range(6)]
    reported: Counter[str] = Counter()
    for store in (one, two):
        store.add_removal_listener(lambda session_ids, reason: reported.update(session_ids))
    counts = await asyncio.gather(
        one.delete_sessions(ids),
        two.delete_sessions(ids),
        one.erase(SessionFilter(has_errors=True)),
        two.purge_before(T0 + 100_000),
    )
    assert sum(counts) == 6
    assert reported == Counter(ids)


@pytest.mark.asyncio
async def test_a_claim_left_by_a_dead_server_expires(make_store: Any, raw_db: Any) -> None:
    """Sessions a server claimed for removal and never deleted (it died)
    are removed by the next removal once the claim is stale."""
    from datetime import UTC, datetime, timedelta

    from bson import ObjectId

    store = await make_store()
    await _fill(store)
    sessions = raw_db["sentiero_sessions"]
    await sessions.update_one(
        {"_id": "s0"}, {"$set": {"rm": ObjectId(), "rm_at": datetime.now(UTC)}}
    )
    assert await store.delete_sessions(["s0"]) == 0  # claimed by another, live
    assert await store.get_session("s0") is not None
    stale = datetime.now(UTC) - timedelta(minutes=10)
    await sessions.update_one({"_id": "s0"}, {"$set": {"rm_at": stale}})
    assert await store.delete_sessions(["s0"]) == 1
    assert await _leftovers(raw_db, {"s0"}) == dict.fromkeys(
        await raw_db.list_collection_names(), 0
    )
