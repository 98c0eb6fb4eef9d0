"""``<mount>/analytics/-/snapshot?page=<url>``: a recorded full snapshot of
a page, for the heatmap to rebuild in a sandboxed frame. The newest
session in the range that viewed the page (at the viewport bucket asked
for, if any) and recorded a snapshot of it provides it."""

from __future__ import annotations

from typing import Any

from quart import jsonify, request

from sentiero_core import get_state, parse_filters, viewport_bucket
from sentiero_core.store import DAY_MS, SessionFilter, Store

from .facts import as_object
from .fold import page_of

#: Sessions looked into before giving up.
MAX_SESSIONS = 20
META, FULL_SNAPSHOT = 4, 2


async def find_snapshot(store: Store, page: str, bucket: str | None, f: Any) -> dict[str, Any]:
    listing = await store.list_sessions(
        SessionFilter(
            url_contains=page,
            started_after=f.day_from * DAY_MS,
            started_before=(f.day_to + 1) * DAY_MS,
        ),
        limit=MAX_SESSIONS,
    )
    for summary in listing.sessions:
        for window in summary.windows:
            found = await _in_window(store, summary.session_id, window, page, bucket)
            if found:
                return found
    return {}


async def _in_window(
    store: Store, session_id: str, window: str, page: str, bucket: str | None
) -> dict[str, Any] | None:
    cursor = None
    size: tuple[int, int] | None = None
    while True:
        events = await store.read_events(session_id, cursor=cursor, limit=500, window_id=window)
        for e in events.events:
            data = as_object(e.get("data"))
            if e.get("type") == META:
                href = data.get("href")
                width, height = int(data.get("width") or 0), int(data.get("height") or 0)
                same = isinstance(href, str) and page_of(href) == page
                fits = bucket is None or viewport_bucket(width) == bucket
                size = (width, height) if same and fits else None
            elif e.get("type") == FULL_SNAPSHOT and size is not None and data.get("node"):
                return {"snapshot": data["node"], "width": size[0], "height": size[1]}
        if events.next is None:
            return None
        cursor = events.next


async def snapshot_view() -> Any:
    params = dict(request.args)
    page = params.get("page")
    if not page:
        return jsonify({"error": "page is required"}), 400
    try:
        filters = parse_filters({k: v for k, v in params.items() if k in ("from", "to")})
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    found = await find_snapshot(get_state().store, page, params.get("bucket") or None, filters)
    return jsonify(found)
