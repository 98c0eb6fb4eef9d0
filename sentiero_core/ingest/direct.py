"""``POST <mount>/events`` answered from the app's ASGI callable, past Quart.

Quart's work for each request (a request object with every header parsed,
a request context, URL matching, the request hooks, a response object)
costs about as much as inflating and parsing a batch, and the ingest route
uses none of it: its answer comes from :func:`.routes.answer`, from the
ASGI scope alone. So the app's ASGI callable answers that route itself,
with the same code, the same bytes and the same headers as the Quart view,
inside the app's context (``current_app`` works in hooks and rules), but
only while nothing else would have run for it: Sentiero's own request hooks
and error handler only, and no receiver of Quart's request signals. Any
other request, or any request once a host or plugin added a hook of its
own (a login check in front of everything, say), goes through Quart.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from quart import Quart
from quart.signals import (
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)

from ..app import INGEST_ENDPOINT
from ..security import PUBLIC_HEADERS
from .incoming import Incoming, Reply
from .routes import answer, ingest_events, reply_headers

log = logging.getLogger("sentiero.ingest")

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
_SIGNALS = (request_started, request_finished, request_tearing_down, got_request_exception)
# lower-case names, as Quart sends them
_SECURITY = [(name.lower().encode(), value.encode()) for name, value in PUBLIC_HEADERS]
_CRASHED = b'{"error":"internal server error"}'


class ClientGone(Exception):
    """The client closed the connection before its body was read."""


async def _chunks(receive: Callable[[], Awaitable[Mapping[str, Any]]]) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.request":
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return
        elif message["type"] == "http.disconnect":
            raise ClientGone


def _route_path(scope: Mapping[str, Any]) -> str:
    """The path Quart matches routes against (see ``quart.asgi``)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root:
        if path == root or not path.startswith(root):
            return ""
        path = path[len(root) :]
    return path


def _live(funcs: Mapping[Any, list[Any]]) -> dict[Any, tuple[Any, ...]]:
    # copies: the app appends to its lists in place
    return {key: tuple(value) for key, value in funcs.items() if value}


class DirectIngest:
    """The app's ASGI callable, answering the ingest route itself while
    Quart would run nothing but Sentiero's own code for it."""

    def __init__(self, app: Quart, inner: ASGIApp, path: str) -> None:
        from ..dashboard.errors import handle_http_error

        self.app = app
        self.inner = inner
        self.path = path
        # the dashboard's (installed at start-up) leaves public routes' errors alone
        self.own_handlers = {handle_http_error}
        # what create_app registered (taken once it has)
        self._before = _live(app.before_request_funcs)
        self._after = _live(app.after_request_funcs)

    def plain(self) -> bool:
        """Whether Quart would run only Sentiero's code for the route."""
        app = self.app
        if (
            _live(app.before_request_funcs) != self._before
            or _live(app.after_request_funcs) != self._after
            or _live(app.teardown_request_funcs)
            or _live(app.url_value_preprocessors)
            or any(signal.receivers for signal in _SIGNALS)
        ):
            return False
        view = app.view_functions.get(INGEST_ENDPOINT)
        if view is not ingest_events:
            return False
        return all(
            handler in self.own_handlers
            for by_code in app.error_handler_spec.values()
            for handlers in by_code.values()
            for handler in handlers.values()
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or _route_path(scope) != self.path
            or not self.plain()
        ):
            await self.inner(scope, receive, send)
            return
        incoming = Incoming(scope)
        app = self.app
        async with app.app_context():
            state = app.extensions["sentiero"]
            try:
                reply = await answer(state, incoming, _chunks(receive), app.config["BODY_TIMEOUT"])
            except ClientGone:
                return  # as Quart does: nobody is left to answer
            except Exception:
                if app.config["PROPAGATE_EXCEPTIONS"] or (
                    app.config["PROPAGATE_EXCEPTIONS"] is None and (app.testing or app.debug)
                ):
                    raise
                log.exception("the ingest failed to answer a request")
                reply = Reply(500, _CRASHED)
            headers = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in reply_headers(reply, incoming, state.settings)
            ]
        headers += _SECURITY
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body, "more_body": False})
