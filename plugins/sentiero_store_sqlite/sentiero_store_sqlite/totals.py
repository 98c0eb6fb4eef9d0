"""The aggregate totals of the SQLite store, with their dimensions in
columns (migration 7), so reports filter, sum and group in SQL.

A row's dims are laid out by the convention of :data:`sentiero_core.SEGMENTS`
(collectors start their dims with the nine segment dimensions): positions
9-12, the dims reports group by, in ``k0``-``k3``, positions 0-8 in
``g0``-``g8``, ``""`` where a row has fewer; ``n`` is how many dims the
row has (``("a",)`` and ``("a", "")`` are different rows) and a row with
more than 13 also keeps all of them as JSON in ``rest``. The key::

    (name, day, k0 .. k3, g0 .. g8, rest, n)

puts the dims after the segment first, so within a day the rows of a page
(or message, or element) are together: a report that groups by those dims
reads them in order and sums as it goes (no sorting), one filtered on a
page seeks to it, and a segment filter is a comparison on the rows read,
early in each row. Rows of any other layout are kept and found the same,
only without that help.

A trigger keeps the totals exact without Python knowing: a removed
contribution is subtracted (an upsert of its negated rows, parsed from its
JSON). Totals brought back to zero are deleted after every change, found
through a partial index that holds only them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from sentiero_core import SEGMENTS
from sentiero_core.store import AggregateRow, Tally, date_of_day

Dims = tuple[str, ...]

S = len(SEGMENTS)
K = 4
WIDE = S + K
SEG_COLUMNS = tuple(f"g{i}" for i in range(S))
KEY_COLUMNS = tuple(f"k{i}" for i in range(K))
#: Columns holding dims, in position order.
DIM_COLUMNS = (*SEG_COLUMNS, *KEY_COLUMNS)
PRIMARY_KEY = ("name", "day", *KEY_COLUMNS, *SEG_COLUMNS, "rest", "n")
COLUMNS = (*PRIMARY_KEY, "count", "total")
_PAD = ("",) * WIDE
#: Positions kept in the key columns, in key order.
KEY_POSITIONS = tuple(range(S, WIDE))
#: The dims in ascending order (ties of aggregate_latest).
_DIMS_ORDER = ", ".join((*DIM_COLUMNS, "rest", "n"))

TABLE = f"""CREATE TABLE agg_totals (
    name TEXT NOT NULL,
    day INTEGER NOT NULL,
    {", ".join(f"{c} TEXT NOT NULL" for c in (*KEY_COLUMNS, *SEG_COLUMNS, "rest"))},
    n INTEGER NOT NULL,
    count INTEGER NOT NULL,
    total REAL NOT NULL,
    PRIMARY KEY ({", ".join(PRIMARY_KEY)})
) WITHOUT ROWID"""


def _columns_of_json(dims: str) -> str:
    """SQL for the key columns after ``name, day`` of a row whose dims are
    the JSON text ``dims`` (an SQL expression)."""
    at = [f"coalesce(json_extract({dims}, '$[{i}]'), '')" for i in range(WIDE)]
    rest = f"CASE WHEN json_array_length({dims}) > {WIDE} THEN {dims} ELSE '' END"
    return ", ".join([*at[S:], *at[:S], rest, f"json_array_length({dims})"])


#: Totals back at zero leave the table (they may name a removed session's
#: pages). They are few at any time, and this index holds only them, so
#: finding them after a change reads nothing else.
ZERO = "count = 0 AND abs(total) < 1e-9"
ZERO_INDEX = f"CREATE INDEX agg_totals_zero ON agg_totals (count) WHERE {ZERO}"
# Its equality on the indexed column makes the planner take the index; in
# Python INDEXED BY says so too (a trigger may not).
DELETE_ZEROS = f"DELETE FROM agg_totals INDEXED BY agg_totals_zero WHERE {ZERO}"
ZEROS_IN_TRIGGER = f"DELETE FROM agg_totals WHERE {ZERO}"

#: Rows of a contribution, as JSON: [name, day, dims as JSON text, count, total].
_ITEM = "json_extract(j.value, '$[{}]')"
CONTRIBUTION_REMOVED = f"""CREATE TRIGGER agg_contribution_removed
    AFTER DELETE ON agg_contributions
    BEGIN
        INSERT INTO agg_totals ({", ".join(COLUMNS)})
            SELECT {_ITEM.format(0)}, {_ITEM.format(1)}, {_columns_of_json(_ITEM.format(2))},
                -{_ITEM.format(3)}, -{_ITEM.format(4)}
            FROM json_each(OLD.rows) j WHERE true
            ON CONFLICT ({", ".join(PRIMARY_KEY)}) DO UPDATE SET
                count = count + excluded.count, total = total + excluded.total;
        {ZEROS_IN_TRIGGER};
    END"""


def migrate_v7(db: sqlite3.Connection) -> None:
    """Migration 7: the totals' dims from one JSON text into columns."""
    for sql in [
        "DROP TRIGGER agg_contribution_removed",
        "ALTER TABLE agg_totals RENAME TO agg_totals_v5",
        TABLE,
        f"INSERT INTO agg_totals ({', '.join(COLUMNS)}) "
        f"SELECT name, day, {_columns_of_json('dims')}, count, total FROM agg_totals_v5",
        "DROP TABLE agg_totals_v5",
        ZERO_INDEX,
        CONTRIBUTION_REMOVED,
    ]:
        db.execute(sql)


