"""The aggregates capability of the MongoDB store, correct with any number
of app servers writing at once.

Three collections: ``agg_totals`` (one document per name, day and dims,
changed only with ``$inc``), ``agg_contributions`` (one document per
session and key, holding its rows and version) and ``agg_facts`` (one
document per session). Replacing a contribution is a compare-and-set on
its version; the winner, and only the winner, then adds the difference to
the totals with ``$inc``. Every transition of a contribution is applied to
the totals exactly once, so the totals telescope to the sum of the current
contributions whichever server wrote what. Removal claims each
contribution with ``find_one_and_delete`` before subtracting it, so two
servers removing one session subtract it once.

Reports sum in the server: :meth:`MongoAggregates.group` is one
aggregation pipeline (``$match`` on name, days and dims, ``$group`` on
the dims asked for), :meth:`MongoAggregates.group_sizes` groups those
groups by count, and :meth:`MongoAggregates.latest` sorts and cuts
each group's rows there a day at a time, so only groups and the rows kept
travel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, DeleteOne, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from sentiero_core.store import (
    ZERO_TOTAL,
    AggregateRow,
    SessionFacts,
    StoreError,
    Tally,
    date_of_day,
    is_zero_total,
    latest_rows,
    row_delta,
    rows_from_json,
    rows_to_json,
)

from . import driver

Dims = tuple[str, ...]
Allowed = dict[int, frozenset[str]]

#: Lost compare-and-set rounds before a write gives up (each loss means
#: another server wrote meanwhile, so this is far more than any real race).
MAX_RACES = 50
#: A total at or below this size counts as zero (float sums drift).
EPSILON = ZERO_TOTAL
#: Facts documents read per round trip while listing unfolded sessions.
UNFOLDED_PAGE = 1000

TOTAL_INDEXES = [IndexModel([("n", ASCENDING), ("d", ASCENDING)], name="name_day")]
CONTRIBUTION_INDEXES = [IndexModel([("sid", ASCENDING)], name="session")]


def _total_id(row: AggregateRow) -> str:
    return orjson.dumps([row.name, row.day, list(row.dims)]).decode()


def _contribution_id(session_id: str, key: str) -> str:
    return orjson.dumps([session_id, key]).decode()


def _dim(pos: int) -> dict[str, Any]:
    """The dimension at ``pos`` of a total, ``""`` when it has fewer."""
    return {"$ifNull": [{"$arrayElemAt": ["$k", pos]}, ""]}


#: Totals at zero wait for their conditional delete: reads skip them.
NOT_ZERO = {"$or": [{"c": {"$ne": 0}}, {"t": {"$gt": EPSILON}}, {"t": {"$lt": -EPSILON}}]}


def _match(name: str, day_from: int, day_to: int, where: Allowed) -> dict[str, Any]:
    query: dict[str, Any] = {"n": name, "d": {"$gte": day_from, "$lte": day_to}}
    exprs = []
    for pos, allowed in sorted(where.items()):
        if "" in allowed:  # a missing dimension counts as ""
            exprs.append({"$in": [_dim(pos), sorted(allowed)]})
        else:
            query[f"k.{int(pos)}"] = {"$in": sorted(allowed)}
    if exprs:
        query["$expr"] = {"$and": exprs}
    return {"$and": [query, NOT_ZERO]}


def _down_to(limit: int) -> dict[str, Any]:
    """A ``$project`` keeping each group's ``rows`` (highest totals first)
    down to the ``limit``-th total, ties with it included."""
    last = {"$min": [limit - 1, {"$subtract": [{"$size": "$rows"}, 1]}]}
    cut = {"$arrayElemAt": ["$rows.t", last]}
    kept = {"$filter": {"input": "$rows", "cond": {"$gte": ["$$this.t", cut]}}}
    return {"$project": {"rows": kept}}


def _field(key: str) -> str:
    """A fact key as a field name: MongoDB gives '.' and a leading '$' meaning."""
    return key.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _key(field: str) -> str:
    return field.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


class MongoAggregates:
    """The aggregate primitives over three collections of one database."""

    def __init__(self, totals: Any, contributions: Any, facts: Any, sessions: Any) -> None:
        self.totals = totals
        self.contributions = contributions
        self.facts = facts
        self.sessions = sessions

    async def ensure_indexes(self) -> None:
        await self.totals.create_indexes(TOTAL_INDEXES)
        await self.contributions.create_indexes(CONTRIBUTION_INDEXES)

    async def _session_exists(self, session_id: str) -> bool:
        return await self.sessions.find_one({"_id": session_id}, {"_id": 1}) is not None

    async def merge_facts(self, session_id: str, facts: dict[str, Any]) -> SessionFacts | None:
        if not await self._session_exists(session_id):
            return None
        update: dict[str, Any] = {"$inc": {"v": 1}}
        if facts:
            update["$set"] = {f"f.{_field(k)}": v for k, v in facts.items()}
        doc = None
        for _attempt in range(MAX_RACES):
            try:
                doc = await self.facts.find_one_and_update(
                    {"_id": session_id}, update, upsert=True, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                # Two first merges raced to insert the document; the loser
                # now updates the winner's.
                continue
            if doc is not None:
                break
        if doc is None:
            raise StoreError(f"merging facts of session {session_id!r} kept racing; try again")
        stored = doc.get("f") or {}
        return SessionFacts({_key(k): v for k, v in stored.items()}, int(doc["v"]))

    async def add_facts(self, session_id: str, facts: dict[str, Any]) -> bool:
        """``merge_facts`` with nothing read back: the facts travel one way."""
        if not await self._session_exists(session_id):
            return False
        update: dict[str, Any] = {"$inc": {"v": 1}}
        if facts:
            update["$set"] = {f"f.{_field(k)}": v for k, v in facts.items()}
        for _attempt in range(MAX_RACES):
            try:
                await self.facts.update_one({"_id": session_id}, update, upsert=True)
                return True
            except DuplicateKeyError:
                continue  # two first merges raced to insert; update the winner's
        raise StoreError(f"merging facts of session {session_id!r} kept racing; try again")

    async def session_facts(self, session_id: str) -> SessionFacts | None:
        if not await self._session_exists(session_id):
            return None
        doc = await self.facts.find_one({"_id": session_id})
        if doc is None:
            return SessionFacts({}, 0)
        return SessionFacts({_key(k): v for k, v in (doc.get("f") or {}).items()}, int(doc["v"]))

    async def unfolded(self, key: str, after: str | None, limit: int) -> list[str]:
        """Facts versions page by page (only ``v`` travels), each page's
        contribution versions looked up by id; sessions gone without the
        store's code running (the TTL index) are left out."""
        found: list[str] = []
        cursor_id = after
        while len(found) < limit:
            query: dict[str, Any] = {} if cursor_id is None else {"_id": {"$gt": cursor_id}}
            page = await (
                self.facts.find(query, {"v": 1}).sort("_id", ASCENDING).limit(UNFOLDED_PAGE)
            ).to_list(None)
            if not page:
                break
            cursor_id = page[-1]["_id"]
            ids = {_contribution_id(doc["_id"], key): doc for doc in page}
            contributions = self.contributions.find({"_id": {"$in": list(ids)}}, {"v": 1})
            folded = {c["_id"]: int(c["v"]) for c in await contributions.to_list(None)}
            behind = [doc["_id"] for cid, doc in ids.items() if folded.get(cid, 0) < int(doc["v"])]
            if behind:
                sessions = self.sessions.find({"_id": {"$in": behind}}, {"_id": 1})
                alive = {doc["_id"] for doc in await sessions.to_list(None)}
                found += [sid for sid in behind if sid in alive]
            if len(page) < UNFOLDED_PAGE:
                break
        return sorted(found)[:limit]

    async def set_contribution(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        if not await self._session_exists(session_id):
            return False
        doc_id = _contribution_id(session_id, key)
        new_rows = rows_to_json(rows)
        for _attempt in range(MAX_RACES):
            old = await self.contributions.find_one({"_id": doc_id})
            if old is not None and int(old["v"]) >= version:
                return False
            if old is None:
                try:
                    await self.contributions.insert_one(
                        {"_id": doc_id, "sid": session_id, "v": version, "rows": new_rows}
                    )
                except DuplicateKeyError:
                    continue  # another server created it first: look again
                old_rows: list[AggregateRow] = []
            else:
                won = await self.contributions.update_one(
                    {"_id": doc_id, "v": old["v"]}, {"$set": {"v": version, "rows": new_rows}}
                )
                if won.modified_count == 0:
                    continue  # another server replaced it meanwhile
                old_rows = rows_from_json(old["rows"])
            await self.add_to_totals(row_delta(old_rows, rows))
            return True
        raise StoreError(f"contribution {key!r} of session {session_id!r} kept racing; try again")

    async def add_to_totals(self, delta: Sequence[AggregateRow]) -> None:
        if not delta:
            return
        await self.totals.bulk_write(
            [
                UpdateOne(
                    {"_id": _total_id(r)},
                    {
                        "$inc": {"c": r.count, "t": float(r.total)},
                        "$setOnInsert": {"n": r.name, "d": r.day, "k": list(r.dims)},
                    },
                    upsert=True,
                )
                for r in delta
            ],
            ordered=False,
        )
        # Conditional deletes: a total another server raised meanwhile stays.
        await self.totals.bulk_write(
            [
                DeleteOne({"_id": _total_id(r), "c": 0, "t": {"$gt": -EPSILON, "$lt": EPSILON}})
                for r in delta
            ],
            ordered=False,
        )

    async def remove_sessions(self, session_ids: list[str]) -> None:
        """Subtract and delete every contribution of these sessions, and
        their facts."""
        found = self.contributions.find({"sid": {"$in": session_ids}}, {"_id": 1})
        for doc in await found.to_list(None):
            claimed = await self.contributions.find_one_and_delete({"_id": doc["_id"]})
            if claimed is not None:
                await self.add_to_totals(row_delta(rows_from_json(claimed["rows"]), []))
        await self.facts.delete_many({"_id": {"$in": session_ids}})

    async def fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> list[AggregateRow]:
        query: dict[str, Any] = {"n": {"$in": names}, "d": {"$gte": day_from, "$lte": day_to}}
        # "" also matches a total without that dimension: left to the caller
        query.update({f"k.{int(pos)}": value for pos, value in where.items() if value})
        cursor = self.totals.find(
            query,
            {"_id": 0, "n": 1, "d": 1, "k": 1, "c": 1, "t": 1},
        )
        return [
            AggregateRow(doc["n"], int(doc["d"]), tuple(doc["k"]), int(doc["c"]), float(doc["t"]))
            for doc in await cursor.to_list(None)
            if not is_zero_total(int(doc["c"]), float(doc["t"]))
        ]

    async def group(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
        by_day: bool,
    ) -> dict[Dims, Tally]:
        keys: list[Any] = [_dim(p) for p in group_by]
        if by_day:
            keys.insert(0, "$d")
        pipeline = [
            {"$match": _match(name, day_from, day_to, where)},
            {"$group": {"_id": keys, "c": {"$sum": "$c"}, "t": {"$sum": "$t"}}},
        ]
        out: dict[Dims, Tally] = {}
        for doc in await driver.aggregate(self.totals, pipeline):
            key = list(doc["_id"])
            if by_day:
                key[0] = date_of_day(int(key[0]))
            out[tuple(key)] = Tally(int(doc["c"]), float(doc["t"]))
        return out

    async def group_sizes(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
    ) -> dict[int, int]:
        pipeline = [
            {"$match": _match(name, day_from, day_to, where)},
            {"$group": {"_id": [_dim(p) for p in group_by], "c": {"$sum": "$c"}}},
            {"$group": {"_id": "$c", "n": {"$sum": 1}}},
        ]
        docs = await driver.aggregate(self.totals, pipeline)
        return {int(doc["_id"]): int(doc["n"]) for doc in docs}

    async def latest(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
        limit: int,
        groups: frozenset[Dims] | None,
    ) -> dict[Dims, list[AggregateRow]]:
        found: dict[Dims, list[AggregateRow]] = {}
        for day in range(day_to, day_from - 1, -1):
            # Each group's rows of the day, highest totals first, cut after
            # the limit-th (ties with it kept: they are ordered by dims here).
            pipeline = [
                {"$match": _match(name, day, day, where)},
                {"$sort": {"t": -1}},
                {
                    "$group": {
                        "_id": [_dim(p) for p in group_by],
                        "rows": {"$push": {"k": "$k", "c": "$c", "t": "$t"}},
                    }
                },
                _down_to(limit),
            ]
            rows = [
                AggregateRow(name, day, tuple(r["k"]), int(r["c"]), float(r["t"]))
                for doc in await driver.aggregate(self.totals, pipeline)
                for r in doc["rows"]
            ]
            for group, items in latest_rows(rows, {}, group_by, limit, groups).items():
                have = found.setdefault(group, [])
                have += items[: limit - len(have)]
            if groups is not None and all(len(found.get(g, ())) >= limit for g in groups):
                break
        return found

    async def clear(self) -> None:
        for collection in (self.contributions, self.facts, self.totals):
            await collection.delete_many({})


class MongoAggregateMethods:
    """The store's aggregate primitives (a mixin of the store class)."""

    _retry: Any

    def _collection(self, kind: str) -> Any:
        raise NotImplementedError

    @property
    def _aggregates(self) -> MongoAggregates:
        return MongoAggregates(
            self._collection("agg_totals"),
            self._collection("agg_contributions"),
            self._collection("agg_facts"),
            self._collection("sessions"),
        )

    async def aggregates_merge_facts(
        self, session_id: str, facts: dict[str, Any]
    ) -> SessionFacts | None:
        aggregates = self._aggregates
        result: SessionFacts | None = await self._retry.run(
            "merging facts", lambda: aggregates.merge_facts(session_id, facts)
        )
        return result

    async def aggregates_add_facts(self, session_id: str, facts: dict[str, Any]) -> bool:
        aggregates = self._aggregates
        added: bool = await self._retry.run(
            "merging facts", lambda: aggregates.add_facts(session_id, facts)
        )
        return added

    async def aggregates_facts(self, session_id: str) -> SessionFacts | None:
        aggregates = self._aggregates
        result: SessionFacts | None = await self._retry.run(
            "reading facts", lambda: aggregates.session_facts(session_id)
        )
        return result

    async def aggregates_unfolded(self, key: str, after: str | None, limit: int) -> list[str]:
        aggregates = self._aggregates
        found: list[str] = await self._retry.run(
            "listing unfolded sessions", lambda: aggregates.unfolded(key, after, limit)
        )
        return found

    async def aggregates_set(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        aggregates = self._aggregates
        return bool(
            await self._retry.run(
                "setting a contribution",
                lambda: aggregates.set_contribution(session_id, key, version, rows),
            )
        )

    async def aggregates_fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> Sequence[AggregateRow]:
        aggregates = self._aggregates
        rows: list[AggregateRow] = await self._retry.run(
            "reading aggregates", lambda: aggregates.fetch(names, day_from, day_to, where)
        )
        return rows

    async def aggregates_group(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Mapping[int, frozenset[str]],
        group_by: tuple[int, ...],
        by_day: bool,
    ) -> dict[Dims, Tally]:
        aggregates = self._aggregates
        result: dict[Dims, Tally] = await self._retry.run(
            "summing aggregates",
            lambda: aggregates.group(name, day_from, day_to, dict(where), group_by, by_day),
        )
        return result

    async def aggregates_group_sizes(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Mapping[int, frozenset[str]],
        group_by: tuple[int, ...],
    ) -> dict[int, int]:
        aggregates = self._aggregates
        result: dict[int, int] = await self._retry.run(
            "counting aggregate groups",
            lambda: aggregates.group_sizes(name, day_from, day_to, dict(where), group_by),
        )
        return result

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
        aggregates = self._aggregates
        result: dict[Dims, list[AggregateRow]] = await self._retry.run(
            "reading the latest aggregates",
            lambda: aggregates.latest(name, day_from, day_to, dict(where), group_by, limit, groups),
        )
        return result

    async def aggregates_clear(self) -> None:
        aggregates = self._aggregates
        await self._retry.run("clearing aggregates", aggregates.clear)

    async def _remove_aggregates(self, session_ids: list[str]) -> None:
        aggregates = self._aggregates
        await self._retry.run(
            "removing aggregates", lambda: aggregates.remove_sessions(session_ids)
        )

    async def _ensure_aggregate_indexes(self) -> None:
        await self._retry.run("creating aggregate indexes", self._aggregates.ensure_indexes)
