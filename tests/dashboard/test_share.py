"""Shareable replays over HTTP inside the process: the share file's parts,
its escaping, its cap, the import page, the setting, auth and the audit."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from sentiero_core import Settings, SettingsError, create_app
from sentiero_core.audit import ACTIONS, REPLAY_IMPORT_OPENED, SESSION_SHARED
from sentiero_core.dashboard.share_file import escape_json, share_filename
from tests.dashboard.conftest import dashboard
from tests.dashboard.recordings import (
    BREAKOUT,
    BREAKOUT_ID,
    DEMO_ID,
    HOSTILE_ID,
    SHOP_ID,
    load_all,
    load_breakout,
)
from tests.support.live_server import LiveServer

META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


class Scripts(HTMLParser):
    """Every <script> element as a browser's tokenizer splits the document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.scripts.append((self._open, "".join(self._text)))
            self._open = None


def scripts(page: str) -> list[tuple[dict[str, str | None], str]]:
    parser = Scripts()
    parser.feed(page)
    parser.close()
    return parser.scripts


def share_data(page: str) -> dict[str, Any]:
    found = [text for attrs, text in scripts(page) if attrs.get("id") == "sentiero-share-data"]
    assert len(found) == 1, "the share file embeds its data once"
    return json.loads(found[0])  # type: ignore[no-any-return]


async def get(client: Any, url: str) -> tuple[int, str, Any]:
    response = await client.get(url)
    return response.status_code, await response.get_data(as_text=True), response


async def all_events(store: Any, session_id: str, window: str | None = None) -> list[Any]:
    page = await store.read_events(session_id, limit=10_000, window_id=window)
    assert page.next is None
    return list(page.events)


@pytest.mark.asyncio
async def test_off_by_default_the_routes_answer_404_and_nothing_links_to_them() -> None:
    """Ensure that without ``shareable_replays`` neither route exists for
    the user and no page offers them."""
    assert Settings().shareable_replays is False
    async with dashboard() as (_app, client, _store):
        for url in (f"/sentiero/share/{DEMO_ID}", "/sentiero/import"):
            status, page, _response = await get(client, url)
            assert status == 404, url
            assert "Shareable replays are not enabled" in page
        _status, page, _response = await get(client, f"/sentiero/sessions/{DEMO_ID}")
        assert "Download shareable replay" not in page and "/sentiero/share/" not in page
        assert 'href="/sentiero/import"' not in page


@pytest.mark.asyncio
async def test_on_the_replay_page_and_the_navigation_link_to_them() -> None:
    """Ensure that the replay page offers the download of the window it shows
    and the navigation offers the import page."""
    async with dashboard(shareable_replays=True) as (_app, client, _store):
        _status, page, _response = await get(client, f"/sentiero/sessions/{DEMO_ID}")
        assert f'href="/sentiero/share/{DEMO_ID}" id="share-download" download' in page
        assert '<a href="/sentiero/import">Import</a>' in page
        _status, page, _response = await get(
            client, f"/sentiero/sessions/{SHOP_ID}?window=shopWindowB001"
        )
        assert f"/sentiero/share/{SHOP_ID}?window=shopWindowB001" in page


@pytest.mark.asyncio
async def test_the_share_file_is_a_download_with_every_event_of_the_window() -> None:
    """Ensure that the share file is an HTML attachment with a safe name whose
    embedded events are the window's events exactly, with its notice."""
    async with dashboard(shareable_replays=True) as (_app, client, store):
        status, page, response = await get(client, f"/sentiero/share/{SHOP_ID}")
        expected = await all_events(store, SHOP_ID, "shopWindowA001")
        status_b, page_b, response_b = await get(
            client, f"/sentiero/share/{SHOP_ID}?window=shopWindowB001"
        )
        expected_b = await all_events(store, SHOP_ID, "shopWindowB001")
        status_demo, page_demo, response_demo = await get(client, f"/sentiero/share/{DEMO_ID}")
        expected_demo = await all_events(store, DEMO_ID)
    assert status == status_b == status_demo == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="sentiero-replay-{SHOP_ID}-shopWindowA001.html"'
    )
    assert response_b.headers["Content-Disposition"] == (
        f'attachment; filename="sentiero-replay-{SHOP_ID}-shopWindowB001.html"'
    )
    assert response_demo.headers["Content-Disposition"] == (
        f'attachment; filename="sentiero-replay-{DEMO_ID}.html"'
    )
    data = share_data(page)
    assert data["format"] == "sentiero-share" and data["version"] == 1
    assert data["windowId"] == "shopWindowA001"
    assert data["session"]["session_id"] == SHOP_ID
    assert data["events"] == expected and len(expected) == 24
    assert share_data(page_b)["events"] == expected_b
    assert share_data(page_demo)["events"] == expected_demo and len(expected_demo) == 272
    notice = page[page.index('id="share-notice"') : page.index("</section>")]
    assert SHOP_ID in notice and "tab 1 of 2" in notice and "24 events" in notice
    assert "2023-11-14 22:13:20 UTC" in notice and "2023-11-14 22:13:45 UTC" in notice
    assert "https://shop.example/checkout" in notice and "2 pages" in notice
    assert "masked" in notice and "without any network" in notice
    assert "https://shop.example/help" not in notice  # the other tab's page


