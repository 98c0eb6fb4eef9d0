"""Sentiero: self-hosted session recording and replay.

This module is the public API, with :mod:`sentiero_core.store` (everything a
store author needs) and :mod:`sentiero_core.testing` (the store contract
suite and test helpers); every other module may change between releases.
"""

from typing import TYPE_CHECKING

from .analysis import SEGMENTS, ReportFilters, parse_filters, segment_dims, viewport_bucket
from .app import Sentiero, create_app, get_state, open_sentiero, render
from .dispatch import SentieroDispatcher
from .hookspecs import hookimpl
from .ingest.pipeline import RedactionFailed, redact_payload
from .lifecycle_cli import (
    CommandError,
    add_erase_arguments,
    add_purge_arguments,
    run_erase,
    run_purge,
)
from .plugins import HookResult, PluginError, call_each, get_plugin_manager
from .recorder import install_jinja, script_tag
from .routing import Panel, Route, View
from .settings import RedactionSettings, Settings, SettingsError, load_settings
from .store import (
    Batch,
    BatchDigest,
    EventPage,
    InvalidCursor,
    MemoryStore,
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
from .types import (
    Analyzer,
    Event,
    MaybeAwaitable,
    RedactionContext,
    RedactionRule,
    Report,
    ScreeningRule,
    StoreFactory,
)
from .utils import await_me_maybe

if TYPE_CHECKING:
    from .api.analyzers import run_report


def __getattr__(name: str) -> object:
    # run_report needs the app module loaded; imported on first use
    if name == "run_report":
        from .api.analyzers import run_report

        return run_report
    raise AttributeError(name)


__all__ = [
    "SEGMENTS",
    "Analyzer",
    "Batch",
    "BatchDigest",
    "CommandError",
    "Event",
    "EventPage",
    "HookResult",
    "InvalidCursor",
    "MaybeAwaitable",
    "MemoryStore",
    "Panel",
    "PluginError",
    "RedactionContext",
    "RedactionFailed",
    "RedactionRule",
    "RedactionSettings",
    "Report",
    "ReportFilters",
    "RequestMeta",
    "Route",
    "ScreeningRule",
    "Sentiero",
    "SentieroDispatcher",
    "SessionFilter",
    "SessionPage",
    "SessionSummary",
    "Settings",
    "SettingsError",
    "Store",
    "StoreError",
    "StoreFactory",
    "StoreLimits",
    "StoreStats",
    "StoreUnavailable",
    "View",
    "add_erase_arguments",
    "add_purge_arguments",
    "await_me_maybe",
    "call_each",
    "create_app",
    "digest_events",
    "get_plugin_manager",
    "get_state",
    "hookimpl",
    "install_jinja",
    "load_settings",
    "merge_digest",
    "open_sentiero",
    "parse_filters",
    "redact_payload",
    "render",
    "run_erase",
    "run_purge",
    "run_report",
    "script_tag",
    "segment_dims",
    "viewport_bucket",
]
