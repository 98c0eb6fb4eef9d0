"""The replay page's policies: which origins a replay may load from."""

from __future__ import annotations

import pytest
from quart import Quart

from sentiero_core import Settings
from sentiero_core.dashboard.replay_policy import (
    MAX_RECORDED_ORIGINS,
    recorded_origins,
    replay_headers,
    url_origin,
)
from sentiero_core.security import DASHBOARD_CSP, relative_location
from sentiero_core.store import SessionSummary
from tests.dashboard.conftest import dashboard
from tests.dashboard.recordings import SHOP_ID


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Shop.Example/cart?x=1#y", "https://shop.example"),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080"),
        ("http://[::1]:9/", "http://[::1]:9"),
        ("https://user:pw@h.example:443/", "https://h.example:443"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("https://a;b/", None),
        ("https://evil.example'; script-src *", None),
        ("https://a b/", None),
        ("http://h.example:99999/", None),
        ("https://*.example/", None),
        ("", None),
        (None, None),
    ],
)
def test_url_origin_is_safe_inside_a_header(url: str | None, origin: str | None) -> None:
    assert url_origin(url) == origin


def summary(*pages: str) -> SessionSummary:
    return SessionSummary(
        session_id="s1", started_at=0, ended_at=1, entry_url=pages[0], pages=list(pages)
    )


def test_recorded_origins_are_unique_in_order_and_capped() -> None:
    s = summary("https://b.example/1", "https://a.example/", "https://b.example/2", "bogus")
    assert recorded_origins(s) == ["https://b.example", "https://a.example"]
    many = summary(*[f"https://h{i}.example/" for i in range(MAX_RECORDED_ORIGINS + 30)])
    assert len(recorded_origins(many)) == MAX_RECORDED_ORIGINS


def test_replay_headers_add_the_allowlist_and_the_recorded_origins() -> None:
    s = summary("https://shop.example/cart")
    headers = replay_headers(Settings(replay_resource_origins=["https://cdn.example"]), s)
    assert headers["Referrer-Policy"] == "no-referrer"
    policy = headers["Content-Security-Policy"]
    for directive in ("img-src 'self' data: blob:", "font-src 'self' data:"):
        assert f"{directive} https://cdn.example https://shop.example;" in policy
    assert "style-src 'self' 'unsafe-inline' https://cdn.example https://shop.example;" in policy
    assert "script-src 'self';" in policy and "http:" not in policy.replace("https:", "")
    closed = replay_headers(Settings(replay_recorded_origins=False), s)
    assert closed["Content-Security-Policy"] == DASHBOARD_CSP


@pytest.mark.asyncio
async def test_the_session_page_sends_its_policies_and_other_pages_the_default() -> None:
    async with dashboard() as (_app, client, store):
        page = await client.get(f"/sentiero/sessions/{SHOP_ID}")
        shop = await store.get_session(SHOP_ID)
        assert shop is not None and shop.pages
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert url_origin(shop.pages[0]) in page.headers["Content-Security-Policy"]
        listing = await client.get("/sentiero/")
        assert listing.headers["Content-Security-Policy"] == DASHBOARD_CSP
        assert listing.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://localhost/sentiero/", "/sentiero/"),
        ("http://LOCALHOST/x?y=1", "/x?y=1"),
        ("http://localhost//evil.example/x", "/evil.example/x"),
        ("http://localhost/\\evil.example", "/evil.example"),
        ("https://elsewhere.example/", "https://elsewhere.example/"),
        ("/already/relative", "/already/relative"),
    ],
)
async def test_relative_location_drops_only_this_requests_host(
    location: str, expected: str
) -> None:
    app = Quart(__name__)
    async with app.test_request_context("/", headers={"Host": "localhost"}):
        response = await app.make_response(("", 302, {"Location": location}))
        assert relative_location(response).headers["Location"] == expected
