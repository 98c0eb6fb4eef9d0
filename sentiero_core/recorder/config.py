"""The configuration baked into ``recorder.js`` (keys per the recording contract)."""

from __future__ import annotations

from typing import Any

import orjson

from ..builtins.redaction import recorder_patterns
from ..settings import Settings

CONFIG_GLOBAL = "window.__SENTIERO_CONFIG__"

# JSON puts these only inside strings, so escaping them everywhere is safe;
# no "</script>" or "<!--" survives, and U+2028/9 cannot end a JS line.
_JS_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def rrweb_options(settings: Settings) -> dict[str, Any]:
    """rrweb ``record()`` options: ``recorder_options`` first, the
    first-class settings over them, and password masking forced on."""
    options = dict(settings.recorder_options)
    extra_masks = options.get("maskInputOptions")
    mask_inputs: dict[str, Any] = dict(extra_masks) if isinstance(extra_masks, dict) else {}
    mask_inputs.update(settings.mask_input_options)
    mask_inputs["password"] = True
    first_class: dict[str, Any] = {
        "maskAllInputs": settings.mask_all_inputs,
        "maskInputOptions": mask_inputs,
        "blockSelector": settings.block_selector,
        "maskTextSelector": settings.mask_text_selector,
        "ignoreSelector": settings.ignore_selector,
        "sampling": settings.sampling,
        "inlineStylesheet": settings.inline_stylesheet,
        "checkoutEveryNms": settings.checkout_every_n_ms,
    }
    options.update({k: v for k, v in first_class.items() if v is not None})
    return options


def recorder_config(settings: Settings, endpoint: str | None) -> dict[str, Any]:
    """The config object; without ``endpoint`` the recorder posts to
    ``events`` beside the script it was loaded from."""
    config: dict[str, Any] = {
        "flushIntervalMs": settings.flush_interval_ms,
        "flushEventThreshold": settings.flush_event_threshold,
        "maxQueueEvents": settings.max_queue_events,
        "crossTabSessions": settings.cross_tab_sessions,
        "sessionIdleTimeoutMs": settings.session_idle_timeout * 1000,
        "sessionMaxAgeMs": settings.session_max_age * 1000,
        "sampleRate": settings.session_sample_rate,
        "captureMetadata": settings.capture_metadata,
        "captureErrors": settings.capture_errors,
        "trackNavigation": settings.track_navigation,
        "trackCustomEvents": settings.track_custom_events,
        "trackForms": settings.track_forms,
        "captureWebVitals": settings.capture_web_vitals,
        "captureConsole": settings.capture_console,
        "consoleMaxLength": settings.console_max_length,
        "userOptOut": settings.user_opt_out,
        "optOutCookieName": settings.opt_out_cookie_name,
        "respectGpc": settings.respect_gpc,
        "respectDnt": settings.respect_dnt,
        "mutationLimit": settings.mutation_limit,
        "mutationWarning": settings.mutation_warning,
        "rrweb": rrweb_options(settings),
        # the pattern rules, run on every string before an event is queued
        "redact": {
            "r": settings.redaction.replacement,
            "p": recorder_patterns(settings.redaction),
        },
    }
    if endpoint:
        config["endpoint"] = endpoint
    return config


def js_json(value: Any) -> bytes:
    """JSON that is also safe inside a ``<script>`` element."""
    data = orjson.dumps(value)
    for raw, escaped in _JS_ESCAPES:
        data = data.replace(raw, escaped)
    return data


def config_line(config: dict[str, Any]) -> bytes:
    return CONFIG_GLOBAL.encode() + b" = " + js_json(config) + b";\n"
