"""The aggregates capability of the memory store (private module)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence

from .aggregates import (
    AggregateRow,
    Allowed,
    Dims,
    FactValue,
    SessionFacts,
    is_zero_total,
    latest_rows,
    row_delta,
)
from .types import SessionSummary


class MemoryAggregates:
    """Totals, contributions and facts in dicts, changed under the store's
    lock, so each call is atomic with respect to appends and removals."""

    _lock: asyncio.Lock
    _summaries: dict[str, SessionSummary]

    def _init_aggregates(self) -> None:
        self._totals: dict[tuple[str, int, Dims], list[float]] = {}
        # session -> key -> (version, rows)
        self._contributions: dict[str, dict[str, tuple[int, list[AggregateRow]]]] = {}
        self._facts: dict[str, SessionFacts] = {}

    def _add_to_totals(self, rows: Sequence[AggregateRow]) -> None:
        for r in rows:
            slot = self._totals.setdefault(r.key, [0, 0.0])
            slot[0] += r.count
            slot[1] += r.total
            if is_zero_total(slot[0], slot[1]):
                del self._totals[r.key]

    def _drop_aggregates(self, session_id: str) -> None:
        """Subtract the session's contributions and forget its facts; the
        caller holds the lock."""
        for _version, rows in self._contributions.pop(session_id, {}).values():
            self._add_to_totals(row_delta(rows, []))
        self._facts.pop(session_id, None)

    async def aggregates_merge_facts(
        self, session_id: str, facts: dict[str, FactValue]
    ) -> SessionFacts | None:
        async with self._lock:
            if session_id not in self._summaries:
                return None
            old = self._facts.get(session_id)
            merged = dict(old.facts) if old else {}
            merged.update(copy.deepcopy(facts))
            stored = SessionFacts(merged, (old.version if old else 0) + 1)
            self._facts[session_id] = stored
            return SessionFacts(dict(merged), stored.version)

    async def aggregates_facts(self, session_id: str) -> SessionFacts | None:
        async with self._lock:
            if session_id not in self._summaries:
                return None
            stored = self._facts.get(session_id)
            if stored is None:
                return SessionFacts({}, 0)
            # facts are replaced, never changed in place, by merges
            return SessionFacts(dict(stored.facts), stored.version)

    async def aggregates_unfolded(self, key: str, after: str | None, limit: int) -> list[str]:
        async with self._lock:
            found = sorted(
                sid
                for sid, facts in self._facts.items()
                if (after is None or sid > after)
                and self._contributions.get(sid, {}).get(key, (0, []))[0] < facts.version
            )
        return found[:limit]

    async def aggregates_set(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        async with self._lock:
            if session_id not in self._summaries:
                return False
            mine = self._contributions.setdefault(session_id, {})
            old_version, old_rows = mine.get(key, (0, []))
            if old_version >= version:
                return False
            self._add_to_totals(row_delta(old_rows, rows))
            mine[key] = (version, list(rows))
            return True

    async def aggregates_fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> list[AggregateRow]:
        wanted = set(names)
        return [
            AggregateRow(n, d, k, int(c), t)
            for (n, d, k), (c, t) in self._totals.items()
            if n in wanted and day_from <= d <= day_to
        ]

    async def aggregates_latest(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
        limit: int,
        groups: frozenset[Dims] | None,
    ) -> dict[Dims, list[AggregateRow]]:
        # One pass over the totals, not the generic day-by-day reads.
        rows = await self.aggregates_fetch([name], day_from, day_to, {})
        return latest_rows(rows, where, group_by, limit, groups)

    async def aggregates_clear(self) -> None:
        async with self._lock:
            self._init_aggregates()
