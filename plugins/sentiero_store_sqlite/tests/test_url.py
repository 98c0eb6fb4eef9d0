"""sqlite: URLs, and the factory the plugin offers for them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentiero_store_sqlite import SQLiteStore, parse_sqlite_url

from sentiero_core.plugins import get_plugin_manager
from sentiero_core.settings import Settings, SettingsError
from sentiero_core.stores import build_store


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


def test_the_plugin_offers_the_sqlite_scheme_with_the_configured_limits(tmp_path: Path) -> None:
    pm = get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "store_sqlite"})
    url = f"sqlite:///{tmp_path}/x.db"
    store = build_store(pm, Settings(store_url=url, max_sessions=7, max_events_per_session=99))
    assert isinstance(store, SQLiteStore)
    assert store.location.path == tmp_path / "x.db"
    assert (store.limits.max_sessions, store.limits.max_events_per_session) == (7, 99)


def test_the_factory_refuses_a_bad_url_at_build_time() -> None:
    pm = get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "store_sqlite"})
    with pytest.raises(SettingsError, match=r"store_url: .* names a host"):
        build_store(pm, Settings(store_url="sqlite://db.example.com/x.db"))
