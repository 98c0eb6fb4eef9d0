"""Options: every one from keyword arguments and from SENTIERO_REPORTER_* variables."""

from __future__ import annotations

import re

import pytest
import sentiero_reporter
from sentiero_reporter import Configuration, ConfigurationError, TestTransport
from sentiero_reporter.config import OPTION_NAMES, build, from_environment

from .conftest import ADDRESS


def test_defaults_follow_the_reference_table() -> None:
    config = Configuration()
    assert (config.endpoint, config.ingest_key, config.project) == (None, None, None)
    assert config.environment is None and config.release is None
    assert config.enabled is True
    assert config.ignore_exceptions == [] and config.filter_keys == []
    assert config.before_notify is None
    assert config.async_delivery is True and config.max_queue == 100
    assert config.transport == "http"
    assert (config.open_timeout, config.read_timeout) == (2.0, 3.0)
    assert (config.session_cookie_name, config.window_cookie_name) == (
        "sentiero_sid",
        "sentiero_wid",
    )


@pytest.mark.parametrize("missing", ["endpoint", "ingest_key", "project"])
def test_inactive_until_endpoint_key_and_project_are_set(missing: str) -> None:
    options = {**ADDRESS, "transport": "test", "async_delivery": False}
    del options[missing]
    reporter = sentiero_reporter.configure(**options)
    assert not reporter.active
    assert sentiero_reporter.notify(ValueError("x")) is False
    assert sentiero_reporter.track("signup") is False
    assert isinstance(reporter.transport, TestTransport)
    assert reporter.transport.deliveries == []


def test_enabled_false_is_a_master_switch() -> None:
    reporter = sentiero_reporter.configure(
        **ADDRESS, enabled=False, transport="test", async_delivery=False
    )
    assert not reporter.active
    assert sentiero_reporter.notify(ValueError("x")) is False
    assert reporter.transport.deliveries == []  # type: ignore[attr-defined]


def test_every_option_reads_from_the_environment() -> None:
    environ = {
        "SENTIERO_REPORTER_ENDPOINT": "http://127.0.0.1:8000/sentiero",
        "SENTIERO_REPORTER_INGEST_KEY": "key-1",
        "SENTIERO_REPORTER_PROJECT": "shop",
        "SENTIERO_REPORTER_ENVIRONMENT": "staging",
        "SENTIERO_REPORTER_RELEASE": "1.2.3",
        "SENTIERO_REPORTER_ENABLED": "false",
        "SENTIERO_REPORTER_IGNORE_EXCEPTIONS": "KeyError, myapp.errors.NotFound",
        "SENTIERO_REPORTER_FILTER_KEYS": "password,token",
        "SENTIERO_REPORTER_ASYNC_DELIVERY": "no",
        "SENTIERO_REPORTER_MAX_QUEUE": "7",
        "SENTIERO_REPORTER_TRANSPORT": "log",
        "SENTIERO_REPORTER_OPEN_TIMEOUT": "0.5",
        "SENTIERO_REPORTER_READ_TIMEOUT": "1.5",
        "SENTIERO_REPORTER_FLUSH_TIMEOUT": "4",
        "SENTIERO_REPORTER_SESSION_COOKIE_NAME": "sid",
        "SENTIERO_REPORTER_WINDOW_COOKIE_NAME": "wid",
        "SENTIERO_REPORTER_CONTEXT_LINES": "2",
    }
    config = build({}, environ)
    assert config.endpoint == "http://127.0.0.1:8000/sentiero"
    assert config.ingest_key == "key-1" and config.project == "shop"
    assert config.environment == "staging" and config.release == "1.2.3"
    assert config.enabled is False
    assert config.ignore_exceptions == ["KeyError", "myapp.errors.NotFound"]
    assert config.filter_keys == ["password", "token"]
    assert config.async_delivery is False and config.max_queue == 7
    assert config.transport == "log"
    assert (config.open_timeout, config.read_timeout, config.flush_timeout) == (0.5, 1.5, 4.0)
    assert (config.session_cookie_name, config.window_cookie_name) == ("sid", "wid")
    assert config.context_lines == 2
    # every option but the Python-only hook has a variable
    assert {k.removeprefix("SENTIERO_REPORTER_").lower() for k in environ} == set(OPTION_NAMES) - {
        "before_notify"
    }


def test_async_is_accepted_as_the_reference_name() -> None:
    assert from_environment({"SENTIERO_REPORTER_ASYNC": "0"}) == {"async_delivery": False}


def test_keyword_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIERO_REPORTER_PROJECT", "from-env")
    monkeypatch.setenv("SENTIERO_REPORTER_RELEASE", "9")
    reporter = sentiero_reporter.configure(project="from-code", transport="null")
    assert reporter.config.project == "from-code"
    assert reporter.config.release == "9"


def test_environment_alone_activates_the_reporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIERO_REPORTER_ENDPOINT", "http://127.0.0.1:9/s")
    monkeypatch.setenv("SENTIERO_REPORTER_INGEST_KEY", "k")
    monkeypatch.setenv("SENTIERO_REPORTER_PROJECT", "shop")
    monkeypatch.setenv("SENTIERO_REPORTER_TRANSPORT", "test")
    monkeypatch.setenv("SENTIERO_REPORTER_ASYNC", "false")
    assert sentiero_reporter.notify(ValueError("from env")) is True
    reporter = sentiero_reporter.get_reporter()
    assert reporter.transport.deliveries[0][0] == "errors"  # type: ignore[attr-defined]


def test_a_bad_environment_leaves_the_reporter_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIERO_REPORTER_MAX_QUEUE", "lots")
    assert sentiero_reporter.notify(ValueError("x")) is False
    assert not sentiero_reporter.get_reporter().active


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"max_queue": 0}, "max_queue"),
        ({"max_queue": "10"}, "max_queue"),
        ({"read_timeout": -1}, "read_timeout"),
        ({"open_timeout": 0}, "open_timeout"),
        ({"endpoint": "ftp://x"}, "endpoint"),
        ({"project": 3}, "project"),
        ({"transport": "carrier-pigeon"}, "transport"),
        ({"transport": object()}, "post(kind, payload)"),
        ({"before_notify": "drop"}, "before_notify"),
        ({"ignore_exceptions": [3]}, "ignore_exceptions"),
        ({"filter_keys": [3]}, "filter_keys"),
        ({"session_cookie_name": ""}, "session_cookie_name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        sentiero_reporter.configure(**options)


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="SENTIERO_REPORTER_ENABLED"):
        build({}, {"SENTIERO_REPORTER_ENABLED": "perhaps"})


def test_single_values_become_lists() -> None:
    config = build({"filter_keys": "password", "ignore_exceptions": KeyError}, {})
    assert config.filter_keys == ["password"]
    assert config.ignore_exceptions == [KeyError]


def test_reconfiguring_flushes_the_previous_queue() -> None:
    transport = TestTransport()
    sentiero_reporter.configure(**ADDRESS, transport=transport)
    sentiero_reporter.track("one")
    sentiero_reporter.configure(**ADDRESS, transport="null")
    assert [kind for kind, _ in transport.deliveries] == ["events"]
