"""Reading what the store needs from a ``mongodb://`` or ``mongodb+srv://`` URL
without touching the network (an SRV lookup waits for ``open()``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from sentiero_core import SettingsError

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
    database = check_database(unquote(path) or DEFAULT_DATABASE, "store_url: ")
    return MongoUrl(url=url, scheme=scheme, hosts=hosts, database=database)


def check_database(name: str, where: str = "") -> str:
    if not name or _BAD_DB_CHARS & set(name) or len(name.encode()) > 63:
        raise SettingsError(
            f"{where}{name!r} is not a valid MongoDB database name "
            '(1 to 63 bytes, none of / \\ . space " $ * < > : | ?)'
        )
    return name
