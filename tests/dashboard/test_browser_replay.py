"""The session page in Chromium: the replay, its timeline, sidebar and keys."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import Watch
from tests.dashboard.recordings import DEMO_ID, SHOP_ID
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
Page = tuple[Any, Watch]


def open_session(page: Any, live: LiveServer, session_id: str, query: str = "") -> Any:
    page.goto(f"{live.url}/sentiero/sessions/{session_id}{query}")
    page.wait_for_selector("body[data-replay-loaded]")
    return page.frame_locator("#player iframe")


def current_ms(page: Any) -> int:
    return int(page.get_attribute("#track", "data-current"))


def test_the_demo_recording_replays_inside_a_sandboxed_frame(page: Page, live: LiveServer) -> None:
    tab, watch = page
    frame = open_session(tab, live, DEMO_ID)
    expect(frame.locator("body")).to_contain_text("ReactHooks.js")
    assert tab.get_attribute("body", "data-replay-loaded") == "272"
    assert tab.get_attribute("#player iframe", "sandbox") == "allow-same-origin"
    assert tab.text_content("#total-time") == "1:21"
    assert tab.locator("#inactive-layer .inactive").count() >= 1
    assert watch.errors == [] and watch.dialogs == []


def test_the_first_frame_shows_before_the_rest_is_loaded(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    held: list[Any] = []
    holding = [True]

    def later_pages(route: Any) -> None:
        if holding[0]:
            held.append(route)
        else:
            route.continue_()

    tab.route("**/events?*cursor=*", later_pages)
    tab.goto(f"{live.url}/sentiero/sessions/{DEMO_ID}")
    frame = tab.frame_locator("#player iframe")
    expect(frame.locator("body")).to_contain_text("ReactHooks.js")
    expect(tab.locator("#replay-status")).to_have_text("Loading events… 100")
    assert tab.get_attribute("body", "data-replay-loaded") is None
    holding[0] = False
    for route in held:
        route.continue_()
    tab.wait_for_selector("body[data-replay-loaded='272']")
    assert tab.text_content("#total-time") == "1:21"


def test_markers_and_sidebar_entries_cover_every_signal(page: Page, live: LiveServer) -> None:
    tab, watch = page
    open_session(tab, live, SHOP_ID)
    kinds = tab.eval_on_selector_all(
        "#markers .marker", "els => els.map(e => e.className.replace('marker ', ''))"
    )
    assert sorted(kinds) == sorted(
        ["navigation", "navigation", "click", "rage", "dead", "dead", "submit", "error", "custom"]
    )
    activity = tab.locator("#activity-list")
    for text in (
        "Rage click \u00d73",
        "Dead click",
        "Form submitted",
        "Error: TypeError: cart is null",
        "signup",
        "Page view: Test shop",
        "Identified user",
    ):
        expect(activity).to_contain_text(text)
    expect(activity).to_contain_text("button#buy “Buy now”")
    expect(activity).to_contain_text("input[type=email][name=email] · 2 edits")
    assert "****" not in (activity.text_content() or "")  # what was typed is never shown
    assert watch.errors == []


def test_seeking_from_the_sidebar_and_markers_moves_the_player(
    page: Page, live: LiveServer
) -> None:
    tab, _watch = page
    frame = open_session(tab, live, SHOP_ID, "?t=0")
    expect(frame.locator("body")).to_contain_text("Welcome to the test shop")
    tab.locator("#activity-list li", has_text="cart is null").locator("button").click()
    assert current_ms(tab) == 8_001  # just after the event, so that it is drawn
    expect(tab.locator("#activity-list li.current")).to_contain_text("cart is null")
    expect(tab.locator("#current-time")).to_have_text("0:08")
    tab.locator("#markers .marker.navigation").nth(1).click()
    assert current_ms(tab) == 12_011  # the new page's snapshot, just after its Meta event
    expect(frame.locator("body")).to_contain_text("Checkout page")
    tab.locator("#markers .marker.custom").click()
    assert current_ms(tab) == 9_001
    expect(frame.locator("body")).to_contain_text("Welcome to the test shop")


def test_t_starts_the_replay_paused_at_that_moment(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    frame = open_session(tab, live, SHOP_ID, "?t=12.5")
    assert current_ms(tab) == 12_500
    assert tab.get_attribute("body", "data-playing") == "false"
    expect(frame.locator("body")).to_contain_text("Checkout page")
    expect(tab.locator("#activity-list li.current")).to_contain_text("Page view")


def test_t_past_the_first_page_waits_for_the_events(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, DEMO_ID, "?t=75")
    assert current_ms(tab) == 75_000
    expect(tab.locator("#current-time")).to_have_text("1:15")


def test_dragging_the_scrubber_seeks(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, DEMO_ID, "?t=0")
    box = tab.locator("#track").bounding_box()
    tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert abs(current_ms(tab) - 40_540) < 1_500


def test_keyboard_shortcuts_and_help(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, SHOP_ID, "?t=5")
    tab.keyboard.press("?")
    expect(tab.locator("#help")).to_be_visible()
    expect(tab.locator("#help")).to_contain_text("Play / pause")
    tab.keyboard.press("Escape")
    expect(tab.locator("#help")).to_be_hidden()
    tab.keyboard.press("ArrowRight")
    assert current_ms(tab) == 10_000
    tab.keyboard.press("Shift+ArrowLeft")
    assert current_ms(tab) == 9_000
    tab.keyboard.press(".")  # next activity: the checkout page view (vitals are no entries)
    assert current_ms(tab) == 12_011
    tab.keyboard.press(",")
    assert current_ms(tab) == 9_001
    tab.keyboard.press("5")
    expect(tab.locator("#speeds [data-speed='16']")).to_have_attribute("aria-pressed", "true")
    tab.keyboard.press("-")
    expect(tab.locator("#speeds [data-speed='8']")).to_have_attribute("aria-pressed", "true")
    tab.keyboard.press("s")
    expect(tab.locator("#skip-inactive")).not_to_be_checked()
    tab.keyboard.press(" ")
    expect(tab.locator("body")).to_have_attribute("data-playing", "true")
    tab.keyboard.press(" ")
    expect(tab.locator("body")).to_have_attribute("data-playing", "false")


def test_vitals_console_and_metadata(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, SHOP_ID, "?t=0")
    expect(tab.locator("#vitals .badge.good")).to_have_text("LCP 1.23 s")
    expect(tab.locator("#vitals .badge.poor")).to_have_text("CLS 0.310")
    tab.locator("#vitals .badge.good").click()
    assert current_ms(tab) == 10_001
    tab.click("#tab-console")
    expect(tab.locator("#console-list li")).to_have_count(1)
    expect(tab.locator("#console-list li.level-warn")).to_contain_text("low stock")
    tab.click("#tab-info")
    info = tab.locator("#metadata")
    for text in ("user-42", "Chrome", "macOS", "1200x800", "https://search.example/?q=shop"):
        expect(info).to_contain_text(text)
    expect(tab.locator("#current-url")).to_have_text("https://shop.example/")


def test_one_tab_per_window(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, SHOP_ID)
    tab.click(".window-tabs a:has-text('Tab 2')")
    tab.wait_for_selector("body[data-replay-loaded]")
    assert "window=shopWindowB001" in tab.url
    expect(tab.frame_locator("#player iframe").locator("body")).to_contain_text("Help centre")
    expect(tab.locator(".window-tabs a[aria-current='page']")).to_have_text("Tab 2")


def test_copy_link_points_at_the_current_moment(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, SHOP_ID, "?t=9")
    tab.click("#copy-link")
    link = tab.input_value("#share-link")
    assert link.startswith(f"{live.url}/sentiero/sessions/{SHOP_ID}?t=9")
    tab.goto(link)
    tab.wait_for_selector("body[data-replay-loaded]")
    assert current_ms(tab) == 9_000


def test_the_click_overlay_marks_recent_clicks(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, SHOP_ID, "?t=0")
    tab.locator("#activity-list li", has_text="Rage click").locator("button").click()
    dots = tab.locator("#player .sentiero-clicks .sentiero-click")
    expect(dots).to_have_count(2)  # the click at 2 s and the burst's first at 4 s
    expect(tab.locator("#player .sentiero-click.rage")).to_have_count(1)
    style = tab.get_attribute("#player .sentiero-click.rage", "style") or ""
    assert "left:300px;top:300px" in style
    tab.keyboard.press("c")
    expect(dots).to_have_count(0)
    expect(tab.locator("#show-clicks")).not_to_be_checked()


def test_the_scroll_depth_follows_the_page(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, SHOP_ID, "?t=5.1")
    depth = int((tab.text_content("#scroll-depth-label") or "0%").rstrip("%"))
    assert 60 <= depth <= 85
    tab.keyboard.press("ArrowLeft")  # back before the scroll
    shallow = int((tab.text_content("#scroll-depth-label") or "0%").rstrip("%"))
    assert shallow < 40
    deepest = tab.eval_on_selector("#scroll-depth-max", "e => parseInt(e.style.height)")
    assert deepest == depth  # the deepest point of this page is kept


def test_the_scrubber_works_while_skipping_inactivity(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    open_session(tab, live, DEMO_ID, "?t=1")  # idle from 1.7 s to 44.4 s
    tab.keyboard.press(" ")
    expect(tab.locator("#replay-status")).to_have_text("Skipping inactivity…")
    box = tab.locator("#track").bounding_box()
    tab.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    landed = current_ms(tab)
    assert abs(landed - 72_972) < 1_500
    expect(tab.locator("#replay-status")).to_have_text("")
    tab.wait_for_timeout(1_000)
    # back at 1x: a second later the player is about a second further, not
    # still fast-forwarding to the end
    assert 300 <= current_ms(tab) - landed <= 2_500
