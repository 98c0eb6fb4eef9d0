"""Recorded sessions for the dashboard tests, built as rrweb event dicts.

``demo_events`` is the real 81-second rrweb recording kept in
tests/fixtures. ``shop_session`` is a synthetic two-tab session carrying every
signal the dashboard shows (errors, rage and dead clicks, custom events, form
activity, Web Vitals, console messages, an identified user).
``hostile_session`` carries script payloads in every recorded field.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from sentiero_core.store import Batch, Store
from sentiero_core.testing.factories import CHROME_MAC, SAFARI_IPHONE, make_batch

ROOT = Path(__file__).resolve().parents[2]
DEMO_FIXTURE = ROOT / "tests" / "fixtures" / "rrweb-demo-81s.json"
T0 = 1_700_000_000_000

Event = dict[str, Any]


def demo_events() -> list[Event]:
    return json.loads(DEMO_FIXTURE.read_text())  # type: ignore[no-any-return]


class PageBuilder:
    """Serialized rrweb DOM nodes with fresh ids."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.ids: dict[str, int] = {}

    def el(
        self, tag: str, attrs: dict[str, str] | None = None, *children: Any, key: str | None = None
    ) -> dict[str, Any]:
        node_id = next(self._ids)
        if key:
            self.ids[key] = node_id
        kids = [self.text(c) if isinstance(c, str) else c for c in children]
        return {
            "type": 2,
            "tagName": tag,
            "attributes": attrs or {},
            "childNodes": kids,
            "id": node_id,
        }

    def text(self, value: str) -> dict[str, Any]:
        return {"type": 3, "textContent": value, "id": next(self._ids)}

    def snapshot(self, ts: int, title: str, *body: Any) -> Event:
        doc_id = next(self._ids)
        self.ids["document"] = doc_id
        doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": next(self._ids)}
        html = self.el(
            "html",
            {},
            self.el("head", {}, self.el("title", {}, title)),
            self.el("body", {}, *body),
        )
        return {
            "type": 2,
            "timestamp": ts,
            "data": {
                "node": {"type": 0, "childNodes": [doctype, html], "id": doc_id},
                "initialOffset": {"left": 0, "top": 0},
            },
        }


def meta(ts: int, href: str, width: int = 1200, height: int = 800) -> Event:
    return {"type": 4, "timestamp": ts, "data": {"href": href, "width": width, "height": height}}


def custom(ts: int, tag: str, payload: dict[str, Any]) -> Event:
    return {"type": 5, "timestamp": ts, "data": {"tag": tag, "payload": payload}}


def mouse(ts: int, kind: int, node: int, x: float = 0, y: float = 0) -> Event:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 2, "type": kind, "id": node, "x": x, "y": y},
    }


def click(ts: int, node: int, x: float, y: float) -> Event:
    return mouse(ts, 2, node, x, y)


def move(ts: int, x: float, y: float) -> Event:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 1, "positions": [{"x": x, "y": y, "id": 1, "timeOffset": 0}]},
    }


def scroll(ts: int, node: int, y: int) -> Event:
    return {"type": 3, "timestamp": ts, "data": {"source": 3, "id": node, "x": 0, "y": y}}


def changes(ts: int, **data: list[dict[str, Any]]) -> Event:
    """A DOM mutation event with the given ``texts``, ``attributes``,
    ``removes`` and ``adds`` (empty where not given)."""
    mutation: dict[str, Any] = {
        "source": 0,
        "texts": [],
        "attributes": [],
        "removes": [],
        "adds": [],
    }
    return {"type": 3, "timestamp": ts, "data": mutation | data}


def mutation(ts: int, node: int, text: str) -> Event:
    return changes(ts, texts=[{"id": node, "value": text}])


def text_input(ts: int, node: int) -> Event:
    return {
        "type": 3,
        "timestamp": ts,
        "data": {"source": 5, "id": node, "text": "********", "isChecked": False},
    }


def console(ts: int, level: str, *args: str) -> Event:
    return {
        "type": 6,
        "timestamp": ts,
        "data": {
            "plugin": "rrweb/console@1",
            "payload": {"level": level, "payload": [json.dumps(a) for a in args], "trace": []},
        },
    }


