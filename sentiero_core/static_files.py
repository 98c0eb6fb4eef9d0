"""Serving the dashboard's and plugins' static assets from memory.

Quart's ``send_file`` streams through a file opened in a worker thread. When
the browser has the whole asset and closes the connection first, Hypercorn
cancels the response while that open or close is still queued for the
thread, and the file object is left for the garbage collector (a
``ResourceWarning``, and a descriptor held until then). Assets are small and
few, so each is read whole, in one thread call that opens and closes it, and
kept while its size and modification time stay the same.
"""

from __future__ import annotations

import asyncio
import mimetypes
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zlib import adler32

from quart import Response, request
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

#: an asset larger than this is still served, but never kept in memory
MAX_CACHED_BYTES = 4 * 1024 * 1024
#: how many assets stay in memory (the dashboard and all plugins ship fewer)
MAX_CACHED_FILES = 64

_cache: dict[Path, tuple[int, int, bytes]] = {}
_cache_lock = threading.Lock()


def _read(path: Path) -> tuple[int, int, bytes]:
    """``(mtime_ns, size, data)`` of a regular file, or ``NotFound``."""
    try:
        info = path.stat()
    except (OSError, ValueError):  # missing, or a NUL byte in the name
        raise NotFound() from None
    if not stat.S_ISREG(info.st_mode):
        raise NotFound()
    with _cache_lock:
        kept = _cache.get(path)
    if kept is not None and kept[:2] == (info.st_mtime_ns, info.st_size):
        return kept
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound() from None
    entry = (info.st_mtime_ns, len(data), data)
    if len(data) <= MAX_CACHED_BYTES:
        with _cache_lock:
            if path not in _cache and len(_cache) >= MAX_CACHED_FILES:
                _cache.pop(next(iter(_cache)))
            _cache[path] = entry
    return entry


async def send_static(directory: Path, name: str, *, max_age: int) -> Response:
    """The file ``name`` under ``directory``, with ETag, Last-Modified, 304 and ranges.

    A name that leaves ``directory`` (``..``, absolute, backslashes on
    Windows) or is not a regular file raises ``NotFound``."""
    joined = safe_join(str(directory), name)
    if joined is None:
        raise NotFound()
    path = Path(joined)
    mtime_ns, size, data = await asyncio.to_thread(_read, path)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.last_modified = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.expires = datetime.now(UTC) + timedelta(seconds=max_age)
    response.set_etag(f"{mtime_ns}-{size}-{adler32(bytes(path)):x}")
    await response.make_conditional(request, accept_ranges=True, complete_length=size)
    return response
