"""The summary pipeline: the same summaries as merge_digest, from any input."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from sentiero_store_mongo.fold import fold_pipeline, new_summary
from sentiero_store_mongo.guards import Fold

from sentiero_core.store import (
    MAX_CUSTOM_EVENTS,
    MAX_PAGES,
    MAX_WINDOWS,
    Batch,
    BatchDigest,
    RequestMeta,
    SessionSummary,
    merge_digest,
)
from sentiero_core.testing import T0

pytestmark = pytest.mark.mongo

HOSTILE = ["$pages", "$$ROOT", "a.b", "$inc", "{$gt: ''}", "https://x.test/$where?a.b=1"]
URLS = ["https://shop.test/", "https://shop.test/Cart", "https://SHOP.test/cart", *HOSTILE]


def _digest(rng: random.Random, window: str) -> BatchDigest:
    first = T0 + rng.randrange(-5_000, 5_000)
    count = rng.choice([0, 1, 7])
    views = [(first + rng.randrange(0, 50), rng.choice(URLS)) for _ in range(rng.randrange(4))]
    return BatchDigest(
        window_id=window,
        first_ts=first,
        last_ts=first + rng.randrange(0, 3_000),
        event_count=count,
        raw_bytes=rng.randrange(1, 5_000),
        page_views=views,
        error_count=rng.randrange(3),
        click_count=rng.randrange(5),
        rage_click_count=rng.randrange(2),
        dead_click_count=rng.randrange(2),
        active_ms=rng.randrange(10_000),
        custom_events=rng.sample(["signup", "$inc", "Checkout", "a.b"], rng.randrange(3)),
        form_submit_count=rng.randrange(2),
        user_id=rng.choice([None, None, "user-1", "$user"]),
        user_traits=rng.choice([{}, {"plan": "pro"}, {"$set": {"a.b": [1, 2]}, "x.y": None}]),
        browser=rng.choice([None, "Chrome", "Firefox"]),
        os=rng.choice([None, "macOS"]),
        device=rng.choice([None, "Desktop", "Mobile"]),
        viewport=rng.choice([None, "1280x720"]),
        referrer=rng.choice([None, "$$CURRENT"]),
        ip=rng.choice([None, "203.0.113.0"]),
        user_agent=rng.choice([None, "Agent/1.0"]),
        dropped_events=rng.randrange(2),
    )


def _batch(session_id: str, digest: BatchDigest) -> Batch:
    return Batch(
        session_id=session_id,
        window_id=digest.window_id,
        events=[],
        meta=RequestMeta(received_at=T0),
        digest=digest,
    )


async def _fold_all(
    store: Any, digests: list[tuple[str, BatchDigest]]
) -> dict[str, SessionSummary]:
    """Append each digest and return the reference summaries."""
    reference: dict[str, SessionSummary] = {}
    for sid, digest in digests:
        await store.append(_batch(sid, copy.deepcopy(digest)))
        reference[sid] = merge_digest(reference.get(sid), sid, copy.deepcopy(digest))
    return reference


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_digests_fold_to_merge_digests_result(make_store: Any, seed: int) -> None:
    rng = random.Random(seed)
    digests = [(f"s{rng.randrange(3)}", _digest(rng, f"w{rng.randrange(3)}")) for _ in range(40)]
    store = await make_store()
    reference = await _fold_all(store, digests)
    for sid, expected in reference.items():
        got = await store.get_session(sid)
        assert got is not None
        assert got.to_dict() == expected.to_dict(), sid


@pytest.mark.asyncio
async def test_bounded_lists_keep_their_first_distinct_entries(make_store: Any) -> None:
    digests = []
    for n in range(130):
        d = BatchDigest(
            window_id=f"w{n % 70}",
            first_ts=T0 + n,
            last_ts=T0 + n,
            event_count=1,
            raw_bytes=10,
            page_views=[(T0 + n, f"https://x.test/{n % 120}")],
            custom_events=[f"e{n}", f"e{n + 1}"],
        )
        digests.append(("long", d))
    store = await make_store()
    expected = (await _fold_all(store, digests))["long"]
    got = await store.get_session("long")
    assert got is not None and got.to_dict() == expected.to_dict()
    assert (len(got.pages), len(got.windows), len(got.custom_events)) == (
        MAX_PAGES,
        MAX_WINDOWS,
        MAX_CUSTOM_EVENTS,
    )


@pytest.mark.asyncio
async def test_entry_url_moves_to_an_earlier_page_view(make_store: Any) -> None:
    late = BatchDigest(
        window_id="w",
        first_ts=T0 + 500,
        last_ts=T0 + 900,
        event_count=2,
        raw_bytes=1,
        page_views=[(T0 + 500, "https://x.test/second")],
    )
    early = BatchDigest(
        window_id="w2",
        first_ts=T0,
        last_ts=T0 + 100,
        event_count=2,
        raw_bytes=1,
        page_views=[(T0, "https://x.test/first")],
    )
    store = await make_store()
    await _fold_all(store, [("s", late), ("s", early)])
    got = await store.get_session("s")
    assert got is not None
    assert got.entry_url == "https://x.test/first"
    assert got.pages == ["https://x.test/second", "https://x.test/first"]


@pytest.mark.asyncio
async def test_recorded_text_is_stored_literally(make_store: Any, raw_db: Any) -> None:
    """Values that look like operators or paths stay text in the documents."""
    d = BatchDigest(
        window_id="$win.dow",
        first_ts=T0,
        last_ts=T0,
        event_count=1,
        raw_bytes=1,
        page_views=[(T0, "$pages")],
        custom_events=["$inc"],
        user_id="$user",
        user_traits={"$where": "1", "a.b": {"$gt": ""}},
        referrer="$$ROOT",
    )
    store = await make_store()
    await _fold_all(store, [("$where", d)])
    doc = await raw_db[store.settings.collection_prefix + "sessions"].find_one({"_id": "$where"})
    assert doc["pages"] == ["$pages"] and doc["windows"] == ["$win.dow"]
    assert (doc["custom_events"], doc["user_id"], doc["referrer"]) == (["$inc"], "$user", "$$ROOT")
    got = await store.get_session("$where")
    assert got is not None and got.user_traits == {"$where": "1", "a.b": {"$gt": ""}}


def test_every_digest_field_has_a_folding_rule() -> None:
    """A field added to BatchDigest must be taught to the fold (and fail here first)."""
    from dataclasses import fields

    from sentiero_store_mongo.fold import COUNTERS, FIRST_SEEN

    special = {
        "window_id",
        "first_ts",
        "last_ts",
        "page_views",
        "custom_events",
        "user_id",
        "user_traits",
    }
    assert {f.name for f in fields(BatchDigest)} == set(COUNTERS) | set(FIRST_SEEN) | special


def _first_digests() -> list[BatchDigest]:
    rng = random.Random(7)
    digests = [_digest(rng, f"w{n % 3}") for n in range(60)]
    many_pages = _digest(rng, "w1")
    many_pages.page_views = [(T0 + n, f"https://x.test/P{n}") for n in range(MAX_PAGES + 5)]
    many_pages.page_views.append((T0 - 1, "https://x.test/P3"))
    return [*digests, many_pages]


@pytest.mark.asyncio
async def test_new_summary_is_what_the_pipeline_creates(raw_db: Any) -> None:
    exp = datetime(2030, 1, 1, tzinfo=UTC)
    for n, digest in enumerate(_first_digests()):
        session_id, batch_id = f"s{n}", ObjectId()
        expires = exp if n % 2 else None
        # unnumbered, numbered, numbered and found in place (a repeat's)
        fold = [
            Fold(batch_id, batch_id),
            Fold(batch_id, ObjectId(), seq=n),
            Fold(batch_id, ObjectId(), (ObjectId(),), seq=-n),
        ][n % 3]
        created = await raw_db.piped.find_one_and_update(
            {"_id": session_id},
            fold_pipeline(digest, fold, expires),
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        built = new_summary(session_id, digest, fold, expires)
        await raw_db.inserted.insert_one(built)
        inserted = await raw_db.inserted.find_one({"_id": session_id})
        assert inserted == created, digest


@pytest.mark.asyncio
async def test_the_guards_let_each_seq_and_each_mark_count_once(raw_db: Any) -> None:
    """Both forms, behind their filters, fold a seq the summary does not
    hold and a mark it has not seen, and nothing else."""
    from pymongo import UpdateOne
    from sentiero_store_mongo.fold import fast_fold
    from sentiero_store_mongo.guards import fold_filter

    def digest(window: str) -> BatchDigest:
        return BatchDigest(window_id=window, first_ts=T0, last_ts=T0, event_count=1, raw_bytes=1)

    first = Fold(ObjectId(), ObjectId(), seq=5)
    await raw_db.s.insert_one(new_summary("s", digest("w"), first, None))

    async def pipeline(window: str, f: Fold) -> int:
        query = fold_filter("s", f, window)
        result = await raw_db.s.update_one(query, fold_pipeline(digest(window), f, None))
        return int(result.matched_count)

    async def fast(window: str, f: Fold) -> int:
        form = fast_fold("s", digest(window), f, None)
        assert form is not None
        query, update, array_filters = form
        result = await raw_db.s.bulk_write([UpdateOne(query, update, array_filters=array_filters)])
        return int(result.matched_count)

    for fold in (pipeline, fast):
        assert await fold("w", Fold(ObjectId(), ObjectId(), seq=5)) == 0  # held
        assert await fold("w", Fold(ObjectId(), first.mark, seq=None)) == 0  # seen
    assert await fast("w", Fold(ObjectId(), ObjectId(), seq=7)) == 0  # not the next
    assert await pipeline("w", Fold(ObjectId(), ObjectId(), seq=7)) == 1
    assert await fast("w", Fold(ObjectId(), ObjectId(), seq=6)) == 1
    assert await fast("w", Fold(ObjectId(), ObjectId(), seq=7)) == 0  # 6 touches 7
    assert await pipeline("w", Fold(ObjectId(), ObjectId(), seq=4)) == 1
    assert await pipeline("w2", Fold(ObjectId(), ObjectId(), seq=5)) == 1
    again = Fold(ObjectId(), ObjectId(), seq=8)
    assert await fast("w", again) == 1
    assert await pipeline("w", Fold(ObjectId(), ObjectId(), (again.mark,), seq=9)) == 0
    summary = await raw_db.s.find_one({"_id": "s"})
    assert summary["batch_count"] == 6
    ranges = sorted((r["w"], r["a"], r["b"]) for r in summary["seqs"])
    assert ranges == [("w", 4, 6), ("w", 7, 8), ("w2", 5, 5)]


@pytest.mark.asyncio
async def test_a_client_numbering_with_gaps_cannot_grow_its_summary_without_bound(
    make_store: Any, raw_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``MAX_SEQ_RANGES`` a batch needing a new range is still counted,
    once, and the summary's ``seqs`` stops growing."""
    from sentiero_store_mongo import guards

    from sentiero_core.testing import make_batch, text_mutation

    monkeypatch.setattr(guards, "MAX_SEQ_RANGES", 3)
    store = await make_store()
    seqs = [0, 2, 4, 6, 8, 10, 11]  # every one a new range but the last
    for i, seq in enumerate(seqs):
        batch = make_batch("gappy", "w", [text_mutation(T0 + i, f"{i}")], seq=seq)
        assert await store.append(batch) is True
    assert await store.append(make_batch("gappy", "w", [text_mutation(T0, "0")], seq=0)) is False
    summary = await raw_db["sentiero_sessions"].find_one({"_id": "gappy"})
    assert len(summary["seqs"]) == 3
    assert (summary["batch_count"], summary["event_count"]) == (len(seqs), len(seqs))
    stats = await store.stats()
    assert (stats.batches, stats.events) == (len(seqs), len(seqs))
