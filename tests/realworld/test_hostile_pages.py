"""Host pages that make recording hard, in Chromium: a strict
Content-Security-Policy (allowing the Sentiero origin, and one that does not
allow it to be reached), a page that broke fetch, JSON and Promise before we
loaded, a page built with document.write, and a page framed by another
site. Each recording is stored and replayable, and the host page never sees
an error of ours."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realworld.helpers import (
    Watch,
    assert_replayable,
    events_when,
    flush,
    recorded_page,
    serve_pages,
    snapshots_json,
)
from tests.realworld.site import (
    DOC_WRITE,
    EMBED,
    EMBEDDED,
    GLOBALS,
    STRICT,
    STRICT_CSP,
    PageSpec,
)
from tests.recording.helpers import (
    all_events,
    customs,
    new_context,
    store_of,
    wait_for,
    wait_in_page,
)
from tests.support.live_server import LiveServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def origins() -> dict[str, str]:
    """The Sentiero server on 127.0.0.1; the host pages also on localhost (another origin)."""
    port = free_port()
    return {
        "server": f"http://127.0.0.1:{port}",
        "page": f"http://localhost:{port}",
        "port": str(port),
    }


@pytest.fixture(scope="module")
def server(origins: dict[str, str]) -> Iterator[LiveServer]:
    sentiero = origins["server"]
    pages = {
        "strict": PageSpec(
            STRICT, csp=STRICT_CSP, script_origin=sentiero, nonce=True, tokens={"CONNECT": sentiero}
        ),
        "strict-blocked": PageSpec(
            STRICT, csp=STRICT_CSP, script_origin=sentiero, nonce=True, tokens={"CONNECT": "'self'"}
        ),
        "globals": PageSpec(GLOBALS),
        "written": PageSpec(DOC_WRITE),
        "embed": PageSpec(EMBED, script_origin=sentiero),
        "embedded": PageSpec(EMBEDDED),
    }
    yield from serve_pages(pages, port=int(origins["port"]), cors_origins=[origins["page"]])


def test_a_strict_csp_that_allows_sentiero_is_recorded(
    server: LiveServer, origins: dict[str, str], browser: Any
) -> None:
    """Ensure that a nonce-based policy with Trusted Types, listing the
    Sentiero origin in script-src and connect-src, records without a violation."""
    context = new_context(browser, "strict")
    try:
        page, watch, sid = recorded_page(server, context, origins["page"] + "/rw/strict")
        page.click("#go")
        flush(page)
        events = events_when(
            server, sid, lambda evs: "clicked under CSP" in json.dumps(evs), "the click's effect"
        )
    finally:
        context.close()
    assert_replayable(events)
    watch.assert_clean()


def test_a_csp_that_blocks_the_endpoint_degrades_quietly(
    server: LiveServer, origins: dict[str, str], browser: Any
) -> None:
    """Ensure that when connect-src leaves the Sentiero origin out, the page
    runs on without an exception, the recorder stops instead of retrying, and
    the only console errors are the browser's own CSP refusals."""
    context = new_context(browser, "blocked")
    requests: list[str] = []
    try:
        page = context.new_page()
        watch = Watch().attach(page)
        page.on(
            "request", lambda r: requests.append(r.url) if "/sentiero/events" in r.url else None
        )
        page.goto(origins["page"] + "/rw/strict-blocked")
        wait_in_page(page, "window.Sentiero && window.Sentiero.version")
        # the first flush is refused by the policy; then the recorder gives up
        wait_in_page(page, "window.Sentiero.sessionId === null")
        page.click("#go")
        assert page.text_content("#out") == "clicked under CSP"
        page.evaluate("window.Sentiero.track('after'); window.Sentiero.flush()")
        page.wait_for_timeout(1200)  # a retry would be due after 1 s
    finally:
        context.close()
    assert watch.uncaught == []
    assert watch.console_errors and all(
        "Content Security Policy" in e for e in watch.console_errors
    ), watch.console_errors
    assert len(requests) <= 1


