"""Contract: session summaries equal the digests folded by ``merge_digest``."""

from __future__ import annotations

import pytest

from ..store import MAX_CUSTOM_EVENTS, MAX_PAGES, MAX_WINDOWS, Batch, Store
from .catalog import CATALOG, catalog_batches
from .factories import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    T0,
    click,
    error,
    form_submit,
    full_snapshot,
    identify,
    input_change,
    make_batch,
    meta,
    mouse_move,
    page_meta,
    text_mutation,
    track,
)
from .helpers import append_all, reference_summaries

SHOP = "https://shop.example"
REFERRER = "https://search.example/?q=linen+shirt"


def rich_session() -> list[Batch]:
    """Four batches from two tabs touching every summary field."""
    first = [
        page_meta(T0, f"{SHOP}/", referrer=REFERRER, width=1440, height=900),
        meta(T0 + 5, f"{SHOP}/", 1440, 900),
        full_snapshot(T0 + 10),
        mouse_move(T0 + 50, 10, 10),
        click(T0 + 100, 200, 200),
        click(T0 + 300, 205, 198),
        click(T0 + 500, 210, 202),
        input_change(T0 + 700),
        click(T0 + 2000, 600, 40),
        text_mutation(T0 + 4000, "tick"),
    ]
    other_tab = [
        meta(T0 - 2000, f"{SHOP}/landing"),
        track(T0 - 1500, "promo_seen", {"slot": 2}),
        error(T0 - 1000, "ReferenceError: promo is not defined"),
    ]
    third = [
        identify(T0 + 5000, "user-1", {"plan": "free"}),
        track(T0 + 5100, "add_to_cart"),
        form_submit(T0 + 5200),
        meta(T0 + 6000, f"{SHOP}/checkout"),
        error(T0 + 6500),
        meta(T0 + 7000, f"{SHOP}/"),
    ]
    fourth = [
        identify(T0 + 8000, "user-2", {"plan": "pro"}),
        track(T0 + 8001, "add_to_cart"),
    ]
    return [
        make_batch("rich", "w1", first, user_agent=CHROME_MAC, ip="198.51.100.1"),
        make_batch("rich", "w2", other_tab, user_agent=FIREFOX_WINDOWS, ip="198.51.100.2"),
        make_batch("rich", "w1", third, user_agent=CHROME_MAC, ip="198.51.100.1"),
        make_batch("rich", "w1", fourth, user_agent=CHROME_MAC, dropped_events=3),
    ]


class SummariesContract:
    """Tests of the per-session summary a store keeps at append time."""

    @pytest.mark.asyncio
    async def test_summary_equals_merged_digests(self, store: Store) -> None:
        """Ensure that a session's summary equals ``merge_digest`` applied to
        its batches' digests in arrival order, field for field."""
        batches = rich_session()
        await append_all(store, batches)
        expected = reference_summaries(batches)["rich"]
        got = await store.get_session("rich")
        assert got is not None
        assert got.to_dict() == expected.to_dict()

    @pytest.mark.asyncio
    async def test_summary_fields_of_a_rich_session(self, store: Store) -> None:
        """Ensure that the summary reports start, end, duration, counts, pages,
        entry page, windows, errors, user, custom events and rage clicks."""
        await append_all(store, rich_session())
        s = await store.get_session("rich")
        assert s is not None
        assert (s.started_at, s.ended_at, s.duration_ms) == (T0 - 2000, T0 + 8001, 10_001)
        assert (s.event_count, s.batch_count) == (21, 4)
        assert s.pages == [f"{SHOP}/", f"{SHOP}/landing", f"{SHOP}/checkout"]
        assert s.page_count == 4
        assert s.entry_url == f"{SHOP}/landing"
        assert s.windows == ["w1", "w2"]
        assert (s.error_count, s.has_errors) == (2, True)
        assert (s.user_id, s.user_traits) == ("user-2", {"plan": "pro"})
        assert s.custom_events == ["promo_seen", "add_to_cart"]
        assert (s.click_count, s.rage_click_count, s.dead_click_count) == (4, 1, 1)
        assert s.form_submit_count == 1
        assert (s.browser, s.os, s.device) == ("Chrome", "macOS", "desktop")
        assert (s.viewport, s.referrer) == ("1440x900", REFERRER)
        assert (s.ip, s.user_agent) == ("198.51.100.1", CHROME_MAC)
        assert s.dropped_events == 3
        assert s.raw_bytes == sum(b.digest.raw_bytes for b in rich_session())

    @pytest.mark.asyncio
    async def test_catalog_summaries_equal_merged_digests(self, store: Store) -> None:
        """Ensure that every catalog session's summary equals its merged digests."""
        batches = catalog_batches()
        await append_all(store, batches)
        for sid, expected in reference_summaries(batches).items():
            got = await store.get_session(sid)
            assert got is not None, sid
            assert got.to_dict() == expected.to_dict(), sid
        assert len(CATALOG) == len(reference_summaries(batches))

    @pytest.mark.asyncio
    async def test_summary_without_errors_or_user(self, store: Store) -> None:
        """Ensure that a plain session has no errors, no user and no custom events."""
        await store.append(
            make_batch("plain", "w1", [meta(T0, f"{SHOP}/a"), text_mutation(T0 + 1500, "x")])
        )
        s = await store.get_session("plain")
        assert s is not None
        assert (s.has_errors, s.error_count, s.user_id, s.custom_events) == (False, 0, None, [])
        assert (s.duration_ms, s.entry_url, s.pages) == (1500, f"{SHOP}/a", [f"{SHOP}/a"])

    @pytest.mark.asyncio
    async def test_bounded_summary_lists_keep_their_first_entries(self, store: Store) -> None:
        """Ensure that pages, windows and custom events stop growing at their
        bounds, keeping the first entries, while counts keep counting."""
        extra = 10
        batches = [
            make_batch(
                "big",
                f"w{i}",
                [
                    meta(T0 + i * 100, f"{SHOP}/p{i}"),
                    meta(T0 + i * 100 + 1, f"{SHOP}/p{i}"),
                    track(T0 + i * 100 + 2, f"evt-{i}"),
                ],
            )
            for i in range(max(MAX_PAGES, MAX_WINDOWS, MAX_CUSTOM_EVENTS) + extra)
        ]
        await append_all(store, batches)
        s = await store.get_session("big")
        assert s is not None
        assert s.pages == [f"{SHOP}/p{i}" for i in range(MAX_PAGES)]
        assert s.page_count == 2 * len(batches)
        assert s.windows == [f"w{i}" for i in range(MAX_WINDOWS)]
        assert s.custom_events == [f"evt-{i}" for i in range(MAX_CUSTOM_EVENTS)]
        assert s.to_dict() == reference_summaries(batches)["big"].to_dict()
