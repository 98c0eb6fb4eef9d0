"""The values and errors a store takes and returns (private module: import
from :mod:`sentiero_core.store`).

Timestamps are integer milliseconds since the Unix epoch, as rrweb records
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .digest import BatchDigest

Event = dict[str, Any]


class StoreError(Exception):
    """Base class for store failures a caller can act on."""


class InvalidCursor(StoreError, ValueError):
    """A cursor was not produced by this store (or was tampered with)."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached (raised with the backend's reason)."""


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What the ingest endpoint learnt about the request carrying a batch."""

    received_at: int
    ip: str | None = None
    user_agent: str | None = None


@dataclass(slots=True)
class Batch:
    """One accepted, redacted batch of events for a (session, window)."""

    session_id: str
    window_id: str
    events: list[Event]
    meta: RequestMeta
    digest: BatchDigest
    #: The recorder's batch number for this window (the envelope's ``seq``);
    #: it makes a redelivered batch recognisable. ``None``: never a repeat.
    seq: int | None = None
    #: ``events`` exactly as ``orjson.dumps(events)`` writes them, when the
    #: producer holds that text already and knows it matches the redacted
    #: events (the ingest pipeline does): a store may keep these bytes
    #: instead of serializing the events again. ``None``: serialize ``events``.
    events_json: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class SessionSummary:
    """The per-session row kept current at append time.

    Bounded lists (``pages``, ``windows``, ``custom_events``) keep their first
    entries up to ``MAX_PAGES``, ``MAX_WINDOWS`` and ``MAX_CUSTOM_EVENTS``
    (exported by :mod:`sentiero_core.store`).
    """

    session_id: str
    started_at: int
    ended_at: int
    event_count: int = 0
    batch_count: int = 0
    page_count: int = 0
    pages: list[str] = field(default_factory=list)
    entry_url: str | None = None
    windows: list[str] = field(default_factory=list)
    error_count: int = 0
    click_count: int = 0
    rage_click_count: int = 0
    dead_click_count: int = 0
    active_ms: int = 0
    custom_events: list[str] = field(default_factory=list)
    form_submit_count: int = 0
    user_id: str | None = None
    user_traits: dict[str, Any] = field(default_factory=dict)
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    viewport: str | None = None
    referrer: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    raw_bytes: int = 0
    dropped_events: int = 0

    @property
    def duration_ms(self) -> int:
        return max(0, self.ended_at - self.started_at)

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["duration_ms"] = self.duration_ms
        data["has_errors"] = self.has_errors
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionSummary:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Filters for listing, counting and erasing sessions; all combine (AND).

    ``None`` means "no constraint". Times are ms since the epoch; ``started_after``
    is inclusive, ``started_before`` and ``ended_before`` (last activity,
    ``ended_at``) exclusive. Text filters match case-insensitively as
    substrings, except ``user_id``, ``custom_event``, ``ip`` (the address as
    stored, truncated when ``anonymize_ip`` is on) and ``session_ids``, which
    match exactly.
    """

    started_after: int | None = None
    started_before: int | None = None
    url_contains: str | None = None
    has_errors: bool | None = None
    min_duration_ms: int | None = None
    user_id: str | None = None
    custom_event: str | None = None
    browser: str | None = None
    device: str | None = None
    os: str | None = None
    session_ids: tuple[str, ...] | None = None
    ip: str | None = None
    ended_before: int | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)

    def require_constraint(self) -> None:
        """Refuse an empty filter where one would select every session
        (``erase``): a forgotten filter must not wipe the store."""
        if self.is_empty():
            raise ValueError("erase needs at least one filter; use purge_before to clear by age")

    def matches(self, s: SessionSummary) -> bool:
        """The reference semantics: every store must agree with this."""
        if self.session_ids is not None and s.session_id not in self.session_ids:
            return False
        if self.started_after is not None and s.started_at < self.started_after:
            return False
        if self.started_before is not None and s.started_at >= self.started_before:
            return False
        if self.ended_before is not None and s.ended_at >= self.ended_before:
            return False
        if self.ip is not None and s.ip != self.ip:
            return False
        if self.url_contains is not None:
            needle = self.url_contains.lower()
            if not any(needle in p.lower() for p in s.pages):
                return False
        if self.has_errors is not None and s.has_errors != self.has_errors:
            return False
        if self.min_duration_ms is not None and s.duration_ms < self.min_duration_ms:
            return False
        if self.user_id is not None and s.user_id != self.user_id:
            return False
        if self.custom_event is not None and self.custom_event not in s.custom_events:
            return False
        for name in ("browser", "device", "os"):
            wanted = getattr(self, name)
            if wanted is not None and wanted.lower() not in (getattr(s, name) or "").lower():
                return False
        return True


@dataclass(frozen=True, slots=True)
class SessionPage:
    sessions: list[SessionSummary]
    next: str | None


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[Event]
    next: str | None


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Totals across the store; ``compression_ratio`` is stored / raw JSON bytes."""

    sessions: int
    events: int
    batches: int
    raw_bytes: int
    stored_bytes: int

    @property
    def compression_ratio(self) -> float:
        return self.stored_bytes / self.raw_bytes if self.raw_bytes else 0.0


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Resource limits a store enforces at append time; ``None`` is unlimited."""

    max_sessions: int | None = None
    max_events_per_session: int | None = None