@pytest.mark.asyncio
async def test_the_share_file_loads_nothing_and_runs_only_its_player() -> None:
    """Ensure that the file's only executable script is the inlined player,
    allowed by its hash in a meta CSP that names no host and no 'self'."""
    async with dashboard(shareable_replays=True) as (_app, client, _store):
        _status, page, _response = await get(client, f"/sentiero/share/{DEMO_ID}")
    found = scripts(page)
    assert [attrs for attrs, _text in found] == [
        {"type": "application/json", "id": "sentiero-player-config"},
        {"type": "application/json", "id": "sentiero-share-data"},
        {},
    ]
    player = found[2][1]
    assert "rrweb" in player and len(player) > 100_000
    match = META_CSP.search(page)
    assert match is not None
    assert page.index("Content-Security-Policy") < page.index("<style>") < page.index("<script")
    csp = {}
    for part in match.group(1).replace("&#39;", "'").split("; "):
        name, _, value = part.partition(" ")
        csp[name] = value
    digest = base64.b64encode(hashlib.sha256(player.encode()).digest()).decode()
    assert csp["script-src"] == f"'sha256-{digest}'"
    assert csp["default-src"] == csp["connect-src"] == csp["frame-src"] == "'none'"
    assert csp["img-src"] == "data: blob:" and csp["font-src"] == "data:"
    assert csp["base-uri"] == csp["form-action"] == csp["object-src"] == "'none'"
    assert not re.search(r"https?:|'self'|\*", match.group(1))
    for tag in re.findall(r"<(?:link|img|iframe|source|audio|video)\b[^>]*>", page):
        assert 'href="data:' in tag, f"the share file references {tag}"
    assert "/sentiero/" not in page.replace(f"/sentiero/share/{DEMO_ID}", "")
    assert "Copy a link" not in page and "Play / pause" in page  # no address to link to


@pytest.mark.asyncio
async def test_recorded_markup_cannot_leave_the_embedded_json() -> None:
    """Ensure that a forged session's </script>, <!--, <script, & and line
    separators stay inside the JSON string they were recorded in."""
    async with dashboard(shareable_replays=True) as (_app, client, store):
        await load_breakout(store)
        _status, page, _response = await get(client, f"/sentiero/share/{BREAKOUT_ID}")
        expected = await all_events(store, BREAKOUT_ID)
        _status, hostile, _response = await get(client, f"/sentiero/share/{HOSTILE_ID}")
        hostile_expected = await all_events(store, HOSTILE_ID)
    assert len(scripts(page)) == 3  # a breakout would have made a fourth
    assert share_data(page)["events"] == expected
    assert BREAKOUT in json.dumps(expected)
    start = page.index('id="sentiero-share-data">')
    raw = page[start : page.index("</script>", start)]
    for hazard in ("</script", "<!--", "<script", "<", ">", "&", "\u2028", "\u2029"):
        assert hazard not in raw.split(">", 1)[1], hazard
    assert "window.pwned" in raw  # the text is there, inert
    assert len(scripts(hostile)) == 3
    assert share_data(hostile)["events"] == hostile_expected


@pytest.mark.parametrize(
    "text",
    ["</script>", "<!--<script>", "a & b", "\u2028\u2029", "x</SCRIPT >y", "é 中 😀", '"\\'],
)
def test_escape_json_keeps_the_value_and_drops_the_markup(text: str) -> None:
    """Ensure that escaped JSON reads back as the same value and has no
    character that HTML's script parsing cares about."""
    value = {text: [text, {"k": text}]}
    escaped = escape_json(json.dumps(value, ensure_ascii=False).encode())
    assert json.loads(escaped) == value
    assert not set(escaped.decode()) & {"<", ">", "&", "\u2028", "\u2029"}


@pytest.mark.parametrize(
    ("session_id", "window", "multiple", "name"),
    [
        ("abc", "w1", False, "sentiero-replay-abc.html"),
        ("abc", "w1", True, "sentiero-replay-abc-w1.html"),
        ('a"b;c/../\r\nx', 'w"; x', True, "sentiero-replay-a_b_c______x-w___x.html"),
        ("x" * 200, None, True, "sentiero-replay-" + "x" * 64 + ".html"),
    ],
)
def test_share_filenames_are_safe(
    session_id: str, window: str | None, multiple: bool, name: str
) -> None:
    """Ensure that the download's name has no quote, separator or path."""
    assert share_filename(session_id, window, multiple) == name


