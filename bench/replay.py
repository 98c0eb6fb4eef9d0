"""Replay loading: a 50,000-event session served by the events API.

The session is the rrweb recording (``tests/fixtures/rrweb-demo-81s.json``
from the repository root) replicated with shifted timestamps until it holds
50,000 events, appended in batches of 50 (as the recorder flushes them) to a
SQLite store in a temporary file. A ``sentiero serve`` process (Hypercorn,
one worker, its own CPU) then serves it while this process measures, over
real HTTP:

- the time to the first page of events, i.e. what the session page waits
  for before the player starts (the page's HTML, then the first
  ``max_events_per_page`` events), median of several cold-ish requests;
- the events API's throughput walking every page with its cursor (MB/s of
  JSON bodies and events/s), best of a few rounds;

and, beside them in the same run, a raw read of the same rows from the store
in this process (``Store.read_events`` page by page: decompress and decode,
no HTTP, no JSON encoding), its MB/s counted on the same JSON bytes.

The walk keeps one request in flight, as the player does, so its figure is
the client's and the server's time per page added up, not a load test; it
shows the CPU each side used (about half each here: the client parses every
page, as the player would).

Run: ``.venv/bin/python bench/replay.py [--events 50000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from _load import Usage, Watch
from _recording import load_recording
from _results import Figure, at_least, below, write_results
from _servers import free_port

from sentiero_core.store import Batch, RequestMeta, Store, digest_events

SESSION_ID = "benchReplaySession01"
WINDOW_ID = "benchReplayWindow01"
BATCH_EVENTS = 50
PAGE_SIZE = 1_000  # the default max_events_per_page
# Targets (docs/benchmarks.md): 10 ms measured here, 65 ms on a machine 7x overloaded.
FIRST_PAGE_TARGET_MS = 100.0
API_TARGET = 0.5
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"


def build_events(total: int) -> list[dict[str, Any]]:
    """The recording again and again, each copy starting 1 s after the last."""
    source = load_recording("bench/replay.py")
    first, last = source[0]["timestamp"], source[-1]["timestamp"]
    span = last - first + 1_000
    events: list[dict[str, Any]] = []
    copy = 0
    while len(events) < total:
        shift = copy * span
        for event in source:
            clone = dict(event)
            clone["timestamp"] = event["timestamp"] + shift
            events.append(clone)
            if len(events) == total:
                break
        copy += 1
    return events


def open_store(path: Path) -> tuple[Store, str]:
    """SQLite when its plugin is installed, else memory (and it says so)."""
    try:
        from sentiero_store_sqlite import SQLiteStore
    except ImportError:
        from sentiero_core.store import MemoryStore

        return MemoryStore(), "memory (sentiero-store-sqlite is not installed)"
    return SQLiteStore(path), f"sqlite ({path.name}, WAL)"


async def fill(store: Store, events: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), BATCH_EVENTS):
        chunk = events[i : i + BATCH_EVENTS]
        raw = orjson.dumps(chunk)
        await store.append(
            Batch(
                session_id=SESSION_ID,
                window_id=WINDOW_ID,
                events=chunk,
                meta=RequestMeta(received_at=chunk[-1]["timestamp"], user_agent=UA),
                digest=digest_events(WINDOW_ID, chunk, raw_bytes=len(raw), user_agent=UA),
            )
        )
    return time.perf_counter() - started


async def raw_read(store: Store) -> tuple[float, int, int]:
    """(seconds reading, events, JSON bytes of those events)."""
    seconds = 0.0
    count = size = 0
    cursor: str | None = None
    while True:
        started = time.perf_counter()
        page = await store.read_events(SESSION_ID, cursor, limit=PAGE_SIZE)
        seconds += time.perf_counter() - started
        count += len(page.events)
        size += len(orjson.dumps({"events": page.events, "next": page.next}))
        if page.next is None:
            return seconds, count, size
        cursor = page.next


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    sentiero = Path(sys.executable).with_name("sentiero")
    command = [
        str(sentiero),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--store",
        f"sqlite:///{db}",
    ]
    env = {**os.environ, "SENTIERO_LOAD_PLUGINS": "store_sqlite"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(
                f"the server stopped: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            httpx.get(f"http://127.0.0.1:{port}/sentiero/api/sessions?limit=1", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    sys.exit("the server did not answer within 20 s")


def first_page(client: httpx.Client, base: str) -> tuple[float, float, int]:
    """(ms for the session page, ms for the first events page, its events)."""
    started = time.perf_counter()
    page = client.get(f"{base}/sessions/{SESSION_ID}")
    page.raise_for_status()
    html_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    events = client.get(
        f"{base}/api/sessions/{SESSION_ID}/events", params={"window": WINDOW_ID, "limit": PAGE_SIZE}
    )
    events.raise_for_status()
    events_ms = (time.perf_counter() - started) * 1000
    return html_ms, events_ms, len(events.json()["events"])


def walk_api(client: httpx.Client, base: str) -> tuple[float, int, int, int]:
    """(seconds, events, body bytes, pages) for every page of the session."""
    url = f"{base}/api/sessions/{SESSION_ID}/events"
    params: dict[str, Any] = {"window": WINDOW_ID, "limit": PAGE_SIZE}
    count = size = pages = 0
    started = time.perf_counter()
    while True:
        response = client.get(url, params=params)
        response.raise_for_status()
        body = response.content
        data = orjson.loads(body)
        count += len(data["events"])
        size += len(body)
        pages += 1
        if data["next"] is None:
            return time.perf_counter() - started, count, size, pages
        params["cursor"] = data["next"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sentiero-bench-replay-") as tmp:
        db = Path(tmp) / "replay.db"
        store, kind = open_store(db)
        events = build_events(args.events)
        json_mb = len(orjson.dumps(events)) / 1e6

        async def prepare() -> float:
            await store.open()
            try:
                return await fill(store, events)
            finally:
                await store.close()

        fill_s = asyncio.run(prepare())
        print(f"store: {kind}")
        print(
            f"session: {len(events):,} events, {json_mb:.1f} MB of JSON, appended in "
            f"{len(events) // BATCH_EVENTS:,} batches of {BATCH_EVENTS} in {fill_s:.1f} s"
        )
        if "memory" in kind:
            print("the HTTP figures need the SQLite store (a server process reads the file)")
            return

        port = free_port()
        server = start_server(db, port)
        base = f"http://127.0.0.1:{port}/sentiero"
        try:
            with httpx.Client(timeout=60) as client:
                first_page(client, base)  # warm the server's caches and connection
                firsts = [first_page(client, base) for _ in range(7)]
                rounds: list[tuple[tuple[float, int, int, int], Usage]] = []
                for _ in range(args.rounds):
                    with Watch(server.pid) as watch:
                        walked = walk_api(client, base)
                    rounds.append((walked, watch.usage))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()

        async def read_rounds() -> list[tuple[float, int, int]]:
            reader, _kind = open_store(db)
            await reader.open()
            try:
                return [await raw_read(reader) for _ in range(args.rounds)]
            finally:
                await reader.close()

        raws = asyncio.run(read_rounds())

    html_ms = statistics.median(f[0] for f in firsts)
    events_ms = statistics.median(f[1] for f in firsts)
    print(
        f"first page over HTTP: session page {html_ms:.1f} ms + first {firsts[0][2]:,} events "
        f"{events_ms:.1f} ms = {html_ms + events_ms:.1f} ms (median of {len(firsts)})"
    )
    (api_s, api_events, api_bytes, pages), usage = min(rounds)
    raw_s, raw_events, raw_bytes = min(raws)
    api_mbs = api_bytes / 1e6 / api_s
    raw_mbs = raw_bytes / 1e6 / raw_s
    print(
        f"events API over HTTP: {api_mbs:.1f} MB/s, {api_events / api_s:,.0f} events/s "
        f"({api_events:,} events, {pages} pages, {api_bytes / 1e6:.1f} MB in {api_s:.2f} s; "
        f"best of {len(rounds)}; {usage.describe()})"
    )
    print(
        f"raw store read:       {raw_mbs:.1f} MB/s, {raw_events / raw_s:,.0f} events/s "
        f"({raw_events:,} events in {raw_s:.2f} s; same rows, same JSON bytes; "
        f"best of {len(raws)})"
    )
    print(f"events API / raw store read: {api_mbs / raw_mbs:.0%}")
    first_ms = html_ms + events_ms
    write_results(
        "replay",
        [
            Figure(
                "replay: first page (ms)",
                round(first_ms, 1),
                f"{first_ms:.1f}",
                f"< {FIRST_PAGE_TARGET_MS:.0f} ms",
                below(first_ms, FIRST_PAGE_TARGET_MS),
            ),
            Figure(
                "replay: events API / raw store read",
                round(api_mbs / raw_mbs, 3),
                f"{api_mbs / raw_mbs:.0%} ({api_mbs:.1f} vs {raw_mbs:.1f} MB/s)",
                f">= {API_TARGET:.0%}",
                at_least(api_mbs / raw_mbs, API_TARGET),
            ),
        ],
    )


if __name__ == "__main__":
    main()
