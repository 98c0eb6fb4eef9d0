"""The sessions JSON API: list, one summary, its events, delete.

Responses are serialized with orjson: event pages are the heaviest thing the
dashboard downloads, and orjson writes them several times faster than the
standard library.
"""

from __future__ import annotations

from typing import Any

import orjson
from quart import Response, request

from ..app import get_state
from ..audit import SESSIONS_DELETED, audit
from ..dashboard.errors import json_error
from ..dashboard.session_filters import FilterError, parse_limit, parse_list_query
from ..store import InvalidCursor

SESSIONS_PAGE = 50
MAX_SESSIONS_PAGE = 500


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, mimetype="application/json")


def _no_session(session_id: str) -> Response:
    return json_error(404, f"no session with id {session_id[:100]!r}")


async def list_sessions() -> Response:
    """``GET /api/sessions``: the list page's filters, newest first."""
    try:
        query = parse_list_query(
            request.args,
            default_limit=SESSIONS_PAGE,
            cap=MAX_SESSIONS_PAGE,
            strict=True,
            anonymize_ip=get_state().settings.anonymize_ip,
        )
        page = await get_state().store.list_sessions(query.filter, query.cursor, query.limit)
    except (FilterError, InvalidCursor) as exc:
        return json_error(400, str(exc))
    return _json({"sessions": [s.to_dict() for s in page.sessions], "next": page.next})


async def get_session(session_id: str) -> Response:
    """``GET /api/sessions/<id>``: the summary, whose ``windows`` lists the tabs."""
    summary = await get_state().store.get_session(session_id)
    if summary is None:
        return _no_session(session_id)
    return _json(summary.to_dict())


async def session_events(session_id: str) -> Response:
    """``GET /api/sessions/<id>/events?cursor=&window=&limit=``: one page of
    events in timestamp order; ``next`` is the cursor of the following page."""
    state = get_state()
    cap = state.settings.max_events_per_page
    try:
        limit = parse_limit(request.args.get("limit"), default=cap, cap=cap)
    except FilterError as exc:
        return json_error(400, str(exc))
    if await state.store.get_session(session_id) is None:
        return _no_session(session_id)
    cursor = request.args.get("cursor") or None
    window = request.args.get("window") or None
    try:
        page = await state.store.read_events(session_id, cursor, limit=limit, window_id=window)
    except InvalidCursor as exc:
        return json_error(400, str(exc))
    return _json({"events": page.events, "next": page.next})


async def delete_session(session_id: str) -> Response:
    """``DELETE /api/sessions/<id>``: 204, or 404 when there was nothing to delete."""
    state = get_state()
    removed = await state.store.delete_sessions([session_id])
    if removed:
        await audit(state.settings, SESSIONS_DELETED, session_ids=[session_id], via="api")
    if not removed:
        return _no_session(session_id)
    return Response(b"", status=204)
