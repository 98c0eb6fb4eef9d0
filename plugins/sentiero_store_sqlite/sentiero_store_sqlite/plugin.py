"""The plugin: offers ``sqlite://`` store URLs and the ``[plugins.store_sqlite]`` section."""

from __future__ import annotations

from typing import Any

from sentiero_core import Settings, hookimpl
from sentiero_core.store import limits_from

from .settings import SECTION, SQLiteSettings
from .store import SQLiteStore
from .url import parse_sqlite_url


def build_store(url: str, settings: Settings) -> SQLiteStore:
    # Parsed now, not at open(): a bad URL stops start-up with its reason.
    location = parse_sqlite_url(url)
    section = settings.plugin(SECTION)
    tuning = section if isinstance(section, SQLiteSettings) else SQLiteSettings()
    return SQLiteStore(
        location,
        limits_from(settings),
        busy_timeout_ms=tuning.busy_timeout_ms,
        read_connections=tuning.read_connections,
        max_group=tuning.max_group,
    )


@hookimpl
def store_factories() -> dict[str, Any]:
    return {"sqlite": build_store}


@hookimpl
def register_settings() -> dict[str, type]:
    return {SECTION: SQLiteSettings}
