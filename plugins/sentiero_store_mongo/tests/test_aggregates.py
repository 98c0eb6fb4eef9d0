"""Aggregates with several app servers: two store objects (two clients) on
one database write, repeat and remove at once, and the totals stay exact."""

from __future__ import annotations

import asyncio
import random

import pytest

from sentiero_core.store import AggregateRow, Tally
from sentiero_core.testing import T0, make_batch, meta

from .conftest import MakeStore

pytestmark = [pytest.mark.mongo, pytest.mark.asyncio]

DAY = T0 // 86_400_000


def _rows(page: str, n: int) -> list[AggregateRow]:
    return [AggregateRow("clicks", DAY, (page,), n, float(n) / 3)]


async def test_two_servers_contribute_exactly(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    sessions = [f"s{i}" for i in range(5)]
    for sid in sessions:
        await one.append(make_batch(sid, "w1", [meta(T0, f"https://x/{sid}")], seq=1))
    calls = []
    for sid in sessions:
        for batch in range(6):
            # every batch delivered to both servers
            calls += [(one, sid, f"b{batch}", 1, _rows("/a", batch + 1))]
            calls += [(two, sid, f"b{batch}", 1, _rows("/a", batch + 1))]
        for version in range(1, 7):
            server = one if version % 2 else two
            calls.append((server, sid, "fold", version, _rows(f"/v{version}", version)))
    random.Random(3).shuffle(calls)
    await asyncio.gather(*(s.set_contribution(sid, k, r, v) for s, sid, k, v, r in calls))
    expected = {
        ("/a",): Tally(5 * 21, 5 * 21 / 3),
        ("/v6",): Tally(5 * 6, 5 * 6 / 3),
    }
    for store in (one, two):
        got = await store.aggregate("clicks", DAY, DAY, group_by=(0,))
        assert got.keys() == expected.keys()
        for key, tally in expected.items():
            assert got[key].count == tally.count
            assert got[key].total == pytest.approx(tally.total)

    # both servers remove the same sessions at once: subtracted once
    await asyncio.gather(one.delete_sessions(sessions[:3]), two.delete_sessions(sessions[:3]))
    got = await two.aggregate("clicks", DAY, DAY, group_by=(0,))
    assert {k: v.count for k, v in got.items()} == {("/a",): 2 * 21, ("/v6",): 2 * 6}
