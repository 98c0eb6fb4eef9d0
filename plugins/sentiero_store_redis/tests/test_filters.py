"""Listing filters: Lua pre-filters in Redis, Python's ``SessionFilter.matches``
decides. Where the two could disagree (case folding beyond ASCII, odd
values) the listing must still equal the reference."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sentiero_store_redis import RedisStore

from sentiero_core.store import SessionFilter
from sentiero_core.testing import T0, error, identify, list_all, make_batch, meta, track

MakeStore = Callable[..., Awaitable[RedisStore]]

pytestmark = pytest.mark.asyncio

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
USER = '\u00fcser "3" \\ \t'
PAGES = [
    "https://shop.example/KELVIN-\u212a",  # KELVIN SIGN: Python lowers it to "k"
    "https://shop.example/\u0130stanbul",  # I WITH DOT: lowers to "i" + a combining dot
    "https://shop.example/Stra\u00dfe",
    'https://shop.example/plain?q="quoted"\\',
    "https://shop.example/",
]


async def _sessions(store: RedisStore) -> None:
    for n, page in enumerate(PAGES):
        events = [meta(T0 + n * 1000, page), track(T0 + n * 1000 + 1, f"goal-{n % 2}")]
        if n % 2:
            events.append(error(T0 + n * 1000 + 2))
        if n == 3:
            events.append(identify(T0 + n * 1000 + 3, USER))
        agent = FIREFOX if n % 2 else CHROME if n != 4 else None
        await store.append(make_batch(f"s{n}", "w1", events, user_agent=agent))


@pytest.mark.parametrize(
    "filter",
    [
        SessionFilter(url_contains="kelvin-k"),
        SessionFilter(url_contains="KELVIN-K"),
        SessionFilter(url_contains="istanbul"),
        SessionFilter(url_contains="\u0130STANBUL"),
        SessionFilter(url_contains="strasse"),
        SessionFilter(url_contains="STRA\u00dfE"),
        SessionFilter(url_contains=""),
        SessionFilter(url_contains="PLAIN"),
        SessionFilter(browser="FIREFOX"),
        SessionFilter(browser=""),
        SessionFilter(os="windows", has_errors=False),
        SessionFilter(device="desktop"),
        SessionFilter(user_id=USER),
        SessionFilter(user_id=USER.upper()),
        SessionFilter(url_contains='"QUOTED"\\'),
        SessionFilter(user_id="user-3"),
        SessionFilter(custom_event="goal-1", has_errors=True),
        SessionFilter(min_duration_ms=2),
        SessionFilter(started_after=T0 + 1000, started_before=T0 + 4000, has_errors=True),
    ],
    ids=repr,
)
async def test_listing_and_counting_agree_with_the_reference(
    make_store: MakeStore, filter: SessionFilter
) -> None:
    store = await make_store()
    await _sessions(store)
    everything = await list_all(store)
    expected = [s.session_id for s in everything if filter.matches(s)]
    for limit in (1, 2, 50):
        assert [s.session_id for s in await list_all(store, filter, limit)] == expected
    assert await store.count_sessions(filter) == len(expected)


async def test_a_broad_listing_reads_only_a_few_summaries(
    make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first page of 200 sessions asks Redis for a chunk near the page
    size, not the whole index."""
    store = await make_store()
    for n in range(200):
        await store.append(make_batch(f"s{n:04d}", "w1", [meta(T0 + n, "https://a.example/")]))
    asked: list[int] = []
    scan = store._scan

    async def counting(args: list[object]) -> object:
        asked.append(int(args[2]))  # type: ignore[call-overload]
        return await scan(args=args)

    monkeypatch.setattr(store, "_scan", counting)
    page = await store.list_sessions(limit=10)
    assert [s.session_id for s in page.sessions] == [f"s{n:04d}" for n in range(199, 189, -1)]
    assert asked == [16]
