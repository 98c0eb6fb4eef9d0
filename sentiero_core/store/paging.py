"""Reading a session's events in timestamp order out of compressed batches
(private module: import from :mod:`sentiero_core.store`).

Batches from several windows overlap in time, so a page is a merge: batches
are visited by their first timestamp and the merge stops as soon as no
unvisited batch can hold an event earlier than the page's last one. Each
event's position is (timestamp, batch seq, index in batch); cursors carry
the last position returned.

Stores keeping batches as :class:`StoredBatch`-like rows can use
:func:`page_events` for reads and :func:`trim_plan` for
``max_events_per_session``; both decode only the batches they must.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from .codec import decode_blob
from .cursors import EventPosition, event_cursor
from .digest import event_time
from .types import Event, EventPage

Position = EventPosition


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """A batch as a store keeps it. ``seq`` grows with arrival order;
    ``min_ts``/``max_ts`` bound its events' :func:`event_time`."""

    seq: int
    window_id: str
    min_ts: int
    max_ts: int
    event_count: int
    blob: bytes


def positions(batch: StoredBatch) -> list[tuple[Position, Event]]:
    """Decode ``batch``: each event with its position."""
    return [((event_time(e), batch.seq, i), e) for i, e in enumerate(decode_blob(batch.blob))]


class _Merge:
    """Keeps the ``limit`` smallest positions seen after ``after``.

    A max-heap of negated positions holds the candidates; ``overflow``
    records that an eligible event did not fit, so there is a next page.
    """

    def __init__(self, after: Position | None, limit: int) -> None:
        self.after = after
        self.limit = limit
        self.heap: list[tuple[tuple[int, int, int], int, Event]] = []
        self.overflow = False

    def full(self) -> bool:
        return len(self.heap) >= self.limit

    def worst(self) -> Position:
        t, s, i = self.heap[0][0]
        return (-t, -s, -i)

    def can_use(self, batch: StoredBatch) -> bool:
        """Whether ``batch`` may hold an event for this page. Batches come
        ordered by ``min_ts``, so once this is false for a non-empty batch
        it is false for every later one."""
        return not self.full() or batch.min_ts <= self.worst()[0]

    def add(self, batch: StoredBatch, decoded: list[tuple[Position, Event]] | None = None) -> None:
        if batch.event_count == 0 or (self.after is not None and batch.max_ts < self.after[0]):
            return
        for pos, event in positions(batch) if decoded is None else decoded:
            if self.after is not None and pos <= self.after:
                continue
            key = (-pos[0], -pos[1], -pos[2])
            if not self.full():
                heapq.heappush(self.heap, (key, 0, event))
            elif pos < self.worst():
                heapq.heapreplace(self.heap, (key, 0, event))
                self.overflow = True
            else:
                self.overflow = True

    def chosen(self) -> list[tuple[Position, Event]]:
        ordered = sorted(self.heap, key=lambda item: item[0], reverse=True)
        return [((-k[0], -k[1], -k[2]), e) for k, _tb, e in ordered]


async def _each(
    batches: AsyncIterable[StoredBatch] | Iterable[StoredBatch],
) -> AsyncIterator[StoredBatch]:
    if isinstance(batches, AsyncIterable):
        async for b in batches:
            yield b
    else:
        for b in batches:
            yield b


async def page_events(
    batches: AsyncIterable[StoredBatch] | Iterable[StoredBatch],
    after: Position | None,
    limit: int,
) -> EventPage:
    """One page from ``batches``, which must come ordered by ``min_ts`` (then
    ``seq``) and may be pre-filtered to ``max_ts >= after[0]``. Iteration
    stops at the first batch that cannot contribute, so page 1 of a long
    session decodes only its first batches."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    merge = _Merge(after, limit)
    more_batches = False
    async for batch in _each(batches):
        if batch.event_count == 0:
            continue
        if not merge.can_use(batch):
            more_batches = True
            break
        merge.add(batch)
    chosen = merge.chosen()
    has_more = more_batches or merge.overflow
    nxt = event_cursor(chosen[-1][0]) if chosen and has_more else None
    return EventPage(events=[e for _pos, e in chosen], next=nxt)


class TrimPlan(NamedTuple):
    """How to cut a session down to its newest events: the seqs of batches
    to delete whole, and the batches to rewrite with the events they keep.
    Unpacks as ``drop, rewrite = trim_plan(...)``."""

    drop: list[int]
    rewrite: dict[int, list[Event]]


def trim_plan(batches: Iterable[StoredBatch], keep: int) -> TrimPlan:
    """Which batches to drop or rewrite so that only the newest ``keep``
    events (by position) remain. The doomed events are exactly the first
    ``total - keep`` in reading order, so this is a page read from the
    start: only the oldest batches are decoded, each once."""
    if keep < 0:
        raise ValueError("keep must not be negative")
    ordered = sorted(batches, key=lambda b: (b.min_ts, b.seq))
    excess = sum(b.event_count for b in ordered) - keep
    if excess <= 0:
        return TrimPlan([], {})
    merge = _Merge(None, excess)
    visited: list[tuple[StoredBatch, list[tuple[Position, Event]]]] = []
    for batch in ordered:
        if batch.event_count == 0:
            continue
        if not merge.can_use(batch):
            break
        decoded = positions(batch)
        merge.add(batch, decoded)
        visited.append((batch, decoded))
    doomed = {pos for pos, _e in merge.chosen()}
    plan = TrimPlan([], {})
    for batch, decoded in visited:
        kept = [e for pos, e in decoded if pos not in doomed]
        if not kept:
            plan.drop.append(batch.seq)
        elif len(kept) != len(decoded):
            plan.rewrite[batch.seq] = kept
    return plan
