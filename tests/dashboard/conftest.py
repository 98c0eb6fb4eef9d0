"""Fixtures for the dashboard: an app with recorded sessions, in-process or
served by a real Hypercorn for the browser tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from sentiero_core import Settings, create_app
from tests.dashboard.recordings import load_all
from tests.support.live_server import LiveServer

LOOPBACK = re.compile(r"^https?://127\.0\.0\.1[:/]")


@asynccontextmanager
async def dashboard(**options: Any) -> AsyncIterator[Any]:
    """A served app (startup hooks run) with the recordings loaded; yields
    ``(app, client, store)``."""
    app = create_app(Settings(store_url="memory://", **options))
    async with app.test_app() as test_app:
        store = app.extensions["sentiero"].store
        await load_all(store)
        yield app, test_app.test_client(), store


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One real server per module; pages of 100 events so that the demo
    recording (272 events) streams in three pages."""
    app = create_app(Settings(store_url="memory://", max_events_per_page=100))
    with LiveServer(app) as server:
        server.run(load_all(app.extensions["sentiero"].store))
        yield server


@dataclass
class Watch:
    """What a page said that it should not have: console errors, uncaught
    exceptions, dialogs (alert/confirm/prompt)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        def console(message: Any) -> None:
            if message.type == "error":
                self.errors.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)


@pytest.fixture()
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    """A fresh browser page and what it reported. The recorded pages point
    at sites this machine cannot reach: those requests get an empty answer
    so that their failures are not mistaken for the dashboard's."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.route(
        lambda url: not LOOPBACK.match(url) and url.startswith("http"),
        lambda route: route.fulfill(status=200, body=""),
    )
    tab = context.new_page()
    watch = Watch()
    watch.attach(tab)
    try:
        yield tab, watch
    finally:
        context.close()
