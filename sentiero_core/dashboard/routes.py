"""The dashboard as a plugin: its pages, its navigation entries, its template
formatters."""

from __future__ import annotations

from quart import Quart

from ..hookspecs import hookimpl
from ..routing import Panel, Route
from ..settings import Settings
from . import errors
from .analyzers_view import analyzers_page
from .assets import asset_url
from .erase_view import erase_confirm, erase_sessions
from .formatting import FORMATTERS
from .list_view import sessions_list
from .session_view import delete_session, export_session, session_page
from .share_view import import_page, share_session


@hookimpl
def dashboard_panels(settings: Settings) -> list[Panel]:
    panels = [
        Panel(name="sessions", title="Sessions", path="/", order=0),
        Panel(name="analyzers", title="Analyzers", path="/analyzers", order=90),
    ]
    if settings.shareable_replays:
        panels.append(Panel(name="import", title="Import", path="/import", order=95))
    return panels


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route("/", sessions_list, name="sentiero.sessions"),
        Route("/analyzers", analyzers_page, name="sentiero.analyzers"),
        Route("/sessions/<session_id>", session_page, name="sentiero.session"),
        Route("/sessions/<session_id>/export.json", export_session, name="sentiero.session_export"),
        Route("/erase", erase_confirm, name="sentiero.erase_confirm"),
        Route("/erase", erase_sessions, methods=("POST",), name="sentiero.erase"),
        # registered whatever the setting, so that auth_callback answers
        # first; off, the views answer 404
        Route("/share/<session_id>", share_session, name="sentiero.session_share"),
        Route("/import", import_page, name="sentiero.import"),
        Route(
            "/sessions/<session_id>/delete",
            delete_session,
            methods=("POST",),
            name="sentiero.session_delete",
        ),
    ]


@hookimpl
def startup(app: Quart) -> None:
    app.jinja_env.filters.update(FORMATTERS)
    app.jinja_env.globals["asset_url"] = asset_url
    errors.install(app)
