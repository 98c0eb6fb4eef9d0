"""Contract: reading aggregates summed and cut in place.

``Store.aggregate`` (sums per group) and ``Store.aggregate_latest`` (the
first rows of each group) reach the optional primitives
``aggregates_group`` and ``aggregates_latest``; whether a store implements
them or inherits the generic ones, the answers must equal the reference
semantics, :func:`~sentiero_core.store.group_rows` and
:func:`~sentiero_core.store.latest_rows`, applied to the rows
``aggregate_rows`` returns. Skipped for a store without the aggregates
capability.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from ..store import AggregateRow, Store, Tally, group_rows, group_sizes, latest_rows
from .contract_aggregates import DAY, _require, _session

SEG = 9  # rows start with the nine segment dimensions, as collectors' do
WIDE = tuple(f"w{i}" for i in range(20))


def _rows(seed: int = 11) -> list[AggregateRow]:
    """Rows of every shape a collector may write: segmented rows with a
    page and a session id (links), short ones, one whose last dimension is
    empty, and one wider than any backend's columns."""
    rng = random.Random(seed)
    rows = []
    for i in range(400):
        seg: tuple[str, ...] = (
            rng.choice(["chrome", "safari", "firefox"]),
            rng.choice(["mac", "win"]),
        )
        seg += ("",) * (SEG - len(seg))
        group = (f"e{rng.randrange(90)}", rng.choice(["/a", "/b"]))
        day = DAY + rng.randrange(4)
        # totals repeat, so ties are ordered by dims
        rows.append(AggregateRow("links", day, (*seg, *group, f"s{i:03d}"), 1, rng.randrange(40)))
    rows += [
        AggregateRow("short", DAY, ("x",), 2, 1.5),
        AggregateRow("short", DAY, ("x", ""), 3, 2.5),
        AggregateRow("short", DAY + 1, (), 1, 4.0),
        AggregateRow("short", DAY + 1, ("y", "z"), 5, -1.0),
        AggregateRow("short", DAY + 2, WIDE, 7, 0.25),
        AggregateRow("short", DAY + 2, (*WIDE[:19], "other"), 1, 0.5),
    ]
    return rows


async def _stored(store: Store) -> list[AggregateRow]:
    _require(store)
    rows = _rows()
    # spread over a few sessions, each contribution within its size bound
    for n, start in enumerate(range(0, len(rows), 150)):
        await _session(store, f"reads{n}")
        assert await store.set_contribution(f"reads{n}", "k", rows[start : start + 150])
    return rows


def _allowed(where: dict[int, Any]) -> dict[int, frozenset[str]]:
    return {p: frozenset([v] if isinstance(v, str) else v) for p, v in where.items()}


def _close(got: dict[Any, Tally], want: dict[Any, Tally]) -> None:
    assert got.keys() == want.keys()
    for key, tally in want.items():
        assert got[key].count == tally.count, key
        assert got[key].total == pytest.approx(tally.total), key


GROUPINGS: list[tuple[str, int, int, dict[int, Any], tuple[int, ...], bool]] = [
    ("links", DAY, DAY + 3, {}, (), False),
    ("links", DAY, DAY + 3, {}, (SEG,), False),
    ("links", DAY, DAY + 3, {}, (SEG, SEG + 1), True),
    ("links", DAY + 1, DAY + 2, {0: "safari"}, (SEG,), False),
    ("links", DAY, DAY + 3, {0: ["safari", "firefox"], 1: "win"}, (SEG + 1,), False),
    ("links", DAY, DAY + 3, {SEG: "e7"}, (SEG, SEG + 1), False),
    ("links", DAY, DAY + 3, {SEG: "e7", SEG + 1: "/a", 0: "chrome"}, (), True),
    ("links", DAY, DAY + 3, {}, (1, 0), False),
    ("links", DAY, DAY + 3, {5: ""}, (SEG + 1, 40), False),
    ("links", DAY, DAY + 3, {5: "x"}, (SEG,), False),
    ("short", DAY, DAY + 3, {}, (0, 1), False),
    ("short", DAY, DAY + 3, {1: ""}, (0,), True),
    ("short", DAY, DAY + 3, {19: ["w19", "other"]}, (18, 19), False),
    ("short", DAY, DAY + 3, {25: ""}, (), False),
    ("missing", DAY, DAY + 3, {}, (0,), False),
]

LATEST: list[tuple[str, dict[int, Any], tuple[int, ...], int, Any]] = [
    ("links", {}, (SEG,), 3, None),
    ("links", {}, (SEG, SEG + 1), 2, [("e1", "/a"), ("e2", "/b"), ("none", "/a")]),
    ("links", {0: "safari"}, (SEG,), 4, [(f"e{i}",) for i in range(90)]),
    ("links", {0: ["chrome", "firefox"]}, (SEG,), 1, [("e5",), ("e6",)]),
    ("links", {SEG + 1: "/b"}, (1,), 5, None),
    ("links", {}, (), 7, None),
    # the latest among many values of one dimension, as one group
    ("links", {0: "chrome", SEG: [f"e{i}" for i in range(0, 90, 3)]}, (), 5, None),
    ("links", {}, (SEG,), 1000, [("e3",)]),
    # one group among many rows: a store may seek it rather than read days
    ("links", {}, (SEG,), 2, [("e7",)]),
    ("links", {SEG: [f"e{i}" for i in range(90) if i != 2]}, (SEG,), 2, [("e2",)]),
    ("short", {}, (0,), 2, None),
]


