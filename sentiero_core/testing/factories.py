"""Builders for rrweb events and batches, for store tests.

``make_batch`` digests events exactly as the ingest path does, so a store
under test receives what it would receive in production. Event builders
return plain rrweb-shaped dicts; ``realistic_events`` produces a page's worth
of recording (a DOM snapshot, mouse trails, scrolls, mutations, clicks) that
compresses the way real recordings do.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from ..events import (
    CLICK,
    CUSTOM,
    FULL_SNAPSHOT,
    INCREMENTAL,
    META,
    MOUSE_DOWN,
    MOUSE_UP,
    SOURCE_INPUT,
    SOURCE_MOUSE_INTERACTION,
    SOURCE_MOUSE_MOVE,
    SOURCE_MUTATION,
    SOURCE_SCROLL,
    TAG_CUSTOM,
    TAG_ERROR,
    TAG_FORM_SUBMIT,
    TAG_IDENTIFY,
    TAG_META,
)
from ..store import Batch, Event, RequestMeta, digest_events

#: A fixed epoch for test recordings (2023-11-14T22:13:20Z), in ms.
T0 = 1_700_000_000_000

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def make_batch(
    session_id: str,
    window_id: str,
    events: list[Event],
    *,
    received_at: int | None = None,
    user_agent: str | None = None,
    ip: str | None = None,
    dropped_events: int = 0,
    seq: int | None = None,
) -> Batch:
    """A :class:`Batch` as the ingest path hands it to a store: the digest is
    computed by :func:`sentiero_core.store.digest_events` and ``raw_bytes`` is
    the size of the events as compact JSON. ``received_at`` defaults to the
    batch's last timestamp; ``seq`` is the recorder's batch number."""
    times = [e["timestamp"] for e in events if isinstance(e.get("timestamp"), int)]
    if received_at is None:
        received_at = max(times) if times else T0
    digest = digest_events(
        window_id,
        events,
        raw_bytes=len(orjson.dumps(events)),
        ip=ip,
        user_agent=user_agent,
        dropped_events=dropped_events,
    )
    return Batch(
        session_id=session_id,
        window_id=window_id,
        events=events,
        meta=RequestMeta(received_at=received_at, ip=ip, user_agent=user_agent),
        digest=digest,
        seq=seq,
    )


# -- single events ---------------------------------------------------------


def meta(ts: int, href: str, width: int = 1280, height: int = 720) -> Event:
    """rrweb's Meta event: a page view."""
    return {"type": META, "data": {"href": href, "width": width, "height": height}, "timestamp": ts}


def full_snapshot(ts: int, title: str = "Page") -> Event:
    """A minimal FullSnapshot (``realistic_events`` builds a large one)."""
    return {
        "type": FULL_SNAPSHOT,
        "data": {
            "node": _document([_text_node(10, title)]),
            "initialOffset": {"left": 0, "top": 0},
        },
        "timestamp": ts,
    }


def text_mutation(ts: int, label: str, node_id: int = 1) -> Event:
    """A text-change mutation carrying ``label``: handy to tell events apart."""
    return {
        "type": INCREMENTAL,
        "data": {
            "source": SOURCE_MUTATION,
            "texts": [{"id": node_id, "value": label}],
            "attributes": [],
            "removes": [],
            "adds": [],
        },
        "timestamp": ts,
    }


def mouse_move(ts: int, x: int, y: int, node_id: int = 1) -> Event:
    return {
        "type": INCREMENTAL,
        "data": {
            "source": SOURCE_MOUSE_MOVE,
            "positions": [{"x": x, "y": y, "id": node_id, "timeOffset": 0}],
        },
        "timestamp": ts,
    }


def click(ts: int, x: int = 100, y: int = 100, node_id: int = 1) -> Event:
    return {
        "type": INCREMENTAL,
        "data": {"source": SOURCE_MOUSE_INTERACTION, "type": CLICK, "id": node_id, "x": x, "y": y},
        "timestamp": ts,
    }


