"""CORS for the public ingest endpoint.

Origins in ``cors_origins`` match exactly; ``"*"`` in the list allows any
origin, without credentials (browsers refuse credentials with a wildcard).
A listed origin gets credentials so the opt-out cookie reaches the server.
Other origins get no Access-Control-Allow-Origin header at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from quart import Response

ALLOW_METHODS = "POST"
ALLOW_HEADERS = "Content-Type, Content-Encoding"
PREFLIGHT_MAX_AGE = "7200"  # Chromium caps preflight caching at two hours


def allow_origin(origin: str | None, allowed: Sequence[str]) -> str | None:
    """The Access-Control-Allow-Origin value for ``origin``, or ``None``."""
    if not origin:
        return None
    if origin in allowed:
        return origin
    if "*" in allowed:
        return "*"
    return None


def cors_headers(
    origin: str | None, allowed: Sequence[str], retry_after: bool
) -> list[tuple[str, str]]:
    """The CORS headers of an answer to ``origin`` (``retry_after``: the
    answer has a ``Retry-After``, which a cross-origin page may read only
    when told)."""
    out = [("Vary", "Origin")] if allowed else []
    value = allow_origin(origin, allowed)
    if value is None:
        return out
    out.append(("Access-Control-Allow-Origin", value))
    if value != "*":
        out.append(("Access-Control-Allow-Credentials", "true"))
    if retry_after:
        out.append(("Access-Control-Expose-Headers", "Retry-After"))
    return out


def apply_cors(response: Response, origin: str | None, allowed: Sequence[str]) -> bool:
    """Add :func:`cors_headers` to ``response`` (``Vary`` merged into what
    it has); ``True`` if ``origin`` may read."""
    may_read = False
    for name, value in cors_headers(origin, allowed, "Retry-After" in response.headers):
        if name == "Vary":
            response.vary.add(value)
        else:
            response.headers[name] = value
            may_read = may_read or name == "Access-Control-Allow-Origin"
    return may_read


def preflight_response(origin: str | None, allowed: Sequence[str]) -> Response:
    """204 with the allow headers for a listed origin, 403 for any other."""
    response = Response(b"", status=204)
    if not apply_cors(response, origin, allowed):
        response = Response(
            b'{"error":"origin not allowed"}', status=403, content_type="application/json"
        )
        if allowed:
            response.vary.add("Origin")
        return response
    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
