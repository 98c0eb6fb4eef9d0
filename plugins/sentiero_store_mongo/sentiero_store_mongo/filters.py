"""SessionFilter and session cursors as MongoDB queries.

Text filters match the lower-cased copies the summary keeps (``pages_lc``,
``browser_lc``...) with an escaped, case-sensitive regular expression of the
lower-cased needle: Python's ``str.lower`` then decides what "case
insensitive" means, exactly as :meth:`SessionFilter.matches` does, instead
of the server's regex engine.
"""

from __future__ import annotations

import re
from typing import Any

from sentiero_core.store import SessionFilter

Document = dict[str, Any]

#: Newest first, ties broken by session id (descending), as the contract says.
LIST_ORDER = [("started_at", -1), ("_id", -1)]


def _contains(needle: str) -> Document:
    # re.escape leaves NUL alone, and a server regex may not hold a raw NUL.
    return {"$regex": re.escape(needle.lower()).replace("\x00", "\\x00")}


def session_query(f: SessionFilter | None) -> Document:
    if f is None:
        return {}
    clauses: list[Document] = []
    if f.session_ids is not None:
        clauses.append({"_id": {"$in": list(f.session_ids)}})
    if f.started_after is not None:
        clauses.append({"started_at": {"$gte": f.started_after}})
    if f.started_before is not None:
        clauses.append({"started_at": {"$lt": f.started_before}})
    if f.ended_before is not None:
        # the start bound (a session starts no later than it ends) lets the
        # query walk ``newest_first``: there is no index on ``ended_at``
        clauses.append({"started_at": {"$lt": f.ended_before}, "ended_at": {"$lt": f.ended_before}})
    if f.ip is not None:
        clauses.append({"ip": f.ip})
    if f.url_contains is not None:
        clauses.append({"pages_lc": _contains(f.url_contains)})
    if f.has_errors is not None:
        clauses.append({"error_count": {"$gt": 0} if f.has_errors else {"$lte": 0}})
    if f.min_duration_ms is not None and f.min_duration_ms > 0:
        # max(0, ended - started) >= m is ended - started >= m for m > 0.
        span = {"$subtract": ["$ended_at", "$started_at"]}
        clauses.append({"$expr": {"$gte": [span, f.min_duration_ms]}})
    if f.user_id is not None:
        clauses.append({"user_id": f.user_id})
    if f.custom_event is not None:
        clauses.append({"custom_events": f.custom_event})
    for name in ("browser", "device", "os"):
        wanted = getattr(f, name)
        # An empty needle is in every string, even a missing one ("").
        if wanted:
            clauses.append({f"{name}_lc": _contains(wanted)})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def after_cursor(query: Document, after: tuple[int, str] | None) -> Document:
    """``query`` restricted to sessions listed after the cursor position."""
    if after is None:
        return query
    started_at, session_id = after
    position = {
        "$or": [
            {"started_at": {"$lt": started_at}},
            {"started_at": started_at, "_id": {"$lt": session_id}},
        ]
    }
    return {"$and": [query, position]} if query else position