class AggregateReadsContract:
    """Tests of the grouping reads of the aggregates capability (skipped
    without it)."""

    @pytest.mark.asyncio
    @pytest.mark.parametrize("case", range(len(GROUPINGS)))
    async def test_grouped_totals_equal_the_reference(self, store: Store, case: int) -> None:
        """Ensure that ``aggregate`` without predicates (the store's
        ``aggregates_group``) sums exactly what ``group_rows`` makes of the
        rows ``aggregate_rows`` returns: any filter (one value, several, an
        empty text matching a missing dimension), grouping (dims of the
        key's start or not, beyond a row's length) and ``by_day``."""
        await _stored(store)
        name, first, last, where, group_by, by_day = GROUPINGS[case]
        rows = await store.aggregate_rows([name], first, last)
        want = group_rows(rows, _allowed(where), group_by, by_day)
        got = await store.aggregate(
            name, first, last, where=where, group_by=group_by, by_day=by_day
        )
        _close(got, want)
        # a predicate takes the rows to Python: the same answer
        checked = {p: (lambda v, a=a: v in a) for p, a in _allowed(where).items()}
        by_hand = await store.aggregate(
            name, first, last, where=checked, group_by=group_by, by_day=by_day
        )
        _close(by_hand, want)

    @pytest.mark.asyncio
    @pytest.mark.parametrize("case", range(len(GROUPINGS)))
    async def test_group_sizes_equal_the_reference(self, store: Store, case: int) -> None:
        """Ensure that ``aggregate_group_sizes`` (the store's
        ``aggregates_group_sizes``) counts the groups of each count exactly
        as ``group_sizes`` counts those of ``group_rows``."""
        await _stored(store)
        name, first, last, where, group_by, _by_day = GROUPINGS[case]
        rows = await store.aggregate_rows([name], first, last)
        want = group_sizes(group_rows(rows, _allowed(where), group_by))
        got = await store.aggregate_group_sizes(name, first, last, where=where, group_by=group_by)
        assert got == want
        if name == "links" and group_by == (SEG,) and not where:
            assert len(want) > 1, "the rows must give groups of several sizes"

    @pytest.mark.asyncio
    @pytest.mark.parametrize("case", range(len(LATEST)))
    async def test_latest_rows_equal_the_reference(self, store: Store, case: int) -> None:
        """Ensure that ``aggregate_latest`` (the store's
        ``aggregates_latest``) returns per group exactly the first rows of
        ``latest_rows``: latest day first, then highest total, ties in dims
        order, cut at ``limit``, only the groups asked for when given."""
        await _stored(store)
        name, where, group_by, limit, groups = LATEST[case]
        rows = await store.aggregate_rows([name], DAY - 1, DAY + 5)
        wanted = None if groups is None else frozenset(groups)
        want = latest_rows(rows, _allowed(where), group_by, limit, wanted)
        got = await store.aggregate_latest(
            name, DAY - 1, DAY + 5, where=where, group_by=group_by, limit=limit, groups=groups
        )
        assert got == want
        assert all(len(items) <= limit for items in got.values())

    @pytest.mark.asyncio
    async def test_latest_rows_follow_removal(self, store: Store) -> None:
        """Ensure that the latest rows of a group no longer include a
        removed session's, and the next ones take their place."""
        _require(store)
        for n in range(4):
            sid = f"late{n}"
            await _session(store, sid)
            row = AggregateRow("links", DAY, ("",) * SEG + ("e", sid), 1, float(n))
            assert await store.set_contribution(sid, "k", [row])
        got = await store.aggregate_latest("links", DAY, DAY, group_by=(SEG,), limit=2)
        assert [r.dims[-1] for r in got[("e",)]] == ["late3", "late2"]
        assert await store.delete_sessions(["late3"]) == 1
        got = await store.aggregate_latest("links", DAY, DAY, group_by=(SEG,), limit=2)
        assert [r.dims[-1] for r in got[("e",)]] == ["late2", "late1"]

    @pytest.mark.asyncio
    async def test_grouping_arguments_are_checked(self, store: Store) -> None:
        """Ensure that bad positions, limits and groups are refused with a
        message naming them, and that empty choices match nothing."""
        await _stored(store)
        with pytest.raises(ValueError, match="group_by positions"):
            await store.aggregate("links", DAY, DAY, group_by=(-1,))
        with pytest.raises(ValueError, match="limit must be an integer"):
            await store.aggregate_latest("links", DAY, DAY, group_by=(SEG,), limit=0)
        with pytest.raises(ValueError, match="one value per group_by position"):
            await store.aggregate_latest(
                "links", DAY, DAY, group_by=(SEG,), limit=1, groups=[("a", "b")]
            )
        predicate: Any = {0: lambda v: True}
        with pytest.raises(ValueError, match="not predicates"):
            await store.aggregate_latest(
                "links", DAY, DAY, group_by=(SEG,), limit=1, where=predicate
            )
        assert await store.aggregate("links", DAY, DAY + 3, where={0: []}) == {}
        assert await store.aggregate("links", DAY + 3, DAY) == {}
        got = await store.aggregate_latest("links", DAY, DAY, group_by=(SEG,), limit=1, groups=[])
        assert got == {}
