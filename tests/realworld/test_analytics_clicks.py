"""Clicks and form fields named by the real recorder in Chromium: each click
at a known offset inside a known element arrives as ``sentiero:click`` with
rrweb's node id, the element's selector and the offset in its box; fields
arrive as ``sentiero:field`` without their values; blocked elements and
clicks rrweb does not record give nothing. The analytics reports then place
the clicks inside their elements without reading a single snapshot."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realworld.helpers import events_when, flush, recorded_page, serve_pages
from tests.realworld.site import PageSpec
from tests.recording.helpers import Event, all_events, wait_for
from tests.support.live_server import LiveServer

pytest.importorskip("sentiero_analytics")

from sentiero_analytics.facts import batch_facts

from sentiero_core.testing import make_batch

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Clicks</title>
%RECORDER%
<style>body{margin:0;height:3000px;font:16px sans-serif}
#buy{position:absolute;left:100px;top:400px;width:200px;height:50px;padding:0;border:0}
#buy span{display:block;width:200px;height:50px}
.card{position:absolute;left:400px;top:400px;width:100px;height:100px;background:#eee}
#vault{position:absolute;left:600px;top:400px;width:100px;height:40px}
#host{position:absolute;left:100px;top:600px}
#added{position:absolute;left:400px;top:600px;width:80px;height:40px}
form{position:absolute;left:100px;top:800px}</style></head>
<body>
<button id="buy"><span class="label big">Buy now</span></button>
<div class="card plain"></div>
<div id="vault" data-rr-block><button id="secret" style="width:100px;height:40px">x</button></div>
<div id="host"></div>
<form onsubmit="event.preventDefault()">
<input name="email" class="wide" style="width:200px;height:30px;box-sizing:border-box">
<select id="country"><option>Italy</option><option>France</option></select>
</form>
<script>
  var root = document.getElementById("host").attachShadow({mode: "open"});
  root.innerHTML = "<button class='inner' style='width:120px;height:30px'>In shadow</button>";
  setTimeout(function () {
    var b = document.createElement("button");
    b.id = "added";
    b.textContent = "Added later";
    document.body.appendChild(b);
  }, 200);
</script>
</body></html>"""

RANGE = "from=2020-01-01&to=2029-12-31"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # sessions are folded a moment after their batches, not 30 s later
    yield from serve_pages(
        {"clicks": PageSpec(PAGE)},
        capture_web_vitals=False,
        plugins={"analytics": {"fold_interval": 0.2}},
    )


def report(server: LiveServer, name: str, query: str = "") -> Any:
    url = f"{server.url}/sentiero/api/analyzers/{name}?{RANGE}{query}"
    with urllib.request.urlopen(url) as response:
        return json.load(response)["report"]


def tagged(events: list[Event], tag: str) -> list[Event]:
    return [e for e in events if e["type"] == 5 and e["data"].get("tag") == tag]


def rrweb_clicks(events: list[Event]) -> list[Event]:
    return [
        e
        for e in events
        if e["type"] == 3 and e["data"].get("source") == 2 and e["data"].get("type") == 2
    ]


def click_at(page: Any, selector: str, dx: float, dy: float) -> None:
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + dx, box["y"] + dy)
    page.wait_for_timeout(50)


