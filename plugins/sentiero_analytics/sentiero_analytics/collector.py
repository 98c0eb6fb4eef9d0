"""The collector: each stored batch adds its facts to its session, and the
session's rows are folded again from all of them (see :mod:`.fold`), by
the store's folder a little later (see :mod:`.folding`), or right away
when no folder runs for the store (an app that is not serving)."""

from __future__ import annotations

from sentiero_core.store import Batch, Store

from .facts import batch_facts
from .fold import fold_session
from .folding import SESSION_KEY, Folder, folder_of
from .settings import AnalyticsSettings

__all__ = ["SESSION_KEY", "collect"]


async def collect(
    batch: Batch, store: Store, settings: AnalyticsSettings, folder: Folder | None = None
) -> None:
    """Merge the batch's facts (durable when this returns) and have its
    session folded: by ``folder``, else by the store's running folder,
    else now."""
    folder = folder or folder_of(store)
    if folder is not None:
        # The fold reads the facts when it comes: nothing to carry back now.
        if await store.add_facts(batch.session_id, batch_facts(batch)):
            folder.mark(batch.session_id)
        return
    merged = await store.merge_facts(batch.session_id, batch_facts(batch))
    if merged is None:  # the session was removed meanwhile
        return
    rows = fold_session(batch.session_id, merged.facts, settings)
    # A stale fold (an earlier version finishing last) is refused by the store.
    await store.set_contribution(batch.session_id, SESSION_KEY, rows, version=merged.version)
