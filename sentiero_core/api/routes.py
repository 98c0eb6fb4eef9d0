"""The JSON API's session routes, behind ``auth_callback`` like every page."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..routing import Route
from . import sessions


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route("/api/sessions", sessions.list_sessions, name="sentiero.api_sessions"),
        Route("/api/sessions/<session_id>", sessions.get_session, name="sentiero.api_session"),
        Route(
            "/api/sessions/<session_id>",
            sessions.delete_session,
            methods=("DELETE",),
            name="sentiero.api_session_delete",
        ),
        Route(
            "/api/sessions/<session_id>/events",
            sessions.session_events,
            name="sentiero.api_session_events",
        ),
    ]
