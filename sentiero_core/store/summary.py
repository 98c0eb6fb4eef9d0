"""Folding a batch digest into a session summary (private module: import
from :mod:`sentiero_core.store`).

These rules are the contract: every store's summaries must equal what
``merge_digest`` produces, however the store applies them.
"""

from __future__ import annotations

from .digest import BatchDigest
from .types import SessionSummary

MAX_PAGES = 100
MAX_WINDOWS = 50
MAX_CUSTOM_EVENTS = 100


def _extend_bounded(target: list[str], values: list[str], bound: int) -> None:
    for v in values:
        if len(target) >= bound:
            return
        if v not in target:
            target.append(v)


def merge_digest(summary: SessionSummary | None, session_id: str, d: BatchDigest) -> SessionSummary:
    """Return ``summary`` updated with ``d`` (a new summary when ``None``)."""
    s = summary or SessionSummary(session_id=session_id, started_at=d.first_ts, ended_at=d.last_ts)
    if summary is not None and d.event_count:
        s.started_at = min(s.started_at, d.first_ts)
        s.ended_at = max(s.ended_at, d.last_ts)
    s.event_count += d.event_count
    s.batch_count += 1
    s.page_count += len(d.page_views)
    _extend_bounded(s.pages, [url for _ts, url in sorted(d.page_views)], MAX_PAGES)
    if d.page_views:
        first_ts, first_url = min(d.page_views)
        if s.entry_url is None or first_ts <= s.started_at:
            s.entry_url = first_url
    _extend_bounded(s.windows, [d.window_id], MAX_WINDOWS)
    s.error_count += d.error_count
    s.click_count += d.click_count
    s.rage_click_count += d.rage_click_count
    s.dead_click_count += d.dead_click_count
    s.active_ms += d.active_ms
    _extend_bounded(s.custom_events, d.custom_events, MAX_CUSTOM_EVENTS)
    s.form_submit_count += d.form_submit_count
    if d.user_id is not None:
        s.user_id = d.user_id
        s.user_traits = dict(d.user_traits)
    for name in ("browser", "os", "device", "viewport", "referrer", "ip", "user_agent"):
        if getattr(s, name) is None and getattr(d, name) is not None:
            setattr(s, name, getattr(d, name))
    s.raw_bytes += d.raw_bytes
    s.dropped_events += d.dropped_events
    return s
