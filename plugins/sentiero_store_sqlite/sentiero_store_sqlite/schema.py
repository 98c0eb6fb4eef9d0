"""The database layout and its ordered migrations.

``schema_version`` holds one row per applied migration. :func:`migrate`
applies the missing ones in order, each in its own ``BEGIN IMMEDIATE``
transaction that re-reads the version first, so two processes opening one
file at once cannot apply a step twice. The file header carries our
``application_id``, which is how a database of another program is told apart
from ours before anything is written to it. Everything here is plain
``sqlite3``, run whole on the writer connection's thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import orjson

from sentiero_core.store import StoreError

from .aggregates import create_tables as create_aggregate_tables
from .aggregates import create_unfolded_indexes
from .totals import migrate_v7 as totals_in_columns

#: "STNR" in the SQLite header's application id field.
APPLICATION_ID = 0x53544E52

Migration = Callable[[sqlite3.Connection], None]


def _run(db: sqlite3.Connection, statements: list[str]) -> None:
    # executescript() would COMMIT the migration's transaction half-way,
    # so statements go one at a time.
    for sql in statements:
        db.execute(sql)


def _v1_sessions_and_batches(db: sqlite3.Connection) -> None:
    _run(
        db,
        [
            # The summary JSON is the whole truth for display; the columns
            # beside it are copies kept only so filters and ordering run in
            # SQL. browser/device/os are stored lowercased (str.lower(), which
            # folds all of Unicode, unlike SQLite's lower()) so a filter is a
            # plain instr() with SessionFilter.matches' exact semantics.
            """CREATE TABLE sessions (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL UNIQUE,
                started_at INTEGER NOT NULL,
                ended_at INTEGER NOT NULL,
                duration_ms INTEGER NOT NULL,
                error_count INTEGER NOT NULL,
                user_id TEXT,
                browser TEXT,
                device TEXT,
                os TEXT,
                summary TEXT NOT NULL
            )""",
            # Listing walks this index backwards (newest first, keyset
            # cursor). It also carries every filterable column, so a filter
            # is checked on the index entry alone and only the rows that
            # pass are read: a wide row holds a whole summary, and scanning
            # 100,000 of them for a rare match costs ten times the index.
            """CREATE INDEX sessions_listing ON sessions
                (started_at, session_id, error_count, duration_ms, user_id, browser, device, os)""",
            # Purge and max_sessions eviction take the least recent first.
            "CREATE INDEX sessions_by_end ON sessions (ended_at, session_id)",
            "CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL",
            # AUTOINCREMENT so a seq is never reused: event cursors carry seqs.
            """CREATE TABLE batches (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                session_rowid INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                window_id TEXT NOT NULL,
                min_ts INTEGER NOT NULL,
                max_ts INTEGER NOT NULL,
                event_count INTEGER NOT NULL,
                raw_bytes INTEGER NOT NULL,
                blob BLOB NOT NULL
            )""",
            "CREATE INDEX batches_by_session ON batches (session_rowid, min_ts, seq)",
            # Totals kept by triggers (which also fire for cascaded deletes):
            # stats(), count_sessions() and the max_sessions check stay O(1)
            # at any size instead of scanning every batch.
            """CREATE TABLE totals (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                sessions INTEGER NOT NULL,
                batches INTEGER NOT NULL,
                events INTEGER NOT NULL,
                raw_bytes INTEGER NOT NULL,
                stored_bytes INTEGER NOT NULL
            )""",
            "INSERT INTO totals VALUES (1, 0, 0, 0, 0, 0)",
            """CREATE TRIGGER sessions_counted AFTER INSERT ON sessions BEGIN
                UPDATE totals SET sessions = sessions + 1;
            END""",
            """CREATE TRIGGER sessions_uncounted AFTER DELETE ON sessions BEGIN
                UPDATE totals SET sessions = sessions - 1;
            END""",
            """CREATE TRIGGER batches_counted AFTER INSERT ON batches BEGIN
                UPDATE totals SET batches = batches + 1,
                    events = events + NEW.event_count,
                    raw_bytes = raw_bytes + NEW.raw_bytes,
                    stored_bytes = stored_bytes + length(NEW.blob);
            END""",
            """CREATE TRIGGER batches_uncounted AFTER DELETE ON batches BEGIN
                UPDATE totals SET batches = batches - 1,
                    events = events - OLD.event_count,
                    raw_bytes = raw_bytes - OLD.raw_bytes,
                    stored_bytes = stored_bytes - length(OLD.blob);
            END""",
            """CREATE TRIGGER batches_recounted AFTER UPDATE ON batches BEGIN
                UPDATE totals SET
                    events = events - OLD.event_count + NEW.event_count,
                    raw_bytes = raw_bytes - OLD.raw_bytes + NEW.raw_bytes,
                    stored_bytes = stored_bytes - length(OLD.blob) + length(NEW.blob);
            END""",
        ],
    )


def _v2_search_tables(db: sqlite3.Connection) -> None:
    """Side tables for the page and custom-event filters, filled from the
    summaries already stored.

    Why side tables rather than LIKE over the summary JSON: a custom event
    is matched exactly, and ``(name, session_rowid)`` turns that filter into
    an index lookup, where LIKE would read and scan every summary (and would
    have to second-guess JSON string escaping). A URL is matched as a
    substring, which no B-tree can index, but scanning these narrow,
    pre-lowercased rows with instr() touches a fraction of the bytes that
    the JSON column holds, and instr() has no wildcards to escape, unlike LIKE.
    """
    _run(
        db,
        [
            """CREATE TABLE session_pages (
                session_rowid INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                url_folded TEXT NOT NULL,
                PRIMARY KEY (session_rowid, url_folded)
            ) WITHOUT ROWID""",
            """CREATE TABLE session_custom_events (
                session_rowid INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                PRIMARY KEY (session_rowid, name)
            ) WITHOUT ROWID""",
            "CREATE INDEX custom_events_by_name ON session_custom_events (name, session_rowid)",
            # "Sessions with errors, newest first" is the dashboard's most
            # common filter: a partial index serves it without a scan.
            """CREATE INDEX sessions_with_errors ON sessions (started_at, session_id)
                WHERE error_count > 0""",
        ],
    )
    for rowid, text in db.execute("SELECT id, summary FROM sessions"):
        summary = orjson.loads(text)
        insert_search_rows(
            db, rowid, summary.get("pages") or [], summary.get("custom_events") or []
        )


def insert_search_rows(
    db: sqlite3.Connection, rowid: int, pages: list[str], custom_events: list[str]
) -> None:
    """Index a session's new pages and custom event names for filtering."""
    if pages:
        db.executemany(
            "INSERT OR IGNORE INTO session_pages (session_rowid, url_folded) VALUES (?, ?)",
            [(rowid, url.lower()) for url in pages],
        )
    if custom_events:
        db.executemany(
            "INSERT OR IGNORE INTO session_custom_events (session_rowid, name) VALUES (?, ?)",
            [(rowid, name) for name in custom_events],
        )


