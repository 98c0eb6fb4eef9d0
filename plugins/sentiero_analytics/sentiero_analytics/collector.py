"""The collector: each stored batch adds its facts to its session, and the
session's rows are folded again from all of them (see :mod:`.fold`)."""

from __future__ import annotations

from sentiero_core.store import Batch, Store

from .facts import batch_facts
from .fold import fold_session
from .settings import AnalyticsSettings

#: The contribution key the whole session's rows live under.
SESSION_KEY = "analytics"


async def collect(batch: Batch, store: Store, settings: AnalyticsSettings) -> None:
    merged = await store.merge_facts(batch.session_id, batch_facts(batch))
    if merged is None:  # the session was removed meanwhile
        return
    rows = fold_session(batch.session_id, merged.facts, settings)
    # A stale fold (an earlier version finishing last) is refused by the store.
    await store.set_contribution(batch.session_id, SESSION_KEY, rows, version=merged.version)
