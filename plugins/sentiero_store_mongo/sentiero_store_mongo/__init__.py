"""sentiero-store-mongo: ``mongodb://`` and ``mongodb+srv://`` store URLs.

Settings live in the ``[plugins.store_mongo]`` section (:class:`MongoSettings`).
"""

from __future__ import annotations

from typing import Any

from sentiero_core import Settings, hookimpl
from sentiero_core.store import limits_from

from .settings import SECTION, MongoSettings
from .store import MongoStore

__all__ = ["MongoSettings", "MongoStore"]


def build_store(url: str, settings: Settings) -> MongoStore:
    """The factory behind both URL schemes."""
    section = settings.plugin(SECTION)
    return MongoStore(
        url,
        settings=section if isinstance(section, MongoSettings) else MongoSettings(),
        limits=limits_from(settings),
        retention_period=settings.retention_period,
    )


@hookimpl
def store_factories() -> dict[str, Any]:
    return {"mongodb": build_store, "mongodb+srv": build_store}


@hookimpl
def register_settings() -> dict[str, type]:
    return {SECTION: MongoSettings}
