"""Starting the replay at ``?t=`` and seeking draw the nodes a page added
after its full snapshot.

The session page seeks to ``?t=`` as soon as the page of events that reaches
``t`` arrives. rrweb takes added events in a microtask later, so the events
of that page before ``t`` reached it after the seek: with rrweb's virtual DOM
(on by default) their mutations went into the virtual DOM and were never
drawn (the element was missing, as in rrweb issue #1358), and rrweb's last
played event went stale, so that a seek back before the insertion skipped
the rebuild and kept the element.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from sentiero_core import Settings, create_app
from tests.dashboard.conftest import Watch
from tests.dashboard.recordings import (
    T0,
    Event,
    PageBuilder,
    batches_for,
    changes,
    load,
    meta,
    move,
    mutation,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
Page = tuple[Any, Watch]

SESSION_ID = "lateNodeSession1"
END_SESSION_ID = "endChangeSession1"
FINAL_TEXT = "The very last change"
PAGE_SIZE = 20  # the insertion lands in the second page of events
INSERTED_AT = 3_000
RETEXTED_AT = 6_500
LATE_TEXT = "Late widget text"
CHANGED_TEXT = "Updated later"
HEADING = "A page that grows"


def moves(start: int, end: int, step: int) -> list[Event]:
    return [move(ts, ts % 500, ts % 300) for ts in range(start, end, step)]


def late_node_session() -> list[Event]:
    """A page whose custom element ``<sentiero-late>`` (with a text child)
    is inserted 3 s after the snapshot; at 6.5 s its text and the heading's
    change; mouse moves all along."""
    page = PageBuilder()
    heading = page.text(HEADING)
    snapshot = page.snapshot(
        T0 + 5,
        "Late nodes",
        page.el("h1", {}, heading),
        page.el("div", {"id": "host"}, key="host"),
    )
    widget = page.el("sentiero-late", {"class": "late"})
    widget["isCustom"] = True  # as @rrweb/record marks a defined custom element
    text = page.text(LATE_TEXT)
    events = [meta(T0, "https://late.example/"), snapshot, *moves(T0 + 100, T0 + 1_900, 100)]
    events.append(
        changes(
            T0 + INSERTED_AT,
            adds=[
                {"parentId": page.ids["host"], "nextId": None, "node": widget},
                {"parentId": widget["id"], "nextId": None, "node": text},
            ],
        )
    )
    events += moves(T0 + INSERTED_AT + 100, T0 + RETEXTED_AT, 100)
    retexts = [{"id": text["id"], "value": CHANGED_TEXT}, {"id": heading["id"], "value": "Grown"}]
    events.append(changes(T0 + RETEXTED_AT, texts=retexts))
    events += moves(T0 + RETEXTED_AT + 100, T0 + 10_001, 100)
    return events


def end_change_session() -> list[Event]:
    """A page whose last event, 4 s in, changes its heading."""
    page = PageBuilder()
    heading = page.text(HEADING)
    snapshot = page.snapshot(T0 + 5, "Last change", page.el("h1", {}, heading))
    events = [meta(T0, "https://end.example/"), snapshot, *moves(T0 + 100, T0 + 4_000, 100)]
    events.append(mutation(T0 + 4_000, heading["id"], FINAL_TEXT))
    return events


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    app = create_app(Settings(store_url="memory://", max_events_per_page=PAGE_SIZE))
    with LiveServer(app) as server:
        store = app.extensions["sentiero"].store
        batches = batches_for(SESSION_ID, "lateNodeWindow1", late_node_session())
        server.run(load(store, batches))
        batches = batches_for(END_SESSION_ID, "endChangeWindow1", end_change_session())
        server.run(load(store, batches))
        yield server


def open_at(tab: Any, live: LiveServer, seconds: float, session_id: str = SESSION_ID) -> Any:
    tab.goto(f"{live.url}/sentiero/sessions/{session_id}?t={seconds}")
    tab.wait_for_selector("body[data-replay-loaded]")
    return tab.frame_locator("#player iframe")


def current_ms(tab: Any) -> int:
    return int(tab.get_attribute("#track", "data-current"))


def test_the_seek_target_and_the_insertion_arrive_in_the_same_page() -> None:
    """The condition of the defect: the page of events that reaches ``t``
    also holds the insertion, which comes before ``t``."""
    events = late_node_session()
    inserted = next(i for i, e in enumerate(events) if e["timestamp"] == T0 + INSERTED_AT)
    reaching = next(i for i, e in enumerate(events) if e["timestamp"] >= T0 + 4_000)
    assert inserted // PAGE_SIZE == reaching // PAGE_SIZE == 1


def test_starting_after_the_insertion_shows_the_element(page: Page, live: LiveServer) -> None:
    tab, watch = page
    frame = open_at(tab, live, 4)
    assert current_ms(tab) == 4_000
    late = frame.locator("#host > sentiero-late.late")
    expect(late).to_have_text(LATE_TEXT)
    tab.keyboard.press("Shift+ArrowLeft")
    tab.keyboard.press("Shift+ArrowLeft")
    assert current_ms(tab) == 2_000  # before the insertion
    expect(late).to_have_count(0)
    expect(frame.locator("h1")).to_have_text(HEADING)
    tab.keyboard.press("Shift+ArrowRight")
    tab.keyboard.press("Shift+ArrowRight")
    tab.keyboard.press("Shift+ArrowRight")
    assert current_ms(tab) == 5_000
    expect(late).to_have_text(LATE_TEXT)
    tab.keyboard.press("ArrowRight")
    assert current_ms(tab) == 10_000  # past the text change
    expect(late).to_have_text(CHANGED_TEXT)
    assert watch.errors == []


def test_seeking_to_the_start_and_forward_again_draws_the_changes(
    page: Page, live: LiveServer
) -> None:
    """A seek to 0 (before the snapshot, 5 ms in) made rrweb forget every
    node without drawing the snapshot again: the page stayed as it was and
    every later mutation found nothing to change."""
    tab, watch = page
    frame = open_at(tab, live, 4)
    late = frame.locator("#host > sentiero-late.late")
    expect(late).to_have_text(LATE_TEXT)
    tab.keyboard.press("ArrowLeft")
    assert current_ms(tab) < 10  # the start: the snapshot, before the insertion
    expect(late).to_have_count(0)
    tab.keyboard.press("ArrowRight")
    expect(late).to_have_text(LATE_TEXT)
    tab.keyboard.press("ArrowRight")
    expect(late).to_have_text(CHANGED_TEXT)
    expect(frame.locator("h1")).to_have_text("Grown")
    assert watch.errors == []


def test_a_seek_to_the_end_draws_the_last_change(page: Page, live: LiveServer) -> None:
    """rrweb applies the events before the moment it is given: the end of
    the timeline is the last event's own time, so that event was left out."""
    tab, watch = page
    frame = open_at(tab, live, 60, END_SESSION_ID)  # past the end: the end
    assert current_ms(tab) == 4_000
    expect(frame.locator("h1")).to_have_text(FINAL_TEXT)
    tab.keyboard.press("Shift+ArrowLeft")
    expect(frame.locator("h1")).to_have_text(HEADING)
    tab.keyboard.press("ArrowRight")  # 10 s on, clamped to the end
    assert current_ms(tab) == 4_000
    expect(frame.locator("h1")).to_have_text(FINAL_TEXT)
    assert watch.errors == []
