"""``retention_period``: sessions older than it are purged, whatever the store.

With the setting on, a background task runs from start-up to shutdown
(which lets a purge in progress finish first): it
purges at once (a server started after a long stop catches up before the
first interval), then every ``retention_period / 24`` (at least a second,
at most an hour), so nothing outlives the period by more than about 4%.
A session's age is that of its last activity (``ended_at``): a visit in
progress is never cut short. Each purge that removed something goes to
``audit_log`` as ``sessions_purged``. A failing purge is logged and tried
again at the next interval; it never stops the app.

Several app servers on one store each run the job: a purge is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..hookspecs import hookimpl
from ..lifecycle import PurgePlan, purge
from ..settings import Settings
from ..store import Store
from ..utils import now_ms

log = logging.getLogger("sentiero.retention")

MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 3600.0
_TASK_KEY = "sentiero.retention"
_STOP_KEY = "sentiero.retention.stop"
#: How long shutdown waits for a purge in progress.
SHUTDOWN_GRACE_S = 30.0


def interval_for(retention_s: int) -> float:
    """Seconds between two purges for a retention period of ``retention_s``."""
    return min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, retention_s / 24))


async def purge_expired(store: Store, settings: Settings) -> int:
    """One purge: sessions whose last activity is older than the retention
    period are removed; the number removed (0 when the setting is off)."""
    if settings.retention_period is None:
        return 0
    before = now_ms() - settings.retention_period * 1000
    plan = PurgePlan(before=before, count=0, reason="retention_period")
    removed = await purge(store, settings, plan, by=None, via="retention", audit_nothing=False)
    if removed:
        log.info("retention: %d session(s) last active before %d purged", removed, before)
    return removed


async def _run(store: Store, settings: Settings, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await purge_expired(store, settings)
        except Exception:
            log.exception("retention: the purge failed; next try in %.0f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


@hookimpl
def startup(app: Any, settings: Settings, store: Store) -> None:
    if settings.retention_period is None:
        return
    interval = interval_for(settings.retention_period)
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        _run(store, settings, interval, stop), name="sentiero-retention"
    )
    app.extensions[_TASK_KEY] = task
    app.extensions[_STOP_KEY] = stop


@hookimpl
async def shutdown(app: Any) -> None:
    task = app.extensions.pop(_TASK_KEY, None)
    stop = app.extensions.pop(_STOP_KEY, None)
    if task is None or stop is None:
        return
    # A purge in progress is left to finish (its removals reported to the
    # plugins and audited) before the store closes, for a while; then it
    # is cancelled, and the sessions it had not reached wait for next time.
    stop.set()
    done, _pending = await asyncio.wait({task}, timeout=SHUTDOWN_GRACE_S)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
