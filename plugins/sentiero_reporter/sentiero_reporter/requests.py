"""Request data for reports, shared by the ASGI and WSGI middleware.

Secrets never leave the app: credential headers are filtered, and of the
cookies only the recorder's session and window ids are kept by value.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any

from .payload import FILTERED

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-csrf-token",
        "x-csrftoken",
        "x-xsrf-token",
    }
)
_SENSITIVE_NAME = re.compile(r"pass|secret|token|auth|session|csrf|xsrf|key|sig", re.IGNORECASE)


def parse_cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        # A malformed header still yields the well-formed pairs.
        found: dict[str, str] = {}
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                found[name] = value
        return found
    return {name: morsel.value for name, morsel in jar.items()}


def request_data(
    method: str,
    scheme: str,
    host: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    session_cookie: str,
    window_cookie: str,
) -> dict[str, Any]:
    """The request as a report shows it, with sensitive values filtered."""
    shown: dict[str, str] = {}
    cookie_header = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "cookie":
            cookie_header = f"{cookie_header}; {value}" if cookie_header else value
        shown[lowered] = FILTERED if lowered in SENSITIVE_HEADERS else value
    cookies = parse_cookies(cookie_header) if cookie_header else {}
    linked = {session_cookie, window_cookie}
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    data: dict[str, Any] = {
        "method": method,
        "url": f"{scheme}://{host}{path}",
        "query": {k: FILTERED if _SENSITIVE_NAME.search(k) else v for k, v in params},
        "headers": shown,
        "cookies": {k: v if k in linked else FILTERED for k, v in cookies.items()},
    }
    if cookies.get(session_cookie):
        data["session_id"] = cookies[session_cookie]
    if cookies.get(window_cookie):
        data["window_id"] = cookies[window_cookie]
    return data
