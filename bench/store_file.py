"""File store figures: append throughput, read time, stored/raw bytes, and
opening and listing a directory of 10,000 sessions.

Appends replay the real rrweb recording (``tests/fixtures/rrweb-demo-81s.json``)
cut into batches the way the recorder flushes them, the same batches as
``bench/store_sqlite.py``. Every append is fsynced (log, summary, directory).
Listing is measured through the store's API on a directory holding 10,000
session summaries, written with the store's own layout (appending 10,000
sessions one batch at a time would take most of the time budget).

No target is set for this store (none in the issues or docs/benchmarks.md):
the figures go to ``store_file.json`` for ``bench/_summary.py``, shown for
information.

Run: ``.venv/bin/python bench/store_file.py``.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _recording import NOW, load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from sentiero_store_file import FileStore
from sentiero_store_file.store import session_dirname

from sentiero_core.store import SessionFilter, SessionSummary

APPEND_SESSIONS = 120
CONCURRENCY = 32
LISTED_SESSIONS = 10_000
DAY_MS = 86_400_000

FIGURES: list[Figure] = []


async def bench_appends(root: Path, events: list[dict[str, Any]]) -> None:
    cuts = recorder_cuts(events)
    sessions = [session_batches(cuts, n) for n in range(APPEND_SESSIONS)]
    half = APPEND_SESSIONS // 2
    store = FileStore(root)
    await store.open()
    try:
        started = time.perf_counter()
        for batches in sessions[:half]:
            for b in batches:
                await store.append(b)
        sequential = time.perf_counter() - started
        seq_batches = sum(len(s) for s in sessions[:half])
        seq_events = sum(len(b.events) for s in sessions[:half] for b in s)

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
        stats = await store.stats()
    finally:
        await store.close()
    # reading from a store just opened: the session's log is scanned first
    store = FileStore(root)
    await store.open()
    try:
        started = time.perf_counter()
        replay = await store.read_events("bench-00000", limit=10_000)
        read_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        again = await store.read_events("bench-00000", limit=10_000)
        reread_ms = (time.perf_counter() - started) * 1000
        assert len(again.events) == len(replay.events)
    finally:
        await store.close()
    raw_mb = stats.raw_bytes / 1e6
    seq_rate, con_rate = seq_events / sequential, con_events / concurrent
    FIGURES.extend(
        [
            Figure("file append, one at a time (events/s)", round(seq_rate), f"{seq_rate:,.0f}"),
            Figure(
                f"file append, {CONCURRENCY} in flight (events/s)",
                round(con_rate),
                f"{con_rate:,.0f}",
            ),
            Figure(
                "file read a whole session, first after open (ms)",
                round(read_ms, 1),
                f"{read_ms:.1f} ({len(replay.events)} events; {reread_ms:.1f} again)",
            ),
            Figure(
                "file stored / raw JSON bytes",
                round(stats.compression_ratio, 3),
                f"{stats.compression_ratio:.3f}",
            ),
        ]
    )
    print(f"recording: {len(events)} events in {len(cuts)} recorder batches per session")
    print(
        f"append, one at a time : {seq_events / sequential:9,.0f} events/s "
        f"({seq_batches / sequential:,.0f} appends/s)"
    )
    print(
        f"append, {CONCURRENCY} concurrent  : {con_events / concurrent:9,.0f} events/s "
        f"({con_batches / concurrent:,.0f} appends/s; one writer, so no faster)"
    )
    print(
        f"read a whole session  : {read_ms:6.1f} ms for {len(replay.events)} events "
        f"(first read after open), {reread_ms:.1f} ms again"
    )
    print(
        f"stored/raw bytes      : {raw_mb:.1f} MB of JSON stored in "
        f"{stats.stored_bytes / 1e6:.1f} MB, ratio {stats.compression_ratio:.3f} "
        f"({1 / stats.compression_ratio:.1f}x smaller)"
    )


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


def _fake_summary(rng: random.Random, n: int) -> SessionSummary:
    started = NOW - rng.randrange(30 * DAY_MS)
    s = SessionSummary(
        session_id=f"s{n:06d}-{rng.getrandbits(32):08x}",
        started_at=started,
        ended_at=started + rng.randrange(5_000, 1_800_000),
    )
    pages = rng.sample(PAGES, rng.randint(1, 5))
    s.pages, s.page_count, s.entry_url = pages, len(pages), pages[0]
    s.event_count, s.batch_count = rng.randrange(50, 5_000), rng.randrange(1, 60)
    s.windows = ["w1"]
    s.error_count = rng.randrange(1, 4) if rng.random() < 0.05 else 0
    s.browser, s.os, s.device = rng.choice(AGENTS)
    s.user_id = f"user-{rng.randrange(20_000)}" if rng.random() < 0.3 else None
    s.custom_events = ["signup"] if rng.random() < 0.02 else []
    s.raw_bytes = s.event_count * 400
    return s


def load_summaries(root: Path, count: int) -> None:
    """Write ``count`` session directories as the store lays them out (a
    summary each, an empty log)."""
    rng = random.Random(7)
    for n in range(count):
        s = _fake_summary(rng, n)
        where = root / "sessions" / session_dirname(s.session_id)
        where.mkdir()
        document = {
            "format": 1,
            "summary": s.to_dict(),
            "log": 1,
            "length": 0,
            "next_arrival": 1,
        }
        (where / "summary.json").write_text(json.dumps(document))


async def timed(call: Callable[[], Awaitable[Any]], runs: int = 15) -> float:
    await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def bench_listing(root: Path, cuts: list[list[dict[str, Any]]]) -> None:
    store = FileStore(root)
    await store.open()
    await store.close()
    load_summaries(root, LISTED_SESSIONS)
    opens = []
    for _ in range(3):
        started = time.perf_counter()
        store = FileStore(root)
        await store.open()
        opens.append((time.perf_counter() - started) * 1000)
        await store.close()
    open_ms = statistics.median(opens)
    FIGURES.append(
        Figure(f"file open at {LISTED_SESSIONS:,} sessions (ms)", round(open_ms), f"{open_ms:.0f}")
    )
    print(
        f"\nlisting: {LISTED_SESSIONS:,} sessions; open (reads every summary): "
        f"{statistics.median(opens):.0f} ms (median of 3, page cache warm)"
    )
    store = FileStore(root)
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
                "url_contains=checkout",
                lambda: store.list_sessions(SessionFilter(url_contains="checkout")),
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
                        f"file first page at {LISTED_SESSIONS:,} sessions (ms)",
                        round(ms, 2),
                        f"{ms:.2f}",
                    )
                )
        batches = [b for n in range(20) for b in session_batches(cuts, 90_000 + n)]
        started = time.perf_counter()
        for b in batches:
            await store.append(b)
        elapsed = time.perf_counter() - started
        print(
            f"  append into this directory {elapsed / len(batches) * 1000:7.2f} ms per batch "
            f"(one at a time, {len(batches)} batches)"
        )
    finally:
        await store.close()


async def main() -> None:
    events = load_recording("bench/store_file.py")
    with tempfile.TemporaryDirectory(prefix="sentiero-bench-") as tmp:
        await bench_appends(Path(tmp) / "appends", events)
        await bench_listing(Path(tmp) / "listing", recorder_cuts(events))
    write_results("store_file", FIGURES)


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"\n(bench took {time.perf_counter() - started:.1f} s)")
