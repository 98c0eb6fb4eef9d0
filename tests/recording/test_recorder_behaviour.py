"""The recorder's behaviour in Chromium, one setting at a time: delivery
(beacons, retries, refusals, the bounded queue), sessions (idle timeout,
per-tab sessions, sampling), masking options, console capping, cross-origin
loading, and never disturbing the host page."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import pytest

from tests.recording.helpers import (
    Event,
    all_events,
    customs,
    new_context,
    open_settled,
    posts_from,
    settle,
    store_of,
    wait_for,
    wait_in_page,
)
from tests.recording.site import build_site, event_log
from tests.support.live_server import LiveServer, free_port

pytestmark = pytest.mark.browser

Serve = Callable[..., LiveServer]
QUIET = {"flush_interval_ms": 60_000}  # only explicit flushes and page exits send


@pytest.fixture()
def serve() -> Iterator[Serve]:
    """Start the site with the given settings; stopped after the test."""
    started: list[LiveServer] = []

    def start(port: int | None = None, script_origin: str = "", **settings: Any) -> LiveServer:
        app = build_site(script_origin=script_origin, **settings)
        live = LiveServer(app, port=port).start()
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


def open_recorded(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
    return page


def session_of(page: Any) -> str:
    return page.evaluate("window.Sentiero.sessionId")  # type: ignore[no-any-return]


def custom_names(events: list[Event]) -> list[str]:
    return [c["name"] for c in customs(events, "sentiero:custom")]


def input_texts(events: list[Event]) -> set[str]:
    return {e["data"]["text"] for e in events if e["type"] == 3 and e["data"]["source"] == 5}


def test_the_queue_leaves_by_beacon_when_the_page_goes_away(serve: Serve, browser: Any) -> None:
    """Ensure that events still queued when the page unloads are sent by sendBeacon."""
    server = serve(**QUIET, flush_event_threshold=1000)
    context = new_context(browser, "beacon")

    def beacons() -> list[dict[str, Any]]:
        # This test's server, so every text/plain post is the page's beacon;
        # not by the context's User-Agent, which Chrome may leave off a
        # beacon sent while the page unloads.
        log = event_log(server.app)
        return [p for p in log if p["method"] == "POST" and p["content_type"] == "text/plain"]

    try:
        page, sid = open_settled(server, context, server.url + "/")
        page.evaluate("window.Sentiero.track('leaving'); 0")
        page.goto(server.url + "/second")
        wait_for(lambda: "leaving" in custom_names(all_events(server, sid)), what="the beacon")
        # The request log is written after the store has the events, as the
        # answer goes out: wait for it with the browser still open, since
        # closing it drops the connection and the server stops that request
        # before it reaches the log.
        wait_for(beacons, what="the beacon in the request log")
    finally:
        context.close()
    assert {p["status"] for p in beacons()} == {204}


def test_a_batch_in_flight_at_unload_is_stored_once(serve: Serve, browser: Any) -> None:
    """Ensure that a batch whose request is cut short by the page unloading is
    not sent again by beacon (Chrome rejects the fetch, yet delivers it)."""
    server = serve(**QUIET)
    context = new_context(browser, "unload")
    sessions = []
    try:
        page = open_recorded(context, server.url + "/")
        for n in range(4):
            sessions.append(session_of(page))
            with page.expect_navigation():
                page.evaluate(
                    f"window.Sentiero.track('leaving-{n}'); window.Sentiero.flush();"
                    "location.href = '/second?n=' + Math.random(); 0"
                )
            wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        settle(page)
    finally:
        context.close()
    assert len(set(sessions)) == 1
    expected = [f"leaving-{n}" for n in range(4)]

    def leaving() -> list[str]:
        names = custom_names(all_events(server, sessions[0]))
        return sorted(n for n in names if n.startswith("leaving-"))

    wait_for(lambda: set(leaving()) == set(expected), what="the events sent while leaving")
    time.sleep(0.3)  # a duplicate would travel with the original
    assert leaving() == expected


def test_server_errors_are_retried_with_backoff(serve: Serve, browser: Any) -> None:
    """Ensure that a batch answered with 5xx is sent again after 1 s, then 2 s, and stored once."""
    server = serve(**QUIET)
    context = new_context(browser, "retry")
    attempts: list[float] = []

    def flaky(route: Any) -> None:
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            route.fulfill(status=503, content_type="application/json", body='{"error": "later"}')
        else:
            route.continue_()

    context.route("**/sentiero/events*", flaky)
    try:
        page = open_recorded(context, server.url + "/")
        sid = session_of(page)
        settle(page)  # resolves once the first batch got through
        snapshots = wait_for(
            lambda: [e for e in all_events(server, sid) if e["type"] == 2],
            what="the full snapshot",
        )
    finally:
        context.close()
    assert len(attempts) >= 3
    assert attempts[1] - attempts[0] >= 0.9
    assert attempts[2] - attempts[1] >= 1.9
    assert len(snapshots) == 1


def test_busy_answers_are_retried_when_the_server_says(serve: Serve, browser: Any) -> None:
    """Ensure that 503 and 429 answers with Retry-After are retried after
    the time they give (not the backoff's), more often than the five tries
    a failing batch gets, and that nothing is dropped meanwhile."""
    server = serve(**QUIET)
    context = new_context(browser, "busy")
    attempts: list[float] = []
    answers = [(503, "2"), (429, "1"), (503, "1"), (429, "1"), (503, "1"), (429, "1")]

    def busy(route: Any) -> None:
        attempts.append(time.monotonic())
        if len(attempts) <= len(answers):
            status, after = answers[len(attempts) - 1]
            route.fulfill(
                status=status,
                headers={"Retry-After": after},
                content_type="application/json",
                body='{"error": "busy"}',
            )
        else:
            route.continue_()

    context.route("**/sentiero/events*", busy)
    try:
        page = open_recorded(context, server.url + "/")
        sid = session_of(page)
        settle(page)  # resolves once the first batch got through
        snapshots = wait_for(
            lambda: [e for e in all_events(server, sid) if e["type"] == 2],
            what="the full snapshot",
        )
        summary = server.run(store_of(server).get_session(sid))
    finally:
        context.close()
    assert len(attempts) > len(answers)
    gaps = [b - a for a, b in pairwise(attempts[: len(answers) + 1])]
    assert gaps[0] >= 1.9, gaps  # Retry-After: 2, where the backoff says 1 s
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert all(gap < 1.9 for gap in gaps[1:4]), gaps  # 1 s each, no growing backoff
    assert len(snapshots) == 1
    assert summary is not None and summary.dropped_events == 0


def test_client_errors_are_dropped_and_reported(serve: Serve, browser: Any) -> None:
    """Ensure that a refused batch is not retried, its events are reported as
    dropped in the next batch, and a fresh full snapshot follows."""
    server = serve(**QUIET)
    context = new_context(browser, "refused")
    attempts: list[int] = []

    def refuse_first(route: Any) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            route.fulfill(status=422, content_type="application/json", body='{"error": "no"}')
        else:
            route.continue_()

    context.route("**/sentiero/events*", refuse_first)
    try:
        page = open_recorded(context, server.url + "/")
        sid = session_of(page)
        settle(page)
        page.evaluate("window.Sentiero.track('after the refusal'); 0")
        settle(page)
        summary = wait_for(
            lambda: (s := server.run(store_of(server).get_session(sid))) and s.dropped_events and s,
            what="the dropped count",
        )
        events = wait_for(
            lambda: [e for e in all_events(server, sid) if e["type"] == 2],
            what="the recovery snapshot",
        )
        settle(page)
    finally:
        context.close()
    assert summary.dropped_events >= 2  # at least the Meta and FullSnapshot of the refused batch
    assert events, "no full snapshot followed the drop"
    # the refusal was not retried: one attempt more than fetches that reached
    # the server (beacons bypass Playwright's routing, so they are not counted)
    fetched = [p for p in posts_from(server, "refused") if p["content_type"] == "application/json"]
    assert len(attempts) == len(fetched) + 1


def test_the_queue_is_bounded_and_drops_are_reported(serve: Serve, browser: Any) -> None:
    """Ensure that events beyond max_queue_events are dropped and counted in the next batch."""
    server = serve(**QUIET, flush_event_threshold=1000, max_queue_events=20, capture_metadata=False)
    context = new_context(browser, "bounded")
    try:
        page, sid = open_settled(server, context, server.url + "/")
        page.evaluate(
            "for (let i = 0; i < 100; i++) window.Sentiero.track('burst', {i: i});"
            "window.Sentiero.flush()"
        )
        summary = wait_for(
            lambda: (s := server.run(store_of(server).get_session(sid))) and s.dropped_events and s,
            what="the dropped count",
        )
        events = all_events(server, sid)
    finally:
        context.close()
    burst = [c["properties"]["i"] for c in customs(events, "sentiero:custom")]
    assert burst == list(range(20))
    assert summary.dropped_events == 80


def test_a_new_session_starts_after_the_idle_timeout(serve: Serve, browser: Any) -> None:
    """Ensure that activity after session_idle_timeout starts a new, replayable session."""
    server = serve(**QUIET, session_idle_timeout=1)
    context = new_context(browser, "idle")
    try:
        page = open_recorded(context, server.url + "/")
        first = session_of(page)
        page.evaluate("window.Sentiero.identify('user-7'); 0")
        settle(page)
        page.wait_for_timeout(1300)
        page.mouse.click(30, 30)
        wait_in_page(page, f"window.Sentiero.sessionId !== {json.dumps(first)}")
        second = session_of(page)
        wait_for(
            lambda: any(e["type"] == 2 for e in all_events(server, second)),
            what="the new session's snapshot",
        )
        settle(page)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
    finally:
        context.close()
    assert cookies["sentiero_sid"] == second
    events = all_events(server, second)
    assert [e["type"] for e in events if e["type"] in (2, 4)] == [4, 2]
    assert customs(events, "sentiero:identify") == [{"user_id": "user-7", "traits": {}}]
    assert customs(events, "sentiero:meta")
    assert server.run(store_of(server).count_sessions()) == 2
    assert any(e["type"] == 2 for e in all_events(server, first))


def test_tabs_keep_their_own_sessions_when_not_shared(serve: Serve, browser: Any) -> None:
    """Ensure that without cross_tab_sessions each tab has its own session,
    kept across the pages of that tab."""
    server = serve(**QUIET, cross_tab_sessions=False)
    context = new_context(browser, "tabs")
    try:
        first = open_recorded(context, server.url + "/")
        second = open_recorded(context, server.url + "/second")
        a, b = session_of(first), session_of(second)
        first.goto(server.url + "/second")
        wait_in_page(first, "window.Sentiero.sessionId")
        again = session_of(first)
    finally:
        context.close()
    assert a != b
    assert again == a


def test_an_unsampled_session_sends_nothing(serve: Serve, browser: Any) -> None:
    """Ensure that a session left out by session_sample_rate records and sends nothing."""
    server = serve(session_sample_rate=0.0)
    context = new_context(browser, "unsampled")
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if "/sentiero/events" in r.url else None)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        wait_in_page(page, "window.Sentiero !== undefined")
        page.locator("#holder").press_sequentially("abc")
        page.evaluate("window.Sentiero.track('unsampled'); window.Sentiero.flush()")
        assert page.evaluate("window.Sentiero.sessionId") is None
        page.goto(server.url + "/second")
        page.wait_for_timeout(900)
        cookies = [c["name"] for c in context.cookies() if c["name"].startswith("sentiero_")]
    finally:
        context.close()
    assert sent == [] and posts_from(server, "unsampled") == []
    assert cookies == []
    assert server.run(store_of(server).count_sessions()) == 0


def test_passwords_stay_masked_when_inputs_are_not(serve: Serve, browser: Any) -> None:
    """Ensure that with mask_all_inputs off plain inputs are recorded while
    passwords and one-time codes stay masked, even under data-sentiero-unmask."""
    server = serve(**QUIET, mask_all_inputs=False)
    context = new_context(browser, "unmasked")
    try:
        page = open_recorded(context, server.url + "/form")
        sid = session_of(page)
        page.locator("#plain").press_sequentially("plain-Text-1")
        page.locator("#section-password").press_sequentially("section-Pw-2")
        page.locator("#one-time").press_sequentially("otp-Code-3")
        page.locator("#plain").click()
        settle(page)
    finally:
        context.close()
    events = all_events(server, sid)
    texts = input_texts(events)
    assert "plain-Text-1" in texts
    assert {"*" * len("section-Pw-2"), "*" * len("otp-Code-3")} <= texts
    stored = json.dumps(events)
    assert "section-Pw-2" not in stored and "otp-Code-3" not in stored


def test_console_messages_are_capped(serve: Serve, browser: Any) -> None:
    """Ensure that a console message is cut to console_max_length characters in total."""
    server = serve(**QUIET, console_max_length=40)
    context = new_context(browser, "console")
    try:
        page, sid = open_settled(server, context, server.url + "/")
        page.evaluate("console.log('x'.repeat(500), 'y'.repeat(500)); window.Sentiero.flush()")
    finally:
        context.close()
    logs = [e["data"]["payload"] for e in all_events(server, sid) if e["type"] == 6]
    assert [log["level"] for log in logs] == ["log"]
    parts = logs[0]["payload"]
    assert parts[0].startswith('"xxx')
    assert sum(len(p) for p in parts) == 40


def test_the_host_page_never_sees_a_recorder_error(serve: Serve, browser: Any) -> None:
    """Ensure that hostile API calls and odd events never throw into the page."""
    server = serve(**QUIET)
    context = new_context(browser, "hostile")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        sid = session_of(page)
        page.evaluate(
            """
            const loop = {}; loop.self = loop;
            const S = window.Sentiero;
            S.track(); S.track(42); S.track('circular', loop);
            S.track('hostile', {get bad() { throw new Error('getter'); }});
            S.identify({}); S.identify(null); S.identify('u-1', 'not an object');
            S.optIn();
            // error events without an Error object (a cross-origin "Script error."),
            // and with a thrown object whose stack is no string
            window.dispatchEvent(new ErrorEvent('error', {message: 'synthetic'}));
            window.dispatchEvent(new ErrorEvent('error', {message: 'odd', error: {stack: 42}}));
            S.flush()
            """
        )
    finally:
        context.close()
    assert errors == []
    events = all_events(server, sid)
    custom = {c["name"]: c["properties"] for c in customs(events, "sentiero:custom")}
    assert custom == {"circular": {"self": "[object Object]"}}
    assert [i["user_id"] for i in customs(events, "sentiero:identify")] == ["u-1"]
    assert [e["message"] for e in customs(events, "sentiero:error")] == ["synthetic", "odd"]


def test_a_page_on_another_origin_posts_back_to_the_server(serve: Serve, browser: Any) -> None:
    """Ensure that recorder.js loaded cross-origin sends to the server it came from (CORS)."""
    port = free_port()
    server_origin, page_origin = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    server = serve(port=port, script_origin=server_origin, cors_origins=[page_origin], **QUIET)
    context = new_context(browser, "cross")
    try:
        page = open_recorded(context, page_origin + "/elsewhere")
        sid = session_of(page)
        page.evaluate("window.Sentiero.track('from elsewhere'); window.Sentiero.flush()")
    finally:
        context.close()
    assert "from elsewhere" in custom_names(all_events(server, sid))
    assert {p["status"] for p in posts_from(server, "cross")} == {204}
    preflights = [e for e in event_log(server.app) if e["method"] == "OPTIONS"]
    assert preflights and {e["status"] for e in preflights} <= {200, 204}
