"""The recording path end to end: a real page served by the app, the
committed recorder in Chromium, the ingest endpoint over real HTTP, and the
SQLite store; everything is asserted from what the store holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.recording.helpers import (
    DNT_SCRIPT,
    EVENTS_PATH,
    GPC_SCRIPT,
    Event,
    all_events,
    customs,
    new_context,
    open_settled,
    posts_from,
    settle,
    store_of,
    stored_bytes,
    wait_for,
    wait_in_page,
)
from tests.recording.site import (
    BLOCKED_TEXT,
    EMAIL,
    ERROR_MESSAGE,
    HIDDEN_TOKEN,
    MASKED_TEXT,
    MASKED_VALUE,
    PASSWORD,
    UNMASKED_TEXT,
    UNMASKED_VALUE,
    build_site,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recording") / "e2e.db"


@pytest.fixture(scope="module")
def server(db_path: Path) -> Iterator[LiveServer]:
    with LiveServer(build_site(db_path)) as live:
        yield live


@pytest.fixture(scope="module")
def recorded(server: LiveServer, browser: Any) -> dict[str, Any]:
    """Drive one visit through both pages and a second tab; return the ids."""
    context = new_context(browser, "visit", viewport={"width": 1000, "height": 700})
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        session_id = page.evaluate("window.Sentiero.sessionId")
        first_window = page.evaluate("window.Sentiero.windowId")

        page.locator("#password").press_sequentially(PASSWORD)
        page.locator("#holder").press_sequentially(MASKED_VALUE)
        page.locator("#search").press_sequentially(UNMASKED_VALUE)
        page.mouse.move(200, 300)
        page.mouse.move(400, 350, steps=5)
        page.locator("#buy").click()
        page.locator("#outbound").click()
        page.evaluate("window.scrollTo(0, 1200)")
        page.set_viewport_size({"width": 900, "height": 650})
        page.evaluate(
            "window.Sentiero.track('checkout', {plan: 'pro', items: 3});"
            "window.Sentiero.identify('user-42', {plan: 'pro'}); 0"
        )
        page.wait_for_timeout(200)  # let rrweb's scroll/resize throttles fire
        settle(page)

        page.evaluate("window.scrollTo(0, 0)")
        with page.expect_navigation():
            page.locator("#submit").click()
        wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        same_tab = page.evaluate("[window.Sentiero.sessionId, window.Sentiero.windowId]")
        page.locator("#boom").click()
        page.evaluate("Promise.reject(new Error('rejected on purpose')); 0")

        tab = context.new_page()
        tab.goto(server.url + "/second")
        wait_in_page(tab, "window.Sentiero && window.Sentiero.sessionId")
        other_tab = tab.evaluate("[window.Sentiero.sessionId, window.Sentiero.windowId]")
        tab.mouse.move(100, 100)
        tab.mouse.click(100, 100)
        settle(tab)
        settle(page)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        return {
            "session_id": session_id,
            "first_window": first_window,
            "same_tab": same_tab,
            "other_tab": other_tab,
            "cookies": cookies,
        }
    finally:
        context.close()


@pytest.fixture(scope="module")
def stored(server: LiveServer, recorded: dict[str, Any]) -> list[Event]:
    """The session's events once the last expected ones have arrived."""
    sid = recorded["session_id"]

    def pages(window_id: str) -> list[str]:
        events = all_events(server, sid, window_id)
        return [e["data"]["href"].rsplit("/", 1)[-1] for e in events if e["type"] == 4]

    def complete() -> list[Event] | None:
        events = all_events(server, sid)
        if len(customs(events, "sentiero:error")) < 2 or len(customs(events, "sentiero:vital")) < 4:
            return None
        if pages(recorded["first_window"]) != ["", "second"]:
            return None
        return events if pages(recorded["other_tab"][1]) == ["second"] else None

    return wait_for(complete, what="the recorded session to reach the store")  # type: ignore[no-any-return]


