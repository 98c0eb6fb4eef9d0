"""Reading sqlite: URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentiero_store_sqlite import parse_sqlite_url

from sentiero_core import SettingsError


def test_three_slashes_name_a_path_relative_to_the_working_directory() -> None:
    assert parse_sqlite_url("sqlite:///data/x.db").path == Path("data/x.db")


def test_a_fourth_slash_makes_the_path_absolute() -> None:
    assert parse_sqlite_url("sqlite:////var/lib/x.db").path == Path("/var/lib/x.db")


def test_memory_url_names_no_file() -> None:
    location = parse_sqlite_url("sqlite:///:memory:")
    assert location.in_memory
    assert str(location) == ":memory:"


def test_percent_escapes_are_decoded() -> None:
    assert parse_sqlite_url("sqlite:///my%20data.db").path == Path("my data.db")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("sqlite://host/x.db", "names a host"),
        ("sqlite:x.db", "three slashes"),
        ("sqlite:///", "names no database file"),
        ("sqlite:///x.db?mode=ro", "query or fragment"),
        ("sqlite:///data/", "names a directory"),
        ("mysql:///x.db", "not a sqlite URL"),
        ("sqlite:///x%00.db", "NUL"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        parse_sqlite_url(url)
