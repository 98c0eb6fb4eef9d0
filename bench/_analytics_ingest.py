"""The ingest side of ``bench/analytics.py``: ``sentiero serve`` on a
SQLite file with ``SENTIERO_LOAD_PLUGINS=store_sqlite`` beside
``store_sqlite,analytics``, over real HTTP, in the same run. (Not a bench:
``make bench`` runs only the scripts whose names do not start with "_".)

The work is fixed, so both sides do the same: sessions of the real
recording (``tests/fixtures/rrweb-demo-81s.json``) cut where the recorder
flushes (9 gzipped batches, numbered), each session its own id. ``wrk``
posts every batch once, batch 1 of every session, then batch 2 of every
session, and so on; the number of sessions makes a session's batches
arrive :data:`SPACING_S` apart, as in the recording, at the rate the
server without analytics reached in a calibration run. So each session
lives as long as a real one, and the analytics plugin (its default
settings) folds it as often as it would a real one. A side's time runs
from the first request to the last batch stored, plus the graceful stop
of the server, which folds what is still pending: every fold is counted.
Each side also reports the server CPU it used over the same span.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from _http import USER_AGENT, sentiero_serve, wrk_command
from _load import process_cpu
from _recording import recorder_cuts

EVENTS_PATH = "/sentiero/events"
#: The recording's 81 s in 9 batches: a real session's batches come ~9 s apart.
SPACING_S = 9.0
OFF = "store_sqlite"
ON = "store_sqlite,analytics"

#: Posts body1.gz, body2.gz... once each, in order; then, while the last
#: answers come back, asks for a page that does not exist (nothing is
#: stored), and stops once every batch was answered 204. wrk calls
#: request() once before the load to check what it returns: that call
#: gets the page that does not exist too.
LUA = """
local bodies = {}
local i, done, n = -1, 0, 0
function init(args)
  n = tonumber(args[2])
  for k = 1, n do
    local f = assert(io.open(args[1] .. "/body" .. k .. ".gz", "rb"))
    bodies[k] = f:read("*all")
    f:close()
  end
end
function request()
  i = i + 1
  if i < 1 or i > n then
    return wrk.format("GET", "/no-such-page")
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Content-Encoding"] = "gzip", ["User-Agent"] = "USER_AGENT"}, bodies[i])
end
function response(status, headers, body)
  if status == 204 then
    done = done + 1
    if done >= n then
      wrk.thread:stop()
    end
  end
end
""".replace("USER_AGENT", USER_AGENT)


class Bodies:
    """The recording's batches as gzip bodies of any session.

    A body is one gzip member whose deflate stream starts with a stored
    (uncompressed) block holding the part that names the session, followed
    by the rest compressed once per batch: thousands of sessions' bodies
    cost a CRC each instead of a compression each. The server inflates
    them as it inflates any gzip body."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.rests: list[tuple[bytes, bytes]] = []
        for seq, cut in enumerate(recorder_cuts(events), 1):
            rest = orjson.dumps({"seq": seq, "sent_at": cut[-1]["timestamp"], "events": cut})
            raw = b"," + rest[1:]  # continues the object the prefix opened
            deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.rests.append((raw, deflate.compress(raw) + deflate.flush()))

    @property
    def per_session(self) -> int:
        return len(self.rests)

    def body(self, session: str, batch: int) -> bytes:
        prefix = b'{"v":1,"session_id":"%s","window_id":"w-%s","dropped":0' % (
            session.encode(),
            session.encode(),
        )
        raw, deflated = self.rests[batch]
        stored = b"\x00" + struct.pack("<HH", len(prefix), len(prefix) ^ 0xFFFF) + prefix
        crc = zlib.crc32(raw, zlib.crc32(prefix))
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        size = (len(prefix) + len(raw)) & 0xFFFFFFFF
        return header + stored + deflated + struct.pack("<II", crc, size)

    def write(self, folder: Path, sessions: int, tag: str) -> int:
        """Files ``body1.gz``... in posting order (batch-major); how many."""
        k = 0
        for batch in range(self.per_session):
            for n in range(sessions):
                k += 1
                (folder / f"body{k}.gz").write_bytes(self.body(f"{tag}-{n:06d}", batch))
        return k


@dataclass
class Side:
    """One side's run: its time, the server CPU it used, what was pending."""

    plugins: str
    batches: int
    load_s: float
    stop_s: float
    cpu_s: float
    pending_at_end: int = 0
    folded_sessions: int = 0

    @property
    def rate(self) -> float:
        """Batches per second, the graceful stop (pending folds) included."""
        return self.batches / (self.load_s + self.stop_s)

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.batches * 1000


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _unfolded(db: Path) -> int:
    from sentiero_store_sqlite.aggregates import unfolded

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return len(unfolded(conn, "analytics", None, 1 << 62))


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> tuple[float, float]:
    """Stop the server gracefully: (seconds it took, CPU seconds of its
    whole life), its usage read as it is reaped."""
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return time.monotonic() - start, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not stop in {timeout:.0f} s")
        time.sleep(0.01)


