"""sentiero-store-file: Sentiero's file store (``file:///path/to/dir``).

One directory per session holding an append-only, checksummed batch log
and a summary replaced atomically; an exclusive lock keeps a second
process out. Meant for development and small sites.
"""

from __future__ import annotations

from typing import Any

from sentiero_core import Settings, hookimpl
from sentiero_core.store import limits_from

from .store import FileStore
from .url import directory_from_url

__all__ = ["FileStore", "build_store", "directory_from_url"]


def build_store(url: str, settings: Settings) -> FileStore:
    """The factory for ``file:`` URLs: the store, not opened yet.

    A URL it cannot use is a :class:`sentiero_core.SettingsError` naming
    what is wrong; the directory is created (with its parents) by
    :meth:`FileStore.open`.
    """
    return FileStore(directory_from_url(url), limits_from(settings))


@hookimpl
def store_factories() -> dict[str, Any]:
    return {"file": build_store}
