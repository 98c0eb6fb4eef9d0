"""One typed settings object for the recorder, the server and the plugins.

Sources, later ones winning: a TOML file, ``SENTIERO_*`` environment
variables, keyword arguments. Every value is checked against its declared
type; an unknown key or a bad value raises :class:`SettingsError` naming the
option and what was expected.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
import secrets
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builtins.redaction_patterns import ALL_BUILTINS, DEFAULT_BUILTINS

URL_MODES = ("keep", "denylist", "allowlist", "redact_values", "strip")

ENV_PREFIX = "SENTIERO_"
#: Options that were renamed, so an old configuration gets a pointer, not a riddle.
RENAMED = {
    "trust_forwarded_for": "trusted_proxy_hops (how many proxies of yours are in front)",
}


class SettingsError(ValueError):
    """A configuration value is unknown or of the wrong shape."""


#: The longest age a purge or ``retention_period`` takes (100 years): far
#: past any real retention, and a cut-off dates can still hold (an age of
#: millions of days fell before year 1 and crashed the purge).
MAX_AGE_S = 100 * 365 * 86_400


@dataclass
class RedactionSettings:
    """Server-side redaction applied to every batch before it is stored."""

    #: Built-in rules to apply, by name (docs/privacy.md lists them): every
    #: one but ``phone`` and ``api_key`` unless set.
    builtin_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_BUILTINS))
    #: Extra regular expressions whose matches are replaced.
    custom_patterns: list[str] = field(default_factory=list)
    #: What happens to URL query strings: ``keep`` (only ``query_denylist``
    #: keys are redacted; ``denylist`` is the same), ``allowlist`` (every
    #: value but those of ``query_allowlist`` keys is redacted),
    #: ``redact_values`` (every value) or ``strip`` (query strings removed).
    url_mode: str = "keep"
    #: Query keys whose values are always redacted (``keep``, ``denylist``):
    #: a key containing one of these words, in any case.
    query_denylist: list[str] = field(
        default_factory=lambda: ["token", "password", "secret", "key", "auth", "code", "session"]
    )
    #: Query keys whose values are kept under ``url_mode = "allowlist"``
    #: (exact names, in any case).
    query_allowlist: list[str] = field(default_factory=list)
    #: ``function(text) -> str``, or ``"module:function"``: called with every
    #: string of every event (keys too) after the other rules; returns the
    #: text to store. An exception drops the batch.
    string_function: Callable[[str], str] | None = None
    #: ``function(event) -> event``, or ``"module:function"``: called with
    #: every event after the other rules; changes it in place (returning
    #: ``None``) or returns the event to store. An exception drops the batch.
    event_function: Callable[[dict[str, Any]], Any] | None = None
    #: The text that replaces a redacted value.
    replacement: str = "[redacted]"


@dataclass
class Settings:
    """Every recorder and server option; docs/configuration.md describes them."""

    # server
    mount_path: str = "/sentiero"
    store_url: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    auth_callback: Callable[..., Any] | None = None
    #: ``current_user(request) -> str | None`` (or awaitable): who is using
    #: the dashboard, for ``audit_log`` records. Unset: the value
    #: ``auth_callback`` returned when it is a string.
    current_user: Callable[..., Any] | None = None
    secret_key: str | None = None
    max_request_bytes: int = 5 * 1024 * 1024
    # ingest limits, sized from the recorder's real batches (docs/recording.md)
    max_decoded_bytes: int = 16 * 1024 * 1024
    max_batch_bytes: int = 4 * 1024 * 1024
    ingest_max_concurrent: int = 4
    ingest_queue_timeout: float = 2.0
    ingest_rate_limit: float | None = None
    ingest_rate_burst: int = 60
    # recorder transport
    flush_interval_ms: int = 10_000
    flush_event_threshold: int = 50
    max_queue_events: int = 5_000
    # API and limits
    max_events_per_page: int = 1_000
    max_events_per_request: int | None = 1_000
    max_sessions: int | None = None
    max_events_per_session: int | None = None
    # sessions
    cross_tab_sessions: bool = True
    session_idle_timeout: int = 21_600
    session_max_age: int = 604_800
    session_sample_rate: float = 1.0
    # opt-in captures
    capture_metadata: bool = False
    capture_errors: bool = False
    track_navigation: bool = False
    track_custom_events: bool = False
    track_forms: bool = False
    capture_web_vitals: bool = False
    capture_console: bool = False
    console_max_length: int = 1_000
    # recorder limits: DOM mutations in a burst before a warning event, and
    # before the recorder stops recording the page
    mutation_warning: int = 750
    mutation_limit: int = 10_000
    # rrweb options
    mask_all_inputs: bool = True
    mask_input_options: dict[str, bool] = field(default_factory=dict)
    block_selector: str | None = "[data-rr-block]"
    mask_text_selector: str | None = "[data-rr-mask]"
    ignore_selector: str | None = "[data-rr-ignore]"
    sampling: dict[str, Any] | None = field(
        default_factory=lambda: {"scroll": 150, "input": "last"}
    )
    inline_stylesheet: bool | None = None
    checkout_every_n_ms: int | None = None
    recorder_options: dict[str, Any] = field(default_factory=dict)
    # privacy
    user_opt_out: bool = False
    opt_out_cookie_name: str = "sentiero_optout"
    respect_gpc: bool = True
    respect_dnt: bool = True
    retention_period: int | None = None
    redaction: RedactionSettings = field(default_factory=RedactionSettings)
    anonymize_ip: bool = True
    #: How many reverse proxies in front of Sentiero to believe: with N > 0
    #: the client address, scheme and host come from the Nth entry from the
    #: right of the forwarded headers (Hypercorn's ProxyFixMiddleware); 0
    #: ignores those headers, which any client can forge.
    trusted_proxy_hops: int = 0
    #: Which headers the proxies set: ``legacy`` (X-Forwarded-For/-Proto/-Host)
    #: or ``modern`` (RFC 7239 ``Forwarded``).
    proxy_mode: str = "legacy"
    audit_log: Callable[..., Any] | None = None
    # where browsers reach this server, and where a replay may load from
    #: The URL browsers reach this app at, without the mount path
    #: (``"https://rec.example.com"``, or ``"https://example.com/tools"`` under
    #: a path prefix). ``recorder.js`` posts to ``<public_url><mount_path>/events``
    #: and ``script_tag`` points there. Unset, no URL is built from a request's
    #: Host header: the recorder posts beside the script it was loaded from.
    public_url: str | None = None
    #: Origins (``"https://cdn.example.com"``, ``"https://*.example.com"``) a
    #: replay may load images, styles, fonts and media from, besides the
    #: dashboard's own and, with ``replay_recorded_origins``, the session's.
    replay_resource_origins: list[str] = field(default_factory=list)
    #: Whether a replay may load from the origins of the pages the session
    #: recorded. A forged session names its own pages: set false (and list
    #: your sites in ``replay_resource_origins``) so that no replay can reach
    #: a host you did not list.
    replay_recorded_origins: bool = True
    #: Whether the dashboard offers shareable replays: ``<mount>/share/<id>``
    #: (a self-contained HTML file that replays a session offline) and
    #: ``<mount>/import`` (plays an exported file in the browser). Off, both
    #: answer 404.
    shareable_replays: bool = False
    #: The largest share file's events, in bytes of JSON; a larger session is
    #: answered with 413 (its JSON export has no cap).
    share_max_bytes: int = 20 * 1024 * 1024
    # plugin sections, validated against the types plugins register
    plugins: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self, "")
        if self.mount_path != "" and (
            not self.mount_path.startswith("/")
            or (self.mount_path != "/" and self.mount_path.endswith("/"))
        ):
            raise SettingsError(
                f"mount_path: expected a path starting with '/' and without a trailing '/', "
                f"got {self.mount_path!r}"
            )
        if self.mount_path == "/":
            self.mount_path = ""
        if not 0.0 <= self.session_sample_rate <= 1.0:
            raise SettingsError("session_sample_rate: expected a number between 0 and 1")
        for name in (
            "flush_interval_ms",
            "flush_event_threshold",
            "max_events_per_page",
            "max_request_bytes",
            "max_decoded_bytes",
            "max_batch_bytes",
            "ingest_max_concurrent",
            "ingest_rate_burst",
            "max_queue_events",
            "mutation_warning",
            "mutation_limit",
            "share_max_bytes",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name}: expected a positive integer")
        for name in (
            "max_events_per_request",
            "max_sessions",
            "max_events_per_session",
            "retention_period",
            "checkout_every_n_ms",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SettingsError(f"{name}: expected a positive integer or none")
        if self.retention_period is not None and self.retention_period > MAX_AGE_S:
            raise SettingsError(
                f"retention_period: expected at most {MAX_AGE_S} seconds (100 years), "
                f"got {self.retention_period}"
            )
        if self.trusted_proxy_hops < 0:
            raise SettingsError("trusted_proxy_hops: expected 0 or a positive integer")
        if self.proxy_mode not in ("legacy", "modern"):
            raise SettingsError(
                f"proxy_mode: expected 'legacy' or 'modern', got {self.proxy_mode!r}"
            )
        if not self.ingest_queue_timeout >= 0:
            raise SettingsError("ingest_queue_timeout: expected a number of seconds, 0 or more")
        if self.ingest_rate_limit is not None and not self.ingest_rate_limit > 0:
            raise SettingsError("ingest_rate_limit: expected a positive number or none")
        if self.redaction.url_mode not in URL_MODES:
            raise SettingsError(
                f"redaction.url_mode: expected one of {', '.join(map(repr, URL_MODES))}, "
                f"got {self.redaction.url_mode!r}"
            )
        unknown = set(self.redaction.builtin_patterns) - set(ALL_BUILTINS)
        if unknown:
            raise SettingsError(
                f"redaction.builtin_patterns: unknown pattern(s) {sorted(unknown)}; "
                f"known patterns are {list(ALL_BUILTINS)}"
            )
        for name in ("string_function", "event_function"):
            value = getattr(self.redaction, name)
            if isinstance(value, str):
                value = _import_callable(value, f"redaction.{name}")
            if value is not None and not callable(value):
                raise SettingsError(
                    f"redaction.{name}: expected a callable or 'module:function', got {value!r}"
                )
            setattr(self.redaction, name, value)
        self.public_url = _public_url(self.public_url)
        self.replay_resource_origins = [
            _resource_origin(o, f"replay_resource_origins[{i}]")
            for i, o in enumerate(self.replay_resource_origins)
        ]
        if self.secret_key is None:
            self.secret_key = secrets.token_urlsafe(32)

    def plugin(self, name: str) -> Any:
        """The settings section a plugin registered under ``name``."""
        return self.plugins.get(name)

    def with_plugin_sections(self, sections: Mapping[str, type]) -> Settings:
        """Validate each plugin's raw section against the type it registered."""
        unknown = set(self.plugins) - set(sections)
        if unknown:
            raise SettingsError(
                f"plugins: no installed plugin declares the section(s) {sorted(unknown)}"
            )
        built: dict[str, Any] = {}
        for name, cls in sections.items():
            raw = self.plugins.get(name, {})
            if dataclasses.is_dataclass(raw) and not isinstance(raw, type):
                built[name] = raw
            elif isinstance(raw, Mapping):
                built[name] = _build(cls, raw, f"plugins.{name}")
            else:
                raise SettingsError(f"plugins.{name}: expected a table of settings")
        return dataclasses.replace(self, plugins=built)


