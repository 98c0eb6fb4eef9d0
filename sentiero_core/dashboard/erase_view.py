"""``<mount>/erase``: erase every session matching the list's filters.

The list's current filters lead to a confirmation page that shows how many
sessions match; its form posts the same filters back with a CSRF token
bound to this action, and the sessions are erased (reported to the
``sessions_removed`` hook and audited as ``sessions_erased``, by the
dashboard user).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from quart import request, url_for

from ..app import get_state, render
from ..lifecycle import describe, erase
from ..store import SessionFilter
from .session_filters import FILTER_PARAMS, FilterError, form_values, parse_filter

NO_FILTER = (
    "Choose at least one filter on the sessions list first: erasing never means "
    "erasing everything (retention_period and sentiero purge remove old sessions)."
)


def _parse(values: Mapping[str, str]) -> SessionFilter:
    f = parse_filter(values, anonymize_ip=get_state().settings.anonymize_ip)
    if f.is_empty():
        raise FilterError(NO_FILTER)
    return f


def _list_url(values: Mapping[str, str]) -> str:
    base = url_for("sentiero.sessions")
    return f"{base}?{urlencode(dict(values))}" if values else base


async def _page(status: int = 200, **context: Any) -> Any:
    body = await render("sessions/erase.html", filter_help=FILTER_PARAMS, **context)
    return body, status


async def erase_confirm() -> Any:
    """GET: how many sessions the filters select, and the form to erase them."""
    values = form_values(request.args)
    try:
        f = _parse(values)
    except FilterError as exc:
        return await _page(400, error=str(exc), values=values, list_url=_list_url(values))
    count = await get_state().store.count_sessions(f)
    return await _page(
        values=values,
        criteria=describe(f),
        count=count,
        list_url=_list_url(values),
        action=url_for("sentiero.erase"),
    )


async def erase_sessions() -> Any:
    """POST (CSRF checked before this runs): erase, then say how many went."""
    state = get_state()
    values = form_values(await request.form)
    try:
        f = _parse(values)
    except FilterError as exc:
        return await _page(400, error=str(exc), values=values, list_url=_list_url(values))
    erased = await erase(state.store, state.settings, f, via="dashboard")
    return await _page(
        values=values,
        criteria=describe(f),
        erased=erased,
        list_url=url_for("sentiero.sessions"),
    )
