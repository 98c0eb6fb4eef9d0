"""URLs of the core's static files with a content hash, so the hour-long
browser cache never serves a stale bundle after an upgrade."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from quart import url_for

from ..app import STATIC_DIR


@lru_cache(maxsize=64)
def _version(name: str, mtime_ns: int) -> str:
    return hashlib.blake2s((STATIC_DIR / name).read_bytes(), digest_size=5).hexdigest()


def asset_url(name: str) -> str:
    """``<mount>/-/static/<name>?v=<hash>`` (the mount and root path included)."""
    path = STATIC_DIR / name
    url = url_for("sentiero.static", filename=name)
    try:
        return f"{url}?v={_version(name, path.stat().st_mtime_ns)}"
    except OSError:
        return url
