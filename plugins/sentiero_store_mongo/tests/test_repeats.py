"""Batches delivered more than once: keyed ids, the ``by`` mark that tells a
retried insert from another delivery, and the summary's ``recent`` and
``seqs`` that let a batch count once.

The faults are real answers lost on the way back: a wrapper around the real
collection lets the server do the write, then raises the error a dropped
connection raises."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect
from sentiero_store_mongo import MongoStore, documents

from sentiero_core.store import Batch, StoreLimits, StoreUnavailable
from sentiero_core.testing import T0, labels, make_batch, read_all, realistic_events, text_mutation

pytestmark = pytest.mark.mongo


def _batch(seq: int | None = 1, session_id: str = "s1", start: int = T0) -> Batch:
    events = [text_mutation(start + i, f"{seq}.{i}") for i in range(3)]
    return make_batch(session_id, "w1", events, seq=seq)


class LosesAnswers:
    """A collection whose listed methods reach the server, then lose the answer."""

    def __init__(self, collection: Any, methods: set[str], times: int = 1) -> None:
        self._collection = collection
        self._methods = methods
        self.left = times

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)
        if name not in self._methods:
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await method(*args, **kwargs)
            if self.left:
                self.left -= 1
                raise AutoReconnect("connection closed before the answer (test)")
            return result

        return call


class Unreachable:
    """A collection whose listed methods fail before reaching the server."""

    def __init__(self, collection: Any, methods: set[str]) -> None:
        self._collection = collection
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        if name not in self._methods:
            return getattr(self._collection, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            raise AutoReconnect("connection refused (test)")

        return call


def _route(store: MongoStore, batches: Any = None, sessions: Any = None) -> None:
    store._writer._collections = lambda: (batches or store.batches, sessions or store.sessions)


async def _counts(store: MongoStore, session_id: str = "s1") -> tuple[int, int]:
    summary = await store.get_session(session_id)
    assert summary is not None
    return summary.event_count, summary.batch_count


@pytest.mark.asyncio
async def test_a_batch_with_a_seq_is_keyed_and_counted_in_the_summary(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store()
    assert await store.append(_batch(seq=3)) is True
    assert await store.append(_batch(seq=None, start=T0 + 10)) is True
    keyed, plain = await raw_db["sentiero_batches"].find({}).sort("t0").to_list(None)
    assert keyed["_id"] == documents.batch_key("s1", "w1", 3) and keyed["cseq"] == 3
    assert type(keyed["by"]).__name__ == "ObjectId" and "pending" not in keyed
    assert "cseq" not in plain and "by" not in plain and "pending" not in plain
    assert type(plain["_id"]).__name__ == "ObjectId"
    summary = await raw_db["sentiero_sessions"].find_one({"_id": "s1"})
    assert summary["seqs"] == [{"w": "w1", "a": 3, "b": 3}]
    assert summary["recent"] == [keyed["by"], plain["_id"]]


def test_batch_keys_keep_their_fields_apart() -> None:
    assert documents.batch_key("a:b", "c", 1) != documents.batch_key("a", "b:c", 1)
    assert documents.batch_key("s", "w", 1) != documents.batch_key("s", "w", 1, part=1)
    assert documents.batch_key("s", "w", 12) != documents.batch_key("s", "w1", 2)
    assert len(documents.batch_key("s" * 64, "w" * 64, 2**53)) == 16


@pytest.mark.asyncio
async def test_an_insert_whose_answer_was_lost_is_retried_and_counted(make_store: Any) -> None:
    store = await make_store()
    flaky = LosesAnswers(store.batches, {"insert_many"})
    _route(store, batches=flaky)
    # the retry collides with the write it could not see: its own, so it folds
    assert await store.append(_batch()) is True
    assert flaky.left == 0
    assert await _counts(store) == (3, 1)
    _route(store)
    assert await store.append(_batch()) is False
    assert await _counts(store) == (3, 1)


@pytest.mark.asyncio
async def test_a_repeat_after_a_failed_fold_counts_the_batch_once(
    make_store: Any, fast_settings: Any, raw_db: Any
) -> None:
    store = await make_store(settings=replace(fast_settings, retry_attempts=1))
    await store.append(_batch(seq=1))  # the session exists: the fold takes the fast form
    down = Unreachable(store.sessions, {"bulk_write", "find_one_and_update"})
    _route(store, sessions=down)
    with pytest.raises(StoreUnavailable):
        await store.append(_batch(seq=2, start=T0 + 10))
    stored = await raw_db["sentiero_batches"].find_one({"cseq": 2})
    assert stored is not None  # stored, never counted
    assert await _counts(store) == (3, 1)
    _route(store)
    # the recorder's retry finds the batch stored by another append and folds it
    assert await store.append(_batch(seq=2, start=T0 + 10)) is False
    assert await _counts(store) == (6, 2)
    assert await store.append(_batch(seq=2, start=T0 + 10)) is False
    assert await _counts(store) == (6, 2)
    assert labels(await read_all(store, "s1")) == ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"]
    assert await raw_db["sentiero_batches"].count_documents({}) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["bulk_write", "find_one_and_update"])
async def test_a_fold_whose_answer_was_lost_is_retried_and_counts_once(
    make_store: Any, method: str
) -> None:
    store = await make_store()
    await store.append(_batch(seq=1))
    flaky = LosesAnswers(store.sessions, {method})
    _route(store, sessions=flaky)
    # a new window takes the pipeline; the next seq of a known one the fast form
    window = "w2" if method == "find_one_and_update" else "w1"
    events = [text_mutation(T0 + 10 + i, f"2.{i}") for i in range(3)]
    assert await store.append(make_batch("s1", window, events, seq=2)) is True
    assert flaky.left == 0
    assert await _counts(store) == (6, 2)


@pytest.mark.asyncio
async def test_seqs_in_any_order_with_gaps_count_once_each(make_store: Any, raw_db: Any) -> None:
    store = await make_store()
    order = [1, 2, 3, 5, 4, 9, 7, 6, 12, 11, 8, 0, -3, 2**63 - 1, -(2**63)]
    for seq in order:
        assert await store.append(_batch(seq=seq, start=T0 + 10 * (seq % 1000))) is True
    for seq in reversed(order):
        assert await store.append(_batch(seq=seq, start=T0 + 10 * (seq % 1000))) is False
    for seq in (10, -1, -2, 13):  # the gaps left are new batches
        assert await store.append(_batch(seq=seq, start=T0 + 10 * (seq % 1000))) is True
    assert await _counts(store) == (3 * (len(order) + 4), len(order) + 4)
    summary = await raw_db["sentiero_sessions"].find_one({"_id": "s1"})
    held = {n for r in summary["seqs"] for n in range(max(r["a"], -100), min(r["b"], 100) + 1)}
    assert held == set(range(-3, 14))
    extremes = {r["b"] for r in summary["seqs"]} | {r["a"] for r in summary["seqs"]}
    assert {2**63 - 1, -(2**63)} <= extremes


@pytest.mark.asyncio
async def test_a_repeat_long_after_its_batch_was_counted_counts_nothing(
    make_store: Any, raw_db: Any
) -> None:
    """Once ``recent`` forgot the batch's fold, ``seqs`` still knows it."""
    from sentiero_store_mongo.guards import RECENT_BATCHES

    first, second = await make_store(), await make_store()
    await first.append(_batch(seq=1))
    for seq in range(2, RECENT_BATCHES + 4):
        await first.append(make_batch("s1", f"w{seq}", [text_mutation(T0 + seq, "x")], seq=seq))
    summary = await raw_db["sentiero_sessions"].find_one({"_id": "s1"})
    stored = await raw_db["sentiero_batches"].find_one({"cseq": 1})
    assert stored["by"] not in summary["recent"]
    counts = await _counts(first)
    for store in (first, second):
        assert await store.append(_batch(seq=1)) is False
        assert await _counts(store) == counts


