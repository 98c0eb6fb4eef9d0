"""``<mount>/sessions/<id>``: the replay page, its JSON export and deletion."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from quart import Response, redirect, request, url_for

from ..app import get_state, render
from ..audit import SESSION_EXPORTED, SESSIONS_DELETED, audit
from ..plugins import call_each
from ..store import SessionSummary
from ..store.digest import (
    ACTIVE_GAP_CAP_MS,
    DEAD_CLICK_WAIT_MS,
    RAGE_CLICKS,
    RAGE_RADIUS_PX,
    RAGE_WINDOW_MS,
)
from .errors import error_page
from .replay_policy import replay_headers

EXPORT_PAGE = 2_000
# The same thresholds as the ingest digest, so the page's annotations agree
# with the list's badges.
THRESHOLDS = {
    "rageClicks": RAGE_CLICKS,
    "rageWindowMs": RAGE_WINDOW_MS,
    "rageRadiusPx": RAGE_RADIUS_PX,
    "deadClickWaitMs": DEAD_CLICK_WAIT_MS,
    "activeGapCapMs": ACTIVE_GAP_CAP_MS,
}

log = logging.getLogger("sentiero")


async def session_markers(summary: SessionSummary, window: str | None) -> list[dict[str, Any]]:
    """The moments plugins add to the replay page (``session_markers``), in
    time order, each with its offset in the replay (``t``, seconds, the
    ``?t=`` of a link) and its place along the session (``left``, percent)."""
    state = get_state()
    found: list[dict[str, Any]] = []
    for result in call_each(
        state.pm.hook.session_markers,
        summary=summary,
        window=window,
        store=state.store,
        settings=state.settings,
    ):
        try:
            markers = await result.resolve() or []
            for marker in markers:
                at = marker["at"]
                if isinstance(at, bool) or not isinstance(at, int | float):
                    raise ValueError(f"marker 'at' must be a number, got {at!r}")
                found.append(
                    {
                        "at": int(at),
                        "label": str(marker.get("label", ""))[:200],
                        "kind": re.sub(r"[^a-z0-9-]", "", str(marker.get("kind", "marker")))[:40],
                        "url": marker.get("url") if isinstance(marker.get("url"), str) else None,
                    }
                )
        except Exception:
            log.exception("the session_markers hook of plugin %r failed", result.plugin_name)
    span = max(summary.ended_at - summary.started_at, 1)
    for marker in found:
        offset = max(marker["at"] - summary.started_at, 0)
        marker["t"] = round(offset / 1000, 3)
        marker["left"] = round(min(offset / span, 1.0) * 100, 2)
    found.sort(key=lambda m: m["at"])
    return found


def _start_offset(raw: str | None) -> float | None:
    """``?t=SECONDS``; a malformed value is ignored, the replay starts at 0."""
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def not_found(session_id: str) -> Any:
    return error_page(
        404,
        f"There is no session with the id {session_id[:100]!r}. "
        "It may have been deleted or purged.",
    )


def player_config(summary: SessionSummary, window: str | None) -> dict[str, Any]:
    """Everything the page's script needs, embedded as JSON (never as code)."""
    sid = summary.session_id
    settings = get_state().settings
    return {
        "sessionId": sid,
        "windowId": window,
        "eventsUrl": url_for("sentiero.api_session_events", session_id=sid),
        "pageSize": settings.max_events_per_page,
        "eventCount": summary.event_count if len(summary.windows) <= 1 else None,
        "startAt": _start_offset(request.args.get("t")),
        "startedAt": summary.started_at,
        "thresholds": dict(THRESHOLDS),
    }


async def session_page(session_id: str) -> Any:
    summary = await get_state().store.get_session(session_id)
    if summary is None:
        return await not_found(session_id)
    window = request.args.get("window") or (summary.windows[0] if summary.windows else None)
    if summary.windows and window not in summary.windows:
        return await error_page(404, f"This session has no window (tab) with the id {window!r}.")
    tabs = [
        {
            "id": wid,
            "label": f"Tab {i}",
            "url": url_for("sentiero.session", session_id=session_id, window=wid),
            "current": wid == window,
        }
        for i, wid in enumerate(summary.windows, start=1)
    ]
    page = await render(
        "sessions/session.html",
        summary=summary,
        window=window,
        tabs=tabs,
        config=player_config(summary, window),
        markers=await session_markers(summary, window),
        export_url=url_for("sentiero.session_export", session_id=session_id),
        share_url=url_for(
            "sentiero.session_share",
            session_id=session_id,
            window=window if len(summary.windows) > 1 else None,
        ),
        delete_url=url_for("sentiero.session_delete", session_id=session_id),
        list_url=url_for("sentiero.sessions"),
    )
    return page, 200, replay_headers(get_state().settings, summary)


async def export_session(session_id: str) -> Any:
    """All events of every window with the summary, streamed page by page so
    a long session never sits whole in memory."""
    store = get_state().store
    summary = await store.get_session(session_id)
    if summary is None:
        return await not_found(session_id)

    async def body() -> AsyncIterator[bytes]:
        yield b'{"session":' + orjson.dumps(summary.to_dict()) + b',"events":['
        cursor: str | None = None
        first = True
        while True:
            page = await store.read_events(session_id, cursor, limit=EXPORT_PAGE)
            if page.events:
                chunk = b",".join(orjson.dumps(e) for e in page.events)
                yield chunk if first else b"," + chunk
                first = False
            if page.next is None:
                break
            cursor = page.next
        yield b"]}"

    await audit(get_state().settings, SESSION_EXPORTED, session_id=session_id, via="dashboard")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", session_id)[:64]
    response = Response(body(), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="session-{safe_id}.json"'
    return response


async def delete_session(session_id: str) -> Any:
    """POST with the CSRF token (checked before this runs), then back to the list."""
    state = get_state()
    removed = await state.store.delete_sessions([session_id])
    if removed:
        await audit(state.settings, SESSIONS_DELETED, session_ids=[session_id], via="dashboard")
    if not removed:
        return await not_found(session_id)
    return redirect(url_for("sentiero.sessions", deleted="1"), 303)
