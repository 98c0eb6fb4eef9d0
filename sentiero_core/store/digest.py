"""What a batch contributes to its session summary, computed once at ingest
(private module: import from :mod:`sentiero_core.store`).

Stores never look inside events: the core digests each batch and the store
folds the digest into the summary (``merge_digest`` does it for stores that
read-modify-write; Mongo applies the same rules as atomic operators).
"""

from __future__ import annotations

import bisect
import functools
import itertools
from dataclasses import dataclass, field
from typing import Any

from ..events import (
    CLICK,
    CUSTOM,
    FULL_SNAPSHOT,
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
    TAG_PAGE,
    USER_ACTIVITY_SOURCES,
)
from ..useragent import parse_user_agent

RAGE_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30
DEAD_CLICK_WAIT_MS = 1000
ACTIVE_GAP_CAP_MS = 5000
#: Distinct custom event names a batch contributes (the summary keeps 100).
MAX_DIGEST_NAMES = 100


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


#: Timestamps outside [0, 2**53] are treated as 0: they are not real times
#: and would not survive JSON, SQLite integers or BSON longs unchanged.
MAX_TIMESTAMP = 2**53


def event_time(event: Any) -> int:
    """An event's timestamp in ms, or 0 when missing or not a sane number.
    Stores order events by this value, so every store must use it."""
    if not isinstance(event, dict):
        return 0
    value = event.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if not 0 <= value <= MAX_TIMESTAMP:  # NaN fails both comparisons too
        return 0
    return int(value)


#: Sources whose events change the page (for dead clicks).
_CHANGE_SOURCES = frozenset({SOURCE_MUTATION, SOURCE_INPUT})


def _data(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    return data if isinstance(data, dict) else {}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


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


def _count_dead_clicks(
    clicks: list[tuple[int, float, float]], change_times: list[int], last_ts: int
) -> int:
    """Clicks after which the page did not change (its DOM, an input, or its
    URL) within DEAD_CLICK_WAIT_MS. A click too close to the end of the batch
    cannot be judged and is skipped. ``change_times`` must be sorted."""
    dead = 0
    for t, _x, _y in clicks:
        if last_ts - t < DEAD_CLICK_WAIT_MS:
            continue
        # Bisect rather than scan: a hostile batch may hold many of both.
        i = bisect.bisect_left(change_times, t)
        if i == len(change_times) or change_times[i] > t + DEAD_CLICK_WAIT_MS:
            dead += 1
    return dead


def _active_ms(times: list[int]) -> int:
    """User activity time from the sorted times of activity events."""
    total = 0
    for a, b in itertools.pairwise(times):  # a loop: min() per pair cost more
        gap = b - a
        total += gap if gap < ACTIVE_GAP_CAP_MS else ACTIVE_GAP_CAP_MS
    return total


def _text(value: Any, limit: int = 2048) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _viewport(width: Any, height: Any) -> str | None:
    w, h = _size(width), _size(height)
    return f"{w}x{h}" if w is not None and h is not None else None


#: A session's batches all carry the same user agent, and a server sees few.
_user_agent_fields = functools.lru_cache(maxsize=1024)(parse_user_agent)


def digest_events(
    window_id: str,
    events: list[dict[str, Any]],
    *,
    raw_bytes: int = 0,
    ip: str | None = None,
    user_agent: str | None = None,
    dropped_events: int = 0,
) -> BatchDigest:
    """Digest a batch of (already redacted) rrweb events. Anything malformed
    is skipped rather than trusted: events come from browsers.

    One pass over the events gathers everything: a batch is digested on
    every ingest request, and each extra pass over its events (and each
    helper call per event) showed in the request's cost."""
    d = BatchDigest(
        window_id=window_id,
        first_ts=0,
        last_ts=0,
        event_count=len(events),
        raw_bytes=raw_bytes,
        ip=ip,
        user_agent=_text(user_agent, 512),
        dropped_events=max(0, int(dropped_events)),
    )
    # bounds of the events' times (every time is in [0, MAX_TIMESTAMP])
    first, last = MAX_TIMESTAMP, 0
    clicks: list[tuple[int, float, float]] = []
    change_times: list[int] = []  # when the page changed: for dead clicks
    activity_times: list[int] = []  # when the user did something: for active time
    seen_custom: set[str] = set()
    for e in events:
        if not isinstance(e, dict):
            first = 0  # what event_time() gives it
            continue
        ts = e.get("timestamp")
        # the common case inline; event_time() is the rule for the rest
        t = ts if type(ts) is int and 0 <= ts <= MAX_TIMESTAMP else event_time(e)
        if t < first:
            first = t
        if t > last:
            last = t
        etype = e.get("type")
        data = e.get("data")
        if type(data) is not dict:  # _data() inline for the common case
            data = _data(e)
        if etype == INCREMENTAL:
            source = data.get("source")
            # Only an int may reach set lookups: a list there would raise.
            if type(source) is not int and (
                not isinstance(source, int) or isinstance(source, bool)
            ):
                continue
            if source in _CHANGE_SOURCES:
                change_times.append(t)
            if source in USER_ACTIVITY_SOURCES:
                activity_times.append(t)
            if source == SOURCE_MOUSE_INTERACTION and data.get("type") == CLICK:
                clicks.append((t, _number(data.get("x")), _number(data.get("y"))))
        elif etype == META:
            change_times.append(t)
            href = _text(data.get("href"))
            # the recorder marks the Meta of a periodic or recovery snapshot:
            # the same page drawn again, not a new view
            if href and data.get("checkout") is not True:
                d.page_views.append((t, href))
            d.viewport = d.viewport or _viewport(data.get("width"), data.get("height"))
        elif etype == FULL_SNAPSHOT:
            change_times.append(t)
        elif etype == CUSTOM:
            tag = data.get("tag")
            raw_payload = data.get("payload")
            payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
            if tag == TAG_ERROR:
                d.error_count += 1
            elif tag == TAG_CUSTOM:
                name = _text(payload.get("name"), 200)
                # Bounded like the summary's list, and a set: a batch may
                # carry thousands of names.
                if name and name not in seen_custom and len(d.custom_events) < MAX_DIGEST_NAMES:
                    seen_custom.add(name)
                    d.custom_events.append(name)
            elif tag == TAG_FORM_SUBMIT:
                d.form_submit_count += 1
            elif tag == TAG_IDENTIFY:
                uid = payload.get("user_id")
                if isinstance(uid, str | int) and not isinstance(uid, bool) and str(uid):
                    d.user_id = str(uid)[:200]
                    traits = payload.get("traits")
                    d.user_traits = (
                        dict(list(traits.items())[:50]) if isinstance(traits, dict) else {}
                    )
            elif tag == TAG_PAGE:
                # an in-app route change is a page change (a click that led
                # to it is not dead) and a page view like a new document
                change_times.append(t)
                url = _text(payload.get("url"))
                if url:
                    d.page_views.append((t, url))
            elif tag == TAG_META:
                d.referrer = d.referrer or _text(payload.get("referrer"))
                vp = payload.get("viewport")
                if isinstance(vp, dict):
                    d.viewport = d.viewport or _viewport(vp.get("width"), vp.get("height"))
    if events:
        d.first_ts, d.last_ts = first, last
    d.click_count = len(clicks)
    d.rage_click_count = count_rage_clicks(sorted(clicks))
    change_times.sort()
    d.dead_click_count = _count_dead_clicks(clicks, change_times, d.last_ts)
    activity_times.sort()
    d.active_ms = _active_ms(activity_times)
    if d.user_agent:
        d.browser, d.os, d.device = _user_agent_fields(d.user_agent)
    return d
