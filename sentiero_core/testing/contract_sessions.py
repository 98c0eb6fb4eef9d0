"""Contract: listing, filtering, counting and fetching session summaries."""

from __future__ import annotations

import pytest

from ..store import InvalidCursor, SessionFilter, Store
from .catalog import CATALOG_ORDER, FILTER_CASES, catalog_batches
from .contract_events import BAD_CURSORS, tampered
from .factories import T0, make_batch, text_mutation
from .helpers import append_all, list_all, listed_ids

_FILTER_PARAMS = [pytest.param(f, ids, id=name) for name, f, ids in FILTER_CASES]


class SessionsContract:
    """Tests of ``list_sessions``, ``count_sessions`` and ``get_session``."""

    @pytest.mark.asyncio
    async def test_sessions_listed_newest_first(self, store: Store) -> None:
        """Ensure that sessions are listed by start time descending, ties broken
        by session id descending."""
        await append_all(store, catalog_batches())
        assert await listed_ids(store) == CATALOG_ORDER

    @pytest.mark.asyncio
    async def test_default_listing_without_arguments(self, store: Store) -> None:
        """Ensure that ``list_sessions()`` with no arguments returns one page of
        everything, newest first."""
        await append_all(store, catalog_batches())
        page = await store.list_sessions()
        assert [s.session_id for s in page.sessions] == CATALOG_ORDER
        assert page.next is None

    @pytest.mark.asyncio
    async def test_every_session_page_size_lists_each_session_once(self, store: Store) -> None:
        """Ensure that paging with any limit lists every session exactly once,
        in order, with no gap at page boundaries."""
        await append_all(store, catalog_batches())
        for limit in range(1, len(CATALOG_ORDER) + 2):
            assert await listed_ids(store, limit=limit) == CATALOG_ORDER, f"limit={limit}"

    @pytest.mark.asyncio
    async def test_exactly_full_last_session_page_has_no_next(self, store: Store) -> None:
        """Ensure that a listing page holding the last sessions says next=None,
        even when it is exactly full."""
        for i in range(4):
            await store.append(make_batch(f"s{i}", "w1", [text_mutation(T0 + i * 1000, "x")]))
        first = await store.list_sessions(limit=2)
        assert [s.session_id for s in first.sessions] == ["s3", "s2"]
        assert first.next is not None
        second = await store.list_sessions(cursor=first.next, limit=2)
        assert [s.session_id for s in second.sessions] == ["s1", "s0"]
        assert second.next is None
        whole = await store.list_sessions(limit=4)
        assert len(whole.sessions) == 4
        assert whole.next is None

    @pytest.mark.asyncio
    async def test_empty_store_lists_nothing(self, store: Store) -> None:
        """Ensure that an empty store lists no sessions and counts zero."""
        page = await store.list_sessions()
        assert (page.sessions, page.next) == ([], None)
        assert await store.count_sessions() == 0

    @pytest.mark.asyncio
    @pytest.mark.parametrize(("session_filter", "expected"), _FILTER_PARAMS)
    async def test_list_sessions_filter(
        self, store: Store, session_filter: SessionFilter, expected: list[str]
    ) -> None:
        """Ensure that each filter field, alone and combined, selects exactly the
        matching sessions, newest first, across pages."""
        await append_all(store, catalog_batches())
        assert await listed_ids(store, session_filter) == expected
        assert await listed_ids(store, session_filter, limit=2) == expected

    @pytest.mark.asyncio
    @pytest.mark.parametrize(("session_filter", "expected"), _FILTER_PARAMS)
    async def test_count_sessions_filter(
        self, store: Store, session_filter: SessionFilter, expected: list[str]
    ) -> None:
        """Ensure that ``count_sessions`` agrees with the listing for each filter."""
        await append_all(store, catalog_batches())
        assert await store.count_sessions(session_filter) == len(expected)

    @pytest.mark.asyncio
    async def test_count_sessions_without_filter_counts_all(self, store: Store) -> None:
        """Ensure that ``count_sessions()`` and an empty filter count every session."""
        await append_all(store, catalog_batches())
        assert await store.count_sessions() == len(CATALOG_ORDER)
        assert await store.count_sessions(SessionFilter()) == len(CATALOG_ORDER)

    @pytest.mark.asyncio
    @pytest.mark.parametrize("cursor", BAD_CURSORS)
    async def test_garbage_session_cursor_raises_invalid_cursor(
        self, store: Store, cursor: str
    ) -> None:
        """Ensure that a listing cursor the store never produced raises InvalidCursor."""
        await append_all(store, catalog_batches())
        with pytest.raises(InvalidCursor):
            await store.list_sessions(cursor=cursor, limit=1)

    @pytest.mark.asyncio
    async def test_tampered_session_cursor_raises_invalid_cursor(self, store: Store) -> None:
        """Ensure that a listing cursor altered by hand raises InvalidCursor."""
        await append_all(store, catalog_batches())
        page = await store.list_sessions(limit=2)
        assert page.next is not None
        for bad in (tampered(page.next), page.next[::-1], page.next[:-3]):
            if bad == page.next:
                continue
            with pytest.raises(InvalidCursor):
                await store.list_sessions(cursor=bad, limit=2)

    @pytest.mark.asyncio
    @pytest.mark.parametrize("limit", [0, -5])
    async def test_session_limit_below_one_raises_value_error(
        self, store: Store, limit: int
    ) -> None:
        """Ensure that a listing limit below 1 is refused with ValueError."""
        with pytest.raises(ValueError):
            await store.list_sessions(limit=limit)

    @pytest.mark.asyncio
    async def test_listing_follows_start_moved_earlier(self, store: Store) -> None:
        """Ensure that when a later batch carries earlier events (another tab),
        the session is listed by its new, earlier start."""
        await store.append(make_batch("s1", "w1", [text_mutation(T0 + 5000, "x")]))
        await store.append(make_batch("s2", "w1", [text_mutation(T0 + 3000, "x")]))
        assert await listed_ids(store) == ["s1", "s2"]
        await store.append(make_batch("s1", "w2", [text_mutation(T0 + 1000, "x")]))
        assert await listed_ids(store) == ["s2", "s1"]
        assert await listed_ids(store, limit=1) == ["s2", "s1"]
        assert await store.count_sessions(SessionFilter(started_before=T0 + 2000)) == 1

    @pytest.mark.asyncio
    async def test_session_cursor_survives_deleting_its_session(self, store: Store) -> None:
        """Ensure that a listing cursor keeps working after the session it
        points at is deleted, without repeating or skipping others."""
        await append_all(store, catalog_batches())
        first = await store.list_sessions(limit=3)
        assert [s.session_id for s in first.sessions] == CATALOG_ORDER[:3]
        assert first.next is not None
        assert await store.delete_sessions([CATALOG_ORDER[2]]) == 1
        rest = await store.list_sessions(cursor=first.next, limit=10)
        assert [s.session_id for s in rest.sessions] == CATALOG_ORDER[3:]

    @pytest.mark.asyncio
    async def test_get_unknown_session_returns_none(self, store: Store) -> None:
        """Ensure that ``get_session`` of an id never stored returns None."""
        await append_all(store, catalog_batches())
        assert await store.get_session("missing") is None
        assert await store.get_session("") is None

    @pytest.mark.asyncio
    async def test_listed_summaries_equal_fetched_summaries(self, store: Store) -> None:
        """Ensure that the summaries in listings equal those from ``get_session``."""
        await append_all(store, catalog_batches())
        for listed in await list_all(store, limit=3):
            fetched = await store.get_session(listed.session_id)
            assert fetched is not None
            assert listed.to_dict() == fetched.to_dict()

    @pytest.mark.asyncio
    async def test_returned_summaries_are_snapshots(self, store: Store) -> None:
        """Ensure that changing a returned summary does not change the stored one."""
        await append_all(store, catalog_batches())
        before = await store.get_session("sess-b")
        assert before is not None
        expected = before.to_dict()
        for summary in [before, *(await store.list_sessions()).sessions]:
            summary.pages.append("https://evil.example/")
            summary.windows.clear()
            summary.custom_events.append("injected")
            summary.user_traits["admin"] = True
            summary.event_count = -1
        after = await store.get_session("sess-b")
        assert after is not None
        assert after.to_dict() == expected
        listed = {s.session_id: s for s in await list_all(store)}
        assert listed["sess-b"].to_dict() == expected
