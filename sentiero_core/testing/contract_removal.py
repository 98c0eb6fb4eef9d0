"""Contract: deleting, erasing, purging, and the limits enforced at append."""

from __future__ import annotations

import pytest

from ..store import SessionFilter, Store, StoreLimits
from .catalog import CATALOG_ORDER, catalog_batches
from .factories import T0, make_batch, text_mutation
from .helpers import append_all, labels, listed_ids, read_all


def _check_limits(store: Store, limits: StoreLimits) -> None:
    if getattr(store, "limits", None) != limits:
        pytest.fail(
            f"the store has limits {getattr(store, 'limits', None)!r}, the test asked for "
            f"{limits!r}: build the store in your `store` fixture with the `store_limits` "
            "fixture, e.g. MyStore(..., limits=store_limits)"
        )


async def _assert_gone(store: Store, session_id: str) -> None:
    assert await store.get_session(session_id) is None, session_id
    assert session_id not in await listed_ids(store), session_id
    assert session_id not in await listed_ids(store, limit=1), session_id
    assert await store.count_sessions(SessionFilter(session_ids=(session_id,))) == 0
    page = await store.read_events(session_id)
    assert (page.events, page.next) == ([], None), session_id


class RemovalContract:
    """Tests of ``delete_sessions``, ``erase``, ``purge_before`` and limits."""

    @pytest.mark.asyncio
    async def test_deleted_session_is_gone_everywhere(self, store: Store) -> None:
        """Ensure that a deleted session is no longer listed, readable, fetched,
        counted or filtered, and the others remain."""
        await append_all(store, catalog_batches())
        assert await store.delete_sessions(["sess-c"]) == 1
        await _assert_gone(store, "sess-c")
        assert await listed_ids(store) == [s for s in CATALOG_ORDER if s != "sess-c"]
        assert await store.count_sessions() == len(CATALOG_ORDER) - 1
        assert await listed_ids(store, SessionFilter(device="mobile")) == ["sess-g"]

    @pytest.mark.asyncio
    async def test_delete_counts_only_existing_sessions(self, store: Store) -> None:
        """Ensure that ``delete_sessions`` returns how many existed, ignoring
        unknown and repeated ids."""
        await append_all(store, catalog_batches())
        assert await store.delete_sessions(["sess-a", "missing", "sess-a", "sess-b"]) == 2
        assert await store.delete_sessions(["sess-a"]) == 0
        assert await store.delete_sessions([]) == 0
        assert await store.count_sessions() == len(CATALOG_ORDER) - 2

    @pytest.mark.asyncio
    async def test_deleted_id_reused_starts_a_fresh_session(self, store: Store) -> None:
        """Ensure that appending to a deleted session's id starts from nothing:
        no old events, no old summary fields."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, f"old{i}") for i in range(5)])
        )
        await store.delete_sessions(["s1"])
        await store.append(make_batch("s1", "w9", [text_mutation(T0 + 5000, "new")]))
        assert labels(await read_all(store, "s1")) == ["new"]
        s = await store.get_session("s1")
        assert s is not None
        assert (s.started_at, s.event_count, s.batch_count, s.windows) == (T0 + 5000, 1, 1, ["w9"])
        stats = await store.stats()
        assert (stats.sessions, stats.events, stats.batches) == (1, 1, 1)

    @pytest.mark.asyncio
    async def test_erase_removes_matching_sessions(self, store: Store) -> None:
        """Ensure that ``erase`` removes every matching session with its events
        and returns how many it removed."""
        await append_all(store, catalog_batches())
        assert await store.erase(SessionFilter(user_id="u-42")) == 2
        for sid in ("sess-b", "sess-d"):
            await _assert_gone(store, sid)
        assert await store.count_sessions() == len(CATALOG_ORDER) - 2
        assert await store.erase(SessionFilter(user_id="u-42")) == 0

    @pytest.mark.asyncio
    async def test_erase_with_combined_filter(self, store: Store) -> None:
        """Ensure that ``erase`` applies every field of a combined filter."""
        await append_all(store, catalog_batches())
        removed = await store.erase(SessionFilter(browser="firefox", has_errors=False))
        assert removed == 1
        await _assert_gone(store, "sess-f")
        assert await store.get_session("sess-b") is not None

    @pytest.mark.asyncio
    async def test_erase_with_empty_filter_raises_value_error(self, store: Store) -> None:
        """Ensure that ``erase`` refuses an empty filter and removes nothing."""
        await append_all(store, catalog_batches())
        with pytest.raises(ValueError):
            await store.erase(SessionFilter())
        assert await store.count_sessions() == len(CATALOG_ORDER)

    @pytest.mark.asyncio
    async def test_purge_before_removes_sessions_idle_since(self, store: Store) -> None:
        """Ensure that ``purge_before`` removes sessions whose last activity is
        strictly older than the given time, and keeps one ending exactly then."""
        for i in range(5):
            await store.append(
                make_batch(
                    f"s{i}",
                    "w1",
                    [text_mutation(T0, "start"), text_mutation(T0 + (i + 1) * 1000, "end")],
                )
            )
        assert await store.purge_before(T0 + 3000) == 2
        for sid in ("s0", "s1"):
            await _assert_gone(store, sid)
        assert await listed_ids(store) == ["s4", "s3", "s2"]
        assert await store.purge_before(T0) == 0
        assert await store.purge_before(T0 + 10_000) == 3
        assert await store.count_sessions() == 0

    @pytest.mark.asyncio
    async def test_purge_uses_last_activity_not_start(self, store: Store) -> None:
        """Ensure that an old session still active recently survives a purge."""
        await store.append(make_batch("long", "w1", [text_mutation(T0, "a")]))
        await store.append(make_batch("long", "w1", [text_mutation(T0 + 60_000, "b")]))
        await store.append(make_batch("short", "w1", [text_mutation(T0 + 1000, "a")]))
        assert await store.purge_before(T0 + 30_000) == 1
        assert await listed_ids(store) == ["long"]

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits", [StoreLimits(max_sessions=3)], indirect=True, ids=["max_sessions=3"]
    )
    async def test_max_sessions_evicts_least_recently_active(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that past ``max_sessions`` the sessions with the oldest last
        activity are evicted, whatever their start."""
        _check_limits(store, store_limits)
        for i in range(3):
            await store.append(make_batch(f"s{i}", "w1", [text_mutation(T0 + i * 1000, "x")]))
        # s0 started first but is active again: s1 is now the least recent.
        await store.append(make_batch("s0", "w1", [text_mutation(T0 + 10_000, "again")]))
        await store.append(make_batch("s3", "w1", [text_mutation(T0 + 11_000, "x")]))
        assert await store.count_sessions() == 3
        await _assert_gone(store, "s1")
        assert set(await listed_ids(store)) == {"s0", "s2", "s3"}
        await store.append(make_batch("s4", "w1", [text_mutation(T0 + 12_000, "x")]))
        await _assert_gone(store, "s2")
        assert set(await listed_ids(store)) == {"s0", "s3", "s4"}
        assert (await store.stats()).sessions == 3

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits",
        [StoreLimits(max_events_per_session=7)],
        indirect=True,
        ids=["max_events_per_session=7"],
    )
    async def test_max_events_keeps_the_newest_events(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that past ``max_events_per_session`` the oldest events (by
        timestamp) are dropped, down to exactly the limit, even mid-batch,
        and the summary's event and batch counts follow."""
        _check_limits(store, store_limits)
        for b in range(4):
            await store.append(
                make_batch(
                    "s1", "w1", [text_mutation(T0 + b * 100 + i, f"{b}.{i}") for i in range(5)]
                )
            )
        expected = ["2.3", "2.4"] + [f"3.{i}" for i in range(5)]
        assert labels(await read_all(store, "s1")) == expected
        assert labels(await read_all(store, "s1", limit=2)) == expected
        stats = await store.stats()
        assert (stats.events, stats.batches) == (7, 2)
        summary = await store.get_session("s1")
        assert summary is not None
        # The counts describe what is kept; times and pages the whole recording.
        assert (summary.event_count, summary.batch_count) == (7, 2)
        assert (summary.started_at, summary.ended_at) == (T0, T0 + 304)

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits",
        [StoreLimits(max_events_per_session=6)],
        indirect=True,
        ids=["max_events_per_session=6"],
    )
    async def test_max_events_counts_time_across_windows(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that the events kept are the newest by timestamp across
        windows, not the last batches to arrive."""
        _check_limits(store, store_limits)
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i * 20, f"a{i}") for i in range(5)])
        )
        await store.append(
            make_batch("s1", "w2", [text_mutation(T0 + 10 + i * 20, f"b{i}") for i in range(5)])
        )
        # Arrives last but is the oldest: it must be dropped, not kept.
        await store.append(make_batch("s1", "w3", [text_mutation(T0 - 500, "stale")]))
        expected = ["a2", "b2", "a3", "b3", "a4", "b4"]
        assert labels(await read_all(store, "s1")) == expected
        assert labels(await read_all(store, "s1", window_id="w2")) == ["b2", "b3", "b4"]

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits",
        [StoreLimits(max_events_per_session=10)],
        indirect=True,
        ids=["max_events_per_session=10"],
    )
    async def test_max_events_applies_to_one_oversized_batch(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that a single batch larger than the limit keeps its newest
        events, and other sessions are not trimmed by it."""
        _check_limits(store, store_limits)
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(25)])
        )
        await store.append(
            make_batch("s2", "w1", [text_mutation(T0 + i, str(i)) for i in range(8)])
        )
        assert labels(await read_all(store, "s1")) == [str(i) for i in range(15, 25)]
        assert len(await read_all(store, "s2")) == 8
        assert (await store.stats()).events == 18
