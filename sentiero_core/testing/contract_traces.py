"""Contract: what is removed leaves no trace in the backend's storage.

Listings and reads are checked by :mod:`.contract_removal`; these tests look
behind the store's back through the optional ``raw_storage`` fixture, which
returns everything the backend holds (files, rows, documents, blobs
decompressed). A removed session's id and a text that only its events carry
must be nowhere in it; what was kept must still be there, which shows that
the fixture really exposes the data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import pytest

from ..store import Batch, SessionFilter, Store, StoreLimits
from .factories import T0, identify, make_batch, meta, text_mutation, track

#: An async callable returning every chunk of data the backend holds.
RawStorage = Callable[[], Awaitable[Iterable[bytes | str]]]

# Unusual enough that nothing else a store writes contains them.
DOOMED = "trace-doomed-q7Zx"
KEPT = "trace-kept-W3vk"


def _marker(session_id: str, part: str = "") -> str:
    return f"marker-{part}{session_id[::-1]}-only-here"


def _session(session_id: str, start: int, seq: int = 1, user_id: str = "user-1") -> list[Batch]:
    """Two batches whose events, page URL, custom event and user id all
    carry the session's marker."""
    marker = _marker(session_id)
    first = [
        meta(start, f"https://shop.example/{marker}"),
        identify(start + 1, user_id, {"plan": marker}),
        text_mutation(start + 2, marker),
    ]
    second = [track(start + 3, marker), text_mutation(start + 4, marker)]
    return [
        make_batch(session_id, "w1", first, seq=seq),
        make_batch(session_id, "w1", second, seq=seq + 1),
    ]


async def _found(raw_storage: RawStorage, *needles: str) -> set[str]:
    """Which of ``needles`` occur anywhere in the backend's storage."""
    chunks = await raw_storage()
    wanted = {needle: needle.encode() for needle in needles}
    found: set[str] = set()
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
        found.update(needle for needle, raw in wanted.items() if raw in data)
    return found


async def _assert_exposed(raw_storage: RawStorage, *needles: str) -> None:
    missing = set(needles) - await _found(raw_storage, *needles)
    assert not missing, (
        f"raw_storage does not expose data the store holds ({sorted(missing)} not found): "
        "it must return everything the backend keeps, compressed blobs decompressed"
    )


async def _assert_no_trace(raw_storage: RawStorage, what: str, *needles: str) -> None:
    left = await _found(raw_storage, *needles)
    assert not left, f"{what} left traces in the backend's storage: {sorted(left)}"


def _doomed_and_kept(doomed_user: str = "user-doomed") -> list[Batch]:
    return [*_session(DOOMED, T0, user_id=doomed_user), *_session(KEPT, T0 + 10_000)]


class TracesContract:
    """Tests that delete, erase, purge and the limits leave nothing behind
    (need the ``raw_storage`` fixture; skipped without it)."""

    @pytest.mark.asyncio
    async def test_deleted_session_leaves_no_trace(
        self, store: Store, raw_storage: RawStorage
    ) -> None:
        """Ensure that after ``delete_sessions`` neither the session's id nor
        any text of its events is anywhere in the backend's storage."""
        for batch in _doomed_and_kept():
            await store.append(batch)
        await _assert_exposed(raw_storage, DOOMED, _marker(DOOMED), KEPT, _marker(KEPT))
        assert await store.delete_sessions([DOOMED]) == 1
        await _assert_no_trace(raw_storage, "delete_sessions", DOOMED, _marker(DOOMED))
        await _assert_exposed(raw_storage, KEPT, _marker(KEPT))

    @pytest.mark.asyncio
    async def test_erased_session_leaves_no_trace(
        self, store: Store, raw_storage: RawStorage
    ) -> None:
        """Ensure that after ``erase`` neither the session's id nor any text
        of its events is anywhere in the backend's storage."""
        for batch in _doomed_and_kept(doomed_user="user-to-erase"):
            await store.append(batch)
        await _assert_exposed(raw_storage, DOOMED, _marker(DOOMED))
        assert await store.erase(SessionFilter(user_id="user-to-erase")) == 1
        await _assert_no_trace(raw_storage, "erase", DOOMED, _marker(DOOMED), "user-to-erase")
        await _assert_exposed(raw_storage, KEPT, _marker(KEPT))

    @pytest.mark.asyncio
    async def test_purged_session_leaves_no_trace(
        self, store: Store, raw_storage: RawStorage
    ) -> None:
        """Ensure that after ``purge_before`` neither the session's id nor
        any text of its events is anywhere in the backend's storage."""
        for batch in _doomed_and_kept():
            await store.append(batch)
        await _assert_exposed(raw_storage, DOOMED, _marker(DOOMED))
        assert await store.purge_before(T0 + 5_000) == 1
        await _assert_no_trace(raw_storage, "purge_before", DOOMED, _marker(DOOMED))
        await _assert_exposed(raw_storage, KEPT, _marker(KEPT))

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits", [StoreLimits(max_sessions=1)], indirect=True, ids=["max_sessions=1"]
    )
    async def test_evicted_session_leaves_no_trace(
        self, store: Store, raw_storage: RawStorage, store_limits: StoreLimits
    ) -> None:
        """Ensure that a session evicted by ``max_sessions`` leaves neither
        its id nor any text of its events in the backend's storage."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        for batch in _session(DOOMED, T0):
            await store.append(batch)
        await _assert_exposed(raw_storage, DOOMED, _marker(DOOMED))
        for batch in _session(KEPT, T0 + 10_000):
            await store.append(batch)
        assert await store.count_sessions() == 1
        await _assert_no_trace(raw_storage, "eviction (max_sessions)", DOOMED, _marker(DOOMED))
        await _assert_exposed(raw_storage, KEPT, _marker(KEPT))

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "store_limits",
        [StoreLimits(max_events_per_session=3)],
        indirect=True,
        ids=["max_events_per_session=3"],
    )
    async def test_trimmed_events_leave_no_trace(
        self, store: Store, raw_storage: RawStorage, store_limits: StoreLimits
    ) -> None:
        """Ensure that events dropped by ``max_events_per_session`` (a whole
        batch, and part of another) leave no text behind, while the events
        kept are still there."""
        assert store.limits == store_limits, "build the store with the store_limits fixture"
        old = _marker(KEPT, "old-")
        older = _marker(KEPT, "older-")
        new = _marker(KEPT, "new-")
        await store.append(
            make_batch(KEPT, "w1", [text_mutation(T0 + i, older) for i in range(3)], seq=1)
        )
        await _assert_exposed(raw_storage, older)
        await store.append(
            make_batch(
                KEPT,
                "w1",
                [text_mutation(T0 + 10, old), text_mutation(T0 + 11, new)],
                seq=2,
            )
        )
        await store.append(
            make_batch(KEPT, "w1", [text_mutation(T0 + 20 + i, new) for i in range(2)], seq=3)
        )
        assert (await store.stats()).events == 3
        await _assert_no_trace(raw_storage, "trimming (max_events_per_session)", older, old)
        await _assert_exposed(raw_storage, KEPT, new)
