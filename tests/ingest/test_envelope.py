"""Envelope checks: every refusal names the field, with its status."""

from __future__ import annotations

from typing import Any

import pytest

from sentiero_core.ingest.envelope import parse_json, validate_envelope
from sentiero_core.ingest.errors import IngestError
from tests.ingest.helpers import SESSION, WINDOW, click_event, envelope, meta_event


def refusal(doc: Any, max_events: int | None = None) -> tuple[int, str]:
    with pytest.raises(IngestError) as info:
        validate_envelope(doc, max_events=max_events)
    return info.value.status, info.value.reason


def test_valid_envelope_is_read() -> None:
    env = validate_envelope(envelope(dropped=3, seq=9), max_events=None)
    assert (env.session_id, env.window_id, env.seq, env.dropped) == (SESSION, WINDOW, 9, 3)
    assert [e["type"] for e in env.events] == [4, 3]


def test_only_ids_and_events_are_required() -> None:
    env = validate_envelope(
        {"session_id": SESSION, "window_id": WINDOW, "events": []}, max_events=None
    )
    assert (env.seq, env.sent_at, env.dropped, env.events) == (None, None, 0, [])


def test_unknown_event_types_are_accepted() -> None:
    events = [{"type": 7, "timestamp": 1.5, "data": {}}, {"type": 99, "timestamp": 2}]
    assert len(validate_envelope(envelope(events), max_events=None).events) == 2


@pytest.mark.parametrize("doc", [[], "text", 3, None])
def test_non_object_is_400(doc: Any) -> None:
    assert refusal(doc) == (400, "body must be a JSON object")


@pytest.mark.parametrize("key", ["session_id", "window_id"])
def test_missing_id_is_422(key: str) -> None:
    doc = envelope()
    del doc[key]
    assert refusal(doc) == (422, f"{key}: missing")


@pytest.mark.parametrize(
    "bad", ["short", "x" * 65, "has space 123", "semi;colon12", "ünïcode123", 12345678, ["a"]]
)
@pytest.mark.parametrize("key", ["session_id", "window_id"])
def test_bad_id_is_422(key: str, bad: Any) -> None:
    status, reason = refusal(envelope(**{key: bad}))
    assert status == 422 and reason.startswith(f"{key}: expected 8 to 64 characters")


def test_id_limits_are_inclusive() -> None:
    validate_envelope(envelope(session_id="a" * 8, window_id="B-_" * 21 + "z"), max_events=None)


@pytest.mark.parametrize("events", [{"0": {}}, "[]", None, 3])
def test_events_not_a_list_is_422(events: Any) -> None:
    doc = envelope()
    doc["events"] = events
    assert refusal(doc) == (422, "events: expected a list")


def test_event_not_an_object_is_422() -> None:
    assert refusal(envelope([meta_event(), [1, 2]])) == (422, "events[1]: expected an object")


@pytest.mark.parametrize("etype", [None, "3", 3.0, True, -1, 2**31])
def test_event_without_integer_type_is_422(etype: Any) -> None:
    event = click_event()
    event["type"] = etype
    if etype is None:
        del event["type"]
    assert refusal(envelope([event])) == (422, "events[0].type: expected a non-negative integer")


@pytest.mark.parametrize("ts", [None, "1700000000000", False, [1]])
def test_event_without_numeric_timestamp_is_422(ts: Any) -> None:
    event = click_event()
    event["timestamp"] = ts
    if ts is None:
        del event["timestamp"]
    assert refusal(envelope([event])) == (422, "events[0].timestamp: expected a number")


@pytest.mark.parametrize("ts", [-1, 2**53 + 1, 1e300])
def test_timestamp_out_of_range_is_422(ts: Any) -> None:
    event = click_event()
    event["timestamp"] = ts
    assert refusal(envelope([event])) == (422, "events[0].timestamp: out of range")


@pytest.mark.parametrize("key", ["seq", "sent_at", "dropped"])
@pytest.mark.parametrize("bad", [-1, "3", 1.5, True])
def test_bad_counter_is_422(key: str, bad: Any) -> None:
    assert refusal(envelope(**{key: bad})) == (422, f"{key}: expected a non-negative integer")


@pytest.mark.parametrize("version", [2, "1", 0])
def test_unknown_version_is_422(version: Any) -> None:
    assert refusal(envelope(v=version))[0] == 422


def test_too_many_events_is_413() -> None:
    events = [click_event(1 + i) for i in range(4)]
    assert validate_envelope(envelope(events[:3]), max_events=3)
    assert refusal(envelope(events), max_events=3) == (
        413,
        "events: more than 3 events in one request",
    )


def test_bad_json_is_400() -> None:
    with pytest.raises(IngestError) as info:
        parse_json(b'{"session_id": ')
    assert (info.value.status, info.value.reason) == (400, "body is not valid JSON")


def test_invalid_utf8_is_400() -> None:
    with pytest.raises(IngestError) as info:
        parse_json(b'{"a": "\xff\xfe"}')
    assert info.value.status == 400


def test_json_nested_past_orjson_limit_is_400() -> None:
    with pytest.raises(IngestError) as info:
        parse_json(b"[" * 2000 + b"]" * 2000)
    assert (info.value.status, info.value.reason) == (400, "body JSON is nested too deeply")
