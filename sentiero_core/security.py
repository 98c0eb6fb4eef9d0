"""Access control, CSRF tokens and response headers for the dashboard."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from quart import Response, abort, current_app, request

from .routing import Route
from .utils import await_me_maybe

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

DASHBOARD_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # rrweb-player and the replayed page's own styles are inline
        "style-src 'self' 'unsafe-inline' http: https:",
        # the replayed page's images and fonts come from its own site
        "img-src 'self' data: blob: http: https:",
        "font-src 'self' data: http: https:",
        "media-src 'self' blob: http: https:",
        "connect-src 'self'",
        "frame-src 'self' blob: about:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


def _secret() -> bytes:
    return str(current_app.extensions["sentiero"].settings.secret_key).encode()


async def check_access(settings: Any) -> None:
    """Abort with 403 unless ``auth_callback`` allows the request."""
    if settings.auth_callback is None:
        return
    try:
        allowed = await await_me_maybe(settings.auth_callback(request))
    except Exception:
        current_app.logger.exception("auth_callback raised; denying the request")
        allowed = False
    if not allowed:
        abort(403, "the dashboard's auth_callback denied this request")


def csrf_token() -> str:
    """A signed, timestamped token for forms and mutating API calls."""
    stamp = str(int(time.time())).encode()
    mac = hmac.new(_secret(), b"csrf:" + stamp, hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(stamp + b"." + mac).decode()


def valid_csrf_token(token: str | None) -> bool:
    if not token:
        return False
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        stamp, _, mac = raw.partition(b".")
        issued = int(stamp)
    except ValueError:
        return False
    expected = hmac.new(_secret(), b"csrf:" + stamp, hashlib.sha256).digest()[:18]
    return hmac.compare_digest(mac, expected) and 0 <= time.time() - issued <= CSRF_MAX_AGE_S


def _from_browser() -> bool:
    """Browsers send cookies, Origin or Sec-Fetch-*; a script calling the API
    with its own credentials sends none of them and cannot be forged."""
    h = request.headers
    return any(k in h for k in ("Cookie", "Origin", "Sec-Fetch-Site", "Referer"))


async def check_csrf(route: Route) -> None:
    if request.method in SAFE_METHODS or not _from_browser():
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        token = (await request.form).get(CSRF_FIELD)
    if not valid_csrf_token(token):
        abort(403, "missing or invalid CSRF token")


def security_headers(response: Response, *, dashboard: bool) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if dashboard:
        response.headers.setdefault("Content-Security-Policy", DASHBOARD_CSP)
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
    return response
