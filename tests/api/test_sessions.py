"""The sessions JSON API on the memory and the SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sentiero_core import Settings, create_app
from sentiero_core.security import csrf_token
from tests.dashboard.recordings import DEMO_ID, HOSTILE_ID, MOBILE_ID, SHOP_ID, load_all

ALL = [MOBILE_ID, HOSTILE_ID, SHOP_ID, DEMO_ID]


@pytest_asyncio.fixture(params=["memory", "sqlite"])
async def api(request: Any, tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'api.db'}"
    app = create_app(Settings(store_url=url, max_events_per_page=100))
    async with app.test_app() as test_app:
        await load_all(app.extensions["sentiero"].store)
        yield app, test_app.test_client()


async def get_json(client: Any, url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return await response.get_json()


@pytest.mark.asyncio
async def test_sessions_come_newest_first_with_summaries(api: tuple[Any, Any]) -> None:
    _app, client = api
    body = await get_json(client, "/sentiero/api/sessions")
    assert [s["session_id"] for s in body["sessions"]] == ALL
    assert body["next"] is None
    shop = body["sessions"][2]
    assert shop["windows"] == ["shopWindowA001", "shopWindowB001"]
    assert (shop["error_count"], shop["rage_click_count"], shop["dead_click_count"]) == (1, 1, 3)
    assert shop["user_id"] == "user-42"
    assert shop["duration_ms"] == 25_000
    assert shop["has_errors"] is True


@pytest.mark.asyncio
async def test_the_list_takes_the_page_filters(api: tuple[Any, Any]) -> None:
    _app, client = api
    body = await get_json(client, "/sentiero/api/sessions?errors=yes&event=signup")
    assert [s["session_id"] for s in body["sessions"]] == [SHOP_ID]
    body = await get_json(client, "/sentiero/api/sessions?device=mobile")
    assert [s["session_id"] for s in body["sessions"]] == [MOBILE_ID]


@pytest.mark.asyncio
async def test_the_cursor_walks_every_session_once(api: tuple[Any, Any]) -> None:
    _app, client = api
    seen: list[str] = []
    url = "/sentiero/api/sessions?limit=3"
    while url:
        body = await get_json(client, url)
        seen.extend(s["session_id"] for s in body["sessions"])
        url = f"/sentiero/api/sessions?limit=3&cursor={body['next']}" if body["next"] else ""
    assert seen == ALL


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("cursor=garbage", "invalid cursor"),
        ("min_duration=soon", "min_duration"),
        ("has_errors=1", "unknown parameter(s) has_errors"),
        ("limit=0", "limit"),
    ],
)
async def test_bad_queries_are_400_with_a_reason(
    api: tuple[Any, Any], query: str, reason: str
) -> None:
    _app, client = api
    body = await get_json(client, f"/sentiero/api/sessions?{query}", 400)
    assert reason in body["error"]


@pytest.mark.asyncio
async def test_limit_is_capped(api: tuple[Any, Any]) -> None:
    _app, client = api
    body = await get_json(client, "/sentiero/api/sessions?limit=999999")
    assert len(body["sessions"]) == 4
    events = await get_json(client, f"/sentiero/api/sessions/{DEMO_ID}/events?limit=5000")
    assert len(events["events"]) == 100  # max_events_per_page


@pytest.mark.asyncio
async def test_one_session_and_unknown_ones(api: tuple[Any, Any]) -> None:
    _app, client = api
    body = await get_json(client, f"/sentiero/api/sessions/{SHOP_ID}")
    assert body["session_id"] == SHOP_ID
    assert body["windows"] == ["shopWindowA001", "shopWindowB001"]
    missing = await get_json(client, "/sentiero/api/sessions/unknown123", 404)
    assert missing == {"error": "no session with id 'unknown123'"}
    await get_json(client, "/sentiero/api/sessions/unknown123/events", 404)


@pytest.mark.asyncio
async def test_events_page_in_order_until_next_is_null(api: tuple[Any, Any]) -> None:
    _app, client = api
    events: list[dict[str, Any]] = []
    pages = 0
    url = f"/sentiero/api/sessions/{DEMO_ID}/events"
    while url:
        body = await get_json(client, url)
        events.extend(body["events"])
        pages += 1
        nxt = body["next"]
        url = f"/sentiero/api/sessions/{DEMO_ID}/events?cursor={nxt}" if nxt else ""
    assert pages == 3
    assert len(events) == 272
    times = [e["timestamp"] for e in events]
    assert times == sorted(times)
    bad = await get_json(client, f"/sentiero/api/sessions/{DEMO_ID}/events?cursor=xyz", 400)
    assert "invalid cursor" in bad["error"]


@pytest.mark.asyncio
async def test_events_of_one_window(api: tuple[Any, Any]) -> None:
    _app, client = api
    body = await get_json(client, f"/sentiero/api/sessions/{SHOP_ID}/events?window=shopWindowB001")
    assert [e["data"].get("href") for e in body["events"] if e["type"] == 4] == [
        "https://shop.example/help"
    ]
    both = await get_json(client, f"/sentiero/api/sessions/{SHOP_ID}/events")
    assert len(both["events"]) > len(body["events"])


@pytest.mark.asyncio
async def test_delete_answers_204_then_404(api: tuple[Any, Any]) -> None:
    _app, client = api
    response = await client.delete(f"/sentiero/api/sessions/{SHOP_ID}")
    assert response.status_code == 204
    await get_json(client, f"/sentiero/api/sessions/{SHOP_ID}", 404)
    again = await client.delete(f"/sentiero/api/sessions/{SHOP_ID}")
    assert again.status_code == 404


@pytest.mark.asyncio
async def test_browser_deletes_need_the_csrf_header(api: tuple[Any, Any]) -> None:
    app, client = api
    browser = {"Origin": "http://localhost", "Cookie": "session=1"}
    refused = await client.delete(f"/sentiero/api/sessions/{DEMO_ID}", headers=browser)
    assert refused.status_code == 403
    assert "CSRF" in (await refused.get_json())["error"]
    browser["Cookie"] += "; sentiero_csrf=this-browser"
    async with app.test_request_context("/", headers={"Cookie": browser["Cookie"]}):
        token = csrf_token("sentiero.api_session_delete")
        elsewhere = csrf_token("sentiero.session_delete")
    wrong_action = await client.delete(
        f"/sentiero/api/sessions/{DEMO_ID}", headers={**browser, "X-CSRF-Token": elsewhere}
    )
    assert wrong_action.status_code == 403
    done = await client.delete(
        f"/sentiero/api/sessions/{DEMO_ID}", headers={**browser, "X-CSRF-Token": token}
    )
    assert done.status_code == 204


@pytest.mark.asyncio
async def test_recorded_strings_come_back_as_json_strings(api: tuple[Any, Any]) -> None:
    _app, client = api
    body = await get_json(client, f"/sentiero/api/sessions/{HOSTILE_ID}")
    assert body["user_id"].startswith('"><script>')
