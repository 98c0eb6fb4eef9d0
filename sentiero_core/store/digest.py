"""What a batch contributes to its session summary, computed once at ingest.

Stores never look inside events: the core digests each batch and the store
folds the digest into the summary (``merge_digest`` does it for stores that
read-modify-write; Mongo applies the same rules as atomic operators).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..events import (
    CUSTOM,
    INCREMENTAL,
    META,
    SOURCE_INPUT,
    SOURCE_MOUSE_INTERACTION,
    SOURCE_MUTATION,
    TAG_CUSTOM,
    TAG_ERROR,
    TAG_FORM_SUBMIT,
    TAG_IDENTIFY,
    TAG_META,
    USER_ACTIVITY_SOURCES,
    CLICK,
)
from ..useragent import parse_user_agent

RAGE_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30
DEAD_CLICK_WAIT_MS = 1000
ACTIVE_GAP_CAP_MS = 5000


@dataclass(slots=True)
class BatchDigest:
    """A batch's contribution to its session summary."""

    window_id: str
    first_ts: int
    last_ts: int
    event_count: int
    raw_bytes: int = 0
    page_views: list[tuple[int, str]] = field(default_factory=list)
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
    dropped_events: int = 0


def _ts(event: dict[str, Any]) -> int:
    value = event.get("timestamp")
    return int(value) if isinstance(value, int | float) else 0


def _clicks(events: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    found = []
    for e in events:
        if e.get("type") != INCREMENTAL:
            continue
        data = e.get("data") or {}
        if data.get("source") == SOURCE_MOUSE_INTERACTION and data.get("type") == CLICK:
            x, y = data.get("x"), data.get("y")
            found.append((_ts(e), float(x) if isinstance(x, int | float) else 0.0,
                          float(y) if isinstance(y, int | float) else 0.0))
    return found


def count_rage_clicks(clicks: list[tuple[int, float, float]]) -> int:
    """Bursts of RAGE_CLICKS or more clicks within RAGE_WINDOW_MS and
    RAGE_RADIUS_PX of the burst's first click; a burst counts once."""
    bursts = 0
    i = 0
    while i < len(clicks):
        t0, x0, y0 = clicks[i]
        j = i + 1
        while (
            j < len(clicks)
            and clicks[j][0] - t0 <= RAGE_WINDOW_MS
            and abs(clicks[j][1] - x0) <= RAGE_RADIUS_PX
            and abs(clicks[j][2] - y0) <= RAGE_RADIUS_PX
        ):
            j += 1
        if j - i >= RAGE_CLICKS:
            bursts += 1
            i = j
        else:
            i += 1
    return bursts


def _count_dead_clicks(events: list[dict[str, Any]], last_ts: int) -> int:
    """Clicks after which the page did not change within DEAD_CLICK_WAIT_MS.
    A click too close to the end of the batch cannot be judged and is skipped."""
    change_times = sorted(
        _ts(e)
        for e in events
        if e.get("type") in (META, 2)
        or (e.get("type") == INCREMENTAL and (e.get("data") or {}).get("source")
            in (SOURCE_MUTATION, SOURCE_INPUT))
    )
    dead = 0
    for t, _x, _y in _clicks(events):
        if last_ts - t < DEAD_CLICK_WAIT_MS:
            continue
        if not any(t <= c <= t + DEAD_CLICK_WAIT_MS for c in change_times):
            dead += 1
    return dead


def _active_ms(events: list[dict[str, Any]]) -> int:
    times = sorted(
        _ts(e)
        for e in events
        if e.get("type") == INCREMENTAL
        and (e.get("data") or {}).get("source") in USER_ACTIVITY_SOURCES
    )
    return sum(min(b - a, ACTIVE_GAP_CAP_MS) for a, b in zip(times, times[1:], strict=False))


def _text(value: Any, limit: int = 2048) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def digest_events(
    window_id: str,
    events: list[dict[str, Any]],
    *,
    raw_bytes: int = 0,
    ip: str | None = None,
    user_agent: str | None = None,
    dropped_events: int = 0,
) -> BatchDigest:
    """Digest a batch of (already redacted) rrweb events."""
    times = [_ts(e) for e in events]
    first, last = (min(times), max(times)) if times else (0, 0)
    d = BatchDigest(
        window_id=window_id,
        first_ts=first,
        last_ts=last,
        event_count=len(events),
        raw_bytes=raw_bytes,
        ip=ip,
        user_agent=_text(user_agent, 512),
        dropped_events=max(0, int(dropped_events)),
    )
    for e in events:
        etype = e.get("type")
        data = e.get("data")
        if not isinstance(data, dict):
            continue
        if etype == META:
            href = _text(data.get("href"))
            if href:
                d.page_views.append((_ts(e), href))
            w, h = data.get("width"), data.get("height")
            if isinstance(w, int) and isinstance(h, int) and d.viewport is None:
                d.viewport = f"{w}x{h}"
        elif etype == CUSTOM:
            tag = data.get("tag")
            payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
            if tag == TAG_ERROR:
                d.error_count += 1
            elif tag == TAG_CUSTOM:
                name = _text(payload.get("name"), 200)
                if name and name not in d.custom_events:
                    d.custom_events.append(name)
            elif tag == TAG_FORM_SUBMIT:
                d.form_submit_count += 1
            elif tag == TAG_IDENTIFY:
                uid = payload.get("user_id")
                if isinstance(uid, str | int) and str(uid):
                    d.user_id = str(uid)[:200]
                    traits = payload.get("traits")
                    if isinstance(traits, dict):
                        d.user_traits = dict(list(traits.items())[:50])
            elif tag == TAG_META:
                d.referrer = d.referrer or _text(payload.get("referrer"))
                vp = payload.get("viewport")
                if isinstance(vp, dict) and d.viewport is None:
                    w, h = vp.get("width"), vp.get("height")
                    if isinstance(w, int) and isinstance(h, int):
                        d.viewport = f"{w}x{h}"
    clicks = _clicks(events)
    d.click_count = len(clicks)
    d.rage_click_count = count_rage_clicks(sorted(clicks))
    d.dead_click_count = _count_dead_clicks(events, last)
    d.active_ms = _active_ms(events)
    if user_agent:
        d.browser, d.os, d.device = parse_user_agent(user_agent)
    return d