def test_a_page_that_broke_globals_is_recorded_intact(server: LiveServer, browser: Any) -> None:
    """Ensure that with window.fetch removed, Array.prototype.toJSON defined,
    JSON.stringify replaced and Promise polyfilled before the recorder loads,
    events still arrive intact (arrays stay arrays) and the page's own
    replacements are left in place."""
    context = new_context(browser, "globals")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/globals")
        page.click("#add")
        flush(page)
        events = events_when(
            server, sid, lambda evs: "added item" in json.dumps(evs), "the added item"
        )
        still_theirs = page.evaluate(
            "[window.fetch === null, JSON.stringify([1]), typeof Array.prototype.toJSON,"
            " window.Promise.name]"
        )
    finally:
        context.close()
    assert_replayable(events)
    assert still_theirs == [True, '"stringify was replaced"', "function", "MiniPromise"]
    assert "array of" not in json.dumps(events) and "stringify was replaced" not in json.dumps(
        events
    )
    adds = [
        a for e in events if e["type"] == 3 and e["data"]["source"] == 0 for a in e["data"]["adds"]
    ]
    assert adds and isinstance(adds, list)
    watch.assert_clean()


def test_a_page_built_with_document_write_is_recorded(server: LiveServer, browser: Any) -> None:
    """Ensure that content written by document.write while the page is parsed
    (nested writes too) is in the snapshot."""
    context = new_context(browser, "written")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/written")
        flush(page)
        events = all_events(server, sid)
    finally:
        context.close()
    assert_replayable(events)
    snapshot = snapshots_json(events)
    for text in ("Written by document.write", "Nested write", "After the writes"):
        assert text in snapshot
    watch.assert_clean()


def test_a_page_rewritten_by_document_write_after_load_is_recorded_again(
    server: LiveServer, browser: Any
) -> None:
    """Ensure that when document.write after load replaces the page (the
    browser drops every listener and rrweb cannot see the new root), the new
    document gets its own full snapshot, its changes are recorded, and our
    listeners (here the error capture) work again."""
    context = new_context(browser, "rewritten")
    try:
        page, watch, sid = recorded_page(server, context, server.url + "/rw/written")
        page.evaluate("rewrite(); 0")
        page.wait_for_selector("#fresh-button")
        events = events_when(
            server, sid, lambda evs: "A fresh document" in snapshots_json(evs), "the new snapshot"
        )
        page.evaluate(
            "document.getElementById('fresh').textContent = 'changed on the fresh page';"
            "setTimeout(function () { throw new Error('thrown on the fresh page'); }, 0); 0"
        )
        page.wait_for_timeout(50)
        flush(page)
        events = events_when(
            server,
            sid,
            lambda evs: (
                "changed on the fresh page" in json.dumps(evs)
                and bool(customs(evs, "sentiero:error"))
            ),
            "the fresh page's change and error",
        )
    finally:
        context.close()
    assert_replayable(events)
    assert [e["message"] for e in customs(events, "sentiero:error")] == [
        "Uncaught Error: thrown on the fresh page"
    ]
    assert [e["data"]["href"] for e in events if e["type"] == 4] == [server.url + "/rw/written"] * 2
    assert watch.console_errors == []
    assert [u.splitlines()[0] for u in watch.uncaught] == ["thrown on the fresh page"]


def test_a_page_framed_by_another_site_is_recorded(
    server: LiveServer, origins: dict[str, str], browser: Any
) -> None:
    """Ensure that a recorded page inside another origin's iframe records
    itself (the top page has no recorder) with its own window id, and sets
    no cookies from inside the frame."""
    context = new_context(browser, "embed")
    try:
        page = context.new_page()
        watch = Watch().attach(page)
        page.goto(origins["page"] + "/rw/embed")
        frame = page.frame_locator("#embedded")
        frame.locator("#press").click()
        child = next(f for f in page.frames if f.url.endswith("/rw/embedded"))
        sid = wait_for(lambda: child.evaluate("window.Sentiero && window.Sentiero.sessionId"))
        wid = child.evaluate("window.Sentiero.windowId")
        assert page.evaluate("typeof window.Sentiero") == "undefined"
        wait_for(lambda: any(e["type"] == 2 for e in all_events(server, sid)))
        flush(child)
        events = all_events(server, sid)
        cookies = [c["name"] for c in context.cookies()]
    finally:
        context.close()
    assert_replayable(events)
    assert "Embedded widget text" in snapshots_json(events)
    assert server.run(store_of(server).get_session(sid)).windows == [wid]
    assert "sentiero_wid" not in cookies
    watch.assert_clean()
