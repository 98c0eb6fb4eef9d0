"""Contract: every session that leaves the store is reported, exactly once,
with the ids that went and the reason (``Store.add_removal_listener``)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ..store import DELETED, ERASED, EVICTED, PURGED, SessionFilter, Store, StoreLimits
from .catalog import CATALOG_ORDER, catalog_batches
from .factories import T0, make_batch, text_mutation
from .helpers import append_all, listed_ids


class Reports:
    """A listener recording each report as (reason, sorted ids)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[tuple[str, list[str]]] = []
        store.add_removal_listener(self)

    def __call__(self, session_ids: list[str], reason: str) -> None:
        assert session_ids, "a removal report must name at least one session"
        assert all(isinstance(sid, str) for sid in session_ids), session_ids
        self.calls.append((reason, sorted(session_ids)))

    def ids(self, reason: str | None = None) -> Counter[str]:
        """How many times each id was reported (for ``reason``, or any)."""
        return Counter(
            sid for why, ids in self.calls if reason is None or why == reason for sid in ids
        )


def _session(sid: str, at: int) -> list:
    return [make_batch(sid, "w1", [text_mutation(at, sid)])]


class ReportsContract:
    """Tests of the removal reports: ``delete_sessions``, ``erase``,
    ``purge_before`` and ``max_sessions`` eviction, alone and concurrently."""

    @pytest.mark.asyncio
    async def test_delete_reports_the_sessions_that_went(self, store: Store) -> None:
        """Ensure that ``delete_sessions`` reports once, as ``deleted``, the
        ids that existed (not unknown or repeated ones), and a second delete
        of the same ids reports nothing."""
        await append_all(store, catalog_batches())
        reports = Reports(store)
        assert await store.delete_sessions(["sess-a", "missing", "sess-a", "sess-c"]) == 2
        assert reports.calls == [(DELETED, ["sess-a", "sess-c"])]
        assert await store.delete_sessions(["sess-a", "missing"]) == 0
        assert len(reports.calls) == 1

    @pytest.mark.asyncio
    async def test_erase_reports_the_matching_sessions(self, store: Store) -> None:
        """Ensure that ``erase`` reports exactly the sessions it removed, as
        ``erased``, and nothing when nothing matched."""
        await append_all(store, catalog_batches())
        reports = Reports(store)
        assert await store.erase(SessionFilter(user_id="u-42")) == 2
        assert reports.calls == [(ERASED, ["sess-b", "sess-d"])]
        assert await store.erase(SessionFilter(user_id="u-42")) == 0
        assert len(reports.calls) == 1

    @pytest.mark.asyncio
    async def test_purge_reports_the_idle_sessions(self, store: Store) -> None:
        """Ensure that ``purge_before`` reports exactly the sessions it
        removed, as ``purged``."""
        for i in range(4):
            await store.append(make_batch(f"s{i}", "w1", [text_mutation(T0 + i * 1000, "x")]))
        reports = Reports(store)
        assert await store.purge_before(T0 + 2000) == 2
        assert await store.purge_before(T0) == 0
        assert reports.calls == [(PURGED, ["s0", "s1"])]

    @pytest.mark.asyncio
    async def test_a_listener_sees_the_store_without_the_sessions(self, store: Store) -> None:
        """Ensure that listeners are called once the removal is done: the
        store no longer has the sessions, and may be read from the listener."""
        await append_all(store, catalog_batches())
        seen: list[tuple[list[str | None], int]] = []

        async def listener(session_ids: list[str], reason: str) -> None:
            found = [await store.get_session(sid) for sid in session_ids]
            seen.append(
                ([s.session_id if s else None for s in found], await store.count_sessions())
            )

        store.add_removal_listener(listener)
        await store.delete_sessions(["sess-b"])
        assert seen == [([None], len(CATALOG_ORDER) - 1)]

    @pytest.mark.asyncio
    async def test_a_failing_listener_neither_fails_the_removal_nor_silences_others(
        self, store: Store
    ) -> None:
        """Ensure that a listener that raises is logged, the removal still
        succeeds, and the listeners after it are still called."""
        await append_all(store, catalog_batches())

        def broken(session_ids: list[str], reason: str) -> None:
            raise RuntimeError("listener bug")

        store.add_removal_listener(broken)
        reports = Reports(store)
        assert await store.delete_sessions(["sess-e"]) == 1
        assert reports.calls == [(DELETED, ["sess-e"])]
        assert "sess-e" not in await listed_ids(store)

    @pytest.mark.asyncio
    async def test_a_removed_listener_is_not_called(self, store: Store) -> None:
        """Ensure that ``remove_removal_listener`` stops the reports."""
        await append_all(store, catalog_batches())
        reports = Reports(store)
        store.remove_removal_listener(reports)
        store.remove_removal_listener(reports)  # unknown: ignored
        await store.delete_sessions(["sess-a"])
        assert reports.calls == []

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits", [StoreLimits(max_sessions=3)], indirect=True, ids=["max_sessions=3"]
    )
    async def test_eviction_is_reported_before_append_returns(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that a session evicted by ``max_sessions`` is reported as
        ``evicted``, exactly once, by the time the evicting append returns;
        a repeated batch evicts and reports nothing."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        reports = Reports(store)
        for i in range(3):
            await store.append(
                make_batch(f"s{i}", "w1", [text_mutation(T0 + i * 1000, "x")], seq=1)
            )
        assert reports.calls == []
        await store.append(make_batch("s3", "w1", [text_mutation(T0 + 5000, "x")], seq=1))
        assert reports.calls == [(EVICTED, ["s0"])]
        await store.append(make_batch("s3", "w1", [text_mutation(T0 + 5000, "x")], seq=1))
        await store.append(make_batch("s4", "w1", [text_mutation(T0 + 6000, "x")]))
        assert reports.calls == [(EVICTED, ["s0"]), (EVICTED, ["s1"])]

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits",
        [StoreLimits(max_events_per_session=2)],
        indirect=True,
        ids=["max_events_per_session=2"],
    )
    async def test_trimming_events_is_not_a_removal(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that ``max_events_per_session`` trimming reports nothing."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        reports = Reports(store)
        for i in range(4):
            await store.append(make_batch("s1", "w1", [text_mutation(T0 + i, str(i))] * 2))
        assert (await store.stats()).events == 2
        assert reports.calls == []

    @pytest.mark.asyncio
    async def test_concurrent_removals_report_each_session_once(self, store: Store) -> None:
        """Ensure that deletes, erasures and purges racing over the same
        sessions report every removed session exactly once in all."""
        ids = [f"c{i:02d}" for i in range(30)]
        await append_all(store, [b for i, sid in enumerate(ids) for b in _session(sid, T0 + i)])
        reports = Reports(store)
        counts = await asyncio.gather(
            store.delete_sessions(ids[:20]),
            store.delete_sessions(ids[10:25]),
            store.erase(SessionFilter(session_ids=tuple(ids[5:30]))),
            store.purge_before(T0 + 15),
            store.delete_sessions(ids),
        )
        assert sum(counts) == len(ids)
        assert reports.ids() == Counter(ids)
        assert await store.count_sessions() == 0

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits", [StoreLimits(max_sessions=5)], indirect=True, ids=["max_sessions=5"]
    )
    async def test_concurrent_appends_report_each_eviction_once(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that concurrent appends past ``max_sessions`` report as
        ``evicted`` exactly the sessions no longer there, each once."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        reports = Reports(store)
        ids = [f"e{i:02d}" for i in range(25)]
        await asyncio.gather(*(store.append(_session(sid, T0 + i)[0]) for i, sid in enumerate(ids)))
        kept = set(await listed_ids(store))
        assert len(kept) == 5
        assert reports.ids(EVICTED) == Counter(set(ids) - kept)
        assert reports.ids() == reports.ids(EVICTED)
