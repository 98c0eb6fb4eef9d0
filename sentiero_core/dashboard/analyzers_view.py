"""``<mount>/analyzers``: every analyzer plugins registered, by title."""

from __future__ import annotations

from ..app import get_state, render


async def analyzers_page() -> str:
    analyzers = sorted(get_state().analyzers.values(), key=lambda a: (a.title, a.name))
    return await render("analyzers/list.html", analyzers=analyzers)
