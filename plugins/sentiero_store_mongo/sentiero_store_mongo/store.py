"""``mongodb://`` and ``mongodb+srv://``: the store for several app servers.

An append writes the batch document (keyed by session, so a hashed session
id shards it), then folds its digest into the session summary with one
atomic update that any number of servers may issue at once; concurrent
appends share those round trips (see :mod:`.appends`). Limits are enforced
after the append, as the other stores do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial
from typing import Any

from bson import ObjectId
from pymongo import WriteConcern
from pymongo.errors import PyMongoError

from sentiero_core.store import (
    Batch,
    EventPage,
    EventPosition,
    RecordUpdate,
    SessionFilter,
    SessionPosition,
    SessionSummary,
    Store,
    StoreCapabilities,
    StoredBatch,
    StoreError,
    StoreLimits,
    StoreStats,
    StoreUnavailable,
    page_events,
)

from . import driver
from . import records as _records
from .aggregates import MongoAggregateMethods
from .appends import GroupWriter, PendingAppend
from .documents import (
    INTERNAL_SUMMARY_FIELDS,
    BatchId,
    Document,
    SeqClock,
    batch_documents,
    check_batch,
    expiry,
    stored_batch,
    summary_from_document,
)
from .filters import LIST_ORDER, after_cursor, session_query
from .indexes import ensure_indexes
from .limits import claim_sessions, sessions_over, trim_session
from .retry import Retrier, short_cause
from .settings import MongoSettings
from .url import DEFAULT_DATABASE, check_database, parse_url

log = logging.getLogger("sentiero.store_mongo")

#: Session ids per delete command, to keep each command small.
DELETE_CHUNK = 1_000
#: Batch documents per round trip while reading events (they can be large).
READ_BATCH_SIZE = 16
_SUMMARY_PROJECTION = {name: 0 for name in INTERNAL_SUMMARY_FIELDS}
_BATCH_FIELDS = {"_id": 1, "seq": 1, "win": 1, "t0": 1, "t1": 1, "n": 1, "blob": 1}


class _StoredBatches:
    """A cursor of batch documents seen as :class:`StoredBatch` values."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def __aiter__(self) -> AsyncIterator[StoredBatch]:
        return self

    async def __anext__(self) -> StoredBatch:
        return stored_batch(await self._cursor.__anext__())


