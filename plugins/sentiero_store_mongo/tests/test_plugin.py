"""The plugin's hooks: URL schemes, the settings section, a whole app on MongoDB."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sentiero_store_mongo import MongoSettings, MongoStore

from sentiero_core import Settings, SettingsError, create_app, get_plugin_manager

from_env = {"SENTIERO_LOAD_PLUGINS": "store_mongo"}


def offered_factories(pm: Any) -> dict[str, Any]:
    """The store factories the loaded plugins offer, by URL scheme."""
    return {k: v for offered in pm.hook.store_factories() for k, v in (offered or {}).items()}


def built_store(pm: Any, settings: Settings) -> Any:
    """What the core builds for ``settings.store_url``: the offered factory
    for its scheme, called with the URL and the settings."""
    url = settings.store_url
    assert url is not None
    return offered_factories(pm)[url.partition(":")[0].lower()](url, settings)


def _settings(**options: Any) -> Settings:
    """Settings with plugin sections validated, as create_app does."""
    pm = get_plugin_manager(environ=from_env)
    sections = {k: v for r in pm.hook.register_settings() for k, v in (r or {}).items()}
    return Settings(**options).with_plugin_sections(sections)


def test_hook_store_factories_offers_both_schemes() -> None:
    factories = offered_factories(get_plugin_manager(environ=from_env))
    assert {"mongodb", "mongodb+srv"} <= set(factories)


def test_hook_register_settings_declares_the_store_mongo_section() -> None:
    settings = _settings(
        plugins={"store_mongo": {"collection_prefix": "rec_", "server_selection_timeout_ms": 1500}}
    )
    section = settings.plugin("store_mongo")
    assert isinstance(section, MongoSettings)
    assert (section.collection_prefix, section.server_selection_timeout_ms) == ("rec_", 1500)
    # Off by default: a TTL index removes sessions without the removal hook.
    assert section.ttl_index is False


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"collection_prefix": "a$b"}, "collection_prefix"),
        ({"collection_prefix": "system_"}, "reserved"),
        ({"server_selection_timeout_ms": 0}, "server_selection_timeout_ms"),
        ({"retry_attempts": "3"}, "retry_attempts"),
        ({"database": "x"}, "unknown option"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_option(options: dict[str, Any], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        _settings(plugins={"store_mongo": options})


def test_the_store_url_builds_a_store_with_the_apps_limits_and_retention() -> None:
    settings = _settings(
        store_url="mongodb://u:pw@db1,db2:27018/analytics?replicaSet=rs0",
        max_sessions=10,
        max_events_per_session=500,
        retention_period=3600,
        plugins={"store_mongo": {"collection_prefix": "eu_"}},
    )
    store = built_store(get_plugin_manager(environ=from_env), settings)
    assert isinstance(store, MongoStore)
    assert (store.database_name, store.settings.collection_prefix) == ("analytics", "eu_")
    assert (store.limits.max_sessions, store.limits.max_events_per_session) == (10, 500)
    assert store.retention_period == 3600


def test_a_srv_url_builds_without_any_lookup() -> None:
    settings = _settings(store_url="mongodb+srv://cluster0.example.net")
    store = built_store(get_plugin_manager(environ=from_env), settings)
    assert isinstance(store, MongoStore) and store.database_name == "sentiero"


@pytest.mark.mongo
@pytest.mark.asyncio
async def test_an_app_records_into_mongodb(database_url: str, raw_db: Any) -> None:
    app = create_app(
        Settings(
            store_url=database_url,
            plugins={"store_mongo": {"collection_prefix": "app_"}},
        ),
        plugin_manager=get_plugin_manager(environ=from_env),
    )
    envelope = {
        "session_id": "session-0001",
        "window_id": "window-0001",
        "events": [
            {"type": 4, "timestamp": 1_700_000_000_000, "data": {"href": "https://x.test/"}},
            {"type": 3, "timestamp": 1_700_000_000_050, "data": {"source": 2, "type": 2}},
        ],
    }
    async with app.test_app() as test_app:
        response = await test_app.test_client().post(
            "/sentiero/events",
            data=orjson.dumps(envelope),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 204
        store = app.extensions["sentiero"].store
        assert isinstance(store, MongoStore)
        summary = await store.get_session("session-0001")
    assert summary is not None and summary.pages == ["https://x.test/"]
    assert await raw_db["app_batches"].count_documents({"sid": "session-0001"}) == 1
