"""The sessions list page, over HTTP inside the process."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dashboard.conftest import dashboard
from tests.dashboard.recordings import DEMO_ID, HOSTILE_ID, MOBILE_ID, SHOP_ID


def ids_in(html: str) -> list[str]:
    return re.findall(r'data-session-id="([^"]+)"', html)


def row_of(html: str, session_id: str) -> str:
    match = re.search(rf'<tr data-session-id="{session_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {session_id}"
    return match.group(1)


def cell(row: str, css_class: str) -> str:
    match = re.search(rf'<td[^>]*class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</td>', row, re.S)
    assert match, f"no {css_class} cell"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def get(client: Any, url: str) -> tuple[int, str]:
    response = await client.get(url)
    return response.status_code, await response.get_data(as_text=True)


@pytest.mark.asyncio
async def test_newest_sessions_come_first() -> None:
    async with dashboard() as (_app, client, _store):
        status, html = await get(client, "/sentiero/")
    assert status == 200
    assert ids_in(html) == [MOBILE_ID, HOSTILE_ID, SHOP_ID, DEMO_ID]


@pytest.mark.asyncio
async def test_a_row_shows_the_summary_columns() -> None:
    async with dashboard() as (_app, client, _store):
        _status, html = await get(client, "/sentiero/")
    shop = row_of(html, SHOP_ID)
    assert cell(shop, "duration") == "25s"
    assert cell(shop, "pages") == "3"
    assert cell(shop, "events") == "28"
    assert cell(shop, "url") == "shop.example/"
    assert cell(shop, "platform") == "Chrome · macOS · desktop"
    assert cell(shop, "user") == "user-42"
    assert cell(shop, "badges") == "1 error 1 rage 3 dead"
    assert "2 tabs" in shop
    demo = row_of(html, DEMO_ID)
    assert cell(demo, "duration") == "1m 21s"
    assert cell(demo, "events") == "272"
    assert cell(demo, "badges") == ""
    assert "tabs" not in demo


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("errors=yes", [HOSTILE_ID, SHOP_ID]),
        ("errors=no", [MOBILE_ID, DEMO_ID]),
        ("url=checkout", [SHOP_ID]),
        ("url=demoit", [DEMO_ID]),
        ("min_duration=60", [DEMO_ID]),
        ("user=user-42", [SHOP_ID]),
        ("event=signup", [SHOP_ID]),
        ("device=mobile", [MOBILE_ID]),
        ("browser=safari", [MOBILE_ID]),
        ("from=2023-11-14T23:00&to=2023-11-15", [MOBILE_ID, HOSTILE_ID]),
        ("errors=yes&url=evil", [HOSTILE_ID]),
    ],
)
async def test_filters_narrow_the_list(query: str, expected: list[str]) -> None:
    async with dashboard() as (_app, client, _store):
        status, html = await get(client, f"/sentiero/?{query}")
    assert status == 200
    assert ids_in(html) == expected


@pytest.mark.asyncio
async def test_filters_stay_in_the_form() -> None:
    async with dashboard() as (_app, client, _store):
        _status, html = await get(client, "/sentiero/?url=checkout&errors=yes&min_duration=5s")
    assert 'name="url" value="checkout"' in html
    assert 'name="min_duration" value="5s"' in html
    assert '<option value="yes" selected>' in html
    assert "Clear filters" in html


@pytest.mark.asyncio
async def test_no_match_says_so() -> None:
    async with dashboard() as (_app, client, _store):
        status, html = await get(client, "/sentiero/?user=nobody")
    assert status == 200
    assert "No sessions match these filters." in html
    assert ids_in(html) == []


@pytest.mark.asyncio
async def test_an_empty_store_says_so() -> None:
    from sentiero_core import Settings, create_app

    app = create_app(Settings(store_url="memory://"))
    async with app.test_app() as test_app:
        status, html = await get(test_app.test_client(), "/sentiero/")
    assert status == 200
    assert "No sessions have been recorded yet." in html


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_duration=forever", "min_duration: expected seconds"),
        ("from=tuesday", "from: expected a date"),
        ("errors=perhaps", "errors: expected yes or no"),
        ("cursor=not-a-cursor", "This page link is not valid any more"),
    ],
)
async def test_bad_values_get_a_message_not_a_crash(query: str, message: str) -> None:
    async with dashboard() as (_app, client, _store):
        status, html = await get(client, f"/sentiero/?{query}")
    assert status == 400
    assert message in html
    assert 'role="alert"' in html


@pytest.mark.asyncio
async def test_pages_follow_the_cursor_and_keep_the_filters() -> None:
    async with dashboard() as (_app, client, _store):
        _status, first = await get(client, "/sentiero/?limit=2&errors=no")
        assert ids_in(first) == [MOBILE_ID, DEMO_ID]
        _status, html = await get(client, "/sentiero/?limit=1&errors=no")
        assert ids_in(html) == [MOBILE_ID]
        next_url = re.search(r'href="([^"]+)" id="next"', html)
        assert next_url
        url = next_url.group(1).replace("&amp;", "&")
        assert "errors=no" in url and "cursor=" in url
        assert "limit=1" in url
        _status, second = await get(client, url)
        assert ids_in(second) == [DEMO_ID]
        assert 'id="newest"' in second
        assert 'id="next"' not in second


@pytest.mark.asyncio
async def test_navigation_comes_from_the_panels() -> None:
    async with dashboard() as (_app, client, _store):
        _status, html = await get(client, "/sentiero/")
    nav = re.search(r'<nav aria-label="Dashboard">(.*?)</nav>', html, re.S)
    assert nav
    assert '<a href="/sentiero/" aria-current="page">Sessions</a>' in nav.group(1)
