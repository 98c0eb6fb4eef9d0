"""What the reporter costs an app: requests/s of a small ASGI app (Quart on
Hypercorn) without and with ``ReporterMiddleware``, in the same run, while
nothing is raised; and the time one ``notify`` adds to the request that
calls it.

Load comes from ``wrk`` (a second process; ``make bench`` installs it),
alternating the two servers for a few rounds and keeping each one's best
round. Target: the middleware keeps at least 95% of the app's rate (issue
12); not judged when the load client is saturated. The figures go to
``reporter.json`` for ``bench/_summary.py``; a missed target is shown
there, not turned into a failed run.

    .venv/bin/python bench/reporter.py [--seconds 4] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import SATURATED, Watch
from _results import Figure, at_least, write_results
from _servers import free_port, stop_server, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.95


# -- the servers (subprocesses of this script) ---------------------------------


def small_app(with_middleware: bool) -> Any:
    from quart import Quart

    app = Quart("bench")

    @app.get("/orders/<int:order_id>")
    async def order(order_id: int) -> dict[str, Any]:
        return {"id": order_id, "items": ["tea", "cake"], "total": 7.5}

    if not with_middleware:
        return app
    import sentiero_reporter

    # Active (every option set) but sending nowhere: nothing is raised anyway.
    sentiero_reporter.configure(
        endpoint="http://127.0.0.1:9/sentiero",
        ingest_key="sk_bench",
        project="bench",
        transport="null",
    )
    return sentiero_reporter.ReporterMiddleware(app)


def serve(kind: str, port: int) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    asyncio.run(hypercorn_serve(small_app(kind == "middleware"), config))  # type: ignore[arg-type]


# -- the load ---------------------------------------------------------------------


def start(kind: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port)], cwd=ROOT
    )
    wait_for_port(port, proc, f"{kind} server")
    return proc, port


def wrk(port: int, seconds: float, connections: int) -> float:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"http://127.0.0.1:{port}/orders/42",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{bad.group(1)} requests failed\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return float(match.group(1))


def measure_rates(args: argparse.Namespace) -> dict[str, tuple[float, bool]]:
    best: dict[str, tuple[float, bool]] = {}
    for _ in range(args.rounds):
        for kind in ("plain", "middleware"):
            proc, port = start(kind)
            try:
                wrk(port, 1, args.connections)  # warm-up
                with Watch(proc.pid) as watch:
                    rate = wrk(port, args.seconds, args.connections)
            finally:
                stop_server(proc)
            if rate > best.get(kind, (0.0, False))[0]:
                best[kind] = (rate, watch.usage.client_bound)
            print(f"  {kind:10s} {rate:8.0f} req/s  ({watch.usage.describe()})", flush=True)
    return best


# -- what notify adds ---------------------------------------------------------------


def _deep(n: int) -> None:
    if n == 0:
        raise LookupError(f"order {n} does not exist")
    _deep(n - 1)


def notify_cost(calls: int = 3000) -> dict[str, float]:
    """Microseconds one notify() takes in the caller (median and p99): the
    report is built (frames with source lines, context, filtering) and
    queued; the background thread sends it."""
    import sentiero_reporter

    sentiero_reporter.configure(
        endpoint="http://127.0.0.1:9/sentiero",
        ingest_key="sk_bench",
        project="bench",
        transport="null",
        max_queue=calls + 10,
        filter_keys=["password"],
    )
    try:
        _deep(8)
    except LookupError as exc:
        error = exc
    times: list[float] = []
    with sentiero_reporter.context(user_id=42, request_id="abc", password="x"):
        for _ in range(calls):
            started = time.perf_counter()
            sentiero_reporter.notify(error)
            times.append((time.perf_counter() - started) * 1e6)
    sentiero_reporter.flush(10)
    times.sort()
    return {"median": statistics.median(times), "p99": times[int(len(times) * 0.99)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=("plain", "middleware"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is missing: make bench installs it (apt-get install -y wrk)")
        return 1
    print(f"load: wrk, {args.connections} connections, {args.rounds} rounds of {args.seconds:g} s")
    best = measure_rates(args)
    plain, plain_bound = best["plain"]
    wrapped, wrapped_bound = best["middleware"]
    ratio = wrapped / plain
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    print(f"app alone:       {plain:8.0f} req/s")
    print(
        f"with middleware: {wrapped:8.0f} req/s  = {ratio:.1%} of the app "
        f"({verdict}, target >= {TARGET:.0%})"
    )
    bound = plain_bound or wrapped_bound
    if bound:
        print(SATURATED)
    cost = notify_cost()
    print(
        f"notify: {cost['median']:.0f} us median, {cost['p99']:.0f} us p99 in the calling "
        "request (report built and queued; sent by the background thread)"
    )
    write_results(
        "reporter",
        [
            Figure(
                "reporter: app with middleware / app alone",
                None if bound else round(ratio, 3),
                SATURATED if bound else f"{ratio:.1%} ({wrapped:,.0f} vs {plain:,.0f} req/s)",
                f">= {TARGET:.0%}",
                None if bound else at_least(ratio, TARGET),
            ),
            Figure(
                "reporter: notify in the calling request, median / p99 (us)",
                round(cost["median"], 1),
                f"{cost['median']:.0f} / {cost['p99']:.0f}",
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
