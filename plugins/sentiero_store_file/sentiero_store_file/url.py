"""``file:`` URLs to directories."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from sentiero_core import SettingsError

EXPECTED = "expected file:///absolute/dir or file:relative/dir"


def directory_from_url(url: str) -> Path:
    """The store directory a ``file:`` URL names, made absolute.

    ``file:///var/lib/sentiero`` (or ``file://localhost/var/lib/sentiero``)
    is absolute; ``file:recordings`` is relative to the working directory
    at the time the store is built. :class:`SettingsError` (a
    ``ValueError``) for anything else, saying what was wrong.
    """
    if not isinstance(url, str):
        raise SettingsError(f"store_url must be a string, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise SettingsError(f"store_url: not a file: URL: {url!r} ({EXPECTED})")
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise SettingsError(
            f"store_url: a file: URL takes no query or fragment: {url!r} ({EXPECTED})"
        )
    if parts.netloc not in ("", "localhost"):
        raise SettingsError(
            "store_url: a file: URL names a directory on this machine, "
            f"not on host {parts.netloc!r}: {url!r} ({EXPECTED})"
        )
    raw = unquote(parts.path)
    if raw in ("", "/"):
        raise SettingsError(f"store_url: the file: URL names no directory: {url!r} ({EXPECTED})")
    if "\x00" in raw:
        raise SettingsError(f"store_url: the file: URL's path holds a NUL character: {url!r}")
    has_authority = url[len(parts.scheme) + 1 :].startswith("//")
    if has_authority and not raw.startswith("/"):
        raise SettingsError(
            f"store_url: the file: URL's path must be absolute: {url!r} ({EXPECTED})"
        )
    return Path(raw).absolute()
