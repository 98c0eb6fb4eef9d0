"""What the store benches share: the recording's sessions appended with
some appends in flight, made-up session summaries to list, and the listing
queries timed through a store's API. (Not a bench: ``make bench`` runs only
the scripts whose names do not start with "_".)"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from _recording import NOW, Event, session_batches

from sentiero_core.store import Batch, SessionFilter, SessionSummary, Store

APPEND_SESSIONS = 120
CONCURRENCY = 32
DAY_MS = 86_400_000

Append = Callable[[Batch], Awaitable[Any]]


@dataclass
class Appended:
    seconds: float
    batches: int
    events: int

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds

    @property
    def batch_rate(self) -> float:
        return self.batches / self.seconds


async def append_all(appends: Sequence[Append], sessions: list[list[Batch]], each: int) -> Appended:
    """``sessions`` appended with ``each`` appends in flight per ``appends``
    (one per store, or app server), a session's batches in order; timed."""
    queue = list(sessions)

    async def worker(append: Append) -> None:
        while queue:
            for b in queue.pop():
                await append(b)

    started = time.perf_counter()
    await asyncio.gather(*(worker(a) for a in appends for _ in range(each)))
    seconds = time.perf_counter() - started
    batches = sum(len(s) for s in sessions)
    return Appended(seconds, batches, sum(len(b.events) for s in sessions for b in s))


async def read_session(store: Store) -> tuple[float, int]:
    """Milliseconds to read all of session 0's events (one page), and how many."""
    started = time.perf_counter()
    page = await store.read_events("bench-00000", limit=10_000)
    return (time.perf_counter() - started) * 1000, len(page.events)


PAGES = [
    f"https://shop.example/{section}/{i}"
    for section in ("product", "cart", "blog")
    for i in range(60)
] + ["https://shop.example/checkout", "https://shop.example/"]
AGENTS = [
    ("Chrome", "Windows", "desktop"),
    ("Firefox", "Linux", "desktop"),
    ("Safari", "iOS", "mobile"),
    ("Chrome", "Android", "tablet"),
    ("Edge", "Windows", "desktop"),
]


def fake_summary(rng: random.Random, n: int) -> SessionSummary:
    """Session ``n`` of the last 30 days, of 1-5 pages, 5% with errors."""
    started = NOW - rng.randrange(30 * DAY_MS)
    duration = rng.randrange(5_000, 1_800_000)
    s = SessionSummary(
        session_id=f"s{n:06d}-{rng.getrandbits(32):08x}",
        started_at=started,
        ended_at=started + duration,
    )
    pages = rng.sample(PAGES, rng.randint(1, 5))
    s.pages, s.page_count, s.entry_url = pages, len(pages), pages[0]
    s.event_count, s.batch_count = rng.randrange(50, 5_000), rng.randrange(1, 60)
    s.windows = ["w1"]
    s.error_count = rng.randrange(1, 4) if rng.random() < 0.05 else 0
    s.click_count = rng.randrange(0, 200)
    s.browser, s.os, s.device = rng.choice(AGENTS)
    s.user_id = f"user-{rng.randrange(20_000)}" if rng.random() < 0.3 else None
    s.custom_events = ["signup"] if rng.random() < 0.02 else []
    s.raw_bytes = s.event_count * 400
    return s


async def timed(call: Callable[[], Awaitable[Any]], runs: int = 15) -> float:
    """Median milliseconds of ``runs`` calls, after one to warm the caches."""
    await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _queries(store: Store, deep: str | None) -> dict[str, Callable[[], Awaitable[Any]]]:
    def listed(**where: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: store.list_sessions(SessionFilter(**where))

    return {
        "first page, 50 newest": lambda: store.list_sessions(limit=50),
        "page 101 by cursor": lambda: store.list_sessions(cursor=deep, limit=50),
        "has_errors": listed(has_errors=True),
        "browser=firefox": listed(browser="firefox"),
        "browser=opera (no match)": listed(browser="opera"),
        "user_id": listed(user_id="user-42"),
        "custom_event=signup": listed(custom_event="signup"),
        "url_contains=checkout": listed(url_contains="checkout"),
        "url_contains (no match)": listed(url_contains="/nowhere"),
        "last 24 h, >= 10 min": listed(started_after=NOW - DAY_MS, min_duration_ms=600_000),
        "count, no filter": lambda: store.count_sessions(),
        "count has_errors": lambda: store.count_sessions(SessionFilter(has_errors=True)),
        "stats": lambda: store.stats(),
    }


async def time_listing(
    store: Store, runs: Mapping[str, int] | None = None, width: int = 7
) -> dict[str, float]:
    """The median milliseconds of each query named in ``runs`` (a label of
    ``_queries``: how many times to time it; all of them, 15 times, when
    None), printed as they come."""
    deep = None
    for _ in range(100):
        deep = (await store.list_sessions(cursor=deep, limit=50)).next
    queries = _queries(store, deep)
    medians = {}
    for label, times in (runs or dict.fromkeys(queries, 15)).items():
        medians[label] = ms = await timed(queries[label], times)
        print(f"  {label:26s} {ms:{width}.2f} ms (median)")
    return medians


async def append_into(store: Store, cuts: list[list[Event]], where: str) -> None:
    """Prints the time of an append one at a time into a store full of sessions."""
    batches = [b for n in range(20) for b in session_batches(cuts, 90_000 + n)]
    started = time.perf_counter()
    for b in batches:
        await store.append(b)
    elapsed = time.perf_counter() - started
    print(
        f"  {'append into this ' + where:26s} {elapsed / len(batches) * 1000:7.2f} ms per batch "
        f"(one at a time, {len(batches)} batches)"
    )
