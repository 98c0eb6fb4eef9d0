"""``settings.SENTIERO`` mapped onto :class:`sentiero_core.Settings`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from sentiero_core import Settings, SettingsError, load_settings

_cached: Settings | None = None


def sentiero_options() -> dict[str, Any]:
    """The ``SENTIERO`` setting as a dict (empty when unset)."""
    options = getattr(django_settings, "SENTIERO", None)
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ImproperlyConfigured(
            f"settings.SENTIERO must be a dict of Sentiero options, not {type(options).__name__}"
        )
    for key in options:
        if not isinstance(key, str):
            raise ImproperlyConfigured(f"settings.SENTIERO has a key that is not a string: {key!r}")
    return dict(options)


def build_settings(options: Mapping[str, Any] | None = None) -> Settings:
    """Sentiero's settings: ``$SENTIERO_CONFIG`` and ``SENTIERO_*`` variables
    first, ``settings.SENTIERO`` (or ``options``) over them. A bad key or
    value raises ImproperlyConfigured naming it."""
    try:
        return load_settings(**(sentiero_options() if options is None else dict(options)))
    except (SettingsError, TypeError) as exc:
        raise ImproperlyConfigured(f"settings.SENTIERO: {exc}") from exc


def get_settings() -> Settings:
    """The project's Sentiero settings, built once (again after a test's
    ``override_settings(SENTIERO=...)``)."""
    global _cached
    if _cached is None:
        _cached = build_settings()
    return _cached


def _forget(*, setting: str, **_: Any) -> None:
    global _cached
    if setting == "SENTIERO":
        _cached = None


setting_changed.connect(_forget, dispatch_uid="sentiero_django.conf.forget")
