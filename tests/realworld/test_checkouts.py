"""Snapshots retaken on the same page (``checkout_every_n_ms``) in Chromium:
the recorder marks their Meta events, so a page stays one page view in the
summary and in the replay's activity list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.realworld.helpers import (
    assert_replayable,
    events_when,
    flush,
    recorded_page,
    serve_pages,
)
from tests.realworld.site import STORM, PageSpec
from tests.recording.helpers import new_context, store_of
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    yield from serve_pages({"storm": PageSpec(STORM)}, checkout_every_n_ms=300)


def test_periodic_snapshots_are_not_page_views(server: LiveServer, browser: Any) -> None:
    """Ensure that a page recorded with a checkout every 300 ms has several
    full snapshots, all but the first marked, and counts as one page view."""
    context = new_context(browser, "checkouts")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        page.evaluate("ticker(1500); 0")
        page.wait_for_timeout(1600)
        flush(page)
        events = events_when(
            server, sid, lambda evs: len([e for e in evs if e["type"] == 2]) >= 3, "checkouts"
        )
        summary = server.run(store_of(server).get_session(sid))
        tab = context.new_page()
        tab.goto(f"{server.url}/sentiero/sessions/{sid}")
        tab.wait_for_selector("body[data-replay-loaded]")
        expect(tab.locator("#activity-list li[data-kind='navigation']")).to_have_count(1)
    finally:
        context.close()
    metas = [e["data"] for e in events if e["type"] == 4]
    assert len(metas) >= 3
    assert "checkout" not in metas[0] and all(m["checkout"] is True for m in metas[1:])
    assert summary.page_count == 1
    assert_replayable(events)
    watch.assert_clean()