def _v3_recorder_seq(db: sqlite3.Connection) -> None:
    """The recorder's batch number, so a batch delivered twice is stored
    once. Unique per (session, window) where the recorder gave one; batches
    stored before, and batches without a number, hold NULL and never clash.
    Deleting a session (cascade) forgets its numbers with its batches."""
    _run(
        db,
        [
            "ALTER TABLE batches ADD COLUMN recorder_seq INTEGER",
            """CREATE UNIQUE INDEX batches_delivered
                ON batches (session_rowid, window_id, recorder_seq)
                WHERE recorder_seq IS NOT NULL""",
        ],
    )


def _v4_records(db: sqlite3.Connection) -> None:
    """Plugins' records (the records capability): one JSON document per
    (collection, key), queried with SQLite's JSON functions."""
    _run(
        db,
        [
            """CREATE TABLE records (
                collection TEXT NOT NULL,
                key TEXT NOT NULL,
                doc TEXT NOT NULL,
                PRIMARY KEY (collection, key)
            ) WITHOUT ROWID""",
        ],
    )


#: Ordered; a released entry is never edited, only followed by a new one.
MIGRATIONS: list[tuple[int, Migration]] = [
    (1, _v1_sessions_and_batches),
    (2, _v2_search_tables),
    (3, _v3_recorder_seq),
    (4, _v4_records),
    (5, create_aggregate_tables),
    (6, create_unfolded_indexes),
    (7, totals_in_columns),
]
LATEST = MIGRATIONS[-1][0]


def _tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def current_version(db: sqlite3.Connection) -> int:
    if "schema_version" not in _tables(db):
        return 0
    rows = db.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
    return int(rows[0][0])


def check_ownership(db: sqlite3.Connection, where: str) -> None:
    """Refuse a database that belongs to another program, before writing."""
    rows = db.execute("PRAGMA application_id").fetchall()
    app_id = int(rows[0][0])
    if app_id == APPLICATION_ID:
        return
    tables = _tables(db)
    if app_id == 0 and not tables:
        return
    owner = f"application id {app_id:#x}" if app_id else "no application id"
    listed = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "")
    raise StoreError(
        f"{where} is a SQLite database of another program ({owner}; tables: {listed or 'none'}); "
        f"refusing to add Sentiero's tables to it: point store_url at a new file"
    )


def migrate(db: sqlite3.Connection, where: str, upto: int = LATEST) -> int:
    """Apply the missing migrations up to ``upto``; the resulting version."""
    version = current_version(db)
    if version > LATEST:
        raise StoreError(
            f"{where} has schema version {version}, newer than this sentiero-store-sqlite "
            f"understands ({LATEST}): upgrade the package"
        )
    for number, step in MIGRATIONS:
        if number <= version or number > upto:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if number <= current_version(db):
                db.execute("ROLLBACK")
                continue
            if number == 1:
                db.execute(
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                    "applied_at INTEGER NOT NULL)"
                )
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            step(db)
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (number, int(time.time() * 1000)),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    return current_version(db)
