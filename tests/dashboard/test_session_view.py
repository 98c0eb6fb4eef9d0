"""The session page, its export and deletion, over HTTP inside the process."""

from __future__ import annotations

import html as html_lib
import json
import re
from typing import Any

import pytest

from sentiero_core.store import digest
from tests.dashboard.conftest import dashboard
from tests.dashboard.recordings import DEMO_ID, HOSTILE_ID, SHOP_ID

CONFIG = re.compile(
    r'<script type="application/json" id="sentiero-player-config">(.*?)</script>', re.S
)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def player_config(page: str) -> dict[str, Any]:
    match = CONFIG.search(page)
    assert match, "the page embeds the player's configuration"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


async def get(client: Any, url: str) -> tuple[int, str, Any]:
    response = await client.get(url)
    return response.status_code, await response.get_data(as_text=True), response


@pytest.mark.asyncio
async def test_the_page_hands_the_player_its_configuration() -> None:
    async with dashboard(max_events_per_page=321) as (_app, client, _store):
        status, page, response = await get(client, f"/sentiero/sessions/{DEMO_ID}")
    assert status == 200
    config = player_config(page)
    assert config["sessionId"] == DEMO_ID
    assert config["windowId"] == "demoWindow0001"
    assert config["eventsUrl"] == f"/sentiero/api/sessions/{DEMO_ID}/events"
    assert config["pageSize"] == 321
    assert config["eventCount"] == 272
    assert config["startAt"] is None
    assert config["thresholds"] == {
        "rageClicks": digest.RAGE_CLICKS,
        "rageWindowMs": digest.RAGE_WINDOW_MS,
        "rageRadiusPx": digest.RAGE_RADIUS_PX,
        "deadClickWaitMs": digest.DEAD_CLICK_WAIT_MS,
        "activeGapCapMs": digest.ACTIVE_GAP_CAP_MS,
    }
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "/-/static/player.js?v=" in page


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("t", "start"), [("12.5", 12.5), ("0", 0.0), ("abc", None), ("-3", None), ("inf", None)]
)
async def test_t_sets_the_start_offset(t: str, start: float | None) -> None:
    async with dashboard() as (_app, client, _store):
        _status, page, _response = await get(client, f"/sentiero/sessions/{DEMO_ID}?t={t}")
    assert player_config(page)["startAt"] == start


@pytest.mark.asyncio
async def test_each_window_is_a_tab() -> None:
    async with dashboard() as (_app, client, _store):
        _status, page, _response = await get(client, f"/sentiero/sessions/{SHOP_ID}")
        tabs = re.findall(r'<a href="([^"]+)"( aria-current="page")? title="Window', page)
        assert [bool(current) for _url, current in tabs] == [True, False]
        assert player_config(page)["windowId"] == "shopWindowA001"
        assert player_config(page)["eventCount"] is None  # per window, unknown
        second = html_lib.unescape(tabs[1][0])
        _status, page_b, _response = await get(client, second)
        assert player_config(page_b)["windowId"] == "shopWindowB001"
        status, _page, _response = await get(client, f"/sentiero/sessions/{SHOP_ID}?window=nope")
        assert status == 404


@pytest.mark.asyncio
async def test_an_unknown_session_is_a_404_page() -> None:
    async with dashboard() as (_app, client, _store):
        status, page, _response = await get(client, "/sentiero/sessions/doesNotExist1")
    assert status == 404
    assert "There is no session with the id &#39;doesNotExist1&#39;" in page


@pytest.mark.asyncio
async def test_recorded_values_are_escaped_in_the_page() -> None:
    async with dashboard() as (_app, client, _store):
        _status, page, _response = await get(client, f"/sentiero/sessions/{HOSTILE_ID}")
        _status, listing, _response = await get(client, "/sentiero/")
    for html in (page, listing):
        assert "<img src=x" not in html
        assert "<script>window.__xss" not in html
    assert "&lt;img src=x onerror=" in page  # shown, as text
    # the embedded JSON cannot close its <script> element
    raw_config = CONFIG.search(page)
    assert raw_config and "</script>" not in raw_config.group(1)
    assert player_config(page)["sessionId"] == HOSTILE_ID


@pytest.mark.asyncio
async def test_export_streams_the_summary_and_every_event() -> None:
    async with dashboard() as (_app, client, store):
        status, body, response = await get(client, f"/sentiero/sessions/{SHOP_ID}/export.json")
        summary = await store.get_session(SHOP_ID)
    assert status == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="session-{SHOP_ID}.json"'
    )
    exported = json.loads(body)
    assert exported["session"]["session_id"] == SHOP_ID
    assert exported["session"]["windows"] == ["shopWindowA001", "shopWindowB001"]
    times = [e["timestamp"] for e in exported["events"]]
    assert len(times) == summary.event_count
    assert times == sorted(times)


@pytest.mark.asyncio
async def test_export_of_an_unknown_session_is_a_404() -> None:
    async with dashboard() as (_app, client, _store):
        status, _body, _response = await get(client, "/sentiero/sessions/nope12345/export.json")
    assert status == 404


@pytest.mark.asyncio
async def test_delete_needs_the_csrf_token_then_returns_to_the_list() -> None:
    async with dashboard() as (_app, client, store):
        _status, page, _response = await get(client, f"/sentiero/sessions/{DEMO_ID}")
        token = TOKEN.search(page)
        assert token
        url = f"/sentiero/sessions/{DEMO_ID}/delete"
        browser = {"Origin": "http://localhost", "Cookie": "a=b"}
        refused = await client.post(url, form={"csrf_token": "forged"}, headers=browser)
        assert refused.status_code == 403
        assert await store.get_session(DEMO_ID) is not None
        done = await client.post(url, form={"csrf_token": token.group(1)}, headers=browser)
        assert done.status_code == 303
        assert done.headers["Location"] == "/sentiero/?deleted=1"
        assert await store.get_session(DEMO_ID) is None
        _status, listing, _response = await get(client, "/sentiero/?deleted=1")
        assert "The session was deleted." in listing
        again = await client.post(url, form={"csrf_token": token.group(1)}, headers=browser)
        assert again.status_code == 404


@pytest.mark.asyncio
async def test_links_respect_the_asgi_root_path() -> None:
    async with dashboard() as (_app, client, _store):
        response = await client.get(f"/outer/sentiero/sessions/{DEMO_ID}", root_path="/outer")
        page = await response.get_data(as_text=True)
    config = player_config(page)
    assert config["eventsUrl"] == f"/outer/sentiero/api/sessions/{DEMO_ID}/events"
    links = re.findall(r'(?:href|src|action)="(/[^"]*)"', page)
    assert links and all(link.startswith("/outer/sentiero/") for link in links), links
