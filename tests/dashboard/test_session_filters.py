"""Query strings to session filters: every bad value is a named error."""

from __future__ import annotations

import pytest

from sentiero_core.dashboard.session_filters import (
    FilterError,
    parse_duration_ms,
    parse_filter,
    parse_limit,
    parse_list_query,
)

DAY = 86_400_000
MAY_1 = 1_714_521_600_000  # 2024-05-01T00:00:00Z


def test_empty_values_mean_no_filter() -> None:
    assert parse_filter({"url": "", "errors": " ", "user": ""}).is_empty()


def test_every_filter_is_read() -> None:
    f = parse_filter(
        {
            "from": "2024-05-01",
            "to": "2024-05-01",
            "url": "/checkout",
            "errors": "yes",
            "min_duration": "5m",
            "user": "user-42",
            "event": "signup",
            "browser": "Chrome",
            "device": "mobile",
            "os": "iOS",
        }
    )
    assert f.started_after == MAY_1
    assert f.started_before == MAY_1 + DAY  # a date includes its whole day
    assert f.url_contains == "/checkout"
    assert f.has_errors is True
    assert f.min_duration_ms == 300_000
    assert (f.user_id, f.custom_event) == ("user-42", "signup")
    assert (f.browser, f.device, f.os) == ("Chrome", "mobile", "iOS")


def test_datetimes_and_epoch_milliseconds_are_accepted() -> None:
    f = parse_filter({"from": "2024-05-01T10:30", "to": str(MAY_1 + DAY)})
    assert f.started_after == MAY_1 + 10 * 3_600_000 + 30 * 60_000
    assert f.started_before == MAY_1 + DAY


def test_errors_no_selects_sessions_without_errors() -> None:
    assert parse_filter({"errors": "no"}).has_errors is False


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-13-45"}, "to"),
        ({"errors": "maybe"}, "errors"),
        ({"min_duration": "long"}, "min_duration"),
        ({"min_duration": "-5"}, "min_duration"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "to"),
        ({"url": "x" * 501}, "url"),
    ],
)
def test_bad_values_name_the_parameter(args: dict[str, str], named: str) -> None:
    with pytest.raises(FilterError, match=f"^{named}"):
        parse_filter(args)


def test_strict_parsing_refuses_unknown_parameters() -> None:
    assert parse_filter({"has_errors": "1"}).is_empty()
    with pytest.raises(FilterError, match=r"unknown parameter.*has_errors"):
        parse_filter({"has_errors": "1"}, strict=True)


@pytest.mark.parametrize(
    ("raw", "ms"),
    [
        ("90", 90_000),
        ("1.5", 1_500),
        ("90s", 90_000),
        ("2m", 120_000),
        ("1h", 3_600_000),
        ("250ms", 250),
    ],
)
def test_durations_take_units(raw: str, ms: int) -> None:
    assert parse_duration_ms(raw) == ms


def test_limit_is_capped_and_checked() -> None:
    assert parse_limit(None, default=50, cap=200) == 50
    assert parse_limit("10", default=50, cap=200) == 10
    assert parse_limit("100000", default=50, cap=200) == 200
    for bad in ("0", "-1", "ten"):
        with pytest.raises(FilterError, match=r"^limit"):
            parse_limit(bad, default=50, cap=200)


def test_list_query_keeps_the_typed_values_for_the_form() -> None:
    query = parse_list_query({"url": " /a ", "cursor": "abc", "x": "1"}, default_limit=50, cap=200)
    assert query.values == {"url": "/a"}
    assert query.cursor == "abc"
    assert query.filtered
