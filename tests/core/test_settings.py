import re
from pathlib import Path
from typing import Any

import pytest

from sentiero_core import RedactionSettings, Settings, SettingsError, load_settings


def test_defaults_match_the_documented_table() -> None:
    s = Settings()
    assert s.mount_path == "/sentiero"
    assert s.flush_interval_ms == 10_000
    assert s.flush_event_threshold == 50
    assert s.max_events_per_page == 1_000
    assert s.max_events_per_request == 1_000
    assert s.max_decoded_bytes == 16 * 1024 * 1024 and s.max_batch_bytes == 4 * 1024 * 1024
    assert s.ingest_max_concurrent == 4 and s.ingest_queue_timeout == 2.0
    assert s.ingest_rate_limit is None and s.ingest_rate_burst == 60
    assert s.cross_tab_sessions is True
    assert s.session_idle_timeout == 21_600
    assert s.session_max_age == 604_800
    assert s.mask_all_inputs is True
    assert s.block_selector == "[data-rr-block]"
    assert s.sampling == {"scroll": 150, "input": "last"}
    assert s.respect_gpc is True and s.anonymize_ip is True
    assert s.opt_out_cookie_name == "sentiero_optout"
    assert s.capture_metadata is False
    assert isinstance(s.redaction, RedactionSettings)


def test_keyword_arguments_beat_environment_beat_file(tmp_path: Path) -> None:
    cfg = tmp_path / "sentiero.toml"
    cfg.write_text(
        'flush_interval_ms = 1000\nmax_sessions = 10\ncors_origins = ["https://a.example"]\n'
        '[redaction]\nurl_mode = "strip"\n'
    )
    env = {"SENTIERO_MAX_SESSIONS": "20", "SENTIERO_CAPTURE_ERRORS": "yes"}
    s = load_settings(cfg, environ=env, max_sessions=30)
    assert s.flush_interval_ms == 1000
    assert s.max_sessions == 30
    assert s.capture_errors is True
    assert s.cors_origins == ["https://a.example"]
    assert s.redaction.url_mode == "strip"
    assert load_settings(cfg, environ=env).max_sessions == 20


def test_environment_values_are_read_by_type() -> None:
    env = {
        "SENTIERO_CORS_ORIGINS": "https://a.example, https://b.example",
        "SENTIERO_SAMPLING": '{"scroll": 50}',
        "SENTIERO_MAX_EVENTS_PER_REQUEST": "none",
        "SENTIERO_SESSION_SAMPLE_RATE": "0.5",
        "SENTIERO_REDACTION__CUSTOM_PATTERNS": '["acct-\\\\d+"]',
    }
    s = load_settings(environ=env)
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.sampling == {"scroll": 50}
    assert s.max_events_per_request is None
    assert s.session_sample_rate == 0.5
    assert s.redaction.custom_patterns == ["acct-\\d+"]


def test_the_reporter_clients_variables_are_not_server_settings() -> None:
    """The reporter often runs in the process that serves Sentiero: its
    ``SENTIERO_REPORTER_*`` variables must not stop the server's start-up,
    while a typo in a server variable still does."""
    env = {
        "SENTIERO_REPORTER_INGEST_KEY": "sk_x",
        "SENTIERO_REPORTER_ENABLED": "false",
        "SENTIERO_MAX_SESSIONS": "7",
    }
    assert load_settings(environ=env).max_sessions == 7
    with pytest.raises(SettingsError, match="SENTIERO_REPORTERS_KEY"):
        load_settings(environ={"SENTIERO_REPORTERS_KEY": "x"})


