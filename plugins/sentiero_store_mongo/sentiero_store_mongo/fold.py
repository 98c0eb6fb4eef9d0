"""Folding a batch digest into its session summary in one atomic update.

The rules are :func:`sentiero_core.store.summary.merge_digest`'s, applied by
the server so that any number of app servers can append to one session at
once without a read-modify-write: counters add, times take the min and max,
bounded lists keep their first distinct entries, and the "first seen"
fields keep the value they got first.

Each fold is guarded by :mod:`.guards`, so that a retried or a repeated
fold counts a batch once.

Three forms give the same result:

- :func:`fold_pipeline`, an update pipeline that handles every case,
  creating the summary too. Every value from a recording is wrapped in
  ``$literal``: a page URL such as ``"$pages"`` must stay text, never
  become a field path.
- :func:`fast_fold`, classic operators (``$inc``, ``$min``, ``$max``,
  ``$push``) behind a filter that only matches a summary whose bounded
  lists and first-seen fields this batch leaves alone, which is most
  batches of a session. Far cheaper for the server to apply, and it can
  travel in a bulk write; when its filter matches nothing, the pipeline
  runs instead.
- :func:`new_summary`, the document the pipeline would create for a session
  without a summary, built here: a new session's first batch becomes a
  plain insert (many of them one ``insert_many``). The ``_id`` settles any
  race: when the summary exists by then (another server, an earlier
  attempt), the insert collides and the other forms fold the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sentiero_core.store import MAX_CUSTOM_EVENTS, MAX_PAGES, MAX_WINDOWS, BatchDigest

from .documents import traits_json
from .guards import INT64, RECENT_BATCHES, Fold, fold_filter, member, seqs_with

Document = dict[str, Any]

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


def fold_pipeline(d: BatchDigest, f: Fold, exp: datetime | None) -> list[Document]:
    """The update pipeline that folds ``d`` into a summary (upserting it),
    behind :func:`fold_filter`."""
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
    first["created_by"] = _current("created_by", _lit(f.batch_id))
    first["recent"] = {
        "$slice": [
            {"$concatArrays": [_current("recent", []), _lit(f.marks)]},
            -RECENT_BATCHES,
        ]
    }
    if f.seq is not None:
        first["seqs"] = seqs_with(d.window_id, f.seq)
    if exp is not None:
        first["exp"] = {"$max": ["$exp", exp]}

    if not d.page_views:
        return [{"$set": first}]
    # A second stage sees the start time the first one settled.
    first_ts, first_url = min(d.page_views)
    entry = {
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
    return [{"$set": first}, {"$set": {"entry_url": entry}}]


def new_summary(session_id: str, d: BatchDigest, f: Fold, exp: datetime | None) -> Document:
    """The summary :func:`fold_pipeline` creates when ``session_id`` has none."""
    urls = _distinct([url for _ts, url in sorted(d.page_views)])[:MAX_PAGES]
    doc: Document = {"_id": session_id, "started_at": d.first_ts, "ended_at": d.last_ts}
    for name in COUNTERS:
        doc[name] = getattr(d, name)
    doc["batch_count"] = 1
    doc["page_count"] = len(d.page_views)
    doc["pages"] = urls
    doc["pages_lc"] = [url.lower() for url in urls]
    doc["windows"] = [d.window_id][:MAX_WINDOWS]
    doc["custom_events"] = _distinct(d.custom_events)[:MAX_CUSTOM_EVENTS]
    doc["user_id"] = d.user_id
    doc["user_traits_json"] = None if d.user_id is None else traits_json(d)
    for name in FIRST_SEEN:
        value = getattr(d, name)
        doc[name] = value
        if name in LOWERED:
            doc[f"{name}_lc"] = value.lower() if value else value
    doc["created_by"] = f.batch_id
    doc["recent"] = f.marks[-RECENT_BATCHES:]
    if f.seq is not None:
        doc["seqs"] = [{"w": d.window_id, "a": f.seq, "b": f.seq}]
    if exp is not None:
        doc["exp"] = exp
    if d.page_views:
        doc["entry_url"] = min(d.page_views)[1]
    return doc


def fast_fold(
    session_id: str, d: BatchDigest, f: Fold, exp: datetime | None
) -> tuple[Document, Document, list[Mapping[str, Any]] | None] | None:
    """``(filter, update, array_filters)``: :func:`~.guards.fold_filter`
    narrowed to the summaries for which the classic update gives the
    pipeline's result. One flat condition per field keeps the ``_id``
    lookup cheap on every server; a full bounded list takes the pipeline's
    way. A numbered batch takes this way when it extends a range of its
    window's seqs upwards by one (the recorder numbers batches in order);
    ``None``: it never can (a seq at the bottom of the int64 range)."""
    guard = fold_filter(session_id, f, d.window_id)
    guard["windows"] = {"$all": [d.window_id]}
    array_filters: list[Mapping[str, Any]] | None = None
    if f.seq is not None:
        if f.seq == INT64[0]:
            return None
        below = {"w": d.window_id, "b": f.seq - 1}
        # fold_filter's condition, and a range to extend
        guard["seqs"] = {"$elemMatch": below, "$not": member(d.window_id, f.seq)}
        array_filters = [{"r.w": d.window_id, "r.b": f.seq - 1}]
    urls = _distinct([url for _ts, url in d.page_views])
    if urls:
        guard["pages"] = {"$all": urls}
        first_ts, _url = min(d.page_views)
        # The entry URL stays when set and its page view is not the earliest.
        guard["entry_url"] = {"$ne": None}
        if not (d.event_count and d.first_ts < first_ts):
            guard["started_at"] = {"$lt": first_ts}
    names = _distinct(d.custom_events)
    if names:
        guard["custom_events"] = {"$all": names}
    for name in FIRST_SEEN:
        if getattr(d, name) is not None:
            guard[name] = {"$ne": None}

    increments = {name: getattr(d, name) for name in COUNTERS}
    increments["page_count"] = len(d.page_views)
    # Every summary has every counter: a zero adds nothing but the server's work.
    increments = {name: by for name, by in increments.items() if by}
    increments["batch_count"] = 1
    update: Document = {
        "$inc": increments,
        "$push": {"recent": {"$each": f.marks, "$slice": -RECENT_BATCHES}},
    }
    lowest: Document = {}
    highest: Document = {}
    if d.event_count:
        lowest["started_at"] = d.first_ts
        highest["ended_at"] = d.last_ts
    if exp is not None:
        highest["exp"] = exp
    if lowest:
        update["$min"] = lowest
    if highest:
        update["$max"] = highest
    changed: Document = {}
    if d.user_id is not None:
        changed.update(user_id=d.user_id, user_traits_json=traits_json(d))
    if f.seq is not None:
        changed["seqs.$[r].b"] = f.seq
    if changed:
        update["$set"] = changed
    return guard, update, array_filters