# -- validation -------------------------------------------------------------

_HOST = r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
_PUBLIC_URL = re.compile(
    rf"(https?)://({_HOST})((?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*)", re.IGNORECASE
)
_ORIGIN = re.compile(rf"https?://(?:\*\.)?{_HOST}", re.IGNORECASE)


def _public_url(value: str | None) -> str | None:
    """``public_url`` without its trailing slash; a scheme, a host and at
    most a path, so that it can prefix the mount path."""
    if value is None:
        return None
    match = _PUBLIC_URL.fullmatch(value.strip())
    if match is None:
        raise SettingsError(
            "public_url: expected an http(s) URL of a scheme, a host and an optional path "
            f"(no query or fragment), e.g. 'https://rec.example.com', got {value!r}"
        )
    scheme, host, path = match.groups()
    return f"{scheme.lower()}://{host.lower()}{path.rstrip('/')}"


def _resource_origin(value: str, where: str) -> str:
    origin = value.strip().rstrip("/").lower()
    if _ORIGIN.fullmatch(origin) is None:
        raise SettingsError(
            f"{where}: expected an origin like 'https://cdn.example.com' or "
            f"'https://*.example.com' (scheme and host, no path), got {value!r}"
        )
    return origin


_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _type_name(tp: Any) -> str:
    """Words for a type in error messages: ``int | None`` is "an integer or none"."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(tp) if a is not type(None)]
        if type(None) in typing.get_args(tp):
            parts.append("none")
        return " or ".join(parts)
    if tp in _WORDS:
        return _WORDS[tp]
    if origin is list:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a table"
    if origin is not None and getattr(origin, "__name__", "") == "Callable":
        return "a callable or 'module:function'"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check(value: Any, tp: Any, where: str) -> Any:
    """Return ``value`` coerced to ``tp`` (ints to floats only) or raise."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check(value, arg, where)
            except SettingsError as exc:
                errors.append(str(exc))
        raise SettingsError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    if tp is Any:
        return value
    if (
        origin is not None
        and origin.__module__ == "collections.abc"
        and origin.__name__ == "Callable"
    ):
        if callable(value):
            return value
        raise SettingsError(f"{where}: expected a callable or 'module:function', got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise SettingsError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise SettingsError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise SettingsError(f"{where}: expected a string, got {value!r}")
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise SettingsError(f"{where}: expected a list, got {value!r}")
        return [_check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _key, item = typing.get_args(tp)
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected a table, got {value!r}")
        return {str(k): _check(v, item, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return _build(tp, value, where)
        raise SettingsError(f"{where}: expected a table, got {value!r}")
    raise SettingsError(f"{where}: unsupported type {_type_name(tp)}")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, globalns=vars(importlib.import_module(cls.__module__)))


def _validate(obj: Any, prefix: str) -> None:
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        if f.name == "plugins" and prefix == "":
            if not isinstance(obj.plugins, Mapping):
                raise SettingsError("plugins: expected a table of plugin sections")
            continue
        value = getattr(obj, f.name)
        if f.name in ("auth_callback", "audit_log", "current_user") and isinstance(value, str):
            value = _import_callable(value, f.name)
        setattr(obj, f.name, _check(value, hints[f.name], prefix + f.name))


CALLABLE_OPTIONS = ("string_function", "event_function")


def _imports(option: str, value: Any) -> bool:
    return option in CALLABLE_OPTIONS and isinstance(value, str)


def _build(cls: type, raw: Mapping[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise SettingsError(
            f"{where}: unknown option(s) {sorted(unknown)}; known options are {sorted(names)}"
        )
    hints = _hints(cls)
    raw = {
        k: (
            _import_callable(v, f"{where}.{k}")
            if k in CALLABLE_OPTIONS and isinstance(v, str)
            else v
        )
        for k, v in raw.items()
    }
    values = {k: _check(v, hints[k], f"{where}.{k}") for k, v in raw.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def _import_callable(path: str, option: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise SettingsError(f"{option}: expected 'module:function', got {path!r}")
    try:
        target = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise SettingsError(f"{option}: cannot import {path!r}: {exc}") from exc
    if not callable(target):
        raise SettingsError(f"{option}: {path!r} is not callable")
    return typing.cast(Callable[..., Any], target)


# -- sources ----------------------------------------------------------------


def _parse_env_value(raw: str, tp: Any, where: str) -> Any:
    """Environment values are text: read them by the option's declared type."""
    text = raw.strip()
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    base = args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) and args else tp
    if text.lower() in ("", "none", "null") and type(None) in typing.get_args(tp):
        return None
    if base is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{where}: expected true or false, got {raw!r}")
    if base is int:
        try:
            return int(text.replace("_", ""))
        except ValueError:
            raise SettingsError(f"{where}: expected an integer, got {raw!r}") from None
    if base is float:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{where}: expected a number, got {raw!r}") from None
    origin = typing.get_origin(base)
    if origin is list:
        if text.startswith("["):
            return _json(text, where)
        return [item.strip() for item in text.split(",") if item.strip()]
    if origin is dict or dataclasses.is_dataclass(base):
        return _json(text, where)
    return raw


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{where}: expected JSON, {exc}") from None


#: Variables that are not the server's settings: the test suite's, and the
#: reporter client's (``sentiero_reporter.configure`` reads them, often in
#: the very process that serves Sentiero).
FOREIGN_ENV_PREFIXES = ("SENTIERO_TEST_", "SENTIERO_REPORTER_")


def read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Options from ``SENTIERO_<OPTION>``; ``__`` reaches into sections:
    ``SENTIERO_REDACTION__URL_MODE``, ``SENTIERO_PLUGINS__ANALYTICS__TOP_N``."""
    hints = _hints(Settings)
    redaction_hints = _hints(RedactionSettings)
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or key in ("SENTIERO_CONFIG", "SENTIERO_LOAD_PLUGINS"):
            continue
        if key.startswith(FOREIGN_ENV_PREFIXES):
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        where = f"environment variable {key}"
        if parts[0] == "plugins":
            if len(parts) != 3:
                raise SettingsError(f"{where}: expected SENTIERO_PLUGINS__<SECTION>__<OPTION>")
            out.setdefault("plugins", {}).setdefault(parts[1], {})[parts[2]] = _plugin_env(raw)
        elif parts[0] == "redaction" and len(parts) == 2:
            if parts[1] not in redaction_hints:
                raise SettingsError(f"{where}: unknown option redaction.{parts[1]}")
            out.setdefault("redaction", {})[parts[1]] = _parse_env_value(
                raw, redaction_hints[parts[1]], where
            )
        elif len(parts) == 1 and parts[0] in hints:
            out[parts[0]] = _parse_env_value(raw, hints[parts[0]], where)
        else:
            raise SettingsError(f"{where}: unknown option {'.'.join(parts)!r}")
    return out


def _plugin_env(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {str(p)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {str(p)!r}: {exc}") from None
    return data.get("sentiero", data) if isinstance(data.get("sentiero"), dict) else data


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in top.items():
        if (
            k in ("plugins", "redaction")
            and isinstance(v, Mapping)
            and isinstance(merged.get(k), dict)
        ):
            merged[k] = _deep_merge(merged[k], v)
        else:
            merged[k] = v
    return merged


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from a TOML file, then the environment, then ``overrides``.

    ``config_file`` defaults to ``$SENTIERO_CONFIG`` when set.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    path = config_file or env.get("SENTIERO_CONFIG")
    if path:
        raw = _deep_merge(raw, read_toml(path))
    raw = _deep_merge(raw, read_env(env))
    raw = _deep_merge(raw, {k: v for k, v in overrides.items()})
    redaction = raw.pop("redaction", None)
    if isinstance(redaction, Mapping):
        raw["redaction"] = _build(RedactionSettings, redaction, "redaction")
    elif redaction is not None:
        raw["redaction"] = redaction
    names = {f.name for f in dataclasses.fields(Settings)}
    unknown = set(raw) - names
    if unknown:
        hints = [f"{old} is now {new}" for old, new in RENAMED.items() if old in unknown]
        raise SettingsError(
            f"unknown option(s) {sorted(unknown)}" + (f" ({'; '.join(hints)})" if hints else "")
        )
    return Settings(**raw)
