"""The plugin's hooks: URL schemes, the settings section, the factory's errors,
and a whole app recording into Redis."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from sentiero_store_redis import RedisSettings, RedisStore

from sentiero_core import Settings, SettingsError, create_app, get_plugin_manager

from_env = {"SENTIERO_LOAD_PLUGINS": "store_redis"}


def offered_factories(pm: Any) -> dict[str, Any]:
    return {k: v for offered in pm.hook.store_factories() for k, v in (offered or {}).items()}


def _settings(**options: Any) -> Settings:
    """Settings with plugin sections validated, as create_app does."""
    pm = get_plugin_manager(environ=from_env)
    sections = {k: v for r in pm.hook.register_settings() for k, v in (r or {}).items()}
    return Settings(**options).with_plugin_sections(sections)


def built_store(settings: Settings) -> Any:
    url = settings.store_url
    assert url is not None
    factories = offered_factories(get_plugin_manager(environ=from_env))
    return factories[url.partition(":")[0].lower()](url, settings)


def test_hook_store_factories_offers_redis_rediss_and_unix() -> None:
    factories = offered_factories(get_plugin_manager(environ=from_env))
    assert {"redis", "rediss", "unix"} <= set(factories)


def test_hook_register_settings_declares_the_store_redis_section() -> None:
    settings = _settings(
        plugins={"store_redis": {"key_prefix": "eu:", "ttl_seconds": 86_400, "max_connections": 8}}
    )
    section = settings.plugin("store_redis")
    assert isinstance(section, RedisSettings)
    assert (section.key_prefix, section.ttl_seconds, section.max_connections) == ("eu:", 86_400, 8)
    # Off by default: what Redis expires is reported only at the next purge.
    assert RedisSettings().ttl_seconds is None


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"key_prefix": ""}, "key_prefix"),
        ({"key_prefix": "has space"}, "key_prefix"),
        ({"key_prefix": "a*b"}, "wildcards"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"socket_timeout_ms": 0}, "socket_timeout_ms"),
        ({"max_connections": "8"}, "max_connections"),
        ({"database": 1}, "unknown option"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_option(options: dict[str, Any], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        _settings(plugins={"store_redis": options})


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost:6379/0",
        "redis://:secret@cache.internal:6380/3",
        "rediss://user:pw@cache.example.net:6380/0",
        "unix:///run/redis/redis.sock?db=2",
        "REDIS://localhost",
    ],
)
def test_good_urls_build_an_unopened_store(url: str) -> None:
    store = built_store(_settings(store_url=url, max_sessions=10, max_events_per_session=500))
    assert isinstance(store, RedisStore)
    assert (store.limits.max_sessions, store.limits.max_events_per_session) == (10, 500)
    assert "secret" not in store.where and "pw@" not in store.where


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis://", "needs a host"),
        ("redis://localhost:notaport/0", "not a valid Redis URL"),
        ("redis://localhost:6379/zero", "database must be a number"),
        ("redis://localhost:0/0", "port 0"),
        ("unix://", "socket path"),
    ],
)
def test_a_bad_url_is_a_settings_error_naming_what_is_wrong(url: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        built_store(_settings(store_url=url))


def test_a_bad_url_stops_the_app_naming_store_url() -> None:
    with pytest.raises(ValueError, match="store_url"):
        create_app(
            Settings(store_url="redis://localhost:6379/zero"),
            plugin_manager=get_plugin_manager(environ=from_env),
        )


def test_the_store_takes_a_url_or_a_client_not_both() -> None:
    with pytest.raises(TypeError, match="url or a client"):
        RedisStore()


@pytest.mark.asyncio
async def test_an_app_records_into_redis(redis_url: str, raw_redis: aioredis.Redis) -> None:
    app = create_app(
        Settings(store_url=redis_url, plugins={"store_redis": {"key_prefix": "app-test:"}}),
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
    try:
        async with app.test_app() as test_app:
            response = await test_app.test_client().post(
                "/sentiero/events",
                data=orjson.dumps(envelope),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 204
            store = app.extensions["sentiero"].store
            assert isinstance(store, RedisStore)
            summary = await store.get_session("session-0001")
        assert summary is not None and summary.pages == ["https://x.test/"]
        assert await raw_redis.hlen("app-test:m:session-0001") == 1
    finally:
        keys = [k async for k in raw_redis.scan_iter(match="app-test:*")]
        if keys:
            await raw_redis.delete(*keys)
