"""A planted recording cannot make the dashboard's browser call another host.

Three loopback origins: the dashboard, a "recorded" site (the origin of the
pages the session says it recorded) and a "beacon" host that the recording
also points at. Both sites log every request they receive. Opening the
replay must fetch from the recorded site only, without a ``Referer``, and
never from the beacon host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest

from sentiero_core import Settings, create_app
from tests.dashboard.recordings import PageBuilder, meta
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

T0 = 1_700_000_000_000
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)
#: what the recording's elements load from the recorded site, one of them
#: with referrerpolicy="unsafe-url" and the page with <meta name="referrer">
ELEMENT_LOADS = {
    "/site-link.css",
    "/site-import.css",
    "/site-img.png",
    "/site-srcset.png",
    "/site-unsafe-url.png",
    "/site-poster.png",
    "/site-svg.png",
}
CONTENT_TYPES = {".png": "image/png", ".css": "text/css", ".woff2": "font/woff2"}


class SiteLog:
    """A tiny HTTP server on its own loopback port that logs each request's
    path and headers and answers with a small image, stylesheet or font."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        log = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                log.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                suffix = "." + self.path.rsplit(".", 1)[-1] if "." in self.path else ""
                body = PNG if suffix == ".png" else b"p{color:#333}" if suffix == ".css" else b""
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPES.get(suffix, "text/plain"))
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SiteLog:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]


def planted_page(site: str, beacon: str) -> list[dict[str, Any]]:
    """A Meta event naming ``site`` and a snapshot whose every kind of
    resource points at ``site`` and at ``beacon``."""
    b = PageBuilder()

    def svg(node: dict[str, Any]) -> dict[str, Any]:
        return {**node, "isSVG": True}

    def style(css: str) -> dict[str, Any]:
        node = b.el("style", {}, css)
        node["childNodes"][0]["isStyle"] = True
        return node

    def resources(host: str, tag: str) -> list[dict[str, Any]]:
        return [
            b.el("img", {"src": f"{host}/{tag}-img.png", "width": "20", "height": "20"}),
            b.el("img", {"srcset": f"{host}/{tag}-srcset.png 1x", "width": "20"}),
            b.el("img", {"src": f"{host}/{tag}-unsafe-url.png", "referrerpolicy": "unsafe-url"}),
            b.el("video", {"poster": f"{host}/{tag}-poster.png", "width": "20"}),
            b.el("div", {"class": f"{tag}-bg"}, "background"),
            b.el("div", {"style": f"background-image:url({host}/{tag}-inline-bg.png)"}, "inline"),
            b.el("p", {"class": f"{tag}-font"}, "a font"),
            svg(
                b.el("svg", {"width": "20"}, svg(b.el("image", {"href": f"{host}/{tag}-svg.png"})))
            ),
        ]

    def css(host: str, tag: str) -> str:
        return (
            f"@import url({host}/{tag}-import.css);"
            f"@font-face{{font-family:{tag}font;src:url({host}/{tag}-font.woff2)}}"
            f".{tag}-font{{font-family:{tag}font}}"
            f".{tag}-bg{{width:20px;height:20px;background-image:url({host}/{tag}-bg.png)}}"
        )

    snapshot = b.snapshot(
        T0 + 10, "Planted", *resources(site, "site"), *resources(beacon, "beacon")
    )
    head = snapshot["data"]["node"]["childNodes"][1]["childNodes"][0]
    head["childNodes"] = [
        b.el("meta", {"name": "referrer", "content": "unsafe-url"}),
        *head["childNodes"],
        b.el("link", {"rel": "stylesheet", "href": f"{site}/site-link.css"}),
        b.el("link", {"rel": "stylesheet", "href": f"{beacon}/beacon-link.css"}),
        b.el("link", {"rel": "prefetch", "href": f"{beacon}/beacon-prefetch.css"}),
        b.el("link", {"rel": "preconnect", "href": beacon}),
        style(css(site, "site") + css(beacon, "beacon")),
    ]
    return [meta(T0, f"{site}/shop/"), snapshot, meta(T0 + 5_000, f"{site}/shop/cart")]


