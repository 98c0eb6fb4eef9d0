"""WSGI middleware: unhandled exceptions are reported, then re-raised."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import scope as _context
from .requests import request_data

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGIReporterMiddleware:
    """Wraps a WSGI app; errors raised while the body is iterated are reported too."""

    def __init__(self, app: WSGIApp, reporter: Any = None) -> None:
        self.app = app
        self._reporter = reporter

    def _current(self) -> Any:
        if self._reporter is not None:
            return self._reporter
        from . import get_reporter

        return get_reporter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def describe() -> dict[str, Any]:
            return self._describe(environ)

        token = _context.set_request(describe)
        try:
            body = self.app(environ, start_response)
        except Exception as exc:
            self._current().notify(exc)
            raise
        finally:
            _context.reset_request(token)
        return _ReportingBody(body, self, describe)

    def _describe(self, environ: dict[str, Any]) -> dict[str, Any]:
        config = self._current().config
        headers = [
            (key[5:].replace("_", "-").lower(), value)
            for key, value in environ.items()
            if key.startswith("HTTP_") and isinstance(value, str)
        ]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append((key.replace("_", "-").lower(), environ[key]))
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
        )
        return request_data(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("wsgi.url_scheme", "http"),
            host,
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            headers,
            config.session_cookie_name,
            config.window_cookie_name,
        )


class _ReportingBody:
    """The app's response iterable, reporting what its iteration raises."""

    def __init__(
        self,
        body: Iterable[bytes],
        middleware: WSGIReporterMiddleware,
        describe: Callable[[], dict[str, Any]],
    ) -> None:
        self._body = body
        self._middleware = middleware
        self._describe = describe

    def __iter__(self) -> Iterator[bytes]:
        token = _context.set_request(self._describe)
        try:
            yield from self._body
        except Exception as exc:
            self._middleware._current().notify(exc)
            raise
        finally:
            # A server may finish the iteration in another context.
            with contextlib.suppress(ValueError):
                _context.reset_request(token)

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()
