"""What the store leaves in MongoDB: documents, indexes, expiry."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sentiero_store_mongo import MongoSettings, MongoStore, documents, limits

from sentiero_core.store import decompress
from sentiero_core.testing import T0, make_batch, read_all, realistic_events, text_mutation

pytestmark = pytest.mark.mongo

DAY = 86_400
TTL = MongoSettings(server_selection_timeout_ms=3_000, connect_timeout_ms=2_000, ttl_index=True)


def _names(indexes: dict[str, Any]) -> set[str]:
    return set(indexes) - {"_id_"}


@pytest.mark.asyncio
async def test_a_batch_is_one_compressed_document_keyed_by_session(
    make_store: Any, raw_db: Any
) -> None:
    store: MongoStore = await make_store()
    events = realistic_events(T0, 200, seed=3)
    await store.append(make_batch("sess-1", "win-1", events))
    docs = await raw_db["sentiero_batches"].find({}).to_list(None)
    assert len(docs) == 1
    doc = docs[0]
    assert (doc["sid"], doc["win"], doc["n"]) == ("sess-1", "win-1", 200)
    assert (doc["t0"], doc["t1"]) == (events[0]["timestamp"], events[-1]["timestamp"])
    assert orjson.loads(decompress(doc["blob"])) == events
    assert doc["size"] == len(doc["blob"]) < len(orjson.dumps(events)) / 4
    assert "exp" not in doc


@pytest.mark.asyncio
async def test_open_creates_the_indexes_and_can_run_again(make_store: Any, raw_db: Any) -> None:
    await make_store()
    await make_store()  # a second app server starting over the same database
    assert _names(await raw_db["sentiero_batches"].index_information()) == {"session_time"}
    assert _names(await raw_db["sentiero_sessions"].index_information()) == {
        "newest_first",
        "user",
        "custom_event",
    }


@pytest.mark.asyncio
async def test_a_retention_period_adds_a_ttl_index_and_expiry_dates(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store(retention_period=30 * DAY, settings=TTL)
    received = T0 + 5_000
    await store.append(make_batch("s", "w", [text_mutation(T0, "a")], received_at=T0))
    await store.append(make_batch("s", "w", [text_mutation(T0 + 1, "b")], received_at=received))
    for kind in ("batches", "sessions"):
        index = (await raw_db[f"sentiero_{kind}"].index_information())["expiry"]
        assert (index["key"], index["expireAfterSeconds"]) == ([("exp", 1)], 0)
    expected = datetime.fromtimestamp(received / 1000, tz=UTC) + timedelta(days=30)
    summary = await raw_db["sentiero_sessions"].find_one({"_id": "s"})
    assert summary["exp"].replace(tzinfo=UTC) == expected  # the latest batch's
    batch_expiries = await raw_db["sentiero_batches"].distinct("exp")
    assert len(batch_expiries) == 2 and max(batch_expiries).replace(tzinfo=UTC) == expected


@pytest.mark.asyncio
async def test_switching_retention_off_drops_the_ttl_index(make_store: Any, raw_db: Any) -> None:
    await make_store(retention_period=DAY, settings=TTL)
    await make_store(retention_period=None, settings=TTL)
    for kind in ("batches", "sessions"):
        assert "expiry" not in await raw_db[f"sentiero_{kind}"].index_information()


@pytest.mark.asyncio
async def test_open_drops_the_index_earlier_versions_kept_on_ended_at(
    make_store: Any, raw_db: Any
) -> None:
    await raw_db["sentiero_sessions"].create_index(
        [("ended_at", 1), ("_id", 1)], name="last_activity"
    )
    store = await make_store()
    assert "last_activity" not in await raw_db["sentiero_sessions"].index_information()
    await store.append(make_batch("s", "w", [text_mutation(T0, "a")]))
    assert await store.purge_before(T0 + 1) == 1


@pytest.mark.asyncio
async def test_eviction_picks_the_least_recently_active_without_an_index_on_ends(
    raw_db: Any,
) -> None:
    """``sessions_over`` walks starts, not ends: its pick must be exactly
    the one a sort on (ended_at, _id) gives, long sessions and ties included."""
    rng = random.Random(7)
    docs = []
    for i in range(300):
        start = rng.randrange(0, 50_000)
        # most visits are short, a few last all day, some end at the same moment
        length = rng.choice([0, 0, rng.randrange(1, 2_000), rng.randrange(1, 60_000)])
        docs.append({"_id": f"s{i:03d}", "started_at": start, "ended_at": start + length})
    docs.append({"_id": "tie-b", "started_at": 10, "ended_at": 500})
    docs.append({"_id": "tie-a", "started_at": 20, "ended_at": 500})
    sessions = raw_db["sentiero_sessions"]
    await sessions.insert_many(docs)
    reference = [d["_id"] for d in sorted(docs, key=lambda d: (d["ended_at"], d["_id"]))]
    for cap in (len(docs) - 1, len(docs) - 7, 150, 1):
        assert await limits.sessions_over(sessions, cap) == reference[: len(docs) - cap]
    assert await limits.sessions_over(sessions, len(docs)) == []
    # a visit starting the moment the latest kept one ended can still win the tie
    ties = raw_db["ties"]
    await ties.insert_many(
        [
            {"_id": "b", "started_at": 0, "ended_at": 100},
            {"_id": "a", "started_at": 100, "ended_at": 100},
        ]
    )
    assert await limits.sessions_over(ties, 1) == ["a"]


@pytest.mark.asyncio
async def test_a_batch_over_the_document_limit_is_split_in_order(
    make_store: Any, raw_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_BLOB_BYTES", 4_000)
    store = await make_store()
    events = realistic_events(T0, 300, seed=5)
    await store.append(make_batch("big", "w", events))
    parts = await raw_db["sentiero_batches"].find({"sid": "big"}).sort("seq").to_list(None)
    assert len(parts) > 2
    assert [p.get("part", 0) for p in parts] == list(range(len(parts)))
    assert all(p["size"] <= 4_000 for p in parts)
    assert await read_all(store, "big", limit=37) == events
    stats = await store.stats()
    assert (stats.batches, stats.events) == (1, 300)
    summary = await store.get_session("big")
    assert summary is not None and summary.batch_count == 1


@pytest.mark.asyncio
async def test_numbers_bson_cannot_hold_are_refused_before_any_write(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store()
    with pytest.raises(ValueError, match="out of range"):
        await store.append(make_batch("s", "w", [text_mutation(2**63, "far future")]))
    assert await raw_db["sentiero_batches"].count_documents({}) == 0
    assert await raw_db["sentiero_sessions"].count_documents({}) == 0


@pytest.mark.asyncio
async def test_the_collection_prefix_names_every_collection(
    make_store: Any, raw_db: Any, fast_settings: Any
) -> None:
    from dataclasses import replace

    store = await make_store(settings=replace(fast_settings, collection_prefix="tenant_a_"))
    await store.append(make_batch("s", "w", [text_mutation(T0, "a")]))
    await store.merge_facts("s", {"fact": 1})
    assert set(await raw_db.list_collection_names()) == {
        "tenant_a_batches",
        "tenant_a_sessions",
        # the aggregates capability's
        "tenant_a_agg_totals",
        "tenant_a_agg_contributions",
        "tenant_a_agg_facts",
    }
