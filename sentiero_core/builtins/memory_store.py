"""Offers ``memory://``."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl
from ..settings import Settings
from ..store import MemoryStore, limits_from


@hookimpl
def store_factories() -> dict[str, Any]:
    def factory(url: str, settings: Settings) -> MemoryStore:
        return MemoryStore(limits_from(settings))

    return {"memory": factory}
