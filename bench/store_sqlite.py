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
import tempfile
import time
from pathlib import Path
from typing import Any

from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, at_least, below, write_results
from _stores import (
    APPEND_SESSIONS,
    CONCURRENCY,
    append_all,
    append_into,
    fake_summary,
    read_session,
    time_listing,
)
from sentiero_store_sqlite import SQLiteStore
from sentiero_store_sqlite.appends import summary_columns

LISTED_SESSIONS = 100_000
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
        one = await append_all([store.append], sessions[:half], 1)
        groups_before = store.groups_committed
        many = await append_all([store.append], sessions[half:], CONCURRENCY)
        groups = store.groups_committed - groups_before

        stats = await store.stats()
        read_ms, events_read = await read_session(store)
    finally:
        await store.close()
    raw_mb = stats.raw_bytes / 1e6
    print(f"recording: {len(events)} events in {len(cuts)} recorder batches per session")
    print(f"append, one at a time : {one.rate:9,.0f} events/s ({one.batch_rate:,.0f} batches/s)")
    print(
        f"append, {CONCURRENCY} concurrent  : {many.rate:9,.0f} events/s "
        f"({many.batch_rate:,.0f} batches/s, {many.batches} appends "
        f"in {groups} transactions)"
    )
    print(f"read a whole session  : {read_ms:6.1f} ms for {events_read} events")
    FIGURES.append(
        Figure(
            f"sqlite append, {CONCURRENCY} in flight (events/s)",
            round(many.rate),
            f"{many.rate:,.0f}",
            f">= {CONCURRENT_TARGET:,}",
            at_least(many.rate, CONCURRENT_TARGET),
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


def load_summaries(path: Path, count: int) -> None:
    """Write ``count`` summaries in one transaction, as the store lays them out."""
    rng = random.Random(7)
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        for n in range(count):
            s = fake_summary(rng, n)
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
        ms = (await time_listing(store))["first page, 50 newest"]
        FIGURES.append(
            Figure(
                f"sqlite first page at {LISTED_SESSIONS:,} sessions (ms)",
                round(ms, 2),
                f"{ms:.2f}",
                f"< {LISTING_TARGET_MS:g} ms",
                below(ms, LISTING_TARGET_MS),
            )
        )
        await append_into(store, cuts, "file")
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
