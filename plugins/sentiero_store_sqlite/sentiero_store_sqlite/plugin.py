"""The plugin: offers ``sqlite://`` store URLs."""

from __future__ import annotations

from typing import Any

from sentiero_core.hookspecs import hookimpl
from sentiero_core.settings import Settings
from sentiero_core.stores import limits_from

from .store import SQLiteStore
from .url import parse_sqlite_url


@hookimpl
def store_factories() -> dict[str, Any]:
    def factory(url: str, settings: Settings) -> SQLiteStore:
        # Parsed now, not at open(): a bad URL stops start-up with its reason.
        return SQLiteStore(parse_sqlite_url(url), limits_from(settings))

    return {"sqlite": factory}
