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
from pathlib import Path
from typing import Any

from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from _stores import (
    APPEND_SESSIONS,
    CONCURRENCY,
    append_all,
    append_into,
    fake_summary,
    read_session,
    time_listing,
)
from sentiero_store_file import FileStore
from sentiero_store_file.store import session_dirname

LISTED_SESSIONS = 10_000
#: The listing queries it times, of those in bench/_stores.py.
QUERIES = (
    "first page, 50 newest",
    "page 101 by cursor",
    "has_errors",
    "browser=firefox",
    "browser=opera (no match)",
    "user_id",
    "url_contains=checkout",
    "count, no filter",
    "count has_errors",
    "stats",
)

FIGURES: list[Figure] = []


async def bench_appends(root: Path, events: list[dict[str, Any]]) -> None:
    cuts = recorder_cuts(events)
    sessions = [session_batches(cuts, n) for n in range(APPEND_SESSIONS)]
    half = APPEND_SESSIONS // 2
    store = FileStore(root)
    await store.open()
    try:
        one = await append_all([store.append], sessions[:half], 1)
        many = await append_all([store.append], sessions[half:], CONCURRENCY)
        stats = await store.stats()
    finally:
        await store.close()
    # reading from a store just opened: the session's log is scanned first
    store = FileStore(root)
    await store.open()
    try:
        read_ms, events_read = await read_session(store)
        reread_ms, again = await read_session(store)
        assert again == events_read
    finally:
        await store.close()
    raw_mb = stats.raw_bytes / 1e6
    FIGURES.extend(
        [
            Figure("file append, one at a time (events/s)", round(one.rate), f"{one.rate:,.0f}"),
            Figure(
                f"file append, {CONCURRENCY} in flight (events/s)",
                round(many.rate),
                f"{many.rate:,.0f}",
            ),
            Figure(
                "file read a whole session, first after open (ms)",
                round(read_ms, 1),
                f"{read_ms:.1f} ({events_read} events; {reread_ms:.1f} again)",
            ),
            Figure(
                "file stored / raw JSON bytes",
                round(stats.compression_ratio, 3),
                f"{stats.compression_ratio:.3f}",
            ),
        ]
    )
    print(f"recording: {len(events)} events in {len(cuts)} recorder batches per session")
    print(f"append, one at a time : {one.rate:9,.0f} events/s ({one.batch_rate:,.0f} appends/s)")
    print(
        f"append, {CONCURRENCY} concurrent  : {many.rate:9,.0f} events/s "
        f"({many.batch_rate:,.0f} appends/s; one writer, so no faster)"
    )
    print(
        f"read a whole session  : {read_ms:6.1f} ms for {events_read} events "
        f"(first read after open), {reread_ms:.1f} ms again"
    )
    print(
        f"stored/raw bytes      : {raw_mb:.1f} MB of JSON stored in "
        f"{stats.stored_bytes / 1e6:.1f} MB, ratio {stats.compression_ratio:.3f} "
        f"({1 / stats.compression_ratio:.1f}x smaller)"
    )


def load_summaries(root: Path, count: int) -> None:
    """Write ``count`` session directories as the store lays them out (a
    summary each, an empty log)."""
    rng = random.Random(7)
    for n in range(count):
        s = fake_summary(rng, n)
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
        ms = (await time_listing(store, dict.fromkeys(QUERIES, 15)))["first page, 50 newest"]
        FIGURES.append(
            Figure(
                f"file first page at {LISTED_SESSIONS:,} sessions (ms)",
                round(ms, 2),
                f"{ms:.2f}",
            )
        )
        await append_into(store, cuts, "directory")
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
