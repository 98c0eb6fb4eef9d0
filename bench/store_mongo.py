"""MongoDB store append throughput beside one ``insert_one`` per batch, in the same run.

A real rrweb recording (``tests/fixtures/rrweb-demo-81s.json`` from the
repository root) is cut into batches the way the recorder flushes them
(every 10 s or 50 events) and replayed as many sessions, shifted in time.
Two ways of writing it, against the same server, one after the other:

- ``store``: ``MongoStore.append`` with 32 appends in flight, as concurrent
  ingest requests would call it: compress, insert the batch document, fold
  the digest into the summary (one atomic pipeline update), check limits;
- ``baseline``: the least the ingest path needs: the very same batches,
  each compressed as the store compresses it and written with one
  ``insert_one``, with 32 in flight too (no summary, no repeat detection).

The target is the store at 50% or more of the baseline.

For scale it also prints appends made one at a time (a quarter of the
sessions), where no two appends can share a round trip.

The server is SecantusDB (a MongoDB wire-protocol server, test dependency),
a fresh process in memory for each measurement (see ``measure``), or the
server named by ``SENTIERO_BENCH_MONGO_URL`` (its databases
``sentiero_bench_*`` are dropped afterwards). Rounds alternate to share a
busy machine's noise; each side keeps its best round.

Run: ``.venv/bin/python bench/store_mongo.py [--sessions 120] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, at_least, write_results
from _servers import free_port, server_process
from _stores import CONCURRENCY, append_all
from pymongo import AsyncMongoClient
from sentiero_store_mongo import MongoStore
from sentiero_store_mongo.documents import SeqClock, batch_documents

from sentiero_core.store import Batch

TARGET_RATIO = 0.5


@contextmanager
def mongo_server() -> Iterator[str]:
    external = os.environ.get("SENTIERO_BENCH_MONGO_URL")
    if external:
        yield external
        return
    port = free_port()
    command = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--storage-path", ":memory:", "--log-level", "ERROR"]
    # killed: the server holds nothing beyond the measurement
    with server_process(command, port, "SecantusDB", kill=True):
        yield f"mongodb://127.0.0.1:{port}/"


def _url(base: str, database: str) -> str:
    scheme, _, rest = base.partition("://")
    netloc, _, path = rest.partition("/")
    options = path.partition("?")[2]
    return f"{scheme}://{netloc}/{database}" + (f"?{options}" if options else "")


async def through_store(
    base: str, database: str, sessions: list[list[Batch]], concurrency: int = CONCURRENCY
) -> tuple[float, float]:
    """(seconds, stored / raw JSON bytes)."""
    store = MongoStore(_url(base, database))
    await store.open()
    try:
        elapsed = (await append_all([store.append], sessions, concurrency)).seconds
        return elapsed, (await store.stats()).compression_ratio
    finally:
        await store.close()


async def baseline_insert_one(
    client: Any, database: str, sessions: list[list[Batch]], concurrency: int = CONCURRENCY
) -> float:
    """The least the ingest path needs: each batch compressed as the store
    compresses it and written with one ``insert_one``, a session's batches
    in order, ``concurrency`` in flight."""
    clock = SeqClock()
    collection = client[database]["sentiero_batches"]

    async def insert(batch: Batch) -> None:
        for doc in batch_documents(batch, clock, None)[0]:
            await collection.insert_one(doc)

    return (await append_all([insert], sessions, concurrency)).seconds


async def measure(side: str, sessions: list[list[Batch]]) -> tuple[float, float | None]:
    """(seconds, stored / raw JSON bytes for the store) of one side, on a
    server of its own: SecantusDB keeps a record of every retryable write
    and scans them all at each write (for half an hour), so one server
    slows as a run goes on and whichever side ran first would gain."""
    with mongo_server() as base:
        database = f"sentiero_bench_{uuid.uuid4().hex[:8]}"
        client: Any = AsyncMongoClient(base)
        try:
            if side == "baseline":
                return await baseline_insert_one(client, database, sessions), None
            concurrency = 1 if side == "one" else CONCURRENCY
            return await through_store(base, database, sessions, concurrency=concurrency)
        finally:
            await client.drop_database(database)
            await client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    recording = load_recording("bench/store_mongo.py")
    cuts = recorder_cuts(recording)
    events_per_round = len(recording) * args.sessions
    best = {"store": float("inf"), "baseline": float("inf")}
    compression = 0.0
    for r in range(args.rounds):
        for side in ("store", "baseline") if r % 2 == 0 else ("baseline", "store"):
            sessions = [session_batches(cuts, n, side) for n in range(args.sessions)]
            elapsed, ratio_seen = await measure(side, sessions)
            best[side] = min(best[side], elapsed)
            compression = ratio_seen or compression
    # For scale: one append at a time (no group commit possible).
    few = [session_batches(cuts, n, "one") for n in range(max(1, args.sessions // 4))]
    one_at_a_time, _ratio = await measure("one", few)
    one_rate = len(recording) * len(few) / one_at_a_time
    store_rate = events_per_round / best["store"]
    base_rate = events_per_round / best["baseline"]
    ratio = store_rate / base_rate
    batches = len(cuts) * args.sessions
    print(
        f"recording: {len(recording)} events in {len(cuts)} batches per session, "
        f"{args.sessions} sessions, {batches} batches per round"
    )
    rows = [
        (
            f"store.append, {CONCURRENCY} in flight",
            f"{store_rate:10,.0f} events/s ({batches / best['store']:,.0f} batches/s)",
        ),
        ("store.append, 1 in flight", f"{one_rate:10,.0f} events/s"),
        (
            f"insert_one, {CONCURRENCY} in flight",
            f"{base_rate:10,.0f} events/s ({batches / best['baseline']:,.0f} batches/s)",
        ),
        ("ratio store / insert_one", f"{ratio:10.2f} (target >= {TARGET_RATIO:.2f})"),
        ("stored / raw JSON bytes", f"{compression:10.3f}"),
    ]
    for label, value in rows:
        print(f"{label:<28}: {value}")
    write_results(
        "store_mongo",
        [
            Figure(
                "mongo store / insert_one baseline",
                round(ratio, 3),
                f"{ratio:.2f} ({store_rate:,.0f} vs {base_rate:,.0f} events/s)",
                f">= {TARGET_RATIO:.2f}",
                at_least(ratio, TARGET_RATIO),
            ),
            Figure("mongo append, 1 in flight (events/s)", round(one_rate), f"{one_rate:,.0f}"),
            Figure("mongo stored / raw JSON bytes", round(compression, 3), f"{compression:.3f}"),
        ],
    )


if __name__ == "__main__":
    asyncio.run(main())
