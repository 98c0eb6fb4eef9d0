"""The analytics plugin against what Chromium really recorded: a two-page
site with known scrolls, clicks (a rage burst), form use and a thrown
error. Every report shows what was played, and the heatmap page draws the
clicks where the button is on the page rebuilt from its snapshot."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realworld.helpers import flush, recorded_page, serve_pages
from tests.realworld.site import PageSpec
from tests.recording.helpers import all_events, wait_for
from tests.support.live_server import LiveServer

pytest.importorskip("sentiero_analytics")

HOME = """<!doctype html><html><head><meta charset="utf-8"><title>Home</title>
%RECORDER%
<style>body{margin:0;height:3000px;font:16px sans-serif}
#buy{position:absolute;left:100px;top:1500px;width:200px;height:50px}
#next{position:absolute;left:20px;top:1600px}</style></head>
<body><h1>Home</h1><button id="buy">Buy</button>
<a id="next" href="/rw/form">Form</a></body></html>"""

FORM = """<!doctype html><html><head><meta charset="utf-8"><title>Form</title>
%RECORDER%</head><body>
<form id="signup" onsubmit="event.preventDefault()">
<input id="email" name="email"><input id="name" name="name">
<button id="send" type="submit">Send</button></form>
<button id="boom" onclick="throw new Error('analytics-boom')">Boom</button>
</body></html>"""

RANGE = "from=2020-01-01&to=2029-12-31"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # sessions are folded a moment after their batches, not 30 s later
    yield from serve_pages(
        {"home": PageSpec(HOME), "form": PageSpec(FORM)},
        capture_web_vitals=False,
        plugins={"analytics": {"fold_interval": 0.2}},
    )


def report(server: LiveServer, name: str, query: str = "") -> Any:
    url = f"{server.url}/sentiero/api/analyzers/{name}?{RANGE}{query}"
    with urllib.request.urlopen(url) as response:
        return json.load(response)["report"]


def test_reports_show_what_was_played(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page, _watch, sid = recorded_page(server, context, f"{server.url}/rw/home")
    page.evaluate("window.scrollTo(0, 1200); 0")
    page.wait_for_timeout(300)
    box = page.locator("#buy").bounding_box()
    for _ in range(3):
        page.mouse.click(box["x"] + 100, box["y"] + 25)
        page.wait_for_timeout(60)
    page.wait_for_timeout(1300)  # the burst is judged, and the page stays unchanged
    flush(page)
    page.click("#next")
    page.wait_for_url("**/rw/form")
    page.click("#email")
    page.keyboard.type("someone@example.com")
    page.click("#name")
    page.keyboard.type("Someone")
    page.click("#boom")
    page.wait_for_timeout(300)
    flush(page)

    def recorded() -> bool:
        events = all_events(server, sid)
        errors = [e for e in events if e["type"] == 5 and e["data"].get("tag") == "sentiero:error"]
        return bool(errors)

    wait_for(recorded, what="the error stored")
    home, form = f"{server.url}/rw/home", f"{server.url}/rw/form"

    def pages() -> dict[str, Any] | None:
        # the fold that has the error has every batch stored before it
        errors = report(server, "errors")["rows"]
        if not any("analytics-boom" in e["message"] for e in errors):
            return None
        rows = {r["page"]: r for r in report(server, "pages")["rows"]}
        return rows if {home, form} <= set(rows) else None

    rows = wait_for(pages, what="both pages and the error in the reports")
    assert rows[home]["views"] == 1 and rows[home]["entries"] == 1
    assert rows[form]["views"] == 1 and rows[form]["exits"] == 1

    errors = report(server, "errors")["rows"]
    assert [e["occurrences"] for e in errors if "analytics-boom" in e["message"]] == [1]
    assert errors[0]["pages"] == [form] and errors[0]["replays"][0]["session_id"] == sid

    rage = [r for r in report(server, "frustration")["rows"] if r["kind"] == "rage"]
    assert [(r["page"], r["element"], r["count"]) for r in rage] == [(home, "button#buy", 1)]

    depth = max(r["depth_px"] for r in report(server, "scroll")["rows"] if r["page"] == home)
    assert depth == (1200 + 720) // 250 * 250

    forms = report(server, "forms")
    assert forms["rows"] == [{"page": form, "started": 1, "submitted": 0, "abandoned": 1}]
    fields = {f["field"]: f for f in forms["fields"]}
    assert fields["input#email"]["focus"] == 1 and fields["input#name"]["abandoned_here"] == 1

    cells = report(server, "heatmap", f"&page={home}")["rows"]
    buy = [c for c in cells if c["clicks"] == 3]
    assert len(buy) == 1
    # the document position of the button's middle: 100 + 100, 1500 + 25
    assert (buy[0]["x"], buy[0]["y"]) == (200 // 20 * 20, 1525 // 20 * 20)

    # the dashboard's heatmap: the page rebuilt, the clicks drawn on the button
    dash = context.new_page()
    dash.goto(f"{server.url}/sentiero/analytics/heatmap?{RANGE}&page={home}")
    dash.wait_for_selector("#heatmap[data-ready]")
    assert dash.get_attribute("#heatmap", "data-ready") == "drawn"
    found = dash.evaluate(
        """(() => {
          const frame = document.querySelector('#heatmap iframe');
          const button = frame.contentDocument.querySelector('#buy');
          const r = button.getBoundingClientRect();
          const canvas = document.querySelector('#heatmap canvas');
          const px = canvas.getContext('2d').getImageData(r.left + r.width / 2,
                                                          r.top + r.height / 2, 1, 1).data;
          return {left: r.left, top: r.top, red: px[0], alpha: px[3],
                  sandbox: frame.getAttribute('sandbox')};
        })()"""
    )
    assert (found["left"], found["top"]) == (100, 1500)
    assert found["alpha"] > 0 and found["red"] > 150
    assert "allow-scripts" not in (found["sandbox"] or "")
    chart = context.new_page()
    chart.goto(f"{server.url}/sentiero/analytics/engagement?{RANGE}")
    chart.wait_for_selector("#chart[data-drawn] canvas")
    context.close()
