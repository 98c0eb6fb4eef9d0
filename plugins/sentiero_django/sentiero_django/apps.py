"""The Django app: settings checked and the reporter hooked at start-up."""

from __future__ import annotations

from django.apps import AppConfig


class SentieroConfig(AppConfig):
    name = "sentiero_django"
    label = "sentiero"
    verbose_name = "Sentiero"

    def ready(self) -> None:
        from . import reporting
        from .conf import get_settings

        # A mistake in settings.SENTIERO stops start-up, not the first page.
        get_settings()
        reporting.connect()
