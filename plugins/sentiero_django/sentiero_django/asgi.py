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

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sentiero_core import SentieroDispatcher, Settings, create_app

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


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
