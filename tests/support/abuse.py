"""The memory-amplification attack on ``POST <mount>/events``, over real HTTP.

``sentiero serve`` (real Hypercorn, SQLite store) runs in a subprocess; its
resident memory is read from /proc while attackers post small gzip bodies
that inflate to 26.1 MB of *valid* events (244,000 of them) and a normal
client keeps posting ordinary batches, as a recorder would. Shared by
``tests/ingest/test_abuse.py`` (the bounds, with margins) and
``bench/ingest_abuse.py`` (the figures, latency included).
"""

from __future__ import annotations

import gzip
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import orjson

EVENTS_PATH = "/sentiero/events"
ATTACK_EVENTS = 244_000
GZIP = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
T0 = 1_700_000_000_000


def attack_body(events: int = ATTACK_EVENTS) -> bytes:
    """One gzip body of ``events`` valid mouse-move events: 244,000 are 26.1 MB
    (within the 25 MiB that was the only cap) in ~90 KB."""
    parts = [
        b'{"v":1,"session_id":"attack_',
        secrets.token_hex(8).encode(),
        b'","window_id":"attack_window","events":[',
    ]
    moves = [
        b'{"type":3,"timestamp":%d,"data":{"source":1,"positions":'
        b'[{"x":%d,"y":%d,"id":9,"timeOffset":0}]}}' % (T0 + i // 1000, i // 1000 % 10, 5)
        for i in range(events)
    ]
    parts.append(b",".join(moves))
    parts.append(b"]}")
    return gzip.compress(b"".join(parts), 9)


def normal_body(seq: int, session: str) -> bytes:
    """An ordinary batch: 50 events a recorder sends in a few seconds."""
    events = [
        {"type": 4, "timestamp": T0, "data": {"href": "https://shop.example/", "width": 1280}}
    ]
    for i in range(49):
        if i % 7 == 0:
            data = {"source": 2, "type": 2, "id": 40 + i, "x": 10 * i, "y": 300}
        else:
            positions = [
                {"x": 10 * i + k, "y": 200 + k, "id": 12, "timeOffset": -k * 50} for k in range(5)
            ]
            data = {"source": 1, "positions": positions}
        events.append({"type": 3, "timestamp": T0 + seq * 5_000 + i * 100, "data": data})
    doc = {
        "v": 1,
        "session_id": session,
        "window_id": "normal_window",
        "seq": seq,
        "sent_at": T0 + seq * 5_000,
        "events": events,
    }
    return gzip.compress(orjson.dumps(doc))


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: The plugins the server loads: ingest and its store only, so whatever else
#: is installed (analytics collects at ingest) does not change the figures.
SERVE_PLUGINS = "store_sqlite"


def serve_environ(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment :func:`sentiero_serve` runs ``sentiero serve`` in."""
    environ = {**os.environ, "SENTIERO_LOAD_PLUGINS": SERVE_PLUGINS, **(env or {})}
    environ.pop("SENTIERO_CONFIG", None)
    return environ


@contextmanager
def sentiero_serve(db: Path, env: dict[str, str] | None = None) -> Iterator[tuple[int, str]]:
    """``sentiero serve`` on a free port: (its pid, its base URL)."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "sentiero_core.cli", "serve"),
        *("--port", str(port), "--store", f"sqlite:///{db}"),
    ]
    environ = serve_environ(env)
    # a file, not a pipe: a server logging more than a pipe holds must not block
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=log)
        try:
            _wait_for_port(port, proc, log)
            yield proc.pid, f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"sentiero serve exited: {log.read().decode()}") from None
            if time.monotonic() > deadline:
                raise RuntimeError("sentiero serve did not start in 30 s") from None
            time.sleep(0.05)


@dataclass
class Figures:
    idle_rss: int = 0
    peak_rss: int = 0
    after_rss: int = 0
    normal_statuses: Counter[int] = field(default_factory=Counter)
    normal_latencies: list[float] = field(default_factory=list)
    attack_statuses: Counter[int | str] = field(default_factory=Counter)

    def percentile(self, q: float) -> float:
        data = sorted(self.normal_latencies)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q * len(data)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.normal_latencies) if self.normal_latencies else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


def run(
    pid: int,
    base: str,
    *,
    attackers: int,
    seconds: float,
    pause: float = 0.02,
    settle: float = 3.0,
) -> Figures:
    """Attack for ``seconds`` with ``attackers`` clients (0: none) while the
    normal client posts a batch every ``pause`` s; RSS sampled all along and
    again ``settle`` s after the attack ended."""
    figures = Figures()
    figures.idle_rss = rss_bytes(pid)
    stop = threading.Event()
    bomb = attack_body() if attackers else b""

    def sample() -> None:
        while not stop.is_set():
            figures.peak_rss = max(figures.peak_rss, rss_bytes(pid))
            time.sleep(0.02)

    def attack() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                try:
                    status: int | str = client.post(
                        EVENTS_PATH, content=bomb, headers=GZIP
                    ).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                figures.attack_statuses[status] += 1

    def normal() -> None:
        session = "normal_" + secrets.token_hex(8)
        with httpx.Client(base_url=base, timeout=30) as client:
            seq = 0
            while not stop.is_set():
                seq += 1
                data = normal_body(seq, session)
                started = time.perf_counter()
                response = client.post(EVENTS_PATH, content=data, headers=GZIP)
                figures.normal_latencies.append(time.perf_counter() - started)
                figures.normal_statuses[response.status_code] += 1
                time.sleep(pause)

    threads = [threading.Thread(target=sample), threading.Thread(target=normal)]
    threads += [threading.Thread(target=attack) for _ in range(attackers)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    time.sleep(settle)
    figures.after_rss = rss_bytes(pid)
    return figures


def warm_up(base: str, batches: int = 40) -> None:
    """Ordinary traffic first, so that idle memory includes what serving
    ordinary batches needs anyway (imports, the store's caches)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for seq in range(1, batches + 1):
            response = client.post(
                EVENTS_PATH, content=normal_body(seq, "warm_up_session"), headers=GZIP
            )
            if response.status_code != 204:
                raise RuntimeError(f"warm-up batch answered {response.status_code}")