def shop_window_a(t0: int = T0) -> list[Event]:
    """The main tab: a shop home page then a checkout page."""
    page = PageBuilder()
    home = page.snapshot(
        t0 + 5,
        "Test shop",
        page.el("h1", {}, "Welcome to the test shop", key="title"),
        page.el("button", {"id": "buy"}, "Buy now", key="buy"),
        page.el("div", {"id": "broken"}, "Broken widget", key="broken"),
        page.el(
            "form",
            {"id": "signup"},
            page.el("input", {"name": "email", "type": "email"}, key="email"),
        ),
        page.el("p", {}, "Status: ", page.text("idle"), key="status"),
        page.el("div", {"style": "height: 3000px"}, "Reviews and more"),
    )
    checkout = PageBuilder()
    second = checkout.snapshot(t0 + 12_010, "Checkout", checkout.el("h1", {}, "Checkout page"))
    ids = page.ids
    return [
        meta(t0, "https://shop.example/"),
        home,
        custom(
            t0 + 10,
            "sentiero:meta",
            {
                "url": "https://shop.example/",
                "title": "Test shop",
                "referrer": "https://search.example/?q=shop",
                "viewport": {"width": 1200, "height": 800},
            },
        ),
        custom(t0 + 20, "sentiero:identify", {"user_id": "user-42", "traits": {"plan": "pro"}}),
        move(t0 + 1_000, 50, 50),
        click(t0 + 2_000, ids["buy"], 100, 200),
        mutation(t0 + 2_100, ids["status"], "busy"),
        click(t0 + 4_000, ids["broken"], 300, 300),
        click(t0 + 4_200, ids["broken"], 305, 302),
        click(t0 + 4_400, ids["broken"], 301, 298),
        scroll(t0 + 5_000, ids["document"], 1_500),
        mouse(t0 + 6_000, 5, ids["email"]),
        text_input(t0 + 6_100, ids["email"]),
        text_input(t0 + 6_200, ids["email"]),
        custom(
            t0 + 7_000,
            "sentiero:form_submit",
            {
                "form_id": "signup",
                "form_name": "",
                "action": "/signup",
                "url": "https://shop.example/",
            },
        ),
        custom(
            t0 + 8_000,
            "sentiero:error",
            {
                "kind": "error",
                "message": "TypeError: cart is null",
                "source": "https://shop.example/app.js",
                "line": 12,
                "column": 3,
                "stack": "at checkout (app.js:12:3)",
            },
        ),
        custom(t0 + 9_000, "sentiero:custom", {"name": "signup", "properties": {"plan": "pro"}}),
        console(t0 + 9_500, "warn", "low stock"),
        custom(t0 + 10_000, "sentiero:vital", {"name": "LCP", "value": 1234.5, "rating": "good"}),
        custom(t0 + 10_100, "sentiero:vital", {"name": "CLS", "value": 0.31, "rating": "poor"}),
        meta(t0 + 12_000, "https://shop.example/checkout"),
        second,
        move(t0 + 20_000, 80, 90),
        move(t0 + 25_000, 90, 95),
    ]


def shop_window_b(t0: int = T0) -> list[Event]:
    """A second tab opened on the help centre."""
    page = PageBuilder()
    return [
        meta(t0 + 3_000, "https://shop.example/help"),
        page.snapshot(t0 + 3_005, "Help", page.el("h1", {}, "Help centre")),
        move(t0 + 5_000, 10, 10),
        move(t0 + 15_000, 20, 20),
    ]


