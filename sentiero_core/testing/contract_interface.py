"""Contract: what a store declares (its capabilities) and the checks every
store shares through the :class:`~sentiero_core.store.Store` base class."""

from __future__ import annotations

from typing import Any

import pytest

from ..store import InvalidCursor, SessionFilter, Store, StoreCapabilities
from .catalog import CATALOG_ORDER, catalog_batches
from .factories import T0, make_batch, realistic_events, text_mutation
from .helpers import append_all, listed_ids

#: Limits that are not a positive integer.
BAD_LIMITS: list[Any] = [0, -1, 2.5, "10", True, None]


class InterfaceContract:
    """Tests of ``capabilities``, what ``append`` returns, and the argument
    checks of the public methods."""

    @pytest.mark.asyncio
    async def test_capabilities_are_declared(self, store: Store) -> None:
        """Ensure that the store declares its capabilities as a
        StoreCapabilities, with a compression ratio in (0, 1] or none."""
        capabilities = store.capabilities
        assert isinstance(capabilities, StoreCapabilities), (
            f"{type(store).__name__}.capabilities must be a StoreCapabilities, got {capabilities!r}"
        )
        ratio = capabilities.max_compression_ratio
        assert ratio is None or 0 < ratio <= 1, f"max_compression_ratio {ratio!r}"

    @pytest.mark.asyncio
    async def test_declared_compression_ratio_is_met(self, store: Store) -> None:
        """Ensure that a store declaring ``max_compression_ratio`` keeps a
        realistic recording within it (skipped for a store declaring none)."""
        promised = store.capabilities.max_compression_ratio
        if promised is None:
            pytest.skip(f"{type(store).__name__} declares no compression")
        await append_all(
            store,
            [
                make_batch("r1", "w1", realistic_events(T0, 200, seed=1)),
                make_batch("r1", "w1", realistic_events(T0 + 60_000, 150, seed=2)),
                make_batch("r2", "w1", realistic_events(T0, 100, seed=3)),
            ],
        )
        stats = await store.stats()
        assert stats.stored_bytes > 0, "a store holding batches stores some bytes"
        assert stats.compression_ratio <= promised, (
            f"{type(store).__name__} declares max_compression_ratio={promised} but stores "
            f"{stats.stored_bytes} bytes for {stats.raw_bytes} bytes of JSON "
            f"({stats.compression_ratio:.3f})"
        )

    @pytest.mark.asyncio
    async def test_append_answers_true_or_false(self, store: Store) -> None:
        """Ensure that ``append`` returns exactly ``True`` for a stored batch
        and exactly ``False`` for a repeat, never anything else."""
        batch = make_batch("s1", "w1", [text_mutation(T0, "a")], seq=1)
        assert await store.append(batch) is True
        assert await store.append(make_batch("s1", "w1", [text_mutation(T0, "a")], seq=1)) is False
        assert await store.append(make_batch("s1", "w1", [text_mutation(T0 + 1, "b")])) is True

    @pytest.mark.asyncio
    @pytest.mark.parametrize("limit", BAD_LIMITS, ids=repr)
    async def test_limit_that_is_not_a_positive_integer_raises_value_error(
        self, store: Store, limit: Any
    ) -> None:
        """Ensure that ``list_sessions`` and ``read_events`` refuse a limit
        that is not an integer of at least 1 with ValueError."""
        await store.append(make_batch("s1", "w1", [text_mutation(T0, "a")]))
        with pytest.raises(ValueError):
            await store.list_sessions(limit=limit)
        with pytest.raises(ValueError):
            await store.read_events("s1", limit=limit)

    @pytest.mark.asyncio
    async def test_cursor_of_the_other_kind_raises_invalid_cursor(self, store: Store) -> None:
        """Ensure that an event cursor given to ``list_sessions``, or a
        listing cursor given to ``read_events``, raises InvalidCursor."""
        await append_all(store, catalog_batches())
        listing = await store.list_sessions(limit=1)
        events = await store.read_events("sess-a", limit=1)
        assert listing.next is not None and events.next is not None
        with pytest.raises(InvalidCursor):
            await store.list_sessions(cursor=events.next, limit=1)
        with pytest.raises(InvalidCursor):
            await store.read_events("sess-a", cursor=listing.next, limit=1)

    @pytest.mark.asyncio
    async def test_empty_filter_lists_and_counts_every_session(self, store: Store) -> None:
        """Ensure that an empty SessionFilter lists and counts like no filter."""
        await append_all(store, catalog_batches())
        assert await listed_ids(store, SessionFilter()) == CATALOG_ORDER
        assert await listed_ids(store, SessionFilter(), limit=3) == CATALOG_ORDER
        assert await store.count_sessions(SessionFilter()) == len(CATALOG_ORDER)

    @pytest.mark.asyncio
    async def test_erase_without_a_filter_object_is_refused(self, store: Store) -> None:
        """Ensure that ``erase`` given no SessionFilter at all raises and
        removes nothing."""
        await append_all(store, catalog_batches())
        with pytest.raises((TypeError, ValueError)):
            await store.erase(None)  # type: ignore[arg-type]
        assert await store.count_sessions() == len(CATALOG_ORDER)

    @pytest.mark.asyncio
    async def test_delete_of_no_ids_removes_nothing(self, store: Store) -> None:
        """Ensure that ``delete_sessions`` with no ids, or only unknown and
        repeated ones, removes nothing and answers 0."""
        await append_all(store, catalog_batches())
        assert await store.delete_sessions([]) == 0
        assert await store.delete_sessions(("missing", "missing")) == 0
        assert await store.count_sessions() == len(CATALOG_ORDER)
