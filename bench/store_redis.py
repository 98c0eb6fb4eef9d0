"""Redis store figures: append throughput (one app server and two), reading
a session, compression, and listing at 100,000 sessions.

Appends replay a real rrweb recording (``tests/fixtures/rrweb-demo-81s.json``
from the repository root) cut into batches the way the recorder flushes them
(every 10 s or 50 events), each session shifted in time: the same batches
as ``bench/store_sqlite.py`` and ``bench/store_mongo.py``. Listing is
measured through the store's API over 100,000 session summaries loaded in
pipelines with the store's own key layout.

The server is Debian's ``redis-server`` started on a free loopback port
without persistence (stopped by its PID afterwards), or the server named by
``SENTIERO_BENCH_REDIS_URL`` (the bench's keys, under a prefix of its own,
are deleted afterwards).

No target is set for this store (none in the issues or docs/benchmarks.md):
the figures go to ``store_redis.json`` for ``bench/_summary.py``, shown for
information.

Run: ``.venv/bin/python bench/store_redis.py [--listed 100000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis.asyncio as aioredis
from _recording import NOW, load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from _servers import free_port, server_process
from _stores import DAY_MS, fake_summary, timed
from sentiero_store_redis import RedisSettings, RedisStore
from sentiero_store_redis.keys import Keys
from sentiero_store_redis.store import summary_json

from sentiero_core.store import Batch, SessionFilter

APPEND_SESSIONS = 120
CONCURRENCY = 32
LISTED_SESSIONS = 100_000

FIGURES: list[Figure] = []


@contextmanager
def redis_server() -> Iterator[str]:
    external = os.environ.get("SENTIERO_BENCH_REDIS_URL")
    if external:
        yield external
        return
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench/store_redis.py: redis-server is missing (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sentiero-bench-redis-") as tmp:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no", "--dir", tmp]
        with server_process(command, port, "redis-server", timeout=10, stdout=subprocess.DEVNULL):
            yield f"redis://127.0.0.1:{port}/0"


async def _open(url: str, prefix: str) -> RedisStore:
    store = RedisStore(url, settings=RedisSettings(key_prefix=prefix))
    await store.open()
    return store


async def _drain(stores: list[RedisStore], sessions: list[list[Batch]], each: int) -> float:
    """Seconds to append ``sessions`` with ``each`` appends in flight per store."""
    queue = list(sessions)

    async def worker(store: RedisStore) -> None:
        while queue:
            for b in queue.pop():
                await store.append(b)

    started = time.perf_counter()
    await asyncio.gather(*(worker(s) for s in stores for _ in range(each)))
    return time.perf_counter() - started


async def bench_appends(url: str, prefix: str, events: list[dict[str, Any]]) -> None:
    cuts = recorder_cuts(events)
    sessions = [session_batches(cuts, n) for n in range(APPEND_SESSIONS)]
    third = APPEND_SESSIONS // 3
    one, two = await _open(url, prefix), await _open(url, prefix)
    try:
        parts = [sessions[:third], sessions[third : 2 * third], sessions[2 * third :]]
        runs = [
            ("append, one at a time", await _drain([one], parts[0], 1)),
            (f"append, {CONCURRENCY} in flight", await _drain([one], parts[1], CONCURRENCY)),
            (
                f"append, 2 app servers x {CONCURRENCY // 2}",
                await _drain([one, two], parts[2], CONCURRENCY // 2),
            ),
        ]
        stats = await one.stats()
        started = time.perf_counter()
        replay = await one.read_events("bench-00000", limit=10_000)
        read_ms = (time.perf_counter() - started) * 1000
    finally:
        await one.close()
        await two.close()
    print(f"recording: {len(events)} events in {len(cuts)} recorder batches per session")
    for (label, seconds), part in zip(runs, parts, strict=True):
        n_events = sum(len(b.events) for s in part for b in s)
        n_batches = sum(len(s) for s in part)
        rate = n_events / seconds
        FIGURES.append(Figure(f"redis {label} (events/s)", round(rate), f"{rate:,.0f}"))
        print(
            f"{label:28s}: {n_events / seconds:9,.0f} events/s "
            f"({n_batches / seconds:,.0f} batches/s)"
        )
    FIGURES.extend(
        [
            Figure(
                "redis read a whole session (ms)",
                round(read_ms, 1),
                f"{read_ms:.1f} ({len(replay.events)} events)",
            ),
            Figure(
                "redis stored / raw JSON bytes",
                round(stats.compression_ratio, 3),
                f"{stats.compression_ratio:.3f}",
            ),
        ]
    )
    print(f"{'read a whole session':28s}: {read_ms:6.1f} ms for {len(replay.events)} events")
    print(
        f"{'compression':28s}: {stats.raw_bytes / 1e6:.1f} MB of JSON stored in "
        f"{stats.stored_bytes / 1e6:.1f} MB, ratio {stats.compression_ratio:.3f}"
    )


async def load_summaries(url: str, prefix: str, count: int) -> None:
    """``count`` summaries with the store's key layout, in pipelines."""
    keys = Keys(prefix)
    rng = random.Random(7)
    client: Any = aioredis.from_url(url)
    try:
        for start in range(0, count, 5_000):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(count, start + 5_000)):
                s = fake_summary(rng, n)
                pipe.set(keys.summary(s.session_id), summary_json(s, s.raw_bytes // 9))
                pipe.zadd(keys.started, {s.session_id: s.started_at})
                pipe.zadd(keys.active, {s.session_id: s.ended_at})
            await pipe.execute()
        used = (await client.info("memory"))["used_memory"]
    finally:
        await client.aclose()
    print(f"  ({used / 1e6:.0f} MB used by Redis)")


async def bench_listing(url: str, prefix: str, listed: int) -> None:
    started = time.perf_counter()
    print(f"\nlisting: {listed:,} sessions")
    await load_summaries(url, prefix, listed)
    print(f"  loaded in {time.perf_counter() - started:.1f} s")
    store = await _open(url, prefix)
    try:
        deep = None
        for _ in range(100):
            deep = (await store.list_sessions(cursor=deep, limit=50)).next
        cases: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
            ("first page, 50 newest", lambda: store.list_sessions(limit=50), 15),
            ("page 101 by cursor", lambda: store.list_sessions(cursor=deep, limit=50), 15),
            ("has_errors", lambda: store.list_sessions(SessionFilter(has_errors=True)), 5),
            ("browser=firefox", lambda: store.list_sessions(SessionFilter(browser="firefox")), 5),
            (
                "browser=opera (no match)",
                lambda: store.list_sessions(SessionFilter(browser="opera")),
                3,
            ),
            ("user_id", lambda: store.list_sessions(SessionFilter(user_id="user-42")), 3),
            (
                "url_contains (no match)",
                lambda: store.list_sessions(SessionFilter(url_contains="/nowhere")),
                3,
            ),
            (
                "last 24 h, >= 10 min",
                lambda: store.list_sessions(
                    SessionFilter(started_after=NOW - DAY_MS, min_duration_ms=600_000)
                ),
                5,
            ),
            ("count, no filter", lambda: store.count_sessions(), 15),
            ("count has_errors", lambda: store.count_sessions(SessionFilter(has_errors=True)), 3),
            ("stats", lambda: store.stats(), 3),
        ]
        for label, call, runs in cases:
            ms = await timed(call, runs)
            print(f"  {label:26s} {ms:8.2f} ms (median)")
            if label.startswith("first page") or label.startswith("browser=opera"):
                what = "first page" if label.startswith("first") else "a filter matching nothing"
                FIGURES.append(
                    Figure(f"redis {what} at {listed:,} sessions (ms)", round(ms, 2), f"{ms:.2f}")
                )
    finally:
        await store.close()


async def main(listed: int) -> None:
    events = load_recording("bench/store_redis.py")
    with redis_server() as url:
        prefixes = [f"sentiero_bench_{uuid.uuid4().hex[:8]}:" for _ in range(2)]
        try:
            await bench_appends(url, prefixes[0], events)
            await bench_listing(url, prefixes[1], listed)
        finally:
            client: Any = aioredis.from_url(url)
            for prefix in prefixes:
                async for key in client.scan_iter(match=f"{prefix}*", count=5_000):
                    await client.unlink(key)
            await client.aclose()
    write_results("store_redis", FIGURES)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--listed",
        type=int,
        default=LISTED_SESSIONS,
        help=f"sessions loaded for the listing figures (default {LISTED_SESSIONS:,})",
    )
    options = parser.parse_args()
    if options.listed < 1:
        parser.error(f"--listed must be at least 1, not {options.listed}")
    started = time.perf_counter()
    asyncio.run(main(options.listed))
    print(f"\n(bench took {time.perf_counter() - started:.1f} s)")
