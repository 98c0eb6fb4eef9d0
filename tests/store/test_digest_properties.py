"""Properties of the digest (sentiero_core.store.digest) and its fold into a
summary: any list of events, however malformed, digests without raising,
and the counts agree with the events and with each other, whichever way
the events are split into batches."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sentiero_core.events import (
    CLICK,
    CUSTOM,
    INCREMENTAL,
    META,
    SOURCE_MOUSE_INTERACTION,
    TAG_CUSTOM,
    TAG_ERROR,
    TAG_FORM_SUBMIT,
    TAG_IDENTIFY,
    TAG_META,
    TAG_PAGE,
    USER_ACTIVITY_SOURCES,
)
from sentiero_core.store.digest import (
    ACTIVE_GAP_CAP_MS,
    MAX_DIGEST_NAMES,
    MAX_TIMESTAMP,
    RAGE_CLICKS,
    digest_events,
    event_time,
)
from sentiero_core.store.summary import merge_digest

T0 = 1_700_000_000_000

# Anything a JSON body or a redaction rule can put where a number belongs:
# 64-bit integers, doubles including NaN and infinities, booleans, strings.
odd_numbers = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.floats(),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
times = st.one_of(st.integers(T0, T0 + 20_000), st.floats(T0, T0 + 20_000), odd_numbers)
coordinates = st.one_of(st.integers(0, 100), st.floats(0, 100), odd_numbers)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
texts = st.one_of(st.text(max_size=8), json_values)

incremental = st.fixed_dictionaries(
    {
        "source": st.one_of(st.integers(0, 16), json_values),
        "type": st.one_of(st.sampled_from([CLICK, 0, 1]), json_values),
        "x": coordinates,
        "y": coordinates,
    }
)
meta = st.fixed_dictionaries(
    {"href": texts, "width": odd_numbers, "height": odd_numbers},
    optional={"checkout": st.one_of(st.just(True), json_values)},
)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "name": texts,
            "user_id": st.one_of(st.text(max_size=5), odd_numbers),
            "traits": json_values,
            "url": texts,
            "referrer": texts,
            "viewport": st.one_of(
                json_values, st.fixed_dictionaries({"width": odd_numbers, "height": odd_numbers})
            ),
        },
    ),
)
custom = st.fixed_dictionaries(
    {
        "tag": st.one_of(
            st.sampled_from(
                [TAG_ERROR, TAG_CUSTOM, TAG_FORM_SUBMIT, TAG_IDENTIFY, TAG_PAGE, TAG_META]
            ),
            json_values,
        ),
        "payload": payloads,
    }
)
events = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "type": st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7]), json_values),
            "timestamp": times,
            "data": st.one_of(incremental, meta, custom, json_values),
        }
    ),
    st.builds(
        lambda t, data: {"type": INCREMENTAL, "timestamp": t, "data": data}, times, incremental
    ),
    st.builds(lambda t, data: {"type": CUSTOM, "timestamp": t, "data": data}, times, custom),
    st.builds(lambda t, data: {"type": META, "timestamp": t, "data": data}, times, meta),
)
event_lists = st.lists(events, max_size=30)


def data_of(e: Any) -> dict[str, Any]:
    data = e.get("data") if isinstance(e, dict) else None
    return data if isinstance(data, dict) else {}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clicks_in(evs: list[Any]) -> int:
    return sum(
        1
        for e in evs
        if isinstance(e, dict)
        and e.get("type") == INCREMENTAL
        and is_int(data_of(e).get("source"))
        and data_of(e)["source"] == SOURCE_MOUSE_INTERACTION
        and data_of(e).get("type") == CLICK
    )


def activity_in(evs: list[Any]) -> int:
    return sum(
        1
        for e in evs
        if isinstance(e, dict)
        and e.get("type") == INCREMENTAL
        and is_int(data_of(e).get("source"))
        and data_of(e)["source"] in USER_ACTIVITY_SOURCES
    )


def tagged(evs: list[Any], tag: str) -> int:
    return sum(
        1
        for e in evs
        if isinstance(e, dict) and e.get("type") == CUSTOM and data_of(e).get("tag") == tag
    )


@given(event_lists)
def test_any_events_digest_to_consistent_counts(evs: list[Any]) -> None:
    d = digest_events("win_0123456789", evs)
    assert d.event_count == len(evs)
    if evs:
        stamps = [event_time(e) for e in evs]
        assert (d.first_ts, d.last_ts) == (min(stamps), max(stamps))
        assert 0 <= d.first_ts <= d.last_ts <= MAX_TIMESTAMP
    else:
        assert (d.first_ts, d.last_ts) == (0, 0)
    assert d.click_count == clicks_in(evs)
    assert 0 <= d.rage_click_count <= d.click_count // RAGE_CLICKS
    assert 0 <= d.dead_click_count <= d.click_count
    assert 0 <= d.active_ms <= ACTIVE_GAP_CAP_MS * max(0, activity_in(evs) - 1)
    assert d.error_count == tagged(evs, TAG_ERROR)
    assert d.form_submit_count == tagged(evs, TAG_FORM_SUBMIT)
    assert len(d.custom_events) == len(set(d.custom_events)) <= MAX_DIGEST_NAMES
    assert all(isinstance(n, str) and 0 < len(n) <= 200 for n in d.custom_events)
    for ts, url in d.page_views:
        assert 0 <= ts <= MAX_TIMESTAMP and isinstance(url, str) and 0 < len(url) <= 2048
    assert d.user_id is None or (isinstance(d.user_id, str) and 0 < len(d.user_id) <= 200)
    assert len(d.user_traits) <= 50
    assert d.viewport is None or isinstance(d.viewport, str)


@st.composite
def split(draw: st.DrawFn) -> tuple[list[Any], list[list[Any]]]:
    """Events and the same events cut into consecutive batches."""
    evs = draw(st.lists(events, min_size=1, max_size=30))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(evs)), max_size=5))))
    bounds = [0, *cuts, len(evs)]
    parts = [evs[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return evs, parts


@given(split())
def test_counts_add_up_whichever_way_events_are_batched(
    case: tuple[list[Any], list[list[Any]]],
) -> None:
    evs, parts = case
    whole = digest_events("win_0123456789", evs)
    digests = [digest_events("win_0123456789", part) for part in parts]
    for name in ("event_count", "click_count", "error_count", "form_submit_count"):
        assert sum(getattr(d, name) for d in digests) == getattr(whole, name), name
    assert sum(len(d.page_views) for d in digests) == len(whole.page_views)

    summary = None
    for d in digests:
        summary = merge_digest(summary, "sess_0123456789", d)
    assert summary is not None
    assert summary.batch_count == len(parts)
    assert summary.event_count == len(evs)
    assert summary.click_count == whole.click_count
    assert summary.error_count == whole.error_count
    assert summary.page_count == len(whole.page_views)
    assert (summary.started_at, summary.ended_at) == (whole.first_ts, whole.last_ts)
    assert summary.windows == ["win_0123456789"]
