"""sentiero-store-sqlite: the embedded store, one SQLite file in WAL mode.

Installed, it answers ``store_url = "sqlite:///sentiero.db"`` (relative to
the working directory), ``sqlite:////abs/path.db`` and ``sqlite:///:memory:``.
Tuning lives in the ``[plugins.store_sqlite]`` section (:class:`SQLiteSettings`).
"""

from .plugin import register_settings, store_factories
from .settings import SQLiteSettings
from .store import SQLiteStore
from .url import SQLiteLocation, parse_sqlite_url

__all__ = [
    "SQLiteLocation",
    "SQLiteSettings",
    "SQLiteStore",
    "parse_sqlite_url",
    "register_settings",
    "store_factories",
]
