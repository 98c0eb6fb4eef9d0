"""Ingest throughput over real HTTP, against a bare endpoint in the same run.

Two Hypercorn servers (one worker each, run one after the other so each has
the machine to itself) receive the same gzipped batches of ~50 events cut
from the rrweb recording in tests/fixtures, each batch with its own session id:

- ``bare``: a Quart endpoint that only reads, gunzips and parses the body;
- ``ingest``: Sentiero's ``POST /sentiero/events`` into the SQLite store
  (a temporary file), with the built-in plugins and the SQLite store only.

Both servers run with the garbage collector settings that ``sentiero serve``
applies once started (``sentiero_core.cli.tune_gc``), so each side is
measured as it would be deployed; ``--default-gc`` runs both with CPython's
defaults instead.

Load comes from ``wrk`` (a second process, many connections; ``make bench``
installs it) when installed, else from httpx.AsyncClient. Prints requests/s
and events/s of both and the ratio; the target is ingest >= 50% of bare.
Rounds alternate to share the noise of a busy machine, and each side keeps
its best round. Each round also shows the CPU the load client and the server
used: when the client, not the server, set the pace (see ``_load.py``; the
httpx client does on 2 cores), the bench says so instead of printing a ratio.

Usage: python bench/ingest.py [--seconds 6] [--rounds 3] [--connections 32]
    [--memory] [--httpx] [--default-gc]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _http import check_once, wrk_command, wrk_rate
from _load import SATURATED, Usage, Watch
from _recording import load_recording
from _results import Figure, at_least, write_results
from _servers import free_port, stop_server, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BATCH_EVENTS = 50
BODIES = 400
TARGET_RATIO = 0.5
EVENTS_PATH = "/sentiero/events"
BARE_PATH = "/bare"

LUA = """
local bodies = {}
local i = 0
function init(args)
  local dir = args[1]
  local n = tonumber(args[2])
  for k = 1, n do
    local f = assert(io.open(dir .. "/body" .. k .. ".gz", "rb"))
    bodies[k] = f:read("*all")
    f:close()
  end
  i = math.random(n)
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Content-Encoding"] = "gzip", ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) "
    .. "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"}, bodies[i])