def input_change(ts: int, text: str = "***", node_id: int = 1) -> Event:
    return {
        "type": INCREMENTAL,
        "data": {"source": SOURCE_INPUT, "text": text, "isChecked": False, "id": node_id},
        "timestamp": ts,
    }


def custom(ts: int, tag: str, payload: dict[str, Any]) -> Event:
    """A Custom event (type 5) with ``data = {"tag", "payload"}``."""
    return {"type": CUSTOM, "data": {"tag": tag, "payload": payload}, "timestamp": ts}


def error(ts: int, message: str = "TypeError: x is undefined") -> Event:
    return custom(
        ts,
        TAG_ERROR,
        {
            "kind": "error",
            "message": message,
            "source": "app.js",
            "line": 1,
            "column": 1,
            "stack": "",
        },
    )


def identify(ts: int, user_id: str, traits: dict[str, Any] | None = None) -> Event:
    return custom(ts, TAG_IDENTIFY, {"user_id": user_id, "traits": traits or {}})


def track(ts: int, name: str, properties: dict[str, Any] | None = None) -> Event:
    return custom(ts, TAG_CUSTOM, {"name": name, "properties": properties or {}})


def form_submit(ts: int, form_id: str = "signup", url: str = "https://shop.example/") -> Event:
    return custom(
        ts,
        TAG_FORM_SUBMIT,
        {"form_id": form_id, "form_name": form_id, "action": "/submit", "url": url},
    )


def page_meta(
    ts: int, url: str, referrer: str | None = None, width: int = 1280, height: int = 720
) -> Event:
    """Our recorder's page-metadata event (URL, referrer, viewport)."""
    return custom(
        ts,
        TAG_META,
        {
            "url": url,
            "referrer": referrer,
            "title": "Page",
            "viewport": {"width": width, "height": height},
        },
    )


def labelled(start: int, labels: list[str], step: int = 10) -> list[Event]:
    """One ``text_mutation`` per label, ``step`` ms apart from ``start``."""
    return [text_mutation(start + i * step, label) for i, label in enumerate(labels)]


# -- a realistic page recording ---------------------------------------------


def _text_node(node_id: int, text: str) -> dict[str, Any]:
    return {"type": 3, "textContent": text, "id": node_id}


def _element(
    node_id: int, tag: str, attrs: dict[str, str], children: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": node_id}


def _document(body_children: list[dict[str, Any]]) -> dict[str, Any]:
    head = _element(
        3,
        "head",
        {},
        [
            _element(4, "meta", {"charset": "UTF-8"}, []),
            _element(5, "title", {}, [_text_node(6, "Shop")]),
        ],
    )
    body = _element(7, "body", {"class": "page"}, body_children)
    html = _element(2, "html", {"lang": "en"}, [head, body])
    doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 1}
    return {"type": 0, "childNodes": [doctype, html], "id": 0}


_WORDS = (
    "linen",
    "shirt",
    "organic",
    "cotton",
    "blue",
    "classic",
    "fit",
    "summer",
    "jacket",
    "wool",
    "denim",
    "slim",
    "casual",
    "sale",
    "new",
    "arrival",
)


