"""Opaque cursors (private module: import from :mod:`sentiero_core.store`).

A cursor is JSON, base64url, with a checksum, so a hand-made or truncated
cursor fails as :class:`InvalidCursor` instead of paging wrongly. The two
cursors every store hands out are positions, never offsets, so they stay
valid while sessions grow or go:

- a listing cursor is the last summary's ``(started_at, session_id)``;
- an event cursor is the last event's ``(timestamp, batch seq, index in batch)``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from .types import InvalidCursor, SessionSummary

#: Where a listing stopped: the last summary's ``(started_at, session_id)``.
SessionPosition = tuple[int, str]
#: Where an event page stopped: ``(event time, batch seq, index in the batch)``.
EventPosition = tuple[int, int, int]

#: No cursor we produce comes near this; longer input is refused unread.
MAX_CURSOR_LENGTH = 1024


def _check(body: bytes) -> bytes:
    return hashlib.blake2s(body, digest_size=4, person=b"sntcur").digest()


def encode_cursor(value: Any) -> str:
    """An opaque cursor holding ``value`` (anything orjson writes)."""
    body = orjson.dumps(value)
    return base64.urlsafe_b64encode(_check(body) + body).decode().rstrip("=")


def decode_cursor(cursor: str, shape: type | tuple[type, ...] = list) -> Any:
    """The value :func:`encode_cursor` put in ``cursor``; :class:`InvalidCursor`
    for anything else, or for a value that is not an instance of ``shape``."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(f"invalid cursor: {str(cursor)[:40]!r}")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        check, body = raw[:4], raw[4:]
        if len(raw) < 5 or _check(body) != check:
            raise ValueError("checksum")
        value = orjson.loads(body)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidCursor(f"invalid cursor: {cursor[:40]!r}") from exc
    if not isinstance(value, shape):
        raise InvalidCursor(f"invalid cursor: {cursor[:40]!r}")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def session_cursor(summary: SessionSummary) -> str:
    """The listing cursor that continues after ``summary``."""
    return encode_cursor([summary.started_at, summary.session_id])


def parse_session_cursor(cursor: str | None) -> SessionPosition | None:
    """The position in a listing cursor (``None`` for ``None``); :class:`InvalidCursor`
    for a cursor :func:`session_cursor` did not make."""
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if len(value) != 2 or not _is_int(value[0]) or not isinstance(value[1], str):
        raise InvalidCursor(f"invalid cursor: {cursor[:40]!r}")
    return (value[0], value[1])


def event_cursor(position: EventPosition) -> str:
    """The event cursor that continues after the event at ``position``."""
    return encode_cursor(list(position))


def parse_event_cursor(cursor: str | None) -> EventPosition | None:
    """The position in an event cursor (``None`` for ``None``); :class:`InvalidCursor`
    for a cursor :func:`event_cursor` did not make."""
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if (
        len(value) != 3
        or not all(_is_int(v) for v in value)
        or not all(0 <= v < 2**63 for v in value)
    ):
        raise InvalidCursor(f"invalid cursor: {cursor[:40]!r}")
    return (value[0], value[1], value[2])
