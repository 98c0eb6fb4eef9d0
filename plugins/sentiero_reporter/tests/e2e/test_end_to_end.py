"""End to end over real HTTP: sample Quart (ASGI) and Flask (WSGI) apps with
the reporter's middleware report to a running ``sentiero serve``; a session
recorded in Chromium hits the routes that raise; the issue appears, grouped,
and its replay link opens the session at the error's moment."""

from __future__ import annotations

import os
import re
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import sentiero_reporter

from tests.support.browser import launch
from tests.support.live_server import LiveServer, free_port

from . import sample_flask, sample_quart

pytestmark = pytest.mark.browser
SENTIERO = Path(sys.executable).with_name("sentiero")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def wait_for(check: Any, timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def sentiero(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("e2e") / "sentiero.db"
    store = f"sqlite:///{db}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    created = subprocess.run(
        [str(SENTIERO), "reporter", "keys", "create", "shop", "--store", store],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    port, quart_port, flask_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [
            str(SENTIERO),
            "serve",
            "--port",
            str(port),
            "--store",
            store,
            "--cors-origin",
            f"http://127.0.0.1:{quart_port}",
            "--cors-origin",
            f"http://127.0.0.1:{flask_port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                get(url + "/sentiero/issues")
                return True
            except OSError:
                return process.poll() is not None

        wait_for(up, what="sentiero serve")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield {
            "url": url,
            "token": token,
            "quart_port": quart_port,
            "flask_port": flask_port,
        }
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture(scope="module")
def apps(sentiero: dict[str, Any]) -> Iterator[dict[str, str]]:
    quart = LiveServer(sample_quart.create_app(sentiero["url"]), port=sentiero["quart_port"])
    quart.start()
    flask_server = make_server(
        "127.0.0.1",
        sentiero["flask_port"],
        sample_flask.create_app(sentiero["url"]),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    thread = threading.Thread(target=flask_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "quart": f"http://127.0.0.1:{sentiero['quart_port']}",
            "flask": f"http://127.0.0.1:{sentiero['flask_port']}",
        }
    finally:
        flask_server.shutdown()
        flask_server.server_close()
        quart.stop()


def issue_rows(sentiero: dict[str, Any], query: str = "") -> list[tuple[str, int]]:
    page = get(sentiero["url"] + "/sentiero/issues" + query)
    return [
        (key, int(count))
        for key, count in re.findall(r'data-issue="(\w+)" data-count="(\d+)"', page)
    ]


def test_errors_in_a_recorded_session_become_an_issue_with_a_replay_link(
    sentiero: dict[str, Any], apps: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    # Configured here: the middleware finds the global reporter per request.
    sentiero_reporter.configure(
        endpoint=sentiero["url"] + "/sentiero",
        ingest_key=sentiero["token"],
        project="shop",
        environment="e2e",
        release="1.0.0",
    )
    with sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(apps["quart"] + "/")
            sid = wait_for(
                lambda: page.evaluate("window.Sentiero && window.Sentiero.sessionId"),
                what="the recorder's session id",
            )
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            assert cookies["sentiero_sid"] == sid
            page.wait_for_timeout(1500)  # some recorded time before the error
            page.evaluate("window.Sentiero.flush()")
            page.click("#order-404")  # the Quart route raises: 500
            page.go_back()
            page.wait_for_timeout(300)
            # the same bug again, from the page (its cookies go along)
            assert page.evaluate("fetch('/orders/405').then(r => r.status)") == 500
            page.goto(apps["flask"] + "/")
            page.click("#order-999")  # the Flask route raises too
            page.goto(apps["quart"] + "/")
            page.evaluate("window.Sentiero.flush()")
            page.wait_for_timeout(500)
            assert sentiero_reporter.flush(10)
            assert sentiero_reporter.stats()["sent"] == 3, sentiero_reporter.stats()

            rows = wait_for(lambda: issue_rows(sentiero), what="the issues")
            counts = sorted(count for _, count in rows)
            # Quart's two occurrences group; Flask's view is another issue
            assert counts == [1, 2], rows
            key = next(k for k, c in rows if c == 2)
            assert issue_rows(sentiero, "?environment=e2e&release=1.0.0&project=shop") == rows

            issue_page = get(f"{sentiero['url']}/sentiero/issues/{key}")
            assert "OrderNotFound" in issue_page and "load_order" in issue_page
            assert "raise OrderNotFound" in issue_page  # source context
            links = wait_for(
                lambda: re.findall(
                    r'class="replay-link" href="([^"]+)"',
                    get(f"{sentiero['url']}/sentiero/issues/{key}"),
                ),
                what="replay links (the session stored)",
            )
            assert len(links) == 2
            first = links[-1].replace("&amp;", "&")  # oldest last
            assert f"/sentiero/sessions/{sid}?" in first
            offset = float(re.search(r"[?&]t=([0-9.]+)", first)[1])  # type: ignore[index]
            assert offset >= 1.0, first  # after the recorded wait

            flask_key = next(k for k, c in rows if c == 1)
            flask_page = get(f"{sentiero['url']}/sentiero/issues/{flask_key}")
            assert "sample_flask" in flask_page and "/orders/999" in flask_page
            assert "[FILTERED]" in flask_page  # cookies other than the recorder's

            replay = context.new_page()
            replay.goto(sentiero["url"] + first)
            replay.wait_for_selector("#controls:not([hidden])", timeout=20_000)
            clock = wait_for(
                lambda: (
                    replay.text_content("#current-time") not in (None, "0:00")
                    and replay.text_content("#current-time")
                ),
                what="the replay to seek",
            )
            minutes, seconds = (int(x) for x in str(clock).split(":"))
            assert abs(minutes * 60 + seconds - offset) <= 1.5, (clock, offset)
            markers = replay.locator(".plugin-marker.server-error")
            assert markers.count() >= 2
            assert re.search(
                r"Server error: [\w.]*OrderNotFound: order 404 does not exist", replay.content()
            )
        finally:
            browser.close()
