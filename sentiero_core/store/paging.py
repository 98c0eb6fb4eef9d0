"""Reading a session's events in timestamp order out of compressed batches.

Batches from several windows overlap in time, so a page is a merge: batches
are visited by their first timestamp and the merge stops as soon as no
unvisited batch can hold an event earlier than the page's last one. Each
event's position is (timestamp, batch seq, index in batch); cursors carry
the last position returned.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any

from .base import EventPage, InvalidCursor
from .codec import decode_events
from .cursors import decode_cursor, encode_cursor

Position = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """A batch as a store keeps it. ``seq`` grows with arrival order."""

    seq: int
    window_id: str
    min_ts: int
    max_ts: int
    event_count: int
    blob: bytes


def parse_event_cursor(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if len(value) != 3 or not all(isinstance(v, int) for v in value):
        raise InvalidCursor(f"invalid cursor: {cursor[:40]!r}")
    return (value[0], value[1], value[2])


def _ts(event: dict[str, Any]) -> int:
    t = event.get("timestamp")
    return int(t) if isinstance(t, int | float) else 0


def _positions(batch: StoredBatch) -> list[tuple[Position, dict[str, Any]]]:
    return [((_ts(e), batch.seq, i), e) for i, e in enumerate(decode_events(batch.blob))]


async def page_events(
    batches: AsyncIterable[StoredBatch] | Iterable[StoredBatch],
    after: Position | None,
    limit: int,
) -> EventPage:
    """One page from ``batches``, which must come ordered by ``min_ts`` and
    may be pre-filtered to ``max_ts >= after[0]``."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    heap: list[tuple[Position, int, dict[str, Any]]] = []
    tiebreak = 0
    more_batches = False

    async def _aiter() -> Any:
        if isinstance(batches, AsyncIterable):
            async for b in batches:
                yield b
        else:
            for b in batches:
                yield b

    async for batch in _aiter():
        if len(heap) >= limit:
            kth = heapq.nsmallest(limit, heap)[-1][0]
            if batch.min_ts > kth[0]:
                more_batches = True
                break
        for pos, event in _positions(batch):
            if after is None or pos > after:
                heapq.heappush(heap, (pos, tiebreak, event))
                tiebreak += 1
    chosen = heapq.nsmallest(limit, heap)
    events = [e for _pos, _tb, e in chosen]
    has_more = more_batches or len(heap) > limit
    nxt = encode_cursor(list(chosen[-1][0])) if chosen and has_more else None
    return EventPage(events=events, next=nxt)


def trim_plan(batches: list[StoredBatch], keep: int) -> tuple[list[int], dict[int, list[dict[str, Any]]]]:
    """Which batches to drop and which to rewrite so that only the newest
    ``keep`` events (by timestamp) remain: (seqs to delete, {seq: kept events})."""
    total = sum(b.event_count for b in batches)
    excess = total - keep
    if excess <= 0:
        return [], {}
    ordered = sorted(batches, key=lambda b: (b.max_ts, b.seq))
    drop: list[int] = []
    # Whole batches whose every event is older than the rest go first.
    candidates: list[tuple[Position, dict[str, Any]]] = []
    for b in ordered:
        candidates.extend(_positions(b))
    candidates.sort(key=lambda pe: pe[0])
    doomed = {pos for pos, _e in candidates[:excess]}
    rewrite: dict[int, list[dict[str, Any]]] = {}
    for b in batches:
        kept = [e for pos, e in _positions(b) if pos not in doomed]
        if not kept:
            drop.append(b.seq)
        elif len(kept) != b.event_count:
            rewrite[b.seq] = kept
    return drop, rewrite
