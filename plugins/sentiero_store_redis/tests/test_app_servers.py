"""Several app servers on one Redis: two stores, each with its own client
and connections, appending and removing at once. Nothing is lost, doubled
or reported twice."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
from sentiero_store_redis import RedisStore

from sentiero_core.store import Batch, StoreLimits
from sentiero_core.testing import (
    T0,
    click,
    error,
    listed_ids,
    make_batch,
    meta,
    read_all,
    reference_summaries,
    text_mutation,
)

MakeStore = Callable[..., Awaitable[RedisStore]]

pytestmark = pytest.mark.asyncio


def _batches(sid: str, windows: int, per_window: int) -> list[Batch]:
    """Numbered batches over several windows, each with a page view, a
    click and a text only it carries; some with an error."""
    batches = []
    for w in range(windows):
        for seq in range(1, per_window + 1):
            ts = T0 + seq * 100 + w
            events = [
                meta(ts, f"https://shop.example/w{w}/p{seq}"),
                click(ts + 1),
                text_mutation(ts + 2, f"text-{w}-{seq}"),
            ]
            if seq % 7 == 0:
                events.append(error(ts + 3))
            batches.append(make_batch(sid, f"w{w}", events, seq=seq))
    return batches


def _order_free(summary_dict: dict[str, object]) -> dict[str, object]:
    """A summary with its first-seen lists sorted: two app servers commit in
    an order no test can predict."""
    out = dict(summary_dict)
    for name in ("pages", "windows", "custom_events"):
        out[name] = sorted(out[name])  # type: ignore[call-overload]
    out.pop("entry_url")
    return out


async def test_concurrent_deliveries_from_two_app_servers_store_each_batch_once(
    make_store: MakeStore,
) -> None:
    one, two = await make_store(), await make_store()
    batches = _batches("shared", windows=3, per_window=20)
    # Every batch delivered twice, once through each app server, all at once.
    deliveries = [(store, b) for b in batches for store in (one, two)]
    random.Random(14).shuffle(deliveries)
    answers = await asyncio.gather(*(store.append(b) for store, b in deliveries))
    assert answers.count(True) == len(batches)  # each stored by exactly one of them
    events = await read_all(one, "shared")
    assert len(events) == sum(len(b.events) for b in batches)
    assert sorted(
        e["data"]["texts"][0]["value"] for e in events if e["type"] == 3 and "texts" in e["data"]
    ) == sorted(f"text-{w}-{s}" for w in range(3) for s in range(1, 21))
    expected = reference_summaries(batches)["shared"]
    for store in (one, two):
        got = await store.get_session("shared")
        assert got is not None
        assert _order_free(got.to_dict()) == _order_free(expected.to_dict())
    stats = await two.stats()
    assert (stats.sessions, stats.batches, stats.events) == (1, 60, len(events))


async def test_the_summary_is_merge_digest_in_commit_order(make_store: MakeStore) -> None:
    """Appends alternating between two app servers, one at a time: the
    summary equals the reference fold field by field, lists included."""
    one, two = await make_store(), await make_store()
    batches = _batches("ordered", windows=2, per_window=10)
    for i, batch in enumerate(batches):
        assert await (one if i % 2 else two).append(batch) is True
    got = await one.get_session("ordered")
    assert got is not None
    assert got.to_dict() == reference_summaries(batches)["ordered"].to_dict()


async def test_eviction_racing_on_two_app_servers_reports_each_session_once(
    make_store: MakeStore,
) -> None:
    limits = StoreLimits(max_sessions=5)
    one, two = await make_store(limits=limits), await make_store(limits=limits)
    heard: list[tuple[str, list[str]]] = []
    for store in (one, two):
        store.add_removal_listener(lambda ids, reason: heard.append((reason, list(ids))))
    batches = [
        make_batch(f"s{i:02d}", "w1", [text_mutation(T0 + i * 10, f"x{i}")], seq=1)
        for i in range(40)
    ]
    await asyncio.gather(*((one if i % 2 else two).append(b) for i, b in enumerate(batches)))
    reported = [sid for reason, ids in heard for sid in ids]
    assert {reason for reason, _ids in heard} == {"evicted"}
    assert len(reported) == len(set(reported)) == 35
    kept = await listed_ids(one)
    assert len(kept) == 5 and not set(kept) & set(reported)
    assert set(kept) | set(reported) == {f"s{i:02d}" for i in range(40)}


async def test_deletes_racing_on_two_app_servers_report_each_session_once(
    make_store: MakeStore,
) -> None:
    one, two = await make_store(), await make_store()
    heard: list[str] = []
    for store in (one, two):
        store.add_removal_listener(lambda ids, reason: heard.extend(ids))
    ids = [f"d{i}" for i in range(20)]
    for sid in ids:
        await one.append(make_batch(sid, "w1", [text_mutation(T0, sid)]))
    counts = await asyncio.gather(
        one.delete_sessions(ids), two.delete_sessions(ids[::-1]), two.purge_before(T0 + 1)
    )
    assert sum(counts) == 20
    assert sorted(heard) == sorted(ids)


async def test_trimming_under_concurrent_appends_keeps_exactly_the_newest_events(
    make_store: MakeStore,
) -> None:
    limits = StoreLimits(max_events_per_session=50)
    one, two = await make_store(limits=limits), await make_store(limits=limits)
    batches = [
        make_batch(
            "long", "w1", [text_mutation(T0 + i * 10 + j, f"e{i * 4 + j}") for j in range(4)], seq=i
        )
        for i in range(60)
    ]
    await asyncio.gather(*((one if i % 2 else two).append(b) for i, b in enumerate(batches)))
    events = await read_all(two, "long")
    newest = sorted((e for b in batches for e in b.events), key=lambda e: e["timestamp"])[-50:]
    assert events == newest
    summary = await one.get_session("long")
    assert summary is not None and summary.event_count == 50
    assert summary.batch_count == len({e["timestamp"] // 10 for e in newest})


async def test_a_cancelled_append_still_finishes_and_reports_its_eviction(
    make_store: MakeStore,
) -> None:
    store = await make_store(limits=StoreLimits(max_sessions=1))
    heard: list[tuple[str, list[str]]] = []
    store.add_removal_listener(lambda ids, reason: heard.append((reason, list(ids))))
    await store.append(make_batch("a", "w1", [text_mutation(T0, "a")], seq=1))
    task = asyncio.create_task(store.append(make_batch("b", "w1", [text_mutation(T0 + 1, "b")])))
    await asyncio.sleep(0)  # the append has started: its INCR is on the wire
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):
        if heard:
            break
        await asyncio.sleep(0.01)
    assert heard == [("evicted", ["a"])]
    assert await store.get_session("b") is not None and await store.get_session("a") is None
