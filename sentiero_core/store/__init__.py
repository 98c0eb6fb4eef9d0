"""Storage: the interface, the shared helpers and the in-memory store."""

from .base import (
    Batch,
    Event,
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
)
from .digest import BatchDigest, digest_events
from .summary import merge_digest

__all__ = [
    "Batch",
    "BatchDigest",
    "Event",
    "EventPage",
    "InvalidCursor",
    "RequestMeta",
    "SessionFilter",
    "SessionPage",
    "SessionSummary",
    "Store",
    "StoreError",
    "StoreLimits",
    "StoreStats",
    "StoreUnavailable",
    "digest_events",
    "merge_digest",
]
