"""sentiero-store-redis: ``redis://``, ``rediss://`` and ``unix://`` store URLs.

Settings live in the ``[plugins.store_redis]`` section (:class:`RedisSettings`).
"""

from __future__ import annotations

from typing import Any

from sentiero_core import Settings, hookimpl
from sentiero_core.store import limits_from

from .settings import SECTION, RedisSettings
from .store import RedisStore

__all__ = ["RedisSettings", "RedisStore"]


def build_store(url: str, settings: Settings) -> RedisStore:
    """The factory behind the three URL schemes; checks the URL at once
    (``SettingsError``) and connects only in ``open()``."""
    section = settings.plugin(SECTION)
    return RedisStore(
        url,
        settings=section if isinstance(section, RedisSettings) else RedisSettings(),
        limits=limits_from(settings),
    )


@hookimpl
def store_factories() -> dict[str, Any]:
    return {"redis": build_store, "rediss": build_store, "unix": build_store}


@hookimpl
def register_settings() -> dict[str, type]:
    return {SECTION: RedisSettings}
