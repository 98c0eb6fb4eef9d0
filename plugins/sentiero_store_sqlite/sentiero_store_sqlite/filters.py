"""SessionFilter as SQL, with the exact semantics of ``SessionFilter.matches``.

Every text comparison that the reference makes case-insensitive compares
against columns stored through Python's ``str.lower()`` with ``instr()``:
SQLite's own ``lower()`` and ``LIKE`` fold ASCII only, and ``LIKE`` would
need its wildcards escaped.
"""

from __future__ import annotations

from typing import Any

import orjson

from sentiero_core.store import SessionFilter

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def clamp_int64(value: int) -> int:
    # Every stored time fits in 64 bits, so clamping an absurd bound keeps
    # its meaning instead of overflowing the driver.
    return max(INT64_MIN, min(INT64_MAX, int(value)))


def where_clause(f: SessionFilter | None) -> tuple[str, list[Any]]:
    """(SQL condition over ``sessions AS s``, parameters); ``"1"`` when empty."""
    if f is None:
        return "1", []
    clauses: list[str] = []
    params: list[Any] = []
    if f.session_ids is not None:
        clauses.append("s.session_id IN (SELECT value FROM json_each(?))")
        params.append(orjson.dumps([v for v in f.session_ids if isinstance(v, str)]).decode())
    if f.started_after is not None:
        clauses.append("s.started_at >= ?")
        params.append(clamp_int64(f.started_after))
    if f.started_before is not None:
        clauses.append("s.started_at < ?")
        params.append(clamp_int64(f.started_before))
    if f.ended_before is not None:
        clauses.append("s.ended_at < ?")
        params.append(clamp_int64(f.ended_before))
    if f.ip is not None:
        # No column of its own: erasure by address is rare, and a scan of
        # the summaries costs less than an index every append maintains.
        clauses.append("json_extract(s.summary, '$.ip') = ?")
        params.append(f.ip)
    if f.url_contains is not None:
        # The unary + keeps the planner walking the listing index in order
        # and testing membership in the matching set, built by one pass over
        # the narrow pages table: a bounded cost, where a per-session EXISTS
        # probe costs 100,000 lookups when nothing matches.
        clauses.append(
            "+s.id IN (SELECT p.session_rowid FROM session_pages p "
            "WHERE instr(p.url_folded, ?) > 0)"
        )
        params.append(f.url_contains.lower())
    if f.has_errors is not None:
        clauses.append("s.error_count > 0" if f.has_errors else "s.error_count <= 0")
    if f.min_duration_ms is not None:
        clauses.append("s.duration_ms >= ?")
        params.append(clamp_int64(f.min_duration_ms))
    if f.user_id is not None:
        clauses.append("s.user_id = ?")
        params.append(f.user_id)
    if f.custom_event is not None:
        # The set comes from the (name, session) index; the + again keeps
        # the listing order from the index instead of sorting every match.
        clauses.append(
            "+s.id IN (SELECT c.session_rowid FROM session_custom_events c WHERE c.name = ?)"
        )
        params.append(f.custom_event)
    for column in ("browser", "device", "os"):
        wanted = getattr(f, column)
        if wanted is not None:
            clauses.append(f"instr(coalesce(s.{column}, ''), ?) > 0")
            params.append(wanted.lower())
    return (" AND ".join(clauses) or "1"), params