class MongoStore(MongoAggregateMethods, Store):
    """Sessions in MongoDB. Give it a URL, or an already built
    ``AsyncMongoClient`` / Motor ``AsyncIOMotorClient`` (``client=``), which
    it then uses but never closes."""

    name = "mongodb"
    capabilities = StoreCapabilities(
        persistent=True, max_compression_ratio=0.5, records=True, aggregates=True
    )

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any | None = None,
        database: str | None = None,
        settings: MongoSettings | None = None,
        limits: StoreLimits | None = None,
        retention_period: int | None = None,
    ) -> None:
        super().__init__(limits)
        if url is None and client is None:
            raise ValueError("MongoStore needs a mongodb:// URL or a client")
        self.settings = settings or MongoSettings()
        self.url = parse_url(url) if url is not None else None
        self.database_name = (
            check_database(database)
            if database is not None
            else (self.url.database if self.url else DEFAULT_DATABASE)
        )
        self.retention_period = retention_period
        self._client = client
        self._owns_client = client is None
        hosts = self.url.hosts if self.url else driver.client_hosts(client)
        self._retry = Retrier(hosts, self.settings.retry_attempts)
        self._clock = SeqClock()
        self._lock = asyncio.Lock()
        self._writer = GroupWriter(
            lambda: (self.batches, self.sessions),
            self._retry,
            want_summaries=self.limits.max_sessions is not None
            or self.limits.max_events_per_session is not None,
        )
        self._db: Any = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def batches(self) -> Any:
        return self._collection("batches")

    @property
    def sessions(self) -> Any:
        return self._collection("sessions")

    def _collection(self, kind: str) -> Any:
        if self._db is None:
            raise StoreError("the MongoDB store is not open; call open() first")
        return self._db[self.settings.collection_prefix + kind]

    def _where(self) -> str:
        return self.url.redacted if self.url else f"the injected client's {self.database_name}"

    async def open(self) -> None:
        if self._db is not None:
            return
        if self._client is None:
            assert self.url is not None
            try:
                self._client = driver.connect(
                    self.url.url,
                    server_selection_timeout_ms=self.settings.server_selection_timeout_ms,
                    connect_timeout_ms=self.settings.connect_timeout_ms,
                )
            except PyMongoError as exc:
                raise StoreUnavailable(
                    f"cannot use the MongoDB URL {self.url.redacted}: {short_cause(exc)}"
                ) from exc
        # "Durable when append returns": a majority of the replica set has
        # the batch, unless the URL chose its own write concern.
        concern = None if self._client.write_concern.document else WriteConcern(w="majority")
        db = self._client.get_database(self.database_name, write_concern=concern)
        try:
            await db.command("ping")
        except PyMongoError as exc:
            await self._release()
            raise StoreUnavailable(
                f"cannot reach MongoDB at {self._retry.hosts} ({self._where()}) within "
                f"{self.settings.server_selection_timeout_ms / 1000:g} s: {short_cause(exc)}"
            ) from exc
        self._db = db
        ttl = self.retention_period is not None and self.settings.ttl_index
        if ttl:
            log.warning(
                "MongoDB store: the TTL index expires sessions without telling Sentiero; "
                "plugins (sessions_removed) and audit_log never hear of them. Leave "
                "plugins.store_mongo.ttl_index off to let the core's retention purge do it."
            )
        try:
            await self._retry.run(
                "creating indexes", lambda: ensure_indexes(self.batches, self.sessions, ttl=ttl)
            )
            await self._ensure_aggregate_indexes()
        except BaseException:
            await self._release()
            raise

    async def close(self) -> None:
        await self.settle_removal_reports()  # their listeners may read the store
        await self._writer.drain()
        await self._release()

    async def _release(self) -> None:
        self._db = None
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await driver.close_client(client)

    # -- appending -----------------------------------------------------------

    async def append(self, batch: Batch) -> bool:
        check_batch(batch)
        exp = expiry(batch.meta.received_at, self.retention_period)
        token = None if batch.seq is None else ObjectId()
        docs, raw = batch_documents(batch, self._clock, exp, token)
        entry = PendingAppend(
            session_id=batch.session_id,
            batch_id=docs[0]["_id"],
            docs=docs,
            digest=replace(batch.digest, raw_bytes=batch.digest.raw_bytes or raw),
            exp=exp,
            token=token,
            seq=batch.seq,
        )
        summary = await self._writer.append(entry)
        if summary is not None:
            evicted = await self._enforce_limits(summary, entry.batch_id)
            await self.report_evicted(evicted)  # outside the lock
        return not entry.repeat

    async def _enforce_limits(self, summary: Document, batch_id: BatchId) -> list[str]:
        """Apply both limits; the ids of the sessions this server evicted."""
        session_id = summary["_id"]
        keep = self.limits.max_events_per_session
        if keep is not None and summary["event_count"] > keep:
            async with self._lock:
                trim = partial(trim_session, self.batches, self.sessions, session_id, keep)
                await self._retry.run("trimming a session", trim)
        cap = self.limits.max_sessions
        # Only a new session (this very batch created it) can push the count up.
        if cap is not None and summary.get("created_by") == batch_id:
            async with self._lock:
                doomed = await self._retry.run(
                    "finding sessions to evict", lambda: sessions_over(self.sessions, cap)
                )
                return await self._delete(doomed)
        return []

    # -- reading -------------------------------------------------------------

    async def fetch_sessions(
        self, filter: SessionFilter | None, after: SessionPosition | None, count: int
    ) -> list[SessionSummary]:
        query = after_cursor(session_query(filter), after)

        async def fetch() -> list[Document]:
            found = self.sessions.find(query, _SUMMARY_PROJECTION).sort(LIST_ORDER)
            return list(await found.limit(count).to_list(None))

        docs = await self._retry.run("listing sessions", fetch)
        return [summary_from_document(doc) for doc in docs]

    async def get_session(self, session_id: str) -> SessionSummary | None:
        doc = await self._retry.run(
            "reading a session",
            lambda: self.sessions.find_one({"_id": session_id}, _SUMMARY_PROJECTION),
        )
        return summary_from_document(doc) if doc is not None else None

    async def fetch_events(
        self,
        session_id: str,
        after: EventPosition | None,
        limit: int,
        window_id: str | None,
    ) -> EventPage:
        query: Document = {"sid": session_id}
        if window_id is not None:
            query["win"] = window_id
        if after is not None:
            query["t1"] = {"$gte": after[0]}

        async def fetch() -> EventPage:
            found = self.batches.find(query, _BATCH_FIELDS).sort([("t0", 1), ("seq", 1)])
            found = found.batch_size(READ_BATCH_SIZE)
            try:
                return await page_events(_StoredBatches(found), after, limit)
            finally:
                await found.close()

        return await self._retry.run("reading events", fetch)

    async def count_matching(self, filter: SessionFilter | None) -> int:
        query = session_query(filter)
        return int(
            await self._retry.run("counting sessions", lambda: self.sessions.count_documents(query))
        )

    async def stats(self) -> StoreStats:
        batch_totals = [
            {
                "$group": {
                    "_id": None,
                    "batches": {"$sum": {"$cond": [{"$gt": ["$part", 0]}, 0, 1]}},
                    "events": {"$sum": "$n"},
                    "stored": {"$sum": "$size"},
                }
            }
        ]
        session_totals = [
            {"$group": {"_id": None, "sessions": {"$sum": 1}, "raw": {"$sum": "$raw_bytes"}}}
        ]
        b = await self._retry.run(
            "totalling batches", lambda: driver.aggregate(self.batches, batch_totals)
        )
        s = await self._retry.run(
            "totalling sessions", lambda: driver.aggregate(self.sessions, session_totals)
        )
        b0 = b[0] if b else {}
        s0 = s[0] if s else {}
        return StoreStats(
            sessions=int(s0.get("sessions", 0)),
            events=int(b0.get("events", 0)),
            batches=int(b0.get("batches", 0)),
            raw_bytes=int(s0.get("raw", 0)),
            stored_bytes=int(b0.get("stored", 0)),
        )

    # -- removing ------------------------------------------------------------

    async def remove_sessions(self, session_ids: list[str]) -> list[str]:
        return await self._delete(session_ids)

    async def erase_matching(self, filter: SessionFilter) -> list[str]:
        return await self._delete_matching(session_query(filter), "erasing sessions")

    async def purge_idle(self, before: int) -> list[str]:
        # A session starts no later than it ends: the start bound walks
        # ``newest_first`` (there is no index on ``ended_at``).
        idle = {"started_at": {"$lt": before}, "ended_at": {"$lt": before}}
        return await self._delete_matching(idle, "purging sessions")

    async def _delete_matching(self, query: Document, what: str) -> list[str]:
        async def ids() -> list[str]:
            found = self.sessions.find(query, {"_id": 1})
            return [doc["_id"] for doc in await found.to_list(None)]

        return await self._delete(await self._retry.run(what, ids))

    async def _delete(self, session_ids: list[str]) -> list[str]:
        """Remove these sessions; the ids this call removed. Several servers
        (or calls) removing one session at once: exactly one reports it."""
        # Summaries go first: a batch appended meanwhile then recreates a
        # visible summary instead of lingering unlisted (and unerasable).
        self._writer.forget(session_ids)
        removed: list[str] = []
        for start in range(0, len(session_ids), DELETE_CHUNK):
            chunk = session_ids[start : start + DELETE_CHUNK]
            # One token for every retry: a claim whose answer was lost is
            # recognised as ours when the retry claims again.
            token = ObjectId()
            claim = partial(claim_sessions, self.sessions, chunk, token)
            mine = await self._retry.run("claiming sessions to delete", claim)
            if not mine:
                continue
            summaries = partial(
                self._delete_many, self.sessions, {"_id": {"$in": mine}, "rm": token}
            )
            await self._retry.run("deleting sessions", summaries)
            batches = partial(self._delete_many, self.batches, {"sid": {"$in": mine}})
            await self._retry.run("deleting batches", batches)
            await self._remove_aggregates(mine)
            removed += mine
        return removed

    @staticmethod
    async def _delete_many(collection: Any, query: Document) -> int:
        result = await collection.delete_many(query)
        return int(result.deleted_count)

    # -- records -------------------------------------------------------------

    def _records(self, collection: str) -> Any:
        return self._collection(_records.collection_name("", collection))

    async def record_upsert(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        try:
            return await _records.upsert(self._records(collection), key, update)
        except PyMongoError as exc:
            raise self._retry.unavailable("updating a record", exc) from exc

    async def record_compare_and_set(
        self, collection: str, key: str, expected: dict[str, Any], changes: dict[str, Any]
    ) -> bool:
        try:
            return await _records.compare_and_set(self._records(collection), key, expected, changes)
        except PyMongoError as exc:
            raise self._retry.unavailable("updating a record", exc) from exc

    async def record_get(self, collection: str, key: str) -> dict[str, Any] | None:
        coll = self._records(collection)
        found = await self._retry.run("reading a record", lambda: coll.find_one({"_id": key}))
        return dict(found) if found is not None else None

    async def record_find(
        self,
        collection: str,
        where: dict[str, Any],
        order_by: str | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        coll = self._records(collection)
        return await self._retry.run(
            "reading records",
            lambda: _records.find(coll, where, order_by, descending, limit, offset),
        )

    async def record_count(self, collection: str, where: dict[str, Any]) -> int:
        coll = self._records(collection)
        counted = await self._retry.run(
            "counting records", lambda: coll.count_documents(_records.query(where))
        )
        return int(counted)

    async def record_delete(self, collection: str, where: dict[str, Any]) -> int:
        coll = self._records(collection)
        result = await self._retry.run(
            "deleting records", lambda: coll.delete_many(_records.query(where))
        )
        return int(result.deleted_count)
