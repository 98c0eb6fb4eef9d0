"""``memory://``: a store in this process's memory, for tests and trials.

Batches are kept compressed like every other store, so its stats and
memory use tell the truth about what a real store would hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from .base import (
    Batch,
    EventPage,
    SessionFilter,
    SessionPage,
    SessionSummary,
    Store,
    StoreLimits,
    StoreStats,
)
from .codec import encode_events
from .cursors import decode_cursor, encode_cursor
from .paging import StoredBatch, page_events, parse_event_cursor, trim_plan
from .summary import merge_digest
from .base import InvalidCursor


def _order_key(s: SessionSummary) -> tuple[int, str]:
    return (s.started_at, s.session_id)


def parse_session_cursor(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if len(value) != 2 or not isinstance(value[0], int) or not isinstance(value[1], str):
        raise InvalidCursor(f"invalid cursor: {cursor[:40]!r}")
    return (value[0], value[1])


def session_cursor(s: SessionSummary) -> str:
    return encode_cursor([s.started_at, s.session_id])


class MemoryStore(Store):
    name = "memory"

    def __init__(self, limits: StoreLimits | None = None) -> None:
        super().__init__(limits)
        self._summaries: dict[str, SessionSummary] = {}
        self._batches: dict[str, list[StoredBatch]] = {}
        self._seq = 0
        self._lock = asyncio.Lock()

    async def append(self, batch: Batch) -> None:
        blob, raw = encode_events(batch.events)
        digest = replace(batch.digest, raw_bytes=batch.digest.raw_bytes or raw)
        async with self._lock:
            self._seq += 1
            stored = StoredBatch(
                seq=self._seq,
                window_id=batch.window_id,
                min_ts=digest.first_ts,
                max_ts=digest.last_ts,
                event_count=len(batch.events),
                blob=blob,
            )
            self._batches.setdefault(batch.session_id, []).append(stored)
            self._summaries[batch.session_id] = merge_digest(
                self._summaries.get(batch.session_id), batch.session_id, digest
            )
            self._enforce_limits(batch.session_id)

    def _enforce_limits(self, session_id: str) -> None:
        cap = self.limits.max_events_per_session
        if cap is not None:
            batches = self._batches[session_id]
            drop, rewrite = trim_plan(batches, cap)
            if drop or rewrite:
                kept: list[StoredBatch] = []
                for b in batches:
                    if b.seq in drop:
                        continue
                    if b.seq in rewrite:
                        events = rewrite[b.seq]
                        blob, _raw = encode_events(events)
                        times = [int(e.get("timestamp") or 0) for e in events]
                        b = replace(b, blob=blob, event_count=len(events),
                                    min_ts=min(times), max_ts=max(times))
                    kept.append(b)
                self._batches[session_id] = kept
                summary = self._summaries[session_id]
                summary.event_count = sum(b.event_count for b in kept)
                summary.batch_count = len(kept)
        cap = self.limits.max_sessions
        if cap is not None and len(self._summaries) > cap:
            by_age = sorted(self._summaries.values(), key=lambda s: (s.ended_at, s.session_id))
            for s in by_age[: len(self._summaries) - cap]:
                self._drop(s.session_id)

    def _drop(self, session_id: str) -> bool:
        self._batches.pop(session_id, None)
        return self._summaries.pop(session_id, None) is not None

    async def list_sessions(
        self, filter: SessionFilter | None = None, cursor: str | None = None, limit: int = 50
    ) -> SessionPage:
        after = parse_session_cursor(cursor)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = sorted(
            (s for s in self._summaries.values() if filter is None or filter.matches(s)),
            key=_order_key,
            reverse=True,
        )
        if after is not None:
            rows = [s for s in rows if _order_key(s) < after]
        page = [replace(s) for s in rows[:limit]]
        nxt = session_cursor(page[-1]) if len(rows) > limit else None
        return SessionPage(sessions=page, next=nxt)

    async def get_session(self, session_id: str) -> SessionSummary | None:
        s = self._summaries.get(session_id)
        return replace(s, pages=list(s.pages), windows=list(s.windows),
                       custom_events=list(s.custom_events)) if s else None

    async def read_events(
        self,
        session_id: str,
        cursor: str | None = None,
        limit: int = 1000,
        window_id: str | None = None,
    ) -> EventPage:
        after = parse_event_cursor(cursor)
        batches = sorted(
            (
                b
                for b in self._batches.get(session_id, [])
                if (window_id is None or b.window_id == window_id)
                and (after is None or b.max_ts >= after[0])
            ),
            key=lambda b: (b.min_ts, b.seq),
        )
        return await page_events(batches, after, limit)

    async def delete_sessions(self, session_ids: Sequence[str]) -> int:
        async with self._lock:
            return sum(self._drop(sid) for sid in set(session_ids))

    async def erase(self, filter: SessionFilter) -> int:
        if filter.is_empty():
            raise ValueError("erase needs at least one filter; use purge_before to clear by age")
        async with self._lock:
            doomed = [s.session_id for s in self._summaries.values() if filter.matches(s)]
            return sum(self._drop(sid) for sid in doomed)

    async def purge_before(self, before: int) -> int:
        async with self._lock:
            doomed = [s.session_id for s in self._summaries.values() if s.ended_at < before]
            return sum(self._drop(sid) for sid in doomed)

    async def count_sessions(self, filter: SessionFilter | None = None) -> int:
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
