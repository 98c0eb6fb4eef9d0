"""A vanilla-JS single-page app recorded in Chromium: route changes made with
pushState, replaceState, back/forward and fragment links are page views in
the store, the session's summary and its URL filter, and in the replay's
activity list and timeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from sentiero_core.store import SessionFilter
from tests.realworld.helpers import (
    assert_replayable,
    events_when,
    flush,
    recorded_page,
    serve_pages,
)
from tests.realworld.site import SPA, SPA_BOOT, PageSpec
from tests.recording.helpers import customs, new_context, store_of
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
STEP_MS = 250  # route reports settle for 100 ms


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    yield from serve_pages({"spa": PageSpec(SPA), "spa-boot": PageSpec(SPA_BOOT)})


@pytest.fixture(scope="module")
def visit(server: LiveServer, browser: Any) -> dict[str, Any]:
    """One SPA visit: two pushes, back, a fragment link, replaceState with the
    same URL and with a new one, and a link the router redirects at once;
    the steps are STEP_MS apart, as a visitor's would be."""
    context = new_context(browser, "spa")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/spa")
        for step in (
            "document.getElementById('to-products').click()",
            "document.getElementById('to-item').click()",
            "history.back()",
            "document.getElementById('to-reviews').click()",
            "history.replaceState({again: true}, '')",
            "history.replaceState({}, '', '?sort=price')",
            "document.getElementById('to-legacy').click()",
        ):
            page.evaluate(step + "; 0")
            page.wait_for_timeout(STEP_MS)
        flush(page)
        events = events_when(
            server, sid, lambda evs: len(customs(evs, "sentiero:page")) >= 6, "the route changes"
        )
    finally:
        context.close()
    return {"sid": sid, "events": events, "watch": watch}


def test_each_real_url_change_is_one_page_event(server: LiveServer, visit: dict[str, Any]) -> None:
    """Ensure that every route change is reported once, with its kind, URL and
    the title the app set, and replaceState to the same URL is not."""
    base = server.url + "/rw/spa"
    pages = [(p["kind"], p["url"], p["title"]) for p in customs(visit["events"], "sentiero:page")]
    assert pages == [
        ("push", base + "/products", "Products · Shop"),
        ("push", base + "/products/7", "Item 7 · Shop"),
        ("pop", base + "/products", "Products · Shop"),
        ("hash", base + "/products#reviews", "Products · Shop"),
        ("replace", base + "/products?sort=price", "Products · Shop"),
        # pushState to /legacy and the router's replaceState right after: one view
        ("push", base + "/products/7", "Item 7 · Shop"),
    ]


def test_the_boot_time_replace_is_not_a_page_view(
    server: LiveServer, visit: dict[str, Any]
) -> None:
    """Ensure that the page load itself is one page view (rrweb's Meta event)
    and the router's replaceState before the snapshot adds none."""
    events = visit["events"]
    assert [e["data"]["href"] for e in events if e["type"] == 4] == [server.url + "/rw/spa"]
    first_page = next(e for e in events if e["type"] == 5 and e["data"]["tag"] == "sentiero:page")
    snapshot = next(e for e in events if e["type"] == 2)
    assert first_page["timestamp"] >= snapshot["timestamp"]
    assert_replayable(events)
    assert visit["watch"].console_errors == [] and visit["watch"].uncaught == []


def test_the_summary_counts_every_route(server: LiveServer, visit: dict[str, Any]) -> None:
    """Ensure that the session summary holds one page per view and the routes' URLs."""
    summary = server.run(store_of(server).get_session(visit["sid"]))
    base = server.url + "/rw/spa"
    assert summary.page_count == 7
    assert summary.entry_url == base
    assert base + "/products/7" in summary.pages
    assert base + "/products?sort=price" in summary.pages


