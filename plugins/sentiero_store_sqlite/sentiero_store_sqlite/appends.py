"""One write transaction's worth of appends.

Plain ``sqlite3`` code that runs start to finish in the writer's thread
(:meth:`.connection.Connection.run`): the whole group is one hop from the
event loop, however many sessions and statements it takes. Statements are
still few: a group reads all its sessions' summaries in one query, folds
each batch in Python with ``merge_digest``, and writes summaries and
search rows with one ``executemany`` each (batch rows: see below).

Batches are compressed here too, not on the event loop: zlib lets go of the
GIL while it deflates, so the loop goes on parsing the next requests on the
other core meanwhile, and the group's hop is already paid for.

The result must equal appending the batches one by one, limits included.
Pending rows are therefore written out before anything that reads the tables
back: trimming a session reads its batches, eviction orders sessions by their
stored ``ended_at``. A session evicted half-way through a group and appended
to again later in it starts afresh, exactly as it would one batch at a time.

Batch rows, though, go in one by one as each batch is applied, before its
summary is folded: the unique index on (session, window, recorder seq)
answers whether a numbered batch was stored already, by an earlier request
or earlier in this very group, and a repeat is dropped before it touches
the summary. The table is the one record of what was delivered, so trimming
and eviction inside a group stay exactly as one at a time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from sentiero_core.store import Batch, SessionSummary, StoreLimits, compress, merge_digest

from .limits import evict_least_recent, trim_session

SESSION_COLUMNS = "started_at, ended_at, duration_ms, error_count, user_id, browser, device, os"
UPDATE_ASSIGNMENTS = ", ".join(f"{c.strip()} = ?" for c in SESSION_COLUMNS.split(","))


@dataclass(slots=True)
class PendingAppend:
    """A batch ready to write: its events as JSON, checked before queueing."""

    batch: Batch
    raw: bytes
    #: Set by the writer: the batch was stored before (same session, window, seq).
    repeat: bool = False
    #: Set by the writer: the sessions ``max_sessions`` evicted for this batch.
    evicted: list[str] = field(default_factory=list)
    #: Set once the group committed: the report of ``evicted`` under way.
    report: Any = None


def _lowered(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def summary_columns(s: SessionSummary) -> tuple[Any, ...]:
    """The ``sessions`` row for ``s``: SESSION_COLUMNS, then the summary JSON."""
    return (
        s.started_at,
        s.ended_at,
        s.duration_ms,
        s.error_count,
        s.user_id,
        _lowered(s.browser),
        _lowered(s.device),
        _lowered(s.os),
        # orjson writes the dataclass itself, several times faster than
        # to_dict(); the derived duration_ms/has_errors are recomputed on load.
        orjson.dumps(s).decode(),
    )


def load_summary(text: str) -> SessionSummary:
    return SessionSummary.from_dict(orjson.loads(text))


class AppendGroup:
    def __init__(self, db: sqlite3.Connection, limits: StoreLimits) -> None:
        self._db = db
        self._limits = limits
        self._sessions: dict[str, tuple[int, SessionSummary]] = {}
        self._dirty: dict[int, SessionSummary] = {}
        self._page_rows: list[tuple[int, str]] = []
        self._event_rows: list[tuple[int, str]] = []
        self._session_count = 0

    def write(self, items: list[PendingAppend]) -> None:
        """Apply ``items`` in order inside the caller's transaction."""
        ids = sorted({item.batch.session_id for item in items})
        rows = self._db.execute(
            "SELECT id, session_id, summary FROM sessions "
            "WHERE session_id IN (SELECT value FROM json_each(?))",
            (orjson.dumps(ids).decode(),),
        )
        for rowid, session_id, text in rows:
            self._sessions[session_id] = (rowid, load_summary(text))
        if self._limits.max_sessions is not None:
            (count,) = self._db.execute("SELECT sessions FROM totals").fetchone()
            self._session_count = int(count)
        for item in items:
            self._apply(item)
        self._flush()

    def _insert_batch(self, rowid: int, item: PendingAppend) -> bool:
        """Insert the batch row; False when its recorder seq is taken."""
        batch = item.batch
        cursor = self._db.execute(
            "INSERT INTO batches (session_rowid, window_id, min_ts, max_ts, event_count, "
            "raw_bytes, blob, recorder_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (session_rowid, window_id, recorder_seq) "
            "WHERE recorder_seq IS NOT NULL DO NOTHING",
            (
                rowid,
                batch.window_id,
                batch.digest.first_ts,
                batch.digest.last_ts,
                len(batch.events),
                len(item.raw),
                compress(item.raw),
                batch.seq,
            ),
        )
        return cursor.rowcount == 1

    def _apply(self, item: PendingAppend) -> None:
        batch = item.batch
        digest = batch.digest
        if not digest.raw_bytes:  # a digest made without it (the pipeline sets it)
            digest = replace(digest, raw_bytes=len(item.raw))
        known = self._sessions.get(batch.session_id)
        # A known session may hold this batch already; a new one holds nothing.
        item.repeat = known is not None and not self._insert_batch(known[0], item)
        if item.repeat:
            return
        previous = known[1] if known is not None else None
        pages_before = set(previous.pages) if previous is not None else set()
        events_before = set(previous.custom_events) if previous is not None else set()
        summary = merge_digest(previous, batch.session_id, digest)
        if known is None:
            cursor = self._db.execute(
                f"INSERT INTO sessions ({SESSION_COLUMNS}, summary, session_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*summary_columns(summary), batch.session_id),
            )
            rowid = cursor.lastrowid
            assert rowid is not None
            self._sessions[batch.session_id] = (rowid, summary)
            self._session_count += 1
            self._insert_batch(rowid, item)
        else:
            rowid = known[0]
            self._dirty[rowid] = summary
        self._page_rows += [(rowid, p.lower()) for p in summary.pages if p not in pages_before]
        self._event_rows += [(rowid, e) for e in summary.custom_events if e not in events_before]

        cap = self._limits.max_events_per_session
        if cap is not None and summary.event_count > cap:
            self._flush()
            if trim_session(self._db, rowid, summary, cap):
                self._dirty[rowid] = summary
        most = self._limits.max_sessions
        if most is not None and self._session_count > most:
            self._flush()
            for session_id in evict_least_recent(self._db, self._session_count - most):
                self._session_count -= 1
                item.evicted.append(session_id)
                gone = self._sessions.pop(session_id, None)
                if gone is not None:
                    self._dirty.pop(gone[0], None)

    def _flush(self) -> None:
        """Write every pending row; the tables are then current."""
        db = self._db
        if self._dirty:
            db.executemany(
                f"UPDATE sessions SET {UPDATE_ASSIGNMENTS}, summary = ? WHERE id = ?",
                [(*summary_columns(s), rowid) for rowid, s in self._dirty.items()],
            )
            self._dirty = {}
        if self._page_rows:
            db.executemany(
                "INSERT OR IGNORE INTO session_pages (session_rowid, url_folded) VALUES (?, ?)",
                self._page_rows,
            )
            self._page_rows = []
        if self._event_rows:
            db.executemany(
                "INSERT OR IGNORE INTO session_custom_events (session_rowid, name) VALUES (?, ?)",
                self._event_rows,
            )
            self._event_rows = []