def test_one_session_spans_pages_and_tabs(server: LiveServer, recorded: dict[str, Any]) -> None:
    """Ensure that both pages and the second tab share one session, with two windows."""
    sid, first_window = recorded["session_id"], recorded["first_window"]
    assert recorded["same_tab"] == [sid, first_window]
    assert recorded["other_tab"][0] == sid
    assert recorded["other_tab"][1] != first_window
    summary = wait_for(
        lambda: (s := server.run(store_of(server).get_session(sid))) and len(s.windows) == 2 and s,
        what="both windows in the session summary",
    )
    assert set(summary.windows) == {first_window, recorded["other_tab"][1]}
    assert summary.user_id == "user-42"


def test_ids_are_set_as_cookies(recorded: dict[str, Any]) -> None:
    """Ensure that the server side can read the session and window ids from cookies."""
    cookies = recorded["cookies"]
    assert cookies["sentiero_sid"] == recorded["session_id"]
    assert cookies["sentiero_wid"] in {recorded["first_window"], recorded["other_tab"][1]}


def test_every_batch_was_accepted(server: LiveServer, stored: list[Event]) -> None:
    """Ensure that the server accepted every batch, the gzipped ones among them."""
    posts = posts_from(server, "visit")
    assert {p["status"] for p in posts} == {204}, posts
    assert any(p["encoding"] == "gzip" and p["content_type"] == "application/json" for p in posts)


def test_each_page_has_a_full_snapshot(
    server: LiveServer, recorded: dict[str, Any], stored: list[Event]
) -> None:
    """Ensure that every page view in every window starts with meta and a full snapshot."""
    sid = recorded["session_id"]
    first = all_events(server, sid, recorded["first_window"])
    second = all_events(server, sid, recorded["other_tab"][1])
    assert [e["data"]["href"].rsplit("/", 1)[-1] for e in first if e["type"] == 4] == ["", "second"]
    assert [e["data"]["href"].rsplit("/", 1)[-1] for e in second if e["type"] == 4] == ["second"]
    assert sum(1 for e in first if e["type"] == 2) == 2
    assert sum(1 for e in second if e["type"] == 2) == 1


def test_incremental_events_of_each_kind(stored: list[Event]) -> None:
    """Ensure that mutations, mouse moves, clicks, scrolls, resizes and inputs are recorded."""
    sources = {e["data"]["source"] for e in stored if e["type"] == 3}
    assert {0, 1, 2, 3, 4, 5} <= sources


def test_captures_are_recorded(stored: list[Event]) -> None:
    """Ensure that metadata, errors, custom events, links, forms, vitals and identity arrive."""
    metas = customs(stored, "sentiero:meta")
    assert {m["url"].rsplit("/", 1)[-1] for m in metas} == {"", "second"}
    assert metas[0]["viewport"]["width"] > 0 and metas[0]["title"]

    errors = customs(stored, "sentiero:error")
    thrown = [e for e in errors if e["kind"] == "error"]
    assert thrown and ERROR_MESSAGE in thrown[0]["message"] and thrown[0]["line"] > 0
    assert any(e["kind"] == "unhandledrejection" for e in errors)

    custom = {c["name"]: c["properties"] for c in customs(stored, "sentiero:custom")}
    assert custom["checkout"] == {"plan": "pro", "items": 3}
    assert custom["buy"] == {"plan": "pro"}

    navigation = customs(stored, "sentiero:navigation")
    assert navigation == [{"href": "https://docs.example.org/guide", "text": "Read the guide"}]

    submits = customs(stored, "sentiero:form_submit")
    assert len(submits) == 1
    assert submits[0]["form_id"] == "signup" and submits[0]["form_name"] == "signup"
    assert submits[0]["action"].endswith("/second")

    vitals = {v["name"] for v in customs(stored, "sentiero:vital")}
    assert {"FCP", "TTFB", "LCP", "CLS"} <= vitals

    identify = customs(stored, "sentiero:identify")
    assert identify == [{"user_id": "user-42", "traits": {"plan": "pro"}}]


def test_console_messages_are_recorded(stored: list[Event]) -> None:
    """Ensure that the console plugin records the page's console (the thrown error)."""
    logs = [e["data"]["payload"] for e in stored if e["type"] == 6]
    assert any(ERROR_MESSAGE in " ".join(log["payload"]) for log in logs)


