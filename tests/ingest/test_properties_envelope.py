"""Properties of the envelope check (sentiero_core.ingest.envelope): any
bytes, any JSON value, any field of any type gives a checked envelope whose
every field is what the contract promises, or an IngestError (400, 413 or
422) naming the field, never another exception."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentiero_core.ingest.envelope import (
    ID_PATTERN,
    MAX_COUNTER,
    MAX_EVENT_TYPE,
    MAX_TIMESTAMP,
    Envelope,
    parse_json,
    validate_envelope,
)
from sentiero_core.ingest.errors import IngestError
from tests.ingest.strategies import envelope_docs, ids, json_values, valid_events

FIELDS = ("v", "session_id", "window_id", "seq", "sent_at", "dropped", "events")


def check(doc: Any, max_events: int | None = None) -> Envelope | IngestError:
    """The envelope after a round trip through JSON text, or the refusal."""
    try:
        return validate_envelope(parse_json(orjson.dumps(doc)), max_events=max_events)
    except IngestError as exc:
        return exc


def assert_contract(env: Envelope) -> None:
    assert ID_PATTERN.fullmatch(env.session_id) and ID_PATTERN.fullmatch(env.window_id)
    for counter in (env.seq, env.sent_at, env.dropped):
        assert counter is None or (type(counter) is int and 0 <= counter <= MAX_COUNTER)
    for event in env.events:
        assert type(event) is dict
        assert type(event["type"]) is int and 0 <= event["type"] < MAX_EVENT_TYPE
        assert type(event["timestamp"]) in (int, float)
        assert 0 <= event["timestamp"] <= MAX_TIMESTAMP


def named_field(reason: str) -> str:
    return reason.partition(":")[0].partition("[")[0]


@given(json_values)
def test_any_json_value_is_an_envelope_or_a_clean_refusal(doc: Any) -> None:
    result = check(doc)
    if isinstance(result, IngestError):
        assert result.status in (400, 422)
    else:
        assert_contract(result)


@given(envelope_docs, st.one_of(st.none(), st.integers(0, 8)))
def test_any_field_of_any_type_is_accepted_only_when_valid(
    doc: dict[str, Any], max_events: int | None
) -> None:
    result = check(doc, max_events)
    if isinstance(result, IngestError):
        assert result.status in (413, 422)
        assert named_field(result.reason) in FIELDS, result.reason
        # reasons never echo what the client sent
        for key in ("session_id", "window_id"):
            value = doc.get(key)
            if isinstance(value, str) and len(value) > 3:
                assert value not in result.reason
    else:
        assert_contract(result)
        assert result.events == doc["events"]
        assert max_events is None or len(result.events) <= max_events


@given(
    ids,
    ids,
    st.lists(valid_events, max_size=6),
    st.one_of(st.none(), st.integers(0, MAX_COUNTER)),
)
def test_every_valid_envelope_is_accepted_as_sent(
    session_id: str, window_id: str, evs: list[dict[str, Any]], seq: int | None
) -> None:
    doc = {"v": 1, "session_id": session_id, "window_id": window_id, "events": evs}
    if seq is not None:
        doc["seq"] = seq
    result = check(doc)
    assert isinstance(result, Envelope), result
    assert (result.session_id, result.window_id, result.seq) == (session_id, window_id, seq)
    assert result.events == evs


@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_are_400(raw: bytes) -> None:
    try:
        doc = parse_json(raw)
    except IngestError as exc:
        assert exc.status == 400
    else:
        try:
            assert_contract(validate_envelope(doc, max_events=None))
        except IngestError as exc:
            assert exc.status in (400, 413, 422)


numerals = st.builds(
    lambda sign, digits, frac, exp: sign + digits + frac + exp,
    st.sampled_from(["", "-"]),
    st.from_regex(r"[1-9][0-9]{0,400}|0", fullmatch=True),
    st.sampled_from(["", ".0", ".5", ".000001"]),
    st.sampled_from(["", "e0", "e5", "e-5", "E+308", "e309", "e-400", "e999999"]),
)


@given(st.sampled_from(["seq", "sent_at", "dropped", "type", "timestamp", "v"]), numerals)
def test_huge_and_odd_numbers_are_refused_or_in_range(field: str, numeral: str) -> None:
    """Numbers as JSON text: past 64 bits, past a double, tiny, negative zero."""
    event = '{"type":3,"timestamp":1700000000000}'
    if field in ("type", "timestamp"):
        event = event.replace(f'"{field}":', f'"{field}":{numeral},"_":', 1)
        head = ""
    else:
        head = f'"{field}":{numeral},'
    raw = (
        f'{{{head}"session_id":"sess_0123456789","window_id":"win_0123456789","events":[{event}]}}'
    )
    try:
        assert_contract(validate_envelope(parse_json(raw.encode()), max_events=None))
    except IngestError as exc:
        assert exc.status in (400, 422)


@pytest.mark.parametrize("opener", ["[", '{"a":', '[{"b":'])
@given(depth=st.integers(1, 3000))
def test_deep_nesting_anywhere_is_refused_or_accepted(opener: str, depth: int) -> None:
    closer = {"[": "]", '{"a":': "}", '[{"b":': "}]"}[opener]
    nested = opener * depth + "0" + closer * depth
    for raw in (
        nested,
        f'{{"session_id":"sess_0123456789","window_id":"win_0123456789","x":{nested},"events":[]}}',
        '{"session_id":"sess_0123456789","window_id":"win_0123456789",'
        f'"events":[{{"type":3,"timestamp":1,"data":{nested}}}]}}',
    ):
        try:
            assert_contract(validate_envelope(parse_json(raw.encode()), max_events=None))
        except IngestError as exc:
            assert exc.status in (400, 422)
            if exc.status == 400 and "nested" not in exc.reason:
                assert exc.reason == "body must be a JSON object"


@given(st.text(min_size=1, max_size=40))
def test_unicode_ids_are_checked_by_their_characters(text: str) -> None:
    """Non-ASCII letters and digits (Arabic-Indic, full-width) are not ids."""
    doc = {"session_id": text, "window_id": "win_0123456789", "events": []}
    result = check(doc)
    ascii_id = text.isascii() and ID_PATTERN.fullmatch(text) is not None
    assert isinstance(result, Envelope) == ascii_id
