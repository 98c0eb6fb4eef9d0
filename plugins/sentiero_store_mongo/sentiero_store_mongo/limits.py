"""Enforcing ``max_events_per_session`` and ``max_sessions`` after an append.

Several app servers may enforce limits on one session at the same moment:
each deletion or rewrite is conditional on the document it read, and the
summary's counts go down by what this server actually removed.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from functools import total_ordering
from typing import Any

from sentiero_core.store import trim_plan

from .documents import rewritten_fields, stored_batch

_BATCH_BOUNDS = {"_id": 1, "seq": 1, "win": 1, "t0": 1, "t1": 1, "n": 1}


async def trim_session(batches: Any, sessions: Any, session_id: str, keep: int) -> None:
    """Drop the session's oldest events (by position) down to ``keep``, and
    take what went out of the summary's counts."""
    # Only the oldest batches lose events: read every batch's bounds,
    # then the blobs of those that can hold one of the oldest events.
    found = batches.find({"sid": session_id}, _BATCH_BOUNDS).sort([("t0", 1), ("seq", 1)])
    bounds = await found.to_list(None)
    excess = sum(doc["n"] for doc in bounds) - keep
    if excess <= 0:
        return
    counted, horizon = 0, None
    for doc in bounds:
        counted += doc["n"]
        horizon = doc["t1"] if horizon is None else max(horizon, doc["t1"])
        if counted >= excess:
            break
    # A batch starting after ``horizon`` holds none of the oldest ``excess`` events.
    near = [doc for doc in bounds if doc["t0"] <= horizon]
    blobs = batches.find({"_id": {"$in": [doc["_id"] for doc in near]}}, {"blob": 1})
    blob_of = {doc["_id"]: doc["blob"] for doc in await blobs.to_list(None)}
    if len(blob_of) != len(near):
        return  # another server is trimming this session right now
    near = [{**doc, "blob": blob_of[doc["_id"]]} for doc in near]
    # Every event outside ``near`` is kept, so ``near`` keeps the rest.
    kept_near = sum(doc["n"] for doc in near) - excess
    drop, rewrite = trim_plan([stored_batch(doc) for doc in near], kept_near)
    by_seq = {doc["seq"]: doc for doc in near}
    removed_events = removed_batches = 0
    for seq in drop:
        gone = await batches.find_one_and_delete(
            {"_id": by_seq[seq]["_id"], "sid": session_id}, projection={"n": 1, "part": 1}
        )
        if gone is not None:  # another server may have trimmed it first
            removed_events += gone["n"]
            removed_batches += 0 if gone.get("part") else 1
    for seq, events in rewrite.items():
        old = by_seq[seq]
        result = await batches.update_one(
            {"_id": old["_id"], "sid": session_id, "n": old["n"]},
            {"$set": rewritten_fields(events)},
        )
        if result.modified_count:
            removed_events += old["n"] - len(events)
    if removed_events or removed_batches:
        await sessions.update_one(
            {"_id": session_id},
            {"$inc": {"event_count": -removed_events, "batch_count": -removed_batches}},
        )


async def sessions_over(sessions: Any, cap: int) -> list[str]:
    """The ids of the sessions to evict, least recently active first.

    There is no index on ``ended_at`` (each would cost every summary update
    a write): the walk goes through ``newest_first`` from the oldest start,
    keeping the ``excess`` earliest ends seen. A session never ends before
    it starts, so once a start is past the latest end kept, no later session
    can end earlier: the walk stops there, usually after a few sessions.
    """
    excess = await sessions.count_documents({}) - cap
    if excess <= 0:
        return []
    fields = {"_id": 1, "started_at": 1, "ended_at": 1}
    oldest_first = sessions.find({}, fields).sort([("started_at", 1), ("_id", 1)])
    # a max-heap (negated) of the excess earliest (ended_at, _id) seen
    kept: list[tuple[int, _Reversed]] = []
    async for doc in oldest_first.batch_size(max(16, 2 * excess)):
        if len(kept) == excess and (doc.get("started_at") or 0) > -kept[0][0]:
            break
        entry = (-(doc.get("ended_at") or 0), _Reversed(doc["_id"]))
        if len(kept) < excess:
            heapq.heappush(kept, entry)
        elif entry > kept[0]:
            heapq.heapreplace(kept, entry)
    return [item.value for _end, item in sorted(kept, reverse=True)]


@total_ordering
class _Reversed:
    """Orders session ids backwards, so the heap of negated ends breaks ties
    by keeping the smallest id, as ``sort(ended_at, _id)`` would."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.value > other.value)


#: How long a claim to delete a session holds: a server that claimed
#: sessions and died before deleting them leaves them to the next removal.
CLAIM_LEASE = timedelta(minutes=2)


async def claim_sessions(sessions: Any, session_ids: list[str], token: Any) -> list[str]:
    """Mark the summaries of ``session_ids`` as being removed by ``token``
    and return the ids now marked so: MongoDB reports how many documents a
    ``delete_many`` removed, not which, and every removal must be reported
    exactly once however many servers remove the same session at once."""
    now = datetime.now(UTC)
    free = {
        "$or": [
            {"rm": {"$exists": False}},
            {"rm": token},  # a retry of this very claim
            {"rm_at": {"$lt": now - CLAIM_LEASE}},
        ]
    }
    await sessions.update_many(
        {"$and": [{"_id": {"$in": session_ids}}, free]}, {"$set": {"rm": token, "rm_at": now}}
    )
    found = sessions.find({"_id": {"$in": session_ids}, "rm": token}, {"_id": 1})
    return [doc["_id"] for doc in await found.to_list(None)]
