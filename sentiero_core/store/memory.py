"""``memory://``: a store in this process's memory, for tests and trials
(private module: the store is :class:`sentiero_core.store.MemoryStore`).

Batches are kept compressed like every other store, so its stats and
memory use tell the truth about what a real store would hold.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import heapq
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .base import Store, StoreCapabilities
from .codec import encode_blob
from .cursors import EventPosition, SessionPosition
from .digest import event_time
from .memory_aggregates import MemoryAggregates
from .paging import StoredBatch, page_events, trim_plan
from .records import RecordUpdate, apply_update, matches, sort_records
from .summary import merge_digest
from .types import (
    Batch,
    EventPage,
    SessionFilter,
    SessionSummary,
    StoreLimits,
    StoreStats,
)


def _order_key(s: SessionSummary) -> tuple[int, str]:
    return (s.started_at, s.session_id)


def _batch_key(b: StoredBatch) -> tuple[int, int]:
    return (b.min_ts, b.seq)


def _snapshot(s: SessionSummary) -> SessionSummary:
    """A copy the caller may change without touching the stored summary."""
    return replace(
        s,
        pages=list(s.pages),
        windows=list(s.windows),
        custom_events=list(s.custom_events),
        user_traits=dict(s.user_traits),
    )


class MemoryStore(MemoryAggregates, Store):
    """Sessions in this process's memory; gone when it exits."""

    name = "memory"
    capabilities = StoreCapabilities(
        persistent=False, max_compression_ratio=0.5, records=True, aggregates=True
    )

    def __init__(self, limits: StoreLimits | None = None) -> None:
        super().__init__(limits)
        # Record primitives never await, so each one is atomic on the loop.
        self._records_by_collection: dict[str, dict[str, dict[str, Any]]] = {}
        self._summaries: dict[str, SessionSummary] = {}
        # Per session, kept sorted by (min_ts, seq): the order reads visit them.
        self._batches: dict[str, list[StoredBatch]] = {}
        # Per session, the (window, recorder seq) of every batch stored: a
        # redelivered batch is recognised even after trimming dropped it.
        self._delivered: dict[str, set[tuple[str, int]]] = {}
        self._seq = 0
        self._lock = asyncio.Lock()
        self._init_aggregates()

    async def append(self, batch: Batch) -> bool:
        # Compress outside the lock: it is the slow part.
        blob, raw = encode_blob(batch.events)
        digest = replace(batch.digest, raw_bytes=batch.digest.raw_bytes or raw)
        async with self._lock:
            key = None if batch.seq is None else (batch.window_id, batch.seq)
            if key is not None and key in self._delivered.get(batch.session_id, ()):
                return False
            self._seq += 1
            stored = StoredBatch(
                seq=self._seq,
                window_id=batch.window_id,
                min_ts=digest.first_ts,
                max_ts=digest.last_ts,
                event_count=len(batch.events),
                blob=blob,
            )
            bisect.insort(self._batches.setdefault(batch.session_id, []), stored, key=_batch_key)
            self._summaries[batch.session_id] = merge_digest(
                self._summaries.get(batch.session_id), batch.session_id, digest
            )
            if key is not None:
                self._delivered.setdefault(batch.session_id, set()).add(key)
            evicted = self._enforce_limits(batch.session_id)
        # Outside the lock: a listener may read the store.
        await self.report_evicted(evicted)
        return True

    def _enforce_limits(self, session_id: str) -> list[str]:
        """Apply both limits; the ids of the sessions evicted."""
        cap = self.limits.max_events_per_session
        summary = self._summaries[session_id]
        if cap is not None and summary.event_count > cap:
            self._trim(session_id, summary, cap)
        cap = self.limits.max_sessions
        if cap is not None and len(self._summaries) > cap:
            excess = len(self._summaries) - cap
            doomed = heapq.nsmallest(
                excess, self._summaries.values(), key=lambda s: (s.ended_at, s.session_id)
            )
            return [s.session_id for s in doomed if self._drop(s.session_id)]
        return []

    def _trim(self, session_id: str, summary: SessionSummary, keep: int) -> None:
        drop, rewrite = trim_plan(self._batches[session_id], keep)
        dropped = set(drop)
        kept: list[StoredBatch] = []
        for b in self._batches[session_id]:
            if b.seq in dropped:
                continue
            events = rewrite.get(b.seq)
            if events is not None:
                blob, _raw = encode_blob(events)
                times = [event_time(e) for e in events]
                b = replace(
                    b, blob=blob, event_count=len(events), min_ts=min(times), max_ts=max(times)
                )
            kept.append(b)
        kept.sort(key=_batch_key)
        self._batches[session_id] = kept
        summary.event_count = sum(b.event_count for b in kept)
        summary.batch_count = len(kept)

    def _drop(self, session_id: str) -> bool:
        self._batches.pop(session_id, None)
        self._delivered.pop(session_id, None)
        self._drop_aggregates(session_id)
        return self._summaries.pop(session_id, None) is not None

    async def fetch_sessions(
        self, filter: SessionFilter | None, after: SessionPosition | None, count: int
    ) -> list[SessionSummary]:
        rows = [
            s
            for s in self._summaries.values()
            if (filter is None or filter.matches(s)) and (after is None or _order_key(s) < after)
        ]
        return [_snapshot(s) for s in heapq.nlargest(count, rows, key=_order_key)]

    async def get_session(self, session_id: str) -> SessionSummary | None:
        s = self._summaries.get(session_id)
        return _snapshot(s) if s else None

    async def fetch_events(
        self,
        session_id: str,
        after: EventPosition | None,
        limit: int,
        window_id: str | None,
    ) -> EventPage:
        # A snapshot of the list: appends may run while the page is merged.
        batches = [
            b
            for b in self._batches.get(session_id, ())
            if (window_id is None or b.window_id == window_id)
            and (after is None or b.max_ts >= after[0])
        ]
        return await page_events(batches, after, limit)

    async def remove_sessions(self, session_ids: list[str]) -> list[str]:
        async with self._lock:
            return [sid for sid in session_ids if self._drop(sid)]

    async def erase_matching(self, filter: SessionFilter) -> list[str]:
        async with self._lock:
            doomed = [s.session_id for s in self._summaries.values() if filter.matches(s)]
            return [sid for sid in doomed if self._drop(sid)]

    async def purge_idle(self, before: int) -> list[str]:
        async with self._lock:
            doomed = [s.session_id for s in self._summaries.values() if s.ended_at < before]
            return [sid for sid in doomed if self._drop(sid)]

    async def count_matching(self, filter: SessionFilter | None) -> int:
        if filter is None:
            return len(self._summaries)
        return sum(1 for s in self._summaries.values() if filter.matches(s))

    async def stats(self) -> StoreStats:
        batches = [b for bs in self._batches.values() for b in bs]
        return StoreStats(
            sessions=len(self._summaries),
            events=sum(b.event_count for b in batches),
            batches=len(batches),
            raw_bytes=sum(s.raw_bytes for s in self._summaries.values()),
            stored_bytes=sum(len(b.blob) for b in batches),
        )

    # -- records ---------------------------------------------------------------

    async def record_upsert(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        records = self._records_by_collection.setdefault(collection, {})
        after = apply_update(records.get(key), key, update)
        records[key] = after
        return copy.deepcopy(after)

    async def record_compare_and_set(
        self, collection: str, key: str, expected: dict[str, Any], changes: dict[str, Any]
    ) -> bool:
        record = self._records_by_collection.get(collection, {}).get(key)
        if record is None or not matches(record, expected):
            return False
        record.update(copy.deepcopy(changes))
        return True

    async def record_get(self, collection: str, key: str) -> dict[str, Any] | None:
        record = self._records_by_collection.get(collection, {}).get(key)
        return copy.deepcopy(record) if record is not None else None

    async def record_find(
        self,
        collection: str,
        where: dict[str, Any],
        order_by: str | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> Sequence[dict[str, Any]]:
        found = [
            r for r in self._records_by_collection.get(collection, {}).values() if matches(r, where)
        ]
        return copy.deepcopy(sort_records(found, order_by, descending)[offset : offset + limit])

    async def record_count(self, collection: str, where: dict[str, Any]) -> int:
        records = self._records_by_collection.get(collection, {}).values()
        return sum(1 for r in records if matches(r, where))

    async def record_delete(self, collection: str, where: dict[str, Any]) -> int:
        records = self._records_by_collection.get(collection, {})
        gone = [k for k, r in records.items() if matches(r, where)]
        for key in gone:
            del records[key]
        return len(gone)
