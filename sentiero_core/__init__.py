"""Sentiero: self-hosted session recording and replay.

This module is the public API; everything else may change between releases
(besides :mod:`sentiero_core.testing`, the store contract suite). Plugins
import what they need from here; docs/writing-a-plugin.md documents it.
"""

from .app import Sentiero, create_app, get_state, render
from .hookspecs import hookimpl
from .plugins import HookResult, PluginError, call_each, get_plugin_manager
from .recorder import install_jinja, script_tag
from .routing import Panel, Route, View
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
from .store.memory import MemoryStore
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

__all__ = [
    "Analyzer",
    "Batch",
    "BatchDigest",
    "Event",
    "EventPage",
    "HookResult",
    "InvalidCursor",
    "MaybeAwaitable",
    "MemoryStore",
    "Panel",
    "PluginError",
    "RedactionContext",
    "RedactionRule",
    "RedactionSettings",
    "Report",
    "RequestMeta",
    "Route",
    "ScreeningRule",
    "Sentiero",
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
    "render",
    "script_tag",
]