def test_a_retention_period_beyond_a_century_is_refused() -> None:
    with pytest.raises(SettingsError, match="retention_period: expected at most"):
        load_settings(environ={}, retention_period=99_999_999_999_999)
    assert load_settings(environ={}, retention_period=100 * 365 * 86_400).retention_period


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[sentiero]\nmount_path = '/rec'\n")
    assert load_settings(environ={"SENTIERO_CONFIG": str(cfg)}).mount_path == "/rec"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flush_interval_ms": "soon"}, "flush_interval_ms: expected an integer"),
        ({"capture_errors": 1}, "capture_errors: expected true or false"),
        ({"max_sessions": 0}, "max_sessions: expected a positive integer or none"),
        ({"cors_origins": "https://a.example"}, "cors_origins: expected a list"),
        ({"mount_path": "sentiero"}, "mount_path: expected a path starting with '/'"),
        ({"mount_path": "/sentiero/"}, "without a trailing '/'"),
        ({"session_sample_rate": 2}, "session_sample_rate"),
        ({"redaction": {"url_mode": "drop"}}, "redaction.url_mode"),
        ({"redaction": {"colour": "red"}}, "redaction: unknown option(s) ['colour']"),
        ({"auth_callback": "no_such_module:fn"}, "auth_callback: cannot import"),
    ],
)
def test_bad_values_name_the_option(kwargs: dict, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, **kwargs)
    assert message in str(info.value)


def test_unknown_keys_stop_start_up(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown option"):
        load_settings(environ={}, flush_intervall_ms=5)
    with pytest.raises(SettingsError, match="SENTIERO_FLUSH_INTERVALL_MS"):
        load_settings(environ={"SENTIERO_FLUSH_INTERVALL_MS": "5"})
    with pytest.raises(SettingsError, match="SENTIERO_MAX_SESSIONS: expected an integer"):
        load_settings(environ={"SENTIERO_MAX_SESSIONS": "many"})
    cfg = tmp_path / "bad.toml"
    cfg.write_text("flush_interval_ms = [")
    with pytest.raises(SettingsError, match=r"bad\.toml"):
        load_settings(cfg, environ={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_callables_load_from_dotted_paths() -> None:
    s = load_settings(environ={"SENTIERO_AUTH_CALLBACK": "os.path:exists"})
    import os.path

    assert s.auth_callback is os.path.exists


def test_mount_path_root_means_no_prefix() -> None:
    assert Settings(mount_path="/").mount_path == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trusted_proxy_hops": -1}, "trusted_proxy_hops: expected 0 or a positive integer"),
        ({"proxy_mode": "rfc"}, "proxy_mode: expected 'legacy' or 'modern', got 'rfc'"),
    ],
)
def test_proxy_settings_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings(**options)


def test_a_renamed_option_points_to_its_new_name() -> None:
    with pytest.raises(SettingsError, match=r"trust_forwarded_for is now trusted_proxy_hops"):
        load_settings(environ={}, trust_forwarded_for=True)


def test_public_url_and_replay_origins_are_normalized() -> None:
    s = load_settings(
        environ={
            "SENTIERO_PUBLIC_URL": "HTTPS://Rec.Example.com/tools/",
            "SENTIERO_REPLAY_RESOURCE_ORIGINS": "https://CDN.example.com/, https://*.example.net",
            "SENTIERO_REPLAY_RECORDED_ORIGINS": "false",
        }
    )
    assert s.public_url == "https://rec.example.com/tools"
    assert s.replay_resource_origins == ["https://cdn.example.com", "https://*.example.net"]
    assert s.replay_recorded_origins is False
    defaults = Settings()
    assert defaults.public_url is None and defaults.replay_resource_origins == []
    assert defaults.replay_recorded_origins is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"public_url": "rec.example.com"}, "public_url: expected an http(s) URL"),
        ({"public_url": "https://rec.example.com/?a=1"}, "(no query or fragment)"),
        ({"public_url": 'https://x"/</script>'}, "public_url: expected"),
        ({"public_url": "javascript:alert(1)"}, "public_url: expected"),
        (
            {"replay_resource_origins": ["https://cdn.example.com/img"]},
            "replay_resource_origins[0]: expected an origin",
        ),
        ({"replay_resource_origins": ["*"]}, "replay_resource_origins[0]: expected an origin"),
        (
            {"replay_resource_origins": ["https://a.example; script-src *"]},
            "replay_resource_origins[0]: expected an origin",
        ),
    ],
)
def test_public_url_and_replay_origins_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings(**options)
