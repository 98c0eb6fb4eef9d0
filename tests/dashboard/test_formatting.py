"""The dashboard's template formatters."""

from __future__ import annotations

from sentiero_core.dashboard.formatting import duration, iso, number, plural, short_url, timestamp


def test_durations_read_naturally() -> None:
    assert duration(0) == "0s"
    assert duration(400) == "0.4s"
    assert duration(12_000) == "12s"
    assert duration(81_080) == "1m 21s"
    assert duration(3_723_000) == "1h 02m"
    assert duration(None) == ""


def test_times_are_utc() -> None:
    assert timestamp(1_700_000_000_000) == "2023-11-14 22:13:20 UTC"
    assert iso(1_700_000_000_000) == "2023-11-14T22:13:20Z"
    assert timestamp(10**20) == ""


def test_numbers_and_plurals() -> None:
    assert number(1234567) == "1,234,567"
    assert plural(1, "page") == "1 page"
    assert plural(2, "page") == "2 pages"


def test_urls_lose_the_scheme_and_long_ones_the_middle() -> None:
    assert short_url("https://shop.example/a?b=1") == "shop.example/a?b=1"
    long = "https://shop.example/" + "x" * 200 + "/end"
    shortened = short_url(long, 40)
    assert len(shortened) == 40 and "…" in shortened and shortened.endswith("/end")
