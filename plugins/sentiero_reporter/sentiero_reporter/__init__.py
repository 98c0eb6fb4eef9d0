"""sentiero-reporter: report exceptions and business events to a Sentiero server.

The client needs only the standard library. Configure it once::

    import sentiero_reporter
    sentiero_reporter.configure(endpoint="https://sentiero.example.com/sentiero",
                                ingest_key="...", project="shop")

Until ``endpoint``, ``ingest_key`` and ``project`` are all set, every call is a
no-op, and no public function ever raises into the application. The server
half (ingest, issues, dashboard pages) is :mod:`sentiero_reporter.server`,
which needs ``sentiero-reporter[server]``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from . import scope as _context
from .asgi import ReporterMiddleware
from .config import Configuration, ConfigurationError
from .handler import ReporterHandler
from .reporter import Reporter
from .transports import (
    DeliveryError,
    HttpTransport,
    LogTransport,
    NullTransport,
    TestTransport,
    Transport,
)
from .wsgi import WSGIReporterMiddleware

__all__ = [
    "Configuration",
    "ConfigurationError",
    "DeliveryError",
    "HttpTransport",
    "LogTransport",
    "NullTransport",
    "Reporter",
    "ReporterHandler",
    "ReporterMiddleware",
    "TestTransport",
    "Transport",
    "WSGIReporterMiddleware",
    "add_context",
    "capture_notifications",
    "clear_context",
    "configure",
    "context",
    "flush",
    "get_reporter",
    "notify",
    "stats",
    "track",
]

logger = logging.getLogger("sentiero_reporter")
_lock = threading.Lock()
_reporter: Reporter | None = None


def configure(**options: Any) -> Reporter:
    """Sets up the global reporter from SENTIERO_REPORTER_* variables and ``options``.

    Unlike the reporting calls, this raises :class:`ConfigurationError` on a
    bad option: a mistake in configuration should be seen at start-up. The
    previous reporter's queue is flushed (within ``flush_timeout``) first.
    """
    global _reporter
    from .config import build

    reporter = Reporter(build(options))
    with _lock:
        previous, _reporter = _reporter, reporter
    if previous is not None:
        previous.close()
    return reporter


def get_reporter() -> Reporter:
    """The global reporter; built from the environment alone if configure() was never called."""
    global _reporter
    current = _reporter
    if current is not None:
        return current
    with _lock:
        if _reporter is None:
            from .config import build

            try:
                _reporter = Reporter(build({}))
            except Exception as exc:
                logger.warning("sentiero reporter: bad environment configuration: %s", exc)
                _reporter = Reporter(Configuration(enabled=False))
        return _reporter


def notify(
    exc: BaseException | None = None,
    context: Mapping[str, Any] | None = None,
    fingerprint: str | list[str] | None = None,
    level: str = "error",
) -> bool:
    """Reports an exception (the one being handled if ``exc`` is None).

    ``context`` is merged over the current context for this report only;
    ``fingerprint`` replaces the server's grouping. Returns True when the
    report was handed to delivery, False when it was ignored, dropped by
    ``before_notify`` or the reporter is inactive. Never raises.
    """
    try:
        return get_reporter().notify(exc, context=context, fingerprint=fingerprint, level=level)
    except Exception:
        return False


def track(name: str, level: str = "info", **properties: Any) -> bool:
    """Reports a custom event ``name`` with its properties. Never raises."""
    try:
        return get_reporter().track(name, level, **properties)
    except Exception:
        return False


def add_context(values: Mapping[str, Any] | None = None, **more: Any) -> None:
    """Adds to the context of the current thread or asyncio task. Never raises."""
    try:
        _context.add({**dict(values or {}), **more})
    except Exception as exc:
        logger.warning("sentiero reporter: add_context failed: %r", exc)


@contextmanager
def context(values: Mapping[str, Any] | None = None, **more: Any) -> Iterator[None]:
    """Adds to the context inside a ``with`` block only."""
    try:
        merged = {**dict(values or {}), **more}
    except Exception as exc:
        logger.warning("sentiero reporter: context() got unusable values: %r", exc)
        merged = {}
    with _context.scoped(merged):
        yield


def clear_context() -> None:
    """Empties the context of the current thread or asyncio task."""
    try:
        _context.clear()
    except Exception:
        pass


def flush(timeout: float | None = None) -> bool:
    """Waits (at most ``timeout``, default ``flush_timeout``) for queued reports to go."""
    try:
        return get_reporter().flush(timeout)
    except Exception:
        return False


def stats() -> dict[str, int]:
    """Counts of reports sent, failed, dropped (queue full) and still queued."""
    try:
        return get_reporter().stats()
    except Exception:
        return {"sent": 0, "failed": 0, "dropped": 0, "queued": 0}


@contextmanager
def capture_notifications(**options: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Captures what would be sent, as ``(kind, payload)`` pairs, for tests.

    Inside the block the global reporter keeps its options but delivers
    synchronously to a list; endpoint, key and project get placeholders
    when unset so the reporter is active. ``options`` override further.
    """
    global _reporter
    from .config import build

    base = get_reporter().config
    settings = {name: getattr(base, name) for name in Configuration.__dataclass_fields__}
    settings.update(
        endpoint=base.endpoint or "http://127.0.0.1:9/capture",
        ingest_key=base.ingest_key or "capture",
        project=base.project or "capture",
    )
    settings.update(options)
    settings.update(transport="test", async_delivery=False)
    capturing = Reporter(build(settings, environ={}))
    with _lock:
        previous, _reporter = _reporter, capturing
    try:
        assert isinstance(capturing.transport, TestTransport)
        yield capturing.transport.deliveries
    finally:
        with _lock:
            _reporter = previous
