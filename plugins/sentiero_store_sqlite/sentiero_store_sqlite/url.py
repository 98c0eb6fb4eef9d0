"""Reading ``sqlite:`` store URLs.

Three slashes then the path, as SQLAlchemy spells it: ``sqlite:///x.db`` is
relative to the working directory, ``sqlite:////var/lib/x.db`` is absolute
(the fourth slash starts the path) and ``sqlite:///:memory:`` keeps the
database in this process only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sentiero_core import SettingsError

MEMORY = ":memory:"
EXAMPLES = "sqlite:///relative.db, sqlite:////absolute/path.db or sqlite:///:memory:"


@dataclass(frozen=True, slots=True)
class SQLiteLocation:
    """Where the database lives: a file path, or ``None`` for memory."""

    path: Path | None

    @property
    def in_memory(self) -> bool:
        return self.path is None

    def __str__(self) -> str:
        return MEMORY if self.path is None else str(self.path)


def parse_sqlite_url(url: str) -> SQLiteLocation:
    """The location named by ``url``; a malformed URL raises :class:`SettingsError`."""
    if not isinstance(url, str):
        raise SettingsError(f"store_url: expected a string like {EXAMPLES}, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite":
        raise SettingsError(f"store_url: {url!r} is not a sqlite URL (expected {EXAMPLES})")
    if parts.netloc:
        raise SettingsError(
            f"store_url: {url!r} names a host ({parts.netloc!r}); SQLite files are local "
            f"(expected {EXAMPLES})"
        )
    if not url[len(parts.scheme) :].startswith(":///"):
        raise SettingsError(
            f"store_url: {url!r} needs three slashes after 'sqlite:' (expected {EXAMPLES})"
        )
    if parts.query or parts.fragment:
        raise SettingsError(
            f"store_url: {url!r} has a query or fragment; the SQLite store takes no URL options"
        )
    # urlsplit keeps the leading slash of the path: strip exactly one, so a
    # fourth slash survives and makes the path absolute.
    raw_path = unquote(parts.path[1:])
    if not raw_path:
        raise SettingsError(f"store_url: {url!r} names no database file (expected {EXAMPLES})")
    if "\x00" in raw_path:
        raise SettingsError(f"store_url: {url!r} contains a NUL byte")
    if raw_path == MEMORY:
        return SQLiteLocation(None)
    if raw_path.endswith("/"):
        raise SettingsError(f"store_url: {url!r} names a directory, not a database file")
    return SQLiteLocation(Path(raw_path))
