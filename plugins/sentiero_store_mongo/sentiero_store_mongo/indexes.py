"""The indexes the store relies on, created idempotently at ``open()``.

Creating an index that already exists with the same keys and options is a
no-op in MongoDB, so every app server may run this at start-up.
"""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel
from pymongo.errors import OperationFailure

TTL_INDEX = "expiry"
INDEX_NOT_FOUND = 27
#: Indexes earlier versions created and this one no longer reads: each costs
#: every summary update a write, so they go. ``last_activity``
#: (``{ended_at: 1, _id: 1}``): purges and evictions walk ``newest_first``
#: instead (a session ends no earlier than it starts, see :mod:`.limits`).
RETIRED = {"sessions": ("last_activity",)}

BATCH_INDEXES = [
    # read_events: a session's batches by first timestamp; also serves
    # deleting and trimming a session (its prefix is the session id).
    IndexModel([("sid", 1), ("t0", 1), ("seq", 1)], name="session_time"),
]

SESSION_INDEXES = [
    # list_sessions: newest first with a (started_at, _id) cursor.
    IndexModel([("started_at", -1), ("_id", -1)], name="newest_first"),
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
    for kind, collection, models in (
        ("batches", batches, BATCH_INDEXES),
        ("sessions", sessions, SESSION_INDEXES),
    ):
        await collection.create_indexes([*models, _ttl()] if ttl else list(models))
        present = await collection.index_information()
        # Retention switched off: stop expiring what is already stored.
        unwanted = [*RETIRED.get(kind, ()), *(() if ttl else (TTL_INDEX,))]
        for name in unwanted:
            if name in present:
                try:
                    await collection.drop_index(name)
                except OperationFailure as exc:
                    # Another app server starting at the same moment dropped it first.
                    if exc.code != INDEX_NOT_FOUND:
                        raise
