"""Shared fixtures: a real browser and live servers (see tests/support)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module; each test opens its own context.

    Not session-wide: sync Playwright keeps an event loop running in the
    main thread while it is open, and pytest-asyncio cannot run async tests
    beside it. Chromium starts in well under a second, so modules that use
    it own it and close it before the async tests of other modules run.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()