def test_clicks_and_fields_are_named_with_their_position(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page, watch, sid = recorded_page(server, context, f"{server.url}/rw/clicks")
    page.wait_for_selector("#added")
    page.evaluate("window.scrollTo(0, 150); 0")
    page.wait_for_timeout(300)
    click_at(page, "#buy", 50, 10)  # on the span inside the button
    click_at(page, ".card", 25, 75)  # no target around: the element itself
    click_at(page, "#secret", 10, 10)  # blocked: neither rrweb nor we record it
    click_at(page, "#host >> button.inner", 30, 15)  # inside an open shadow root
    click_at(page, "#added", 79, 39)  # added after the snapshot
    page.focus("#buy")
    page.keyboard.press("Enter")  # a click without a position
    page.click("input[name=email]")
    page.keyboard.type("someone@example.com")
    page.select_option("#country", "France")
    page.wait_for_timeout(300)
    flush(page)

    events = events_when(
        server,
        sid,
        lambda evs: len(tagged(evs, "sentiero:field")) >= 2 and len(rrweb_clicks(evs)) >= 6,
        what="the clicks and fields stored",
    )
    ours = [e["data"]["payload"] for e in tagged(events, "sentiero:click")]
    theirs = rrweb_clicks(events)
    # one of ours for each of rrweb's, on the same node, in the same dispatch
    assert [p["id"] for p in ours] == [e["data"]["id"] for e in theirs]
    times = [e["timestamp"] for e in tagged(events, "sentiero:click")]
    assert all(abs(a - e["timestamp"]) <= 50 for a, e in zip(times, theirs, strict=True))
    assert [{k: v for k, v in p.items() if k != "id"} for p in ours] == [
        {"sel": "button#buy", "x": 50, "y": 10, "w": 200, "h": 50},
        {"sel": "div.card", "x": 25, "y": 75, "w": 100, "h": 100},
        {"sel": "button.inner", "x": 30, "y": 15, "w": 120, "h": 30},
        {"sel": "button#added", "x": 79, "y": 39, "w": 80, "h": 40},
        {"sel": "button#buy"},  # Enter on the button
        {"sel": 'input[name="email"]', "x": 100, "y": 15, "w": 200, "h": 30},  # page.click: middle
    ]
    fields = [e["data"]["payload"] for e in tagged(events, "sentiero:field")]
    assert {f["sel"] for f in fields} == {'input[name="email"]', "select#country"}
    assert all(set(f) == {"id", "sel"} for f in fields)
    for name in ("someone", "France"):  # no value anywhere in what we add
        assert name not in json.dumps(
            tagged(events, "sentiero:click") + tagged(events, "sentiero:field")
        )
    # the recording says it names its elements, so the collector reads no node
    snapshots = [e for e in events if e["type"] == 2]
    adds = [
        e for e in events if e["type"] == 3 and e["data"].get("source") == 0 and e["data"]["adds"]
    ]
    assert snapshots and adds
    assert all(e["data"].get("sentiero") == 1 for e in snapshots + adds)
    facts = batch_facts(make_batch(sid, "w", events))
    assert next(v for k, v in facts.items() if k.startswith("ev|"))["nodes"] == []
    watch.assert_clean()

    url = f"{server.url}/rw/clicks"
    heat = wait_for(
        lambda: (
            (h := report(server, "heatmap", f"&page={url}"))
            and sum(r["clicks"] for r in h["elements"]) >= 5
            and h
        ),
        what="the session folded into the reports",
    )
    spots = {(r["selector"], r["x"], r["y"]): r["clicks"] for r in heat["elements"]}
    assert spots == {
        ("button#buy", 0.2, 0.2): 1,  # 50 of 200, 10 of 50
        ("div.card", 0.2, 0.7): 1,
        ("button.inner", 0.2, 0.5): 1,
        ("button#added", 0.9, 0.9): 1,
        ('input[name="email"]', 0.5, 0.5): 1,
    }
    assert {r["viewport"] for r in heat["elements"]} == {"desktop"}
    targets = {
        t["selector"]: t["clicks"] for t in report(server, "pages", f"&page={url}")["targets"]
    }
    assert targets == {
        "button#buy": 2,
        "div.card": 1,
        "button.inner": 1,
        "button#added": 1,
        'input[name="email"]': 1,
    }
    fields_report = {f["field"]: f for f in report(server, "forms")["fields"]}
    assert fields_report['input[name="email"]']["focus"] == 1
    # a change without a focus (select_option): named by the change
    assert fields_report["select#country"]["change"] == 1
    context.close()


@pytest.fixture(scope="module")
def unsampled() -> Iterator[LiveServer]:
    """rrweb records no mouse interaction at all."""
    yield from serve_pages(
        {"clicks": PageSpec(PAGE)}, capture_web_vitals=False, sampling={"mouseInteraction": False}
    )


def test_no_click_is_named_when_rrweb_records_none(unsampled: LiveServer, browser: Any) -> None:
    """Without rrweb's clicks and focus, the recorder names none either (a
    change still is: rrweb records the input)."""
    context = browser.new_context()
    page, _watch, sid = recorded_page(unsampled, context, f"{unsampled.url}/rw/clicks")
    click_at(page, "#buy", 5, 5)
    page.click("input[name=email]")
    page.select_option("#country", "France")
    page.wait_for_timeout(300)
    flush(page)
    events = events_when(
        unsampled, sid, lambda evs: tagged(evs, "sentiero:field"), what="the change"
    )
    assert rrweb_clicks(all_events(unsampled, sid)) == []
    assert tagged(events, "sentiero:click") == []
    assert [f["data"]["payload"]["sel"] for f in tagged(events, "sentiero:field")] == [
        "select#country"
    ]
    context.close()
