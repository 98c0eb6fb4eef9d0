"""How a store tells the core which sessions left it, and why (private
module: import from :mod:`sentiero_core.store`).

Every removal is reported with the ids that really went and one of the
reasons below, once, after it is durable. The core turns reports into the
``sessions_removed`` hook; anything else (a test, a cache) may listen too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..utils import await_me_maybe

log = logging.getLogger("sentiero.store")

#: ``delete_sessions``: the dashboard, the API or a plugin deleted them.
DELETED = "deleted"
#: ``erase``: a right-to-erasure request (a filter).
ERASED = "erased"
#: ``purge_before``: older than the retention period (or a manual purge).
PURGED = "purged"
#: ``max_sessions`` pushed them out while a batch was appended.
EVICTED = "evicted"

REMOVAL_REASONS = (DELETED, ERASED, PURGED, EVICTED)

#: ``listener(session_ids, reason)``; may return an awaitable.
RemovalListener = Callable[[list[str], str], Any]


def removed_ids(store: object, primitive: str, value: object) -> list[str]:
    """The ids a removal primitive returned, checked: a store written for
    the count-returning interface fails loudly instead of reporting nothing."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{type(store).__name__}.{primitive} must return the ids of the sessions it "
            f"removed (a sequence of str), got {value!r}"
        )
    return [str(v) for v in value]


class RemovalReports:
    """The listeners of one store, and the reports still running."""

    def __init__(self) -> None:
        self.listeners: list[RemovalListener] = []
        # Reports run as tasks of their own: a caller cancelled half-way
        # (a client that went away) must not lose a report of data that is
        # already gone. Kept here so they are not garbage collected.
        self.running: set[asyncio.Task[None]] = set()

    async def report(self, session_ids: list[str], reason: str) -> None:
        if not session_ids or not self.listeners:
            return
        task = asyncio.get_running_loop().create_task(self._call(list(session_ids), reason))
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        await asyncio.shield(task)

    async def _call(self, session_ids: list[str], reason: str) -> None:
        for listener in list(self.listeners):
            try:
                await await_me_maybe(listener(list(session_ids), reason))
            except Exception:
                # The removal is done and durable: a listener failing must
                # neither undo it nor keep the other listeners from hearing.
                log.exception("a listener of removed sessions (%s) failed", reason)

    async def settle(self) -> None:
        """Wait for the reports still running."""
        while self.running:
            await asyncio.gather(*self.running, return_exceptions=True)


async def run_whole(work: Awaitable[Any]) -> Any:
    """``work`` to its end even if the caller is cancelled meanwhile: a
    removal that started is finished and reported."""
    task = asyncio.ensure_future(work)
    _KEEP.add(task)
    task.add_done_callback(_KEEP.discard)
    return await asyncio.shield(task)


_KEEP: set[asyncio.Future[Any]] = set()
