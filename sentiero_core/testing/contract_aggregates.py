"""Contract: the optional aggregates capability (counters collectors keep).

Skipped for a store whose ``capabilities.aggregates`` is false, except one
test that such a store refuses aggregate calls. Checks that
totals are the sum of the current contributions, that a repeated or stale
contribution changes nothing, that facts merge and version up and read back
unchanged, that sessions with facts newer than their fold are listed, that every
way a session leaves the store takes its contributions along (and leaves no
trace, with ``raw_storage``), and that concurrent writers lose nothing.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from ..store import (
    AggregateRow,
    AggregatesUnsupported,
    SessionFacts,
    SessionFilter,
    Store,
    StoreLimits,
    Tally,
)
from .contract_traces import RawStorage, _assert_exposed, _assert_no_trace
from .factories import T0, identify, make_batch, meta

DAY = T0 // 86_400_000


def _require(store: Store) -> None:
    if not store.capabilities.aggregates:
        pytest.skip(f"{type(store).__name__} does not declare the aggregates capability")


async def _session(store: Store, session_id: str, start: int = T0, user: str = "u") -> None:
    await store.append(
        make_batch(
            session_id,
            "w1",
            [meta(start, f"https://shop.example/{session_id}"), identify(start + 1, user)],
            seq=1,
        )
    )


def _rows(page: str, clicks: int, ms: float = 0.0, day: int = DAY) -> list[AggregateRow]:
    return [
        AggregateRow("views", day, (page, "desktop"), 1, ms),
        AggregateRow("clicks", day, (page,), clicks, 0.0),
    ]


async def _totals(store: Store, name: str = "views") -> dict[Any, Tally]:
    return await store.aggregate(name, DAY - 10, DAY + 10, group_by=(0,))


class AggregatesContract:
    """Tests of the aggregates capability (skipped without it)."""

    @pytest.mark.asyncio
    async def test_aggregates_refused_without_the_capability(self, store: Store) -> None:
        """Ensure that a store without ``capabilities.aggregates`` refuses
        aggregate calls with AggregatesUnsupported naming the capability."""
        if store.capabilities.aggregates:
            pytest.skip("the store keeps aggregates")
        with pytest.raises(AggregatesUnsupported, match="aggregates=True"):
            await store.set_contribution("a", "k", _rows("/home", 1))
        with pytest.raises(AggregatesUnsupported, match="aggregates=True"):
            await _totals(store)

    @pytest.mark.asyncio
    async def test_aggregates_sum_contributions(self, store: Store) -> None:
        """Ensure that totals are the sum of every session's contributions,
        grouped and filtered by dimension and split by day on request."""
        _require(store)
        await _session(store, "a")
        await _session(store, "b")
        assert await store.set_contribution("a", "k1", _rows("/home", 2, 1500))
        assert await store.set_contribution("a", "k2", _rows("/cart", 1, 500, day=DAY + 1))
        assert await store.set_contribution("b", "k1", _rows("/home", 3, 250.5))
        assert await _totals(store) == {
            ("/home",): Tally(2, 1750.5),
            ("/cart",): Tally(1, 500.0),
        }
        clicks = await store.aggregate("clicks", DAY, DAY + 1, where={0: "/home"})
        assert clicks == {(): Tally(5, 0.0)}
        by_day = await store.aggregate("views", DAY, DAY + 1, group_by=(1,), by_day=True)
        assert set(by_day) == {("2023-11-14", "desktop"), ("2023-11-15", "desktop")}
        assert await store.aggregate("views", DAY + 1, DAY + 1) == {(): Tally(1, 500.0)}
        home = await store.aggregate_rows(["views"], DAY, DAY + 1, where={0: "/home"})
        assert [(r.dims, r.count) for r in home] == [(("/home", "desktop"), 2)]
        assert await store.aggregate_rows(["views"], DAY, DAY + 1, where={1: "mobile"}) == []
        rows = await store.aggregate_rows(["views", "clicks"], DAY, DAY)
        assert sorted((r.name, r.dims, r.count) for r in rows) == [
            ("clicks", ("/home",), 5),
            ("views", ("/home", "desktop"), 2),
        ]

    @pytest.mark.asyncio
    async def test_repeated_and_stale_contributions_change_nothing(self, store: Store) -> None:
        """Ensure that a contribution set again with the same or a lower
        version is refused, and a higher version replaces it exactly."""
        _require(store)
        await _session(store, "a")
        assert await store.set_contribution("a", "fold", _rows("/home", 1), version=2)
        assert not await store.set_contribution("a", "fold", _rows("/home", 1), version=2)
        assert not await store.set_contribution("a", "fold", _rows("/other", 9), version=1)
        assert await _totals(store, "clicks") == {("/home",): Tally(1, 0.0)}
        assert await store.set_contribution("a", "fold", _rows("/cart", 4), version=3)
        assert await _totals(store, "clicks") == {("/cart",): Tally(4, 0.0)}
        assert await store.set_contribution("a", "fold", [], version=4)
        assert await _totals(store, "clicks") == {}

    @pytest.mark.asyncio
    async def test_facts_merge_and_version(self, store: Store) -> None:
        """Ensure that merged facts accumulate, a repeated fact changes
        nothing but the version, and an unknown session has none."""
        _require(store)
        await _session(store, "a")
        first = await store.merge_facts("a", {"pv|w1|1": "https://x/a.b", "$odd.key": [1, 2]})
        assert first is not None
        second = await store.merge_facts("a", {"pv|w1|1": "https://x/a.b", "end|w1": 7})
        assert second is not None and second.version > first.version
        assert second.facts == {"pv|w1|1": "https://x/a.b", "$odd.key": [1, 2], "end|w1": 7}
        assert await store.merge_facts("missing", {"x": 1}) is None
        assert not await store.set_contribution("missing", "k", _rows("/home", 1))

    @pytest.mark.asyncio
    async def test_added_facts_merge_like_merged_ones(self, store: Store) -> None:
        """Ensure that ``add_facts`` sets facts as ``merge_facts`` does
        (a value replaced whole, keys with quotes, dots, dollars and
        backslashes, null values), bumps the version, and says ``False``
        for an unknown session."""
        _require(store)
        await _session(store, "a")
        assert await store.add_facts("a", {"ev|w|1": {"clicks": [1, 2], "x": {"y": 1}}})
        before = await store.session_facts("a")
        assert before is not None and before.version >= 1
        odd: dict[str, Any] = {
            'k"q': 1,
            "back\\slash": [True],
            "$d.k": None,
            "ev|w|1": {"clicks": []},
        }
        assert await store.add_facts("a", odd)
        after = await store.session_facts("a")
        assert after is not None and after.version > before.version
        assert after.facts == odd
        again = await store.merge_facts("a", {"end": 3.5})
        assert again is not None and again.facts == {**odd, "end": 3.5}
        assert not await store.add_facts("missing", {"x": 1})
        assert await store.session_facts("missing") is None

    @pytest.mark.asyncio
    async def test_session_facts_are_read_without_changing(self, store: Store) -> None:
        """Ensure that ``session_facts`` returns the facts and version the
        last merge returned, changes neither, gives version 0 and no facts
        before any merge, and ``None`` for an unknown session."""
        _require(store)
        await _session(store, "a")
        await _session(store, "b")
        merged = await store.merge_facts("a", {"pv|w1|1": ["https://x/", 1280, 720], "$d.k": 1})
        assert merged is not None
        read = await store.session_facts("a")
        assert read == merged
        assert await store.session_facts("a") == merged, "reading must not bump the version"
        later = await store.merge_facts("a", {"end": 9})
        assert later is not None and await store.session_facts("a") == later
        assert await store.session_facts("b") == SessionFacts({}, 0)
        assert await store.session_facts("missing") is None

    @pytest.mark.asyncio
    async def test_unfolded_sessions_are_those_with_newer_facts(self, store: Store) -> None:
        """Ensure that ``unfolded_sessions`` lists exactly the sessions whose
        facts version is newer than their contribution under the key (or
        that have facts and no contribution under it), in id order, paged
        with ``after`` and ``limit``, and forgets removed sessions."""
        _require(store)
        for sid in ("a", "b", "c", "d"):
            await _session(store, sid)
        assert await store.unfolded_sessions("fold") == []
        await store.merge_facts("a", {"f": 1})
        await store.merge_facts("b", {"f": 1})
        b2 = await store.merge_facts("b", {"g": 2})
        await store.merge_facts("d", {"f": 1})
        assert b2 is not None
        assert await store.set_contribution("b", "fold", _rows("/b", 1), version=b2.version)
        assert await store.unfolded_sessions("fold") == ["a", "d"]
        assert await store.unfolded_sessions("other") == ["a", "b", "d"]
        assert await store.unfolded_sessions("fold", limit=1) == ["a"]
        assert await store.unfolded_sessions("fold", after="a") == ["d"]
        assert await store.unfolded_sessions("fold", after="d") == []
        a = await store.session_facts("a")
        assert a is not None
        await store.set_contribution("a", "fold", _rows("/a", 1), version=a.version)
        await store.merge_facts("b", {"h": 3})  # newer than b's fold
        assert await store.unfolded_sessions("fold") == ["b", "d"]
        assert await store.delete_sessions(["d"]) == 1
        assert await store.unfolded_sessions("fold") == ["b"]
        with pytest.raises(ValueError, match="limit"):
            await store.unfolded_sessions("fold", limit=0)

    @pytest.mark.asyncio
    @pytest.mark.parametrize("how", ["delete", "erase", "purge"])
    async def test_removed_session_takes_its_contributions(self, store: Store, how: str) -> None:
        """Ensure that deleting, erasing or purging a session subtracts
        exactly its contributions: totals equal those of the rest alone."""
        _require(store)
        await _session(store, "gone", start=T0, user="leaver")
        await _session(store, "kept", start=T0 + 60_000)
        await store.merge_facts("gone", {"f": 1})
        await store.set_contribution("gone", "k1", _rows("/home", 2, 100))
        await store.set_contribution("gone", "k2", _rows("/gone-only", 1, 5))
        await store.set_contribution("kept", "k1", _rows("/home", 3, 40))
        if how == "delete":
            assert await store.delete_sessions(["gone"]) == 1
        elif how == "erase":
            assert await store.erase(SessionFilter(user_id="leaver")) == 1
        else:
            assert await store.purge_before(T0 + 30_000) == 1
        assert await _totals(store) == {("/home",): Tally(1, 40.0)}
        assert await _totals(store, "clicks") == {("/home",): Tally(3, 0.0)}
        # the session may come back: it starts from nothing
        await _session(store, "gone")
        facts = await store.merge_facts("gone", {"g": 2})
        assert facts is not None and facts.facts == {"g": 2}
        assert await store.set_contribution("gone", "k1", _rows("/home", 1), version=1)

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits", [StoreLimits(max_sessions=1)], indirect=True, ids=["max_sessions=1"]
    )
    async def test_evicted_session_takes_its_contributions(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that a session evicted by ``max_sessions`` leaves the totals."""
        _require(store)
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        await _session(store, "old", start=T0)
        await store.set_contribution("old", "k", _rows("/old", 1))
        await _session(store, "new", start=T0 + 60_000)
        await store.set_contribution("new", "k", _rows("/new", 1))
        assert await _totals(store) == {("/new",): Tally(1, 0.0)}

    @pytest.mark.asyncio
    async def test_concurrent_contributions_lose_nothing(self, store: Store) -> None:
        """Ensure that many concurrent writers, with repeats and folds whose
        versions arrive shuffled, leave exactly the sum of the latest
        contributions."""
        _require(store)
        sessions = [f"s{i}" for i in range(6)]
        for sid in sessions:
            await _session(store, sid)
        rng = random.Random(7)
        calls = []
        for sid in sessions:
            for batch in range(8):
                rows = _rows("/home", batch + 1)
                calls += [(sid, f"batch:{batch}", 1, rows)] * 2  # delivered twice
            for version in range(1, 9):
                calls.append((sid, "fold", version, _rows(f"/fold{version}", version)))
        rng.shuffle(calls)
        await asyncio.gather(*(store.set_contribution(s, k, r, version=v) for s, k, v, r in calls))
        clicks = await _totals(store, "clicks")
        assert clicks == {
            ("/home",): Tally(len(sessions) * sum(range(1, 9)), 0.0),
            ("/fold8",): Tally(len(sessions) * 8, 0.0),
        }
        merged = await asyncio.gather(*(store.merge_facts("s0", {f"f{i}": i}) for i in range(20)))
        final = max((m for m in merged if m is not None), key=lambda m: m.version)
        assert final.facts == {f"f{i}": i for i in range(20)}
        assert sorted(m.version for m in merged if m is not None) == sorted(
            {m.version for m in merged if m is not None}
        ), "every merge must get a version of its own"

    @pytest.mark.asyncio
    async def test_clear_aggregates(self, store: Store) -> None:
        """Ensure that ``clear_aggregates`` drops totals, contributions and
        facts, and that contributing starts afresh afterwards."""
        _require(store)
        await _session(store, "a")
        await store.merge_facts("a", {"f": 1})
        await store.set_contribution("a", "k", _rows("/home", 1))
        await store.clear_aggregates()
        assert await _totals(store) == {}
        assert await store.set_contribution("a", "k", _rows("/home", 1))
        facts = await store.merge_facts("a", {})
        assert facts is not None and facts.facts == {}
        assert await _totals(store) == {("/home",): Tally(1, 0.0)}

    @pytest.mark.asyncio
    async def test_aggregates_survive_reopening(
        self, store: Store, request: pytest.FixtureRequest
    ) -> None:
        """Ensure that totals, contributions and facts outlive the store object."""
        _require(store)
        reopen_store = request.getfixturevalue("reopen_store")
        await _session(store, "a")
        await store.merge_facts("a", {"f": 1})
        await store.set_contribution("a", "k", _rows("/home", 2), version=3)
        again: Store = await reopen_store()
        try:
            assert await _totals(again, "clicks") == {("/home",): Tally(2, 0.0)}
            assert not await again.set_contribution("a", "k", _rows("/x", 1), version=3)
            facts = await again.merge_facts("a", {})
            assert facts is not None and facts.facts == {"f": 1}
        finally:
            await again.close()

    @pytest.mark.asyncio
    async def test_removed_aggregates_leave_nothing_behind(
        self, store: Store, raw_storage: RawStorage
    ) -> None:
        """Ensure that a deleted session's contributions, facts and the
        totals only it made leave nothing in the backend's storage (needs
        ``raw_storage``)."""
        _require(store)
        doomed, kept = "agg-doomed-P4qs", "agg-kept-Lm2z"
        await _session(store, "gone")
        await _session(store, "stays")
        await store.merge_facts("gone", {"fact": f"fact-{doomed}"})
        await store.set_contribution("gone", "k", _rows(f"/{doomed}", 1))
        await store.set_contribution("stays", "k", _rows(f"/{kept}", 1))
        await _assert_exposed(raw_storage, doomed, kept)
        assert await store.delete_sessions(["gone"]) == 1
        await _assert_no_trace(raw_storage, "delete_sessions (aggregates)", doomed)
        await _assert_exposed(raw_storage, kept)
