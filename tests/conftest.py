"""Shared fixtures: a real browser and live servers (see tests/support),
and the hypothesis profile every property test runs under."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.support.browser import launch

# Deterministic by default: derandomize makes each run draw the same
# examples, so a property cannot pass on one run and fail on the next, and
# no example database is written (pytest runs without a cache directory).
# The deadline is generous because the machine is shared: it catches an
# example that takes seconds (a bomb inflated whole), not a slow moment.
# `pytest --hypothesis-profile=explore` draws many more random examples.
hypothesis_settings.register_profile(
    "sentiero",
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=5),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "explore",
    max_examples=5_000,
    derandomize=False,
    database=None,
    deadline=timedelta(seconds=5),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("sentiero")


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
