"""Sentiero: self-hosted session recording and replay.

This module is the public API, with :mod:`sentiero_core.store` (everything a
store author needs) and :mod:`sentiero_core.testing` (the store contract
suite and test helpers); every other module may change between releases.
"""

from .app import create_app
from .hookspecs import hookimpl
from .plugins import get_plugin_manager
from .routing import Panel, Route
from .settings import RedactionSettings, Settings, SettingsError, load_settings
from .store import (
    Batch,
    BatchDigest,
    EventPage,
    InvalidCursor,
    RequestMeta,
    SessionFilter,
    SessionPage,
    SessionSummary,
    Store,
    StoreError,
    StoreLimits,
    StoreStats,
    StoreUnavailable,
    digest_events,
    merge_digest,
)
from .utils import await_me_maybe

__all__ = [
    "Batch",
    "BatchDigest",
    "EventPage",
    "InvalidCursor",
    "Panel",
    "RedactionSettings",
    "RequestMeta",
    "Route",
    "SessionFilter",
    "SessionPage",
    "SessionSummary",
    "Settings",
    "SettingsError",
    "Store",
    "StoreError",
    "StoreLimits",
    "StoreStats",
    "StoreUnavailable",
    "await_me_maybe",
    "create_app",
    "digest_events",
    "get_plugin_manager",
    "hookimpl",
    "load_settings",
    "merge_digest",
]
