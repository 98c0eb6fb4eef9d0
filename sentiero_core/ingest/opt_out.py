"""``POST <mount>/opt-out``: the recorder says a visitor opted out.

It exists only with ``user_opt_out`` on (404 otherwise), and only to put
the opt-out on record: ``audit_log`` receives ``visitor_opted_out`` with
the session id and whether the store holds anything of that session. The
server keeps nothing else: no cookie is read or set, no address or user
agent is recorded.

Anyone can post here, so it is bounded: a body of at most
:data:`MAX_BODY` bytes holding one well-formed session id, each session id
audited once per process (:data:`REMEMBERED` ids), and at most
:data:`RATE_PER_MINUTE` records a minute per process (then 429), so a
flood costs a bounded number of audit records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

import orjson
from quart import Response, current_app, request

from ..app import get_state
from ..audit import VISITOR_OPTED_OUT, audit
from .cors import apply_cors, preflight_response
from .envelope import ID_PATTERN

log = logging.getLogger("sentiero.ingest")

MAX_BODY = 1024
REMEMBERED = 10_000
RATE_PER_MINUTE = 120
_KEY = "sentiero.opt_out"


class _Limits:
    """Per process: the ids already audited and a token bucket."""

    def __init__(self) -> None:
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.tokens = float(RATE_PER_MINUTE)
        self.refilled = time.monotonic()
        self.refused = 0

    def first_time(self, session_id: str) -> bool:
        if session_id in self.seen:
            self.seen.move_to_end(session_id)
            return False
        self.seen[session_id] = None
        if len(self.seen) > REMEMBERED:
            self.seen.popitem(last=False)
        return True

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(
            float(RATE_PER_MINUTE), self.tokens + (now - self.refilled) * RATE_PER_MINUTE / 60
        )
        self.refilled = now
        if self.tokens < 1:
            self.refused += 1
            return False
        self.tokens -= 1
        return True


def _error(status: int, reason: str) -> Response:
    return Response(orjson.dumps({"error": reason}), status=status, content_type="application/json")


async def _body() -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    data = b""
    async with asyncio.timeout(current_app.config["BODY_TIMEOUT"]):
        async for chunk in request.body:
            data += chunk
            if len(data) > MAX_BODY:
                return None
    return data


async def _opt_out() -> Response:
    state = get_state()
    if not state.settings.user_opt_out:
        return _error(404, "opt-out is not enabled on this server (user_opt_out)")
    if request.mimetype not in ("application/json", "text/plain", ""):
        return _error(415, "unsupported content type (use application/json or text/plain)")
    try:
        body = await _body()
    except TimeoutError:
        return _error(408, "request body took too long to arrive")
    if body is None:
        return _error(413, f"request body over {MAX_BODY} bytes")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _error(400, "the body is not JSON")
    session_id = payload.get("session_id") if isinstance(payload, dict) else None
    if not isinstance(session_id, str) or ID_PATTERN.fullmatch(session_id) is None:
        return _error(400, "session_id: expected 8 to 64 letters, digits, '-' or '_'")
    limits: _Limits = state.__dict__.setdefault(_KEY, _Limits())
    if not limits.first_time(session_id):
        return Response(b"", status=204)
    if not limits.take():
        limits.seen.pop(session_id, None)  # not recorded: a retry may be
        if limits.refused == 1 or limits.refused % 1000 == 0:
            log.warning("opt-out notices over %d a minute: refused (429)", RATE_PER_MINUTE)
        return _error(429, "too many opt-out notices; try again later")
    recorded = await state.store.get_session(session_id) is not None
    await audit(
        state.settings,
        VISITOR_OPTED_OUT,
        by=None,
        session_id=session_id,
        recorded=recorded,
        via="recorder",
    )
    return Response(b"", status=204)


async def opt_out() -> Any:
    settings = get_state().settings
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        return preflight_response(origin, settings.cors_origins)
    response = await _opt_out()
    apply_cors(response, origin, settings.cors_origins)
    return response
