"""What the framework integrations' browser runs share: an app served by
Hypercorn in a process of its own, and one visit recorded in Chromium that
must then show up in the dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.browser import launch
from tests.support.live_server import free_port
from tests.support.mongo_daemon import wait_for_port


@contextmanager
def hypercorn(app: str, cwd: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``hypercorn <app>`` on a free loopback port; its base URL while it runs."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", app, "--bind", f"127.0.0.1:{port}"],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_port(port, timeout=30)
        except OSError:
            raise AssertionError(f"hypercorn {app} did not start:\n{log.read_text()}") from None
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _json(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def record_a_visit(app_url: str, dashboard_url: str, link: str, heading: str) -> str:
    """Visit ``app_url`` in Chromium, follow ``link`` to a page whose h1 is
    ``heading``, and return the session id once the dashboard (at
    ``dashboard_url``, the mount's URL ending in /) lists it on its page."""
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(app_url)
            page.wait_for_function("window.Sentiero && window.Sentiero.sessionId")
            session_id = str(page.evaluate("window.Sentiero.sessionId"))
            page.locator(link).click()
            page.wait_for_selector(f"h1:text('{heading}')")
            page.wait_for_function("window.Sentiero && window.Sentiero.sessionId")
            page.mouse.click(10, 10)
            page.evaluate("window.Sentiero.flush(); 0")

            deadline = time.monotonic() + 20
            while True:
                listed = _json(dashboard_url + "api/sessions")["sessions"]
                ids = [s.get("session_id") or s.get("id") for s in listed]
                if session_id in ids:
                    break
                assert time.monotonic() < deadline, f"{session_id} never stored: {listed}"
                time.sleep(0.2)
            page.goto(dashboard_url)
            assert session_id in page.content(), "the session is not on the dashboard"
            return session_id
        finally:
            browser.close()