def test_the_url_filter_finds_the_session_by_a_route(
    server: LiveServer, visit: dict[str, Any]
) -> None:
    """Ensure that the URL filter matches a route the visitor reached without a page load."""
    store = store_of(server)
    found = server.run(store.list_sessions(SessionFilter(url_contains="/products/7")))
    assert [s.session_id for s in found.sessions] == [visit["sid"]]
    missing = server.run(store.list_sessions(SessionFilter(url_contains="/checkout")))
    assert missing.sessions == []


def test_the_replay_lists_route_changes_as_page_navigations(
    server: LiveServer, visit: dict[str, Any], browser: Any
) -> None:
    """Ensure that the session page shows each route change in the activity
    list (Pages filter) and as a navigation marker on the timeline."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(f"{server.url}/sentiero/sessions/{visit['sid']}")
        tab.wait_for_selector("body[data-replay-loaded]")
        tab.click("#activity-kinds [data-filter='navigation']")
        rows = tab.locator("#activity-list li[data-kind='navigation']:not([hidden])")
        expect(rows).to_have_count(7)
        labels = rows.locator(".label").all_text_contents()
        assert labels[1:] == [
            "Navigated: Products · Shop",
            "Navigated: Item 7 · Shop",
            "Back/forward: Products · Shop",
            "Hash change: Products · Shop",
            "URL replaced: Products · Shop",
            "Navigated: Item 7 · Shop",
        ]
        assert labels[0].startswith("Page view")
        expect(tab.locator("#markers .marker.navigation")).to_have_count(7)
        rows.nth(2).locator("button").click()
        expect(tab.locator("#current-url")).to_have_text(server.url + "/rw/spa/products/7")
    finally:
        context.close()


def test_a_redirect_while_loading_is_one_page_view(server: LiveServer, browser: Any) -> None:
    """Ensure that a router's replaceState during the page load (reported
    after the snapshot already showed the new URL) makes no second page view."""
    context = new_context(browser, "spa-boot")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/spa-boot")
        page.wait_for_timeout(STEP_MS)
        page.evaluate("window.Sentiero.track('done'); window.Sentiero.flush()")
        events = events_when(
            server, sid, lambda evs: bool(customs(evs, "sentiero:custom")), "the track call"
        )
    finally:
        context.close()
    assert [e["data"]["href"] for e in events if e["type"] == 4] == [
        server.url + "/rw/spa-boot/home"
    ]
    assert customs(events, "sentiero:page") == []
    watch.assert_clean()


def test_routes_changed_through_the_navigation_api_are_page_views(
    server: LiveServer, browser: Any
) -> None:
    """Ensure that a router built on the Navigation API (navigate() with an
    intercepted, same-document navigation; no pushState) reports its push,
    replace and traverse as page views, once each."""
    context = new_context(browser, "navigation-api")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/spa")
        page.evaluate(
            """navigation.addEventListener('navigate', (e) => {
                 if (!e.canIntercept || !e.destination.url.includes('/api-')) return;
                 e.intercept({handler: async () => {
                   document.title = new URL(e.destination.url).pathname.split('/').pop();
                 }});
               }); 0"""
        )
        base = server.url + "/rw/spa"
        for step in (
            f"navigation.navigate('{base}/api-one'); 0",
            f"navigation.navigate('{base}/api-two', {{history: 'replace'}}); 0",
            f"navigation.navigate('{base}/api-three'); 0",
            "navigation.back(); 0",
        ):
            page.evaluate(step)
            page.wait_for_timeout(STEP_MS)
        flush(page)
        events = events_when(
            server, sid, lambda evs: len(customs(evs, "sentiero:page")) >= 4, "the navigations"
        )
    finally:
        context.close()
    pages = [(p["kind"], p["url"], p["title"]) for p in customs(events, "sentiero:page")]
    # the traverse is heard by the shop's own router too (popstate), which
    # titles a route it does not know "Not found"
    assert pages == [
        ("push", base + "/api-one", "api-one"),
        ("replace", base + "/api-two", "api-two"),
        ("push", base + "/api-three", "api-three"),
        ("pop", base + "/api-two", "Not found · Shop"),
    ]
    watch.assert_clean()