def dims_text(dims: Sequence[str]) -> str:
    return orjson.dumps(list(dims)).decode()


def values(name: str, day: int, dims: Dims, count: int, total: float) -> tuple[Any, ...]:
    """A row's column values, in :data:`COLUMNS` order."""
    n = len(dims)
    padded = dims + _PAD[: WIDE - n] if n < WIDE else dims[:WIDE]
    rest = dims_text(dims) if n > WIDE else ""
    return (name, day, *padded[S:], *padded[:S], rest, n, count, total)


_INSERT = f"INSERT INTO agg_totals ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def add(db: sqlite3.Connection, delta: Iterable[AggregateRow]) -> None:
    """Add rows (merged by key) to the totals; totals back at zero leave."""
    db.executemany(
        f"{_INSERT} ON CONFLICT ({', '.join(PRIMARY_KEY)}) DO UPDATE SET "
        "count = count + excluded.count, total = total + excluded.total",
        [values(r.name, r.day, r.dims, r.count, r.total) for r in delta],
    )
    db.execute(DELETE_ZEROS)


def insert(db: sqlite3.Connection, rows: Iterable[tuple[str, int, Dims, int, float]]) -> int:
    """Write totals known not to exist yet (a bulk load); how many."""
    params = [values(*r) for r in rows]
    db.executemany(_INSERT, params)
    return len(params)


def column(pos: int) -> str:
    """The SQL expression of the dimension at ``pos`` (``""`` when absent)."""
    if pos < S:
        return SEG_COLUMNS[pos]
    if pos < WIDE:
        return KEY_COLUMNS[pos - S]
    return f"(CASE WHEN n > {pos} THEN json_extract(rest, '$[{pos}]') ELSE '' END)"


def _leads_key(positions: tuple[int, ...]) -> bool:
    """Whether ``positions`` are the key's first dims (after the day), in order."""
    return positions == KEY_POSITIONS[: len(positions)]


_SELECT_ROW = f"day, {', '.join(DIM_COLUMNS)}, rest, n, count, total"


def _row(name: str, r: Sequence[Any]) -> AggregateRow:
    day, n, rest = r[0], r[WIDE + 2], r[WIDE + 1]
    dims = tuple(orjson.loads(rest)) if rest else tuple(r[1 : 1 + WIDE])[:n]
    return AggregateRow(name, int(day), dims, int(r[-2]), float(r[-1]))


def _conditions(
    day_from: int, day_to: int, where: dict[int, frozenset[str]]
) -> tuple[list[str], list[Any]]:
    """``name = ?``, the days and ``where`` as SQL, with their parameters
    (the name's first)."""
    sql: list[str] = ["name = ?"]
    params: list[Any] = []
    prefix = 0
    for pos, allowed in sorted(where.items()):
        if len(allowed) == 1:
            sql.append(f"{column(pos)} = ?")
        else:
            sql.append(f"{column(pos)} IN ({', '.join('?' * len(allowed))})")
        params += sorted(allowed)
        if pos == S + prefix and len(allowed) == 1:
            prefix += 1
    if day_from == day_to:
        sql.insert(1, "day = ?")
        params = [day_from, *params]
    elif prefix:
        # SQLite seeks on key columns after an equality on day, not a range
        sql.insert(1, f"day IN ({', '.join(str(d) for d in range(day_from, day_to + 1))})")
    else:
        sql.insert(1, "day BETWEEN ? AND ?")
        params = [day_from, day_to, *params]
    return sql, params


def fetch(
    db: sqlite3.Connection, names: list[str], day_from: int, day_to: int, where: dict[int, str]
) -> list[AggregateRow]:
    sql, params = _conditions(day_from, day_to, {p: frozenset([v]) for p, v in where.items()})
    query = f"SELECT {_SELECT_ROW} FROM agg_totals WHERE {' AND '.join(sql)}"
    out: list[AggregateRow] = []
    for name in names:
        out += [_row(name, r) for r in db.execute(query, (name, *params))]
    return out


