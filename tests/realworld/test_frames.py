"""A page whose recorder tag is deferred, framing a page of the same site
whose tag is not: the frame's script runs first, while the page's is still
waiting. The page must still record the frame inside its own recording,
and the frame must not start a second one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from quart import Response

from tests.realworld.helpers import events_when, flush, snapshots_json
from tests.realworld.site import PageSpec, build_app
from tests.recording.helpers import new_context, store_of, wait_in_page
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

# The page's parsing stops at a slow script after the frame, so its deferred
# recorder runs only once that script arrived: long after the frame's own.
DEFERRED_PARENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deferred page</title>
<script src="/sentiero/recorder.js" defer></script>
</head><body><p id="page-text">Page text</p>
<iframe id="child" src="/rw/eager-child" title="child"></iframe>
<script src="/rw-slow.js"></script>
</body></html>
"""
EAGER_CHILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Child</title>
<script src="/sentiero/recorder.js"></script>
<script>window.parentRecorderWasThere = !!window.parent.Sentiero;</script>
</head><body><p id="child-text">Eager child text</p></body></html>
"""
SLOW_SECONDS = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    app = build_app(
        {"deferred-parent": PageSpec(DEFERRED_PARENT), "eager-child": PageSpec(EAGER_CHILD)}
    )

    @app.route("/rw-slow.js")
    async def _slow() -> Response:
        await asyncio.sleep(SLOW_SECONDS)
        return Response("window.slowScriptRan = true;", content_type="text/javascript")

    with LiveServer(app) as live:
        yield live


def test_a_frame_whose_script_runs_first_is_recorded_once_by_the_page(
    server: LiveServer, browser: Any
) -> None:
    context = new_context(browser, "deferred-frames")
    try:
        page = context.new_page()
        page.goto(server.url + "/rw/deferred-parent")
        sid = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        child = page.frame_locator("#child").locator("body")
        # the scenario happened: the frame's recorder ran before the page's
        assert child.evaluate("() => window.parentRecorderWasThere") is False
        # and the frame now answers with the page's recorder
        assert child.evaluate("() => window.Sentiero === window.parent.Sentiero") is True
        child.evaluate("() => { document.getElementById('child-text').textContent = 'Changed'; }")
        flush(page)
        events = events_when(
            server, sid, lambda evs: "Changed" in json.dumps(evs), "the frame's change"
        )
        page_window = page.evaluate("window.Sentiero.windowId")
    finally:
        context.close()
    assert "Eager child text" in snapshots_json(events) or "Eager child text" in json.dumps(events)
    summary = server.run(store_of(server).get_session(sid))
    assert summary.windows == [page_window]
    # nothing else was recorded by this browser: no second session either
    listed = server.run(store_of(server).list_sessions())
    assert [s.session_id for s in listed.sessions] == [sid]
