"""Shareable replays in Chromium: a share file downloaded from the replay
page plays from ``file://`` with every request refused, a forged session
cannot run script in it, and the import page plays files without sending
them anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from sentiero_core import Settings, create_app
from tests.dashboard.conftest import Watch
from tests.dashboard.recordings import BREAKOUT, BREAKOUT_ID, DEMO_ID, load_all, load_breakout
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
Page = tuple[Any, Watch]


@pytest.fixture(scope="module")
def sharing() -> Iterator[LiveServer]:
    app = create_app(
        Settings(store_url="memory://", max_events_per_page=100, shareable_replays=True)
    )
    with LiveServer(app) as server:
        store = app.extensions["sentiero"].store
        server.run(load_all(store))
        server.run(load_breakout(store))
        yield server


def download_share(tab: Any, server: LiveServer, session_id: str, folder: Path) -> Path:
    """Click "Download shareable replay" on the replay page; the saved file."""
    tab.goto(f"{server.url}/sentiero/sessions/{session_id}")
    with tab.expect_download() as info:
        tab.click("#share-download")
    download = info.value
    assert download.suggested_filename == f"sentiero-replay-{session_id}.html"
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


class Requests:
    """Every request a page attempted, and how each failed. Chromium reports
    a font the page's CSP refuses as a request that fails with "csp" without
    reaching the network (checked against a real server), so those are told
    apart from requests that left the browser."""

    def __init__(self, target: Any) -> None:
        self.attempted: list[Any] = []
        self.failures: dict[str, str] = {}
        target.on("request", lambda request: self.attempted.append(request))
        target.on(
            "requestfailed",
            lambda request: self.failures.__setitem__(request.url, request.failure or ""),
        )

    def sent(self) -> list[str]:
        """What was not refused by the page's own CSP."""
        return [r.url for r in self.attempted if self.failures.get(r.url) != "csp"]

    def with_bodies(self) -> list[str]:
        return [r.url for r in self.attempted if r.post_data_buffer]


