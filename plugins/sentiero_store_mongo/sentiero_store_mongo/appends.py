"""Appending batches: group commit over a few round trips.

Appends that arrive while a group is being written wait and go together in
the next one, written by one flusher task per store: one ``insert_many``
for their batch documents, one ``insert_many`` of the summaries of the
sessions this process has not seen yet (:func:`~.fold.new_summary`: a new
session's first batch), one ordered bulk write of :func:`~.fold.fast_fold`
updates for the other summaries (and for those whose insert found the
summary there already), then the update pipeline for any summary the fast
form could not handle (a new page, window or custom event, a first-seen
field). A lone append pays no wait: its group is just itself. Each of
these writes goes as a few commands at once, a slice of the group each
(``PARALLEL``): a server applies the commands of several connections side
by side, and the group's sessions are distinct, so their order is free.

A group holds at most one batch per session, so the summaries it touches
are distinct documents and each session's batches fold in arrival order.
Every step may be repeated safely: batch documents carry their ids, and a
summary remembers the last batch ids folded into it.

A batch with the recorder's ``seq`` is keyed by it (see :mod:`.documents`),
so a second delivery collides with the first on insert. The collision is
settled by the stored document's ``pending`` mark: this append's own id (a
retried insert of this very append: carry on), none (the batch is counted:
a repeat, nothing more to do) or another append's id (that append has not
folded it yet, or failed to: fold it too, since the summary's ``recent``
guard lets only one of the two folds count). Once folded, a group's batch
documents lose their ``pending`` mark in one more round trip, after the
callers have their answer and while the next group is written: a mark left
behind (a crash, an outage) only makes a later repeat fold again behind the
same guard.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from sentiero_core.store import BatchDigest, StoreError

from .documents import BatchId, Document
from .fold import fast_fold, fold_pipeline, new_summary
from .retry import Retrier

log = logging.getLogger("sentiero.store.mongo")
T = TypeVar("T")

#: Batches per group; more wait for the next group.
MAX_GROUP = 64
#: A group's writes go in at most this many commands at once...
PARALLEL = 4
#: ...of at least this many documents each.
MIN_SLICE = 8
#: Sessions this process saw a summary for: their next batch tries the fast form first.
KNOWN_SESSIONS = 20_000
_READ_BACK = {"recent": 1, "event_count": 1, "created_by": 1}


@dataclass(eq=False)
class PendingAppend:
    session_id: str
    batch_id: BatchId
    docs: list[Document]
    digest: BatchDigest
    exp: datetime | None
    #: The ``pending`` mark of this append's documents (batches with a seq).
    token: ObjectId | None = None
    #: The batch was stored by an earlier delivery: this append stores nothing.
    repeat: bool = False
    #: The summary after the fold, when read (see ``GroupWriter.want_summaries``).
    summary: Document | None = None
    error: BaseException | None = None
    done: bool = False
    future: asyncio.Future[Document | None] | None = None


class GroupWriter:
    def __init__(
        self, collections: Callable[[], tuple[Any, Any]], retry: Retrier, want_summaries: bool
    ) -> None:
        self._collections = collections
        self._retry = retry
        #: Read each summary back after folding (the store enforces limits with it).
        self.want_summaries = want_summaries
        self._pending: list[PendingAppend] = []
        self._flusher: asyncio.Task[None] | None = None
        self._known: OrderedDict[str, None] = OrderedDict()

    async def append(self, entry: PendingAppend) -> Document | None:
        loop = asyncio.get_running_loop()
        entry.future = loop.create_future()
        self._pending.append(entry)
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        try:
            # A caller that goes away (a closed request) leaves its batch to
            # be written whole rather than half: the flusher carries on.
            return await asyncio.shield(entry.future)
        except asyncio.CancelledError:
            entry.future.add_done_callback(_consume)
            raise

    async def drain(self) -> None:
        """Wait until every pending append is written."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        # A group's marks are settled while the next group is written. The
        # loop ends only with nothing pending after the last settle: an
        # append arriving meanwhile sees this flusher running and relies on it.
        settling: asyncio.Task[None] | None = None
        while self._pending or settling is not None:
            if not self._pending:
                assert settling is not None
                await settling
                settling = None
                continue
            folded = await self._write(self._next_group())
            if settling is not None:
                await settling
            settling = asyncio.ensure_future(self._settle(folded)) if folded else None

    def _next_group(self) -> list[PendingAppend]:
        group: list[PendingAppend] = []
        sessions: set[str] = set()
        for entry in self._pending:
            if len(group) == MAX_GROUP:
                break
            if entry.session_id not in sessions:
                sessions.add(entry.session_id)
                group.append(entry)
        taken = set(map(id, group))
        self._pending = [e for e in self._pending if id(e) not in taken]
        return group

    async def _write(self, group: list[PendingAppend]) -> list[PendingAppend]:
        """Write ``group`` and answer its callers; the keyed entries folded."""
        folded: list[PendingAppend] = []
        try:
            await self._insert(group)
            live = [e for e in group if not e.done]
            # New sessions' summaries and known ones' updates are distinct
            # documents: both go at once.
            created, updated = await asyncio.gather(
                self._create([e for e in live if e.session_id not in self._known]),
                self._fold_fast([e for e in live if e.session_id in self._known]),
                return_exceptions=True,
            )
            for outcome in (created, updated):
                if isinstance(outcome, BaseException):
                    raise outcome
            assert isinstance(created, list) and isinstance(updated, list)
            slow = updated + await self._fold_fast(created)
            summaries = await asyncio.gather(
                *(
                    self._retry.run("updating a session summary", partial(self._fold, e))
                    for e in slow
                ),
                return_exceptions=True,
            )
            for entry, result in zip(slow, summaries, strict=True):
                if isinstance(result, BaseException):
                    entry.error = result
                else:
                    entry.summary = result
            folded = [e for e in live if e.token is not None and e.error is None]
        except Exception as exc:
            folded = []
            for entry in group:
                entry.error = entry.error or exc
        for entry in group:
            entry.done = True
            if entry.error is None:
                self._remember(entry.session_id)
            assert entry.future is not None
            if entry.error is not None:
                entry.future.set_exception(entry.error)
            else:
                entry.future.set_result(entry.summary)
        return folded

    def _remember(self, session_id: str) -> None:
        self._known[session_id] = None
        self._known.move_to_end(session_id)
        if len(self._known) > KNOWN_SESSIONS:
            self._known.popitem(last=False)

    def forget(self, session_ids: list[str]) -> None:
        for session_id in session_ids:
            self._known.pop(session_id, None)

    async def _insert(self, group: list[PendingAppend]) -> None:
        #: Per keyed entry, the ids of its documents that were already there.
        taken: dict[int, set[Any]] = {}
        await _in_parallel(partial(self._insert_slice, taken=taken), group)
        collided = [e for e in group if id(e) in taken and not e.done]
        if collided:
            await self._settle_collisions(collided, taken)

    async def _insert_slice(self, group: list[PendingAppend], taken: dict[int, set[Any]]) -> None:
        batches, _sessions = self._collections()
        owners = [entry for entry in group for _doc in entry.docs]
        docs = [doc for entry in group for doc in entry.docs]

        async def insert() -> None:
            try:
                await batches.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                for error in exc.details.get("writeErrors", []):
                    owner = owners[error["index"]]
                    if error.get("code") != 11000:
                        owner.error = StoreError(f"MongoDB refused a batch: {error.get('errmsg')}")
                        owner.done = True
                    elif owner.token is not None:
                        # A keyed batch: stored by an earlier attempt of this
                        # append, or by another delivery of the batch.
                        taken.setdefault(id(owner), set()).add(docs[error["index"]]["_id"])
                    # else: an ObjectId only an earlier attempt of this append knew

        await self._retry.run("storing batches", insert)

    async def _settle_collisions(
        self, entries: list[PendingAppend], taken: dict[int, set[Any]]
    ) -> None:
        """Decide for each entry whose documents were already stored: its
        own earlier attempt, a counted repeat, or an unfinished delivery."""
        batches, _sessions = self._collections()
        ids = [doc_id for e in entries for doc_id in taken[id(e)]]

        async def marks() -> dict[Any, Any]:
            found = batches.find({"_id": {"$in": ids}}, {"pending": 1})
            return {doc["_id"]: doc.get("pending") for doc in await found.to_list(None)}

        pending = await self._retry.run("reading stored batches", marks)
        for e in entries:
            # A document gone since (its session deleted) counts as settled.
            seen = [pending.get(doc_id) for doc_id in taken[id(e)]]
            if all(mark == e.token for mark in seen):
                continue  # this append's own earlier attempt: fold as usual
            e.repeat = True
            if any(mark is None for mark in seen):
                # Counted already: remove what this append added beside it
                # (a split batch's parts that limits had trimmed away).
                e.done = True
                added = [doc["_id"] for doc in e.docs if doc["_id"] not in taken[id(e)]]
                if added:
                    query = {"_id": {"$in": added}, "pending": e.token}
                    await self._retry.run(
                        "removing a repeated batch", partial(batches.delete_many, query)
                    )

    async def _settle(self, entries: list[PendingAppend]) -> None:
        """The summaries count these keyed batches now: drop their marks, so
        that a later delivery of one is a plain repeat."""
        if not entries:
            return
        batches, _sessions = self._collections()
        query = {
            "_id": {"$in": [doc["_id"] for e in entries for doc in e.docs]},
            # the session ids let a sharded cluster send this to their shards
            # only; after the ids, which some servers (SecantusDB) would
            # otherwise not look up by their index
            "sid": {"$in": list({e.session_id for e in entries})},
        }
        update = {"$unset": {"pending": ""}}
        try:
            await self._retry.run("settling batches", partial(batches.update_many, query, update))
        except Exception as exc:
            log.warning("%d batches stay marked pending (harmless): %s", len(entries), exc)

    async def _create(self, entries: list[PendingAppend]) -> list[PendingAppend]:
        """Insert the summaries of sessions new to this process, each built
        from its batch alone; return the entries whose summary was there
        already (or could not be inserted): they fold the other ways."""
        return [e for part in await _in_parallel(self._create_slice, entries) for e in part]

    async def _create_slice(self, entries: list[PendingAppend]) -> list[PendingAppend]:
        _batches, sessions = self._collections()
        docs = [new_summary(e.session_id, e.digest, e.batch_id, e.exp) for e in entries]
        refused: set[int] = set()

        async def insert() -> None:
            refused.clear()
            try:
                await sessions.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                # 11000: the summary exists (another server, an earlier
                # attempt of this insert): the guarded folds decide.
                refused.update(error["index"] for error in exc.details.get("writeErrors", []))

        await self._retry.run("creating session summaries", insert)
        for index, (e, doc) in enumerate(zip(entries, docs, strict=True)):
            if index not in refused:
                e.summary = {k: doc[k] for k in ("_id", *_READ_BACK)}
        return [e for index, e in enumerate(entries) if index in refused]

    async def _fold_fast(self, entries: list[PendingAppend]) -> list[PendingAppend]:
        """Fold what the fast form can; return the entries it could not."""
        return [e for part in await _in_parallel(self._fold_fast_slice, entries) for e in part]

    async def _fold_fast_slice(self, entries: list[PendingAppend]) -> list[PendingAppend]:
        _batches, sessions = self._collections()
        updates = []
        for e in entries:
            guard, update = fast_fold(e.digest, e.batch_id, e.exp)
            query = {"_id": e.session_id, "recent": {"$ne": e.batch_id}, **guard}
            updates.append(UpdateOne(query, update))
        result = await self._retry.run(
            "updating session summaries", lambda: sessions.bulk_write(updates, ordered=True)
        )
        if result.matched_count == len(entries) and not self.want_summaries:
            return []
        query = {"_id": {"$in": [e.session_id for e in entries]}}

        async def read_back() -> list[Document]:
            return list(await sessions.find(query, _READ_BACK).to_list(None))

        found = await self._retry.run("reading session summaries", read_back)
        docs = {doc["_id"]: doc for doc in found}
        missed = []
        for e in entries:
            doc = docs.get(e.session_id)
            if doc is not None and e.batch_id in doc.get("recent", ()):
                e.summary = doc
            else:
                missed.append(e)
        return missed

    async def _fold(self, e: PendingAppend) -> Document:
        """The pipeline fold, creating the summary when needed."""
        _batches, sessions = self._collections()
        pipeline = fold_pipeline(e.digest, e.batch_id, e.exp)
        # The filter skips a summary that already folded this batch; the
        # upsert then collides on _id and the summary is returned as it is.
        for _attempt in range(5):
            try:
                doc = await sessions.find_one_and_update(
                    {"_id": e.session_id, "recent": {"$ne": e.batch_id}},
                    pipeline,
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                    projection=_READ_BACK,
                )
            except DuplicateKeyError:
                # Folded by an earlier attempt, or another writer created the
                # session at the same moment: look, and fold again if needed.
                doc = await sessions.find_one({"_id": e.session_id}, _READ_BACK)
                if doc is None or e.batch_id not in doc.get("recent", ()):
                    continue
            if doc is None:
                # An upsert always writes; some servers (SecantusDB) answer
                # without the document when a concurrent writer created it
                # between their read and their write.
                doc = await sessions.find_one({"_id": e.session_id}, _READ_BACK)
            if doc is not None:
                return dict(doc)
        raise StoreError(f"could not update the summary of session {e.session_id!r}")


async def _in_parallel(
    write: Callable[[list[PendingAppend]], Awaitable[T]], entries: list[PendingAppend]
) -> list[T]:
    """``write`` applied to slices of ``entries`` at once; the first error
    is raised once every slice is done (none is left running)."""
    if not entries:
        return []
    count = max(1, min(PARALLEL, len(entries) // MIN_SLICE))
    size = -(-len(entries) // count)
    results = await asyncio.gather(
        *(write(entries[i : i + size]) for i in range(0, len(entries), size)),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def _consume(future: asyncio.Future[Document | None]) -> None:
    """Retrieve the outcome of an append nobody waits for any more."""
    if not future.cancelled():
        future.exception()
