"""Opaque cursors: JSON, base64url, with a checksum so a hand-made or
truncated cursor fails as InvalidCursor instead of paging wrongly."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from .base import InvalidCursor


def _check(body: bytes) -> bytes:
    return hashlib.blake2s(body, digest_size=4, person=b"sntcur").digest()


def encode_cursor(value: Any) -> str:
    body = orjson.dumps(value)
    return base64.urlsafe_b64encode(_check(body) + body).decode().rstrip("=")


#: No cursor we produce comes near this; longer input is refused unread.
MAX_CURSOR_LENGTH = 1024


def decode_cursor(cursor: str, shape: type | tuple[type, ...] = list) -> Any:
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
