"""The real recorder in Chromium: a batch that reached the server but whose
answer was lost is sent again by the recorder, and stored once."""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.recording.helpers import (
    all_events,
    new_context,
    posts_from,
    settle,
    store_of,
    wait_for,
    wait_in_page,
)
from tests.recording.site import build_site
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

MARKER = "lost-answer"


def _envelope(request: Any) -> dict[str, Any]:
    body = request.post_data_buffer or b""
    if request.headers.get("content-encoding") == "gzip" or "encoding=gzip" in request.url:
        body = gzip.decompress(body)
    return dict(json.loads(body))


def _quiet(count: Callable[[], int], calm: float = 0.5) -> Callable[[], bool]:
    """A check that holds once ``count()`` has not changed for ``calm`` seconds."""
    last = [count(), time.monotonic()]

    def check() -> bool:
        now = count()
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] >= calm

    return check


def test_a_batch_whose_answer_was_lost_is_retried_and_stored_once(
    browser: Any, tmp_path: Path
) -> None:
    server = LiveServer(build_site(tmp_path / "site.db", flush_interval_ms=60_000)).start()
    context = new_context(browser, MARKER)
    sent: list[dict[str, Any]] = []

    def lose_the_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        sent.append(_envelope(route.request))
        if len(sent) == 1:
            route.fetch()  # the server receives and stores the batch...
            route.abort("connectionreset")  # ...and the page never hears back
        else:
            route.continue_()

    context.route("**/sentiero/events*", lose_the_first_answer)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        sid = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        settle(page)
        # the recorder retries after about a second with the very same batch
        wait_for(lambda: len(sent) >= 2, what="the retried batch")
        page.evaluate("window.Sentiero.track('after the retry'); 0")
        settle(page)
        wait_for(
            lambda: "after the retry" in json.dumps(all_events(server, sid)),
            what="the batch after the retry",
        )
    finally:
        context.close()
    try:
        store = store_of(server)
        # the closing page may still send beacons: read once the store is still
        wait_for(_quiet(lambda: server.run(store.stats()).events), what="the last batches")
        posts = posts_from(server, MARKER)
        events = all_events(server, sid)
        summary = server.run(store.get_session(sid))
    finally:
        server.stop()
    first, retry = sent[0], sent[1]
    assert (retry["window_id"], retry["seq"], retry["events"]) == (
        first["window_id"],
        first["seq"],
        first["events"],
    )
    # both copies reached the server, and both were answered 204
    assert len(posts) >= 2 and [p["status"] for p in posts] == [204] * len(posts)
    assert len([e for e in events if e["type"] == 2]) == 1  # one full snapshot, not two
    assert len({json.dumps(e, sort_keys=True) for e in events}) == len(events)
    # stored once each (compared by type and time: the site's text is redacted)
    stored = Counter((e["type"], e["timestamp"]) for e in events)
    assert all(stored[(e["type"], e["timestamp"])] == 1 for e in first["events"]), stored
    # the summary counted the retried batch once too
    assert summary is not None and summary.event_count == len(events)


def test_a_tab_opened_by_script_numbers_its_batches_apart(browser: Any) -> None:
    """window.open() copies the tab's sessionStorage, window record included:
    the new tab must take its own window id, or its batch numbers would be
    the opener's and the server would drop one tab's batches as repeats."""
    server = LiveServer(build_site(flush_interval_ms=60_000)).start()
    context = new_context(browser, "opened-tab")
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        sid = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        settle(page)
        with context.expect_page() as opened:
            page.evaluate("window.open('/second'); 0")
        popup = opened.value
        wait_in_page(popup, "window.Sentiero && window.Sentiero.windowId")
        opener_window = page.evaluate("window.Sentiero.windowId")
        popup_window = popup.evaluate("window.Sentiero.windowId")
        for tab, name in ((popup, "from-popup"), (page, "from-opener")):
            tab.evaluate(f"window.Sentiero.track('{name}'); window.Sentiero.flush(); 0")
        wait_for(
            lambda: {"from-popup", "from-opener"} <= _custom_names(server, sid),
            what="both tabs' batches",
        )
        # the opener's next page view is still the opener's window
        page.reload()
        wait_in_page(page, "window.Sentiero && window.Sentiero.windowId")
        reloaded = page.evaluate("window.Sentiero.windowId")
    finally:
        context.close()
        server.stop()
    assert popup_window != opener_window
    assert reloaded == opener_window


def _custom_names(server: LiveServer, session_id: str) -> set[str]:
    return {
        e["data"]["payload"].get("name")
        for e in all_events(server, session_id)
        if e["type"] == 5 and e["data"]["tag"] == "sentiero:custom"
    }
