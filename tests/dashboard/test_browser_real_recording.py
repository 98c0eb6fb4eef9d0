"""A session recorded by the real recorder in Chromium, then watched in the
dashboard: the list counts it right and the replay draws the recorded page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from quart import Response

from sentiero_core import Settings, create_app
from tests.dashboard.conftest import Watch
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

SHOP = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Corner shop</title>
<script src="/sentiero/recorder.js"></script></head>
<body>
<h1>The corner shop</h1>
<button id="buy" type="button" data-sentiero-track-click="add_to_cart">Add to cart</button>
<form id="order" action="/thanks" method="get">
  <input id="name" name="name" type="text">
  <button id="send" type="submit">Order</button>
</form>
</body></html>
"""
THANKS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Thanks</title>
<script src="/sentiero/recorder.js"></script></head>
<body><h1>Thank you for your order</h1></body></html>
"""
TYPED = "Ada Lovelace"


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    app = create_app(
        Settings(
            store_url="memory://",
            flush_interval_ms=300,
            capture_metadata=True,
            track_forms=True,
            track_custom_events=True,
        )
    )

    def page(html: str) -> Any:
        async def view() -> Response:
            return Response(html, content_type="text/html; charset=utf-8")

        return view

    app.add_url_rule("/shop", "shop", page(SHOP))
    app.add_url_rule("/thanks", "thanks", page(THANKS))
    with LiveServer(app) as server:
        yield server


def sessions(site: LiveServer) -> list[Any]:
    store = site.app.extensions["sentiero"].store
    return site.run(store.list_sessions()).sessions  # type: ignore[no-any-return]


def record_a_visit(browser: Any, site: LiveServer) -> Any:
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{site.url}/shop")
    tab.wait_for_function("() => window.Sentiero && window.Sentiero.sessionId")
    tab.wait_for_timeout(400)
    tab.click("#buy")
    tab.fill("#name", TYPED)
    tab.wait_for_timeout(400)
    tab.click("#send")
    tab.wait_for_url(f"{site.url}/thanks?name=*")
    tab.wait_for_timeout(500)
    context.close()  # page hide: the last batch goes out
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = sessions(site)
        if found and found[0].page_count >= 2 and found[0].custom_events:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"the visit was not stored: {found}")


def test_a_real_recording_is_listed_and_replayed(
    browser: Any, site: LiveServer, page: tuple[Any, Watch]
) -> None:
    summary = record_a_visit(browser, site)
    tab, watch = page
    tab.goto(f"{site.url}/sentiero/?event=add_to_cart")
    row = tab.locator(f"tr[data-session-id='{summary.session_id}']")
    expect(row.locator(".pages")).to_have_text("2")
    expect(row.locator(".events")).to_have_text(f"{summary.event_count:,}")
    expect(row.locator(".url")).to_contain_text("/shop")
    row.locator("a.session-link").click()
    tab.wait_for_selector("body[data-replay-loaded]")
    frame = tab.frame_locator("#player iframe")
    expect(frame.locator("h1")).to_have_text("The corner shop")
    activity = tab.locator("#activity-list")
    expect(activity).to_contain_text("add_to_cart")
    expect(activity).to_contain_text("Form submitted")
    expect(activity).to_contain_text("button#buy “Add to cart”")
    # the recorder's names of clicks and fields are for analytics, not listed
    expect(activity).not_to_contain_text("sentiero:")
    assert TYPED not in (tab.locator("main").text_content() or "")
    tab.locator("#markers .marker.navigation").last.click()
    expect(frame.locator("h1")).to_have_text("Thank you for your order")
    assert watch.errors == [] and watch.dialogs == []
