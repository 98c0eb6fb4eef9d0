"""Analytics figures: each report's time over the aggregates of 100,000 and
1,000,000 sessions in SQLite, and ingest throughput with analytics on and
off in the same run.

Reports: the aggregates are synthetic but made by the real collector's
fold (``bench/_analytics_data.py``): a pool of session templates (random
multi-page visits with clicks, scrolls, form use, errors, vitals and
custom events) is folded by ``sentiero_analytics.fold``; each synthetic
session takes a template, a day among 30, a segment drawn from skewed,
realistic shares (most visitors on Chrome, desktop, direct) and, one in
five, a user, and the totals those sessions add up to are written to the
store's totals table a day at a time (memory stays bounded: the whole run
takes under 800 MB and about 4 minutes here, 3 of them making the
million; collecting a million sessions one by one would take hours).
Every report then runs through its analyzer against the store, unfiltered
and with one or two segment filters; targets: under 200 ms each at 100,000
sessions, under 1 s at 1,000,000.

Ingest: batches per second through the ingest endpoint, ``sentiero
serve`` on a SQLite file with and without the analytics plugin, in
alternating rounds of the same fixed work (sessions of a real recording
paced as it was recorded, the plugin's default settings, its pending
folds included: see ``_analytics_ingest.py``); each side keeps its best
round. Target: analytics costs at most 25% of ingest throughput. Also
printed, for information: the store's side alone (``SQLiteStore.append``
by 32 writers, with and without the collector and its folds).

Run: ``.venv/bin/python bench/analytics.py`` (both sizes, what ``make
bench`` runs; the million needs about 3 GB of disk in the temporary
directory) or ``--sessions N`` (repeatable) for other sizes;
``--ingest-only`` skips the reports, ``--ingest-rounds`` sets the rounds
(2; each side's round takes about 90 s). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _analytics_data import DAYS, FIRST_DAY, PAGES, SyntheticSessions, daily_totals
from _analytics_ingest import compare
from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from sentiero_analytics.collector import collect
from sentiero_analytics.folding import Folder
from sentiero_analytics.reports import REPORTS
from sentiero_analytics.settings import AnalyticsSettings
from sentiero_store_sqlite import SQLiteStore, totals

from sentiero_core import parse_filters
from sentiero_core.store import date_of_day

SETTINGS = AnalyticsSettings()
CONCURRENCY = 32
INGEST_SESSIONS = 40


def write_totals(path: Path, data: SyntheticSessions) -> int:
    """The synthetic totals into the store's totals table (in its own
    layout), a day per transaction; how many rows."""
    db = sqlite3.connect(path)
    # a bulk load into a scratch file: no journal, no syncing
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -262144"):
        db.execute(f"PRAGMA {pragma}")
    written = 0
    try:
        for rows in daily_totals(data):
            with db:
                written += totals.insert(db, rows)
    finally:
        db.close()
    return written


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    (r.name, r.name, {}) for r in REPORTS if r.name not in ("funnels", "heatmap")
] + [
    ("pages (one page)", "pages", {"page": PAGES[2]}),
    ("heatmap (one page)", "heatmap", {"page": PAGES[0], "bucket": "desktop"}),
    ("funnels", "funnels", {"steps": f"{PAGES[0]},{PAGES[2]},{PAGES[3]}"}),
    # segment filters: one, two, a broad one, on the largest aggregates
    ("pages, browser=safari", "pages", {"browser": "safari"}),
    ("errors, device=mobile", "errors", {"device": "mobile"}),
    ("pages, safari + mobile", "pages", {"browser": "safari", "device": "mobile"}),
    ("pages, identified=no", "pages", {"identified": "no"}),
    ("engagement, identified=yes", "engagement", {"identified": "yes"}),
    ("frustration, browser=safari", "frustration", {"browser": "safari"}),
    ("vitals, device=mobile", "vitals", {"device": "mobile"}),
    ("scroll, referrer=google", "scroll", {"referrer": "www.google.com"}),
    (
        "heatmap (one page), safari",
        "heatmap",
        {"page": PAGES[0], "bucket": "desktop", "browser": "safari"},
    ),
]


async def time_reports(path: Path) -> list[tuple[str, float]]:
    store = SQLiteStore(path)
    await store.open()
    by_name = {r.name: r for r in REPORTS}
    span = {"from": date_of_day(FIRST_DAY), "to": date_of_day(FIRST_DAY + DAYS - 1)}
    out = []
    try:
        for label, name, extra in REQUESTS:
            filters = parse_filters({**span, **extra})
            times = []
            for _ in range(3):
                start = time.perf_counter()
                await by_name[name].analyze(store, filters, None)
                times.append(time.perf_counter() - start)
            out.append((label, statistics.median(times)))
    finally:
        await store.close()
    return out


async def ingest(path: Path, analytics: bool, cuts: list[list[Any]]) -> float:
    """Batches per second appended (and collected, folds included) by
    concurrent writers."""
    store = SQLiteStore(path)
    await store.open()
    batches = [b for n in range(INGEST_SESSIONS) for b in session_batches(cuts, n)]
    queue = list(reversed(batches))
    folder = Folder(store, SETTINGS) if analytics else None

    async def writer() -> None:
        while queue:
            batch = queue.pop()
            if await store.append(batch) and folder is not None:
                await collect(batch, store, SETTINGS, folder)

    start = time.perf_counter()
    if folder is not None:
        folder.start()
    await asyncio.gather(*(writer() for _ in range(CONCURRENCY)))
    if folder is not None:
        await folder.stop()  # what is pending is folded, and counted
    elapsed = time.perf_counter() - start
    await store.close()
    return len(batches) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, action="append", help="repeatable")
    parser.add_argument("--ingest-only", action="store_true", help="skip the reports")
    parser.add_argument("--ingest-rounds", type=int, default=2, help="rounds per side (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's connections (32)")
    args = parser.parse_args()
    sizes = [] if args.ingest_only else args.sessions or [100_000, 1_000_000]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        for sessions in sizes:
            path = Path(tmp) / f"reports-{sessions}.db"
            asyncio.run(_create(path))
            start = time.perf_counter()
            rows = write_totals(path, SyntheticSessions(sessions))
            made = time.perf_counter() - start
            target = 0.2 if sessions <= 100_000 else 1.0
            print(
                f"\n{sessions:,} sessions: {rows:,} aggregate rows "
                f"(made in {made:.0f} s); target {target * 1000:.0f} ms per report"
            )
            timings = asyncio.run(time_reports(path))
            for leftover in Path(tmp).glob(f"{path.name}*"):
                leftover.unlink()  # the next size needs the disk
            for label, seconds in timings:
                mark = "ok" if seconds <= target else "OVER"
                print(f"  {label:<28} {seconds * 1000:8.1f} ms  {mark}")
            slowest, worst = max(timings, key=lambda timing: timing[1])
            figures.append(
                Figure(
                    f"analytics: slowest report at {sessions:,} sessions (ms)",
                    round(worst * 1000, 1),
                    f"{worst * 1000:.1f} ({slowest})",
                    f"<= {target * 1000:.0f} ms",
                    worst <= target,
                )
            )
        events = load_recording("bench/analytics.py")
        cuts = recorder_cuts(events)
        off = asyncio.run(ingest(Path(tmp) / "off.db", False, cuts))
        on = asyncio.run(ingest(Path(tmp) / "on.db", True, cuts))
        print(
            f"\nthe store's side alone, for information ({INGEST_SESSIONS} sessions x "
            f"{len(cuts)} batches appended by {CONCURRENCY} writers, in well under the "
            f"fold interval, so each session is folded once, at the end): without the "
            f"collector {off:,.0f} batches/s, with it {on:,.0f} batches/s ({1 - on / off:.0%})"
        )
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: make bench installs it (apt-get install -y wrk)")
    http = compare(events, args.ingest_rounds, args.connections)
    cost = http.cost
    print(
        f"ingest through HTTP, best rounds: without analytics {http.off.rate:,.0f} batches/s, "
        f"with it {http.on.rate:,.0f} batches/s: analytics costs {cost:.0%} of ingest "
        f"throughput, {http.cpu_cost:.0%} by server CPU per batch "
        f"({http.off_cpu_ms:.3f} vs {http.on_cpu_ms:.3f} ms) (target at most 25%)"
    )
    figures.append(
        Figure(
            "analytics: ingest cost (on vs off)",
            round(cost, 3),
            f"{cost:.0%} ({http.on.rate:,.0f} vs {http.off.rate:,.0f} batches/s over HTTP; "
            f"{http.cpu_cost:.0%} by CPU)",
            "<= 25%",
            cost <= 0.25,
        )
    )
    write_results("analytics", figures)


async def _create(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.close()


if __name__ == "__main__":
    main()
