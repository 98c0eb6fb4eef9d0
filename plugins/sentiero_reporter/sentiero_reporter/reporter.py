"""The Reporter: builds reports from exceptions and events and hands them to delivery."""

from __future__ import annotations

import copy
import logging
import platform
from collections.abc import Mapping
from typing import Any

from . import scope as _context
from .config import Configuration
from .delivery import Delivery, set_exit_timeout
from .payload import (
    exception_data,
    filter_keys,
    is_ignored,
    json_safe,
    now_ms,
)
from .transports import HttpTransport, LogTransport, NullTransport, TestTransport, Transport

logger = logging.getLogger("sentiero_reporter")

NOTIFIER = {"name": "sentiero-reporter", "version": "0.1.0"}
LEVELS = ("debug", "info", "warning", "error", "critical")
# Context keys that link a report to a recorded session; sent at the top level.
LINK_KEYS = ("session_id", "window_id")


def make_transport(config: Configuration) -> Transport:
    chosen = config.transport
    if chosen == "http":
        return HttpTransport(
            config.endpoint or "http://invalid.invalid",
            config.ingest_key or "",
            open_timeout=config.open_timeout,
            read_timeout=config.read_timeout,
        )
    if chosen == "log":
        return LogTransport()
    if chosen == "null":
        return NullTransport()
    if chosen == "test":
        return TestTransport()
    return chosen  # type: ignore[no-any-return]


class Reporter:
    """One configured reporter. The module-level functions use a global one."""

    def __init__(self, config: Configuration) -> None:
        self.config = config
        self.transport: Transport = make_transport(config)
        self.delivery = Delivery(self.transport, config.async_delivery, config.max_queue)
        set_exit_timeout(config.flush_timeout)

    @property
    def active(self) -> bool:
        return self.config.active

    # -- building ---------------------------------------------------------

    def _common(self, extra_context: Mapping[str, Any] | None) -> dict[str, Any]:
        config = self.config
        ctx: dict[str, Any] = _context.current()
        if extra_context:
            ctx.update(extra_context)
        if config.environment is not None:
            ctx.setdefault("environment", config.environment)
        if config.release is not None:
            ctx.setdefault("release", config.release)
        report: dict[str, Any] = {
            "project": config.project,
            "environment": config.environment,
            "release": config.release,
            "timestamp": now_ms(),
            "platform": "python",
            "runtime": f"{platform.python_implementation()} {platform.python_version()}",
            "notifier": NOTIFIER,
        }
        request = _context.request_data()
        if request:
            ctx.setdefault("session_id", request.get("session_id"))
            ctx.setdefault("window_id", request.get("window_id"))
            report["request"] = {
                k: v for k, v in request.items() if k not in ("session_id", "window_id")
            }
        for key in LINK_KEYS:
            value = ctx.pop(key, None)
            if value is not None:
                report[key] = str(value)
        if "fingerprint" in ctx:
            report["fingerprint"] = ctx.pop("fingerprint")
        report["context"] = ctx
        return report

    def _clean(self, report: dict[str, Any]) -> dict[str, Any]:
        report = json_safe(report)
        for key in ("context", "request", "properties"):
            if key in report:
                report[key] = filter_keys(report[key], self.config.filter_keys)
        return report

    def build_error(
        self,
        exc: BaseException,
        context: Mapping[str, Any] | None = None,
        fingerprint: str | list[str] | None = None,
        level: str = "error",
    ) -> dict[str, Any]:
        report = self._common(context)
        report["level"] = level
        report["exception"] = exception_data(exc, self.config.context_lines)
        if fingerprint is not None:
            report["fingerprint"] = fingerprint
        return self._clean(report)

    def build_event(self, name: str, level: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        report = self._common(None)
        report["name"] = str(name)[:200]
        report["level"] = level if level in LEVELS else "info"
        report["properties"] = dict(properties)
        return self._clean(report)

    def _before_notify(self, report: dict[str, Any]) -> dict[str, Any] | None:
        hook = self.config.before_notify
        if hook is None:
            return report
        original = copy.deepcopy(report)
        try:
            result = hook(report)
        except Exception as exc:
            logger.warning("sentiero reporter: before_notify raised %r; report sent unchanged", exc)
            return original
        if result is None or result is False:
            return None
        if result is True:
            return report
        if isinstance(result, dict):
            return self._clean(result)
        logger.warning(
            "sentiero reporter: before_notify returned %r, not a dict, None or False; "
            "report sent unchanged",
            type(result).__name__,
        )
        return original

    # -- public operations (never raise) ----------------------------------

    def notify(
        self,
        exc: BaseException | None = None,
        context: Mapping[str, Any] | None = None,
        fingerprint: str | list[str] | None = None,
        level: str = "error",
    ) -> bool:
        """Reports ``exc`` (the one being handled when None); True if it was handed on."""
        try:
            if not self.active:
                return False
            if exc is None:
                import sys

                exc = sys.exc_info()[1]
                if exc is None:
                    return False
            if is_ignored(exc, self.config.ignore_exceptions):
                return False
            report = self._before_notify(self.build_error(exc, context, fingerprint, level))
            if report is None:
                return False
            self.delivery.submit("errors", report)
            return True
        except Exception as failure:
            logger.warning("sentiero reporter: notify failed: %r", failure)
            return False

    def track(self, name: str, level: str = "info", **properties: Any) -> bool:
        """Reports a custom event ``name`` with ``properties``; True if it was handed on."""
        try:
            if not self.active:
                return False
            self.delivery.submit("events", self.build_event(name, level, properties))
            return True
        except Exception as failure:
            logger.warning("sentiero reporter: track failed: %r", failure)
            return False

    def flush(self, timeout: float | None = None) -> bool:
        try:
            return self.delivery.flush(self.config.flush_timeout if timeout is None else timeout)
        except Exception:
            return False

    def close(self, timeout: float | None = None) -> bool:
        try:
            return self.delivery.close(self.config.flush_timeout if timeout is None else timeout)
        except Exception:
            return False

    def stats(self) -> dict[str, int]:
        return self.delivery.stats.as_dict()
