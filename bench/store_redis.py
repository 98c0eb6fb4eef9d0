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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis.asyncio as aioredis
from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from _servers import free_port, server_process
from _stores import (
    APPEND_SESSIONS,
    CONCURRENCY,
    append_all,
    fake_summary,
    read_session,
    time_listing,
)
from sentiero_store_redis import RedisSettings, RedisStore
from sentiero_store_redis.keys import Keys
from sentiero_store_redis.store import summary_json

LISTED_SESSIONS = 100_000
#: The listing queries (of bench/_stores.py) it times, and how many times:
#: fewer where a call is slow.
QUERY_RUNS = {
    "first page, 50 newest": 15,
    "page 101 by cursor": 15,
    "has_errors": 5,
    "browser=firefox": 5,
    "browser=opera (no match)": 3,
    "user_id": 3,
    "url_contains (no match)": 3,
    "last 24 h, >= 10 min": 5,
    "count, no filter": 15,
    "count has_errors": 3,
    "stats": 3,
}

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


async def bench_appends(url: str, prefix: str, events: list[dict[str, Any]]) -> None:
    cuts = recorder_cuts(events)
    sessions = [session_batches(cuts, n) for n in range(APPEND_SESSIONS)]
    third = APPEND_SESSIONS // 3
    one, two = await _open(url, prefix), await _open(url, prefix)
    try:
        parts = [sessions[:third], sessions[third : 2 * third], sessions[2 * third :]]
        runs = [
            ("append, one at a time", await append_all([one.append], parts[0], 1)),
            (
                f"append, {CONCURRENCY} in flight",
                await append_all([one.append], parts[1], CONCURRENCY),
            ),
            (
                f"append, 2 app servers x {CONCURRENCY // 2}",
                await append_all([one.append, two.append], parts[2], CONCURRENCY // 2),
            ),
        ]
        stats = await one.stats()
        read_ms, events_read = await read_session(one)
    finally:
        await one.close()
        await two.close()
    print(f"recording: {len(events)} events in {len(cuts)} recorder batches per session")
    for label, run in runs:
        FIGURES.append(Figure(f"redis {label} (events/s)", round(run.rate), f"{run.rate:,.0f}"))
        print(f"{label:28s}: {run.rate:9,.0f} events/s ({run.batch_rate:,.0f} batches/s)")
    FIGURES.extend(
        [
            Figure(
                "redis read a whole session (ms)",
                round(read_ms, 1),
                f"{read_ms:.1f} ({events_read} events)",
            ),
            Figure(
                "redis stored / raw JSON bytes",
                round(stats.compression_ratio, 3),
                f"{stats.compression_ratio:.3f}",
            ),
        ]
    )
    print(f"{'read a whole session':28s}: {read_ms:6.1f} ms for {events_read} events")
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
        medians = await time_listing(store, QUERY_RUNS, width=8)
        for label, what in [
            ("first page, 50 newest", "first page"),
            ("browser=opera (no match)", "a filter matching nothing"),
        ]:
            ms = medians[label]
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
