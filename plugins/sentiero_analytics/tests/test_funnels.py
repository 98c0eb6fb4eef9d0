"""The funnel's list of sessions that dropped agrees with its counts: the
same time-ordered path of pages and custom events, the same filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sentiero_analytics import REPORTS
from sentiero_analytics.collector import collect
from sentiero_analytics.reports import MAX_DROPPING_PATHS
from sentiero_analytics.settings import AnalyticsSettings
from sentiero_store_file import FileStore
from sentiero_store_sqlite import SQLiteStore

from sentiero_core import parse_filters
from sentiero_core.store import MemoryStore, Store
from sentiero_core.testing import FIREFOX_WINDOWS, T0, custom, make_batch, meta

pytestmark = pytest.mark.asyncio

SETTINGS = AnalyticsSettings()
FUNNELS = next(r for r in REPORTS if r.name == "funnels")
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
SHOP = "https://shop.example"


@pytest_asyncio.fixture(params=["memory", "sqlite", "file"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store = {
        "memory": MemoryStore,
        "sqlite": lambda: SQLiteStore(tmp_path / "f.sqlite"),
        "file": lambda: FileStore(tmp_path / "files"),
    }[request.param]()
    await s.open()
    yield s
    await s.close()


async def visit(
    store: Store, sid: str, start: int, steps: list[str], user_agent: str = CHROME
) -> None:
    """One tab doing ``steps`` a second apart: a path is a page view, an
    ``event:<name>`` a custom event."""
    events: list[dict[str, Any]] = []
    for i, step in enumerate(steps):
        t = start + i * 1000
        if step.startswith("event:"):
            events.append(custom(t, "sentiero:custom", {"name": step[6:]}))
        else:
            events.append(meta(t, SHOP + step))
    batch = make_batch(sid, "w1", events, user_agent=user_agent)
    assert await store.append(batch)
    await collect(batch, store, SETTINGS, None)


async def funnel(store: Store, steps: str, **segments: str) -> dict[str, Any]:
    f = parse_filters({"from": "2023-11-01", "to": "2023-11-30", "steps": steps, **segments})
    return await FUNNELS.analyze(store, f, None)


async def test_the_dropped_list_follows_the_order_things_happened(store: Store) -> None:
    await visit(store, "bought", T0, ["/list", "event:signup", "/cart"])
    # signed up before seeing the list: reached /list only. Pages first and
    # events after (the session's summary) would say it reached the signup.
    await visit(store, "early-signup", T0 + 60_000, ["event:signup", "/list"])
    await visit(store, "signed-up", T0 + 120_000, ["/list", "event:signup", "/home"])
    await visit(store, "never-listed", T0 + 180_000, ["/home"])
    report = await funnel(store, "/list,event:signup,/cart")
    assert [(r["step"], r["sessions"], r["drop_off"]) for r in report["rows"]] == [
        ("/list", 3, 0),
        ("event:signup", 2, 1),
        ("/cart", 1, 1),
    ]
    # the latest first, each with the last step it reached
    assert report["dropped"] == [
        {"session_id": "signed-up", "dropped_after": "event:signup"},
        {"session_id": "early-signup", "dropped_after": "/list"},
    ]


async def test_the_dropped_list_keeps_to_the_filters(store: Store) -> None:
    await visit(store, "chrome", T0, ["/list"])
    await visit(store, "firefox", T0 + 60_000, ["/list"], user_agent=FIREFOX_WINDOWS)
    everyone = await funnel(store, "/list,/cart")
    assert [d["session_id"] for d in everyone["dropped"]] == ["firefox", "chrome"]
    chrome = await funnel(store, "/list,/cart", browser="chrome")
    assert chrome["rows"][0]["sessions"] == 1
    assert chrome["dropped"] == [{"session_id": "chrome", "dropped_after": "/list"}]
    assert (await funnel(store, "/list,/cart", browser="safari"))["dropped"] == []


async def test_the_dropped_list_is_the_latest_max_links_over_many_paths(store: Store) -> None:
    # many distinct paths, each with one session
    for i in range(300):
        await visit(store, f"s{i:03}", T0 + i * 10_000, ["/list", f"/item/{i}"])
    await visit(store, "done", T0 + 3_100_000, ["/list", "/cart"])
    report = await funnel(store, "/list,/cart")
    assert report["rows"][1]["drop_off"] == 300
    want = [f"s{i:03}" for i in range(299, 299 - SETTINGS.max_links, -1)]
    assert [d["session_id"] for d in report["dropped"]] == want
    assert MAX_DROPPING_PATHS >= 300


async def test_a_deleted_session_leaves_the_dropped_list(store: Store) -> None:
    await visit(store, "gone", T0, ["/list"])
    await visit(store, "kept", T0 + 60_000, ["/list"])
    await store.delete_sessions(["gone"])
    report = await funnel(store, "/list,/cart")
    assert report["rows"][0]["sessions"] == 1
    assert report["dropped"] == [{"session_id": "kept", "dropped_after": "/list"}]


async def test_the_latest_dropped_sessions_span_days_with_none_between(store: Store) -> None:
    day = 86_400_000
    for i in range(10):
        await visit(store, f"early{i}", T0 + i * 60_000, ["/list"])
    await visit(store, "converted", T0 + day, ["/list", "/cart"])
    for i in range(15):
        await visit(store, f"late{i:02}", T0 + 2 * day + i * 60_000, ["/list"])
    report = await funnel(store, "/list,/cart")
    assert report["rows"][1]["drop_off"] == 25
    want = [f"late{i:02}" for i in range(14, -1, -1)] + [f"early{i}" for i in range(9, 4, -1)]
    assert [d["session_id"] for d in report["dropped"]] == want
