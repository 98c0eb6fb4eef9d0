"""How event batches are kept at rest: JSON, then zlib.

A single rrweb event barely compresses, a batch compresses about ninefold,
so stores keep whole batches as one blob each.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

LEVEL = 6


def encode_events(events: list[dict[str, Any]]) -> tuple[bytes, int]:
    """(compressed blob, raw JSON size in bytes)."""
    raw = orjson.dumps(events)
    return zlib.compress(raw, LEVEL), len(raw)


def decode_events(blob: bytes) -> list[dict[str, Any]]:
    events = orjson.loads(zlib.decompress(blob))
    if not isinstance(events, list):
        raise ValueError("stored batch is not a list of events")
    return events
