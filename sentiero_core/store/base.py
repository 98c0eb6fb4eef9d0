"""The store interface every storage backend implements (private module:
import from :mod:`sentiero_core.store`).

A store keeps three things for each recorded session: its event batches,
one summary kept current at append time, and the windows (tabs) that took
part. Everything the dashboard lists comes from summaries, so no listing
ever decodes events.

:class:`Store` splits each call in two, as a template method: the public
method (what the app and plugins call) checks and parses its arguments the
same way for every backend, then calls a primitive that the backend
implements with arguments already known to be good. A backend implements
the abstract methods below and nothing else; see ``docs/writing-a-store.md``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .aggregates import AggregateMethods
from .cursors import EventPosition, SessionPosition, parse_event_cursor, parse_session_cursor
from .cursors import session_cursor as _session_cursor
from .records import (
    RecordUpdate,
    Where,
    check_collection,
    check_key,
    check_page,
    check_update,
    check_where,
)
from .removal import (
    DELETED,
    ERASED,
    EVICTED,
    PURGED,
    RemovalListener,
    RemovalReports,
    removed_ids,
    run_whole,
)
from .types import (
    Batch,
    EventPage,
    SessionFilter,
    SessionPage,
    SessionSummary,
    StoreError,
    StoreLimits,
    StoreStats,
)


@dataclass(frozen=True, slots=True)
class StoreCapabilities:
    """What a store declares about itself; the contract suite holds it to it.

    ``persistent``: the data outlives the store object (a file, a server).
    The contract suite then requires its ``reopen_store`` fixture and checks
    that sessions, summaries, events and delivered seqs survive reopening.

    ``max_compression_ratio``: the store keeps a realistic recording in at
    most this fraction of its JSON size (``stats().compression_ratio``), or
    ``None`` when it promises nothing (a store keeping plain JSON).

    ``aggregates``: the store keeps counters for collectors (the methods of
    :class:`~sentiero_core.store.AggregateMethods`); the analytics plugin
    needs it, and the contract suite's aggregate tests run only then.

    ``records``: the store implements the record primitives
    (``record_upsert`` and the others), so plugins can keep documents of
    their own in it with atomic updates (see :mod:`sentiero_core.store`'s
    ``RecordUpdate``); the contract suite's records tests then run.
    """

    persistent: bool = False
    max_compression_ratio: float | None = None
    aggregates: bool = False
    records: bool = False


def _page_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(f"limit must be an integer, got {limit!r}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return limit


def _constraint(filter: SessionFilter | None) -> SessionFilter | None:
    """``filter``, or ``None`` when it constrains nothing."""
    if filter is None:
        return None
    if not isinstance(filter, SessionFilter):
        raise TypeError(f"filter must be a SessionFilter, got {type(filter).__name__}")
    return None if filter.is_empty() else filter


class Store(AggregateMethods, abc.ABC):
    """Async storage backend. Implementations must be safe under concurrent
    calls from one event loop: many appends to one session lose nothing.

    Subclasses implement the abstract methods (the primitives); the public
    methods ``list_sessions``, ``read_events``, ``delete_sessions``, ``erase``,
    ``purge_before`` and ``count_sessions`` are the base class's and call them.

    Every session that leaves the store is reported, once, to the listeners
    added with :meth:`add_removal_listener`, with a reason: ``"deleted"``,
    ``"erased"``, ``"purged"`` (the public methods report for you, from the
    ids the primitives return) or ``"evicted"`` (``max_sessions`` during
    ``append``: the backend calls :meth:`report_evicted`).
    """

    #: The store's short name, for error messages and listings.
    name: str = "store"
    #: What the store promises; a class attribute, or set per instance in
    #: ``__init__`` (a SQLite store in ``:memory:`` is not persistent).
    capabilities: StoreCapabilities = StoreCapabilities()

    def __init__(self, limits: StoreLimits | None = None) -> None:
        self.limits = limits or StoreLimits()
        self._removal_reports = RemovalReports()

    @property
    def _reports(self) -> RemovalReports:
        # A subclass that forgot super().__init__() still reports.
        reports: RemovalReports | None = self.__dict__.get("_removal_reports")
        if reports is None:
            reports = self.__dict__["_removal_reports"] = RemovalReports()
        return reports

    # -- removal reports -----------------------------------------------------

    def add_removal_listener(self, listener: RemovalListener) -> None:
        """Call ``listener(session_ids: list[str], reason: str)`` (it may
        return an awaitable) after each removal is durable, with the ids that
        really went (never empty) and the reason. Listeners run one after the
        other, in the order added; one that raises is logged and the others
        still run. A listener must not wait for an ``append`` to this store."""
        self._reports.listeners.append(listener)

    def remove_removal_listener(self, listener: RemovalListener) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        listeners = self._reports.listeners
        if listener in listeners:
            listeners.remove(listener)

    async def report_evicted(self, session_ids: Sequence[str]) -> None:
        """For backends: report sessions that ``max_sessions`` evicted while
        appending, once the eviction is durable and outside any lock the
        backend holds. Returns when the listeners are done."""
        await self._reports.report(list(session_ids), EVICTED)

    async def settle_removal_reports(self) -> None:
        """Wait until reports started by callers that were cancelled are done."""
        await self._reports.settle()

    async def _removing(self, reason: str, primitive: str, work: Any) -> int:
        async def remove_and_report() -> int:
            ids = removed_ids(self, primitive, await work)
            await self._reports.report(ids, reason)
            return len(ids)

        return int(await run_whole(remove_and_report()))

    async def open(self) -> None:
        """Connect, create schema and indexes. Called once before use."""

    async def close(self) -> None:
        """Release connections. The store is not used afterwards."""

    # -- the public interface ------------------------------------------------

    async def list_sessions(
        self,
        filter: SessionFilter | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> SessionPage:
        """Summaries newest first (``started_at`` desc, then ``session_id``
        desc), at most ``limit``; ``next`` is ``None`` on the last page.

        :class:`InvalidCursor` for a cursor this store did not hand out,
        :class:`ValueError` for a ``limit`` below 1."""
        after = parse_session_cursor(cursor)
        limit = _page_limit(limit)
        found = list(await self.fetch_sessions(_constraint(filter), after, limit + 1))
        page = found[:limit]
        return SessionPage(
            sessions=page, next=_session_cursor(page[-1]) if len(found) > limit else None
        )

    async def read_events(
        self,
        session_id: str,
        cursor: str | None = None,
        limit: int = 1000,
        window_id: str | None = None,
    ) -> EventPage:
        """Events in timestamp order (ties keep arrival order), at most
        ``limit`` per page; only ``window_id``'s when given. An unknown
        session reads as an empty last page.

        :class:`InvalidCursor` for a cursor this store did not hand out,
        :class:`ValueError` for a ``limit`` below 1."""
        after = parse_event_cursor(cursor)
        return await self.fetch_events(session_id, after, _page_limit(limit), window_id)

    async def delete_sessions(self, session_ids: Sequence[str]) -> int:
        """Remove sessions with every batch and summary; the number removed
        (unknown and repeated ids count nothing)."""
        wanted = list(dict.fromkeys(sid for sid in session_ids if isinstance(sid, str)))
        if not wanted:
            return 0
        return await self._removing(DELETED, "remove_sessions", self.remove_sessions(wanted))

    async def erase(self, filter: SessionFilter) -> int:
        """Remove every session matching ``filter``; the number removed.
        An empty filter is refused with :class:`ValueError` (use
        ``purge_before`` or ``delete_sessions``): a forgotten filter must not
        wipe the store."""
        if not isinstance(filter, SessionFilter):
            raise TypeError(f"filter must be a SessionFilter, got {type(filter).__name__}")
        filter.require_constraint()
        return await self._removing(ERASED, "erase_matching", self.erase_matching(filter))

    async def purge_before(self, before: int) -> int:
        """Remove sessions whose last activity (``ended_at``) is strictly
        older than ``before`` (ms since the epoch); the number removed."""
        if isinstance(before, bool) or not isinstance(before, int):
            raise ValueError(f"before must be an integer (ms since the epoch), got {before!r}")
        return await self._removing(PURGED, "purge_idle", self.purge_idle(before))

    async def count_sessions(self, filter: SessionFilter | None = None) -> int:
        """How many sessions match ``filter`` (all when ``None`` or empty)."""
        return await self.count_matching(_constraint(filter))

    # -- records (only with capabilities.records) ------------------------------

    def _require_records(self) -> None:
        if not self.capabilities.records:
            raise StoreError(
                f"the {self.name} store does not keep records (its capabilities.records is false)"
            )

    async def update_record(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        """Apply ``update`` to the record ``key`` of ``collection``, creating
        it when missing, atomically (several app servers included); returns
        the record after the update. Only for stores with
        ``capabilities.records``, :class:`StoreError` otherwise."""
        self._require_records()
        return await self.record_upsert(
            check_collection(collection), check_key(key), check_update(update)
        )

    async def compare_and_set_record(
        self, collection: str, key: str, expected: Where, changes: dict[str, Any]
    ) -> bool:
        """Set ``changes`` on the record ``key`` only if it exists and meets
        ``expected`` at that moment, atomically; True if it did."""
        self._require_records()
        return await self.record_compare_and_set(
            check_collection(collection),
            check_key(key),
            check_where(expected),
            dict(check_update(RecordUpdate(set=changes)).set),
        )

    async def get_record(self, collection: str, key: str) -> dict[str, Any] | None:
        """The record ``key`` of ``collection``, or ``None``."""
        self._require_records()
        return await self.record_get(check_collection(collection), check_key(key))

    async def find_records(
        self,
        collection: str,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Records meeting every condition of ``where``, ordered by
        ``order_by`` then ``_id`` (descending by default), at most ``limit``
        after skipping ``offset``."""
        self._require_records()
        check_page(order_by, limit, offset)
        return list(
            await self.record_find(
                check_collection(collection),
                check_where(where),
                order_by,
                bool(descending),
                limit,
                offset,
            )
        )

    async def count_records(self, collection: str, where: Where | None = None) -> int:
        """How many records of ``collection`` meet ``where``."""
        self._require_records()
        return await self.record_count(check_collection(collection), check_where(where))

    async def delete_records(self, collection: str, where: Where | None = None) -> int:
        """Remove the records of ``collection`` meeting ``where`` (all when
        it is empty); how many went."""
        self._require_records()
        return await self.record_delete(check_collection(collection), check_where(where))

    # Record primitives: a store declaring capabilities.records implements
    # them all; arguments arrive checked.

    async def record_upsert(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        """Apply ``update`` to one record, creating it with ``_id`` = ``key``
        and ``set_on_insert`` when missing; atomic; the record after it."""
        raise NotImplementedError

    async def record_compare_and_set(
        self, collection: str, key: str, expected: dict[str, Any], changes: dict[str, Any]
    ) -> bool:
        """Set ``changes`` if the record exists and matches ``expected``;
        atomic; whether it did."""
        raise NotImplementedError

    async def record_get(self, collection: str, key: str) -> dict[str, Any] | None:
        """One record or ``None``."""
        raise NotImplementedError

    async def record_find(
        self,
        collection: str,
        where: dict[str, Any],
        order_by: str | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> Sequence[dict[str, Any]]:
        """Matching records in order (see :func:`sort_records`), paged."""
        raise NotImplementedError

    async def record_count(self, collection: str, where: dict[str, Any]) -> int:
        """How many records match."""
        raise NotImplementedError

    async def record_delete(self, collection: str, where: dict[str, Any]) -> int:
        """Remove matching records; how many went."""
        raise NotImplementedError

    # -- what a backend implements -------------------------------------------

    @abc.abstractmethod
    async def append(self, batch: Batch) -> bool:
        """Store ``batch`` and fold its digest into the session summary,
        then enforce :attr:`limits`. Durable when it returns.

        Delivery is at least once, so a batch may arrive again: a batch whose
        (session_id, window_id, seq) was already stored is ignored (no events,
        no summary change, no eviction), when seq is not None. The seqs of a
        session are forgotten with the session (delete, erase, purge,
        eviction); those of batches that ``max_events_per_session`` removed
        whole may be too. Returns ``False`` for an ignored repeat, ``True``
        when stored.

        Sessions that ``max_sessions`` evicted are reported with
        :meth:`report_evicted` before ``append`` returns, once the eviction
        is durable and outside any lock (a listener may read the store).
        Trimming by ``max_events_per_session`` removes no session and is
        not reported.
        """

    @abc.abstractmethod
    async def fetch_sessions(
        self, filter: SessionFilter | None, after: SessionPosition | None, count: int
    ) -> Sequence[SessionSummary]:
        """At most ``count`` summaries matching ``filter`` (``None``: all),
        newest first (``started_at`` desc, then ``session_id`` desc), only
        those strictly after ``after`` in that order (``(started_at,
        session_id)`` below it). Each a copy the caller may change."""

    @abc.abstractmethod
    async def get_session(self, session_id: str) -> SessionSummary | None:
        """One summary (a copy the caller may change), or ``None`` when the
        session does not exist."""

    @abc.abstractmethod
    async def fetch_events(
        self,
        session_id: str,
        after: EventPosition | None,
        limit: int,
        window_id: str | None,
    ) -> EventPage:
        """One page of at most ``limit`` (>= 1) events strictly after the
        position ``after``, in position order: (event time, batch arrival,
        index in the batch). :func:`page_events` does it for batches kept as
        :class:`StoredBatch` rows and builds ``next``."""

    @abc.abstractmethod
    async def remove_sessions(self, session_ids: list[str]) -> Sequence[str]:
        """Remove these sessions (distinct ids, at least one) with every
        batch, summary and delivered seq; the ids of those that existed and
        this call removed (the base class reports them as ``"deleted"``)."""

    @abc.abstractmethod
    async def erase_matching(self, filter: SessionFilter) -> Sequence[str]:
        """Remove every session matching ``filter`` (never empty) like
        :meth:`remove_sessions`; the ids removed (reported as ``"erased"``)."""

    @abc.abstractmethod
    async def purge_idle(self, before: int) -> Sequence[str]:
        """Remove sessions whose last activity (``ended_at``) is older than
        ``before`` (strictly) like :meth:`remove_sessions`; the ids removed
        (reported as ``"purged"``)."""

    @abc.abstractmethod
    async def count_matching(self, filter: SessionFilter | None) -> int:
        """How many sessions match ``filter`` (``None``: all of them)."""

    @abc.abstractmethod
    async def stats(self) -> StoreStats:
        """Totals, including stored and raw JSON bytes of event batches."""
