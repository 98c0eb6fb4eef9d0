"""``POST <mount>/events``: where recorders send their batches.

Cheap refusals come first (privacy signals, content type, declared size),
then the body is read and inflated as a stream under both caps, parsed,
checked, and handed to the pipeline. Answers are 204 with no body, or a
JSON ``{"error": ...}`` with 400, 403 (preflight only), 408, 413, 415,
422, 500 or 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from quart import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..app import Sentiero, get_state
from ..hookspecs import hookimpl
from ..routing import Route
from ..settings import Settings
from ..store import RequestMeta
from ..utils import now_ms
from .cors import apply_cors, preflight_response
from .decoding import BodyDecoder, parse_encoding, read_body
from .envelope import parse_json, validate_envelope
from .errors import IngestError
from .ip import stored_address
from .opt_out import opt_out
from .pipeline import store_batch

#: text/plain is what sendBeacon sends for a string, octet-stream for a blob
CONTENT_TYPES = frozenset({"application/json", "text/plain", "application/octet-stream", ""})
MAX_USER_AGENT = 512


def no_content() -> Response:
    # A content type given up front spares werkzeug's lookup of a missing
    # one, which raises and catches an exception: a third of the cost.
    response = Response(b"", status=204, content_type="text/plain")
    del response.headers["Content-Type"]
    return response


def error_response(status: int, reason: str) -> Response:
    return Response(orjson.dumps({"error": reason}), status=status, content_type="application/json")


def declined(settings: Settings) -> bool:
    """The visitor asked not to be recorded (checked again here because a
    recorder may be stale, cached or not ours)."""
    headers = request.headers
    if settings.respect_gpc and headers.get("Sec-GPC", "").strip() == "1":
        return True
    if settings.respect_dnt and headers.get("DNT", "").strip() == "1":
        return True
    if settings.user_opt_out:
        value = request.cookies.get(settings.opt_out_cookie_name)
        if value is not None and value not in ("", "0"):
            return True
    return False


def unread_body(response: Response) -> Response:
    """The client is still sending a body we will not read: the server
    drops the connection after answering, so say so and keep clients from
    sending their next request down it (HTTP/1 only: HTTP/2 forbids the
    header and resets just the stream)."""
    if request.http_version.startswith("1"):
        response.headers["Connection"] = "close"
    return response


async def _read(settings: Settings) -> bytes:
    """The decoded body; every refusal here is made before or while it is read."""
    if request.mimetype not in CONTENT_TYPES:
        raise IngestError(415, "unsupported content type (use application/json or text/plain)")
    declared = request.content_length
    if declared is not None and declared > settings.max_request_bytes:
        raise IngestError(413, f"request body over {settings.max_request_bytes} bytes")
    header = request.headers.get("Content-Encoding")
    # sendBeacon cannot set headers: it says "?encoding=gzip" instead
    query = None if header else request.args.get("encoding")
    decoder = BodyDecoder(
        parse_encoding(header, query),
        max_raw=settings.max_request_bytes,
        max_decoded=settings.max_decoded_bytes,
    )
    try:
        # a client trickling its body must not hold a request open for ever
        async with asyncio.timeout(current_app.config["BODY_TIMEOUT"]):
            return await read_body(request.body, decoder)
    except RequestEntityTooLarge:
        raise IngestError(413, f"request body over {settings.max_request_bytes} bytes") from None
    except TimeoutError:
        raise IngestError(408, "request body took too long to arrive") from None


async def _ingest(state: Sentiero) -> Response:
    settings = state.settings
    if declined(settings):
        return unread_body(no_content())
    try:
        body = await _read(settings)
    except IngestError as exc:
        exc.body_unread = True
        raise
    envelope = validate_envelope(parse_json(body), max_events=settings.max_events_per_request)
    user_agent = request.headers.get("User-Agent")
    meta = RequestMeta(
        received_at=now_ms(),
        ip=stored_address(request.scope, anonymize_ip=settings.anonymize_ip),
        user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
    )
    await store_batch(state, envelope, meta)
    return no_content()


async def ingest_events() -> Response:
    state = get_state()
    origin = request.headers.get("Origin")
    allowed = state.settings.cors_origins
    if request.method == "OPTIONS":
        return preflight_response(origin, allowed)
    try:
        response = await _ingest(state)
    except IngestError as exc:
        response = error_response(exc.status, exc.reason)
        if exc.body_unread:
            unread_body(response)
    apply_cors(response, origin, allowed)
    return response


@hookimpl
def register_routes(settings: Settings) -> list[Any]:
    return [
        Route(
            "/events",
            ingest_events,
            methods=("POST", "OPTIONS"),
            public=True,
            name="sentiero.ingest_events",
            csrf=False,
        ),
        Route(
            "/opt-out",
            opt_out,
            methods=("POST", "OPTIONS"),
            public=True,
            name="sentiero.opt_out",
            csrf=False,
        ),
    ]
