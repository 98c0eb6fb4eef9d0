"""Reading mongodb:// and mongodb+srv:// URLs (no network involved)."""

from __future__ import annotations

import pytest
from sentiero_store_mongo.url import parse_url

from sentiero_core import SettingsError


def test_the_database_comes_from_the_path() -> None:
    url = parse_url("mongodb://db1:27017,db2:27017/recordings?replicaSet=rs0&w=majority")
    assert (url.database, url.hosts) == ("recordings", "db1:27017,db2:27017")


def test_without_a_path_the_database_is_sentiero() -> None:
    assert parse_url("mongodb://localhost").database == "sentiero"
    assert parse_url("mongodb://localhost/?tls=true").database == "sentiero"


def test_the_redacted_form_drops_credentials_and_options() -> None:
    url = parse_url("mongodb+srv://app:p%40ss@cluster0.example.net/rec?retryWrites=true")
    assert url.redacted == "mongodb+srv://cluster0.example.net/rec"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgres://h/x", "expected mongodb"),
        ("mongodb:///x", "at least one host"),
        ("mongodb://a,,b/x", "at least one host"),
        ("mongodb+srv://a.example.net:27017/x", "exactly one host"),
        ("mongodb+srv://a.example.net,b.example.net/x", "exactly one host"),
        ("mongodb://h/bad.name", "not a valid MongoDB database name"),
        ("mongodb://h/a%24b", "not a valid MongoDB database name"),
        ("mongodb://h/" + "d" * 64, "not a valid MongoDB database name"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        parse_url(url)
