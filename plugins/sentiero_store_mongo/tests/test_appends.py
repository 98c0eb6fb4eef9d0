"""Group commit: concurrent appends share round trips and fail alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sentiero_core.store import StoreError
from sentiero_core.testing import T0, labels, make_batch, read_all, text_mutation

pytestmark = pytest.mark.mongo


def _batch(session_id: str, count: int = 3, start: int = T0) -> Any:
    return make_batch(
        session_id, "w1", [text_mutation(start + i, f"{session_id}.{i}") for i in range(count)]
    )


@pytest.mark.asyncio
async def test_an_append_whose_caller_goes_away_is_still_written_whole(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store()
    await store.append(_batch("known"))  # so the next one takes the fast path too
    task = asyncio.create_task(store.append(_batch("known", start=T0 + 100)))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.append(_batch("other"))
    await store._writer.drain()
    summary = await store.get_session("known")
    assert summary is not None
    stored = await raw_db["sentiero_batches"].count_documents({"sid": "known"})
    assert summary.batch_count == stored == 2
    assert len(await read_all(store, "known")) == 6


@pytest.mark.asyncio
async def test_a_batch_the_server_refuses_fails_only_its_own_append(
    make_store: Any, raw_db: Any
) -> None:
    store = await make_store()
    await raw_db.command("collMod", "sentiero_batches", validator={"n": {"$lt": 50}})
    results = await asyncio.gather(
        *(store.append(_batch(f"s{n}", count=60 if n == 3 else 2)) for n in range(8)),
        return_exceptions=True,
    )
    refused = [n for n, r in enumerate(results) if isinstance(r, BaseException)]
    assert refused == [3]
    assert isinstance(results[3], StoreError) and "refused" in str(results[3])
    assert await store.get_session("s3") is None
    assert await store.count_sessions() == 7
    assert labels(await read_all(store, "s5")) == ["s5.0", "s5.1"]


@pytest.mark.asyncio
async def test_concurrent_batches_of_one_session_fold_in_arrival_order(make_store: Any) -> None:
    """The last identify wins, as merge_digest says, however the appends group."""
    from sentiero_core.testing import identify

    store = await make_store()
    await store.append(_batch("s"))
    await asyncio.gather(
        *(
            store.append(make_batch("s", "w1", [identify(T0 + 10 + n, f"user-{n}")]))
            for n in range(12)
        )
    )
    summary = await store.get_session("s")
    assert summary is not None and summary.user_id == "user-11"