def group(
    db: sqlite3.Connection,
    name: str,
    day_from: int,
    day_to: int,
    where: dict[int, frozenset[str]],
    group_by: tuple[int, ...],
    by_day: bool,
) -> dict[Dims, Tally]:
    sql, params = _conditions(day_from, day_to, where)
    condition = " AND ".join(sql)
    columns = [column(p) for p in group_by]
    keys = ["day", *columns] if by_day else columns
    query = f"SELECT {', '.join([*keys, 'sum(count)', 'sum(total)'])} FROM agg_totals"
    query += f" WHERE {condition}"
    if keys and not by_day and _leads_key(group_by) and any(p < S for p in where):
        # Rows of one segment filter's are many per day and group (one per
        # segment combination): summed as read, in key order, day by day,
        # then the days' sums summed (sorting only those). Rows read
        # without one (rollups) are about one per day and group: sorting
        # them whole is cheaper than closing a group per row.
        inner = ", ".join(f"{c} AS d{i}" for i, c in enumerate(columns))
        cols = ", ".join(f"d{i}" for i in range(len(columns)))
        by_days = f"GROUP BY day, {', '.join(columns)}"
        query = (
            f"SELECT {cols}, sum(c), sum(t) FROM (SELECT {inner}, sum(count) AS c, "
            f"sum(total) AS t FROM agg_totals WHERE {condition} {by_days}) GROUP BY {cols}"
        )
    elif keys:
        query += f" GROUP BY {', '.join(keys)}"
    out: dict[Dims, Tally] = {}
    for r in db.execute(query, (name, *params)):
        count, total = r[-2], r[-1]
        if count is None:  # no row at all, summed without a GROUP BY
            continue
        key: Dims = (date_of_day(r[0]), *r[1:-2]) if by_day else tuple(r[:-2])
        out[key] = Tally(int(count), float(total))
    return out


def group_sizes(
    db: sqlite3.Connection,
    name: str,
    day_from: int,
    day_to: int,
    where: dict[int, frozenset[str]],
    group_by: tuple[int, ...],
) -> dict[int, int]:
    sql, params = _conditions(day_from, day_to, where)
    keys = ", ".join(column(p) for p in group_by)
    inner = f"SELECT sum(count) AS c FROM agg_totals WHERE {' AND '.join(sql)}"
    if keys:
        inner += f" GROUP BY {keys}"
    query = f"SELECT c, count(*) FROM ({inner}) WHERE c IS NOT NULL GROUP BY c"
    return {int(c): int(n) for c, n in db.execute(query, (name, *params))}


#: A query seeking one group costs about as much as reading this many rows
#: of a day whole.
SEEK_COST = 75


def latest(
    db: sqlite3.Connection,
    name: str,
    day_from: int,
    day_to: int,
    where: dict[int, frozenset[str]],
    group_by: tuple[int, ...],
    limit: int,
    groups: frozenset[Dims] | None,
) -> dict[Dims, list[AggregateRow]]:
    """Days are read whole from the latest while that is cheaper than a
    query per group still short of rows; then each of those seeks its own
    rows: a group's rows of a day are together in the key, so the query
    reads day after day from the latest and stops at the limit (SQLite
    sorts one day's rows of the group at a time)."""
    found: dict[Dims, list[AggregateRow]] = {}
    seekable = groups is not None and _leads_key(group_by)
    in_columns = all(p < WIDE for p in group_by)
    for day in range(day_to, day_from - 1, -1):
        wanting = None if groups is None else [g for g in groups if len(found.get(g, ())) < limit]
        if wanting is not None and not wanting:
            break
        sql, params = _conditions(day, day, where)
        condition = " AND ".join(sql)
        if seekable and wanting is not None:
            (rows,) = db.execute(
                f"SELECT count(*) FROM agg_totals WHERE {condition}", (name, *params)
            ).fetchone()
            if len(wanting) * SEEK_COST <= rows:
                for group in sorted(wanting):
                    _seek_group(db, name, day_from, day, where, group_by, group, limit, found)
                break
        candidates: dict[Dims, list[tuple[Any, ...]]] = {}
        query = f"SELECT {_SELECT_ROW} FROM agg_totals WHERE {condition}"
        for r in db.execute(query, (name, *params)):
            if in_columns:  # padded with "" as a missing dim counts
                key = tuple(r[1 + p] for p in group_by)
            else:
                dims = _row(name, r).dims
                key = tuple(dims[p] if p < len(dims) else "" for p in group_by)
            if groups is None or key in groups:
                candidates.setdefault(key, []).append(r)
        for key, rs in candidates.items():
            have = found.setdefault(key, [])
            rs.sort(key=_latest_order)
            have += [_row(name, r) for r in rs[: limit - len(have)]]
    return found


def _latest_order(r: tuple[Any, ...]) -> tuple[Any, ...]:
    # highest total first, then dims ascending (padded columns, then length)
    return (-r[-1], r[1 : 1 + WIDE], r[WIDE + 1], r[WIDE + 2])


def _seek_group(
    db: sqlite3.Connection,
    name: str,
    day_from: int,
    day_to: int,
    where: dict[int, frozenset[str]],
    group_by: tuple[int, ...],
    group: Dims,
    limit: int,
    found: dict[Dims, list[AggregateRow]],
) -> None:
    pinned = dict(where)
    for pos, value in zip(group_by, group, strict=True):
        if value not in pinned.get(pos, frozenset([value])):
            return  # where leaves this group out
        pinned[pos] = frozenset([value])
    sql, params = _conditions(day_from, day_to, pinned)
    query = (
        f"SELECT {_SELECT_ROW} FROM agg_totals WHERE {' AND '.join(sql)} "
        f"ORDER BY day DESC, total DESC, {_DIMS_ORDER} LIMIT ?"
    )
    have = found.setdefault(group, [])
    have += [_row(name, r) for r in db.execute(query, (name, *params, limit - len(have)))]
    if not have:
        del found[group]
