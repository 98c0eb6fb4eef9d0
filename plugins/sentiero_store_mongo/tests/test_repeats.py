"""Batches delivered more than once: keyed ids, and the ``pending`` mark
that tells a retried insert, a counted repeat and an unfinished one apart.

The faults are real answers lost on the way back: a wrapper around the real
collection lets the server do the write, then raises the error a dropped
connection raises."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from pymongo.errors import AutoReconnect
from sentiero_store_mongo import MongoStore, documents

from sentiero_core.store import Batch, StoreUnavailable
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
async def test_a_batch_with_a_seq_is_keyed_and_settled(make_store: Any, raw_db: Any) -> None:
    store = await make_store()
    assert await store.append(_batch(seq=3)) is True
    assert await store.append(_batch(seq=None, start=T0 + 10)) is True
    await store._writer.drain()  # the marks go after the answers
    keyed, plain = await raw_db["sentiero_batches"].find({}).sort("t0").to_list(None)
    assert keyed["_id"] == documents.batch_key("s1", "w1", 3) and keyed["cseq"] == 3
    assert "pending" not in keyed  # folded: the mark is gone
    assert "cseq" not in plain and "pending" not in plain
    assert type(plain["_id"]).__name__ == "ObjectId"


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
    assert stored is not None and "pending" in stored  # stored, never counted
    assert await _counts(store) == (3, 1)
    _route(store)
    # the recorder's retry finds the batch unfinished and folds it
    assert await store.append(_batch(seq=2, start=T0 + 10)) is False
    assert await _counts(store) == (6, 2)
    await store._writer.drain()
    assert "pending" not in await raw_db["sentiero_batches"].find_one({"cseq": 2})
    assert await store.append(_batch(seq=2, start=T0 + 10)) is False
    assert await _counts(store) == (6, 2)
    assert labels(await read_all(store, "s1")) == ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"]


@pytest.mark.asyncio
async def test_a_lost_answer_while_settling_is_retried(make_store: Any, raw_db: Any) -> None:
    store = await make_store()
    _route(store, batches=LosesAnswers(store.batches, {"update_many"}))
    assert await store.append(_batch()) is True
    await store._writer.drain()
    assert "pending" not in await raw_db["sentiero_batches"].find_one({"cseq": 1})
    assert await _counts(store) == (3, 1)


@pytest.mark.asyncio
async def test_a_mark_left_behind_only_makes_a_repeat_fold_again_harmlessly(
    make_store: Any, fast_settings: Any, raw_db: Any
) -> None:
    store = await make_store(settings=replace(fast_settings, retry_attempts=1))
    _route(store, batches=Unreachable(store.batches, {"update_many"}))
    assert await store.append(_batch()) is True  # answered before the marks go
    await store._writer.drain()
    assert "pending" in await raw_db["sentiero_batches"].find_one({"cseq": 1})
    _route(store)
    assert await store.append(_batch()) is False
    assert await _counts(store) == (3, 1)
    await store._writer.drain()
    assert "pending" not in await raw_db["sentiero_batches"].find_one({"cseq": 1})


@pytest.mark.asyncio
async def test_appends_arriving_while_marks_settle_are_written(make_store: Any) -> None:
    store = await make_store()
    await store.append(_batch(seq=1))
    # the flusher is settling the first batch's mark when these arrive
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
    assert await raw_db["sentiero_batches"].count_documents({"pending": {"$exists": True}}) == 0
    summary = await store.get_session("big")
    assert summary is not None and (summary.event_count, summary.batch_count) == (300, 1)
    # a part that went away (trimmed, say) is not brought back by the repeat
    await raw_db["sentiero_batches"].delete_one({"sid": "big", "part": 1})
    assert await store.append(make_batch("big", "w", events, seq=9)) is False
    assert await raw_db["sentiero_batches"].count_documents({"sid": "big"}) == parts - 1
