"""``<mount>/``: the sessions list, newest first, served from summaries only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from quart import request, url_for

from ..app import get_state, render
from ..store import InvalidCursor, SessionSummary
from .session_filters import FILTER_PARAMS, FilterError, form_values, parse_list_query

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
BAD_CURSOR = (
    "This page link is not valid any more (its cursor was not made by this store). "
    "Start again from the newest sessions."
)


def _list_url(values: dict[str, str], **extra: str) -> str:
    query = {**values, **extra}
    base = url_for("sentiero.sessions")
    return f"{base}?{urlencode(query)}" if query else base


def _erase_url(values: dict[str, str]) -> str:
    return f"{url_for('sentiero.erase_confirm')}?{urlencode(values)}"


def row(s: SessionSummary) -> dict[str, Any]:
    """What a table row needs, computed once (the template stays simple)."""
    badges = []
    if s.error_count:
        badges.append(("error", f"{s.error_count} error" + ("s" if s.error_count > 1 else "")))
    if s.rage_click_count:
        badges.append(("rage", f"{s.rage_click_count} rage"))
    if s.dead_click_count:
        badges.append(("dead", f"{s.dead_click_count} dead"))
    return {
        "summary": s,
        "badges": badges,
        "tabs": len(s.windows),
        "platform": " · ".join(p for p in (s.browser, s.os, s.device) if p),
    }


async def sessions_list() -> Any:
    state = get_state()
    values = form_values(request.args)
    error: str | None = None
    sessions: list[SessionSummary] = []
    next_url: str | None = None
    filtered = bool(values)
    try:
        query = parse_list_query(
            request.args,
            default_limit=PAGE_SIZE,
            cap=MAX_PAGE_SIZE,
            anonymize_ip=state.settings.anonymize_ip,
        )
        page = await state.store.list_sessions(query.filter, query.cursor, query.limit)
        sessions = page.sessions
        if page.next:
            extra = {"limit": str(query.limit)} if "limit" in request.args else {}
            next_url = _list_url(values, cursor=page.next, **extra)
        paged = query.cursor is not None
    except FilterError as exc:
        error, paged = str(exc), False
    except InvalidCursor:
        error, paged = BAD_CURSOR, False
    body = await render(
        "sessions/list.html",
        rows=[row(s) for s in sessions],
        values=values,
        filter_help=FILTER_PARAMS,
        error=error,
        filtered=filtered,
        paged=paged,
        next_url=next_url,
        newest_url=_list_url(values),
        clear_url=url_for("sentiero.sessions"),
        erase_url=_erase_url(values) if filtered and not error else None,
        deleted=request.args.get("deleted") == "1",
    )
    return body, (400 if error else 200)
