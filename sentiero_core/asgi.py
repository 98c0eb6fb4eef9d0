"""``sentiero_core.asgi:app`` for ASGI servers; configured from the
environment (``SENTIERO_*``, ``SENTIERO_CONFIG``)."""

from .app import create_app

app = create_app()
