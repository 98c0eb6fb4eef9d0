"""The indexes the store relies on, created idempotently at ``open()``.

Creating an index that already exists with the same keys and options is a
no-op in MongoDB, so every app server may run this at start-up.
"""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel

TTL_INDEX = "expiry"

BATCH_INDEXES = [
    # read_events: a session's batches by first timestamp; also serves
    # deleting and trimming a session (its prefix is the session id).
    IndexModel([("sid", 1), ("t0", 1), ("seq", 1)], name="session_time"),
]

SESSION_INDEXES = [
    # list_sessions: newest first with a (started_at, _id) cursor.
    IndexModel([("started_at", -1), ("_id", -1)], name="newest_first"),
    # purge_before and max_sessions eviction: oldest last activity first.
    IndexModel([("ended_at", 1), ("_id", 1)], name="last_activity"),
    # The two exact-match filters.
    IndexModel([("user_id", 1)], name="user"),
    IndexModel([("custom_events", 1)], name="custom_event"),
]


def _ttl() -> IndexModel:
    # ``exp`` holds the moment each document expires; expiring at that exact
    # time (0 s after) lets a changed retention period apply to new data
    # without rebuilding the index.
    return IndexModel([("exp", 1)], name=TTL_INDEX, expireAfterSeconds=0)


async def ensure_indexes(batches: Any, sessions: Any, *, ttl: bool) -> None:
    for collection, models in ((batches, BATCH_INDEXES), (sessions, SESSION_INDEXES)):
        await collection.create_indexes([*models, _ttl()] if ttl else list(models))
        if not ttl and TTL_INDEX in await collection.index_information():
            # Retention was switched off: stop expiring what is already stored.
            await collection.drop_index(TTL_INDEX)
