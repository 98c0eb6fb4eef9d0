"""The parts of a share file: one HTML document that replays a session from
``file://`` with no network.

Everything is inlined: the ``player-file.js`` bundle (allowed by its hash in
the document's own Content-Security-Policy, the only script that may run),
the dashboard's and the player's styles, and the events as JSON in a
``<script type="application/json">`` element. The recorded data is
attacker-controlled (a visitor types it, a forged batch carries anything), so
that JSON is written with ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\uXXXX``
escapes: no ``</script>``, ``<!--`` or ``<script`` can appear in it, and the
player reads it with ``JSON.parse``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from typing import Any

import orjson

from ..app import STATIC_DIR

#: what the embedded JSON says it is; the import page reads it too
SHARE_FORMAT = "sentiero-share"
SHARE_VERSION = 1
PLAYER_BUNDLE = "player-file.js"
STYLESHEETS = ("dashboard.css", "player.css")

_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)
#: what would end a ``<script>`` or ``<style>`` element early, or (``<!--``
#: then ``<script``) keep a ``<script>`` from ending where it should
_HAZARDS = {
    ".js": re.compile(rb"</script|<!--|<script", re.IGNORECASE),
    ".css": re.compile(rb"</style", re.IGNORECASE),
}


def escape_json(data: bytes) -> bytes:
    """JSON text (from ``orjson.dumps``) safe inside a ``<script>`` element.

    Outside strings JSON has none of these characters, and inside strings
    ``\\u003c`` and the rest are the same characters to ``JSON.parse``."""
    for raw, escaped in _ESCAPES:
        data = data.replace(raw, escaped)
    return data


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside a ``<script>`` element."""
    return escape_json(orjson.dumps(value)).decode()


@lru_cache(maxsize=8)
def _inline(name: str, mtime_ns: int) -> str:
    data = (STATIC_DIR / name).read_bytes()
    hazard = _HAZARDS[name[name.rindex(".") :]].search(data)
    if hazard is not None:
        # esbuild escapes these in strings; a bundle that still has one would
        # end its element early, so it is refused rather than inlined
        raise RuntimeError(f"{name} contains {hazard.group().decode()!r} and cannot be inlined")
    return data.decode()


def inline_asset(name: str) -> str:
    """The text of a core static file, checked to be safe inside an element."""
    return _inline(name, (STATIC_DIR / name).stat().st_mtime_ns)


def player_script() -> str:
    return inline_asset(PLAYER_BUNDLE)


def stylesheet() -> str:
    return "\n".join(inline_asset(name) for name in STYLESHEETS)


def script_hash(script: str) -> str:
    """The CSP source allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def share_csp(script: str) -> str:
    """The share file's Content-Security-Policy (a ``<meta>`` element): no
    request to any host, whatever the recorded page names, and no script but
    the inlined player. The rebuilt page (an ``about:blank`` frame) inherits
    it; its images, styles and fonts that were on other servers do not load."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {script_hash(script)}",
            # the player's and the replayed page's own styles are inline
            "style-src 'unsafe-inline'",
            "img-src data: blob:",
            "font-src data:",
            "media-src data: blob:",
            "connect-src 'none'",
            "frame-src 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def share_filename(session_id: str, window: str | None, multiple: bool) -> str:
    """A file name of letters, digits, ``_`` and ``-`` only: safe in the
    Content-Disposition header and on any file system."""
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", session_id)[:64]
    name = f"sentiero-replay-{safe_id}"
    if window and multiple:
        name += "-" + re.sub(r"[^A-Za-z0-9_-]", "_", window)[:32]
    return name + ".html"
