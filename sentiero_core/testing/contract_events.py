"""Contract: reading a session's events (order, pages, cursors, windows)."""

from __future__ import annotations

import pytest

from ..store import InvalidCursor, Store
from .factories import T0, make_batch, realistic_events, text_mutation
from .helpers import labels, read_all

#: Strings no store produces as a cursor (the last is base64 of ``{"a":1}``).
BAD_CURSORS = ["", "garbage", "%%%%", "AAAAAAAA", "x" * 500, "null", "eyJhIjoxfQ"]


def tampered(cursor: str) -> str:
    """``cursor`` with one character in the middle replaced."""
    i = len(cursor) // 2
    return cursor[:i] + ("B" if cursor[i] == "A" else "A") + cursor[i + 1 :]


class EventsContract:
    """Tests of ``Store.read_events``; mixed into :class:`StoreContract`."""

    @pytest.mark.asyncio
    async def test_events_read_back_equal_to_appended(self, store: Store) -> None:
        """Ensure that events come back exactly as appended, keys rrweb does not
        define included."""
        events = realistic_events(T0, 120, seed=1)
        events[5]["sessionId"] = "kept-as-is"
        events[6]["data"]["extra"] = {"nested": [1, 2.5, None, True, "x"]}
        await store.append(make_batch("s1", "w1", events))
        assert await read_all(store, "s1") == events

    @pytest.mark.asyncio
    async def test_batches_out_of_time_order_read_in_timestamp_order(self, store: Store) -> None:
        """Ensure that batches appended newest first are read oldest first."""
        late = [text_mutation(T0 + 2000 + i * 10, f"late{i}") for i in range(5)]
        early = [text_mutation(T0 + 1000 + i * 10, f"early{i}") for i in range(5)]
        await store.append(make_batch("s1", "w1", late))
        await store.append(make_batch("s1", "w1", early))
        got = labels(await read_all(store, "s1"))
        assert got == [f"early{i}" for i in range(5)] + [f"late{i}" for i in range(5)]

    @pytest.mark.asyncio
    async def test_overlapping_windows_interleave_by_timestamp(self, store: Store) -> None:
        """Ensure that two windows recording at the same time are merged by
        timestamp, not returned window after window."""
        w1 = [text_mutation(T0 + i * 20, f"a{i}") for i in range(10)]
        w2 = [text_mutation(T0 + 10 + i * 20, f"b{i}") for i in range(10)]
        await store.append(make_batch("s1", "w1", w1[:5]))
        await store.append(make_batch("s1", "w2", w2))
        await store.append(make_batch("s1", "w1", w1[5:]))
        expected = [x for i in range(10) for x in (f"a{i}", f"b{i}")]
        assert labels(await read_all(store, "s1")) == expected
        assert labels(await read_all(store, "s1", limit=3)) == expected

    @pytest.mark.asyncio
    async def test_events_out_of_order_within_a_batch_are_sorted(self, store: Store) -> None:
        """Ensure that events inside one batch are sorted by timestamp too."""
        events = [text_mutation(T0 + t, f"t{t}") for t in (30, 10, 40, 20, 0)]
        await store.append(make_batch("s1", "w1", events))
        assert labels(await read_all(store, "s1")) == ["t0", "t10", "t20", "t30", "t40"]

    @pytest.mark.asyncio
    async def test_equal_timestamps_keep_arrival_order(self, store: Store) -> None:
        """Ensure that events sharing a timestamp keep their arrival order:
        batch order first, then position in the batch."""
        await store.append(make_batch("s1", "w1", [text_mutation(T0, f"x{i}") for i in range(3)]))
        await store.append(make_batch("s1", "w2", [text_mutation(T0, f"y{i}") for i in range(2)]))
        await store.append(make_batch("s1", "w1", [text_mutation(T0 - 1, "before")]))
        expected = ["before", "x0", "x1", "x2", "y0", "y1"]
        assert labels(await read_all(store, "s1")) == expected
        for limit in (1, 2, 4):
            assert labels(await read_all(store, "s1", limit=limit)) == expected, limit

    @pytest.mark.asyncio
    async def test_every_page_size_reads_the_same_sequence(self, store: Store) -> None:
        """Ensure that paging with any limit yields the unpaged sequence, with
        no event lost or repeated at page boundaries (ties included)."""
        times = [0, 0, 5, 5, 5, 5, 9, 12, 12, 20, 20, 20, 21]
        await store.append(
            make_batch(
                "s1", "w1", [text_mutation(T0 + t, f"a{i}") for i, t in enumerate(times[::2])]
            )
        )
        await store.append(
            make_batch(
                "s1", "w2", [text_mutation(T0 + t, f"b{i}") for i, t in enumerate(times[1::2])]
            )
        )
        everything = await read_all(store, "s1")
        assert len(everything) == len(times)
        stamps = [e["timestamp"] for e in everything]
        assert stamps == sorted(stamps)
        for limit in range(1, len(times) + 2):
            assert await read_all(store, "s1", limit=limit) == everything, f"limit={limit}"

    @pytest.mark.asyncio
    async def test_limit_one_pages_through_every_event(self, store: Store) -> None:
        """Ensure that limit=1 returns one event per page and next=None only on
        the last one."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(4)])
        )
        cursor = None
        seen = []
        for i in range(4):
            page = await store.read_events("s1", cursor=cursor, limit=1)
            assert len(page.events) == 1
            seen += labels(page.events)
            if i < 3:
                assert isinstance(page.next, str) and page.next
            cursor = page.next
        assert cursor is None
        assert seen == ["0", "1", "2", "3"]

    @pytest.mark.asyncio
    async def test_exactly_full_last_page_has_no_next(self, store: Store) -> None:
        """Ensure that when the events fill the last page exactly, that page
        says next=None instead of pointing at an empty page."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(5)])
        )
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + 10 + i, str(5 + i)) for i in range(5)])
        )
        first = await store.read_events("s1", limit=5)
        assert labels(first.events) == ["0", "1", "2", "3", "4"]
        assert first.next is not None
        second = await store.read_events("s1", cursor=first.next, limit=5)
        assert labels(second.events) == ["5", "6", "7", "8", "9"]
        assert second.next is None
        whole = await store.read_events("s1", limit=10)
        assert len(whole.events) == 10
        assert whole.next is None

    @pytest.mark.asyncio
    async def test_page_larger_than_session_is_the_only_page(self, store: Store) -> None:
        """Ensure that a limit above the event count returns everything at once."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(3)])
        )
        page = await store.read_events("s1", limit=1000)
        assert labels(page.events) == ["0", "1", "2"]
        assert page.next is None

    @pytest.mark.asyncio
    async def test_unknown_session_reads_empty(self, store: Store) -> None:
        """Ensure that reading a session that does not exist gives an empty last page."""
        await store.append(make_batch("s1", "w1", [text_mutation(T0, "x")]))
        page = await store.read_events("nope")
        assert page.events == []
        assert page.next is None

    @pytest.mark.asyncio
    @pytest.mark.parametrize("cursor", BAD_CURSORS)
    async def test_garbage_event_cursor_raises_invalid_cursor(
        self, store: Store, cursor: str
    ) -> None:
        """Ensure that a cursor the store never produced raises InvalidCursor."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(3)])
        )
        with pytest.raises(InvalidCursor):
            await store.read_events("s1", cursor=cursor, limit=1)

    @pytest.mark.asyncio
    async def test_tampered_event_cursor_raises_invalid_cursor(self, store: Store) -> None:
        """Ensure that a cursor altered by hand raises InvalidCursor rather than
        paging from somewhere else."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(3)])
        )
        page = await store.read_events("s1", limit=1)
        assert page.next is not None
        for bad in (tampered(page.next), page.next[::-1], page.next + "A", page.next[:-3]):
            if bad == page.next:
                continue
            with pytest.raises(InvalidCursor):
                await store.read_events("s1", cursor=bad, limit=1)

    @pytest.mark.asyncio
    @pytest.mark.parametrize("limit", [0, -1])
    async def test_event_limit_below_one_raises_value_error(self, store: Store, limit: int) -> None:
        """Ensure that a page limit below 1 is refused with ValueError."""
        await store.append(make_batch("s1", "w1", [text_mutation(T0, "x")]))
        with pytest.raises(ValueError):
            await store.read_events("s1", limit=limit)

    @pytest.mark.asyncio
    async def test_window_filter_returns_only_that_window(self, store: Store) -> None:
        """Ensure that ``window_id`` restricts the events to one window, in
        order, across pages."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i * 2, f"a{i}") for i in range(6)])
        )
        await store.append(
            make_batch("s1", "w2", [text_mutation(T0 + i * 2 + 1, f"b{i}") for i in range(6)])
        )
        await store.append(make_batch("s1", "w1", [text_mutation(T0 + 100, "a6")]))
        for limit in (1, 2, 7, 100):
            got = labels(await read_all(store, "s1", limit=limit, window_id="w1"))
            assert got == [f"a{i}" for i in range(7)], limit
            got = labels(await read_all(store, "s1", limit=limit, window_id="w2"))
            assert got == [f"b{i}" for i in range(6)], limit
        page = await store.read_events("s1", window_id="w3")
        assert (page.events, page.next) == ([], None)

    @pytest.mark.asyncio
    async def test_cursor_sees_events_appended_after_it(self, store: Store) -> None:
        """Ensure that a cursor stays valid while the session grows, and events
        appended later with later timestamps show up on the following pages."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + i, str(i)) for i in range(4)])
        )
        page = await store.read_events("s1", limit=2)
        assert labels(page.events) == ["0", "1"]
        assert page.next is not None
        await store.append(make_batch("s1", "w1", [text_mutation(T0 + 10, "10")]))
        rest = await store.read_events("s1", cursor=page.next, limit=10)
        assert labels(rest.events) == ["2", "3", "10"]
        assert rest.next is None

    @pytest.mark.asyncio
    async def test_cursor_is_a_position_not_an_offset(self, store: Store) -> None:
        """Ensure that events appended before a cursor's position do not shift
        the next page: it continues right after the last event returned."""
        await store.append(
            make_batch("s1", "w1", [text_mutation(T0 + 100 + i, f"n{i}") for i in range(6)])
        )
        page = await store.read_events("s1", limit=3)
        assert labels(page.events) == ["n0", "n1", "n2"]
        await store.append(
            make_batch("s1", "w2", [text_mutation(T0 + i, f"early{i}") for i in range(4)])
        )
        rest = await store.read_events("s1", cursor=page.next, limit=10)
        assert labels(rest.events) == ["n3", "n4", "n5"]
        assert rest.next is None
