"""``POST <mount>/events``: where recorders send their batches.

Cheap refusals come first (privacy signals, the client's rate, content
type, declared size), then the request waits for its turn (see
:mod:`.admission`), the body is read and inflated as a stream under the
caps, its events counted, then parsed, checked, and handed to the pipeline.
Answers are 204 with no body, or a JSON ``{"error": ...}`` with 400, 403
(preflight only), 408, 413, 415, 422, 429, 500 or 503.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import orjson
from quart import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..app import Sentiero, get_state
from ..hookspecs import hookimpl
from ..routing import Route
from ..settings import Settings
from ..store import RequestMeta
from ..utils import header, now_ms
from .admission import BUSY_RETRY_AFTER, Turn, admission_of
from .cors import apply_cors, preflight_response
from .decoding import BodyDecoder, parse_encoding, read_body
from .envelope import (
    count_events,
    count_events_so_far,
    parse_json,
    starts_with_snapshot,
    validate_envelope,
)
from .errors import IngestError
from .ip import client_address, stored_address
from .opt_out import opt_out
from .pipeline import store_batch

#: text/plain is what sendBeacon sends for a string, octet-stream for a blob
CONTENT_TYPES = frozenset({"application/json", "text/plain", "application/octet-stream", ""})
MAX_USER_AGENT = 512
#: Objects per event below which counting events while inflating is not worth it.
BRACES_PER_EVENT = 4
#: Where the envelope's fields and its first event's type must be found.
SNAPSHOT_HEAD_BYTES = 64 * 1024


def no_content() -> Response:
    # A content type given up front spares werkzeug's lookup of a missing
    # one, which raises and catches an exception: a third of the cost.
    response = Response(b"", status=204, content_type="text/plain")
    del response.headers["Content-Type"]
    return response


def error_response(status: int, reason: str, retry_after: int | None = None) -> Response:
    response = Response(
        orjson.dumps({"error": reason}), status=status, content_type="application/json"
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def declined(settings: Settings) -> bool:
    """The visitor asked not to be recorded (checked again here because a
    recorder may be stale, cached or not ours)."""
    headers = request.headers
    if settings.respect_gpc and (header(headers, "Sec-GPC") or "").strip() == "1":
        return True
    if settings.respect_dnt and (header(headers, "DNT") or "").strip() == "1":
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


def _check_headers(settings: Settings) -> str:
    """The body's encoding; refusals that need no byte of the body."""
    if request.mimetype not in CONTENT_TYPES:
        raise IngestError(415, "unsupported content type (use application/json or text/plain)")
    declared = request.content_length
    if declared is not None and declared > settings.max_request_bytes:
        raise IngestError(413, f"request body over {settings.max_request_bytes} bytes")
    declared_encoding = header(request.headers, "Content-Encoding")
    # sendBeacon cannot set headers: it says "?encoding=gzip" instead
    query = None if declared_encoding else request.args.get("encoding")
    return parse_encoding(declared_encoding, query)


async def _read(settings: Settings, encoding: str, turn: Turn) -> bytes:
    """The decoded body; every refusal here is made while it is read."""
    max_events = settings.max_events_per_request
    decoder = BodyDecoder(
        encoding,
        max_raw=settings.max_request_bytes,
        max_decoded=settings.max_decoded_bytes,
        hold_at=turn.hold_at,
        check_head=None
        if max_events is None
        else partial(count_events_so_far, max_events=max_events),
        # an event holds a few objects: fewer "{" than this is too few events to look at
        check_from=BRACES_PER_EVENT * (max_events or 0),
    )

    async def make_room() -> int | None:
        if turn.tier == turn.large_tier:
            raise IngestError(413, "decoded body has too many JSON objects and arrays for its size")
        tier = turn.next_tier(decoder.weight)
        # Only a full snapshot may be larger than an ordinary batch: say no
        # here, from its first bytes, before waiting for room to hold it.
        if tier == turn.large_tier and not starts_with_snapshot(decoder.head(SNAPSHOT_HEAD_BYTES)):
            raise IngestError(
                413, f"decoded body over {turn.batch_limit} bytes and not a full snapshot"
            )
        await turn.move(tier)
        return turn.hold_at

    try:
        # a client trickling its body must not hold a request open for ever
        async with asyncio.timeout(current_app.config["BODY_TIMEOUT"]):
            return await read_body(request.body, decoder, make_room)
    except IngestError as exc:
        exc.body_unread = True
        raise
    except RequestEntityTooLarge:
        error = IngestError(413, f"request body over {settings.max_request_bytes} bytes")
        error.body_unread = True
        raise error from None
    except TimeoutError:
        error = IngestError(408, "request body took too long to arrive")
        error.body_unread = True
        raise error from None


async def _ingest(state: Sentiero) -> Response:
    settings = state.settings
    if declined(settings):
        return unread_body(no_content())
    admission = admission_of(state)
    try:
        if admission.limiter is not None:
            admission.limiter.check(client_address(request.scope))
        encoding = _check_headers(settings)
    except IngestError as exc:
        exc.body_unread = True
        raise
    async with admission.gate.turn() as turn:
        body = await _read(settings, encoding, turn)
        return await _parse_and_store(state, body, turn.tier == turn.large_tier)


async def _parse_and_store(state: Sentiero, body: bytes, large: bool) -> Response:
    settings = state.settings
    max_events = settings.max_events_per_request
    if max_events is not None and large:
        # Bodies of an ordinary batch's size were counted while inflated, or
        # hold too few objects to matter: a parse then costs no more than the
        # ordinary allowance. A snapshot's is counted before it is parsed.
        count_events(body, max_events)
    envelope = validate_envelope(parse_json(body), max_events=max_events)
    del body  # the events are all that is needed now
    if large and not any(event["type"] == 2 for event in envelope.events):
        raise IngestError(
            413, f"decoded body over {settings.max_batch_bytes} bytes and not a full snapshot"
        )
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
    origin = header(request.headers, "Origin")
    allowed = state.settings.cors_origins
    if request.method == "OPTIONS":
        return preflight_response(origin, allowed)
    try:
        response = await _ingest(state)
    except IngestError as exc:
        retry_after = exc.retry_after
        if exc.status == 503 and retry_after is None:
            retry_after = BUSY_RETRY_AFTER
        response = error_response(exc.status, exc.reason, retry_after)
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