def plant(dashboard: str, session_id: str, events: list[dict[str, Any]]) -> None:
    """Through the public ingest API, as anyone on the internet could."""
    envelope = {
        "v": 1,
        "session_id": session_id,
        "window_id": "win_planted_01234",
        "seq": 1,
        "sent_at": T0 + 6_000,
        "dropped": 0,
        "events": events,
    }
    response = httpx.post(
        dashboard + "/sentiero/events",
        content=orjson.dumps(envelope),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 300, response.text


@pytest.fixture()
def sites() -> Iterator[tuple[SiteLog, SiteLog]]:
    with SiteLog() as site, SiteLog() as beacon:
        yield site, beacon


def watch_replay(browser: Any, url: str, site: SiteLog) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(url)
        tab.wait_for_selector("body[data-replay-loaded]")
        # the recorded site's resources arrive: the frame was rebuilt and rendered
        deadline = time.monotonic() + 10
        wanted = {"/site-img.png", "/site-link.css", "/site-bg.png", "/site-font.woff2"}
        while not wanted <= set(site.paths()) and time.monotonic() < deadline:
            tab.wait_for_timeout(100)
        assert wanted <= set(site.paths()), site.paths()
        tab.wait_for_timeout(1_000)  # time for any stragglers
    finally:
        context.close()


def test_a_replay_loads_only_from_the_recorded_origin_and_sends_no_referrer(
    browser: Any, sites: tuple[SiteLog, SiteLog]
) -> None:
    site, beacon = sites
    app = create_app(Settings(store_url="memory://"))
    with LiveServer(app) as dashboard:
        plant(dashboard.url, "sess_planted_0123456", planted_page(site.url, beacon.url))
        page = f"{dashboard.url}/sentiero/sessions/sess_planted_0123456"
        headers = httpx.get(page).headers
        watch_replay(browser, page, site)
    assert beacon.requests == []
    assert {"/site-svg.png", "/site-inline-bg.png", "/site-import.css"} <= set(site.paths())
    referrers = {path: headers.get("referer") for path, headers in site.requests}
    # what elements load (images, posters, SVG images, stylesheets) tells nothing
    for path in ELEMENT_LOADS:
        assert referrers[path] is None, (path, referrers[path])
    # Chromium 156 sends the document's origin (never its path) with what CSS
    # loads, whatever the Referrer-Policy (a plain page behaves the same)
    for path in set(referrers) - ELEMENT_LOADS:
        assert referrers[path] in (None, dashboard.url + "/"), (path, referrers[path])
    assert headers["Referrer-Policy"] == "no-referrer"
    policy = headers["Content-Security-Policy"]
    assert f"img-src 'self' data: blob: {site.url};" in policy
    assert beacon.url not in policy


def test_only_the_allowlist_when_recorded_origins_are_not_trusted(
    browser: Any, sites: tuple[SiteLog, SiteLog]
) -> None:
    """Ensure that with ``replay_recorded_origins`` off a planted session
    reaches no host at all, and an origin in ``replay_resource_origins``
    serves its resources."""
    site, beacon = sites
    app = create_app(
        Settings(
            store_url="memory://",
            replay_recorded_origins=False,
            replay_resource_origins=[site.url],
        )
    )
    with LiveServer(app) as dashboard:
        # the session claims to come from the beacon host: not trusted now
        plant(dashboard.url, "sess_planted_6543210", planted_page(beacon.url, site.url))
        page = f"{dashboard.url}/sentiero/sessions/sess_planted_6543210"
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(page)
            tab.wait_for_selector("body[data-replay-loaded]")
            deadline = time.monotonic() + 10
            while "/beacon-img.png" not in site.paths() and time.monotonic() < deadline:
                tab.wait_for_timeout(100)
            tab.wait_for_timeout(1_000)
        finally:
            context.close()
    assert "/beacon-img.png" in site.paths()  # the allowlisted origin, by its tag
    assert beacon.requests == []
