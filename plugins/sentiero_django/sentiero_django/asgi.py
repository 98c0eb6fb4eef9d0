"""Serving Sentiero through the project's ASGI application.

In ``asgi.py``::

    from django.core.asgi import get_asgi_application
    from sentiero_django.asgi import with_sentiero

    application = with_sentiero(get_asgi_application())

Requests under ``mount_path`` (``/sentiero`` by default: the dashboard, the
recorder script and its ingest) go to Sentiero, everything else to Django.
Django does not speak the ASGI lifespan protocol, so the dispatcher answers
it: Sentiero's store opens at start-up and closes at shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from sentiero_core import Settings, create_app

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class SentieroDispatcher:
    """An ASGI app: ``mount``'s requests to ``sentiero``, the rest to ``django``."""

    def __init__(self, django: ASGIApp, sentiero: Any, mount: str) -> None:
        mount = "/" + mount.strip("/")
        if mount == "/":
            raise ValueError(
                "mount_path must be a prefix such as /sentiero when Sentiero shares "
                "an ASGI application with Django, not '/'"
            )
        self.django = django
        self.sentiero = sentiero
        self.mount = mount

    def routes_to_sentiero(self, scope: Scope) -> bool:
        path = str(scope.get("path") or "")
        root = str(scope.get("root_path") or "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path == self.mount or path.startswith(self.mount + "/")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif self.routes_to_sentiero(scope):
            await self.sentiero(scope, receive, send)
        else:
            await self.django(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.sentiero.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.sentiero.shutdown()
                except Exception as exc:
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SentieroDispatcher]:
        """Sentiero started and stopped around a block, for servers and test
        clients that do not send lifespan events."""
        await self.sentiero.startup()
        try:
            yield self
        finally:
            await self.sentiero.shutdown()


def with_sentiero(
    django_app: ASGIApp,
    settings: Settings | None = None,
    *,
    sentiero_app: Any = None,
    reporter: bool | None = None,
) -> SentieroDispatcher:
    """Django's ASGI application with Sentiero under ``mount_path``.

    ``settings`` default to ``settings.SENTIERO``; ``sentiero_app`` is an
    app you built with :func:`sentiero_core.create_app`. When the reporter
    (``sentiero-reporter``) is configured and ``SENTIERO_REPORTER_MIDDLEWARE``
    is not False, Django's application is wrapped in its ASGI middleware, so
    ``notify`` and ``track`` in views carry the request and the recorder's
    session. ``reporter`` overrides that choice."""
    from .conf import get_settings
    from .reporting import reporter_wanted

    if settings is None:
        settings = get_settings()
    if sentiero_app is None:
        sentiero_app = create_app(settings)
    if reporter_wanted() if reporter is None else reporter:
        from sentiero_reporter import ReporterMiddleware

        django_app = ReporterMiddleware(django_app)
    return SentieroDispatcher(django_app, sentiero_app, settings.mount_path)
