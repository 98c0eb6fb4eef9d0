"""Sustained load: ``wrk`` against ``sentiero serve`` (SQLite) for 60 s.

``sentiero serve`` runs in a subprocess with a temporary SQLite file. wrk
(one thread, 32 connections) posts the ingest bench's bodies (``make_bodies``
in ``ingest.py``: gzipped batches of ~50 events cut from the real recording
in tests/fixtures, 2,000 distinct sessions, each body posted again and again
without a ``seq``, so every post is stored) for ``--seconds``. Printed:
throughput, wrk's latency distribution (p50, p90, p99), failed requests and
the server's RSS at the start, the middle and the end of the run.

Targets: no failed request, and the RSS at the end within 100 MB of the
middle (memory that keeps growing under a steady load is a leak).

Usage: python bench/soak.py [--seconds 60] [--connections 32] [--sessions 2000]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _recording import load_recording  # noqa: E402
from _results import Figure, write_results  # noqa: E402
from ingest import EVENTS_PATH, LUA, make_bodies  # noqa: E402

from tests.support.abuse import rss_bytes, sentiero_serve, warm_up  # noqa: E402

MB = 1024 * 1024
GROWTH_TARGET = 100 * MB
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/s, total requests, failures and the latency percentiles (ms)
    from the output of ``wrk --latency``."""
    figures: dict[str, float] = {}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    figures["rate"] = float(rate.group(1))
    figures["requests"] = float(total.group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    figures["failed"] = float(bad.group(1) if bad else 0) + (
        sum(map(float, errors.groups())) if errors else 0.0
    )
    for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        figures[f"p{pct}"] = float(value) * _UNITS[unit]
    for needed in ("p50", "p90", "p99"):
        if needed not in figures:
            raise RuntimeError(f"no {needed} in wrk's latency distribution:\n{out}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    if args.seconds < 2:
        sys.exit("bench/soak.py: --seconds must be 2 or more")
    if shutil.which("wrk") is None:
        sys.exit("bench/soak.py: wrk is not installed (make bench installs it)")
    events = load_recording("bench/soak.py")
    with (
        tempfile.TemporaryDirectory(prefix="sentiero-soak-") as tmp,
        sentiero_serve(Path(tmp) / "soak.db") as (pid, base),
    ):
        folder = Path(tmp)
        _bodies, per_batch = make_bodies(folder, events, args.sessions)
        (folder / "post.lua").write_text(LUA)
        warm_up(base)
        rss: dict[str, int] = {"start": rss_bytes(pid)}

        def sample_middle() -> None:
            time.sleep(args.seconds / 2)
            rss["middle"] = rss_bytes(pid)

        sampler = threading.Thread(target=sample_middle, daemon=True)
        command = [
            *("wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"),
            *("--timeout", "10s", "-s", str(folder / "post.lua")),
            *(f"{base}{EVENTS_PATH}", "--", str(folder), str(args.sessions)),
        ]
        print(
            f"load: wrk, {args.connections} connections, {args.seconds} s, "
            f"{args.sessions} sessions, sentiero serve on SQLite"
        )
        sampler.start()
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rss["end"] = rss_bytes(pid)
        sampler.join()
    f = parse_wrk(out)
    growth = rss["end"] - rss["middle"]
    print(
        f"throughput: {f['rate']:,.0f} req/s ({f['rate'] * per_batch:,.0f} events/s), "
        f"{f['requests']:,.0f} requests, {f['failed']:.0f} failed"
    )
    print(f"latency: p50 {f['p50']:.1f} ms, p90 {f['p90']:.1f} ms, p99 {f['p99']:.1f} ms")
    print(
        "server RSS: "
        + ", ".join(f"{when} {value / MB:.0f} MB" for when, value in rss.items())
        + f" (end - middle: {growth / MB:+.0f} MB)"
    )
    write_results(
        "soak",
        [
            Figure(
                f"soak {args.seconds} s: throughput (req/s)",
                round(f["rate"]),
                f"{f['rate']:,.0f} req/s ({f['rate'] * per_batch:,.0f} events/s)",
            ),
            Figure(
                "soak: latency p50 / p99 (ms)",
                round(f["p99"], 1),
                f"{f['p50']:.1f} / {f['p99']:.1f}",
            ),
            Figure(
                "soak: failed requests", f["failed"], f"{f['failed']:.0f}", "0", f["failed"] == 0
            ),
            Figure(
                "soak: server RSS start / middle / end (MB)",
                round(rss["end"] / MB),
                " / ".join(f"{rss[k] / MB:.0f}" for k in ("start", "middle", "end")),
                "end - middle < 100 MB",
                growth < GROWTH_TARGET,
            ),
        ],
    )


if __name__ == "__main__":
    main()