def _shop_dom(rng: random.Random, cards: int) -> tuple[list[dict[str, Any]], list[int]]:
    """A product grid; returns (body children, ids of clickable buttons)."""
    next_id = 100
    buttons: list[int] = []

    def nid() -> int:
        nonlocal next_id
        next_id += 1
        return next_id

    nav = _element(
        nid(),
        "nav",
        {"class": "navbar navbar-expand"},
        [
            _element(nid(), "a", {"href": f"/c/{w}", "class": "nav-link"}, [_text_node(nid(), w)])
            for w in _WORDS[:8]
        ],
    )
    grid = []
    for _ in range(cards):
        name = " ".join(rng.choice(_WORDS) for _ in range(3)).title()
        button_id = nid()
        buttons.append(button_id)
        grid.append(
            _element(
                nid(),
                "div",
                {"class": "card product-card col-md-4"},
                [
                    _element(
                        nid(),
                        "img",
                        {
                            "src": f"/img/{rng.randrange(10_000)}.jpg",
                            "alt": name,
                            "loading": "lazy",
                            "width": "320",
                            "height": "240",
                        },
                        [],
                    ),
                    _element(nid(), "h3", {"class": "card-title"}, [_text_node(nid(), name)]),
                    _element(
                        nid(),
                        "p",
                        {"class": "price"},
                        [
                            _text_node(
                                nid(), f"{rng.randrange(10, 200)}.{rng.randrange(100):02d} EUR"
                            )
                        ],
                    ),
                    _element(
                        button_id,
                        "button",
                        {"class": "btn btn-primary add-to-cart", "type": "button"},
                        [_text_node(nid(), "Add to cart")],
                    ),
                ],
            )
        )
    main = _element(
        nid(),
        "main",
        {"class": "container"},
        [_element(nid(), "div", {"class": "row product-grid"}, grid)],
    )
    footer = _element(
        nid(),
        "footer",
        {"class": "footer"},
        [_text_node(nid(), "Shop example, all rights reserved")],
    )
    return [nav, main, footer], buttons


def realistic_events(
    start: int = T0, count: int = 200, *, seed: int = 0, href: str = "https://shop.example/catalog"
) -> list[Event]:
    """About a minute of one page: Meta, a ~40 KB FullSnapshot, then mouse
    trails, scrolls, style and text mutations, clicks and inputs (roughly the
    mix and size of a real rrweb recording). Deterministic for a ``seed``."""
    rng = random.Random(seed)
    body, buttons = _shop_dom(rng, cards=36)
    events: list[Event] = [
        meta(start, href, 1366, 768),
        {
            "type": FULL_SNAPSHOT,
            "data": {"node": _document(body), "initialOffset": {"left": 0, "top": 0}},
            "timestamp": start + 12,
        },
    ]
    ts = start + 40
    x, y, scroll_y = 600, 300, 0
    while len(events) < count:
        ts += rng.randrange(40, 600)
        kind = rng.random()
        if kind < 0.45:
            positions = []
            for k in range(rng.randrange(3, 9)):
                x = max(0, min(1366, x + rng.randrange(-60, 61)))
                y = max(0, min(768, y + rng.randrange(-40, 41)))
                positions.append(
                    {"x": x, "y": y, "id": rng.choice(buttons), "timeOffset": -50 * (8 - k)}
                )
            events.append(
                {
                    "type": INCREMENTAL,
                    "data": {"source": SOURCE_MOUSE_MOVE, "positions": positions},
                    "timestamp": ts,
                }
            )
        elif kind < 0.6:
            scroll_y = max(0, scroll_y + rng.randrange(-200, 400))
            events.append(
                {
                    "type": INCREMENTAL,
                    "data": {"source": SOURCE_SCROLL, "id": 1, "x": 0, "y": scroll_y},
                    "timestamp": ts,
                }
            )
        elif kind < 0.85:
            node = rng.choice(buttons)
            style = rng.choice(["", "opacity: 0.5;", "visibility: hidden;", "transform: none;"])
            events.append(
                {
                    "type": INCREMENTAL,
                    "data": {
                        "source": SOURCE_MUTATION,
                        "texts": [],
                        "attributes": [{"id": node, "attributes": {"style": style}}],
                        "removes": [],
                        "adds": [],
                    },
                    "timestamp": ts,
                }
            )
        elif kind < 0.95:
            node = rng.choice(buttons)
            for offset, action in ((0, MOUSE_DOWN), (80, MOUSE_UP), (81, CLICK)):
                events.append(
                    {
                        "type": INCREMENTAL,
                        "data": {
                            "source": SOURCE_MOUSE_INTERACTION,
                            "type": action,
                            "id": node,
                            "x": x,
                            "y": y,
                        },
                        "timestamp": ts + offset,
                    }
                )
            ts += 81
        else:
            events.append(input_change(ts, "*" * rng.randrange(1, 12), rng.choice(buttons)))
    return events[:count]
