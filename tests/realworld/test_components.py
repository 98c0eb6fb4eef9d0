"""Modern page building blocks recorded in Chromium: open shadow roots,
custom elements, a modal <dialog>, same-origin frames (one of them carrying
the script tag too), canvas (left out unless recordCanvas), and a DOM of
20,000 elements. Each recording is stored, replayable and quiet."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.realworld.helpers import (
    Watch,
    assert_replayable,
    events_when,
    flush,
    mutations_json,
    recorded_page,
    serve_pages,
    snapshots_json,
)
from tests.realworld.site import BIG, BIG_ROWS, COMPONENTS, FRAME_CHILD, LOG, PageSpec
from tests.recording.helpers import (
    Event,
    all_events,
    customs,
    new_context,
    store_of,
    wait_in_page,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

PAGES = {
    "components": PageSpec(COMPONENTS),
    "frame-child": PageSpec(FRAME_CHILD),
    "big": PageSpec(BIG),
    "log-10m": PageSpec(LOG, tokens={"CHARS": "10000000"}),
    "log-17m": PageSpec(LOG, tokens={"CHARS": "17000000"}),
}
CUSTOM_ELEMENT = 16


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    yield from serve_pages(PAGES)


@pytest.fixture(scope="module")
def canvas_server() -> Iterator[LiveServer]:
    yield from serve_pages(PAGES, recorder_options={"recordCanvas": True})


def record_components(server: LiveServer, browser: Any, marker: str) -> dict[str, Any]:
    context = new_context(browser, marker)
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/components")
        page.wait_for_function(
            "document.getElementById('child').contentDocument.readyState === 'complete'"
        )
        page.click("#open")
        page.evaluate("later(); 0")
        page.wait_for_timeout(100)
        child_api_is_parents = (
            page.frame_locator("#child")
            .locator("body")
            .evaluate("() => window.Sentiero === window.parent.Sentiero")
        )
        flush(page)
        events = events_when(
            server, sid, lambda evs: "Child frame changed" in json.dumps(evs), "the later changes"
        )
        child_ids = (
            page.frame_locator("#child")
            .locator("body")
            .evaluate("() => [window.Sentiero.sessionId, window.Sentiero.windowId]")
        )
        ids = page.evaluate("[window.Sentiero.sessionId, window.Sentiero.windowId]")
    finally:
        context.close()
    return {
        "sid": sid,
        "events": events,
        "watch": watch,
        "child_api_is_parents": child_api_is_parents,
        "child_ids": child_ids,
        "ids": ids,
        "windows": server.run(store_of(server).get_session(sid)).windows,
    }


@pytest.fixture(scope="module")
def components(server: LiveServer, browser: Any) -> dict[str, Any]:
    return record_components(server, browser, "components")


def test_the_page_is_stored_replayable_and_quiet(components: dict[str, Any]) -> None:
    """Ensure that the components page is recorded without an error in the page."""
    assert_replayable(components["events"])
    watch: Watch = components["watch"]
    watch.assert_clean()


def test_open_shadow_roots_are_in_the_snapshot_and_changes(components: dict[str, Any]) -> None:
    """Ensure that an open shadow root's content is in the full snapshot and
    its later text change and a shadow root attached later are recorded."""
    events: list[Event] = components["events"]
    snapshot = snapshots_json(events)
    assert "Shadow hello" in snapshot and '"isShadowHost": true' in snapshot
    changes = mutations_json(events)
    assert "Shadow updated" in changes and "Badge inside" in changes


def test_a_custom_element_defined_later_is_recorded(components: dict[str, Any]) -> None:
    """Ensure that customElements.define after the snapshot is recorded for the replay."""
    defined = [
        e["data"]["define"]["name"]
        for e in components["events"]
        if e["type"] == 3 and e["data"]["source"] == CUSTOM_ELEMENT
    ]
    assert defined == ["x-badge"]


def test_a_modal_dialog_opening_is_recorded(components: dict[str, Any]) -> None:
    """Ensure that showModal() shows in the recording as the dialog's open attribute."""
    events: list[Event] = components["events"]
    assert "Dialog body text" in snapshots_json(events)
    opened = [
        a
        for e in events
        if e["type"] == 3 and e["data"]["source"] == 0
        for a in e["data"]["attributes"]
        if "open" in a["attributes"]
    ]
    assert opened


def test_same_origin_frames_are_recorded_once_by_the_page(components: dict[str, Any]) -> None:
    """Ensure that a framed page of the same site that carries the script tag
    leaves the recording to the page (rrweb records the frame inside it):
    one session, one window, and the frame's text in the page's recording."""
    events: list[Event] = components["events"]
    text = json.dumps(events)
    assert "Child frame text" in text and "Inline frame text" in text
    assert "Child frame changed" in mutations_json(events)
    assert components["child_api_is_parents"] is True
    assert components["child_ids"] == components["ids"]
    # every batch and snapshot came from the page itself
    assert len([e for e in events if e["type"] == 2]) == 1
    assert components["windows"] == [components["ids"][1]]


