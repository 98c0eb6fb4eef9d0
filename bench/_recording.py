"""The material the benches share: the real rrweb recording kept in
tests/fixtures and, for the store benches, its cuts
where the recorder would flush, as the batches of many sessions. (Not a
bench: ``make bench`` runs only the scripts whose names do not start with
"_".)"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from sentiero_core.store import Batch, RequestMeta, digest_events

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "rrweb-demo-81s.json"
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
# the recorder's defaults: a batch leaves after 10 s or 50 events
FLUSH_MS = 10_000
FLUSH_EVENTS = 50
NOW = 1_760_000_000_000

Event = dict[str, Any]


def load_recording(script: str) -> list[Event]:
    """The recording's events; exits naming ``script`` when it is not one."""
    events = orjson.loads(FIXTURE.read_bytes())
    if not isinstance(events, list) or not events:
        sys.exit(f"{script}: {FIXTURE} is not a JSON list of rrweb events")
    return events


def recorder_cuts(events: list[Event]) -> list[list[Event]]:
    """The recording cut where the recorder would flush."""
    cuts: list[list[Event]] = []
    current: list[Event] = []
    start = events[0]["timestamp"]
    for e in events:
        if current and (len(current) >= FLUSH_EVENTS or e["timestamp"] - start >= FLUSH_MS):
            cuts.append(current)
            current, start = [], e["timestamp"]
        current.append(e)
    cuts.append(current)
    return cuts


def session_batches(cuts: list[list[Event]], n: int, tag: str = "bench") -> list[Batch]:
    """Session ``n``'s batches (id ``<tag>-<n>``), moved in time so sessions
    do not overlap, numbered as the recorder numbers them (so a repeat is
    recognised)."""
    shift = NOW - cuts[0][0]["timestamp"] + n * 100_000
    out = []
    for seq, cut in enumerate(cuts, 1):
        events = [{**e, "timestamp": e["timestamp"] + shift} for e in cut]
        digest = digest_events("w1", events, raw_bytes=len(orjson.dumps(events)), user_agent=UA)
        meta = RequestMeta(received_at=events[-1]["timestamp"], user_agent=UA)
        out.append(Batch(f"{tag}-{n:05d}", "w1", events, meta, digest, seq))
    return out
