"""What a replay may load: the session page's Content-Security-Policy and
Referrer-Policy.

rrweb rebuilds the recorded page in a sandboxed ``about:blank`` frame, which
inherits the policies of the page around it. Its images, styles, fonts and
media may come from the dashboard, from ``replay_resource_origins`` and
(unless ``replay_recorded_origins`` is off) from the origins of the pages
the session recorded; every other host is blocked, and none is told who
watches: no referrer is sent.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..security import dashboard_csp
from ..settings import Settings
from ..store import SessionSummary

#: a session that visited more origins than this replays the first ones only;
#: the cap keeps the header small whatever a forged session claims
MAX_RECORDED_ORIGINS = 20
_HOSTNAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\]")


def url_origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, in a form that is safe
    inside a CSP header; ``None`` for anything else."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if scheme not in ("http", "https") or not _HOSTNAME.fullmatch(host):
        return None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def recorded_origins(summary: SessionSummary) -> list[str]:
    """The origins of the session's entry page and visited pages, in order."""
    origins: list[str] = []
    for url in [summary.entry_url, *summary.pages]:
        origin = url_origin(url)
        if origin is not None and origin not in origins:
            origins.append(origin)
            if len(origins) == MAX_RECORDED_ORIGINS:
                break
    return origins


def replay_headers(settings: Settings, summary: SessionSummary) -> dict[str, str]:
    """The headers of the replay page of ``summary``."""
    origins = list(settings.replay_resource_origins)
    if settings.replay_recorded_origins:
        origins += [o for o in recorded_origins(summary) if o not in origins]
    return {"Content-Security-Policy": dashboard_csp(origins), "Referrer-Policy": "no-referrer"}
