"""The records capability in SQLite: JSON documents in the ``records`` table.

Updates read, change (with the reference semantics of
:func:`sentiero_core.store.apply_update`) and write one row inside a
``BEGIN IMMEDIATE`` transaction, so they are atomic between every
connection to the file, other app servers included. Queries run in SQL on
the JSON text.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from sentiero_core.store import AnyOf, AtLeast, Below, RecordUpdate, apply_update, matches


def _equals(path: str, value: Any) -> tuple[str, list[Any]]:
    """A condition true when the field equals ``value`` or, for a list
    field, holds it: json_each walks a list's items, or the scalar itself."""
    if value is None:
        return f"EXISTS (SELECT 1 FROM json_each(doc, '{path}') WHERE type = 'null')", []
    if isinstance(value, bool):
        kind = "true" if value else "false"
        return f"EXISTS (SELECT 1 FROM json_each(doc, '{path}') WHERE type = '{kind}')", []
    if isinstance(value, int | float):
        return (
            f"EXISTS (SELECT 1 FROM json_each(doc, '{path}') "
            "WHERE type IN ('integer', 'real') AND value = ?)",
            [value],
        )
    return (
        f"EXISTS (SELECT 1 FROM json_each(doc, '{path}') WHERE type = 'text' AND value = ?)",
        [value],
    )


def where_sql(collection: str, where: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses: list[str] = ["collection = ?"]
    params: list[Any] = [collection]
    for name, condition in where.items():
        path = f"$.{name}"
        if isinstance(condition, AnyOf):
            parts = [_equals(path, value) for value in condition.values]
            if not parts:
                clauses.append("0")
                continue
            clauses.append("(" + " OR ".join(sql for sql, _ in parts) + ")")
            for _, values in parts:
                params += values
        elif isinstance(condition, AtLeast | Below):
            op = ">=" if isinstance(condition, AtLeast) else "<"
            clauses.append(
                f"(json_type(doc, '{path}') IN ('integer', 'real') "
                f"AND json_extract(doc, '{path}') {op} ?)"
            )
            params.append(condition.value)
        else:
            sql, values = _equals(path, condition)
            clauses.append(sql)
            params += values
    return " AND ".join(clauses), params


def _load(text: str | bytes) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(text)
    return doc


def _get(db: sqlite3.Connection, collection: str, key: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT doc FROM records WHERE collection = ? AND key = ?", (collection, key)
    ).fetchone()
    return _load(row[0]) if row else None


def _put(db: sqlite3.Connection, collection: str, key: str, doc: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO records (collection, key, doc) VALUES (?, ?, ?) "
        "ON CONFLICT (collection, key) DO UPDATE SET doc = excluded.doc",
        (collection, key, orjson.dumps(doc).decode()),
    )


def upsert(
    db: sqlite3.Connection, collection: str, key: str, update: RecordUpdate
) -> dict[str, Any]:
    after = apply_update(_get(db, collection, key), key, update)
    _put(db, collection, key, after)
    return after


def compare_and_set(
    db: sqlite3.Connection,
    collection: str,
    key: str,
    expected: dict[str, Any],
    changes: dict[str, Any],
) -> bool:
    record = _get(db, collection, key)
    if record is None or not matches(record, expected):
        return False
    record.update(changes)
    _put(db, collection, key, record)
    return True


def get(db: sqlite3.Connection, collection: str, key: str) -> dict[str, Any] | None:
    return _get(db, collection, key)


def find(
    db: sqlite3.Connection,
    collection: str,
    where: dict[str, Any],
    order_by: str | None,
    descending: bool,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    sql, params = where_sql(collection, where)
    direction = "DESC" if descending else "ASC"
    order = f"key {direction}"
    if order_by is not None:
        order = f"json_extract(doc, '$.{order_by}') {direction}, {order}"
    rows = db.execute(
        f"SELECT doc FROM records WHERE {sql} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [_load(r[0]) for r in rows]


def count(db: sqlite3.Connection, collection: str, where: dict[str, Any]) -> int:
    sql, params = where_sql(collection, where)
    return int(db.execute(f"SELECT count(*) FROM records WHERE {sql}", params).fetchone()[0])


def delete(db: sqlite3.Connection, collection: str, where: dict[str, Any]) -> int:
    sql, params = where_sql(collection, where)
    return db.execute(f"DELETE FROM records WHERE {sql}", params).rowcount
