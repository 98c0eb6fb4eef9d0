"""SQLite store figures: append throughput, listing at 100,000 sessions,
compression ratio.

Appends replay a real rrweb recording (``tests/fixtures/rrweb-demo-81s.json``
from the repository root), cut into batches the way the recorder flushes
them (every 10 s or 50 events), each session shifted in time. Listing is
measured through the store's API on a file holding 100,000 session summaries,
loaded in one bulk transaction with the store's own row layout (appending
100,000 batches one by one would take the whole time budget).

Run: ``.venv/bin/python bench/store_sqlite.py``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _recording import NOW, load_recording, recorder_cuts, session_batches
from _results import Figure, at_least, below, write_results
from sentiero_store_sqlite import SQLiteStore
from sentiero_store_sqlite.appends import summary_columns

from sentiero_core.store import (
    SessionFilter,
    SessionSummary,
)

APPEND_SESSIONS = 120
CONCURRENCY = 32
LISTED_SESSIONS = 100_000
DAY_MS = 86_400_000
# Targets (docs/benchmarks.md): a third of the figures measured on a busy machine.
CONCURRENT_TARGET = 100_000
LISTING_TARGET_MS = 5.0
#: The figures for the JSON of _summary.py, filled as the bench goes.
FIGURES: list[Figure] = []


async def bench_appends(path: Path, events: list[dict[str, Any]]) -> None:
    cuts = recorder_cuts(events)
    sessions = [session_batches(cuts, n) for n in range(APPEND_SESSIONS)]
    half = APPEND_SESSIONS // 2
    store = SQLiteStore(path)
    await store.open()
    try:
        started = time.perf_counter()
        for batches in sessions[:half]:
            for b in batches:
                await store.append(b)
        sequential = time.perf_counter() - started
        seq_batches = sum(len(s) for s in sessions[:half])
        seq_events = sum(len(b.events) for s in sessions[:half] for b in s)

        groups_before = store.groups_committed
        queue = list(sessions[half:])

        async def worker() -> None:
            while queue:
                for b in queue.pop():
                    await store.append(b)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        concurrent = time.perf_counter() - started
        con_batches = sum(len(s) for s in sessions[half:])
        con_events = sum(len(b.events) for s in sessions[half:] for b in s)
        groups = store.groups_committed - groups_before

        stats = await store.stats()
        started = time.perf_counter()
        replay = await store.read_events("bench-00000", limit=10_000)
        read_ms = (time.perf_counter() - started) * 1000
    finally:
        await store.close()
    raw_mb = stats.raw_bytes / 1e6
    print(f"recording: {len(events)} events in {len(cuts)} recorder batches per session")
    print(
        f"append, one at a time : {seq_events / sequential:9,.0f} events/s "
        f"({seq_batches / sequential:,.0f} batches/s)"
    )
    print(
        f"append, {CONCURRENCY} concurrent  : {con_events / concurrent:9,.0f} events/s "
        f"({con_batches / concurrent:,.0f} batches/s, {con_batches} appends "
        f"in {groups} transactions)"
    )
    print(f"read a whole session  : {read_ms:6.1f} ms for {len(replay.events)} events")
    rate = con_events / concurrent
    FIGURES.append(
        Figure(
            f"sqlite append, {CONCURRENCY} in flight (events/s)",
            round(rate),
            f"{rate:,.0f}",
            f">= {CONCURRENT_TARGET:,}",
            at_least(rate, CONCURRENT_TARGET),
        )
    )
    FIGURES.append(
        Figure(
            "sqlite stored / raw JSON bytes",
            round(stats.compression_ratio, 3),
            f"{stats.compression_ratio:.3f}",
        )
    )
    print(
        f"compression           : {raw_mb:.1f} MB of JSON stored in "
        f"{stats.stored_bytes / 1e6:.1f} MB, ratio {stats.compression_ratio:.3f} "
        f"({1 / stats.compression_ratio:.1f}x smaller)"
    )


def _fake_summary(rng: random.Random, n: int) -> SessionSummary:
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


def load_summaries(path: Path, count: int) -> None:
    """Write ``count`` summaries in one transaction, as the store lays them out."""
    rng = random.Random(7)
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        for n in range(count):
            s = _fake_summary(rng, n)
            rowid = db.execute(
                "INSERT INTO sessions (started_at, ended_at, duration_ms, error_count, user_id, "
                "browser, device, os, summary, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*summary_columns(s), s.session_id),
            ).lastrowid
            db.executemany(
                "INSERT INTO session_pages VALUES (?, ?)", [(rowid, p.lower()) for p in s.pages]
            )
            db.executemany(
                "INSERT INTO session_custom_events VALUES (?, ?)",
                [(rowid, e) for e in s.custom_events],
            )
        db.execute("COMMIT")
        db.execute("ANALYZE")


async def timed(call: Callable[[], Awaitable[Any]], runs: int = 15) -> float:
    await call()  # warm the page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def bench_listing(path: Path, cuts: list[list[dict[str, Any]]]) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.close()
    started = time.perf_counter()
    load_summaries(path, LISTED_SESSIONS)
    loaded = time.perf_counter() - started
    print(
        f"\nlisting: {LISTED_SESSIONS:,} sessions bulk-loaded in {loaded:.1f} s "
        f"({path.stat().st_size / 1e6:.0f} MB file)"
    )
    store = SQLiteStore(path)
    await store.open()
    try:
        deep = None
        for _ in range(100):
            deep = (await store.list_sessions(cursor=deep, limit=50)).next
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("first page, 50 newest", lambda: store.list_sessions(limit=50)),
            ("page 101 by cursor", lambda: store.list_sessions(cursor=deep, limit=50)),
            ("has_errors", lambda: store.list_sessions(SessionFilter(has_errors=True))),
            ("browser=firefox", lambda: store.list_sessions(SessionFilter(browser="firefox"))),
            (
                "browser=opera (no match)",
                lambda: store.list_sessions(SessionFilter(browser="opera")),
            ),
            ("user_id", lambda: store.list_sessions(SessionFilter(user_id="user-42"))),
            (
                "custom_event=signup",
                lambda: store.list_sessions(SessionFilter(custom_event="signup")),
            ),
            (
                "url_contains=checkout",
                lambda: store.list_sessions(SessionFilter(url_contains="checkout")),
            ),
            (
                "url_contains (no match)",
                lambda: store.list_sessions(SessionFilter(url_contains="/nowhere")),
            ),
            (
                "last 24 h, >= 10 min",
                lambda: store.list_sessions(
                    SessionFilter(started_after=NOW - DAY_MS, min_duration_ms=600_000)
                ),
            ),
            ("count, no filter", lambda: store.count_sessions()),
            ("count has_errors", lambda: store.count_sessions(SessionFilter(has_errors=True))),
            ("stats", lambda: store.stats()),
        ]
        for label, call in cases:
            ms = await timed(call)
            print(f"  {label:26s} {ms:7.2f} ms (median)")
            if label.startswith("first page"):
                FIGURES.append(
                    Figure(
                        f"sqlite first page at {LISTED_SESSIONS:,} sessions (ms)",
                        round(ms, 2),
                        f"{ms:.2f}",
                        f"< {LISTING_TARGET_MS:g} ms",
                        below(ms, LISTING_TARGET_MS),
                    )
                )
        batches = [b for n in range(20) for b in session_batches(cuts, 90_000 + n)]
        started = time.perf_counter()
        for b in batches:
            await store.append(b)
        elapsed = time.perf_counter() - started
        print(
            f"  append into this file      {elapsed / len(batches) * 1000:7.2f} ms per batch "
            f"(one at a time, {len(batches)} batches)"
        )
    finally:
        await store.close()


async def main() -> None:
    events = load_recording("bench/store_sqlite.py")
    with tempfile.TemporaryDirectory(prefix="sentiero-bench-") as tmp:
        await bench_appends(Path(tmp) / "appends.db", events)
        await bench_listing(Path(tmp) / "listing.db", recorder_cuts(events))
    write_results("store_sqlite", FIGURES)


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"\n(bench took {time.perf_counter() - started:.1f} s)")
