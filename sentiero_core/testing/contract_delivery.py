"""Contract: batches delivered more than once are stored once.

The recorder retries a batch whose answer it never got, although the server
may have stored it; each envelope carries ``seq``, the window's batch number,
so a store recognises the repeat by (session, window, seq) and ignores it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ..store import Batch, SessionSummary, Store, StoreLimits
from .factories import T0, click, error, make_batch, meta, text_mutation, track
from .helpers import labels, listed_ids, read_all, reference_summaries

ReopenStore = Callable[[], Awaitable[Store]]


def _batch(
    session_id: str, window_id: str, seq: int | None, start: int, prefix: str, count: int = 3
) -> Batch:
    events = [text_mutation(start + i, f"{prefix}{i}") for i in range(count)]
    return make_batch(session_id, window_id, events, seq=seq)


async def _summary(store: Store, session_id: str) -> SessionSummary:
    summary = await store.get_session(session_id)
    assert summary is not None, f"session {session_id!r} is missing"
    return summary


class DeliveryContract:
    """Tests of repeated deliveries: ``Batch.seq`` and what ``append`` returns."""

    @pytest.mark.asyncio
    async def test_repeated_seq_is_stored_once(self, store: Store) -> None:
        """Ensure that a batch delivered again with the same (session, window,
        seq) adds no event and changes no summary field, and ``append``
        answers ``False`` for each repeat."""
        events = [
            meta(T0, "https://shop.example/"),
            click(T0 + 10),
            error(T0 + 20),
            track(T0 + 30, "signup"),
        ]
        batch = make_batch("s1", "w1", events, seq=1, user_agent="agent", ip="10.0.0.0")
        assert await store.append(batch) is not False
        before = (await _summary(store, "s1")).to_dict()
        assert before == reference_summaries([batch])["s1"].to_dict()
        for _ in range(3):
            again = make_batch("s1", "w1", events, seq=1, user_agent="agent", ip="10.0.0.0")
            assert await store.append(again) is False
        assert await read_all(store, "s1") == events
        assert (await _summary(store, "s1")).to_dict() == before
        stats = await store.stats()
        assert (stats.sessions, stats.events, stats.batches) == (1, 4, 1)
        assert stats.raw_bytes == batch.digest.raw_bytes

    @pytest.mark.asyncio
    async def test_first_delivery_of_a_seq_wins(self, store: Store) -> None:
        """Ensure that a later batch reusing a stored (session, window, seq)
        is ignored even when its events differ: the key alone decides."""
        await store.append(_batch("s1", "w1", 7, T0, "first"))
        assert await store.append(_batch("s1", "w1", 7, T0 + 100, "second", count=5)) is False
        assert labels(await read_all(store, "s1")) == ["first0", "first1", "first2"]
        summary = await _summary(store, "s1")
        assert (summary.event_count, summary.batch_count, summary.ended_at) == (3, 1, T0 + 2)

    @pytest.mark.asyncio
    async def test_seq_zero_and_large_seqs_are_recognised(self, store: Store) -> None:
        """Ensure that seq 0 and seq 2**53 are seqs like any other (0 is not
        "no seq"), and that both stay apart from each other."""
        for seq in (0, 2**53):
            batch = _batch("s1", "w1", seq, T0 + seq % 1000, f"q{seq}.")
            assert await store.append(batch) is not False
        assert await store.append(_batch("s1", "w1", 0, T0, "again")) is False
        assert await store.append(_batch("s1", "w1", 2**53, T0, "again")) is False
        summary = await _summary(store, "s1")
        assert (summary.event_count, summary.batch_count) == (6, 2)

    @pytest.mark.asyncio
    async def test_same_seq_in_another_window_or_session_is_stored(self, store: Store) -> None:
        """Ensure that a seq is only a repeat within its own (session, window):
        the same number from another window or another session is stored."""
        batches = [
            _batch("s1", "w1", 1, T0, "a"),
            _batch("s1", "w2", 1, T0 + 10, "b"),
            _batch("s2", "w1", 1, T0 + 20, "c"),
            _batch("s1", "w1", 2, T0 + 30, "d"),
        ]
        for batch in batches:
            assert await store.append(batch) is not False
        assert labels(await read_all(store, "s1", window_id="w1")) == [
            *("a0", "a1", "a2"),
            *("d0", "d1", "d2"),
        ]
        assert labels(await read_all(store, "s1", window_id="w2")) == ["b0", "b1", "b2"]
        assert labels(await read_all(store, "s2")) == ["c0", "c1", "c2"]
        reference = reference_summaries(batches)
        for sid in ("s1", "s2"):
            assert (await _summary(store, sid)).to_dict() == reference[sid].to_dict()

    @pytest.mark.asyncio
    async def test_batches_without_seq_are_never_repeats(self, store: Store) -> None:
        """Ensure that a batch without seq is stored every time it arrives,
        and never collides with the seqs of its window."""
        batch = _batch("s1", "w1", None, T0, "x")
        assert await store.append(batch) is not False
        assert await store.append(batch) is not False
        assert await store.append(_batch("s1", "w1", 1, T0 + 50, "y")) is not False
        assert await store.append(_batch("s1", "w1", None, T0 + 60, "z")) is not False
        assert labels(await read_all(store, "s1")) == [
            *("x0", "x0", "x1", "x1", "x2", "x2"),
            *("y0", "y1", "y2", "z0", "z1", "z2"),
        ]
        summary = await _summary(store, "s1")
        assert (summary.event_count, summary.batch_count) == (12, 4)

    @pytest.mark.asyncio
    async def test_concurrent_repeats_are_stored_once(self, store: Store) -> None:
        """Ensure that the same batch appended 20 times at once is stored
        exactly once (one ``append`` stores it, the others answer ``False``),
        while other batches of the session arriving meanwhile are all kept."""
        batch = _batch("s1", "w1", 5, T0 + 500, "dup")
        others = [_batch("s1", "w2", n, T0 + n * 10, f"o{n}.", count=1) for n in range(10)]
        results = await asyncio.gather(
            *(store.append(batch) for _ in range(20)), *(store.append(b) for b in others)
        )
        assert sum(r is not False for r in results[:20]) == 1, results
        assert all(r is not False for r in results[20:]), results
        assert labels(await read_all(store, "s1", window_id="w1")) == ["dup0", "dup1", "dup2"]
        assert len(await read_all(store, "s1", window_id="w2")) == 10
        summary = await _summary(store, "s1")
        assert (summary.event_count, summary.batch_count) == (13, 11)
        assert summary.raw_bytes == sum(b.digest.raw_bytes for b in [batch, *others])
        assert (await store.stats()).batches == 11

    @pytest.mark.asyncio
    async def test_concurrent_first_batches_of_a_session_repeated(self, store: Store) -> None:
        """Ensure that repeats racing to create a session create it once,
        with each distinct batch folded once."""
        batches = [_batch("new", f"w{n % 2}", n // 2, T0 + n, f"{n}.", count=1) for n in range(6)]
        await asyncio.gather(*(store.append(b) for b in batches for _ in range(4)))
        summary = await _summary(store, "new")
        assert (summary.event_count, summary.batch_count) == (6, 6)
        assert (summary.started_at, summary.ended_at) == (T0, T0 + 5)
        assert summary.raw_bytes == sum(b.digest.raw_bytes for b in batches)
        assert sorted(summary.windows) == ["w0", "w1"]
        assert sorted(labels(await read_all(store, "new"))) == [f"{n}.0" for n in range(6)]

    @pytest.mark.asyncio
    async def test_deleted_session_forgets_its_seqs(self, store: Store) -> None:
        """Ensure that once a session is deleted (or purged), a batch with
        one of its old seqs is a new batch of a new session."""
        await store.append(_batch("s1", "w1", 1, T0, "old"))
        await store.append(_batch("s2", "w1", 1, T0, "old"))
        assert await store.delete_sessions(["s1"]) == 1
        assert await store.purge_before(T0 + 10) == 1
        for sid in ("s1", "s2"):
            assert await store.append(_batch(sid, "w1", 1, T0 + 1000, "new")) is not False
            assert labels(await read_all(store, sid)) == ["new0", "new1", "new2"]
            summary = await _summary(store, sid)
            assert (summary.started_at, summary.event_count, summary.batch_count) == (
                T0 + 1000,
                3,
                1,
            )

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits", [StoreLimits(max_sessions=2)], indirect=True, ids=["max_sessions=2"]
    )
    async def test_repeat_never_evicts_a_session(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that under ``max_sessions`` a repeated batch of a stored
        session is ignored and evicts nothing, while an evicted session's
        seqs are forgotten like a deleted one's."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        await store.append(_batch("s0", "w1", 1, T0, "a"))
        await store.append(_batch("s1", "w1", 1, T0 + 1000, "b"))
        assert await store.append(_batch("s0", "w1", 1, T0, "a")) is False
        assert await store.count_sessions() == 2
        assert sorted(await listed_ids(store)) == ["s0", "s1"]
        await store.append(_batch("s2", "w1", 1, T0 + 2000, "c"))
        assert await store.get_session("s0") is None
        # s0 went with its seqs: the same key starts s0 anew (evicting s1).
        assert await store.append(_batch("s0", "w1", 1, T0 + 3000, "a")) is not False
        assert sorted(await listed_ids(store)) == ["s0", "s2"]

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits",
        [StoreLimits(max_events_per_session=5)],
        indirect=True,
        ids=["max_events_per_session=5"],
    )
    async def test_repeat_of_a_trimmed_session_changes_nothing(
        self, store: Store, store_limits: StoreLimits
    ) -> None:
        """Ensure that under ``max_events_per_session`` a repeat of a batch the
        session still holds (whole or in part) is ignored: events, counts
        and summary stay as they were."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        await store.append(_batch("s1", "w1", 1, T0, "a"))
        await store.append(_batch("s1", "w1", 2, T0 + 100, "b"))
        kept = ["a1", "a2", "b0", "b1", "b2"]
        assert labels(await read_all(store, "s1")) == kept
        before = (await _summary(store, "s1")).to_dict()
        assert await store.append(_batch("s1", "w1", 2, T0 + 100, "b")) is False
        assert await store.append(_batch("s1", "w1", 1, T0, "a")) is False
        assert labels(await read_all(store, "s1")) == kept
        assert (await _summary(store, "s1")).to_dict() == before
        assert (await store.stats()).events == 5

    @pytest.mark.asyncio
    async def test_repeats_are_recognised_after_reopening(
        self, store: Store, reopen_store: ReopenStore
    ) -> None:
        """Ensure that a persistent store opened again still recognises the
        seqs stored before (needs the ``reopen_store`` fixture; skipped
        without it unless the store declares itself persistent)."""
        await store.append(_batch("s1", "w1", 1, T0, "a"))
        again = await reopen_store()
        try:
            assert await again.append(_batch("s1", "w1", 1, T0, "a")) is False
            assert await again.append(_batch("s1", "w1", 2, T0 + 10, "b")) is not False
            summary = await _summary(again, "s1")
            assert (summary.event_count, summary.batch_count) == (6, 2)
        finally:
            await again.close()
