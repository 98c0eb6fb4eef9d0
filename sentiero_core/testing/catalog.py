"""A small catalog of sessions that differ on every filterable field, and
the filters with the sessions each must select.

Expected results are written out by hand (not computed with
``SessionFilter.matches``) so that the reference semantics are checked too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store import Batch, Event, SessionFilter
from .factories import (
    CHROME_ANDROID_TABLET,
    CHROME_MAC,
    FIREFOX_WINDOWS,
    SAFARI_IPHONE,
    T0,
    error,
    identify,
    make_batch,
    meta,
    text_mutation,
    track,
)

SECOND = 1000


@dataclass(frozen=True, slots=True)
class CatalogSession:
    session_id: str
    start_s: int
    duration_s: int
    pages: tuple[str, ...]
    errors: int
    user_id: str | None
    custom_events: tuple[str, ...]
    user_agent: str
    #: The client address as the ingest path stores it (truncated).
    ip: str = "203.0.113.0"

    @property
    def started_at(self) -> int:
        return T0 + self.start_s * SECOND


SHOP = "https://shop.example"

CATALOG: tuple[CatalogSession, ...] = (
    CatalogSession(
        "sess-a", 0, 30, (f"{SHOP}/home", f"{SHOP}/cart"), 0, None, ("signup",), CHROME_MAC
    ),
    CatalogSession(
        "sess-b",
        60,
        300,
        (f"{SHOP}/home", f"{SHOP}/checkout"),
        2,
        "u-42",
        ("purchase",),
        FIREFOX_WINDOWS,
        "198.51.100.0",
    ),
    CatalogSession(
        "sess-c", 120, 5, (f"{SHOP}/blog/Article",), 0, "u-7", (), SAFARI_IPHONE, "2001:db8:85a3::"
    ),
    CatalogSession(
        "sess-d",
        180,
        600,
        (f"{SHOP}/Checkout/pay",),
        1,
        "u-42",
        ("purchase", "signup"),
        CHROME_ANDROID_TABLET,
    ),
    CatalogSession("sess-e", 240, 60, (f"{SHOP}/home",), 0, None, (), CHROME_MAC),
    # Same start as sess-e: the listing order breaks the tie by session id.
    CatalogSession(
        "sess-f", 240, 120, (f"{SHOP}/docs",), 0, "u-420", (), FIREFOX_WINDOWS, "198.51.100.0"
    ),
    CatalogSession(
        "sess-g", 300, 10, (f"{SHOP}/café/menu",), 0, None, ("purchase-intent",), SAFARI_IPHONE
    ),
)

#: Newest first: started_at descending, then session_id descending.
CATALOG_ORDER = ["sess-g", "sess-f", "sess-e", "sess-d", "sess-c", "sess-b", "sess-a"]


def _events(s: CatalogSession) -> list[Event]:
    start = s.started_at
    events: list[Event] = [meta(start + i, url) for i, url in enumerate(s.pages)]
    offset = len(events)
    events += [error(start + offset + i) for i in range(s.errors)]
    offset += s.errors
    if s.user_id is not None:
        events.append(identify(start + offset, s.user_id, {"plan": "pro"}))
        offset += 1
    events += [track(start + offset + i, name) for i, name in enumerate(s.custom_events)]
    events.append(text_mutation(start + s.duration_s * SECOND, "last"))
    return events


def catalog_batches() -> list[Batch]:
    """Two batches per session (its events split in half), sessions appended
    oldest first."""
    batches = []
    for s in CATALOG:
        events = _events(s)
        half = len(events) // 2
        for part in (events[:half], events[half:]):
            if part:
                batches.append(
                    make_batch(s.session_id, "w1", part, user_agent=s.user_agent, ip=s.ip)
                )
    return batches


def _at(seconds: int) -> int:
    return T0 + seconds * SECOND


#: (test id, filter, the session ids it selects, newest first)
FILTER_CASES: list[tuple[str, SessionFilter, list[str]]] = [
    (
        "started_after-inclusive",
        SessionFilter(started_after=_at(120)),
        ["sess-g", "sess-f", "sess-e", "sess-d", "sess-c"],
    ),
    ("started_before-exclusive", SessionFilter(started_before=_at(120)), ["sess-b", "sess-a"]),
    (
        "started-between",
        SessionFilter(started_after=_at(60), started_before=_at(240)),
        ["sess-d", "sess-c", "sess-b"],
    ),
    ("url_contains-case-insensitive", SessionFilter(url_contains="checkout"), ["sess-d", "sess-b"]),
    ("url_contains-non-ascii", SessionFilter(url_contains="café"), ["sess-g"]),
    ("url_contains-any-page", SessionFilter(url_contains="/cart"), ["sess-a"]),
    ("has_errors-true", SessionFilter(has_errors=True), ["sess-d", "sess-b"]),
    (
        "has_errors-false",
        SessionFilter(has_errors=False),
        ["sess-g", "sess-f", "sess-e", "sess-c", "sess-a"],
    ),
    (
        "min_duration-inclusive",
        SessionFilter(min_duration_ms=120 * SECOND),
        ["sess-f", "sess-d", "sess-b"],
    ),
    ("user_id-exact", SessionFilter(user_id="u-42"), ["sess-d", "sess-b"]),
    ("custom_event-exact", SessionFilter(custom_event="purchase"), ["sess-d", "sess-b"]),
    ("browser", SessionFilter(browser="firefox"), ["sess-f", "sess-b"]),
    ("browser-chrome", SessionFilter(browser="Chrome"), ["sess-e", "sess-d", "sess-a"]),
    ("device-mobile", SessionFilter(device="mobile"), ["sess-g", "sess-c"]),
    ("device-tablet", SessionFilter(device="TABLET"), ["sess-d"]),
    ("os", SessionFilter(os="ios"), ["sess-g", "sess-c"]),
    ("os-windows", SessionFilter(os="Windows"), ["sess-f", "sess-b"]),
    (
        "session_ids",
        SessionFilter(session_ids=("sess-a", "sess-c", "missing")),
        ["sess-c", "sess-a"],
    ),
    ("combined-errors-chrome", SessionFilter(has_errors=True, browser="chrome"), ["sess-d"]),
    (
        "combined-user-duration",
        SessionFilter(user_id="u-42", min_duration_ms=400 * SECOND),
        ["sess-d"],
    ),
    (
        "combined-url-device",
        SessionFilter(url_contains="home", device="desktop"),
        ["sess-e", "sess-b", "sess-a"],
    ),
    (
        "combined-ids-time",
        SessionFilter(
            session_ids=("sess-a", "sess-e", "sess-g"),
            started_after=_at(200),
            started_before=_at(300),
        ),
        ["sess-e"],
    ),
    # Last activity: sess-a ends at 30 s, sess-c at 125 s, sess-g at 310 s,
    # sess-e at 300 s, sess-b at 360 s, sess-f at 360 s, sess-d at 780 s.
    ("ended_before-exclusive", SessionFilter(ended_before=_at(300)), ["sess-c", "sess-a"]),
    (
        "ended_before-and-started",
        SessionFilter(ended_before=_at(361), started_after=_at(60)),
        ["sess-g", "sess-f", "sess-e", "sess-c", "sess-b"],
    ),
    ("ip-exact", SessionFilter(ip="198.51.100.0"), ["sess-f", "sess-b"]),
    ("ip-v6", SessionFilter(ip="2001:db8:85a3::"), ["sess-c"]),
    ("ip-not-a-prefix", SessionFilter(ip="198.51.100"), []),
    ("combined-ip-user", SessionFilter(ip="198.51.100.0", user_id="u-42"), ["sess-b"]),
    ("no-match", SessionFilter(user_id="nobody"), []),
]
