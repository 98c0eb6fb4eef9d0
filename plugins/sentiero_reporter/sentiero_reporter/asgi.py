"""ASGI middleware: unhandled exceptions are reported, then re-raised."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import scope as _context
from .requests import request_data

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class ReporterMiddleware:
    """Wraps an ASGI app. ``reporter`` defaults to the global one, looked up
    per request so that a later ``configure()`` applies."""

    def __init__(self, app: ASGIApp, reporter: Any = None) -> None:
        self.app = app
        self._reporter = reporter

    def _current(self) -> Any:
        if self._reporter is not None:
            return self._reporter
        from . import get_reporter

        return get_reporter()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _context.set_request(lambda: self._describe(scope))
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self._current().notify(exc)
            raise
        finally:
            _context.reset_request(token)

    def _describe(self, scope: Scope) -> dict[str, Any]:
        config = self._current().config
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or []
        ]
        host = next((v for k, v in headers if k.lower() == "host"), "")
        if not host and scope.get("server"):
            server_host, port = scope["server"][0], scope["server"][1]
            host = f"{server_host}:{port}" if port else str(server_host)
        path = scope.get("root_path", "") + scope.get("path", "")
        return request_data(
            scope.get("method", "GET" if scope.get("type") == "http" else "WEBSOCKET"),
            scope.get("scheme", "http"),
            host,
            path,
            (scope.get("query_string") or b"").decode("latin-1"),
            headers,
            config.session_cookie_name,
            config.window_cookie_name,
        )
