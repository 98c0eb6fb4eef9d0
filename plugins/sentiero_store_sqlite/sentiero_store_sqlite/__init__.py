"""sentiero-store-sqlite: the embedded store, one SQLite file in WAL mode.

Installed, it answers ``store_url = "sqlite:///sentiero.db"`` (relative to
the working directory), ``sqlite:////abs/path.db`` and ``sqlite:///:memory:``.
"""

from .plugin import store_factories
from .store import SQLiteStore
from .url import SQLiteLocation, parse_sqlite_url

__all__ = ["SQLiteLocation", "SQLiteStore", "parse_sqlite_url", "store_factories"]
