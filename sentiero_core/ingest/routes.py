"""``POST <mount>/events``: where recorders send their batches.

Cheap refusals come first (privacy signals, the client's rate, content
type, declared size), then the request waits for its turn (see
:mod:`.admission`), the body is read and inflated as a stream under the
caps, its events counted, then parsed, checked, and handed to the pipeline.
Answers are 204 with no body, or a JSON ``{"error": ...}`` with 400, 403
(preflight only), 408, 413, 415, 422, 429, 500 or 503. :func:`answer`
makes them from the ASGI scope alone: Quart's view below serves them, and
so does :mod:`.direct`, past Quart, whenever it may.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from functools import partial
from typing import Any

import orjson
from quart import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..app import INGEST_ENDPOINT, Sentiero, get_state
from ..hookspecs import hookimpl
from ..routing import Route
from ..settings import Settings
from ..store import RequestMeta
from ..utils import header, now_ms
from .admission import BUSY_RETRY_AFTER, Turn, admission_of
from .cors import cors_headers, preflight_response
from .decoding import BodyDecoder, parse_encoding, read_body
from .envelope import (
    count_events,
    count_events_so_far,
    parse_json,
    starts_with_snapshot,
    validate_envelope,
)
from .errors import IngestError
from .incoming import Incoming, Reply
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


def declined(settings: Settings, incoming: Incoming) -> bool:
    """The visitor asked not to be recorded (checked again here because a
    recorder may be stale, cached or not ours)."""
    if settings.respect_gpc and (incoming.header(b"sec-gpc") or "").strip() == "1":
        return True
    if settings.respect_dnt and (incoming.header(b"dnt") or "").strip() == "1":
        return True
    if settings.user_opt_out:
        value = incoming.cookie(settings.opt_out_cookie_name)
        if value is not None and value not in ("", "0"):
            return True
    return False


def _check_headers(settings: Settings, incoming: Incoming) -> str:
    """The body's encoding; refusals that need no byte of the body."""
    if incoming.mimetype not in CONTENT_TYPES:
        raise IngestError(415, "unsupported content type (use application/json or text/plain)")
    declared = incoming.content_length
    if declared is not None and declared > settings.max_request_bytes:
        raise IngestError(413, f"request body over {settings.max_request_bytes} bytes")
    declared_encoding = incoming.header(b"content-encoding")
    # sendBeacon cannot set headers: it says "?encoding=gzip" instead
    query = None if declared_encoding else incoming.query("encoding")
    return parse_encoding(declared_encoding, query)


async def _read(
    settings: Settings,
    encoding: str,
    turn: Turn,
    chunks: AsyncIterable[bytes],
    body_timeout: float | None,
) -> bytes:
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
        async with asyncio.timeout(body_timeout):
            return await read_body(chunks, decoder, make_room)
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


async def _ingest(
    state: Sentiero,
    incoming: Incoming,
    chunks: AsyncIterable[bytes],
    body_timeout: float | None,
) -> Reply:
    settings = state.settings
    if declined(settings, incoming):
        return Reply(204, close=True)
    admission = admission_of(state)
    try:
        if admission.limiter is not None:
            admission.limiter.check(client_address(incoming.scope))
        encoding = _check_headers(settings, incoming)
    except IngestError as exc:
        exc.body_unread = True
        raise
    async with admission.gate.turn() as turn:
        body = await _read(settings, encoding, turn, chunks, body_timeout)
        await _parse_and_store(state, incoming, body, turn.tier == turn.large_tier)
    return Reply(204)


async def _parse_and_store(state: Sentiero, incoming: Incoming, body: bytes, large: bool) -> None:
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
    user_agent = incoming.header(b"user-agent")
    meta = RequestMeta(
        received_at=now_ms(),
        ip=stored_address(incoming.scope, anonymize_ip=settings.anonymize_ip),
        user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
    )
    await store_batch(state, envelope, meta)


async def answer(
    state: Sentiero,
    incoming: Incoming,
    chunks: AsyncIterable[bytes],
    body_timeout: float | None,
) -> Reply:
    """The answer to ``POST <mount>/events``, whichever path serves it."""
    try:
        return await _ingest(state, incoming, chunks, body_timeout)
    except IngestError as exc:
        retry_after = exc.retry_after
        if exc.status == 503 and retry_after is None:
            retry_after = BUSY_RETRY_AFTER
        return Reply(
            exc.status, orjson.dumps({"error": exc.reason}), retry_after, close=exc.body_unread
        )


def reply_headers(
    reply: Reply, incoming: Incoming, settings: Settings, *, framing: bool = True
) -> list[tuple[str, str]]:
    """The reply's headers with CORS (``framing``: see :meth:`Reply.headers`)."""
    cors = cors_headers(
        incoming.header(b"origin"), settings.cors_origins, reply.retry_after is not None
    )
    return reply.headers(incoming.http_version, cors, framing=framing)


async def ingest_events() -> Response:
    state = get_state()
    allowed = state.settings.cors_origins
    if request.method == "OPTIONS":
        return preflight_response(header(request.headers, "Origin"), allowed)
    incoming = Incoming(request.scope)
    reply = await answer(state, incoming, request.body, current_app.config["BODY_TIMEOUT"])
    # (a content type given up front spares werkzeug's costly lookup of a
    # missing one; a reply without a body then drops it)
    response = Response(
        reply.body,
        status=reply.status,
        content_type="application/json" if reply.body else "text/plain",
    )
    if not reply.body:
        del response.headers["Content-Type"]
    for name, value in reply_headers(reply, incoming, state.settings, framing=False):
        response.headers.add(name, value)
    return response


@hookimpl
def register_routes(settings: Settings) -> list[Any]:
    return [
        Route(
            "/events",
            ingest_events,
            methods=("POST", "OPTIONS"),
            public=True,
            name=INGEST_ENDPOINT,
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
