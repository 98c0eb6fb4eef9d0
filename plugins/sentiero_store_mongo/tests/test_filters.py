"""Filters in MongoDB queries agree with SessionFilter.matches, odd text included."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from sentiero_core.store import SessionFilter
from sentiero_core.testing import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    SAFARI_IPHONE,
    T0,
    error,
    identify,
    list_all,
    make_batch,
    meta,
    reference_summaries,
    text_mutation,
    track,
)

pytestmark = pytest.mark.mongo

URLS = [
    "https://x.test/İstanbul",
    "https://x.test/STRASSE/straße",
    "https://x.test/a+b(c)*?q=[1]",
    "https://x.test/back\\slash/dot.any",
    "https://x.test/$where^|{2}",
]
AGENTS = [CHROME_MAC, FIREFOX_WINDOWS, SAFARI_IPHONE, None]


def _batches() -> list[Any]:
    batches = []
    for n, url in enumerate(URLS):
        events = [meta(T0 + n * 1000, url), text_mutation(T0 + n * 1000 + 10 + n * 700, "t")]
        if n % 2:
            events.append(error(T0 + n * 1000 + 5))
        if n == 1:
            events.append(identify(T0 + n * 1000 + 6, "user-7"))
        if n in (2, 3):
            events.append(track(T0 + n * 1000 + 7, "Check out"))
        batches.append(make_batch(f"s{n}", "w1", events, user_agent=AGENTS[n % len(AGENTS)]))
    return batches


FILTERS = [
    SessionFilter(url_contains="i̇stanbul"),  # "İ".lower() is "i" + a combining dot
    SessionFilter(url_contains="istanbul"),
    SessionFilter(url_contains="STRASSE"),
    SessionFilter(url_contains="STRAßE"),
    SessionFilter(url_contains="(C)*?Q=[1]"),
    SessionFilter(url_contains="\\SLASH"),
    SessionFilter(url_contains="dot.any"),
    SessionFilter(url_contains="dotXany"),
    SessionFilter(url_contains="$WHERE^|{2}"),
    SessionFilter(url_contains=""),
    SessionFilter(url_contains="nul\x00byte"),
    SessionFilter(browser="CHROME"),
    SessionFilter(browser=""),
    SessionFilter(browser="fire", os="WIN"),
    SessionFilter(device="mobile"),
    SessionFilter(os="."),
    SessionFilter(has_errors=True),
    SessionFilter(has_errors=False),
    SessionFilter(min_duration_ms=1_400),
    SessionFilter(min_duration_ms=-5),
    SessionFilter(user_id="user-7"),
    SessionFilter(user_id="USER-7"),
    SessionFilter(custom_event="Check out"),
    SessionFilter(custom_event="check out"),
    SessionFilter(session_ids=("s1", "s3", "missing")),
    SessionFilter(session_ids=()),
    SessionFilter(started_after=T0 + 1000, started_before=T0 + 4000, has_errors=True),
    SessionFilter(started_after=T0 + 4000, url_contains="where"),
]


@pytest_asyncio.fixture
async def filled(make_store: Any) -> tuple[Any, dict[str, Any]]:
    store = await make_store()
    batches = _batches()
    for batch in batches:
        await store.append(batch)
    return store, reference_summaries(batches)


@pytest.mark.asyncio
async def test_every_filter_lists_and_counts_what_matches_says(
    filled: tuple[Any, dict[str, Any]],
) -> None:
    store, reference = filled
    newest_first = sorted(reference.values(), key=lambda s: (s.started_at, s.session_id))[::-1]
    for f in FILTERS:
        expected = [s.session_id for s in newest_first if f.matches(s)]
        assert [s.session_id for s in await list_all(store, f, limit=2)] == expected, f
        assert await store.count_sessions(f) == len(expected), f


@pytest.mark.asyncio
async def test_erase_removes_exactly_what_a_text_filter_matches(
    filled: tuple[Any, dict[str, Any]],
) -> None:
    store, reference = filled
    f = SessionFilter(url_contains="A+B(C)")
    doomed = {sid for sid, s in reference.items() if f.matches(s)}
    assert doomed == {"s2"}
    assert await store.erase(f) == 1
    assert {s.session_id for s in await list_all(store)} == set(reference) - doomed