def test_inputs_are_masked_unless_unmasked(stored: list[Event]) -> None:
    """Ensure that typed values are masked, except under data-sentiero-unmask."""
    texts = {e["data"]["text"] for e in stored if e["type"] == 3 and e["data"]["source"] == 5}
    assert "*" * len(PASSWORD) in texts
    assert "*" * len(MASKED_VALUE) in texts
    assert UNMASKED_VALUE in texts


def test_secrets_are_in_no_stored_byte(db_path: Path, stored: list[Event]) -> None:
    """Ensure that the password, masked and hidden values, masked and blocked
    text and the page's e-mail address appear nowhere in the store, while
    the unmasked value and text do."""
    chunks = stored_bytes(db_path)
    for shown in (UNMASKED_VALUE, UNMASKED_TEXT):
        assert any(shown.encode() in c for c in chunks), f"{shown!r} is missing: a broken scan?"
    secrets = (PASSWORD, MASKED_VALUE, HIDDEN_TOKEN, MASKED_TEXT, BLOCKED_TEXT, EMAIL)
    for secret in secrets:
        assert not any(secret.encode() in c for c in chunks), f"{secret!r} reached the store"
    snapshot_text = json.dumps(stored)
    assert "[redacted]" in snapshot_text
    assert "*" * len(MASKED_TEXT) in snapshot_text
    for secret in secrets:
        assert secret not in snapshot_text


def _count_sessions(server: LiveServer) -> int:
    return server.run(store_of(server).count_sessions())  # type: ignore[no-any-return]


@pytest.mark.parametrize(("marker", "signal"), [("gpc", GPC_SCRIPT), ("dnt", DNT_SCRIPT)])
def test_privacy_signal_sends_nothing(
    server: LiveServer, browser: Any, marker: str, signal: str
) -> None:
    """Ensure that with GPC or DNT on the recorder sends no request at all."""
    context = new_context(browser, marker)
    context.add_init_script(signal)
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if EVENTS_PATH in r.url else None)
    before = _count_sessions(server)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        wait_in_page(page, "window.Sentiero !== undefined")
        page.locator("#holder").press_sequentially("abc")
        page.locator("#buy").click()
        page.evaluate("window.Sentiero.track('blocked'); window.Sentiero.flush()")
        assert page.evaluate("window.Sentiero.sessionId") is None
        with page.expect_navigation():
            page.locator("#submit").click()
        page.wait_for_timeout(900)  # two flush intervals
        page.close()
        assert not [c for c in context.cookies() if c["name"].startswith("sentiero_")]
    finally:
        context.close()
    assert sent == []
    assert posts_from(server, marker) == []
    assert _count_sessions(server) == before


def test_opt_out_stops_all_requests_and_opt_in_resumes(server: LiveServer, browser: Any) -> None:
    """Ensure that after optOut() nothing is sent, across pages, until optIn()."""
    context = new_context(browser, "opt-out")
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if EVENTS_PATH in r.url else None)
    try:
        page, _sid = open_settled(server, context, server.url + "/")
        page.evaluate("window.Sentiero.optOut()")
        sent.clear()
        received = len(posts_from(server, "opt-out"))
        assert page.evaluate("window.Sentiero.isOptedOut()") is True
        page.locator("#holder").press_sequentially("abc")
        page.evaluate("window.Sentiero.track('after opt-out'); window.Sentiero.flush()")
        with page.expect_navigation():
            page.locator("#submit").click()
        page.wait_for_timeout(900)
        assert page.evaluate("window.Sentiero.sessionId") is None
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies.get("sentiero_optout") == "1"
        assert "sentiero_sid" not in cookies
        assert sent == []
        assert len(posts_from(server, "opt-out")) == received

        page.evaluate("window.Sentiero.optIn()")
        wait_in_page(page, "window.Sentiero.sessionId")
        settle(page)
        assert sent, "recording did not resume after optIn()"
        assert len(posts_from(server, "opt-out")) > received
        assert "sentiero_optout" not in {c["name"] for c in context.cookies()}
    finally:
        context.close()
