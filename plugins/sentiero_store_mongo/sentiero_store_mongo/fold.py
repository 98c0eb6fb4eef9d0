"""Folding a batch digest into its session summary in one atomic update.

The rules are :func:`sentiero_core.store.summary.merge_digest`'s, written as
an update pipeline so that any number of app servers can append to one
session at once without a read-modify-write: counters add, times take the
min and max, bounded lists keep their first distinct entries, and the
"first seen" fields keep the value they got first. Every value from a
recording is wrapped in ``$literal``: a page URL such as ``"$pages"`` must
stay text, never become a field path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from sentiero_core.store import BatchDigest
from sentiero_core.store.summary import MAX_CUSTOM_EVENTS, MAX_PAGES, MAX_WINDOWS

from .documents import traits_json

Document = dict[str, Any]

#: How many recent batch ids a summary remembers to recognise a retried fold.
RECENT_BATCHES = 16

COUNTERS = (
    "event_count",
    "error_count",
    "click_count",
    "rage_click_count",
    "dead_click_count",
    "active_ms",
    "form_submit_count",
    "raw_bytes",
    "dropped_events",
)
FIRST_SEEN = ("browser", "os", "device", "viewport", "referrer", "ip", "user_agent")
LOWERED = ("browser", "os", "device")


def _lit(value: Any) -> Document:
    return {"$literal": value}


def _current(field: str, default: Any) -> Document:
    return {"$ifNull": [f"${field}", default]}


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _extend(
    field: str, values: list[Any], bound: int, pick: int | None = None, key_field: str | None = None
) -> Document:
    """``field`` extended with those ``values`` it lacks, keeping at most
    ``bound`` entries. With ``pick``, values are tuples whose first item is
    checked against ``key_field`` and whose ``pick``-th item is stored."""
    existing = _current(field, [])
    if not values:
        return existing
    key_list = _current(key_field or field, [])
    item = "$$v" if pick is None else {"$arrayElemAt": ["$$v", 0]}
    fresh: Document = {
        "$filter": {"input": _lit(values), "as": "v", "cond": {"$not": [{"$in": [item, key_list]}]}}
    }
    if pick is not None:
        fresh = {"$map": {"input": fresh, "as": "v", "in": {"$arrayElemAt": ["$$v", pick]}}}
    return {"$slice": [{"$concatArrays": [existing, fresh]}, bound]}


def fold_pipeline(d: BatchDigest, batch_id: ObjectId, exp: datetime | None) -> list[Document]:
    """The update pipeline that folds ``d`` into a summary (upserting it)."""
    first: Document = {}
    if d.event_count:
        first["started_at"] = {"$min": ["$started_at", d.first_ts]}
        first["ended_at"] = {"$max": ["$ended_at", d.last_ts]}
    else:
        first["started_at"] = _current("started_at", d.first_ts)
        first["ended_at"] = _current("ended_at", d.last_ts)
    increments = {name: getattr(d, name) for name in COUNTERS}
    increments["batch_count"] = 1
    increments["page_count"] = len(d.page_views)
    for name, by in increments.items():
        first[name] = {"$add": [_current(name, 0), by]}

    urls = _distinct([url for _ts, url in sorted(d.page_views)])
    pairs = [[url, url.lower()] for url in urls]
    first["pages"] = _extend("pages", pairs, MAX_PAGES, pick=0, key_field="pages")
    first["pages_lc"] = _extend("pages_lc", pairs, MAX_PAGES, pick=1, key_field="pages")
    first["windows"] = _extend("windows", [d.window_id], MAX_WINDOWS)
    first["custom_events"] = _extend("custom_events", _distinct(d.custom_events), MAX_CUSTOM_EVENTS)

    if d.user_id is not None:
        first["user_id"] = _lit(d.user_id)
        first["user_traits_json"] = _lit(traits_json(d))
    else:
        first["user_id"] = _current("user_id", None)
        first["user_traits_json"] = _current("user_traits_json", None)
    for name in FIRST_SEEN:
        value = getattr(d, name)
        first[name] = _current(name, _lit(value))
        if name in LOWERED:
            first[f"{name}_lc"] = _current(f"{name}_lc", _lit(value.lower() if value else value))
    first["created_by"] = _current("created_by", batch_id)
    first["recent"] = {
        "$slice": [{"$concatArrays": [_current("recent", []), [batch_id]]}, -RECENT_BATCHES]
    }
    if exp is not None:
        first["exp"] = {"$max": ["$exp", exp]}

    # A second stage sees the times the first one settled.
    second: Document = {
        "duration_ms": {"$max": [0, {"$subtract": ["$ended_at", "$started_at"]}]},
    }
    if d.page_views:
        first_ts, first_url = min(d.page_views)
        second["entry_url"] = {
            "$cond": [
                {
                    "$or": [
                        {"$eq": [_current("entry_url", None), None]},
                        {"$lte": [first_ts, "$started_at"]},
                    ]
                },
                _lit(first_url),
                "$entry_url",
            ]
        }
    else:
        second["entry_url"] = _current("entry_url", None)
    return [{"$set": first}, {"$set": second}]
