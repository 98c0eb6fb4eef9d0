"""The config object baked into recorder.js (sentiero_core.recorder.config)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import orjson
import pytest

from sentiero_core import Settings
from sentiero_core.recorder.config import config_line, js_json, recorder_config, rrweb_options

CONTRACT_KEYS = {
    "endpoint",
    "redact",
    "flushIntervalMs",
    "flushEventThreshold",
    "maxQueueEvents",
    "crossTabSessions",
    "sessionIdleTimeoutMs",
    "sessionMaxAgeMs",
    "sampleRate",
    "captureMetadata",
    "captureErrors",
    "trackNavigation",
    "trackCustomEvents",
    "trackForms",
    "captureWebVitals",
    "captureConsole",
    "consoleMaxLength",
    "userOptOut",
    "optOutCookieName",
    "respectGpc",
    "respectDnt",
    "mutationLimit",
    "mutationWarning",
    "rrweb",
}


def test_config_has_exactly_the_contract_keys() -> None:
    config = recorder_config(Settings(), "https://rec.example/sentiero/events")
    assert set(config) == CONTRACT_KEYS


def test_config_values_come_from_settings_in_milliseconds() -> None:
    settings = Settings(
        flush_interval_ms=2500,
        session_idle_timeout=60,
        session_max_age=3600,
        session_sample_rate=0.25,
        capture_errors=True,
        console_max_length=80,
        user_opt_out=True,
        opt_out_cookie_name="nope",
        respect_dnt=False,
    )
    config = recorder_config(settings, None)
    assert "endpoint" not in config  # the recorder then uses its own src
    assert config["flushIntervalMs"] == 2500
    assert (config["sessionIdleTimeoutMs"], config["sessionMaxAgeMs"]) == (60_000, 3_600_000)
    assert config["sampleRate"] == 0.25 and config["captureErrors"] is True
    assert config["consoleMaxLength"] == 80 and config["optOutCookieName"] == "nope"
    assert config["userOptOut"] is True and config["respectDnt"] is False


def test_default_rrweb_options() -> None:
    assert rrweb_options(Settings()) == {
        "maskAllInputs": True,
        "maskInputOptions": {"password": True},
        "blockSelector": "[data-rr-block]",
        "maskTextSelector": "[data-rr-mask]",
        "ignoreSelector": "[data-rr-ignore]",
        "sampling": {"scroll": 150, "input": "last"},
    }


@pytest.mark.parametrize(
    "settings",
    [
        Settings(mask_input_options={"password": False}),
        Settings(recorder_options={"maskInputOptions": {"password": False}}),
        Settings(mask_all_inputs=False, recorder_options={"maskInputOptions": False}),
    ],
)
def test_password_masking_is_forced(settings: Settings) -> None:
    assert rrweb_options(settings)["maskInputOptions"]["password"] is True


def test_recorder_options_sit_under_first_class_settings() -> None:
    settings = Settings(
        block_selector=".secret",
        mask_text_selector=None,
        checkout_every_n_ms=60_000,
        mask_input_options={"email": True},
        recorder_options={
            "blockSelector": ".ignored",
            "maskTextSelector": ".from-options",
            "maskAllInputs": False,
            "recordCanvas": True,
            "maskInputOptions": {"tel": True, "email": False},
        },
    )
    options = rrweb_options(settings)
    assert options["blockSelector"] == ".secret"
    assert options["maskTextSelector"] == ".from-options"  # null first-class: omitted
    assert options["maskAllInputs"] is True
    assert options["recordCanvas"] is True
    assert options["checkoutEveryNms"] == 60_000
    assert options["maskInputOptions"] == {"tel": True, "email": True, "password": True}


def test_js_json_escapes_markup_and_line_separators() -> None:
    value = {"s": "</script><!-- & \u2028\u2029 >"}
    out = js_json(value)
    for bad in (b"<", b">", b"&", "\u2028".encode(), "\u2029".encode()):
        assert bad not in out
    assert orjson.loads(out) == value


def test_config_line_is_valid_javascript() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    settings = Settings(block_selector='</script><script>alert("x")</script>\u2028')
    config = recorder_config(settings, "http://127.0.0.1:1/sentiero/events")
    script = (
        "var window = {};\n"
        + config_line(config).decode()
        + "process.stdout.write(JSON.stringify(window.__SENTIERO_CONFIG__));"
    )
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    parsed: Any = json.loads(result.stdout)
    assert parsed == json.loads(orjson.dumps(config))
