"""Sentiero beside another app in one ASGI application, by path prefix."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[..., Awaitable[None]]


class SentieroDispatcher:
    """One ASGI app from two: requests under ``mount`` go to ``sentiero``
    (an app from :func:`create_app`, whose ``mount_path`` is ``mount``), the
    rest to ``app`` (Django's ASGI handler, a WSGI app through an adapter,
    any ASGI app). It answers the ASGI lifespan protocol itself, starting
    and stopping Sentiero (its store opens at start-up), because the other
    app may not speak it (Django does not); ``app`` gets no lifespan events."""

    def __init__(self, app: ASGIApp, sentiero: Any, mount: str) -> None:
        mount = "/" + mount.strip("/")
        if mount == "/":
            raise ValueError("mount_path must be a prefix such as /sentiero X, not '/'")
        self.app = app
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
            await self.app(scope, receive, send)

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
