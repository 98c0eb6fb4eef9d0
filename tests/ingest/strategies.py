"""Hypothesis strategies for what a client can post: JSON values of every
kind JSON can carry, rrweb-shaped events and envelopes with any field of any
type. Shared by the property tests (tests/ingest/test_properties_*.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sentiero_core.ingest.envelope import ID_PATTERN, MAX_COUNTER, MAX_EVENT_TYPE, MAX_TIMESTAMP

# Every number JSON can carry through orjson: 64-bit integers both signed
# and unsigned, and finite doubles (JSON has no NaN or infinity).
numbers = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 2**31, 2**53, 2**53 + 1, 2**63, 2**64 - 1, 1e300, -0.0]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
ids = st.from_regex(ID_PATTERN, fullmatch=True)
# what a bad id looks like: the wrong length, other alphabets, other types
bad_ids = st.one_of(
    st.text(max_size=80).filter(lambda s: ID_PATTERN.fullmatch(s) is None), json_values
)

valid_events = st.fixed_dictionaries(
    {
        "type": st.integers(0, MAX_EVENT_TYPE - 1),
        "timestamp": st.one_of(
            st.integers(0, MAX_TIMESTAMP), st.floats(0, MAX_TIMESTAMP, allow_nan=False)
        ),
    },
    optional={"data": json_values},
)
events = st.one_of(valid_events, json_values)


def field_values(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, json_values)


envelope_docs = st.fixed_dictionaries(
    {},
    optional={
        "v": field_values(st.just(1)),
        "session_id": st.one_of(ids, bad_ids),
        "window_id": st.one_of(ids, bad_ids),
        "seq": field_values(st.integers(0, MAX_COUNTER)),
        "sent_at": field_values(st.integers(0, MAX_COUNTER)),
        "dropped": field_values(st.integers(0, MAX_COUNTER)),
        "events": st.one_of(st.lists(events, max_size=6), json_values),
        "extra": json_values,
    },
)
valid_envelopes = st.fixed_dictionaries(
    {
        "v": st.just(1),
        "session_id": ids,
        "window_id": ids,
        "seq": st.integers(0, MAX_COUNTER),
        "events": st.lists(valid_events, min_size=1, max_size=6),
    }
)
