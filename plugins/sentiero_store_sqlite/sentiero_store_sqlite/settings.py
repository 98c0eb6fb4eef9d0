"""The ``[plugins.store_sqlite]`` settings section."""

from __future__ import annotations

from dataclasses import dataclass

from sentiero_core import SettingsError

from .connection import DEFAULT_BUSY_TIMEOUT_MS

SECTION = "store_sqlite"


@dataclass
class SQLiteSettings:
    """Tuning for the SQLite store; the file itself comes from ``store_url``."""

    #: How long a write waits for another process holding the database's
    #: write lock before failing with StoreUnavailable.
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    #: Read connections in the pool: reads beyond this many wait their turn.
    read_connections: int = 2
    #: The most appends one write transaction takes when requests pile up.
    max_group: int = 128

    def __post_init__(self) -> None:
        for name in ("busy_timeout_ms", "read_connections", "max_group"):
            if getattr(self, name) < 1:
                raise SettingsError(f"plugins.{SECTION}.{name}: expected a positive integer")
