"""Analytics figures: each report's time over the aggregates of 100,000 and
1,000,000 sessions in SQLite, and ingest throughput with analytics on and
off in the same run.

Reports: the aggregates are synthetic but made by the real collector. A
pool of session templates (random multi-page visits with clicks, scrolls,
form use, errors, vitals and custom events) is folded by
``sentiero_analytics.fold``; each synthetic session takes a template, a
day among 30 and a segment drawn from skewed, realistic shares (most
visitors on Chrome, desktop, direct), and the totals those sessions would
add up to are written to the store's ``agg_totals`` in one transaction
(collecting a million sessions one by one would take the whole time
budget). Every report then runs through its analyzer against the store;
targets: under 200 ms each at 100,000 sessions, under 1 s at 1,000,000.

Ingest: batches per second through the ingest endpoint, ``sentiero
serve`` on a SQLite file with and without the analytics plugin, in
alternating rounds of the same fixed work (sessions of a real recording
paced as it was recorded, the plugin's default settings, its pending
folds included: see ``_analytics_ingest.py``); each side keeps its best
round. Target: analytics costs at most 25% of ingest throughput. Also
printed, for information: the store's side alone (``SQLiteStore.append``
by 32 writers, with and without the collector and its folds).

Run: ``.venv/bin/python bench/analytics.py`` (100,000 sessions, what
``make bench`` runs) or ``--sessions 100000 --sessions 1000000`` for the
issue's second size (its synthetic data needs about 10 GB of memory and
20 minutes here); ``--ingest-only`` skips the reports, ``--ingest-rounds``
sets the rounds (2; each side's round takes about 90 s). Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from _analytics_ingest import compare
from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from sentiero_analytics.collector import collect
from sentiero_analytics.fold import ROLLUP, UNROLLED, fold_session
from sentiero_analytics.folding import Folder
from sentiero_analytics.reports import REPORTS
from sentiero_analytics.settings import AnalyticsSettings
from sentiero_store_sqlite import SQLiteStore

from sentiero_core import SEGMENTS, parse_filters, segment_dims
from sentiero_core.store import DAY_MS, date_of_day

SETTINGS = AnalyticsSettings()
DAYS = 30
FIRST_DAY = 20_400
TEMPLATES = 200
PAGES = [f"https://shop.example/{p}" for p in ("", "list", "cart", "checkout", "help")] + [
    f"https://shop.example/product/{i}" for i in range(45)
]
CONCURRENCY = 32
INGEST_SESSIONS = 40

# (value, weight): skewed like real traffic
BROWSERS = [("chrome", 62), ("safari", 20), ("firefox", 8), ("edge", 7), ("samsung", 3)]
OSES = [("windows", 40), ("ios", 22), ("android", 20), ("macos", 14), ("linux", 4)]
DEVICES = [("desktop", 58), ("mobile", 38), ("tablet", 4)]
REFERRERS = [("direct", 50), ("www.google.com", 30), ("www.bing.com", 6), ("t.co", 5)]
REFERRERS += [(f"blog{i}.example", 1) for i in range(9)]
UTM = [(("", "", ""), 85)] + [((f"src{i}", "cpc", f"camp{i}"), 3) for i in range(5)]


def _pick(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _template_facts(rng: random.Random, n: int) -> dict[str, Any]:
    """Facts of one synthetic visit, as the collector would merge them."""
    t = FIRST_DAY * DAY_MS + rng.randint(0, DAY_MS // 2)
    facts: dict[str, Any] = {f"b|w|{n}": ["w", t, t + 1, "chrome", "windows", "desktop"]}
    pages = [rng.choice(PAGES[:5])] + [
        rng.choice(PAGES) for _ in range(rng.choices([0, 1, 2, 3, 5], [35, 25, 20, 12, 8])[0])
    ]
    for i, url in enumerate(pages):
        pv = t
        facts[f"pv|w|{pv}"] = [url, 1280, 720]
        nodes = {str(k): f"button#b{k}" for k in range(1, 30)} | {"40": 'input[name="email"]'}
        clicks = [
            [pv + 500 + k * 700, rng.randint(0, 1200), rng.randint(0, 700), rng.randint(1, 30)]
            for k in range(rng.randint(0, 6))
        ]
        events: dict[str, Any] = {
            "clicks": clicks,
            "scrolls": [[pv + 300, rng.randint(0, 3000)]],
            "changes": [pv + 600 + k * 700 for k in range(3)],
            "errors": [[pv + 900, f"TypeError: e{rng.randint(0, 9)}", "app.js:1:1"]]
            if rng.random() < 0.1
            else [],
            "vitals": [[pv + 1000, "LCP", rng.uniform(800, 5000)], [pv + 1100, "CLS", 0.05]],
            "custom": [[pv + 1200, "add_to_cart"]] if rng.random() < 0.2 else [],
            "forms": [[pv + 1300, "focus", 40], [pv + 1400, "change", 40]]
            if url.endswith("checkout")
            else [],
            "nodes": [[pv, nodes]],
            "active": list(range(pv // 1000, pv // 1000 + rng.randint(2, 40))),
        }
        facts[f"ev|w|{n}-{i}"] = events
        t += rng.randint(3_000, 90_000)
    facts[f"b|w|{n}"][2] = t
    if rng.random() < 0.3:
        facts[f"ref|{facts[f'b|w|{n}'][1]}"] = "https://www.google.com/"
    return facts


def synthetic_totals(sessions: int, seed: int = 1) -> dict[tuple[str, int, tuple[str, ...]], list]:
    """What ``sessions`` collected sessions add up to in ``agg_totals``."""
    rng = random.Random(seed)
    templates = [fold_session(f"t{i}", _template_facts(rng, i), SETTINGS) for i in range(TEMPLATES)]
    per_key: Counter[tuple[int, int, tuple[str, ...]]] = Counter()
    links: list[tuple[int, int, str]] = []
    for n in range(sessions):
        tpl = rng.randrange(TEMPLATES)
        day = FIRST_DAY + rng.randrange(DAYS)
        device = _pick(rng, DEVICES)
        source, medium, campaign = _pick(rng, UTM)
        seg = segment_dims(
            browser=_pick(rng, BROWSERS),
            os=_pick(rng, OSES),
            device=device,
            viewport=device,
            referrer=_pick(rng, REFERRERS),
            utm_source=source,
            utm_medium=medium,
            utm_campaign=campaign,
            identified="yes" if rng.random() < 0.2 else "no",
        )
        per_key[(tpl, day, seg)] += 1
        links.append((tpl, day, f"s{n:07d}"))
    totals: dict[tuple[str, int, tuple[str, ...]], list] = {}

    def add(name: str, day: int, dims: tuple[str, ...], count: int, total: float) -> None:
        slot = totals.setdefault((name, day, dims), [0, 0.0])
        slot[0] += count
        slot[1] += total

    for (tpl, day, seg), k in per_key.items():
        for r in templates[tpl]:
            if r.name in UNROLLED:
                continue
            if r.name.endswith(ROLLUP):
                dims = r.dims
            elif r.name.startswith("sessions@"):  # one segment's own rollup
                dims = (seg[SEGMENTS.index(r.name.split("@")[1])],)
            else:
                dims = (*seg, *r.dims[9:])
            add(r.name, day, dims, r.count * k, r.total * k)
    # rows naming a session or a user, one set per session
    for tpl, day, sid in links:
        for r in templates[tpl]:
            if r.name in ("error_links", "frustration_links"):
                add(r.name, day, (*r.dims[:-1], sid), r.count, r.total)
            elif r.name == "users" and rng.random() < 0.2:
                add(r.name, day, (*r.dims[:9], f"user{rng.randrange(sessions // 3 + 1)}"), 1, 0)
    return totals


def write_totals(path: Path, totals: dict[tuple[str, int, tuple[str, ...]], list]) -> None:
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO agg_totals (name, day, dims, count, total) VALUES (?, ?, ?, ?, ?)",
            ((n, d, orjson.dumps(list(k)).decode(), c, t) for (n, d, k), (c, t) in totals.items()),
        )
    db.close()


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    (r.name, r.name, {}) for r in REPORTS if r.name not in ("funnels", "heatmap")
] + [
    ("pages (one page)", "pages", {"page": PAGES[2]}),
    ("heatmap (one page)", "heatmap", {"page": PAGES[0], "bucket": "desktop"}),
    ("funnels", "funnels", {"steps": f"{PAGES[0]},{PAGES[2]},{PAGES[3]}"}),
    ("pages, browser=safari", "pages", {"browser": "safari"}),
    ("errors, device=mobile", "errors", {"device": "mobile"}),
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
    sizes = [] if args.ingest_only else args.sessions or [100_000]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        for sessions in sizes:
            path = Path(tmp) / f"reports-{sessions}.db"
            asyncio.run(_create(path))
            start = time.perf_counter()
            totals = synthetic_totals(sessions)
            write_totals(path, totals)
            made = time.perf_counter() - start
            target = 0.2 if sessions <= 100_000 else 1.0
            print(
                f"\n{sessions:,} sessions: {len(totals):,} aggregate rows "
                f"(made in {made:.0f} s); target {target * 1000:.0f} ms per report"
            )
            timings = asyncio.run(time_reports(path))
            for label, seconds in timings:
                mark = "ok" if seconds <= target else "OVER"
                print(f"  {label:<24} {seconds * 1000:8.1f} ms  {mark}")
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