@pytest.mark.asyncio
async def test_a_session_over_the_cap_is_answered_413() -> None:
    """Ensure that ``share_max_bytes`` caps the embedded events with a page
    saying why, while a session under it is shared."""
    async with dashboard(shareable_replays=True, share_max_bytes=20_000) as (_a, client, _s):
        status, page, _response = await get(client, f"/sentiero/share/{DEMO_ID}")
        assert status == 413
        assert "too large to share" in page and "share_max_bytes" in page
        assert "20,000 bytes" in page and "JSON export" in page
        status, _page, _response = await get(client, f"/sentiero/share/{SHOP_ID}")
        assert status == 200
    with pytest.raises(SettingsError, match="share_max_bytes"):
        Settings(share_max_bytes=0)


@pytest.mark.asyncio
async def test_unknown_sessions_and_windows_are_404() -> None:
    """Ensure that a share of nothing is a 404 naming what was not found."""
    async with dashboard(shareable_replays=True) as (_app, client, _store):
        status, page, _response = await get(client, "/sentiero/share/nope")
        assert status == 404 and "no session with the id &#39;nope&#39;" in page
        status, page, _response = await get(client, f"/sentiero/share/{SHOP_ID}?window=nope")
        assert status == 404 and "no window" in page


@pytest.mark.asyncio
@pytest.mark.parametrize("enabled", [True, False])
async def test_auth_callback_guards_both_routes(enabled: bool) -> None:
    """Ensure that the auth_callback answers before anything else, on or off."""
    allowed: list[bool] = [False]
    async with dashboard(shareable_replays=enabled, auth_callback=lambda request: allowed[0]) as (
        _app,
        client,
        _store,
    ):
        for url in (f"/sentiero/share/{DEMO_ID}", "/sentiero/import"):
            status, page, _response = await get(client, url)
            assert status == 403, url
            assert "rrweb" not in page and "sentiero-share-data" not in page
        allowed[0] = True
        for url in (f"/sentiero/share/{DEMO_ID}", "/sentiero/import"):
            status, _page, _response = await get(client, url)
            assert status == (200 if enabled else 404), url


@pytest.mark.asyncio
async def test_shares_and_import_page_views_are_audited() -> None:
    """Ensure that each share file and each view of the import page reaches
    ``audit_log`` in order with the dashboard user, and that refused ones
    do not."""
    records: list[dict[str, Any]] = []
    async with dashboard(
        shareable_replays=True,
        audit_log=records.append,
        share_max_bytes=100_000,
        auth_callback=lambda request: "dana",
    ) as (_app, client, _store):
        await get(client, f"/sentiero/share/{SHOP_ID}?window=shopWindowB001")
        await get(client, "/sentiero/import")
        await get(client, f"/sentiero/share/{DEMO_ID}")  # 413: nothing handed out
        await get(client, "/sentiero/share/nope")
    assert [(r["action"], r["by"]) for r in records] == [
        (SESSION_SHARED, "dana"),
        (REPLAY_IMPORT_OPENED, "dana"),
    ]
    assert {SESSION_SHARED, REPLAY_IMPORT_OPENED} <= set(ACTIONS)
    shared, opened = records
    assert shared["session_id"] == SHOP_ID and shared["window_id"] == "shopWindowB001"
    assert shared["events"] == 4 and shared["bytes"] > 0 and shared["via"] == "dashboard"
    assert opened["via"] == "dashboard"
    assert isinstance(shared["at"], int) and opened["at"] >= shared["at"]


@pytest.mark.asyncio
async def test_the_import_page_reads_files_in_the_browser() -> None:
    """Ensure that the import page has a file input and no form that could
    send the file: the file-reading player does the rest (see the browser
    tests)."""
    async with dashboard(shareable_replays=True) as (_app, client, _store):
        status, page, response = await get(client, "/sentiero/import")
    assert status == 200
    assert 'type="file" id="import-file"' in page
    assert "<form" not in page
    assert "/-/static/player-file.js?v=" in page and "/-/static/player.css?v=" in page
    assert "never uploaded" in page
    assert "connect-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("enabled", [True, False])
def test_over_real_http_auth_comes_first_then_the_setting(enabled: bool) -> None:
    """Ensure that through Hypercorn a request auth_callback denies gets 403,
    an allowed one the file (on) or 404 (off)."""
    app = create_app(
        Settings(
            store_url="memory://",
            shareable_replays=enabled,
            auth_callback=lambda request: request.headers.get("X-Staff") == "yes",
        )
    )
    with LiveServer(app) as server:
        server.run(load_all(app.extensions["sentiero"].store))
        for path in (f"/sentiero/share/{DEMO_ID}", "/sentiero/import"):
            denied = httpx.get(server.url + path)
            assert denied.status_code == 403 and "sentiero-share-data" not in denied.text
            allowed = httpx.get(server.url + path, headers={"X-Staff": "yes"})
            assert allowed.status_code == (200 if enabled else 404), path
        if enabled:
            share = httpx.get(server.url + f"/sentiero/share/{DEMO_ID}", headers={"X-Staff": "yes"})
            assert share.headers["content-disposition"].startswith("attachment;")
            assert len(share_data(share.text)["events"]) == 272
