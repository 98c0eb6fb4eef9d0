"""The ``[plugins.store_mongo]`` settings section."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sentiero_core import SettingsError

SECTION = "store_mongo"

# Collection names may not hold "$" or NUL, and "system." is reserved.
_PREFIX = re.compile(r"[A-Za-z0-9_\-]{0,40}")


@dataclass
class MongoSettings:
    """How the MongoDB store connects and names its collections.

    The database comes from the URL's path (``mongodb://host/<db>``, default
    ``sentiero``); every other connection option (replica set, TLS, write
    concern, credentials) belongs in the URL too.
    """

    #: Prepended to the two collection names (``<prefix>sessions``, ``<prefix>batches``).
    collection_prefix: str = "sentiero_"
    #: How long to look for a usable server before giving up (start-up and each call).
    server_selection_timeout_ms: int = 5_000
    #: TCP connect timeout for each new connection.
    connect_timeout_ms: int = 5_000
    #: Also create a TTL index that expires documents ``retention_period``
    #: seconds after their last batch arrived (only when ``retention_period``
    #: is set). Off by default: MongoDB then deletes sessions behind the
    #: core's back, so neither the ``sessions_removed`` hook (plugin data,
    #: analytics) nor ``audit_log`` hears of them. The core's periodic purge
    #: enforces ``retention_period`` with every store.
    ttl_index: bool = False
    #: Attempts per operation when the connection drops (a restart, a failover).
    retry_attempts: int = 3

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.collection_prefix):
            raise SettingsError(
                "plugins.store_mongo.collection_prefix: expected at most 40 letters, digits, "
                f"'_' or '-', got {self.collection_prefix!r}"
            )
        if self.collection_prefix.startswith("system"):
            raise SettingsError(
                "plugins.store_mongo.collection_prefix: names starting with 'system' are "
                "reserved by MongoDB"
            )
        for name in ("server_selection_timeout_ms", "connect_timeout_ms", "retry_attempts"):
            if getattr(self, name) < 1:
                raise SettingsError(f"plugins.store_mongo.{name}: expected a positive integer")
