"""Shareable replays (``shareable_replays``): ``<mount>/share/<id>`` hands
out a self-contained HTML file that replays a session offline, and
``<mount>/import`` plays such a file or a JSON export in the browser. Off,
both answer 404. Both are dashboard routes (``auth_callback`` applies) and
both are audited.
"""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup
from quart import Response, request

from ..app import get_state, render
from ..audit import REPLAY_IMPORT_OPENED, SESSION_SHARED, audit
from ..utils import now_ms
from .errors import error_page
from .session_view import EXPORT_PAGE, THRESHOLDS, not_found, player_config
from .share_file import (
    SHARE_FORMAT,
    SHARE_VERSION,
    escape_json,
    player_script,
    share_csp,
    share_filename,
    stylesheet,
)

_META = 4


class TooLarge(Exception):
    """The window's events passed ``share_max_bytes``."""


async def _disabled() -> Any:
    return await error_page(404, "Shareable replays are not enabled on this server.")


async def _window_events(session_id: str, window: str | None, cap: int) -> dict[str, Any]:
    """The window's events as escaped JSON chunks, with what the notice
    says about them; :class:`TooLarge` past ``cap`` bytes."""
    store = get_state().store
    chunks: list[bytes] = []
    size = count = 0
    first = last = None
    pages: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.read_events(session_id, cursor, limit=EXPORT_PAGE, window_id=window)
        for event in page.events:
            chunk = escape_json(orjson.dumps(event))
            size += len(chunk) + 1
            if size > cap:
                raise TooLarge
            chunks.append(chunk)
            count += 1
            ts = event.get("timestamp")
            if isinstance(ts, int | float):
                first = ts if first is None else min(first, ts)
                last = ts if last is None else max(last, ts)
            data = event.get("data")
            if event.get("type") == _META and isinstance(data, dict):
                href = data.get("href")
                if isinstance(href, str) and (not pages or pages[-1] != href):
                    pages.append(href)
        if page.next is None:
            break
        cursor = page.next
    return {
        "json": b"[" + b",".join(chunks) + b"]",
        "bytes": size,
        "count": count,
        "first": first,
        "last": last,
        "pages": pages,
    }


async def share_session(session_id: str) -> Any:
    """The share file of one window (``?window=``, the first by default)."""
    state = get_state()
    settings = state.settings
    if not settings.shareable_replays:
        return await _disabled()
    summary = await state.store.get_session(session_id)
    if summary is None:
        return await not_found(session_id)
    window = request.args.get("window") or (summary.windows[0] if summary.windows else None)
    if summary.windows and window not in summary.windows:
        return await error_page(404, f"This session has no window (tab) with the id {window!r}.")
    cap = settings.share_max_bytes
    try:
        events = await _window_events(session_id, window, cap)
    except TooLarge:
        return await error_page(
            413,
            f"This session is too large to share: its events take more than "
            f"{cap:,} bytes (share_max_bytes). Its JSON export has no such limit.",
        )
    data = b"".join(
        [
            b'{"format":',
            orjson.dumps(SHARE_FORMAT),
            b',"version":',
            orjson.dumps(SHARE_VERSION),
            b',"session":',
            escape_json(orjson.dumps(summary.to_dict())),
            b',"windowId":',
            escape_json(orjson.dumps(window)),
            b',"events":',
            events["json"],
            b"}",
        ]
    )
    script = player_script()
    config = player_config(summary, window)
    del config["eventsUrl"]  # the events are in the file
    config["startAt"] = None
    body = await render(
        "share/replay.html",
        summary=summary,
        window=window,
        window_number=summary.windows.index(window) + 1 if window in summary.windows else 1,
        events=events,
        exported_at=now_ms(),
        config=config,
        csp=share_csp(script),
        styles=Markup(stylesheet()),
        player_js=Markup(script),
        data=Markup(data.decode()),
        offline=True,
    )
    await audit(
        settings,
        SESSION_SHARED,
        session_id=session_id,
        window_id=window,
        events=events["count"],
        bytes=events["bytes"],
        via="dashboard",
    )
    filename = share_filename(session_id, window, len(summary.windows) > 1)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


async def import_page() -> Any:
    """The page that plays a chosen file in the browser: the file is read
    by the page's script and never sent, so the page view is what is audited."""
    state = get_state()
    if not state.settings.shareable_replays:
        return await _disabled()
    await audit(state.settings, REPLAY_IMPORT_OPENED, via="dashboard")
    config = {"thresholds": dict(THRESHOLDS)}
    return await render("share/import.html", config=config, offline=True)
