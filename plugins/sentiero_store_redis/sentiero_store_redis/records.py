"""The records capability of the Redis store (a mixin of :class:`~.store.RedisStore`).

Layout: ``<prefix>r:<collection>:<id>`` holds one record as JSON, and
``<prefix>ri:<collection>`` is the set of a collection's ids. An update
reads the record under ``WATCH``, applies the core's reference semantics
(:func:`~sentiero_core.store.apply_update`) and writes it in ``MULTI``; a
write by anyone else in between (another app server) aborts the
transaction and the update runs again on the newer record, so concurrent
increments all land. Queries read a collection whole and filter in Python:
records are the small documents of plugins (issues, capped occurrences),
not recordings.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import orjson
from redis import exceptions as rx

from sentiero_core.store import (
    RecordUpdate,
    StoreError,
    apply_update,
    matches,
    sort_records,
)

from .errors import redis_errors

#: Rounds an update may lose to concurrent writers of the same record.
MAX_ATTEMPTS = 100
#: Ids read per MGET while scanning a collection.
CHUNK = 500


class RedisRecords:
    client: Any
    where: str
    keys: Any

    def _record_key(self, collection: str, key: str) -> str:
        return f"{self.keys.prefix}r:{collection}:{key}"

    def _index_key(self, collection: str) -> str:
        return f"{self.keys.prefix}ri:{collection}"

    async def _optimistic(self, collection: str, key: str, change: Any) -> Any:
        """Run ``change(record or None) -> (new record or None, answer)``
        atomically on one record; ``None`` as the new record writes nothing."""
        rkey = self._record_key(collection, key)
        for attempt in range(MAX_ATTEMPTS):
            with redis_errors(self.where):
                async with self.client.pipeline(transaction=True) as pipe:
                    try:
                        await pipe.watch(rkey)
                        raw = await pipe.get(rkey)
                        record = orjson.loads(raw) if raw is not None else None
                        after, answer = change(record)
                        if after is None:
                            await pipe.unwatch()
                            return answer
                        pipe.multi()
                        pipe.set(rkey, orjson.dumps(after))
                        pipe.sadd(self._index_key(collection), key)
                        await pipe.execute()
                        return answer
                    except rx.WatchError:
                        # Spread the retries of writers that collided.
                        await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise StoreError(
            f"redis at {self.where}: record {collection}/{key} changed under "
            f"{MAX_ATTEMPTS} attempts to update it"
        )

    async def record_upsert(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        def change(record: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
            after = apply_update(record, key, update)
            return after, after

        result: dict[str, Any] = await self._optimistic(collection, key, change)
        return result

    async def record_compare_and_set(
        self, collection: str, key: str, expected: dict[str, Any], changes: dict[str, Any]
    ) -> bool:
        def change(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
            if record is None or not matches(record, expected):
                return None, False
            return {**record, **changes}, True

        return bool(await self._optimistic(collection, key, change))

    async def record_get(self, collection: str, key: str) -> dict[str, Any] | None:
        with redis_errors(self.where):
            raw = await self.client.get(self._record_key(collection, key))
        return orjson.loads(raw) if raw is not None else None

    async def _all(self, collection: str) -> list[dict[str, Any]]:
        with redis_errors(self.where):
            ids = sorted(await self.client.smembers(self._index_key(collection)))
            out: list[dict[str, Any]] = []
            for start in range(0, len(ids), CHUNK):
                chunk = [i.decode() for i in ids[start : start + CHUNK]]
                raws = await self.client.mget([self._record_key(collection, k) for k in chunk])
                out.extend(orjson.loads(r) for r in raws if r is not None)
        return out

    async def record_find(
        self,
        collection: str,
        where: dict[str, Any],
        order_by: str | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> Sequence[dict[str, Any]]:
        found = [r for r in await self._all(collection) if matches(r, where)]
        return sort_records(found, order_by, descending)[offset : offset + limit]

    async def record_count(self, collection: str, where: dict[str, Any]) -> int:
        return sum(1 for r in await self._all(collection) if matches(r, where))

    async def record_delete(self, collection: str, where: dict[str, Any]) -> int:
        gone = [r["_id"] for r in await self._all(collection) if matches(r, where)]
        removed = 0
        with redis_errors(self.where):
            for start in range(0, len(gone), CHUNK):
                chunk = gone[start : start + CHUNK]
                async with self.client.pipeline(transaction=True) as pipe:
                    pipe.delete(*(self._record_key(collection, k) for k in chunk))
                    pipe.srem(self._index_key(collection), *chunk)
                    deleted, _ = await pipe.execute()
                removed += int(deleted)
        return removed
