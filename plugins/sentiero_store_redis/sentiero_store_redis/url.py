"""Checking a ``redis://``, ``rediss://`` or ``unix://`` URL without touching
the network, so a mistake stops start-up at once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sentiero_core import SettingsError

SCHEMES = ("redis", "rediss", "unix")


def check_url(url: str) -> str:
    """``url`` itself when redis-py can use it; a :class:`SettingsError`
    saying what is wrong otherwise."""
    if not isinstance(url, str):
        raise SettingsError(f"store_url: expected a redis:// URL, got {url!r}")
    scheme = url.partition("://")[0].lower()
    if "://" not in url or scheme not in SCHEMES:
        raise SettingsError(
            f"store_url: expected redis://host:port/db, rediss:// or unix:///path.sock, "
            f"got {scheme!r}"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"store_url: not a valid Redis URL ({exc})") from None
    query = parse_qs(parts.query)
    if scheme == "unix":
        if not parts.path or parts.path == "/":
            raise SettingsError(
                "store_url: a unix:// URL needs a socket path (unix:///run/redis.sock)"
            )
        db = query.get("db", ["0"])[0]
    else:
        if not parts.hostname:
            raise SettingsError("store_url: a Redis URL needs a host (redis://localhost:6379/0)")
        if port == 0:
            raise SettingsError("store_url: port 0 is not a Redis server's port")
        db = parts.path.lstrip("/") or query.get("db", ["0"])[0]
    if not db.isdigit():
        raise SettingsError(f"store_url: the database must be a number (0 to 15), got {db!r}")
    return url


def redacted(url: str) -> str:
    """``url`` without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