def hostile_events(t0: int) -> list[Event]:
    """Script payloads in the title, URLs, names, user id, text and attributes."""
    img = "<img src=x onerror=\"window.__xss='img';alert('img')\">"
    tag = "\"><script>window.__xss='script';alert('script')</script>"
    page = PageBuilder()
    snapshot = page.snapshot(
        t0 + 5,
        img + tag,
        page.el("h1", {}, "Hostile page " + img + tag),
        page.el(
            "img",
            {"src": "https://evil.example/x.png", "onerror": "window.__xss='attr';alert('attr')"},
        ),
        page.el("script", {}, "window.__xss='inline';alert('inline')"),
        page.el("a", {"href": "javascript:window.__xss='href'"}, "a link", key="link"),
    )
    return [
        meta(t0, "https://evil.example/" + tag),
        snapshot,
        custom(
            t0 + 10,
            "sentiero:meta",
            {
                "url": "https://evil.example/" + tag,
                "title": img,
                "referrer": "javascript:alert(1)//" + tag,
                "viewport": {"width": 1000, "height": 700},
            },
        ),
        custom(t0 + 20, "sentiero:identify", {"user_id": tag, "traits": {img: tag}}),
        click(t0 + 1_000, page.ids["link"], 40, 40),
        custom(t0 + 2_000, "sentiero:custom", {"name": img, "properties": {tag: img}}),
        custom(
            t0 + 3_000,
            "sentiero:error",
            {"kind": "error", "message": img, "source": tag, "line": 1, "column": 1, "stack": tag},
        ),
        custom(t0 + 3_500, "sentiero:navigation", {"href": "javascript:alert(1)", "text": img}),
        console(t0 + 4_000, "error", img, tag),
        custom(t0 + 4_500, "sentiero:vital", {"name": img, "value": 1, "rating": tag}),
        move(t0 + 6_000, 30, 30),
    ]


def batches_for(
    session_id: str,
    window_id: str,
    events: list[Event],
    *,
    user_agent: str | None = CHROME_MAC,
    size: int = 50,
) -> list[Batch]:
    return [
        make_batch(session_id, window_id, events[i : i + size], user_agent=user_agent)
        for i in range(0, len(events), size)
    ]


async def load(store: Store, batches: list[Batch]) -> None:
    for batch in batches:
        await store.append(batch)


DEMO_ID = "demoSession0001"
SHOP_ID = "shopSession0001"
HOSTILE_ID = "hostileSession01"
MOBILE_ID = "mobileSession001"


async def load_all(store: Store) -> None:
    """The demo recording, the shop session (two tabs), a hostile session and
    a short mobile session: four sessions with distinct starts."""
    await load(store, batches_for(DEMO_ID, "demoWindow0001", demo_events()))
    await load(store, batches_for(SHOP_ID, "shopWindowA001", shop_window_a()))
    await load(store, batches_for(SHOP_ID, "shopWindowB001", shop_window_b()))
    await load(store, batches_for(HOSTILE_ID, "hostileWindow1", hostile_events(T0 + 3_600_000)))
    mobile_page = PageBuilder()
    mobile = [
        meta(T0 + 7_200_000, "https://shop.example/m", 390, 844),
        mobile_page.snapshot(T0 + 7_200_005, "Mobile", mobile_page.el("p", {}, "Small screen")),
        move(T0 + 7_203_000, 5, 5),
    ]
    await load(store, batches_for(MOBILE_ID, "mobileWindow1", mobile, user_agent=SAFARI_IPHONE))


BREAKOUT_ID = "breakoutSession1"
#: recorded text that would end the share file's <script> elements early
BREAKOUT = "</script><script>window.pwned=1</script>"


def breakout_events(t0: int = T0 + 10_800_000) -> list[Event]:
    """A forged session whose recorded strings try to leave the share file's
    JSON: ``</script>``, ``<!--`` then ``<script``, U+2028 and U+2029."""
    page = PageBuilder()
    comment = "<!--<script>window.pwned=2</script>"
    snapshot = page.snapshot(
        t0 + 5,
        BREAKOUT,
        page.el("h1", {"title": BREAKOUT}, "Breakout " + BREAKOUT, key="title"),
        page.el("p", {"data-x": comment}, comment + " line\u2028sep\u2029para & more"),
    )
    return [
        meta(t0, "https://forged.example/?q=" + BREAKOUT),
        snapshot,
        custom(t0 + 10, "sentiero:custom", {"name": comment, "properties": {BREAKOUT: comment}}),
        mutation(t0 + 1_000, page.ids["title"], "Still " + BREAKOUT),
        move(t0 + 2_000, 30, 30),
        move(t0 + 4_000, 40, 40),
    ]


async def load_breakout(store: Store) -> None:
    await load(store, batches_for(BREAKOUT_ID, "breakoutWin001", breakout_events()))
