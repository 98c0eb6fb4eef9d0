"""A recording full of script payloads never runs any of them in the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import Watch
from tests.dashboard.recordings import HOSTILE_ID
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
Page = tuple[Any, Watch]
IMG = "<img src=x onerror="
SCRIPT = '"><script>window.__xss'


def assert_nothing_ran(tab: Any, watch: Watch) -> None:
    assert watch.dialogs == []
    assert tab.evaluate("typeof window.__xss") == "undefined"
    assert watch.errors == []


def test_the_list_shows_payloads_as_text(page: Page, live: LiveServer) -> None:
    tab, watch = page
    tab.goto(f"{live.url}/sentiero/")
    row = tab.locator(f"tr[data-session-id='{HOSTILE_ID}']")
    expect(row.locator(".user")).to_have_text(
        "\"><script>window.__xss='script';alert('script')</script>"
    )
    expect(row.locator(".url")).to_contain_text("<script>")
    assert row.locator("script, img").count() == 0
    assert_nothing_ran(tab, watch)


def test_the_replay_and_its_panels_show_payloads_as_text(page: Page, live: LiveServer) -> None:
    tab, watch = page
    tab.goto(f"{live.url}/sentiero/sessions/{HOSTILE_ID}")
    tab.wait_for_selector("body[data-replay-loaded]")
    frame = tab.frame_locator("#player iframe")
    expect(frame.locator("h1")).to_contain_text("Hostile page " + IMG)
    # recorded handlers are renamed and recorded scripts are not scripts
    assert frame.locator("[onerror]").count() == 0
    assert frame.locator("img[_onerror]").count() == 1
    assert frame.locator("script").count() == 0
    assert tab.get_attribute("#player iframe", "sandbox") == "allow-same-origin"
    activity = tab.locator("#activity-list")
    expect(activity).to_contain_text("Page view: " + IMG)
    expect(activity).to_contain_text("Error: " + IMG)
    expect(activity).to_contain_text("Identified user")
    expect(activity).to_contain_text(SCRIPT)
    expect(tab.locator("#vitals .badge")).to_have_text("<img src=x 1 ms")  # names are cut at 10
    assert tab.locator(".side script, .side img, #vitals img, #markers img").count() == 0
    tab.click("#tab-console")
    expect(tab.locator("#console-list")).to_contain_text(IMG)
    tab.click("#tab-info")
    expect(tab.locator("#meta-user")).to_have_text(
        "\"><script>window.__xss='script';alert('script')</script>"
    )
    assert "<" not in tab.title()
    for marker in range(tab.locator("#markers .marker").count()):
        tab.locator("#markers .marker").nth(marker).click()
    tab.keyboard.press("5")
    tab.keyboard.press(" ")
    tab.wait_for_timeout(700)
    assert_nothing_ran(tab, watch)


def test_the_export_is_served_as_a_download_not_a_page(page: Page, live: LiveServer) -> None:
    tab, _watch = page
    response = tab.request.get(f"{live.url}/sentiero/sessions/{HOSTILE_ID}/export.json")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert IMG in response.text()