def test_the_replay_shows_shadow_content_and_the_framed_page(
    server: LiveServer, components: dict[str, Any], browser: Any
) -> None:
    """Ensure that the dashboard replays the recording to its end: the shadow
    root's updated text, the later custom element and the child frame's change."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        tab = context.new_page()
        watch = Watch().attach(tab)
        tab.goto(f"{server.url}/sentiero/sessions/{components['sid']}")
        tab.wait_for_selector("body[data-replay-loaded]")
        replay = tab.frame_locator("#player iframe")
        expect(replay.locator("x-card .msg")).to_have_text("Shadow updated")
        expect(replay.locator("x-badge b")).to_have_text("Badge inside")
        expect(replay.frame_locator("iframe#child").locator("#child-text")).to_have_text(
            "Child frame changed"
        )
    finally:
        context.close()
    watch.assert_clean()


def test_canvas_is_left_out_by_default(components: dict[str, Any]) -> None:
    """Ensure that canvas pixels are not recorded unless recordCanvas is on."""
    events: list[Event] = components["events"]
    assert "rr_dataURL" not in snapshots_json(events)
    assert not [e for e in events if e["type"] == 3 and e["data"]["source"] == 9]


def test_canvas_is_recorded_with_record_canvas(canvas_server: LiveServer, browser: Any) -> None:
    """Ensure that recorder_options {"recordCanvas": true} records the canvas:
    its pixels in the snapshot and its later drawing."""
    recorded = record_components(canvas_server, browser, "canvas")
    events: list[Event] = recorded["events"]
    assert "rr_dataURL" in snapshots_json(events)
    drawn = [e for e in events if e["type"] == 3 and e["data"]["source"] == 9]
    assert drawn
    recorded["watch"].assert_clean()


def test_a_page_of_twenty_thousand_elements_is_recorded(server: LiveServer, browser: Any) -> None:
    """Ensure that a 20,000-element page reaches the store as one full
    snapshot with every row, in reasonable time, without errors."""
    context = new_context(browser, "big")
    try:
        started = time.monotonic()
        page, watch, sid = recorded_page(server, context, server.url + "/rw/big")
        stored_s = time.monotonic() - started
        flush(page)
        events = events_when(server, sid, lambda evs: True, "the big page")
    finally:
        context.close()
    assert_replayable(events)
    snapshot = snapshots_json(events)
    assert "End of report" in snapshot and f"item {BIG_ROWS - 1}" in snapshot
    assert snapshot.count('"tagName": "td"') == 3 * BIG_ROWS
    assert stored_s < 10
    watch.assert_clean()


def test_a_ten_megabyte_snapshot_is_recorded(server: LiveServer, browser: Any) -> None:
    """Ensure that a page whose snapshot is 10 million characters of JSON
    (as large as 100,000 table cells) is stored whole."""
    context = new_context(browser, "log-10m")
    try:
        _page, watch, sid = recorded_page(server, context, server.url + "/rw/log-10m")
        events = events_when(server, sid, lambda evs: True, "the log page")
    finally:
        context.close()
    assert_replayable(events)
    assert len(snapshots_json(events)) > 10_000_000
    watch.assert_clean()


def test_a_page_too_large_to_snapshot_pauses_its_recording(
    server: LiveServer, browser: Any
) -> None:
    """Ensure that a snapshot over the recorder's 16 million characters is
    not sent: the page's recording pauses (no useless changes, no retaken
    snapshots each counted as a page view) and says why."""
    context = new_context(browser, "log-17m")
    try:
        page, watch, sid = recorded_page_without_snapshot(server, context, "/rw/log-17m")
        page.evaluate("document.querySelector('h1').textContent = 'changed'; 0")
        page.wait_for_timeout(100)
        flush(page)
        events = all_events(server, sid)
        summary = server.run(store_of(server).get_session(sid))
    finally:
        context.close()
    assert customs(events, "sentiero:recording_paused") == [{"reason": "snapshot_too_large"}]
    assert [e["type"] for e in events if e["type"] in (2, 3, 4)] == [4]
    assert summary.page_count == 1 and summary.dropped_events == 1
    watch.assert_clean()


def recorded_page_without_snapshot(
    server: LiveServer, context: Any, path: str
) -> tuple[Any, Watch, str]:
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(server.url + path)
    sid: str = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
    events_when(
        server, sid, lambda evs: bool(customs(evs, "sentiero:recording_paused")), "the pause"
    )
    return page, watch, sid