@pytest.mark.asyncio
async def test_a_repeat_of_a_batch_trimmed_away_whole_is_ignored(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store(limits=StoreLimits(max_events_per_session=3))
    await store.append(_batch(seq=1))
    await store.append(_batch(seq=2, start=T0 + 10))
    assert labels(await read_all(store, "s1")) == ["2.0", "2.1", "2.2"]
    before = (await store.get_session("s1")).to_dict()  # type: ignore[union-attr]
    # the first batch's documents are gone, the summary still counts its seq
    assert await store.append(_batch(seq=1)) is False
    assert labels(await read_all(store, "s1")) == ["2.0", "2.1", "2.2"]
    assert (await store.get_session("s1")).to_dict() == before  # type: ignore[union-attr]
    assert await raw_db["sentiero_batches"].count_documents({}) == 1


@pytest.mark.asyncio
async def test_a_repeat_whose_documents_cannot_be_removed_fails_alone(
    make_store: Any, fast_settings: Any
) -> None:
    limits = StoreLimits(max_events_per_session=3)
    store = await make_store(limits=limits, settings=replace(fast_settings, retry_attempts=1))
    await store.append(_batch(seq=1))
    await store.append(_batch(seq=2, start=T0 + 10))  # trims the first batch away
    _route(store, batches=Unreachable(store.batches, {"delete_many"}))
    repeat, other = await asyncio.gather(
        store.append(_batch(seq=1)),
        store.append(_batch(seq=1, session_id="s2")),
        return_exceptions=True,
    )
    assert isinstance(repeat, StoreUnavailable) and other is True
    assert (await store.get_session("s2")) is not None


async def _as_written_before_by(raw_db: Any, seq: int, pending: Any) -> None:
    """Turn the stored batch ``seq`` and its summary into the layout before
    ``by`` and ``seqs``: a ``pending`` mark until counted, batch ids in
    ``recent``."""
    key = documents.batch_key("s1", "w1", seq)
    update: dict[str, Any] = {"$unset": {"by": ""}}
    if pending is not None:
        update["$set"] = {"pending": pending}
    await raw_db["sentiero_batches"].update_one({"_id": key}, update)
    await raw_db["sentiero_sessions"].update_one(
        {"_id": "s1"}, {"$unset": {"seqs": ""}, "$set": {"recent": [key]}}
    )


@pytest.mark.asyncio
async def test_batches_written_before_by_are_settled_by_their_pending_mark(
    make_store: Any, fast_settings: Any, raw_db: Any
) -> None:
    store = await make_store()
    await store.append(_batch(seq=1))
    await _as_written_before_by(raw_db, 1, pending=None)  # counted
    assert await store.append(_batch(seq=1)) is False
    assert await _counts(store) == (3, 1)
    await _as_written_before_by(raw_db, 1, pending=ObjectId())  # its fold under way
    assert await store.append(_batch(seq=1)) is False  # recent holds its id: counted
    assert await _counts(store) == (3, 1)
    # stored by an append that failed before folding it
    failing = await make_store(settings=replace(fast_settings, retry_attempts=1))
    await failing.append(_batch(seq=2, start=T0 + 10))  # known to that store now
    down = Unreachable(failing.sessions, {"bulk_write", "find_one_and_update"})
    _route(failing, sessions=down)
    with pytest.raises(StoreUnavailable):
        await failing.append(_batch(seq=3, start=T0 + 20))
    await raw_db["sentiero_batches"].update_one(
        {"cseq": 3}, {"$unset": {"by": ""}, "$set": {"pending": ObjectId()}}
    )
    assert await store.append(_batch(seq=3, start=T0 + 20)) is False
    assert await _counts(store) == (9, 3)
    assert await store.append(_batch(seq=3, start=T0 + 20)) is False
    assert await store.append(_batch(seq=4, start=T0 + 30)) is True
    assert await _counts(store) == (12, 4)


@pytest.mark.asyncio
async def test_appends_arriving_while_a_group_is_written_are_written(make_store: Any) -> None:
    store = await make_store()
    await store.append(_batch(seq=1))
    appends = asyncio.gather(*(store.append(_batch(seq=n)) for n in range(2, 6)))
    results = await asyncio.wait_for(appends, 10)
    assert results == [True] * 4
    assert await asyncio.wait_for(store.append(_batch(seq=6)), 5) is True
    assert await _counts(store) == (18, 6)


@pytest.mark.asyncio
async def test_two_app_servers_racing_with_one_batch_count_it_once(make_store: Any) -> None:
    first, second = await make_store(), await make_store()
    others = [_batch(seq=n, start=T0 + 100 * n) for n in range(2, 8)]
    results = await asyncio.gather(
        *(store.append(_batch()) for _ in range(10) for store in (first, second)),
        *(first.append(b) for b in others),
    )
    assert sum(results[:20]) == 1
    assert await _counts(first) == (21, 7)
    assert len(await read_all(second, "s1")) == 21


@pytest.mark.asyncio
async def test_a_split_batch_is_repeated_whole_or_not_at_all(
    make_store: Any, raw_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_BLOB_BYTES", 4_000)
    store = await make_store()
    events = realistic_events(T0, 300, seed=5)
    assert await store.append(make_batch("big", "w", events, seq=9)) is True
    parts = await raw_db["sentiero_batches"].count_documents({"sid": "big"})
    assert parts > 2
    assert await store.append(make_batch("big", "w", events, seq=9)) is False
    assert await raw_db["sentiero_batches"].count_documents({"sid": "big"}) == parts
    marks = await raw_db["sentiero_batches"].distinct("by", {"sid": "big"})
    assert len(marks) == 1  # the repeat left none of its own
    summary = await store.get_session("big")
    assert summary is not None and (summary.event_count, summary.batch_count) == (300, 1)
    # a part that went away (trimmed, say) is not brought back by the repeat
    await raw_db["sentiero_batches"].delete_one({"sid": "big", "part": 1})
    assert await store.append(make_batch("big", "w", events, seq=9)) is False
    assert await raw_db["sentiero_batches"].count_documents({"sid": "big"}) == parts - 1
