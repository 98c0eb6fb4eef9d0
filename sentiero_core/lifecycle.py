"""The data lifecycle: purging what outlived ``retention_period`` and
erasing on request, the same way from a running app, a script and the
``sentiero purge`` / ``sentiero erase`` commands.

Every removal goes through the store's public methods, so it is reported
to the ``sessions_removed`` hook (plugins remove their own data) and to
``audit_log``. Large removals run in chunks so that a progress callback
can follow them; each chunk is a removal of its own, with its own report.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from .audit import FROM_REQUEST, SESSIONS_ERASED, SESSIONS_PURGED, audit
from .ingest.ip import anonymize
from .settings import Settings
from .store import SessionFilter, Store
from .utils import now_ms

#: Sessions per removal call when following progress.
CHUNK = 500
#: ``progress(done, total)``, called after each chunk.
Progress = Callable[[int, int], None]


def moment_ms(value: Any, name: str = "before") -> int:
    """ms since the epoch from a ``datetime`` (naive means UTC), a ``date``
    (its midnight, UTC) or an ``int`` of ms."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(
        f"{name}: expected a datetime, a date or ms since the epoch (int), got {value!r}"
    )


def stored_ip(value: str, *, anonymize_ip: bool) -> str:
    """An address as the ingest path stores it: truncated to /24 or /48
    when ``anonymize_ip`` is on, so that a visitor's own address finds
    their sessions (and everyone's on the same network: check the count)."""
    if not isinstance(value, str):
        raise ValueError(f"ip: expected an IP address as text, got {value!r}")
    try:
        ip = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        raise ValueError(f"ip: expected an IPv4 or IPv6 address, got {value!r}") from None
    if anonymize_ip:
        return anonymize(str(ip)) or str(ip)
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: expected non-empty text, got {value!r}")
    return value.strip()


def erasure_filter(
    settings: Settings,
    *,
    session_ids: Iterable[str] | None = None,
    user_id: str | None = None,
    ip: str | None = None,
    url_contains: str | None = None,
    before: Any = None,
) -> SessionFilter:
    """The :class:`SessionFilter` of an erasure request, checked: every
    criterion combines (AND); ``before`` means started before. At least one
    is required: an erasure never means "everything"."""
    ids: tuple[str, ...] | None = None
    if session_ids is not None:
        if isinstance(session_ids, str):
            session_ids = [session_ids]
        ids = tuple(dict.fromkeys(session_ids))
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise ValueError(f"session ids: expected non-empty strings, got {list(ids)!r}")
    f = SessionFilter(
        session_ids=ids,
        user_id=_text(user_id, "user_id"),
        ip=None if ip is None else stored_ip(ip, anonymize_ip=settings.anonymize_ip),
        url_contains=_text(url_contains, "url_contains"),
        started_before=None if before is None else moment_ms(before),
    )
    if f.is_empty():
        raise ValueError(
            "an erasure needs at least one criterion: session ids, user_id, ip, "
            "url_contains or before"
        )
    return f


def describe(f: SessionFilter) -> dict[str, Any]:
    """The criteria of a filter, for audit records and messages."""
    out: dict[str, Any] = {}
    for name in f.__dataclass_fields__:
        value = getattr(f, name)
        if value is not None:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


async def matching_ids(store: Store, f: SessionFilter) -> list[str]:
    """Every session id ``f`` selects, newest first."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_sessions(f, cursor, limit=CHUNK)
        ids += [s.session_id for s in page.sessions]
        if page.next is None:
            return ids
        cursor = page.next


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def erase(
    store: Store,
    settings: Settings,
    f: SessionFilter,
    *,
    by: Any = FROM_REQUEST,
    via: str = "python",
    progress: Progress | None = None,
) -> int:
    """Erase every session ``f`` selects; the number erased. Audited as
    ``sessions_erased`` (even when nothing matched, and with ``complete``
    false if it stopped half-way)."""
    f.require_constraint()
    ids = await matching_ids(store, f)
    done = 0
    complete = False
    try:
        for chunk in _chunks(ids):
            # The filter again: a session that stopped matching meanwhile stays.
            done += await store.erase(replace(f, session_ids=tuple(chunk)))
            if progress is not None:
                progress(done, len(ids))
        complete = True
    finally:
        await audit(
            settings,
            SESSIONS_ERASED,
            by=by,
            count=done,
            filter=describe(f),
            complete=complete,
            via=via,
        )
    return done


@dataclass(frozen=True, slots=True)
class PurgePlan:
    """What a purge removes: sessions last active before ``before``."""

    before: int
    count: int
    reason: str


def cutoff(settings: Settings, older_than_s: int | None = None) -> tuple[int, str]:
    """(ms cut-off, reason) for ``older_than_s`` or ``retention_period``."""
    if older_than_s is not None:
        if isinstance(older_than_s, bool) or not isinstance(older_than_s, int) or older_than_s < 0:
            raise ValueError(f"older_than: expected seconds (int >= 0), got {older_than_s!r}")
        return now_ms() - older_than_s * 1000, "older_than"
    if settings.retention_period is None:
        raise ValueError(
            "retention_period is not set: there is no age past which sessions expire "
            "(set it, or give an age explicitly)"
        )
    return now_ms() - settings.retention_period * 1000, "retention_period"


async def plan_purge(
    store: Store, settings: Settings, older_than_s: int | None = None
) -> PurgePlan:
    before, reason = cutoff(settings, older_than_s)
    count = await store.count_sessions(SessionFilter(ended_before=before))
    return PurgePlan(before, count, reason)


async def purge(
    store: Store,
    settings: Settings,
    plan: PurgePlan,
    *,
    by: Any = FROM_REQUEST,
    via: str = "python",
    progress: Progress | None = None,
    audit_nothing: bool = True,
) -> int:
    """Remove the sessions last active before ``plan.before``; the number
    removed. With ``progress``, oldest first in steps of about
    :data:`CHUNK` sessions (each a ``purge_before`` of its own)."""
    removed = 0
    try:
        if progress is not None:
            f = SessionFilter(ended_before=plan.before)
            ends: list[int] = []
            cursor: str | None = None
            while True:
                page = await store.list_sessions(f, cursor, limit=CHUNK)
                ends += [s.ended_at for s in page.sessions]
                if page.next is None:
                    break
                cursor = page.next
            ends.sort()
            total = max(len(ends), plan.count)
            for step in ends[CHUNK - 1 :: CHUNK]:
                removed += await store.purge_before(min(step + 1, plan.before))
                progress(removed, total)
        removed += await store.purge_before(plan.before)
        if progress is not None:
            progress(removed, max(removed, plan.count))
    finally:
        if removed or audit_nothing:
            await audit(
                settings,
                SESSIONS_PURGED,
                by=by,
                count=removed,
                before=plan.before,
                reason=plan.reason,
                via=via,
            )
    return removed
