"""The folding rules every store's summaries must follow."""

from __future__ import annotations

from sentiero_core.store import merge_digest
from sentiero_core.store.digest import digest_events
from sentiero_core.testing.factories import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    T0,
    error,
    identify,
    meta,
    text_mutation,
    track,
)


def test_first_digest_starts_a_summary() -> None:
    d = digest_events("w1", [meta(T0, "https://a.example/"), text_mutation(T0 + 900, "x")])
    s = merge_digest(None, "s1", d)
    assert (s.session_id, s.started_at, s.ended_at, s.duration_ms) == ("s1", T0, T0 + 900, 900)
    assert (s.event_count, s.batch_count, s.pages, s.entry_url, s.windows) == (
        2,
        1,
        ["https://a.example/"],
        "https://a.example/",
        ["w1"],
    )


def test_times_widen_both_ways() -> None:
    s = merge_digest(None, "s", digest_events("w1", [text_mutation(T0 + 500, "x")]))
    s = merge_digest(s, "s", digest_events("w2", [text_mutation(T0 + 100, "x")]))
    s = merge_digest(s, "s", digest_events("w1", [text_mutation(T0 + 900, "x")]))
    assert (s.started_at, s.ended_at, s.windows) == (T0 + 100, T0 + 900, ["w1", "w2"])


def test_an_earlier_page_becomes_the_entry_page() -> None:
    s = merge_digest(None, "s", digest_events("w1", [meta(T0 + 1000, "https://a.example/2")]))
    s = merge_digest(s, "s", digest_events("w2", [meta(T0, "https://a.example/1")]))
    assert s.entry_url == "https://a.example/1"
    assert s.pages == ["https://a.example/2", "https://a.example/1"]
    s = merge_digest(s, "s", digest_events("w1", [meta(T0 + 5000, "https://a.example/3")]))
    assert s.entry_url == "https://a.example/1"


def test_counts_add_up_and_lists_stay_distinct() -> None:
    batch = [error(T0), track(T0 + 1, "buy"), meta(T0 + 2, "https://a.example/")]
    s = merge_digest(None, "s", digest_events("w", batch, raw_bytes=100, dropped_events=2))
    s = merge_digest(s, "s", digest_events("w", batch, raw_bytes=50, dropped_events=1))
    assert (s.error_count, s.page_count, s.raw_bytes, s.dropped_events) == (2, 2, 150, 3)
    assert (s.custom_events, s.pages, s.windows) == (["buy"], ["https://a.example/"], ["w"])
    assert s.has_errors


def test_latest_identity_wins_and_first_client_details_stay() -> None:
    s = merge_digest(
        None,
        "s",
        digest_events("w", [identify(T0, "u1", {"a": 1})], user_agent=CHROME_MAC, ip="192.0.2.1"),
    )
    s = merge_digest(
        s,
        "s",
        digest_events(
            "w", [text_mutation(T0 + 1, "x")], user_agent=FIREFOX_WINDOWS, ip="192.0.2.2"
        ),
    )
    assert (s.user_id, s.user_traits) == ("u1", {"a": 1})
    s = merge_digest(s, "s", digest_events("w", [identify(T0 + 2, "u2", {"b": 2})]))
    assert (s.user_id, s.user_traits) == ("u2", {"b": 2})
    assert (s.browser, s.os, s.ip, s.user_agent) == ("Chrome", "macOS", "192.0.2.1", CHROME_MAC)


def test_summary_round_trips_through_a_dict() -> None:
    s = merge_digest(None, "s", digest_events("w", [meta(T0, "https://a.example/"), error(T0 + 5)]))
    data = s.to_dict()
    assert data["duration_ms"] == 5
    assert data["has_errors"] is True
    assert type(s).from_dict(data) == s
