"""Single-page-app route changes (``sentiero:page``) count as page views in
the digest, so summaries' pages, page count, entry URL and URL filter see them."""

from __future__ import annotations

from typing import Any

import pytest

from sentiero_core.events import TAG_PAGE
from sentiero_core.store import SessionFilter, merge_digest
from sentiero_core.store.digest import digest_events
from sentiero_core.testing.factories import T0, click, custom, meta, text_mutation

SHOP = "https://shop.example/"


def route(ts: int, url: Any, kind: str = "push", title: str = "Shop") -> dict[str, Any]:
    return custom(ts, TAG_PAGE, {"url": url, "title": title, "kind": kind})


def test_route_changes_are_page_views_in_time_order() -> None:
    """Ensure that each sentiero:page event adds its URL to the batch's page views."""
    d = digest_events(
        "w1",
        [
            meta(T0, SHOP),
            route(T0 + 2000, SHOP + "cart"),
            route(T0 + 5000, SHOP + "#reviews", kind="hash"),
            route(T0 + 9000, SHOP, kind="pop"),
        ],
    )
    assert d.page_views == [
        (T0, SHOP),
        (T0 + 2000, SHOP + "cart"),
        (T0 + 5000, SHOP + "#reviews"),
        (T0 + 9000, SHOP),
    ]


@pytest.mark.parametrize("url", [None, "", 42, ["https://x.example/"], {"href": "x"}])
def test_a_route_change_without_a_url_is_not_a_page_view(url: Any) -> None:
    """Ensure that a malformed sentiero:page event is skipped, not trusted."""
    assert digest_events("w1", [route(T0, url)]).page_views == []


def test_a_route_change_with_a_non_object_payload_is_skipped() -> None:
    """Ensure that a payload that is not an object cannot break the digest."""
    event = {"type": 5, "data": {"tag": TAG_PAGE, "payload": ["x"]}, "timestamp": T0}
    assert digest_events("w1", [event]).page_views == []


def test_a_long_route_url_is_bounded() -> None:
    """Ensure that a route URL is cut like a Meta event's href (2,048 characters)."""
    d = digest_events("w1", [route(T0, SHOP + "x" * 10_000)])
    assert len(d.page_views[0][1]) == 2048


def test_summary_counts_spa_pages_and_keeps_their_urls() -> None:
    """Ensure that a summary of an SPA visit has one page per route and its entry URL."""
    first = digest_events("w1", [meta(T0, SHOP), route(T0 + 1000, SHOP + "products/7")])
    second = digest_events("w1", [route(T0 + 4000, SHOP + "checkout")])
    s = merge_digest(merge_digest(None, "s1", first), "s1", second)
    assert s.page_count == 3
    assert s.pages == [SHOP, SHOP + "products/7", SHOP + "checkout"]
    assert s.entry_url == SHOP


def test_the_url_filter_finds_a_session_by_an_spa_route() -> None:
    """Ensure that filtering by URL matches a route reached without a page load."""
    d = digest_events("w1", [meta(T0, SHOP), route(T0 + 1000, SHOP + "checkout/payment")])
    s = merge_digest(None, "s1", d)
    assert SessionFilter(url_contains="checkout/PAYMENT").matches(s)
    assert not SessionFilter(url_contains="orders").matches(s)


def test_a_route_change_right_after_a_click_makes_it_not_dead() -> None:
    """Ensure that a click whose only effect is a new URL (an in-page anchor,
    a router with nothing to redraw yet) is not counted as a dead click."""
    d = digest_events(
        "w1",
        [
            click(T0),
            route(T0 + 300, SHOP + "#faq", kind="hash"),
            click(T0 + 3000, x=400),
            text_mutation(T0 + 6000, "later"),
        ],
    )
    assert d.dead_click_count == 1


def test_other_recorder_tags_are_not_page_views() -> None:
    """Ensure that the mutation warning and pause events do not count as pages."""
    d = digest_events(
        "w1",
        [
            custom(T0, "sentiero:mutation_warning", {"mutations": 800}),
            custom(T0 + 1, "sentiero:recording_paused", {"reason": "mutation_limit"}),
        ],
    )
    assert d.page_views == [] and d.event_count == 2


def test_a_checkout_snapshot_is_not_a_page_view() -> None:
    """Ensure that a Meta event the recorder marks as a checkout (periodic or
    recovery snapshot of the same page) adds no page view."""
    again = meta(T0 + 60_000, SHOP)
    again["data"]["checkout"] = True
    d = digest_events("w1", [meta(T0, SHOP), again, route(T0 + 61_000, SHOP + "cart")])
    assert d.page_views == [(T0, SHOP), (T0 + 61_000, SHOP + "cart")]


@pytest.mark.parametrize("flag", [False, "true", 1, None])
def test_only_a_true_checkout_flag_hides_a_page_view(flag: Any) -> None:
    """Ensure that anything but a JSON true leaves the Meta a page view."""
    event = meta(T0, SHOP)
    event["data"]["checkout"] = flag
    assert digest_events("w1", [event]).page_views == [(T0, SHOP)]
