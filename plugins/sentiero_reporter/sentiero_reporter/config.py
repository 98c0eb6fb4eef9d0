"""The reporter's options, from keyword arguments and SENTIERO_REPORTER_* variables."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

ENV_PREFIX = "SENTIERO_REPORTER_"

Report = dict[str, Any]
BeforeNotify = Callable[[Report], "Report | bool | None"]


class ConfigurationError(ValueError):
    """An option has a value of the wrong kind; the message names the option."""


@dataclass
class Configuration:
    """Every option of the reporter; see docs/reporter.md for the table."""

    endpoint: str | None = None
    ingest_key: str | None = None
    project: str | None = None
    environment: str | None = None
    release: str | None = None
    enabled: bool = True
    ignore_exceptions: list[type[BaseException] | str] = field(default_factory=list)
    before_notify: BeforeNotify | None = None
    filter_keys: list[str | re.Pattern[str]] = field(default_factory=list)
    async_delivery: bool = True
    max_queue: int = 100
    transport: Any = "http"
    open_timeout: float = 2.0
    read_timeout: float = 3.0
    flush_timeout: float = 2.0
    session_cookie_name: str = "sentiero_sid"
    window_cookie_name: str = "sentiero_wid"
    context_lines: int = 5

    @property
    def active(self) -> bool:
        """Reports are built and sent only when enabled and fully addressed."""
        return bool(self.enabled and self.endpoint and self.ingest_key and self.project)

    def validate(self) -> None:
        for name in ("endpoint", "ingest_key", "project", "environment", "release"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(f"{name} must be a string or None, not {value!r}")
        if self.endpoint and not re.match(r"^https?://", self.endpoint):
            raise ConfigurationError(
                f"endpoint must start with http:// or https://, not {self.endpoint!r}"
            )
        for name in ("max_queue", "context_lines"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative integer, not {value!r}")
        if self.max_queue < 1:
            raise ConfigurationError(f"max_queue must be at least 1, not {self.max_queue!r}")
        for name in ("open_timeout", "read_timeout", "flush_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number, not {value!r}")
        for item in self.ignore_exceptions:
            if not (
                isinstance(item, str)
                or (isinstance(item, type) and issubclass(item, BaseException))
            ):
                raise ConfigurationError(
                    f"ignore_exceptions entries must be exception classes or dotted names, "
                    f"not {item!r}"
                )
        for key in self.filter_keys:
            if not isinstance(key, str | re.Pattern):
                raise ConfigurationError(
                    f"filter_keys entries must be strings or compiled regexes, not {key!r}"
                )
        if self.before_notify is not None and not callable(self.before_notify):
            raise ConfigurationError(f"before_notify must be callable, not {self.before_notify!r}")
        if isinstance(self.transport, str):
            if self.transport not in TRANSPORT_NAMES:
                raise ConfigurationError(
                    f"transport must be one of {', '.join(TRANSPORT_NAMES)} or an object "
                    f"with post(kind, payload), not {self.transport!r}"
                )
        elif not callable(getattr(self.transport, "post", None)):
            raise ConfigurationError(
                f"transport {self.transport!r} has no post(kind, payload) method"
            )
        for name in ("session_cookie_name", "window_cookie_name"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigurationError(f"{name} must be a non-empty string")


TRANSPORT_NAMES = ("http", "log", "null", "test")
OPTION_NAMES = tuple(f.name for f in fields(Configuration))
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLEANS.update({"0": False, "false": False, "no": False, "off": False})


def _env_value(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(Configuration)}[name]
    if kind == "bool":
        try:
            return _BOOLEANS[raw.strip().lower()]
        except KeyError:
            raise ConfigurationError(
                f"{ENV_PREFIX}{name.upper()} must be true or false, not {raw!r}"
            ) from None
    if kind == "int" or kind == "float":
        try:
            return int(raw) if kind == "int" else float(raw)
        except ValueError:
            raise ConfigurationError(
                f"{ENV_PREFIX}{name.upper()} must be a number, not {raw!r}"
            ) from None
    if name in ("ignore_exceptions", "filter_keys"):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


# Options that only make sense as Python objects are not read from the environment.
ENV_OPTIONS = tuple(name for name in OPTION_NAMES if name != "before_notify")


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The options set through SENTIERO_REPORTER_<OPTION> variables."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name in ENV_OPTIONS:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            found[name] = _env_value(name, raw)
    # "async" is the reference's name for the delivery switch.
    if "async_delivery" not in found and ENV_PREFIX + "ASYNC" in environ:
        found["async_delivery"] = _env_value("async_delivery", environ[ENV_PREFIX + "ASYNC"])
    return found


def build(options: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Configuration:
    """Environment first, keyword arguments over it; unknown names are refused."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise ConfigurationError(
            f"unknown reporter option(s): {', '.join(unknown)} (known: {', '.join(OPTION_NAMES)})"
        )
    merged = {**from_environment(environ), **options}
    for name in ("ignore_exceptions", "filter_keys"):
        if name in merged:
            value = merged[name]
            merged[name] = [value] if isinstance(value, str | re.Pattern | type) else list(value)
    config = Configuration(**merged)
    config.validate()
    return config
