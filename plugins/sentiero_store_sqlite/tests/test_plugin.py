"""The plugin as the core sees it: the sqlite scheme and its settings section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sentiero_store_sqlite import SQLiteSettings, SQLiteStore

from sentiero_core import Settings, SettingsError, create_app, get_plugin_manager

ONLY_SQLITE = {"SENTIERO_LOAD_PLUGINS": "store_sqlite"}


def offered_factories(pm: Any) -> dict[str, Any]:
    """The store factories the loaded plugins offer, by URL scheme."""
    return {k: v for offered in pm.hook.store_factories() for k, v in (offered or {}).items()}


def built_store(pm: Any, settings: Settings) -> Any:
    """What the core builds for ``settings.store_url``: the offered factory
    for its scheme, called with the URL and the settings."""
    url = settings.store_url
    assert url is not None
    return offered_factories(pm)[url.partition(":")[0].lower()](url, settings)


def test_the_plugin_offers_the_sqlite_scheme_with_the_configured_limits(tmp_path: Path) -> None:
    pm = get_plugin_manager(environ=ONLY_SQLITE)
    url = f"sqlite:///{tmp_path}/x.db"
    store = built_store(pm, Settings(store_url=url, max_sessions=7, max_events_per_session=99))
    assert isinstance(store, SQLiteStore)
    assert store.location.path == tmp_path / "x.db"
    assert (store.limits.max_sessions, store.limits.max_events_per_session) == (7, 99)


def test_a_relative_path_is_made_absolute_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pm = get_plugin_manager(environ=ONLY_SQLITE)
    store = built_store(pm, Settings(store_url="sqlite:///data.db"))
    assert isinstance(store, SQLiteStore)
    assert store.location.path == tmp_path / "data.db"


def test_the_factory_refuses_a_bad_url_at_build_time() -> None:
    pm = get_plugin_manager(environ=ONLY_SQLITE)
    with pytest.raises(SettingsError, match=r"store_url: .* names a host"):
        built_store(pm, Settings(store_url="sqlite://db.example.com/x.db"))


def test_the_settings_section_tunes_the_store(tmp_path: Path) -> None:
    pm = get_plugin_manager(environ=ONLY_SQLITE)
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/x.db",
        plugins={"store_sqlite": {"busy_timeout_ms": 1234, "read_connections": 3}},
    )
    app = create_app(settings, plugin_manager=pm)
    store = app.extensions["sentiero"].store
    assert isinstance(store, SQLiteStore)
    assert (store._busy_timeout_ms, store._read_connections) == (1234, 3)


@pytest.mark.parametrize(
    ("section", "reason"),
    [
        ({"read_connections": 0}, "plugins.store_sqlite.read_connections: expected a positive"),
        ({"busy_timeout": 5}, "busy_timeout"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_option(
    tmp_path: Path, section: dict[str, int], reason: str
) -> None:
    pm = get_plugin_manager(environ=ONLY_SQLITE)
    settings = Settings(store_url=f"sqlite:///{tmp_path}/x.db", plugins={"store_sqlite": section})
    with pytest.raises(SettingsError, match=reason):
        create_app(settings, plugin_manager=pm)


def test_the_defaults_match_the_store_defaults() -> None:
    defaults = SQLiteSettings()
    store = SQLiteStore(None)
    assert (defaults.busy_timeout_ms, defaults.read_connections) == (
        store._busy_timeout_ms,
        store._read_connections,
    )
