"""How much the reporter keeps: at most ``max_occurrences_per_issue``
occurrences per issue (the oldest go first; the issue's count keeps
counting), and nothing older than the retention period (the reporter's
``retention_period``, else the app's). Both are applied as reports arrive,
so the reporter's share of the store stays bounded without a cron job.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from sentiero_core.store import AnyOf, Below, Store

from .issues import EVENT_COUNTS, EVENTS, OCCURRENCES, now_ms
from .settings import ReporterSettings

#: An issue's occurrences are counted (one query) every this many reports
#: beyond the cap, so a busy issue holds at most cap + TRIM_EVERY of them.
TRIM_EVERY = 50
#: Occurrences deleted per query while trimming.
TRIM_CHUNK = 500
#: Seconds between two age purges by one process (each is one query per collection).
PURGE_EVERY = 600.0

_last_purge: weakref.WeakKeyDictionary[Store, float] = weakref.WeakKeyDictionary()


def retention_seconds(options: ReporterSettings, app_retention: int | None) -> int | None:
    return options.retention_period if options.retention_period is not None else app_retention


async def trim_issue(store: Store, issue: dict[str, Any], cap: int) -> int:
    """Remove the issue's oldest occurrences beyond ``cap``; how many went."""
    count = int(issue.get("count") or 0)
    if cap <= 0 or count <= cap or count % TRIM_EVERY:
        return 0
    where = {"issue": issue["_id"]}
    removed = 0
    excess = await store.count_records(OCCURRENCES, where) - cap
    while excess > 0:
        oldest = await store.find_records(
            OCCURRENCES,
            where,
            order_by="timestamp",
            descending=False,
            limit=min(excess, TRIM_CHUNK),
        )
        if not oldest:
            break
        went = await store.delete_records(OCCURRENCES, {"_id": AnyOf(*(r["_id"] for r in oldest))})
        removed += went
        excess -= len(oldest)
    return removed


async def purge_old(store: Store, seconds: int | None, *, force: bool = False) -> int:
    """Remove occurrences, custom events and hourly counts older than
    ``seconds``, at most once per :data:`PURGE_EVERY` per process unless
    ``force``; how many records went."""
    if seconds is None:
        return 0
    now = time.monotonic()
    if not force and now - _last_purge.get(store, -PURGE_EVERY) < PURGE_EVERY:
        return 0
    _last_purge[store] = now
    cutoff = now_ms() - seconds * 1000
    return (
        await store.delete_records(OCCURRENCES, {"received_at": Below(cutoff)})
        + await store.delete_records(EVENTS, {"received_at": Below(cutoff)})
        + await store.delete_records(EVENT_COUNTS, {"hour": Below(cutoff)})
    )


async def after_report(
    store: Store,
    options: ReporterSettings,
    app_retention: int | None,
    issue: dict[str, Any] | None = None,
) -> None:
    """What a stored report may set off: its issue's trim and the age purge."""
    if issue is not None:
        await trim_issue(store, issue, options.max_occurrences_per_issue)
    await purge_old(store, retention_seconds(options, app_retention))