end
"""


# -- the servers (run as subprocesses of this script) -----------------------


def bare_app() -> Any:
    import zlib

    import orjson
    from quart import Quart, Response, request

    app = Quart("bare")

    @app.post(BARE_PATH)
    async def bare() -> Response:
        data: bytes = await request.get_data(as_text=False)  # type: ignore[assignment]
        doc = orjson.loads(zlib.decompress(data, 31))
        if not isinstance(doc, dict):
            return Response(b"", status=400)
        return Response(b"", status=204)

    return app


def ingest_app(db: str) -> Any:
    from sentiero_core import Settings, create_app, get_plugin_manager

    os.environ["SENTIERO_LOAD_PLUGINS"] = "store_sqlite"
    settings = Settings(store_url="memory://" if db == "memory" else f"sqlite:///{db}")
    return create_app(settings, plugin_manager=get_plugin_manager())


def serve(kind: str, port: int, db: str, default_gc: bool) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    from sentiero_core.cli import tune_gc

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    app = bare_app() if kind == "bare" else ingest_app(db)
    if not default_gc:

        async def tuned_gc() -> None:
            tune_gc()

        app.before_serving(tuned_gc)
    asyncio.run(hypercorn_serve(app, config))


# -- the load ---------------------------------------------------------------


def make_bodies(
    folder: Path, events: list[dict[str, Any]], count: int = BODIES
) -> tuple[list[bytes], float]:
    """``count`` gzipped batches, each of a session of its own, written to
    ``folder`` as body1.gz... for the wrk script (also used by soak.py)."""
    bodies: list[bytes] = []
    counts: list[int] = []
    raw_sizes: list[int] = []
    for k in range(count):
        start = (k * 37) % max(1, len(events) - BATCH_EVENTS)
        batch = events[start : start + BATCH_EVENTS]
        doc = {
            "v": 1,
            "session_id": secrets.token_urlsafe(16),
            "window_id": secrets.token_urlsafe(16),
            # no "seq": the load posts each body many times, and a repeated
            # (session, window, seq) would be recognised and skipped
            "sent_at": batch[-1]["timestamp"],
            "dropped": 0,
            "events": batch,
        }
        # like JSON.stringify in the browser: compact, non-ASCII left as is
        data = gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(), 6)
        (folder / f"body{k + 1}.gz").write_bytes(data)
        bodies.append(data)
        counts.append(len(batch))
        raw_sizes.append(len(gzip.decompress(data)))
    print(
        f"batches: {count} bodies of {sum(counts) / len(counts):.0f} events, "
        f"{sum(raw_sizes) / len(raw_sizes) / 1024:.1f} KiB of JSON, "
        f"{sum(map(len, bodies)) / len(bodies) / 1024:.1f} KiB gzipped on average"
    )
    return bodies, sum(counts) / len(counts)


def start_server(kind: str, db: str, default_gc: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", db]
    proc = subprocess.Popen(command + (["--default-gc"] if default_gc else []), cwd=ROOT)
    wait_for_port(port, proc, f"{kind} server")
    return proc, port


def run_wrk(
    port: int, path: str, folder: Path, seconds: float, connections: int
) -> tuple[float, int]:
    script = folder / "post.lua"
    script.write_text(LUA)
    command = wrk_command(port, path, script, seconds, connections, str(folder), str(BODIES))
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return wrk_rate(out, path)


async def run_httpx(
    port: int, path: str, bodies: list[bytes], seconds: float, connections: int
) -> tuple[float, int]:
    import httpx

    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = 0
    stop = time.monotonic() + seconds

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:

        async def worker(offset: int) -> None:
            nonlocal done
            i = offset
            while time.monotonic() < stop:
                response = await client.post(path, content=bodies[i % len(bodies)], headers=headers)
                if response.status_code != 204:
                    raise RuntimeError(f"{path} answered {response.status_code}")
                done += 1
                i += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(k * 7) for k in range(connections)))
        return done / (time.monotonic() - started), done


def measure(
    kind: str,
    folder: Path,
    bodies: list[bytes],
    db: str,
    args: argparse.Namespace,
    use_wrk: bool,
) -> tuple[float, float, Usage]:
    """(requests per second, server CPU milliseconds per request, CPU use)."""
    proc, port = start_server(kind, db, args.default_gc)
    path = BARE_PATH if kind == "bare" else EVENTS_PATH
    try:
        check_once(port, path, bodies[0])
        with Watch(proc.pid) as watch:
            if use_wrk:
                rate, total = run_wrk(port, path, folder, args.seconds, args.connections)
            else:
                load = run_httpx(port, path, bodies, args.seconds, args.connections)
                rate, total = asyncio.run(load)
        return rate, watch.server_cpu / max(1, total) * 1000, watch.usage
    finally:
        stop_server(proc)


def stored_events(db: str) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT events FROM totals").fetchone()[0])
    except sqlite3.Error:
        return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--httpx", action="store_true", help="use httpx even if wrk exists")
    parser.add_argument("--memory", action="store_true", help="ingest into memory:// instead")
    parser.add_argument(
        "--default-gc", action="store_true", help="CPython's GC settings, not sentiero serve's"
    )
    parser.add_argument("--serve", choices=("bare", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db, args.default_gc)
        return
    events = load_recording("bench/ingest.py")

    use_wrk = shutil.which("wrk") is not None and not args.httpx
    with tempfile.TemporaryDirectory(prefix="sentiero-bench-") as tmp:
        folder = Path(tmp)
        bodies, per_batch = make_bodies(folder, events)
        db = "memory" if args.memory else str(folder / "ingest.db")
        print(
            f"load: {'wrk' if use_wrk else 'httpx'}, {args.connections} connections, "
            f"{args.rounds} x {args.seconds:g} s per side, "
            f"{'default' if args.default_gc else 'sentiero serve'} GC settings on both"
        )
        best = {"bare": 0.0, "ingest": 0.0}
        cpu = {"bare": float("inf"), "ingest": float("inf")}
        usage: dict[str, Usage] = {}
        for round_no in range(args.rounds):
            for kind in ("bare", "ingest"):
                rate, cpu_ms, used = measure(kind, folder, bodies, db, args, use_wrk)
                if rate > best[kind]:
                    best[kind], usage[kind] = rate, used
                cpu[kind] = min(cpu[kind], cpu_ms)
                print(
                    f"  round {round_no + 1} {kind:6s} {rate:8.0f} req/s "
                    f"{rate * per_batch:10.0f} events/s  {cpu_ms:6.3f} server CPU ms/req  "
                    f"({used.describe()})"
                )
        store = "memory store" if args.memory else "SQLite store"
        ratio = best["ingest"] / best["bare"]
        cpu_ratio = cpu["bare"] / cpu["ingest"]
        print(
            f"bare endpoint (read+gunzip+parse): {best['bare']:8.0f} req/s "
            f"{best['bare'] * per_batch:10.0f} events/s  {cpu['bare']:6.3f} CPU ms/req"
        )
        print(
            f"sentiero ingest ({store}):{' ' * (17 - len(store))}{best['ingest']:8.0f} req/s "
            f"{best['ingest'] * per_batch:10.0f} events/s  {cpu['ingest']:6.3f} CPU ms/req"
        )
        bound = [kind for kind in ("bare", "ingest") if usage[kind].client_bound]
        if bound:
            sides = "; ".join(f"{kind}: {usage[kind].describe()}" for kind in bound)
            print(
                f"{SATURATED} (the {'wrk' if use_wrk else 'httpx'} client set the pace of its "
                f"best round, {sides}; {'' if use_wrk else 'install wrk: make bench does, or '}"
                f"give the client a core of its own)"
            )
        else:
            print(
                f"ratio ingest/bare: {ratio:.0%} by rate, {cpu_ratio:.0%} by server CPU per "
                f"request (target >= {TARGET_RATIO:.0%}: "
                f"{'OK' if ratio >= TARGET_RATIO else 'BELOW'} by rate, "
                f"{'OK' if cpu_ratio >= TARGET_RATIO else 'BELOW'} by CPU)"
            )
        if not args.memory:
            print(f"events in the SQLite file afterwards: {stored_events(db)}")
        write_results(
            "ingest" + ("_memory" if args.memory else ""),
            [
                Figure(
                    f"ingest / bare endpoint ({store})",
                    None if bound else round(ratio, 3),
                    SATURATED
                    if bound
                    else f"{ratio:.0%} ({best['ingest']:,.0f} vs {best['bare']:,.0f} req/s)",
                    f">= {TARGET_RATIO:.0%}",
                    None if bound else at_least(ratio, TARGET_RATIO),
                )
            ],
        )


if __name__ == "__main__":
    main()
