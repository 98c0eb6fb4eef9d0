"""What a batch contributes to its summary, and that hostile events cannot
break the digest."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sentiero_core.store.digest import (
    ACTIVE_GAP_CAP_MS,
    MAX_DIGEST_NAMES,
    count_rage_clicks,
    digest_events,
    event_time,
)
from sentiero_core.testing.factories import (
    CHROME_ANDROID_TABLET,
    SAFARI_IPHONE,
    T0,
    click,
    error,
    form_submit,
    full_snapshot,
    identify,
    input_change,
    meta,
    mouse_move,
    page_meta,
    text_mutation,
    track,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T0, T0),
        (T0 + 0.7, T0),
        (0, 0),
        (2**53, 2**53),
        (2**53 + 1, 0),
        (-5, 0),
        (True, 0),
        (float("nan"), 0),
        (float("inf"), 0),
        ("1700000000000", 0),
        (None, 0),
    ],
)
def test_event_time_accepts_only_sane_numbers(value: Any, expected: int) -> None:
    assert event_time({"timestamp": value}) == expected


def test_event_time_of_non_event_is_zero() -> None:
    assert event_time(["timestamp", 5]) == 0
    assert event_time({}) == 0


def test_first_and_last_times_and_count() -> None:
    d = digest_events("w1", [text_mutation(T0 + 50, "b"), text_mutation(T0 + 10, "a")])
    assert (d.window_id, d.first_ts, d.last_ts, d.event_count) == ("w1", T0 + 10, T0 + 50, 2)


def test_page_views_and_viewport_from_meta_events() -> None:
    d = digest_events(
        "w", [meta(T0, "https://a.example/x", 800, 600), meta(T0 + 9, "https://a.example/y")]
    )
    assert d.page_views == [(T0, "https://a.example/x"), (T0 + 9, "https://a.example/y")]
    assert d.viewport == "800x600"


def test_page_metadata_gives_referrer_and_viewport() -> None:
    d = digest_events("w", [page_meta(T0, "https://a.example/", "https://ref.example/", 390, 844)])
    assert (d.referrer, d.viewport) == ("https://ref.example/", "390x844")
    assert d.page_views == []


def test_three_close_clicks_are_one_rage_click() -> None:
    clicks = [click(T0 + i * 200, 100 + i * 5, 100) for i in range(5)]
    d = digest_events("w", clicks)
    assert (d.click_count, d.rage_click_count) == (5, 1)


@pytest.mark.parametrize(
    "clicks",
    [
        [(0, 0, 0), (600, 0, 0), (1200, 0, 0)],  # too slow
        [(0, 0, 0), (100, 40, 0), (200, 80, 0)],  # too far apart
        [(0, 0, 0), (100, 0, 0)],  # too few
    ],
)
def test_clicks_that_are_not_rage(clicks: list[tuple[int, float, float]]) -> None:
    assert count_rage_clicks(clicks) == 0


def test_two_separate_bursts_count_twice() -> None:
    burst = [(0, 10.0, 10.0), (100, 10.0, 10.0), (200, 10.0, 10.0)]
    later = [(t + 5000, x, y) for t, x, y in burst]
    assert count_rage_clicks(burst + later) == 2


def test_click_without_any_page_change_is_dead() -> None:
    d = digest_events("w", [click(T0), mouse_move(T0 + 500, 1, 1), text_mutation(T0 + 3000, "x")])
    assert d.dead_click_count == 1


@pytest.mark.parametrize(
    "change",
    [
        text_mutation(T0 + 900, "x"),
        input_change(T0 + 10),
        meta(T0 + 1000, "https://a.example/n"),
        full_snapshot(T0 + 400),
    ],
)
def test_click_followed_by_a_change_is_alive(change: dict[str, Any]) -> None:
    d = digest_events("w", [click(T0), change, mouse_move(T0 + 5000, 1, 1)])
    assert d.dead_click_count == 0


def test_click_at_the_end_of_a_batch_is_not_judged() -> None:
    d = digest_events("w", [mouse_move(T0, 1, 1), click(T0 + 100)])
    assert d.dead_click_count == 0


def test_active_time_caps_idle_gaps() -> None:
    events = [mouse_move(T0, 0, 0), mouse_move(T0 + 1000, 1, 1), mouse_move(T0 + 60_000, 2, 2)]
    assert digest_events("w", events).active_ms == 1000 + ACTIVE_GAP_CAP_MS


def test_custom_tags_are_counted() -> None:
    events = [
        error(T0),
        error(T0 + 1),
        track(T0 + 2, "signup"),
        track(T0 + 3, "signup"),
        track(T0 + 4, "purchase"),
        form_submit(T0 + 5),
        identify(T0 + 6, "u-1", {"plan": "free"}),
        identify(T0 + 7, "u-2", {"plan": "pro"}),
    ]
    d = digest_events("w", events)
    assert (d.error_count, d.form_submit_count) == (2, 1)
    assert d.custom_events == ["signup", "purchase"]
    assert (d.user_id, d.user_traits) == ("u-2", {"plan": "pro"})


def test_identify_with_a_number_and_many_traits() -> None:
    traits = {f"k{i}": i for i in range(80)}
    d = digest_events("w", [identify(T0, 42, traits)])  # type: ignore[arg-type]
    assert d.user_id == "42"
    assert len(d.user_traits) == 50


def test_custom_event_names_are_bounded() -> None:
    d = digest_events("w", [track(T0 + i, f"name-{i}") for i in range(MAX_DIGEST_NAMES + 50)])
    assert d.custom_events == [f"name-{i}" for i in range(MAX_DIGEST_NAMES)]


def test_user_agent_is_parsed_and_truncated() -> None:
    d = digest_events("w", [click(T0)], user_agent=SAFARI_IPHONE, ip="192.0.2.1")
    assert (d.browser, d.os, d.device, d.ip) == ("Safari", "iOS", "mobile", "192.0.2.1")
    long = CHROME_ANDROID_TABLET + " x" * 1000
    d = digest_events("w", [click(T0)], user_agent=long)
    assert d.user_agent == long[:512]
    assert (d.browser, d.device) == ("Chrome", "tablet")


def test_dropped_events_are_never_negative() -> None:
    assert digest_events("w", [click(T0)], dropped_events=-4).dropped_events == 0
    assert digest_events("w", [click(T0)], dropped_events=7).dropped_events == 7


def test_no_events_digest_to_zeroes() -> None:
    d = digest_events("w", [])
    assert (d.first_ts, d.last_ts, d.event_count, d.click_count, d.active_ms) == (0, 0, 0, 0, 0)


HOSTILE: list[Any] = [
    "not an event",
    None,
    [1, 2, 3],
    {"type": 3, "data": [1, 2], "timestamp": T0},
    {"type": 3, "data": "x", "timestamp": T0},
    {"type": 3, "data": {"source": 2, "type": 2, "x": "10", "y": None}, "timestamp": T0},
    {"type": 3, "data": {"source": [], "type": {}}, "timestamp": True},
    {"type": 4, "data": {"href": 5, "width": True, "height": "1"}, "timestamp": T0},
    {"type": 4, "data": {"href": "", "width": -1, "height": 0}, "timestamp": T0},
    {"type": 5, "data": {"tag": "sentiero:identify", "payload": {"user_id": True}}, "timestamp": 0},
    {"type": 5, "data": {"tag": "sentiero:identify", "payload": "u-1"}, "timestamp": 0},
    {"type": 5, "data": {"tag": "sentiero:custom", "payload": {"name": ["x"]}}, "timestamp": 0},
    {"type": 5, "data": {"tag": ["sentiero:error"]}, "timestamp": 0},
    {"type": 5, "data": {"tag": "sentiero:meta", "payload": {"viewport": [1, 2]}}, "timestamp": 0},
    {"type": "3", "timestamp": float("nan")},
    {"timestamp": 10**30},
]


def test_malformed_events_are_skipped_not_fatal() -> None:
    d = digest_events("w", HOSTILE)  # type: ignore[arg-type]
    assert d.event_count == len(HOSTILE)
    assert d.click_count == 1
    assert (d.page_views, d.viewport, d.user_id, d.custom_events, d.error_count) == (
        [],
        None,
        None,
        [],
        0,
    )
    assert (d.first_ts, d.last_ts) == (0, T0)


def test_many_clicks_and_mutations_digest_quickly() -> None:
    events = []
    for i in range(20_000):
        events.append(click(T0 + i * 3000, i % 500, 0))
        events.append(text_mutation(T0 + i * 3000 + 2000, "x"))
    started = time.perf_counter()
    d = digest_events("w", events)
    assert time.perf_counter() - started < 5
    assert d.dead_click_count == 20_000
