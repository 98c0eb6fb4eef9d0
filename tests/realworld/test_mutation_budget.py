"""Mutation storms in Chromium: a page that rebuilds thousands of nodes a
second is paused (sentiero:recording_paused) instead of exploding its
recording or stalling the tab, a large one-off render only warns, a busy but
ordinary page is left alone, and the next page load records again."""

from __future__ import annotations

import time
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
from tests.recording.helpers import Event, all_events, customs, new_context
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

PAUSED = "sentiero:recording_paused"
WARNING = "sentiero:mutation_warning"


def mutation_records(events: list[Event]) -> int:
    """Mutations counted as rrweb reports them: adds, removes, texts, attributes."""
    return sum(
        len(e["data"][k])
        for e in events
        if e["type"] == 3 and e["data"]["source"] == 0
        for k in ("adds", "removes", "texts", "attributes")
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    yield from serve_pages({"storm": PageSpec(STORM)})


@pytest.fixture(scope="module")
def strict_server() -> Iterator[LiveServer]:
    yield from serve_pages({"storm": PageSpec(STORM)}, mutation_limit=3000, mutation_warning=100)


def paused_events(server: LiveServer, sid: str) -> list[Event]:
    return events_when(server, sid, lambda evs: bool(customs(evs, PAUSED)), "the pause event")


def test_a_storm_pauses_the_page_and_keeps_the_tab_responsive(
    server: LiveServer, browser: Any
) -> None:
    """Ensure that a storm of about 100,000 mutations a second is paused past
    the limit: a warning first, the pause event with the count, no more
    mutations stored after it, and the page still answering quickly."""
    context = new_context(browser, "storm")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        page.evaluate("storm(); 0")
        events = paused_events(server, sid)
        page.wait_for_timeout(700)  # the storm goes on; nothing more may be recorded
        started = time.monotonic()
        assert page.evaluate("document.getElementById('board').children.length") == 400
        answer_s = time.monotonic() - started
        flush(page)
        after = all_events(server, sid)
    finally:
        context.close()
    (pause,) = customs(events, PAUSED)
    assert pause["reason"] == "mutation_limit" and pause["mutations"] > 10_000
    warnings = customs(events, WARNING)
    assert len(warnings) == 1 and 750 < warnings[0]["mutations"] <= 10_000
    pause_at = next(e["timestamp"] for e in events if e["type"] == 5 and e["data"]["tag"] == PAUSED)
    assert not [e for e in after if e["type"] == 3 and e["timestamp"] > pause_at]
    # what was stored stays within the limit (one rebuild of the board is ~1,200)
    assert mutation_records(after) <= 10_000
    assert answer_s < 1.0
    assert_replayable(after)
    watch.assert_clean()


def test_the_replay_says_why_recording_stopped(server: LiveServer, browser: Any) -> None:
    """Ensure that the session page lists the warning and the pause, with the count."""
    context = new_context(browser, "storm-replay")
    try:
        page, _watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        page.evaluate("storm(); 0")
        pause = customs(paused_events(server, sid), PAUSED)[0]
        tab = context.new_page()
        tab.goto(f"{server.url}/sentiero/sessions/{sid}")
        tab.wait_for_selector("body[data-replay-loaded]")
        activity = tab.locator("#activity-list")
        expect(activity).to_contain_text("Many page changes")
        paused = activity.locator("li", has_text="Recording paused")
        expect(paused).to_contain_text(f"{pause['mutations']} DOM changes in a burst")
        expect(tab.locator("#markers .marker.error")).to_have_count(1)
    finally:
        context.close()


def test_the_next_page_load_records_again(server: LiveServer, browser: Any) -> None:
    """Ensure that the pause lasts for the page only: a reload records again."""
    context = new_context(browser, "reload")
    try:
        page, _watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        page.evaluate("storm(); 0")
        paused_events(server, sid)
        page.reload()
        page.evaluate("burst(50); window.Sentiero.flush()")
        events = events_when(
            server,
            sid,
            lambda evs: len([e for e in evs if e["type"] == 2]) == 2 and mutation_records(evs) > 0,
            "the second page's snapshot and changes",
        )
    finally:
        context.close()
    pause_at = next(e["timestamp"] for e in events if e["type"] == 5 and e["data"]["tag"] == PAUSED)
    assert any(e["type"] == 2 and e["timestamp"] > pause_at for e in events)


def test_a_large_render_warns_once_and_keeps_recording(server: LiveServer, browser: Any) -> None:
    """Ensure that one render of 3,000 nodes (past the warning, below the
    limit) is recorded in full with one warning and no pause."""
    context = new_context(browser, "burst")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        page.evaluate("burst(1500); 0")
        page.wait_for_timeout(100)
        page.evaluate("document.getElementById('clock').textContent = 'after the burst'; 0")
        page.wait_for_timeout(50)
        flush(page)
        events = events_when(
            server, sid, lambda evs: "after the burst" in str(evs), "the change after the burst"
        )
    finally:
        context.close()
    assert [w["mutations"] for w in customs(events, WARNING)] == [3000]
    assert customs(events, PAUSED) == []
    assert mutation_records(events) >= 3001
    watch.assert_clean()


def test_a_busy_ordinary_page_is_never_warned(server: LiveServer, browser: Any) -> None:
    """Ensure that 600 changes a second (30 cells, 20 times a second) for two
    seconds are all recorded without a warning or a pause."""
    context = new_context(browser, "ticker")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        page.evaluate("ticker(2000); 0")
        page.wait_for_timeout(2200)
        flush(page)
        events = all_events(server, sid)
    finally:
        context.close()
    assert mutation_records(events) > 1000
    assert customs(events, WARNING) == [] and customs(events, PAUSED) == []
    watch.assert_clean()


def test_the_limits_follow_the_settings(strict_server: LiveServer, browser: Any) -> None:
    """Ensure that mutation_limit and mutation_warning reach the recorder."""
    server = strict_server
    context = new_context(browser, "limits")
    try:
        page, _watch, sid = recorded_page(server, context, server.url + "/rw/storm")
        assert page.evaluate(
            "[window.__SENTIERO_CONFIG__.mutationLimit, window.__SENTIERO_CONFIG__.mutationWarning]"
        ) == [3000, 100]
        page.evaluate("storm(); 0")
        events = paused_events(server, sid)
    finally:
        context.close()
    (pause,) = customs(events, PAUSED)
    assert 3000 < pause["mutations"] < 10_000
    assert 100 < customs(events, WARNING)[0]["mutations"] <= 3000
