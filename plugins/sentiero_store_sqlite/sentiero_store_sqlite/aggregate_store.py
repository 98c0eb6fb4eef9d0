"""The aggregate methods of :class:`~.store.SQLiteStore` (a mixin)."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from sentiero_core.store import AggregateRow, SessionFacts, Tally

from . import aggregates, totals
from .aggregates import AggregateWrite
from .connection import Connection, sqlite_errors
from .url import SQLiteLocation
from .writes import WriteQueue

T = TypeVar("T")
Dims = tuple[str, ...]


class SQLiteAggregates:
    location: SQLiteLocation
    _write_lock: asyncio.Lock

    def _init_aggregates(self, max_group: int) -> None:
        # Its own queue, sharing the append queue's lock: aggregate writes
        # group with each other, and never interleave with an append group.
        self._aggregate_writes: WriteQueue[AggregateWrite] = WriteQueue(
            self._commit_aggregates, self._write_lock, max_group
        )

    # provided by the store
    def _usable_writer(self) -> Connection:
        raise NotImplementedError

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _commit_aggregates(self, group: list[AggregateWrite]) -> None:
        await self._transaction(partial(aggregates.run_group, group=group))

    async def _aggregate_write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        self._usable_writer()
        item = AggregateWrite(work)
        await self._aggregate_writes.submit(item)
        return item.result

    async def aggregates_merge_facts(
        self, session_id: str, facts: dict[str, Any]
    ) -> SessionFacts | None:
        result: SessionFacts | None = await self._aggregate_write(
            partial(aggregates.merge_facts, session_id=session_id, facts=facts)
        )
        return result

    async def aggregates_facts(self, session_id: str) -> SessionFacts | None:
        return await self._aggregate_read(partial(aggregates.session_facts, session_id=session_id))

    async def aggregates_unfolded(self, key: str, after: str | None, limit: int) -> list[str]:
        return await self._aggregate_read(
            partial(aggregates.unfolded, key=key, after=after, limit=limit)
        )

    async def _aggregate_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._reading() as db:  # type: ignore[attr-defined]
            with sqlite_errors(self.location):
                result: T = await db.run(work)
        return result

    async def aggregates_add_facts(self, session_id: str, facts: dict[str, Any]) -> bool:
        return bool(
            await self._aggregate_write(
                partial(aggregates.add_facts, session_id=session_id, facts=facts)
            )
        )

    async def aggregates_set(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        return bool(
            await self._aggregate_write(
                partial(
                    aggregates.set_contribution,
                    session_id=session_id,
                    key=key,
                    version=version,
                    rows=rows,
                )
            )
        )

    async def aggregates_fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> Sequence[AggregateRow]:
        async with self._reading() as db:  # type: ignore[attr-defined]
            with sqlite_errors(self.location):
                rows: list[AggregateRow] = await db.run(
                    partial(
                        aggregates.fetch, names=names, day_from=day_from, day_to=day_to, where=where
                    )
                )
        return rows

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._reading() as db:  # type: ignore[attr-defined]
            with sqlite_errors(self.location):
                result: T = await db.run(work)
        return result

    async def aggregates_group(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Mapping[int, frozenset[str]],
        group_by: tuple[int, ...],
        by_day: bool,
    ) -> dict[Dims, Tally]:
        # A long range is summed in parts, one per read connection, each on
        # its own thread: a report over millions of rows uses every core.
        parts = min(len(getattr(self, "_reader_list", ())), day_to - day_from + 1)
        bounds = [day_from + (day_to - day_from + 1) * i // max(parts, 1) for i in range(parts + 1)]
        if parts < 2:
            bounds = [day_from, day_to + 1]
        sums = await asyncio.gather(
            *(
                self._read(
                    partial(
                        totals.group,
                        name=name,
                        day_from=first,
                        day_to=after - 1,
                        where=dict(where),
                        group_by=group_by,
                        by_day=by_day,
                    )
                )
                for first, after in itertools.pairwise(bounds)
            )
        )
        out = sums[0]
        for more in sums[1:]:
            for key, tally in more.items():
                out[key] = out[key] + tally if key in out else tally
        return out

    async def aggregates_group_sizes(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Mapping[int, frozenset[str]],
        group_by: tuple[int, ...],
    ) -> dict[int, int]:
        return await self._read(
            partial(
                totals.group_sizes,
                name=name,
                day_from=day_from,
                day_to=day_to,
                where=dict(where),
                group_by=group_by,
            )
        )

    async def aggregates_latest(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Mapping[int, frozenset[str]],
        group_by: tuple[int, ...],
        limit: int,
        groups: frozenset[Dims] | None,
    ) -> dict[Dims, list[AggregateRow]]:
        return await self._read(
            partial(
                totals.latest,
                name=name,
                day_from=day_from,
                day_to=day_to,
                where=dict(where),
                group_by=group_by,
                limit=limit,
                groups=groups,
            )
        )

    async def aggregates_clear(self) -> None:
        await self._aggregate_write(aggregates.clear)