def run_side(plugins: str, folder: Path, db: Path, batches: int, connections: int) -> Side:
    """Post the ``batches`` bodies of ``folder`` once to a new server on
    ``db`` and stop it; the side's figures."""
    script = folder / "once.lua"
    script.write_text(LUA)
    with tempfile.TemporaryFile() as log:
        proc, port = sentiero_serve(db, plugins, log)
        try:
            cpu_before = process_cpu(proc.pid)
            start = time.monotonic()
            command = wrk_command(port, EVENTS_PATH, script, 3600, connections, str(folder))
            wrk = subprocess.Popen([*command, str(batches)], stdout=subprocess.PIPE, text=True)
            try:
                while _count(db, "SELECT batches FROM totals") < batches:
                    if wrk.poll() is not None or proc.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(
                            f"{plugins}: the load ended early\n{log.read().decode()[-2000:]}"
                        )
                    time.sleep(0.02)
                load_s = time.monotonic() - start
            finally:
                wrk.send_signal(signal.SIGINT)
                wrk.communicate(timeout=30)
            pending = _unfolded(db) if "analytics" in plugins else 0
            stop_s, cpu_total = _stop(proc, timeout=600)
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        log.seek(0)
        said = log.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{plugins}: the server exited with {proc.returncode}\n{said[-3000:]}")
    side = Side(plugins, batches, load_s, stop_s, cpu_total - cpu_before, pending)
    if "analytics" in plugins:
        left = _unfolded(db)
        if left:
            raise RuntimeError(
                f"{left} sessions were left unfolded after the graceful stop\n{said[-3000:]}"
            )
        side.folded_sessions = _count(db, "SELECT count(*) FROM agg_contributions")
    return side


def calibrate(bodies: Bodies, folder: Path, connections: int, sessions: int = 600) -> float:
    """Batches per second of the server without analytics, on a short run
    of the same kind."""
    calibration = folder / "calibration"
    calibration.mkdir()
    count = bodies.write(calibration, sessions, "calibration")
    side = run_side(OFF, calibration, folder / "calibration.db", count, connections)
    for path in calibration.iterdir():
        path.unlink()
    calibration.rmdir()
    return side.rate


@dataclass
class Comparison:
    """The best round of each side, and each side's lowest CPU per batch."""

    off: Side
    on: Side
    off_cpu_ms: float
    on_cpu_ms: float
    sessions: int

    @property
    def cost(self) -> float:
        """The share of ingest throughput analytics takes."""
        return 1 - self.on.rate / self.off.rate

    @property
    def cpu_cost(self) -> float:
        """The same by server CPU per batch."""
        return 1 - self.off_cpu_ms / self.on_cpu_ms


def compare(events: list[dict[str, Any]], rounds: int, connections: int) -> Comparison:
    """Alternating rounds of each side, each keeping its best; printed as
    they go."""
    from sentiero_analytics.settings import AnalyticsSettings

    try:
        # Sentiero's recorder names clicks and fields itself and marks the
        # snapshots it named (bench/analytics_facts.py rewrites a plain
        # rrweb recording so): what the collector really receives
        from analytics_facts import as_sentiero_records  # type: ignore[import-not-found]
    except ImportError:
        form = "as rrweb recorded it (snapshots and mutations read for names)"
    else:
        events = as_sentiero_records(events)
        form = "as Sentiero's recorder sends it (clicks and fields named)"
    bodies = Bodies(events)
    defaults = AnalyticsSettings()
    with tempfile.TemporaryDirectory(prefix="sentiero-analytics-") as tmp:
        folder = Path(tmp)
        rate = calibrate(bodies, folder, connections)
        sessions = max(100, round(rate * SPACING_S))
        batches = bodies.write(folder, sessions, "session")
        print(
            f"\nHTTP ingest: sentiero serve (SQLite), wrk with {connections} connections, "
            f"{sessions:,} sessions x {bodies.per_session} batches posted once each, the "
            f"recording {form}; "
            f"calibration {rate:,.0f} batches/s without analytics, so a session's batches "
            f"come about {SPACING_S:g} s apart; analytics with its defaults "
            f"(fold_interval {defaults.fold_interval:g} s)"
        )
        best: dict[str, Side] = {}
        lowest_cpu: dict[str, float] = {}
        for round_no in range(rounds):
            for plugins in (OFF, ON):
                db = folder / f"{round_no}-{plugins.replace(',', '+')}.db"
                side = run_side(plugins, folder, db, batches, connections)
                db.unlink()
                for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                    extra.unlink(missing_ok=True)
                if plugins not in best or side.rate > best[plugins].rate:
                    best[plugins] = side
                lowest_cpu[plugins] = min(lowest_cpu.get(plugins, side.cpu_ms), side.cpu_ms)
                folds = (
                    f"; {side.pending_at_end:,} sessions pending at the end, folded by the "
                    f"stop; {side.folded_sessions:,} sessions folded"
                    if plugins == ON
                    else ""
                )
                print(
                    f"  round {round_no + 1} {'on ' if plugins == ON else 'off'} "
                    f"{side.rate:7,.0f} batches/s ({side.load_s:5.1f} s of load + "
                    f"{side.stop_s:4.1f} s to stop){folds}; {side.cpu_ms:.3f} server CPU ms/batch"
                )
    return Comparison(best[OFF], best[ON], lowest_cpu[OFF], lowest_cpu[ON], sessions)
