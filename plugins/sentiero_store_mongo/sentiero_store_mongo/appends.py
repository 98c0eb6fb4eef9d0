"""Appending batches: group commit over a few round trips.

Appends that arrive while a group is being written wait and go together in
the next one, written by one flusher task per store: one ``insert_many``
for their batch documents, then at once one ``insert_many`` of the
summaries of the sessions this process has not seen yet
(:func:`~.fold.new_summary`: a new session's first batch) and one ordered
bulk write of :func:`~.fold.fast_fold` updates for the other summaries
(and for those whose insert found the summary there already), then the
update pipeline for any summary the fast form could not handle (a new
page, window or custom event, a first-seen field, a seq out of order).
A lone append pays no wait: its group is just itself. Each of these writes
is one command: split into slices sent at once, the group cost a
SecantusDB server 25-30% more time (its writers to one collection take
turns and retry each other's conflicting transactions).

A group holds at most one batch per session, so the summaries it touches
are distinct documents and each session's batches fold in arrival order.
Every step may be repeated safely: batch documents carry their ids, and
folds are guarded (:mod:`.guards`).

A batch with the recorder's ``seq`` is keyed by it (see :mod:`.documents`),
so a second delivery collides with the first on insert. The stored
document's ``by`` settles the collision: this append's own id (a retried
insert of this very append: carry on) or another append's (a repeat:
``append`` answers ``False``, and folds the batch for that writer, which
may have failed before folding it; the guards let only one fold count).
After folding, a batch counted by another fold (:data:`~.guards.ELSEWHERE`)
makes the documents this append added a repeat's: they are removed.
Documents written before ``by`` existed are settled by their ``pending``
mark the old way: none means counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from sentiero_core.store import BatchDigest, StoreError

from .documents import BatchId, Document
from .fold import fast_fold, fold_pipeline, new_summary
from .guards import HERE, Fold, fold_filter, fold_state
from .retry import Retrier

log = logging.getLogger("sentiero.store.mongo")

#: Batches per group; more wait for the next group.
MAX_GROUP = 64
#: Sessions this process saw a summary for: their next batch tries the fast form first.
KNOWN_SESSIONS = 20_000
_READ_BACK = {"recent": 1, "seqs": 1, "event_count": 1, "created_by": 1}


@dataclass(eq=False)
class PendingAppend:
    session_id: str
    batch_id: BatchId
    docs: list[Document]
    digest: BatchDigest
    exp: datetime | None
    #: The ``by`` of this append's documents (batches with a seq).
    token: ObjectId | None = None
    #: The recorder's number of the batch.
    seq: int | None = None
    #: The marks of the writers of this batch's documents found in place:
    #: their ``by`` (the batch id for documents from before ``by``).
    others: tuple[Any, ...] = ()
    #: The batch was stored by another delivery: ``append`` answers ``False``.
    repeat: bool = False
    #: Counted by another fold: the documents this append added go.
    drop: bool = False
    #: The summary after the fold, when read (see ``GroupWriter.want_summaries``).
    summary: Document | None = None
    error: BaseException | None = None
    done: bool = False
    future: asyncio.Future[Document | None] | None = None

    @property
    def fold(self) -> Fold:
        mark = self.batch_id if self.token is None else self.token
        return Fold(self.batch_id, mark, self.others, self.seq)

    def folded(self, doc: Document | None, state: str) -> None:
        """The summary counts the batch (``state``: who counted it)."""
        if state == HERE:
            self.summary = doc
        else:
            self.repeat = self.drop = True


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
        # The loop ends only with nothing pending: an append arriving
        # meanwhile sees this flusher running and relies on it.
        while self._pending:
            await self._write(self._next_group())

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

    async def _write(self, group: list[PendingAppend]) -> None:
        """Write ``group`` and answer its callers."""
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
                    doc, state = result
                    entry.folded(doc, state)
            repeated = [e for e in group if e.drop and e.error is None]
            try:
                await self._drop_repeated(repeated)
            except Exception as exc:
                for entry in repeated:
                    entry.error = exc
        except Exception as exc:
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
        await self._insert_all(group, taken)
        collided = [e for e in group if id(e) in taken and not e.done]
        if collided:
            await self._settle_collisions(collided, taken)

    async def _insert_all(self, group: list[PendingAppend], taken: dict[int, set[Any]]) -> None:
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
        own earlier attempt, or another delivery's batch (a repeat), which
        it folds for that writer unless an old document says it is counted."""
        batches, _sessions = self._collections()
        ids = [doc_id for e in entries for doc_id in taken[id(e)]]

        async def marks() -> dict[Any, Document]:
            found = batches.find({"_id": {"$in": ids}}, {"by": 1, "pending": 1})
            return {doc["_id"]: doc for doc in await found.to_list(None)}

        stored = await self._retry.run("reading stored batches", marks)
        for e in entries:
            seen = [stored.get(doc_id) for doc_id in taken[id(e)]]
            if all(doc is not None and doc.get("by") == e.token for doc in seen):
                continue  # this append's own earlier attempt: fold as usual
            e.repeat = True
            writers = [doc["by"] for doc in seen if doc is not None and "by" in doc]
            if writers:
                e.others = tuple(dict.fromkeys(writers))
            elif all(doc is not None and doc.get("pending") is not None for doc in seen):
                # Written before ``by``, not counted yet: the summary's
                # ``recent`` then remembered folds by batch id.
                e.others = (e.batch_id,)
            else:
                # Written before ``by`` and counted (or gone since: its
                # session was deleted): nothing to fold.
                e.done = e.drop = True

    async def _drop_repeated(self, entries: list[PendingAppend]) -> None:
        """Remove the documents these repeats added: parts of a split batch,
        or a whole batch, that ``max_events_per_session`` had removed."""
        batches, _sessions = self._collections()
        mine = [e for e in entries if e.token is not None]
        if not mine:
            return
        query = {
            "_id": {"$in": [doc["_id"] for e in mine for doc in e.docs]},
            # the session ids let a sharded cluster send this to their shards only
            "sid": {"$in": list({e.session_id for e in mine})},
            "by": {"$in": [e.token for e in mine]},
        }
        await self._retry.run("removing repeated batches", partial(batches.delete_many, query))

    async def _create(self, entries: list[PendingAppend]) -> list[PendingAppend]:
        """Insert the summaries of sessions new to this process, each built
        from its batch alone; return the entries whose summary was there
        already (or could not be inserted): they fold the other ways."""
        if not entries:
            return []
        _batches, sessions = self._collections()
        docs = [new_summary(e.session_id, e.digest, e.fold, e.exp) for e in entries]
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
                e.folded({k: doc[k] for k in ("_id", *_READ_BACK) if k in doc}, HERE)
        return [e for index, e in enumerate(entries) if index in refused]

    async def _fold_fast(self, entries: list[PendingAppend]) -> list[PendingAppend]:
        """Fold what the fast form can; return the entries it could not."""
        if not entries:
            return []
        _batches, sessions = self._collections()
        updates, fast, slow = [], [], []
        for e in entries:
            form = fast_fold(e.session_id, e.digest, e.fold, e.exp)
            if form is None:
                slow.append(e)
                continue
            query, update, array_filters = form
            updates.append(UpdateOne(query, update, array_filters=array_filters))
            fast.append(e)
        if not fast:
            return slow
        result = await self._retry.run(
            "updating session summaries", lambda: sessions.bulk_write(updates, ordered=True)
        )
        if result.matched_count == len(fast) and not self.want_summaries:
            for e in fast:
                e.folded(None, HERE)
            return slow
        query = {"_id": {"$in": [e.session_id for e in fast]}}

        async def read_back() -> list[Document]:
            return list(await sessions.find(query, _READ_BACK).to_list(None))

        found = await self._retry.run("reading session summaries", read_back)
        docs = {doc["_id"]: doc for doc in found}
        for e in fast:
            doc = docs.get(e.session_id)
            state = None if doc is None else fold_state(doc, e.fold, e.digest.window_id)
            if state is None:
                slow.append(e)
            else:
                e.folded(doc, state)
        return slow

    async def _fold(self, e: PendingAppend) -> tuple[Document, str]:
        """The pipeline fold, creating the summary when needed: the summary
        and who counted the batch (``fold_state``)."""
        _batches, sessions = self._collections()
        window = e.digest.window_id
        query = fold_filter(e.session_id, e.fold, window)
        pipeline = fold_pipeline(e.digest, e.fold, e.exp)
        # The filter skips a summary that counts this batch already; the
        # upsert then collides on _id, and a look says who counted it.
        for _attempt in range(5):
            try:
                doc = await sessions.find_one_and_update(
                    query,
                    pipeline,
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                    projection=_READ_BACK,
                )
            except DuplicateKeyError:
                doc = None
            if doc is None:
                # Counted before, or another writer created the session at
                # the same moment (some servers, SecantusDB, then answer an
                # upsert without the document): look, and fold again if needed.
                doc = await sessions.find_one({"_id": e.session_id}, _READ_BACK)
            state = None if doc is None else fold_state(doc, e.fold, window)
            if doc is not None and state is not None:
                return dict(doc), state
        raise StoreError(f"could not update the summary of session {e.session_id!r}")


def _consume(future: asyncio.Future[Document | None]) -> None:
    """Retrieve the outcome of an append nobody waits for any more."""
    if not future.cancelled():
        future.exception()
