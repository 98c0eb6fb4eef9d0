"""Opaque cursors: what a store produced decodes, anything else is refused."""

from __future__ import annotations

import pytest

from sentiero_core.store import InvalidCursor
from sentiero_core.store.cursors import decode_cursor, encode_cursor


@pytest.mark.parametrize("value", [[1, 2, 3], [1700000000000, "sess-😀"], []])
def test_cursor_round_trips(value: list[object]) -> None:
    cursor = encode_cursor(value)
    assert cursor.isascii() and "=" not in cursor
    assert decode_cursor(cursor) == value


def test_every_single_character_change_is_detected() -> None:
    cursor = encode_cursor([1700000000000, 12, 3])
    alphabet = "AbZ09-_"
    for i in range(len(cursor)):
        for ch in alphabet:
            forged = cursor[:i] + ch + cursor[i + 1 :]
            if forged == cursor:
                continue
            try:
                value = decode_cursor(forged)
            except InvalidCursor:
                continue
            # The last character's spare bits may not change the bytes at all.
            assert value == [1700000000000, 12, 3], forged


@pytest.mark.parametrize("cursor", ["", "a", "!!!!", "AAAAAAAAAAAA", "bm90IGEgY3Vyc29y"])
def test_garbage_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_overlong_cursor_is_refused_unread() -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor(["x" * 2000]))


def test_wrong_shape_is_invalid() -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor({"a": 1}))
    assert decode_cursor(encode_cursor({"a": 1}), dict) == {"a": 1}


def test_invalid_cursor_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        decode_cursor("nope")
