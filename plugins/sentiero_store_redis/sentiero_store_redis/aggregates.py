"""The aggregates capability of the Redis store (a mixin of :class:`~.store.RedisStore`).

Each write is one Lua script (:mod:`.aggregate_scripts`): replacing a
contribution checks that the session exists and that the stored version
is lower, computes the difference of the rows and adds it to the totals,
all in one atomic step, so any number of app servers may set the same
contributions at once. Merging facts sets them and bumps their version the
same way. The removal scripts subtract a session's contributions and drop
its facts in the step that drops the session: totals never count a
removed session.

Totals live in one hash per (name, day) and each name's days in a sorted
set, so a day range reads only the days that hold totals. Reports sum in
Python (the generic ``aggregates_group``): every row of the range travels,
which suits the store's scale (a few hundred thousand sessions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from sentiero_core.store import AggregateRow, SessionFacts, latest_rows

from . import aggregate_scripts
from .errors import redis_errors

Dims = tuple[str, ...]
#: A fact's value, as :data:`sentiero_core.store.aggregates.FactValue`.
FactValue = Any

#: Sessions with facts one unfolded script call looks at.
UNFOLDED_PAGE = 1000
#: Keys deleted per round trip while clearing.
CLEAR_CHUNK = 500
#: Days read per round trip by ``aggregates_latest``.
LATEST_DAYS = 8


def _rows_json(rows: Sequence[AggregateRow]) -> bytes:
    return orjson.dumps(
        [[str(r.day), r.name, orjson.dumps(r.dims).decode(), r.count, r.total] for r in rows]
    )


def _facts_of(fields: Sequence[bytes]) -> SessionFacts:
    """The facts hash (a flat field, value list) as ``SessionFacts``."""
    facts: dict[str, FactValue] = {}
    version = 0
    for i in range(0, len(fields), 2):
        if fields[i] == b"":
            version = int(fields[i + 1])
        else:
            facts[fields[i].decode()] = orjson.loads(fields[i + 1])
    return SessionFacts(facts, version)


def _totals_of(name: str, day: int, fields: Mapping[bytes, bytes]) -> list[AggregateRow]:
    out = []
    for dims, value in fields.items():
        count, total = value.split(b" ")
        out.append(AggregateRow(name, day, tuple(orjson.loads(dims)), int(count), float(total)))
    return out


class RedisAggregates:
    client: Any
    where: str
    keys: Any

    def _register_aggregate_scripts(self, client: Any) -> None:
        self._agg_set = client.register_script(aggregate_scripts.SET)
        self._agg_merge = client.register_script(aggregate_scripts.MERGE_FACTS)
        self._agg_facts = client.register_script(aggregate_scripts.FACTS)
        self._agg_unfolded = client.register_script(aggregate_scripts.UNFOLDED)

    async def _merge(self, session_id: str, facts: dict[str, FactValue], answer: str) -> Any:
        args: list[Any] = [self.keys.prefix, session_id, answer]
        for key, value in facts.items():
            args += [key, orjson.dumps(value)]
        with redis_errors(self.where):
            return await self._agg_merge(args=args)

    async def aggregates_merge_facts(
        self, session_id: str, facts: dict[str, FactValue]
    ) -> SessionFacts | None:
        fields = await self._merge(session_id, facts, "all")
        return None if fields is None else _facts_of(fields)

    async def aggregates_add_facts(self, session_id: str, facts: dict[str, FactValue]) -> bool:
        return await self._merge(session_id, facts, "version") is not None

    async def aggregates_facts(self, session_id: str) -> SessionFacts | None:
        with redis_errors(self.where):
            fields = await self._agg_facts(args=[self.keys.prefix, session_id])
        return None if fields is None else _facts_of(fields)

    async def aggregates_unfolded(self, key: str, after: str | None, limit: int) -> list[str]:
        found: list[str] = []
        bound = "-" if after is None else f"({after}"
        while len(found) < limit:
            with redis_errors(self.where):
                answer = await self._agg_unfolded(
                    args=[self.keys.prefix, key, bound, UNFOLDED_PAGE]
                )
            found += [sid.decode() for sid in answer[2:]]
            if int(answer[0]) < UNFOLDED_PAGE:
                break
            bound = b"(" + answer[1]
        return found[:limit]

    async def aggregates_set(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        args = [self.keys.prefix, session_id, key, version, _rows_json(rows)]
        with redis_errors(self.where):
            return bool(await self._agg_set(args=args))

    async def _days(self, name: str, day_from: int, day_to: int) -> list[tuple[str, int]]:
        """The days of ``name`` holding totals in the range, latest first,
        as (key text, day)."""
        with redis_errors(self.where):
            found = await self.client.zrevrangebyscore(
                self.keys.days(name), day_to, day_from, withscores=True
            )
        return [(member.decode(), int(score)) for member, score in found]

    async def _read_days(self, name: str, days: Sequence[tuple[str, int]]) -> list[AggregateRow]:
        if not days:
            return []
        with redis_errors(self.where):
            async with self.client.pipeline(transaction=False) as pipe:
                for text, _day in days:
                    pipe.hgetall(self.keys.totals(text, name))
                answers = await pipe.execute()
        rows: list[AggregateRow] = []
        for (_text, day), fields in zip(days, answers, strict=True):
            rows += _totals_of(name, day, fields)
        return rows

    async def aggregates_fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> Sequence[AggregateRow]:
        rows: list[AggregateRow] = []
        for name in names:
            rows += await self._read_days(name, await self._days(name, day_from, day_to))
        return rows

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
        # The generic version reads every day of the range; this one reads
        # only the days holding totals, a few per round trip.
        found: dict[Dims, list[AggregateRow]] = {}
        days = await self._days(name, day_from, day_to)
        for start in range(0, len(days), LATEST_DAYS):
            rows = await self._read_days(name, days[start : start + LATEST_DAYS])
            for _text, day in days[start : start + LATEST_DAYS]:
                on_day = [r for r in rows if r.day == day]
                for group, items in latest_rows(on_day, where, group_by, limit, groups).items():
                    have = found.setdefault(group, [])
                    have += items[: limit - len(have)]
            if groups is not None and all(len(found.get(g, ())) >= limit for g in groups):
                break
        return found

    async def _delete_chunked(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), CLEAR_CHUNK):
            with redis_errors(self.where):
                await self.client.delete(*keys[start : start + CLEAR_CHUNK])

    async def aggregates_clear(self) -> None:
        # Contributions, facts, then totals, a chunk at a time so Redis
        # keeps serving. Every contribution belongs to a session in the
        # ``active`` index (the scripts see to it).
        k = self.keys
        offset = 0
        while True:
            with redis_errors(self.where):
                ids = await self.client.zrange(k.active, offset, offset + CLEAR_CHUNK - 1)
            await self._delete_chunked([k.contributions(i.decode()) for i in ids])
            offset += len(ids)
            if len(ids) < CLEAR_CHUNK:
                break
        with redis_errors(self.where):
            with_facts = await self.client.zrange(k.with_facts, 0, -1)
        await self._delete_chunked([*(k.facts(i.decode()) for i in with_facts), k.with_facts])
        with redis_errors(self.where):
            names = [n.decode() for n in await self.client.smembers(k.names)]
        for name in names:
            with redis_errors(self.where):
                days = await self.client.zrange(k.days(name), 0, -1)
            await self._delete_chunked([*(k.totals(d.decode(), name) for d in days), k.days(name)])
        await self._delete_chunked([k.names])
