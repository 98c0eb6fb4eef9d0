"""The Redis store: summaries, batches and indexes under one key prefix.

Appends are optimistic transactions: ``WATCH`` the session's summary key,
read it, fold the digest with ``merge_digest`` in Python, write batch,
summary, indexes (and any trimming) in one ``MULTI``/``EXEC``. Every append
rewrites the summary key, so of two app servers appending to one session at
once the second ``EXEC`` fails and retries on the new summary: the summary
is exactly ``merge_digest`` applied in commit order, and a repeated
``(window, seq)`` is seen by the retry. Within one process, appends to one
session queue on a lock first, so conflicts happen only between processes.

Removals (delete, erase, purge, ``max_sessions`` eviction) are Lua scripts
(see :mod:`.scripts`) that also subtract the session's aggregate
contributions (:mod:`.aggregates`); eviction runs inside the append's ``EXEC``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis import exceptions as rx

from sentiero_core.store import (
    Batch,
    EventPage,
    EventPosition,
    SessionFilter,
    SessionPosition,
    SessionSummary,
    Store,
    StoreCapabilities,
    StoredBatch,
    StoreError,
    StoreLimits,
    StoreStats,
    compress,
    encode_blob,
    event_time,
    merge_digest,
    page_events,
    trim_plan,
)

from . import scripts
from .aggregates import RedisAggregates
from .errors import redis_errors
from .keys import Keys
from .records import RedisRecords
from .settings import RedisSettings
from .url import check_url, redacted

#: Summaries read per round trip while listing, counting or erasing.
SCAN_CHUNK = 1_000
#: Blobs read per round trip while paging events.
BLOB_CHUNK = 16
#: Sessions a purge script removes per call, so Redis is never blocked long.
PURGE_CHUNK = 100


def _member(window_id: str, seq: int) -> bytes:
    return window_id.encode() + b"\x00" + str(seq).encode()


def _summary_of(raw: bytes | None) -> tuple[SessionSummary | None, int]:
    if raw is None:
        return None, 0
    data = orjson.loads(raw)
    return SessionSummary.from_dict(data), int(data.get("_stored", 0))


def summary_json(summary: SessionSummary, stored: int) -> bytes:
    data = summary.to_dict()
    data["_stored"] = stored
    return orjson.dumps(data)


_FIELDS = (
    "has_errors",
    "min_duration_ms",
    "user_id",
    "custom_event",
    "browser",
    "device",
    "os",
    "url_contains",
)


def _prefilter(filter: SessionFilter | None) -> bytes:
    """The filter's fields the Lua pre-filter checks, as JSON (time bounds
    and session ids are applied before it), with ``verbatim``: the exact
    values a matching summary's JSON holds as :func:`summary_json` encodes
    them, a cheap rejection before decoding."""
    if filter is None:
        return b"{}"
    wanted: dict[str, Any] = {
        f: getattr(filter, f) for f in _FIELDS if getattr(filter, f) is not None
    }
    verbatim = [
        orjson.dumps(wanted[f]).decode() for f in ("user_id", "custom_event") if f in wanted
    ]
    if verbatim:
        wanted["verbatim"] = verbatim
    return orjson.dumps(wanted)


def _meta(raw: bytes) -> tuple[str, int, int, int]:
    window, lo, hi, count = orjson.loads(raw)
    return window, lo, hi, count


class RedisStore(RedisAggregates, RedisRecords, Store):
    """Sessions in Redis under ``settings.key_prefix``; see :mod:`.keys`."""

    name = "redis"
    # Redis's own persistence (AOF/RDB) decides what survives a server
    # restart; the data outlives this object and its connections.
    capabilities = StoreCapabilities(
        persistent=True, max_compression_ratio=0.5, records=True, aggregates=True
    )

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        settings: RedisSettings | None = None,
        limits: StoreLimits | None = None,
    ) -> None:
        super().__init__(limits)
        if (url is None) == (client is None):
            raise TypeError("RedisStore takes a url or a client, not both")
        self.settings = settings or RedisSettings()
        self.url = check_url(url) if url is not None else None
        self.where = redacted(url) if url is not None else "an injected client"
        self.keys = Keys(self.settings.key_prefix)
        self._client: Any = client
        self._owns_client = client is None
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._remove: Any = None
        self._purge: Any = None
        self._evict: Any = None
        self._scan: Any = None

    # -- connection -----------------------------------------------------------

    @property
    def client(self) -> Any:
        # Any: redis-py's annotations widen every answer to bytes | str |
        # int...; this store never sets decode_responses, so answers are bytes.
        if self._client is None:
            raise StoreError("the Redis store is not open")
        return self._client

    async def open(self) -> None:
        if self._client is None:
            assert self.url is not None
            s = self.settings
            # Blocking: a call finding every connection busy waits for one
            # (up to the connect timeout) instead of failing at once, so a
            # burst of concurrent calls (folds, appends) is served in turn.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                socket_connect_timeout=s.connect_timeout_ms / 1000,
                socket_timeout=s.socket_timeout_ms / 1000,
                max_connections=s.max_connections,
                timeout=s.connect_timeout_ms / 1000,
            )
            self._client = aioredis.Redis.from_pool(pool)
        client = self.client
        self._remove = client.register_script(scripts.REMOVE)
        self._purge = client.register_script(scripts.PURGE)
        self._evict = client.register_script(scripts.EVICT)
        self._scan = client.register_script(scripts.SCAN)
        self._register_aggregate_scripts(client)
        with redis_errors(self.where):
            await client.ping()

    async def close(self) -> None:
        await self.settle_removal_reports()
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None

    @contextlib.asynccontextmanager
    async def _session_lock(self, sid: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(sid) or (asyncio.Lock(), 0)
        self._locks[sid] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[sid]
            if users == 1:
                del self._locks[sid]
            else:
                self._locks[sid] = (lock, users - 1)

    # -- appends --------------------------------------------------------------

    async def append(self, batch: Batch) -> bool:
        raw = batch.events_json if batch.events_json is not None else orjson.dumps(batch.events)
        blob = compress(raw)
        times = [event_time(e) for e in batch.events]
        meta = [batch.window_id, min(times, default=0), max(times, default=0), len(times)]
        # Run to the end even if the caller is cancelled: once EXEC ran, an
        # eviction it made must still be reported.
        task = asyncio.ensure_future(self._append(batch, blob, orjson.dumps(meta)))
        # A cancelled caller never reads the outcome: retrieve it here, so a
        # failure is not logged as "never retrieved" (the retry is the
        # recorder's, after ingest's 503).
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)

    async def _append(self, batch: Batch, blob: bytes, meta: bytes) -> bool:
        sid = batch.session_id
        async with self._session_lock(sid):
            with redis_errors(self.where):
                arrival = int(await self.client.incr(self.keys.arrivals))
                while True:
                    try:
                        stored, evicted = await self._try_append(batch, arrival, blob, meta)
                    except rx.WatchError:
                        continue  # another app server wrote this session: fold again
                    break
        if not stored:
            return False
        if evicted:
            await self.report_evicted(evicted)
        return True

    async def _try_append(
        self, batch: Batch, arrival: int, blob: bytes, meta: bytes
    ) -> tuple[bool, list[str]]:
        sid, k = batch.session_id, self.keys
        async with self.client.pipeline(transaction=True) as pipe:
            await pipe.watch(k.summary(sid))
            if batch.seq is not None and await pipe.sismember(
                k.delivered(sid), _member(batch.window_id, batch.seq)
            ):
                return False, []
            summary, stored = _summary_of(await pipe.get(k.summary(sid)))
            summary = merge_digest(summary, sid, batch.digest)
            stored += len(blob)
            field = str(arrival)
            writes: dict[str, bytes] = {field: blob}
            metas: dict[str, bytes] = {field: meta}
            drops: list[str] = []
            keep = self.limits.max_events_per_session
            if keep is not None and summary.event_count > keep:
                drops, writes, metas, stored, kept = await self._trim(
                    pipe, sid, keep, field, blob, meta, stored
                )
                summary.event_count = keep
                summary.batch_count = kept
            pipe.multi()
            if drops:
                pipe.hdel(k.blobs(sid), *drops)
                pipe.hdel(k.metas(sid), *drops)
            if writes:
                pipe.hset(k.blobs(sid), mapping=writes)  # type: ignore[arg-type]
                pipe.hset(k.metas(sid), mapping=metas)  # type: ignore[arg-type]
            if batch.seq is not None:
                pipe.sadd(k.delivered(sid), _member(batch.window_id, batch.seq))
            pipe.set(k.summary(sid), summary_json(summary, stored))
            pipe.zadd(k.started, {sid: summary.started_at})
            pipe.zadd(k.active, {sid: summary.ended_at})
            ttl = self.settings.ttl_seconds
            if ttl is not None:
                for key in k.session(sid):
                    pipe.expire(key, ttl)
            most = self.limits.max_sessions
            if most is not None:
                await self._evict(args=[k.prefix, most], client=pipe)
            results = await pipe.execute()
        evicted = [x.decode() for x in results[-1]] if most is not None else []
        return True, evicted

    async def _trim(
        self,
        pipe: Any,
        sid: str,
        keep: int,
        field: str,
        blob: bytes,
        meta: bytes,
        stored: int,
    ) -> tuple[list[str], dict[str, bytes], dict[str, bytes], int, int]:
        """What ``max_events_per_session`` changes, read under the WATCH: the
        fields to delete, the blobs and metadata to (re)write, the new stored
        size and the number of batches kept."""
        k = self.keys
        metas = {int(f): _meta(m) for f, m in (await pipe.hgetall(k.metas(sid))).items()}
        metas[int(field)] = _meta(meta)
        total = sum(m[3] for m in metas.values())
        excess = total - keep
        # Only the oldest batches can lose events: those holding the first
        # ``excess`` events by min_ts, and any starting before they end.
        order = sorted(metas, key=lambda a: (metas[a][1], a))
        needed: list[int] = []
        count, horizon = 0, None
        for a in order:
            _window, lo, hi, n = metas[a]
            if horizon is not None and count >= excess and lo > horizon:
                break
            needed.append(a)
            count += n
            horizon = hi if horizon is None else max(horizon, hi)
        fetch = [a for a in needed if a != int(field)]
        blobs: dict[int, bytes] = {}
        if fetch:
            got = await pipe.hmget(k.blobs(sid), [str(a) for a in fetch])
            blobs.update((a, b) for a, b in zip(fetch, got, strict=True) if b is not None)
        blobs[int(field)] = blob
        rows = [
            StoredBatch(a, metas[a][0], metas[a][1], metas[a][2], metas[a][3], blobs[a])
            for a in needed
            if a in blobs
        ]
        # trim_plan keeps the newest ``keep`` of the rows it is given: of
        # this oldest part, all but the ``excess`` events.
        plan = trim_plan(rows, max(0, sum(r.event_count for r in rows) - excess))
        drops = [str(a) for a in plan.drop if a != int(field)]
        writes: dict[str, bytes] = {}
        new_metas: dict[str, bytes] = {}
        for a in plan.drop:
            stored -= len(blobs[a])
        new_batch_dropped = int(field) in plan.drop
        if not new_batch_dropped and int(field) not in plan.rewrite:
            writes[field], new_metas[field] = blob, meta
        for a, events in plan.rewrite.items():
            new_blob, _raw = encode_blob(events)
            stored += len(new_blob) - len(blobs[a])
            times = [event_time(e) for e in events]
            writes[str(a)] = new_blob
            new_metas[str(a)] = orjson.dumps([metas[a][0], min(times), max(times), len(events)])
        kept = len(metas) - len(plan.drop)
        return drops, writes, new_metas, stored, kept

    # -- reads ----------------------------------------------------------------

    async def get_session(self, session_id: str) -> SessionSummary | None:
        with redis_errors(self.where):
            raw = await self.client.get(self.keys.summary(session_id))
        return _summary_of(raw)[0]

    async def _summaries(self, ids: Sequence[str]) -> list[SessionSummary]:
        """The summaries of ``ids`` that still exist, in order (a session
        whose keys expired by TTL is skipped until a purge removes it)."""
        if not ids:
            return []
        with redis_errors(self.where):
            raws = await self.client.mget([self.keys.summary(sid) for sid in ids])
        found = []
        for raw in raws:
            summary = _summary_of(raw)[0]
            if summary is not None:
                found.append(summary)
        return found

    async def _newest_first(
        self, filter: SessionFilter | None, after: SessionPosition | None, want: int = SCAN_CHUNK
    ) -> AsyncIterator[list[SessionSummary]]:
        """Chunks of summaries, newest first, below ``after``, within the
        filter's start-time bounds and, for the other fields, pre-filtered
        by a Lua script so that only sessions that may match leave Redis.
        Chunks start near ``want`` and grow."""
        # The first rank: how many sessions start after the upper bound.
        top = "+inf"
        if filter is not None and filter.started_before is not None:
            top = str(filter.started_before)  # exclusive: starting at it is above
        if after is not None and (
            filter is None or filter.started_before is None or after[0] < filter.started_before
        ):
            top = f"({after[0]}"  # inclusive: the ties with ``after`` are skipped below
        bottom = "-inf"
        if filter is not None and filter.started_after is not None:
            bottom = str(filter.started_after)
        rest = _prefilter(filter)
        with redis_errors(self.where):
            rank = (
                0
                if top == "+inf"
                else int(await self.client.zcount(self.keys.started, top, "+inf"))
            )
        size = max(want + 1, 16)
        seen: set[str] = set()
        while True:
            with redis_errors(self.where):
                answer = await self._scan(args=[self.keys.prefix, rank, size, bottom, rest])
            scanned, done = int(answer[0]), int(answer[1])
            rank += scanned
            chunk = []
            for i in range(2, len(answer), 2):
                sid = answer[i].decode()
                summary = _summary_of(answer[i + 1])[0]
                # ``seen``: a session inserted above meanwhile shifts the ranks.
                if summary is None or sid in seen:
                    continue
                if after is not None and (summary.started_at, sid) >= after:
                    continue
                seen.add(sid)
                chunk.append(summary)
            yield chunk
            if done:
                return
            size = min(size * 4, SCAN_CHUNK)

    async def fetch_sessions(
        self, filter: SessionFilter | None, after: SessionPosition | None, count: int
    ) -> Sequence[SessionSummary]:
        if filter is not None and filter.session_ids is not None:
            found = [
                s
                for s in await self._summaries(list(dict.fromkeys(filter.session_ids)))
                if filter.matches(s) and (after is None or (s.started_at, s.session_id) < after)
            ]
            found.sort(key=lambda s: (s.started_at, s.session_id), reverse=True)
            return found[:count]
        page: list[SessionSummary] = []
        async for chunk in self._newest_first(filter, after, count):
            page.extend(s for s in chunk if filter is None or filter.matches(s))
            if len(page) >= count:
                break
        # Redis orders equal scores by member bytes, which is code point order.
        return page[:count]

    async def fetch_events(
        self, session_id: str, after: EventPosition | None, limit: int, window_id: str | None
    ) -> EventPage:
        k = self.keys
        with redis_errors(self.where):
            raw_metas = await self.client.hgetall(k.metas(session_id))
        rows = []
        for f, m in raw_metas.items():
            window, lo, hi, n = _meta(m)
            if window_id is not None and window != window_id:
                continue
            if after is not None and hi < after[0]:
                continue
            rows.append((lo, int(f), window, hi, n))
        rows.sort()

        async def batches() -> AsyncIterator[StoredBatch]:
            for start in range(0, len(rows), BLOB_CHUNK):
                part = rows[start : start + BLOB_CHUNK]
                with redis_errors(self.where):
                    blobs = await self.client.hmget(k.blobs(session_id), [str(r[1]) for r in part])
                for (lo, a, window, hi, n), blob in zip(part, blobs, strict=True):
                    if blob is not None:  # trimmed or removed since the metadata was read
                        yield StoredBatch(a, window, lo, hi, n, blob)

        return await page_events(batches(), after, limit)

    async def count_matching(self, filter: SessionFilter | None) -> int:
        if filter is None:
            with redis_errors(self.where):
                return int(await self.client.zcard(self.keys.started))
        if filter.session_ids is not None:
            return sum(
                1
                for s in await self._summaries(list(dict.fromkeys(filter.session_ids)))
                if filter.matches(s)
            )
        return sum(
            [
                len([s for s in chunk if filter.matches(s)])
                async for chunk in self._newest_first(filter, None)
            ]
        )

    async def stats(self) -> StoreStats:
        sessions = events = batches = raw_bytes = stored_bytes = 0
        k = self.keys
        offset = 0
        while True:
            with redis_errors(self.where):
                ids = await self.client.zrange(k.started, offset, offset + SCAN_CHUNK - 1)
                raws = await self.client.mget([k.summary(m.decode()) for m in ids]) if ids else []
            offset += len(ids)
            for raw in raws:
                summary, stored = _summary_of(raw)
                if summary is None:
                    continue
                sessions += 1
                events += summary.event_count
                batches += summary.batch_count
                raw_bytes += summary.raw_bytes
                stored_bytes += stored
            if len(ids) < SCAN_CHUNK:
                break
        return StoreStats(sessions, events, batches, raw_bytes, stored_bytes)

    # -- removals -------------------------------------------------------------

    async def _run_remove(self, ids: list[str]) -> list[str]:
        removed: list[str] = []
        for start in range(0, len(ids), PURGE_CHUNK):
            part = ids[start : start + PURGE_CHUNK]
            with redis_errors(self.where):
                got = await self._remove(args=[self.keys.prefix, *part])
            removed.extend(x.decode() for x in got)
        return removed

    async def remove_sessions(self, session_ids: list[str]) -> Sequence[str]:
        return await self._run_remove(session_ids)

    async def erase_matching(self, filter: SessionFilter) -> Sequence[str]:
        doomed: list[str] = []
        if filter.session_ids is not None:
            doomed = [
                s.session_id
                for s in await self._summaries(list(dict.fromkeys(filter.session_ids)))
                if filter.matches(s)
            ]
        else:
            async for chunk in self._newest_first(filter, None):
                doomed.extend(s.session_id for s in chunk if filter.matches(s))
        return await self._run_remove(doomed)

    async def purge_idle(self, before: int) -> Sequence[str]:
        removed: list[str] = []
        while True:
            with redis_errors(self.where):
                got = await self._purge(args=[self.keys.prefix, before, PURGE_CHUNK])
            removed.extend(x.decode() for x in got)
            if len(got) < PURGE_CHUNK:
                return removed
