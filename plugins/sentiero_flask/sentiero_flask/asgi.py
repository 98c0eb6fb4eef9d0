"""A Flask app and Sentiero in one ASGI application.

::

    from sentiero_flask.asgi import with_sentiero
    from shop import app  # your Flask app, with Sentiero(app)

    application = with_sentiero(app)   # hypercorn shop_asgi:application

Requests under ``mount_path`` go to Sentiero (the dashboard, the recorder
and its ingest), everything else to Flask through Hypercorn's WSGI adapter
(Flask's views run in a thread pool, as under any WSGI server). Sentiero's
store opens at start-up through the ASGI lifespan.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from hypercorn.middleware import AsyncioWSGIMiddleware

from sentiero_core import SentieroDispatcher, Settings, create_app

from .extension import get_settings

#: The largest request body the adapter hands Flask (Hypercorn's default is 64 KiB).
MAX_BODY_SIZE = 16 * 1024 * 1024


def with_sentiero(
    app: Flask,
    settings: Settings | None = None,
    *,
    sentiero_app: Any = None,
    max_body_size: int = MAX_BODY_SIZE,
) -> SentieroDispatcher:
    """``app`` with Sentiero under ``mount_path``, as one ASGI application.
    ``settings`` default to those of ``Sentiero(app)``."""
    if settings is None:
        settings = get_settings(app)
    if sentiero_app is None:
        sentiero_app = create_app(settings)
    flask = AsyncioWSGIMiddleware(app, max_body_size=max_body_size)
    return SentieroDispatcher(flask, sentiero_app, settings.mount_path)
