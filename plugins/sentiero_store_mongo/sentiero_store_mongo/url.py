"""Reading what the store needs from a ``mongodb://`` or ``mongodb+srv://`` URL
without touching the network (an SRV lookup waits for ``open()``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from sentiero_core.settings import SettingsError

SCHEMES = ("mongodb", "mongodb+srv")
DEFAULT_DATABASE = "sentiero"
_BAD_DB_CHARS = set('/\\. "$*<>:|?\x00')


@dataclass(frozen=True, slots=True)
class MongoUrl:
    url: str
    scheme: str
    hosts: str
    database: str

    @property
    def redacted(self) -> str:
        """The URL without credentials or options, safe for logs and errors."""
        return f"{self.scheme}://{self.hosts}/{self.database}"


def parse_url(url: str) -> MongoUrl:
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        raise SettingsError(f"store_url: expected mongodb:// or mongodb+srv://, got {scheme!r}")
    netloc, _slash, path = rest.partition("/")
    path = path.split("?", 1)[0]
    hosts = netloc.rpartition("@")[2]
    if not hosts or any(not h for h in hosts.split(",")):
        raise SettingsError("store_url: a MongoDB URL needs at least one host")
    if scheme == "mongodb+srv" and ("," in hosts or ":" in hosts):
        raise SettingsError("store_url: a mongodb+srv URL takes exactly one host name, no port")
    database = unquote(path) or DEFAULT_DATABASE
    if _BAD_DB_CHARS & set(database) or len(database.encode()) > 63:
        raise SettingsError(
            f"store_url: {database!r} is not a valid MongoDB database name "
            '(at most 63 bytes, none of / \\ . space " $ * < > : | ?)'
        )
    return MongoUrl(url=url, scheme=scheme, hosts=hosts, database=database)
