"""The analytics numbers are exact whatever the delivery: shuffled,
concurrent and repeated batches give the reports of a sequential run, and
erasing a session gives the reports of a run without it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sentiero_analytics import REPORTS
from sentiero_analytics.collector import collect
from sentiero_analytics.folding import SESSION_KEY, Folder
from sentiero_analytics.settings import AnalyticsSettings
from sentiero_store_file import FileStore
from sentiero_store_sqlite import SQLiteStore

from sentiero_core import parse_filters
from sentiero_core.store import Batch, MemoryStore, Store
from sentiero_core.testing import (
    CHROME_ANDROID_TABLET,
    FIREFOX_WINDOWS,
    SAFARI_IPHONE,
    T0,
    click,
    custom,
    error,
    identify,
    make_batch,
    meta,
)

pytestmark = pytest.mark.asyncio

SETTINGS = AnalyticsSettings()
FILTERS = parse_filters({"from": "2023-11-01", "to": "2023-11-30"})
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


def scroll(ts: int, y: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 3, "id": 1, "x": 0, "y": y}}


def session_batches(sid: str, start: int, pages: list[str], rng: random.Random) -> list[Batch]:
    """A tab visiting ``pages``, two batches per page: the page view in the
    first (half the time with the recorder's names of the clicks to come),
    clicks, scrolls and an error in the second."""
    batches = []
    t = start
    seq = 0
    for page in pages:
        events = [click(t + 100 + i * 400, 40 * i, 60, node_id=i) for i in range(rng.randint(1, 4))]
        first = [meta(t, page)]
        if rng.random() < 0.5:  # the recorder named what was clicked; the batch ended there
            first += [
                custom(e["timestamp"] - 1, "sentiero:click", {"id": n, "sel": f"a#x{n}", **pos})
                for n, e in enumerate(events)
                for pos in [{"x": rng.randint(0, 30), "y": 5, "w": 30, "h": 10}]
            ]
        seq += 1
        batches.append(make_batch(sid, "w1", first, seq=seq, user_agent=UA))
        events += [scroll(t + 50, rng.randint(0, 2000))]
        if rng.random() < 0.3:
            events.append(error(t + 900, "TypeError: boom"))
        events.append(custom(t + 950, "sentiero:custom", {"name": "added_to_cart"}))
        seq += 1
        batches.append(make_batch(sid, "w1", events, seq=seq, user_agent=UA))
        t += 5_000 + rng.randint(0, 3000)
    return batches


def workload(seed: int = 1, sessions: int = 8) -> list[Batch]:
    rng = random.Random(seed)
    site = ["https://shop.example/", "https://shop.example/list", "https://shop.example/cart"]
    out = []
    for i in range(sessions):
        pages = [rng.choice(site) for _ in range(rng.randint(1, 4))]
        out += session_batches(f"s{i}", T0 + i * 60_000, pages, rng)
    return out


async def deliver(store: Store, batch: Batch, folder: Folder | None = None) -> None:
    """What the ingest path does; folded now without a folder."""
    if await store.append(batch):
        await collect(batch, store, SETTINGS, folder)


async def reports(store: Store) -> dict[str, Any]:
    out = {}
    for r in REPORTS:
        if r.name == "funnels":
            f = parse_filters({"from": "2023-11-01", "to": "2023-11-30", "steps": "/list,/cart"})
            out[r.name] = await r.analyze(store, f, None)
        else:
            out[r.name] = await r.analyze(store, FILTERS, None)
    f = parse_filters({"from": "2023-11-01", "to": "2023-11-30", "page": "https://shop.example/"})
    out["heatmap of a page"] = await REPORTS[3].analyze(store, f, None)
    return out


@pytest_asyncio.fixture(params=["memory", "sqlite", "file"])
async def make(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[Store] = []

    async def new() -> Store:
        if request.param == "memory":
            store: Store = MemoryStore()
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / f"db{len(opened)}.sqlite")
        else:
            store = FileStore(tmp_path / f"files{len(opened)}")
        await store.open()
        opened.append(store)
        return store

    yield new
    for s in opened:
        await s.close()


@pytest.mark.parametrize("fold_interval", [None, 0.0, 30.0], ids=["inline", "racing", "later"])
async def test_shuffled_concurrent_and_repeated_delivery_is_exact(
    make: Any, fold_interval: float | None
) -> None:
    """Folded after each batch, by a folder folding as fast as it can
    (folds racing the merges), or by one folding everything at the end:
    the numbers of a sequential delivery folded after each batch."""
    batches = workload()
    reference = await make()
    for b in batches:
        await deliver(reference, b)
    expected = await reports(reference)
    assert expected["pages"]["rows"], "the workload must produce page views"
    assert any(r["bounces"] for r in expected["pages"]["rows"])
    assert expected["heatmap of a page"]["elements"], "and clicks on named elements"

    shuffled = await make()
    folder = None
    if fold_interval is not None:
        folder = Folder(shuffled, AnalyticsSettings(fold_interval=fold_interval))
        folder.start()
    order = batches * 2  # every batch delivered twice
    random.Random(5).shuffle(order)
    # in waves of concurrent deliveries
    for i in range(0, len(order), 6):
        await asyncio.gather(*(deliver(shuffled, b, folder) for b in order[i : i + 6]))
    if folder is not None:
        await folder.flush()
        await folder.stop()
    assert await reports(shuffled) == expected


async def test_a_folder_folds_each_session_once_after_its_interval(make: Any) -> None:
    """Batches arriving within the interval wait for one fold: nothing is
    in the totals before it, everything after it."""
    batches = workload(seed=3, sessions=3)
    reference = await make()
    for b in batches:
        await deliver(reference, b)
    store = await make()
    folder = Folder(store, AnalyticsSettings(fold_interval=3600))
    for b in batches:
        await deliver(store, b, folder)
    assert folder.pending == 3
    assert await store.unfolded_sessions(SESSION_KEY) == ["s0", "s1", "s2"]
    assert (await reports(store))["pages"]["rows"] == []
    await folder.flush()
    assert folder.pending == 0 and await store.unfolded_sessions(SESSION_KEY) == []
    assert await reports(store) == await reports(reference)


async def test_erasing_a_session_equals_never_having_it(make: Any) -> None:
    batches = workload(seed=2)
    full = await make()
    for b in batches:
        await deliver(full, b)
    without = await make()
    for b in batches:
        if b.session_id != "s3":
            await deliver(without, b)
    assert await full.delete_sessions(["s3"]) == 1
    assert await reports(full) == await reports(without)


async def test_reports_count_what_was_played() -> None:
    store = MemoryStore()
    await store.open()
    a, b = "https://shop.example/a", "https://shop.example/b"
    batches = [
        make_batch("x", "w1", [meta(T0, a + "?utm_source=news")], seq=1, user_agent=UA),
        make_batch(
            "x",
            "w1",
            [
                click(T0 + 10, 25, 45),
                click(T0 + 20, 25, 45),
                click(T0 + 30, 25, 45),
                scroll(T0 + 40, 600),
            ],
            seq=2,
            user_agent=UA,
        ),
        make_batch(
            "x", "w1", [meta(T0 + 4_000, b), error(T0 + 4_100, "Boom")], seq=3, user_agent=UA
        ),
        make_batch("x", "w1", [click(T0 + 9_000, 5, 5)], seq=4, user_agent=UA),
    ]
    for batch in reversed(batches):  # the worst order
        await deliver(store, batch)
    got = await reports(store)
    pages = {r["page"]: r for r in got["pages"]["rows"]}
    assert pages[a]["views"] == 1 and pages[a]["avg_time_ms"] == 4_000 and pages[a]["entries"] == 1
    assert pages[b]["exits"] == 1 and pages[b]["avg_time_ms"] == 5_000
    assert got["errors"]["rows"][0]["message"] == "Boom"
    assert got["errors"]["rows"][0]["pages"] == [b]
    assert got["errors"]["rows"][0]["replays"] == [{"session_id": "x", "at": T0 + 4_100}]
    rage = [r for r in got["frustration"]["rows"] if r["kind"] == "rage"]
    assert [(r["page"], r["count"]) for r in rage] == [(a, 1)]
    heat = await REPORTS[3].analyze(
        store, parse_filters({"from": "2023-11-01", "to": "2023-11-30", "page": a}), None
    )
    assert heat["rows"] == [{"viewport": "desktop", "x": 20, "y": 40, "clicks": 3}]
    scroll_rows = [r for r in got["scroll"]["rows"] if r["page"] == a]
    assert scroll_rows == [{"page": a, "depth_px": 1250, "views": 1, "reached": 1, "share": 1.0}]
    seg = await REPORTS[1].analyze(
        store, parse_filters({"from": "2023-11-01", "to": "2023-11-30", "by": "utm_source"}), None
    )
    assert seg["rows"][0]["value"] == "news" and seg["sessions"] == 1
    assert got["engagement"]["pages_per_session"] == 2.0
    await store.close()


SEGMENT_FILTERS = [
    {"browser": "safari"},
    {"device": "mobile"},
    {"browser": "chrome", "os": "linux"},
    {"identified": "yes"},
    {"identified": "no", "viewport": "desktop"},
    {"browser": "nobody"},
]


def mixed_workload(seed: int = 6, sessions: int = 16) -> list[Batch]:
    """Sessions on several browsers and devices, some identified, so every
    segment filter has something to keep and something to leave out."""
    rng = random.Random(seed)
    agents = [UA, SAFARI_IPHONE, FIREFOX_WINDOWS, CHROME_ANDROID_TABLET]
    site = ["https://shop.example/", "https://shop.example/list", "https://shop.example/cart"]
    out = []
    for i in range(sessions):
        pages = [rng.choice(site) for _ in range(rng.randint(1, 4))]
        batches = session_batches(f"m{i}", T0 + i * 60_000 + (i % 3) * 86_400_000, pages, rng)
        agent = agents[i % len(agents)]
        for b in batches:
            events = list(b.events)
            if i % 3 == 0 and b.seq == 1:
                events.append(identify(events[0]["timestamp"] + 1, f"user{i % 5}"))
            out.append(make_batch(b.session_id, "w1", events, seq=b.seq, user_agent=agent))
    return out


async def test_segment_filtered_reports_agree_on_every_store(make: Any) -> None:
    """Every report with one or two segment filters (summed and cut in the
    store, SQLite in SQL) equals the memory store's, whose grouping is the
    reference semantics; and a filter on every segment value together adds
    up to the unfiltered report."""
    batches = mixed_workload()
    reference = MemoryStore()
    await reference.open()
    store = await make()
    for b in batches:
        await deliver(reference, b)
        await deliver(store, b)
    try:
        sessions = {}
        for segments in [{}, *SEGMENT_FILTERS]:
            params = {"from": "2023-11-01", "to": "2023-11-30", **segments}
            for r in REPORTS:
                extra = {"steps": "/list,/cart"} if r.name == "funnels" else {}
                f = parse_filters({**params, **extra})
                got = await r.analyze(store, f, None)
                assert got == await r.analyze(reference, f, None), (r.name, segments)
                if r.name == "engagement":
                    sessions[tuple(segments.items())] = got["sessions"]
        # each filter kept some sessions and left some out (the last, all)
        counts = list(sessions.values())
        assert all(0 < n < counts[0] for n in counts[1:-1]) and counts[-1] == 0, sessions
        # the browsers' pages add up to all pages
        pages = REPORTS[0]
        whole = await pages.analyze(store, FILTERS, None)
        views: dict[str, int] = {}
        for browser in ("chrome", "safari", "firefox"):
            f = parse_filters({"from": "2023-11-01", "to": "2023-11-30", "browser": browser})
            for row in (await pages.analyze(store, f, None))["rows"]:
                views[row["page"]] = views.get(row["page"], 0) + row["views"]
        assert views == {row["page"]: row["views"] for row in whole["rows"]}
        assert len(views) == 3
    finally:
        await reference.close()


async def test_a_replay_opens_at_the_first_of_a_sessions_dead_clicks() -> None:
    """Two dead clicks of one session on one element count twice and link
    one replay, at the first of them."""
    store = MemoryStore()
    await store.open()
    page = "https://shop.example/a"
    batches = [
        make_batch("d", "w1", [meta(T0, page)], seq=1, user_agent=UA),
        make_batch(
            "d",
            "w1",
            [click(T0 + 1_000, 10, 10, node_id=5), click(T0 + 3_000, 400, 300, node_id=5)],
            seq=2,
            user_agent=UA,
        ),
        make_batch("d", "w1", [scroll(T0 + 9_000, 100)], seq=3, user_agent=UA),
    ]
    for batch in batches:
        await deliver(store, batch)
    got = await REPORTS[8].analyze(store, FILTERS, None)
    assert got["rows"] == [
        {
            "kind": "dead",
            "page": page,
            "element": "(unknown)",
            "count": 2,
            "replays": [{"session_id": "d", "at": T0 + 1_000}],
        }
    ]
    await store.close()
