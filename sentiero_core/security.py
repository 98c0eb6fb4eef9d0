"""Access control, CSRF tokens and response headers for the dashboard."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from quart import (
    Response,
    abort,
    after_this_request,
    current_app,
    g,
    has_request_context,
    request,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from .utils import await_me_maybe, header, set_default_header

ResponseReturn = Response | WerkzeugResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: a dashboard page left open longer than this needs a reload to delete
CSRF_MAX_AGE_S = 2 * 3600
CSRF_FIELD = "csrf_token"
CSRF_COOKIE = "sentiero_csrf"
CSRF_HEADER = "X-CSRF-Token"


def dashboard_csp(resource_origins: Sequence[str] = ()) -> str:
    """The dashboard's Content-Security-Policy. Images, styles, fonts and
    media load from the dashboard itself and ``resource_origins`` only: a
    replayed page (rebuilt in an ``about:blank`` frame, which inherits this
    policy) can reach no other host, so a planted recording cannot tell
    anyone when it is watched."""
    extra = "".join(" " + origin for origin in resource_origins)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # rrweb-player and the replayed page's own styles are inline
            f"style-src 'self' 'unsafe-inline'{extra}",
            f"img-src 'self' data: blob:{extra}",
            f"font-src 'self' data:{extra}",
            f"media-src 'self' blob:{extra}",
            "connect-src 'self'",
            "frame-src 'self' blob: about:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


DASHBOARD_CSP = dashboard_csp()


def _serializer() -> URLSafeTimedSerializer:
    secret = str(current_app.extensions["sentiero"].settings.secret_key)
    return URLSafeTimedSerializer(secret, salt="sentiero.csrf")


async def check_access(settings: Any) -> None:
    """Abort with 403 unless ``auth_callback`` allows the request; then
    remember who the user is (:func:`current_user`)."""
    allowed: Any = True
    if settings.auth_callback is not None:
        try:
            allowed = await await_me_maybe(settings.auth_callback(request))
        except Exception:
            current_app.logger.exception("auth_callback raised; denying the request")
            allowed = False
        if not allowed:
            abort(403, "the dashboard's auth_callback denied this request")
    user: Any = allowed if isinstance(allowed, str) else None
    if settings.current_user is not None:
        try:
            user = await await_me_maybe(settings.current_user(request))
        except Exception:
            # Access was granted; an audit record naming nobody beats a 500.
            current_app.logger.exception("current_user raised; the user is unknown")
            user = None
    g.sentiero_user = str(user)[:200] if user not in (None, "") else None


def current_user() -> str | None:
    """The dashboard user of this request (``current_user`` setting, else a
    string returned by ``auth_callback``), or ``None``: no request, a public
    route, or a deployment that does not say."""
    if not has_request_context():
        return None
    user = g.get("sentiero_user")
    return user if isinstance(user, str) else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _identity(*, create: bool) -> str | None:
    """Who a token is for: the request's ``Authorization`` header when it has
    one (HTTP authentication in front of the dashboard), else this browser's
    ``sentiero_csrf`` cookie, created on the first token it is given. A token
    taken from another user or browser is then worth nothing here."""
    authorization = request.headers.get("Authorization")
    if authorization:
        return "authorization:" + _digest(authorization)
    browser = request.cookies.get(CSRF_COOKIE) or g.get("sentiero_csrf_cookie")
    if not browser:
        if not create:
            return None
        browser = g.sentiero_csrf_cookie = secrets.token_urlsafe(18)
        path = request.root_path + current_app.extensions["sentiero"].settings.mount_path

        @after_this_request
        def _set_cookie(response: ResponseReturn) -> ResponseReturn:
            response.set_cookie(
                CSRF_COOKIE,
                browser,
                path=path or "/",
                secure=request.scheme == "https",
                httponly=True,
                samesite="Strict",
            )
            return response

    return "browser:" + _digest(browser)


def csrf_token(action: str) -> str:
    """A signed, timestamped token allowing ``action`` (the endpoint name of
    the route it is for, e.g. ``"sentiero.session_delete"``) to whoever made
    this request; valid for :data:`CSRF_MAX_AGE_S` seconds."""
    return _serializer().dumps([action, _identity(create=True)])


def valid_csrf_token(token: str | None, action: str) -> bool:
    identity = _identity(create=False)
    if not token or identity is None:
        return False
    try:
        payload = _serializer().loads(token, max_age=CSRF_MAX_AGE_S)
    except BadData:
        return False
    return bool(payload == [action, identity])


def _from_browser() -> bool:
    """Browsers send cookies, Origin or Sec-Fetch-*; a script calling the API
    with its own credentials sends none of them and cannot be forged."""
    h = request.headers
    return any(k in h for k in ("Cookie", "Origin", "Sec-Fetch-Site", "Referer"))


async def check_csrf() -> None:
    """Abort with 403 unless a request from a browser that changes something
    carries a token for this route's endpoint (header or form field)."""
    if request.method in SAFE_METHODS or not _from_browser():
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        token = (await request.form).get(CSRF_FIELD)
    if not valid_csrf_token(token, request.endpoint or ""):
        abort(403, "missing or invalid CSRF token")


def relative_location(response: Response) -> Response:
    """Drop the scheme and host from a ``Location`` built from this request
    (Werkzeug's trailing-slash redirects use the ``Host`` header): a forged
    ``Host`` must not reach a redirect that a cache keeps for others."""
    location = header(response.headers, "Location")
    if not location:
        return response
    own = f"{request.scheme}://{request.host}"
    if location.lower().startswith(own.lower() + "/"):
        # one leading slash: "//x" or "/\\x" would name another host
        response.headers["Location"] = "/" + location[len(own) :].lstrip("/\\")
    return response


#: What every response of Sentiero's carries, public routes' included.
PUBLIC_HEADERS = (("X-Content-Type-Options", "nosniff"),)


def security_headers(response: Response, *, dashboard: bool) -> Response:
    headers = response.headers
    for name, value in PUBLIC_HEADERS:
        set_default_header(headers, name, value)
    if dashboard:
        set_default_header(headers, "Content-Security-Policy", DASHBOARD_CSP)
        set_default_header(headers, "X-Frame-Options", "SAMEORIGIN")
        set_default_header(headers, "Referrer-Policy", "same-origin")
        set_default_header(headers, "Cache-Control", "no-store")
    return response
