"""Checking the JSON envelope a recorder posts before anything else reads it.

Shape (see the recording contract)::

    {"v": 1, "session_id": "<id>", "window_id": "<id>", "seq": 3,
     "sent_at": 1700000000000, "dropped": 0, "events": [<rrweb events>]}

Only the ids and ``events`` are required. Malformed JSON is a 400, a valid
document of the wrong shape a 422 naming the field, too many events a 413.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import IngestError

ENVELOPE_VERSION = 1
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
# rrweb timestamps are ms since the epoch; 2**53 keeps them exact as floats
# and inside every store's 64-bit integer columns.
MAX_TIMESTAMP = 2**53
MAX_EVENT_TYPE = 2**31
MAX_COUNTER = 2**53


@dataclass(slots=True)
class Envelope:
    session_id: str
    window_id: str
    events: list[dict[str, Any]]
    seq: int | None = None
    sent_at: int | None = None
    dropped: int = 0


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_NOT_JSON = "body is not valid JSON"


def count_events(body: bytes, max_events: int) -> None:
    """Refuse (413) a body with more than ``max_events`` events before it
    is parsed into objects.

    Every event is an object, so a body with no more ``{`` than
    ``max_events`` passes at once (what almost every batch does). Any other
    is walked: the envelope's keys one by one, and its ``events`` list one
    event at a time, each dropped once read, so the refusal comes after at
    most ``max_events + 1`` events exist. Bodies this walk cannot read are
    left to :func:`parse_json`, which says what is wrong with them.
    """
    if body.count(b"{") <= max_events:
        return
    try:
        _walk(body.decode("utf-8"), max_events, [0])
    except (ValueError, IndexError, RecursionError):
        return


def count_events_so_far(head: bytes, max_events: int) -> bool:
    """The same refusal from the first bytes of a body still arriving, so
    that a body of many small events is refused after inflating only a
    little of it. ``False`` once checking its next bytes cannot help: its
    first event is not complete yet (a snapshot being read), or it is no
    envelope at all (left to the parse)."""
    counted = [0]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        _walk(text, max_events, counted)
    except (ValueError, IndexError, RecursionError):
        return counted[0] > 0
    return False


def _space(text: str, pos: int) -> int:
    """The index of the first non-blank character at or after ``pos``."""
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _walk(text: str, max_events: int, counted: list[int]) -> None:
    """Read the envelope in ``text`` key by key and its events one at a
    time, counting them in ``counted[0]``; 413 past ``max_events``."""
    space = _space
    scan = _DECODER.raw_decode
    pos = space(text, 0)
    if text[pos] != "{":
        return
    pos = space(text, pos + 1)
    if text[pos] == "}":
        return
    while True:
        if text[pos] != '"':
            raise ValueError("expected a key")
        key, pos = scan(text, pos)
        pos = space(text, pos)
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos = space(text, pos + 1)
        if key == "events" and text[pos] == "[":
            pos = space(text, pos + 1)
            counted[0] = 0
            while text[pos] != "]":
                _event, pos = scan(text, pos)
                counted[0] += 1
                if counted[0] > max_events:
                    raise IngestError(413, f"events: more than {max_events} events in one request")
                pos = space(text, pos)
                if text[pos] == ",":
                    pos = space(text, pos + 1)
                elif text[pos] != "]":
                    raise ValueError("expected ',' or ']'")
            pos += 1
        else:
            _value, pos = scan(text, pos)
        pos = space(text, pos)
        if text[pos] == "}":
            return
        if text[pos] != ",":
            raise ValueError("expected ',' or '}'")
        pos = space(text, pos + 1)


def starts_with_snapshot(head: bytes) -> bool:
    """Whether the envelope that ``head`` begins has a full snapshot (rrweb
    type 2) as its first event, read from the first bytes alone: the
    recorder sends an event too large for an ordinary batch in a batch of
    its own, first, and rrweb writes an event's ``type`` before its data."""
    text = head.decode("utf-8", "ignore")
    try:
        return _first_event_type(text) == 2
    except (ValueError, IndexError, RecursionError):
        return False


def _first_event_type(text: str) -> Any:
    space = _space
    scan = _DECODER.raw_decode
    pos = space(text, 0)
    if text[pos] != "{":
        return None
    pos = space(text, pos + 1)
    while True:
        key, pos = scan(text, pos)
        pos = space(text, pos)
        if text[pos] != ":":
            return None
        pos = space(text, pos + 1)
        if key == "events":
            if text[pos] != "[":
                return None
            pos = space(text, pos + 1)
            if text[pos] != "{":
                return None
            pos = space(text, pos + 1)
            key, pos = scan(text, pos)
            if key != "type":
                return None
            pos = space(text, pos)
            if text[pos] != ":":
                return None
            return scan(text, space(text, pos + 1))[0]
        _value, pos = scan(text, pos)
        pos = space(text, pos)
        if text[pos] != ",":
            return None
        pos = space(text, pos + 1)


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc):
            raise IngestError(400, "body JSON is nested too deeply") from None
        raise IngestError(400, _NOT_JSON) from None


def _id(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key)
    if value is None:
        raise IngestError(422, f"{key}: missing")
    if not isinstance(value, str) or ID_PATTERN.fullmatch(value) is None:
        raise IngestError(422, f"{key}: expected 8 to 64 characters from A-Z a-z 0-9 _ -")
    return value


def _counter(doc: dict[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_COUNTER:
        raise IngestError(422, f"{key}: expected a non-negative integer")
    return value


def _check_event(event: Any, index: int) -> None:
    if type(event) is not dict:
        raise IngestError(422, f"events[{index}]: expected an object")
    etype = event.get("type")
    # bool is an int subclass in Python; rrweb never sends one
    if type(etype) is not int or not 0 <= etype < MAX_EVENT_TYPE:
        raise IngestError(422, f"events[{index}].type: expected a non-negative integer")
    ts = event.get("timestamp")
    if type(ts) is not int and type(ts) is not float:
        raise IngestError(422, f"events[{index}].timestamp: expected a number")
    if not 0 <= ts <= MAX_TIMESTAMP:
        raise IngestError(422, f"events[{index}].timestamp: out of range")


def validate_envelope(doc: Any, *, max_events: int | None) -> Envelope:
    """The checked envelope, or :class:`IngestError` naming what is wrong."""
    if type(doc) is not dict:
        raise IngestError(400, "body must be a JSON object")
    version = doc.get("v", ENVELOPE_VERSION)
    if version != ENVELOPE_VERSION or type(version) is not int:
        raise IngestError(422, f"v: unsupported envelope version (expected {ENVELOPE_VERSION})")
    session_id = _id(doc, "session_id")
    window_id = _id(doc, "window_id")
    events = doc.get("events")
    if type(events) is not list:
        raise IngestError(422, "events: expected a list")
    if max_events is not None and len(events) > max_events:
        raise IngestError(413, f"events: more than {max_events} events in one request")
    for index, event in enumerate(events):
        # the common case inline (a call per event showed in the request's
        # cost); _check_event names what is wrong with any other
        if type(event) is dict:
            etype = event.get("type")
            ts = event.get("timestamp")
            if (
                type(etype) is int
                and 0 <= etype < MAX_EVENT_TYPE
                and (type(ts) is int or type(ts) is float)
                and 0 <= ts <= MAX_TIMESTAMP
            ):
                continue
        _check_event(event, index)
    return Envelope(
        session_id=session_id,
        window_id=window_id,
        events=events,
        seq=_counter(doc, "seq"),
        sent_at=_counter(doc, "sent_at"),
        dropped=_counter(doc, "dropped") or 0,
    )