class Offline:
    """A browser context in which every request but the file's own is
    aborted; what was attempted and what reached the route are kept."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.as_uri()
        self.routed: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.requests = Requests(self.context)

        def route(route: Any) -> None:
            self.routed.append(route.request.url)
            if route.request.url == self.url:
                route.continue_()
            else:
                route.abort()

        self.context.route("**/*", route)
        self.tab = self.context.new_page()
        self.watch = Watch()
        self.watch.attach(self.tab)

    def open(self) -> Any:
        self.tab.goto(self.url)
        self.tab.wait_for_selector("body[data-replay-loaded]")
        return self.tab.frame_locator("#player iframe")


@pytest.fixture()
def offline(browser: Any) -> Iterator[Any]:
    opened: list[Offline] = []

    def make(path: Path) -> Offline:
        opened.append(Offline(browser, path))
        return opened[-1]

    yield make
    for each in opened:
        each.context.close()


def test_a_share_file_replays_from_disk_with_no_network(
    page: Page, sharing: LiveServer, offline: Any, tmp_path: Path
) -> None:
    tab, _watch = page
    path = download_share(tab, sharing, DEMO_ID, tmp_path)
    assert path.stat().st_size > 300_000  # the player and 272 events are inside
    view = offline(path)
    frame = view.open()
    expect(frame.locator("body")).to_contain_text("ReactHooks.js")
    assert view.tab.get_attribute("body", "data-replay-loaded") == "272"
    assert view.tab.text_content("#total-time") == "1:21"
    expect(view.tab.locator("#share-notice")).to_contain_text(DEMO_ID)
    expect(view.tab.locator("#share-notice")).to_contain_text("272 events")
    # the player progresses on its own
    view.tab.wait_for_function(
        "() => Number(document.getElementById('track').dataset.current) > 1500"
    )
    assert view.tab.get_attribute("body", "data-playing") == "true"
    # the file's own CSP refused the recorded page's remote image and font:
    # nothing but the file reached the network layer
    assert view.routed == [view.url], "the share file asked for something besides itself"
    assert view.requests.sent() == [view.url]
    refused = [e for e in view.watch.errors if "Content Security Policy" not in e]
    assert refused == [] and view.watch.dialogs == []
    assert any("demoit.app" in e for e in view.watch.errors)  # there was something to refuse


def test_a_forged_session_cannot_break_out_of_the_share_file(
    page: Page, sharing: LiveServer, offline: Any, tmp_path: Path
) -> None:
    tab, _watch = page
    path = download_share(tab, sharing, BREAKOUT_ID, tmp_path)
    view = offline(path)
    frame = view.open()
    expect(frame.locator("h1")).to_contain_text("Breakout " + BREAKOUT)
    expect(frame.locator("p")).to_contain_text("<!--<script>window.pwned=2</script>")
    expect(frame.locator("h1")).to_contain_text("Still " + BREAKOUT, timeout=5_000)
    assert view.tab.evaluate("window.pwned === undefined")
    assert view.tab.evaluate("document.querySelectorAll('script').length") == 3
    assert view.tab.get_attribute("body", "data-replay-loaded") == "6"
    assert view.routed == [view.url] and view.requests.sent() == [view.url]
    assert view.watch.dialogs == []


def export_of(server: LiveServer, session_id: str, folder: Path) -> Path:
    response = httpx.get(f"{server.url}/sentiero/sessions/{session_id}/export.json")
    response.raise_for_status()
    path = folder / f"session-{session_id}.json"
    path.write_bytes(response.content)
    return path


def open_import(tab: Any, server: LiveServer) -> Requests:
    """The import page, with every request it makes from then on kept."""
    tab.goto(f"{server.url}/sentiero/sessions/{DEMO_ID}")
    tab.click("nav >> text=Import")
    tab.wait_for_selector("body[data-import-ready]")  # the input's listener is there
    return Requests(tab)


def test_an_exported_json_file_plays_on_the_import_page_without_being_sent(
    page: Page, sharing: LiveServer, tmp_path: Path
) -> None:
    tab, watch = page
    path = export_of(sharing, DEMO_ID, tmp_path)
    requests = open_import(tab, sharing)
    tab.set_input_files("#import-file", str(path))
    tab.wait_for_selector("body[data-replay-loaded='272']")
    frame = tab.frame_locator("#player iframe")
    expect(frame.locator("body")).to_contain_text("ReactHooks.js")
    tab.wait_for_function("() => Number(document.getElementById('track').dataset.current) > 1500")
    expect(tab.locator("#metadata")).to_contain_text(DEMO_ID)
    expect(tab.locator("#import-message")).to_be_hidden()
    # nothing left the page once the file was chosen (the recorded page's
    # font was refused by the dashboard's CSP), so nothing carried the file
    assert requests.sent() == [] and requests.with_bodies() == []
    assert [e for e in watch.errors if "Content Security Policy" not in e] == []
    assert watch.dialogs == []


def test_a_share_file_plays_on_the_import_page(
    page: Page, sharing: LiveServer, tmp_path: Path
) -> None:
    tab, watch = page
    path = download_share(tab, sharing, BREAKOUT_ID, tmp_path)
    requests = open_import(tab, sharing)
    tab.set_input_files("#import-file", str(path))
    tab.wait_for_selector("body[data-replay-loaded='6']")
    expect(tab.frame_locator("#player iframe").locator("h1")).to_contain_text(BREAKOUT)
    assert tab.evaluate("window.pwned === undefined")
    assert requests.sent() == [] and requests.with_bodies() == []
    assert watch.dialogs == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b"[1, 2]", 'not a session export: expected a JSON object with "session" and "events"'),
        (b'{"session": {}}', 'not a session export: it has no "events" list'),
        (b'{"events": [{"type": 2, "timestamp": 1}, {"type": "x"}]}', "Event 2 of 2"),
        (b"<html><body><p>hello</p></body></html>", "not a Sentiero share file"),
        (b"", "The file is empty"),
    ],
)
def test_a_malformed_file_is_explained_on_the_page(
    page: Page, sharing: LiveServer, tmp_path: Path, content: bytes, message: str
) -> None:
    tab, watch = page
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    open_import(tab, sharing)
    tab.set_input_files("#import-file", str(path))
    tab.wait_for_selector("body[data-import-error]")
    expect(tab.locator("#import-message")).to_contain_text("broken.json: ")
    expect(tab.locator("#import-message")).to_contain_text(message)
    expect(tab.locator("#import-replay")).to_be_hidden()
    assert tab.is_enabled("#import-file")  # another file can be chosen
    assert watch.errors == [] and watch.dialogs == []


def test_a_multi_tab_export_says_its_tabs_play_together(
    page: Page, sharing: LiveServer, tmp_path: Path
) -> None:
    tab, _watch = page
    path = export_of(sharing, "shopSession0001", tmp_path)
    open_import(tab, sharing)
    tab.set_input_files("#import-file", str(path))
    tab.wait_for_selector("body[data-replay-loaded]")
    expect(tab.locator("#import-windows")).to_be_visible()
    assert json.loads(path.read_text())["session"]["windows"] == [
        "shopWindowA001",
        "shopWindowB001",
    ]
