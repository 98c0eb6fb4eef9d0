"""Group commit: what arrives together commits together, and fails alone."""

from __future__ import annotations

import asyncio

import pytest
from sentiero_store_sqlite.writes import WriteQueue


class Ledger:
    """A commit function that records each group and refuses poisoned items."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    async def commit(self, items: list[str]) -> None:
        await asyncio.sleep(0)  # a real commit yields to the loop
        if any(i.startswith("poison") for i in items):
            raise RuntimeError(f"refused {items}")
        self.groups.append(list(items))


@pytest.mark.asyncio
async def test_items_submitted_in_one_turn_share_one_commit() -> None:
    ledger = Ledger()
    queue = WriteQueue(ledger.commit, asyncio.Lock())
    await asyncio.gather(*(queue.submit(f"i{n}") for n in range(10)))
    assert ledger.groups == [[f"i{n}" for n in range(10)]]
    assert queue.groups_committed == 1


@pytest.mark.asyncio
async def test_a_lone_item_commits_at_once() -> None:
    ledger = Ledger()
    queue = WriteQueue(ledger.commit, asyncio.Lock())
    await queue.submit("a")
    await queue.submit("b")
    assert ledger.groups == [["a"], ["b"]]


@pytest.mark.asyncio
async def test_groups_are_capped_in_size_and_keep_arrival_order() -> None:
    ledger = Ledger()
    queue = WriteQueue(ledger.commit, asyncio.Lock(), max_group=4)
    await asyncio.gather(*(queue.submit(f"i{n}") for n in range(10)))
    assert [len(g) for g in ledger.groups] == [4, 4, 2]
    assert [i for g in ledger.groups for i in g] == [f"i{n}" for n in range(10)]


@pytest.mark.asyncio
async def test_a_failing_item_fails_alone_and_the_rest_commit() -> None:
    ledger = Ledger()
    queue = WriteQueue(ledger.commit, asyncio.Lock())
    results = await asyncio.gather(
        queue.submit("a"), queue.submit("poison"), queue.submit("b"), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RuntimeError)
    assert ledger.groups == [["a"], ["b"]]


@pytest.mark.asyncio
async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    ledger = Ledger()
    queue = WriteQueue(ledger.commit, asyncio.Lock())
    first = asyncio.create_task(queue.submit("a"))
    second = asyncio.create_task(queue.submit("b"))
    await asyncio.sleep(0)
    first.cancel()
    await second
    assert first.cancelled()
    assert ledger.groups == [["a", "b"]]  # already queued: still written


@pytest.mark.asyncio
async def test_writes_wait_for_the_lock_holder() -> None:
    ledger = Ledger()
    lock = asyncio.Lock()
    queue = WriteQueue(ledger.commit, lock)
    async with lock:
        pending = asyncio.create_task(queue.submit("a"))
        await asyncio.sleep(0.01)
        assert ledger.groups == []
    await pending
    assert ledger.groups == [["a"]]


@pytest.mark.asyncio
async def test_drain_returns_once_everything_queued_is_settled() -> None:
    ledger = Ledger()
    queue = WriteQueue(ledger.commit, asyncio.Lock())
    tasks = [asyncio.create_task(queue.submit(f"i{n}")) for n in range(5)]
    await asyncio.sleep(0)
    await queue.drain()
    assert all(t.done() for t in tasks)
    assert sum(len(g) for g in ledger.groups) == 5


def test_a_group_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_group"):
        WriteQueue(Ledger().commit, asyncio.Lock(), max_group=0)
