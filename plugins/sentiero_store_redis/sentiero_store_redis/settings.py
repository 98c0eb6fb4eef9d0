"""The ``[plugins.store_redis]`` settings section."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sentiero_core import SettingsError

SECTION = "store_redis"

# Printable ASCII without spaces: the prefix shows up in every key, in
# redis-cli and in SCAN patterns, where "*", "?", "[" and "\" are wildcards.
_PREFIX = re.compile(r"[!-~]{1,64}")
_GLOB = set("*?[]\\")


@dataclass
class RedisSettings:
    """How the Redis store connects and names its keys.

    The server, database number, credentials and TLS come from the URL
    (``redis://[:password@]host:port/db``, ``rediss://`` for TLS,
    ``unix:///path/redis.sock?db=0``).
    """

    #: Prepended to every key the store writes (``<prefix>s:<session id>``, ...).
    #: Two deployments sharing one Redis database need different prefixes.
    key_prefix: str = "sentiero:"
    #: Expire a session's keys this many seconds after its last batch arrived
    #: (refreshed by every append). Off by default: Redis then deletes
    #: sessions behind the core's back; the store notices only at the next
    #: purge or listing, so plugins' data and ``audit_log`` hear of them late
    #: (as ``purged``). The core's retention purge enforces
    #: ``retention_period`` with every store and reports on time.
    ttl_seconds: int | None = None
    #: Timeout for connecting to Redis.
    connect_timeout_ms: int = 5_000
    #: Timeout for each command's answer.
    socket_timeout_ms: int = 5_000
    #: Connections the client may open (appends of several sessions run in
    #: parallel); a call finding them all busy waits for one, up to
    #: ``connect_timeout_ms``.
    max_connections: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.key_prefix, str) or not _PREFIX.fullmatch(self.key_prefix):
            raise SettingsError(
                f"plugins.{SECTION}.key_prefix: expected 1 to 64 printable ASCII characters "
                f"without spaces, got {self.key_prefix!r}"
            )
        if _GLOB & set(self.key_prefix):
            raise SettingsError(
                f"plugins.{SECTION}.key_prefix: * ? [ ] and \\ are SCAN wildcards, "
                f"got {self.key_prefix!r}"
            )
        if self.ttl_seconds is not None and self.ttl_seconds < 1:
            raise SettingsError(
                f"plugins.{SECTION}.ttl_seconds: expected a positive integer or none"
            )
        for name in ("connect_timeout_ms", "socket_timeout_ms", "max_connections"):
            if getattr(self, name) < 1:
                raise SettingsError(f"plugins.{SECTION}.{name}: expected a positive integer")
