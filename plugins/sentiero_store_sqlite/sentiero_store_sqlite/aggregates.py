"""The aggregates capability of the SQLite store.

Three tables (migration 5): ``agg_totals`` holds one row per (name, day,
dims) (laid out in columns since migration 7, see :mod:`.totals`);
``agg_contributions`` holds each session's contributions as JSON rows;
``agg_facts`` holds each session's facts. Migration 6 indexes the versions
of the last two (sessions whose facts are newer than their fold). Both
per-session tables hang off ``sessions`` with ``ON DELETE CASCADE``, and a
trigger subtracts a deleted contribution from the totals, so every way a
session leaves (delete, erase, purge, eviction) takes its numbers along
without the removal code knowing about aggregates.

Writes run whole on the writer's thread inside one ``BEGIN IMMEDIATE``
transaction, and concurrent ones share a transaction like appends do
(see :mod:`.writes`): a collector's write is one hop.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from sentiero_core.store import AggregateRow, SessionFacts

from . import totals

#: Rows of one contribution, as JSON: [name, day, dims as JSON text, count, total].
_ROW = "json_extract(j.value, '$[{}]')"


# Cascaded deletes fire triggers too: a removed session's numbers leave the
# totals, and totals back at zero leave the table (they may name the
# session's pages). Migration 5's; migration 7 replaced it (.totals).
TRIGGER = f"""CREATE TRIGGER agg_contribution_removed AFTER DELETE ON agg_contributions
        BEGIN
            UPDATE agg_totals SET
                count = count - (
                    SELECT coalesce(sum({_ROW.format(3)}), 0) FROM json_each(OLD.rows) j
                    WHERE {_ROW.format(0)} = agg_totals.name AND {_ROW.format(1)} = agg_totals.day
                    AND {_ROW.format(2)} = agg_totals.dims),
                total = total - (
                    SELECT coalesce(sum({_ROW.format(4)}), 0) FROM json_each(OLD.rows) j
                    WHERE {_ROW.format(0)} = agg_totals.name AND {_ROW.format(1)} = agg_totals.day
                    AND {_ROW.format(2)} = agg_totals.dims)
            WHERE (name, day, dims) IN (
                SELECT {_ROW.format(0)}, {_ROW.format(1)}, {_ROW.format(2)}
                FROM json_each(OLD.rows) j);
            DELETE FROM agg_totals WHERE count = 0 AND abs(total) < 1e-9 AND (name, day, dims) IN (
                SELECT {_ROW.format(0)}, {_ROW.format(1)}, {_ROW.format(2)}
                FROM json_each(OLD.rows) j);
        END"""


def create_tables(db: sqlite3.Connection) -> None:
    """Migration 5 (as released: migration 7 changes the totals)."""
    for sql in [
        """CREATE TABLE agg_totals (
            name TEXT NOT NULL,
            day INTEGER NOT NULL,
            dims TEXT NOT NULL,
            count INTEGER NOT NULL,
            total REAL NOT NULL,
            PRIMARY KEY (name, day, dims)
        ) WITHOUT ROWID""",
        """CREATE TABLE agg_contributions (
            session_rowid INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            rows TEXT NOT NULL,
            PRIMARY KEY (session_rowid, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE agg_facts (
            session_rowid INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            facts TEXT NOT NULL
        )""",
        TRIGGER,
    ]:
        db.execute(sql)


def create_unfolded_indexes(db: sqlite3.Connection) -> None:
    """Migration 6: the versions of facts and contributions, each in an
    index of its own, so listing the sessions whose facts are newer than
    their fold reads two narrow indexes instead of every facts and
    contribution row (a few KB each)."""
    db.execute("CREATE INDEX agg_facts_versions ON agg_facts (version)")
    db.execute(
        "CREATE INDEX agg_contribution_versions ON agg_contributions (key, session_rowid, version)"
    )


_dims_text = totals.dims_text


#: A total's key as the tables keep it: (name, day, dims as JSON text).
TextKey = tuple[str, int, str]


def _session_rowid(db: sqlite3.Connection, session_id: str) -> int | None:
    row = db.execute("SELECT id FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
    return None if row is None else int(row[0])


def merge_facts(
    db: sqlite3.Connection, session_id: str, facts: dict[str, Any]
) -> SessionFacts | None:
    rowid = _session_rowid(db, session_id)
    if rowid is None:
        return None
    row = db.execute(
        "SELECT version, facts FROM agg_facts WHERE session_rowid = ?", (rowid,)
    ).fetchone()
    merged: dict[str, Any] = orjson.loads(row[1]) if row else {}
    merged.update(facts)
    version = (int(row[0]) if row else 0) + 1
    db.execute(
        "INSERT OR REPLACE INTO agg_facts (session_rowid, version, facts) VALUES (?, ?, ?)",
        (rowid, version, orjson.dumps(merged).decode()),
    )
    return SessionFacts(merged, version)


#: Fact keys json_set can address as ``$."key"`` (no quote, backslash or control character).
_PLAIN_KEY = re.compile(r'^[^"\\\x00-\x1f]+$')


def add_facts(db: sqlite3.Connection, session_id: str, facts: dict[str, Any]) -> bool:
    """``merge_facts`` without reading the facts back: SQLite's ``json_set``
    replaces each fact in place, so the session's other facts are never
    turned into Python objects."""
    if not facts or not all(_PLAIN_KEY.match(k) for k in facts):
        return merge_facts(db, session_id, facts) is not None
    rowid = _session_rowid(db, session_id)
    if rowid is None:
        return False
    args: list[Any] = []
    for key, value in facts.items():
        args += [f'$."{key}"', orjson.dumps(value).decode()]
    setters = ", ".join("?, json(?)" for _ in facts)
    updated = db.execute(
        f"UPDATE agg_facts SET facts = json_set(facts, {setters}), version = version + 1 "
        "WHERE session_rowid = ?",
        (*args, rowid),
    ).rowcount
    if not updated:
        db.execute(
            "INSERT INTO agg_facts (session_rowid, version, facts) VALUES (?, 1, ?)",
            (rowid, orjson.dumps(facts).decode()),
        )
    return True


def session_facts(db: sqlite3.Connection, session_id: str) -> SessionFacts | None:
    row = db.execute(
        "SELECT f.version, f.facts FROM sessions s "
        "LEFT JOIN agg_facts f ON f.session_rowid = s.id WHERE s.session_id = ?",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    if row[0] is None:
        return SessionFacts({}, 0)
    return SessionFacts(orjson.loads(row[1]), int(row[0]))


def unfolded(db: sqlite3.Connection, key: str, after: str | None, limit: int) -> list[str]:
    # The inner query reads only the two version indexes (their entries are
    # a few bytes, where a facts or contribution row is kilobytes); the
    # sessions it finds are few, so sorting them costs nothing.
    rows = db.execute(
        "SELECT session_id FROM sessions WHERE id IN ("
        " SELECT f.session_rowid FROM agg_facts f INDEXED BY agg_facts_versions"
        " LEFT JOIN agg_contributions c INDEXED BY agg_contribution_versions"
        " ON c.key = ? AND c.session_rowid = f.session_rowid"
        " WHERE c.version IS NULL OR c.version < f.version)"
        " AND (? IS NULL OR session_id > ?) ORDER BY session_id LIMIT ?",
        (key, after, after, limit),
    ).fetchall()
    return [r[0] for r in rows]


def add_to_totals(db: sqlite3.Connection, delta: Sequence[AggregateRow]) -> None:
    if delta:
        totals.add(db, delta)


def set_contribution(
    db: sqlite3.Connection, session_id: str, key: str, version: int, rows: list[AggregateRow]
) -> bool:
    rowid = _session_rowid(db, session_id)
    if rowid is None:
        return False
    row = db.execute(
        "SELECT version, rows FROM agg_contributions WHERE session_rowid = ? AND key = ?",
        (rowid, key),
    ).fetchone()
    if row is not None and int(row[0]) >= version:
        return False
    new = [(r.name, r.day, _dims_text(r.dims), r.count, r.total) for r in rows]
    # The difference is taken on the rows as stored (dims as JSON text):
    # only an old row the new ones do not repeat has its dims parsed again.
    delta: dict[TextKey, list[Any]] = {}
    if row is not None:
        for n, d, k, c, t in orjson.loads(row[1]):
            delta[(n, int(d), k)] = [-c, -t, None]
    for r, (n, d, k, c, t) in zip(rows, new, strict=True):
        slot = delta.get((n, d, k))
        if slot is None:
            delta[(n, d, k)] = [c, t, r.dims]
        else:
            slot[0] += c
            slot[1] += t
            slot[2] = r.dims
    add_to_totals(
        db,
        [
            AggregateRow(n, d, dims if dims is not None else tuple(orjson.loads(k)), int(c), t)
            for (n, d, k), (c, t, dims) in delta.items()
            if c or t
        ],
    )
    text = orjson.dumps(new).decode()
    # An UPDATE, not a REPLACE: a REPLACE deletes first, and the delete
    # trigger would subtract the old rows a second time.
    if row is None:
        db.execute(
            "INSERT INTO agg_contributions (session_rowid, key, version, rows) VALUES (?, ?, ?, ?)",
            (rowid, key, version, text),
        )
    else:
        db.execute(
            "UPDATE agg_contributions SET version = ?, rows = ? "
            "WHERE session_rowid = ? AND key = ?",
            (version, text, rowid, key),
        )
    return True


def fetch(
    db: sqlite3.Connection,
    names: list[str],
    day_from: int,
    day_to: int,
    where: dict[int, str] | None = None,
) -> list[AggregateRow]:
    return totals.fetch(db, names, day_from, day_to, where or {})


def clear(db: sqlite3.Connection) -> None:
    # Facts and contributions first, without the trigger's per-row work:
    # the totals go whole right after.
    db.execute("DROP TRIGGER agg_contribution_removed")
    try:
        db.execute("DELETE FROM agg_contributions")
        db.execute("DELETE FROM agg_facts")
        db.execute("DELETE FROM agg_totals")
    finally:
        db.execute(totals.CONTRIBUTION_REMOVED)


@dataclass
class AggregateWrite:
    """One aggregate write waiting for its group's transaction."""

    work: Callable[[sqlite3.Connection], Any]
    result: Any = field(default=None)


def run_group(db: sqlite3.Connection, group: list[AggregateWrite]) -> None:
    for item in group:
        item.result = item.work(db)
