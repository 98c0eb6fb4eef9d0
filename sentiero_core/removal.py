"""The ``sessions_removed`` hook, fed by the store's removal reports."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pluggy

from .plugins import call_each

if TYPE_CHECKING:
    from .settings import Settings
    from .store import RemovalListener, Store

log = logging.getLogger("sentiero")


def hook_listener(pm: pluggy.PluginManager, settings: Settings, store: Store) -> RemovalListener:
    """A store removal listener that calls every ``sessions_removed``
    implementation in turn; one that fails is logged, the others still run."""

    async def sessions_removed(session_ids: list[str], reason: str) -> None:
        for result in call_each(
            pm.hook.sessions_removed,
            session_ids=list(session_ids),
            reason=reason,
            store=store,
            settings=settings,
        ):
            try:
                await result.resolve()
            except Exception:
                log.exception(
                    "the sessions_removed hook of plugin %r failed (%d session(s), %s)",
                    result.plugin_name,
                    len(session_ids),
                    reason,
                )

    return sessions_removed
