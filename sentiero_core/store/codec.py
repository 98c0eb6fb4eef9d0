"""How event batches are kept at rest: JSON, then zlib.

A single rrweb event barely compresses, a batch compresses about ninefold,
so stores keep whole batches as one blob each.

Level 5, not zlib's default 6: on batches of 50 events cut from a real
recording (the recorder's default flush size) level 6 takes 135 us a batch
for 8.9x and level 5 108 us for 8.6x; cut as the recorder flushes (50
events or 10 s) the same recording stores at 8.4x (level 6), 8.1x (level 5)
and 7.6x (level 4), and levels 1-3 give 7.1-7.8x. Compression was a tenth
of what an ingest request cost, so the cheaper level is worth its 3-4% of
disk; below 5 a store would fall under 8x.
Decompression does not depend on the level: blobs written at any level
(older ones at 6) read the same.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

LEVEL = 5


def compress(raw: bytes) -> bytes:
    """A blob from a batch's JSON text (as :func:`encode_events` writes it)."""
    return zlib.compress(raw, LEVEL)


def encode_events(events: list[dict[str, Any]]) -> tuple[bytes, int]:
    """(compressed blob, raw JSON size in bytes)."""
    raw = orjson.dumps(events)
    return compress(raw), len(raw)


def decode_events(blob: bytes) -> list[dict[str, Any]]:
    events = orjson.loads(zlib.decompress(blob))
    if not isinstance(events, list):
        raise ValueError("stored batch is not a list of events")
    return events
