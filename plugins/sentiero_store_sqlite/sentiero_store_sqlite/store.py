"""``sqlite://``: the embedded store, one SQLite file in WAL mode.

One writer connection does every write, guarded by an asyncio lock, with
concurrent appends grouped into shared transactions (see :mod:`.writes`),
each run whole in the writer's thread: one hop from the event loop per
transaction (see :mod:`.thread`).
Reads go through a small pool of read-only connections: in WAL mode a
reader sees the last committed state and never waits for the writer. A
``:memory:`` database exists in one connection only, so there reads share
the writer and its lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson

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
    page_events,
)

from . import records as _records
from .aggregate_store import SQLiteAggregates
from .appends import AppendGroup, PendingAppend, load_summary
from .connection import (
    DEFAULT_BUSY_TIMEOUT_MS,
    Connection,
    connect,
    enable_wal,
    rollback,
    sqlite_errors,
)
from .filters import INT64_MAX, INT64_MIN, clamp_int64, where_clause
from .schema import check_ownership, migrate
from .url import MEMORY, SQLiteLocation, parse_sqlite_url
from .writes import WriteQueue

T = TypeVar("T")


def _check_batch(batch: Batch) -> None:
    """Refuse what SQLite cannot hold before it can fail a shared transaction."""
    for name in ("session_id", "window_id"):
        value = getattr(batch, name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise ValueError(f"{name} is not valid Unicode text: {value!r}") from exc
    for ts in (batch.digest.first_ts, batch.digest.last_ts):
        if not INT64_MIN <= ts <= INT64_MAX:
            raise ValueError(f"timestamp {ts} is outside the 64-bit range SQLite stores")
    if batch.seq is not None and not INT64_MIN <= batch.seq <= INT64_MAX:
        raise ValueError(f"seq {batch.seq} is outside the 64-bit range SQLite stores")


def _chunk_end(metas: Sequence[Any], start: int, events: int) -> int:
    """Where a run of batches from ``start`` holding ``events`` events ends
    (at least one batch); ``metas`` rows end with the event count."""
    end, total = start, 0
    while end < len(metas) and (end == start or total < events):
        total += metas[end][-1]
        end += 1
    return end


def _blobs(db: sqlite3.Connection, metas: Sequence[Any]) -> dict[int, bytes]:
    """The blobs of the batches in ``metas`` (rows starting with the seq), by seq."""
    seqs = orjson.dumps([m[0] for m in metas]).decode()
    rows = db.execute(
        "SELECT seq, blob FROM batches WHERE seq IN (SELECT value FROM json_each(?))", (seqs,)
    )
    return {int(seq): blob for seq, blob in rows}


class SQLiteStore(SQLiteAggregates, Store):
    name = "sqlite"
    capabilities = StoreCapabilities(
        persistent=True, max_compression_ratio=0.5, records=True, aggregates=True
    )

    def __init__(
        self,
        path: str | Path | SQLiteLocation | None,
        limits: StoreLimits | None = None,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        read_connections: int = 2,
        max_group: int = 128,
    ) -> None:
        """``path`` is a file, or ``None`` / ``":memory:"`` for memory."""
        super().__init__(limits)
        if isinstance(path, SQLiteLocation):
            path = path.path
        # Made absolute now: messages name the real file, and a later chdir
        # cannot move the database.
        if path is None or str(path) == MEMORY:
            self.location = SQLiteLocation(None)
            self.capabilities = StoreCapabilities(
                persistent=False, max_compression_ratio=0.5, records=True, aggregates=True
            )
        else:
            self.location = SQLiteLocation(Path(path).absolute())
        if read_connections < 1:
            raise ValueError("read_connections must be at least 1")
        self._busy_timeout_ms = busy_timeout_ms
        self._read_connections = read_connections
        self._writer: Connection | None = None
        self._readers: asyncio.Queue[Connection] | None = None
        self._reader_list: list[Connection] = []
        self._closing = False
        self._write_lock = asyncio.Lock()
        self._writes: WriteQueue[PendingAppend] = WriteQueue(
            self._commit_appends, self._write_lock, max_group
        )
        self._init_aggregates(max_group)

    @classmethod
    def from_url(cls, url: str, limits: StoreLimits | None = None) -> SQLiteStore:
        return cls(parse_sqlite_url(url), limits)

    @property
    def groups_committed(self) -> int:
        """Append transactions committed so far (several appends may share one)."""
        return self._writes.groups_committed

    # -- lifecycle ----------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        where = f"SQLite database {self.location}"
        opened: list[Connection] = []
        try:
            with sqlite_errors(self.location):
                writer = await connect(self.location, busy_timeout_ms=self._busy_timeout_ms)
                opened.append(writer)
                await writer.run(partial(check_ownership, where=where))
                # Removed sessions are overwritten with zeros, not left in
                # free pages: erasing a recording must erase it on disk.
                await writer.execute("PRAGMA secure_delete = ON")
                await enable_wal(writer, self.location)
                await writer.run(partial(migrate, where=where))
                if not self.location.in_memory:
                    readers: asyncio.Queue[Connection] = asyncio.Queue()
                    for _ in range(self._read_connections):
                        reader = await connect(
                            self.location, busy_timeout_ms=self._busy_timeout_ms, read_only=True
                        )
                        opened.append(reader)
                        readers.put_nowait(reader)
                    self._readers = readers
                    self._reader_list = opened[1:]
        except BaseException:
            for db in opened:
                await db.close()
            raise
        self._writer = writer

    async def close(self) -> None:
        if self._writer is None or self._closing:
            return
        await self.settle_removal_reports()  # their listeners may read the store
        self._closing = True  # new appends and reads are refused from here
        try:
            await self._writes.drain()
            await self._aggregate_writes.drain()
        finally:
            # Taking back every read connection waits for reads in flight.
            if self._readers is not None:
                for _ in self._reader_list:
                    await self._readers.get()
            async with self._write_lock:
                for db in self._reader_list:
                    await db.close()
                writer, self._writer = self._writer, None
                self._readers, self._reader_list = None, []
                self._closing = False
                try:
                    # SQLite's advice for long-lived connections: refresh
                    # the planner's statistics where they have drifted.
                    await writer.execute("PRAGMA optimize")
                finally:
                    await writer.close()

    def _open_writer(self) -> Connection:
        if self._writer is None:
            raise StoreError(f"SQLite store {self.location} is not open")
        return self._writer

    def _usable_writer(self) -> Connection:
        """The writer, for a new request: refused once closing has begun."""
        if self._closing:
            raise StoreError(f"SQLite store {self.location} is closing")
        return self._open_writer()

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Connection]:
        writer = self._usable_writer()
        if self._readers is None:
            async with self._write_lock:
                yield writer
            return
        db = await self._readers.get()
        try:
            yield db
        finally:
            self._readers.put_nowait(db)

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in one write transaction, whole in the writer's thread;
        committed when this returns. The caller holds the write lock."""
        db = self._open_writer()

        def transaction(conn: sqlite3.Connection) -> T:
            # IMMEDIATE takes the write lock up front: a deferred transaction
            # that later upgrades can fail with SQLITE_BUSY without waiting.
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # some errors end it already
                    conn.execute("ROLLBACK")
                raise
            return result

        with sqlite_errors(self.location):
            return await db.run(transaction)

    # -- writes ---------------------------------------------------------------

    async def append(self, batch: Batch) -> bool:
        self._usable_writer()
        _check_batch(batch)
        # Serialized here (unless the pipeline did it), so an event that is
        # not JSON fails its own request before it can join a group;
        # compressed in the group.
        raw = batch.events_json
        if raw is None:
            raw = orjson.dumps(batch.events)
        item = PendingAppend(batch, raw)
        await self._writes.submit(item)
        if item.report is not None:
            await asyncio.shield(item.report)
        return not item.repeat

    async def _commit_appends(self, group: list[PendingAppend]) -> None:
        limits = self.limits
        for item in group:
            item.evicted = []
        try:
            await self._transaction(lambda db: AppendGroup(db, limits).write(group))
        except BaseException:
            for item in group:  # rolled back: nothing was evicted
                item.evicted = []
            raise
        for item in group:
            if item.evicted:
                # Started here, in the flusher, not by the appending caller:
                # a caller cancelled while waiting would lose the report of
                # an eviction already committed. It runs once the write lock
                # is released, so a listener may use the store.
                item.report = asyncio.ensure_future(self.report_evicted(item.evicted))

    async def _delete(self, sql: str, params: Sequence[Any]) -> list[str]:
        """Run a ``DELETE FROM sessions ... RETURNING session_id``; the ids."""
        self._usable_writer()
        async with self._write_lock:
            removed = await self._transaction(
                lambda db: [str(r[0]) for r in db.execute(sql, params).fetchall()]
            )
            if removed and not self.location.in_memory:
                await self._truncate_wal()
            return removed

    async def _truncate_wal(self) -> None:
        """Copy the WAL into the database file and empty it. The WAL still
        holds the pages of what was just deleted until SQLite checkpoints;
        an explicit removal (an erasure request, say) should not wait for
        that. Best effort: a reader in the middle of a read keeps the WAL
        until the next checkpoint."""
        with sqlite_errors(self.location):
            await self._open_writer().execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    async def remove_sessions(self, session_ids: list[str]) -> list[str]:
        # Cascading foreign keys take batches, pages and custom events along.
        return await self._delete(
            "DELETE FROM sessions WHERE session_id IN (SELECT value FROM json_each(?)) "
            "RETURNING session_id",
            (orjson.dumps(sorted(session_ids)).decode(),),
        )

    async def erase_matching(self, filter: SessionFilter) -> list[str]:
        where, params = where_clause(filter)
        return await self._delete(
            f"DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s WHERE {where}) "
            "RETURNING session_id",
            params,
        )

    async def purge_idle(self, before: int) -> list[str]:
        return await self._delete(
            "DELETE FROM sessions WHERE ended_at < ? RETURNING session_id", (clamp_int64(before),)
        )

    # -- reads ------------------------------------------------------------------

    async def fetch_sessions(
        self, filter: SessionFilter | None, after: SessionPosition | None, count: int
    ) -> list[SessionSummary]:
        where, params = where_clause(filter)
        if after is not None:
            where += " AND (s.started_at, s.session_id) < (?, ?)"
            params += [clamp_int64(after[0]), after[1]]
        sql = (
            f"SELECT s.summary FROM sessions s WHERE {where} "
            "ORDER BY s.started_at DESC, s.session_id DESC LIMIT ?"
        )
        async with self._reading() as db:
            with sqlite_errors(self.location):
                rows = await db.execute_fetchall(sql, [*params, min(count, INT64_MAX)])
        return [load_summary(r[0]) for r in rows]

    async def get_session(self, session_id: str) -> SessionSummary | None:
        async with self._reading() as db:
            with sqlite_errors(self.location):
                rows = list(
                    await db.execute_fetchall(
                        "SELECT summary FROM sessions WHERE session_id = ?", (session_id,)
                    )
                )
        return load_summary(rows[0][0]) if rows else None

    async def fetch_events(
        self,
        session_id: str,
        after: EventPosition | None,
        limit: int,
        window_id: str | None,
    ) -> EventPage:
        sql = (
            "SELECT b.seq, b.window_id, b.min_ts, b.max_ts, b.event_count FROM batches b "
            "JOIN sessions s ON s.id = b.session_rowid WHERE s.session_id = ?"
        )
        params: list[Any] = [session_id]
        if window_id is not None:
            sql += " AND b.window_id = ?"
            params.append(window_id)
        if after is not None:
            sql += " AND b.max_ts >= ?"
            params.append(clamp_int64(after[0]))
        sql += " ORDER BY b.min_ts, b.seq"

        def begin(conn: sqlite3.Connection) -> tuple[list[Any], dict[int, bytes]]:
            # One read transaction: batch list and blobs from one snapshot,
            # even if a trim rewrites batches meanwhile.
            conn.execute("BEGIN")
            metas = conn.execute(sql, params).fetchall()
            return metas, _blobs(conn, metas[: _chunk_end(metas, 0, limit)])

        async with self._reading() as db:
            with sqlite_errors(self.location):
                try:
                    metas, blobs = await db.run(begin)

                    async def batches() -> AsyncIterator[StoredBatch]:
                        # Blobs come a page's worth of events per hop, the
                        # first with the batch list: a page usually needs
                        # only the first few batches of a long session, and
                        # fetching them one by one cost a hop each.
                        start = 0
                        while start < len(metas):
                            end = _chunk_end(metas, start, limit)
                            chunk = metas[start:end]
                            if start:
                                fetched = await db.run(partial(_blobs, metas=chunk))
                            else:
                                fetched = blobs
                            for seq, window, min_ts, max_ts, count in chunk:
                                yield StoredBatch(seq, window, min_ts, max_ts, count, fetched[seq])
                            start = end

                    return await page_events(batches(), after, limit)
                finally:
                    await rollback(db)

    async def count_matching(self, filter: SessionFilter | None) -> int:
        if filter is None:
            return (await self.stats()).sessions
        where, params = where_clause(filter)
        async with self._reading() as db:
            with sqlite_errors(self.location):
                rows = list(
                    await db.execute_fetchall(
                        f"SELECT count(*) FROM sessions s WHERE {where}", params
                    )
                )
        return int(rows[0][0])

    async def stats(self) -> StoreStats:
        async with self._reading() as db:
            with sqlite_errors(self.location):
                rows = list(
                    await db.execute_fetchall(
                        "SELECT sessions, events, batches, raw_bytes, stored_bytes FROM totals"
                    )
                )
        sessions, events, batches, raw, stored = rows[0]
        return StoreStats(
            sessions=sessions, events=events, batches=batches, raw_bytes=raw, stored_bytes=stored
        )

    # -- records ------------------------------------------------------------------

    async def _write_records(self, work: Callable[[sqlite3.Connection], T]) -> T:
        self._usable_writer()
        async with self._write_lock:
            return await self._transaction(work)

    async def _read_records(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._reading() as db:
            with sqlite_errors(self.location):
                return await db.run(work)

    async def record_upsert(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        return await self._write_records(
            partial(_records.upsert, collection=collection, key=key, update=update)
        )

    async def record_compare_and_set(
        self, collection: str, key: str, expected: dict[str, Any], changes: dict[str, Any]
    ) -> bool:
        return await self._write_records(
            partial(
                _records.compare_and_set,
                collection=collection,
                key=key,
                expected=expected,
                changes=changes,
            )
        )

    async def record_get(self, collection: str, key: str) -> dict[str, Any] | None:
        return await self._read_records(partial(_records.get, collection=collection, key=key))

    async def record_find(
        self,
        collection: str,
        where: dict[str, Any],
        order_by: str | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        return await self._read_records(
            partial(
                _records.find,
                collection=collection,
                where=where,
                order_by=order_by,
                descending=descending,
                limit=min(limit, INT64_MAX),
                offset=min(offset, INT64_MAX),
            )
        )

    async def record_count(self, collection: str, where: dict[str, Any]) -> int:
        return await self._read_records(partial(_records.count, collection=collection, where=where))

    async def record_delete(self, collection: str, where: dict[str, Any]) -> int:
        return await self._write_records(
            partial(_records.delete, collection=collection, where=where)
        )
