"""The dashboard's pages in Chromium: the list, its filters, deletion, and
a clean console everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import Watch
from tests.dashboard.recordings import (
    DEMO_ID,
    HOSTILE_ID,
    MOBILE_ID,
    SHOP_ID,
    batches_for,
    demo_events,
    load,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
Page = tuple[Any, Watch]


def listed(tab: Any) -> list[str]:
    return tab.eval_on_selector_all(
        "#sessions tbody tr", "rows => rows.map(r => r.dataset.sessionId)"
    )  # type: ignore[no-any-return]


def test_the_list_shows_counts_badges_and_tabs(page: Page, live: LiveServer) -> None:
    tab, watch = page
    tab.goto(f"{live.url}/sentiero/")
    assert listed(tab) == [MOBILE_ID, HOSTILE_ID, SHOP_ID, DEMO_ID]
    shop = tab.locator(f"tr[data-session-id='{SHOP_ID}']")
    expect(shop.locator(".badge.error")).to_have_text("1 error")
    expect(shop.locator(".badge.rage")).to_have_text("1 rage")
    expect(shop.locator(".badge.dead")).to_have_text("3 dead")
    expect(shop.locator(".chip.tabs")).to_have_text("2 tabs")
    expect(shop.locator(".user")).to_have_text("user-42")
    demo = tab.locator(f"tr[data-session-id='{DEMO_ID}']")
    expect(demo.locator(".events")).to_have_text("272")
    expect(demo.locator(".duration")).to_have_text("1m 21s")
    expect(demo.locator(".badge")).to_have_count(0)
    # times are shown in the viewer's zone; the UTC text moves to the title
    expect(demo.locator("time")).to_have_attribute("title", "2018-12-14 03:06:06 UTC")
    demo.locator("a.session-link").click()
    tab.wait_for_selector("body[data-replay-loaded]")
    assert tab.url.endswith(f"/sentiero/sessions/{DEMO_ID}")
    assert watch.errors == []


def test_filters_combine_and_stay_in_the_url(page: Page, live: LiveServer) -> None:
    tab, watch = page
    tab.goto(f"{live.url}/sentiero/")
    tab.select_option("select[name=errors]", "yes")
    with tab.expect_navigation():
        tab.click("button[type=submit]")
    assert listed(tab) == [HOSTILE_ID, SHOP_ID]
    assert "errors=yes" in tab.url
    tab.fill("input[name=url]", "checkout")
    with tab.expect_navigation():
        tab.click("button[type=submit]")
    assert listed(tab) == [SHOP_ID]
    assert "errors=yes" in tab.url and "url=checkout" in tab.url
    tab.fill("input[name=user]", "someone-else")
    tab.click("button[type=submit]")
    expect(tab.locator("#empty-result")).to_have_text("No sessions match these filters.")
    with tab.expect_navigation():
        tab.click("text=Clear filters")
    assert len(listed(tab)) == 4
    tab.fill("input[name=min_duration]", "a while")
    tab.click("button[type=submit]")
    expect(tab.locator("#filter-error")).to_contain_text("min_duration: expected seconds")
    assert watch.dialogs == []


def test_delete_asks_first_then_returns_to_the_list(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    doomed = "doomedSession01"
    live.run(
        load(
            live.app.extensions["sentiero"].store,
            batches_for(doomed, "doomedWindow01", demo_events()[:20]),
        )
    )
    tab.goto(f"{live.url}/sentiero/sessions/{doomed}")
    expect(tab.locator("#confirm-delete")).to_be_hidden()
    tab.click("#delete summary")
    expect(tab.locator("#confirm-delete")).to_be_visible()
    tab.click("#confirm-delete")
    tab.wait_for_url(f"{live.url}/sentiero/?deleted=1")
    expect(tab.locator(".notice")).to_have_text("The session was deleted.")
    assert doomed not in listed(tab)
    assert live.run(live.app.extensions["sentiero"].store.get_session(doomed)) is None


@pytest.mark.parametrize(
    "path",
    [
        "/sentiero/",
        "/sentiero/?errors=yes&device=desktop",
        f"/sentiero/sessions/{DEMO_ID}",
        f"/sentiero/sessions/{SHOP_ID}",
        f"/sentiero/sessions/{SHOP_ID}?window=shopWindowB001",
        f"/sentiero/sessions/{MOBILE_ID}",
        f"/sentiero/sessions/{HOSTILE_ID}",
    ],
)
def test_no_console_errors(page: Page, live: LiveServer, path: str) -> None:
    tab, watch = page
    tab.goto(live.url + path)
    if "/sessions/" in path:
        tab.wait_for_selector("body[data-replay-loaded]")
        tab.keyboard.press("?")
        tab.keyboard.press("Escape")
        tab.click("#tab-console")
        tab.click("#tab-info")
        tab.keyboard.press("4")  # 8x to the end: every event is drawn
        tab.keyboard.press(" ")
        tab.wait_for_timeout(800)
    assert watch.errors == []
    assert watch.dialogs == []
