"""``retention_period``: sessions older than it are purged, whatever the store.

With the setting on, a background task runs from start-up to shutdown: it
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

from ..audit import SESSIONS_PURGED, audit
from ..hookspecs import hookimpl
from ..settings import Settings
from ..store import Store
from ..utils import now_ms

log = logging.getLogger("sentiero.retention")

MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 3600.0
_TASK_KEY = "sentiero.retention"


def interval_for(retention_s: int) -> float:
    """Seconds between two purges for a retention period of ``retention_s``."""
    return min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, retention_s / 24))


async def purge_expired(store: Store, settings: Settings) -> int:
    """One purge: sessions whose last activity is older than the retention
    period are removed; the number removed (0 when the setting is off)."""
    if settings.retention_period is None:
        return 0
    before = now_ms() - settings.retention_period * 1000
    removed = await store.purge_before(before)
    if removed:
        log.info("retention: %d session(s) last active before %d purged", removed, before)
        await audit(
            settings,
            SESSIONS_PURGED,
            count=removed,
            before=before,
            reason="retention_period",
        )
    return removed


async def _run(store: Store, settings: Settings, interval: float) -> None:
    while True:
        try:
            await purge_expired(store, settings)
        except Exception:
            log.exception("retention: the purge failed; next try in %.0f s", interval)
        await asyncio.sleep(interval)


@hookimpl
def startup(app: Any, settings: Settings, store: Store) -> None:
    if settings.retention_period is None:
        return
    interval = interval_for(settings.retention_period)
    app.extensions[_TASK_KEY] = asyncio.get_running_loop().create_task(
        _run(store, settings, interval), name="sentiero-retention"
    )


@hookimpl
async def shutdown(app: Any) -> None:
    task = app.extensions.pop(_TASK_KEY, None)
    if task is None:
        return
    task.cancel()
    # the store closes right after: wait until a purge in progress unwound
    with contextlib.suppress(asyncio.CancelledError):
        await task
