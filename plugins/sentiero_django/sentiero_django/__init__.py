"""sentiero-django: Sentiero in a Django project.

Add ``"sentiero_django"`` to ``INSTALLED_APPS``, configure it with the
``SENTIERO`` setting (a dict of :class:`sentiero_core.Settings` options),
render the recorder with ``{% load sentiero %}{% sentiero_script_tag %}``,
serve the dashboard and the ingest through your ASGI application with
:func:`sentiero_django.asgi.with_sentiero`, and purge or erase with
``manage.py sentiero_purge`` / ``sentiero_erase``.
"""

from __future__ import annotations

from .conf import get_settings

__all__ = ["get_settings"]
